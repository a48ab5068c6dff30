"""A repeat in the exports: wide (members_1_name, members_2_name… up to the most members seen) in every format,
long (one row per member, joined by response_id) as members_csv and as the xlsx sheet thanh_vien."""

from __future__ import annotations

import io

import openpyxl
import pandas as pd
import pyreadstat
import pytest
import pytest_asyncio

from questionnaires import load_definition
from survey_app.campaigns.catalog import register
from survey_app.core.tables import Campaign, Response
from survey_app.exports.service import ExportError, export_campaign, stream_export
from tests.app.test_exports import add_response, make_campaign
from tests.questionnaires.test_repeats import HOUSEHOLD

MEMBERS = [{"name": "Lan", "age": 40}, {"name": "Bé", "age": 7, "school": "Kim Liên"}, {"name": "Ông", "age": 70}]


@pytest_asyncio.fixture
async def household_campaign(app):
    await register(load_definition(HOUSEHOLD))
    campaign = await make_campaign("EXP-HOUSEHOLD", "household")
    await add_response(campaign, "SO02", {"n_members": 3, "urban": "yes", "members": MEMBERS})
    await add_response(campaign, "SO02", {"n_members": 1, "urban": "no", "members": MEMBERS[:1]})
    await add_response(campaign, "SO02", {"n_members": 0})
    yield campaign
    await Response.delete().where(Response.campaign == campaign["id"])
    await Campaign.delete().where(Campaign.id == campaign["id"])


async def test_wide_columns_go_up_to_the_most_members_in_every_format(household_campaign, tmp_path):
    paths = {fmt: tmp_path / f"household.{fmt}" for fmt in ("csv", "sav", "dta", "xlsx")}
    for fmt, path in paths.items():
        await export_campaign("EXP-HOUSEHOLD", fmt, path)
    csv = pd.read_csv(paths["csv"], encoding="utf-8-sig", keep_default_na=False, na_values=[""])
    wide = [name for name in csv.columns if name.startswith("members_")]
    assert wide == [f"members_{number}_{key}" for number in (1, 2, 3) for key in ("name", "age", "school")]
    assert csv["members_2_school"][0] == "Kim Liên" and csv["members_3_age"][0] == 70
    assert pd.isna(csv["members_3_age"][1]) and pd.isna(csv["members_1_name"][2])
    sav, meta = pyreadstat.read_sav(str(paths["sav"]))
    assert sav["members_1_age"].tolist()[:2] == [40, 40]
    assert meta.column_names_to_labels["members_2_name"] == "Thành viên 2: Tên"
    dta, _ = pyreadstat.read_dta(str(paths["dta"]))
    assert "members_3_name" in dta.columns
    workbook = openpyxl.load_workbook(paths["xlsx"], read_only=True)
    assert workbook.sheetnames[:3] == ["du_lieu", "thanh_vien", "so_ma"]
    long = list(workbook["thanh_vien"].iter_rows(values_only=True))
    assert long[0][:6] == ("response_id", "repeat_key", "member_number", "name", "age", "school")
    assert [row[2:5] for row in long[1:]] == [(1, "Lan", 40), (2, "Bé", 7), (3, "Ông", 70), (1, "Lan", 40)]
    codebook = [row[0] for row in workbook["so_ma"].iter_rows(min_row=2, values_only=True)]
    assert "members_3_school" in codebook


async def test_the_long_table_streams_as_csv_and_needs_a_repeat(household_campaign):
    pieces = [piece async for piece in await stream_export("EXP-HOUSEHOLD", "members_csv")]
    table = pd.read_csv(io.BytesIO(b"".join(pieces)), encoding="utf-8-sig")
    assert table["member_number"].tolist() == [1, 2, 3, 1]
    assert table["school"].tolist()[1] == "Kim Liên" and table["response_id"].nunique() == 2
    with pytest.raises(ExportError, match="không có nhóm lặp"):
        await stream_export("SIPAS-2026", "members_csv")


async def test_the_campaign_page_offers_the_members_table_only_with_a_repeat(household_campaign, analyst):
    page = await analyst.get("/analyst/campaigns/EXP-HOUSEHOLD")
    assert 'href="/analyst/campaigns/EXP-HOUSEHOLD/export/members_csv"' in page.text
    download = await analyst.get("/analyst/campaigns/EXP-HOUSEHOLD/export/members_csv")
    assert download.status_code == 200 and download.text.count("\r\n") == 5
    assert "members_csv" not in (await analyst.get("/analyst/campaigns/SIPAS-2026")).text


async def test_the_response_page_lists_each_members_answers(household_campaign, analyst):
    first = await Response.select(Response.id).where(Response.campaign == household_campaign["id"]).order_by(
        Response.id).first()
    page = await analyst.get(f"/analyst/campaigns/EXP-HOUSEHOLD/responses/{first['id']}")
    assert page.status_code == 200
    assert "<td>Thành viên 2: Trường</td><td>Kim Liên</td>" in page.text
    assert "<td>Thành viên 3: Tuổi</td><td>70</td>" in page.text
