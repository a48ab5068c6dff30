"""The staff workspace a province works in: who reaches what, Vietnamese-only pages unless English is switched on,
times in Vietnam's time, wording without internal codes."""

from __future__ import annotations

import datetime as dt
import re

import pytest_asyncio

from survey_app.core.templating import vietnamese_time
from survey_app.core.wording import design_note_vi, domain_label
from tests.app.analyst_helpers import signed_in_client


@pytest_asyncio.fixture(scope="module")
async def manager(app):
    client = await signed_in_client(app, "h01")
    yield client
    await client.aclose()


async def test_the_analyst_who_opens_a_campaign_prints_its_posters(analyst):
    page = await analyst.get("/staff/units/SO01/counters")
    assert page.status_code == 200
    poster = await analyst.get("/staff/units/SO01/counters/SO01-Q1/poster?campaign=QUAY-2026&format=svg")
    assert poster.status_code == 200 and poster.headers["content-type"].startswith("image/svg+xml")


async def test_the_managers_home_links_to_counters_posters_and_comments(manager):
    home = (await manager.get("/staff")).text
    assert 'href="/manager/counters"' in home and 'href="/manager/comments"' in home
    counters = await manager.get("/manager/counters", follow_redirects=True)
    assert counters.status_code == 200 and "H01-Q1" in counters.text


async def test_communes_in_the_managers_view_open_their_own_page(manager):
    page = (await manager.get("/manager/units/H01")).text
    communes = re.findall(r'<a href="/manager/units/(H01X\d+)\?campaign=', page)
    assert communes, "no commune link"
    assert (await manager.get(f"/manager/units/{communes[0]}")).status_code == 200


async def test_staff_pages_are_vietnamese_until_english_is_switched_on(analyst):
    page = (await analyst.get("/analyst/campaigns/QUAY-2026")).text
    assert 'class="en"' not in page and "Responses per unit and counter" not in page
    switched = await analyst.get("/language/en?next=/analyst/campaigns/QUAY-2026")
    assert switched.status_code in (302, 303) and switched.headers["location"] == "/analyst/campaigns/QUAY-2026"
    english = (await analyst.get("/analyst/campaigns/QUAY-2026")).text
    assert "Responses per unit and counter" in english and '<html lang="en">' in english
    await analyst.get("/language/vi?next=/staff")
    assert "Responses per unit and counter" not in (await analyst.get("/analyst/campaigns/QUAY-2026")).text
    assert (await analyst.get("/language/en?next=//evil.example")).headers["location"] == "/staff"


async def test_the_dashboard_names_its_design_in_vietnamese(analyst):
    page = (await analyst.get("/analyst/campaigns/QUAY-2026/dashboard")).text
    assert "all weights are 1" not in page and "Mọi phiếu có trọng số 1" in page
    assert "Excluding" not in page and "Lĩnh vực Lĩnh vực" not in page


def test_times_are_shown_in_vietnams_time():
    utc_evening = dt.datetime(2026, 12, 4, 20, 30, tzinfo=dt.timezone.utc)
    assert vietnamese_time(utc_evening) == "05/12/2026 03:30"
    assert vietnamese_time(utc_evening.replace(tzinfo=None)) == "05/12/2026 03:30"  # SQLite hands UTC back bare


def test_wording_never_doubles_the_domain_word_nor_shows_an_english_design_note():
    assert domain_label("Lĩnh vực khác") == "Lĩnh vực khác" and domain_label("Đất đai") == "Lĩnh vực Đất đai"
    assert design_note_vi("all weights are 1: simple random sampling") .startswith("Mọi phiếu")
    assert design_note_vi("something new in English") == ""


async def test_results_show_a_published_campaign_and_offer_the_others(client):
    from tests.app.test_comments import officials_with_comments

    collecting = await officials_with_comments({"RES": 3}, status="open")  # the newest answers in the province
    page = (await client.get("/results/DEMO")).text
    assert 'id="overall-index"' in page and "được công bố sau khi đợt khảo sát kết thúc" not in page
    assert f'<option value="{collecting}"' in page and f'<option value="QUAY-2026"' in page
    chosen = (await client.get("/results/DEMO", params={"campaign": "SIPAS-2026"})).text
    assert '<option value="SIPAS-2026" selected>' in chosen


async def test_the_counters_list_is_searchable_without_accents_and_paged(app):
    admin = await signed_in_client(app, "admin")
    try:
        first = (await admin.get("/admin/counters")).text
        assert first.count("/deactivate") <= 25 and 'id="counter-pages"' in first and 'rel="next"' in first
        second = (await admin.get("/admin/counters?page=2")).text
        assert "← Trang trước" in second
        found = (await admin.get("/admin/counters?q=so+tu+phap")).text  # "Sở Tư pháp" typed without accents
        assert "SO02-Q1" in found and "SO01-Q1" not in found
    finally:
        await admin.aclose()


def chart_text(page: str, alt_start: str) -> str:
    import base64

    uri = re.search(rf'<img class="chart" src="data:image/svg\+xml;base64,([^"]+)" alt="{alt_start}', page).group(1)
    return base64.b64decode(uri).decode()


async def test_dashboard_charts_name_units_and_write_shares_on_the_bars(analyst):
    page = (await analyst.get("/analyst/campaigns/QUAY-2026/dashboard")).text
    ranking = chart_text(page, "Biểu đồ chỉ số")
    assert "Sở Tư pháp" in ranking and ">SO02<" not in ranking
    from survey_app.results.charts import rating_shares
    from survey_app.results.dashboard import campaign_by_code, campaign_figures

    figures = await campaign_figures(await campaign_by_code("QUAY-2026"))
    expected = [f"{share:.0f}" for share in rating_shares(figures["frame"], figures["scoring"]).to_numpy().ravel()
                if share >= 6]
    written = re.findall(r">(\d{1,3})</text>", chart_text(page, "Phân bố"))
    for label in set(expected):  # every segment's share is written on it (the axis adds 0, 20 … 100)
        assert written.count(label) >= expected.count(label), label


async def test_dashboard_filters_by_level_domain_and_period(analyst):
    from survey_app.results.dashboard import campaign_by_code, campaign_figures

    figures = await campaign_figures(await campaign_by_code("QUAY-2026"))
    frame = figures["frame"]
    level = (await analyst.get("/analyst/campaigns/QUAY-2026/dashboard?level=xa")).text
    assert 'data-unit="H03X1"' in level and 'data-unit="SO01"' not in level
    domain = frame["domain"].value_counts().index[0]
    filtered = (await analyst.get(f"/analyst/campaigns/QUAY-2026/dashboard?domain={domain}")).text
    assert 'id="filter-note"' in filtered
    count = re.search(r'id="province-ci">[^<]*</span> · (\d+) phiếu', filtered).group(1)
    assert int(count) == int((frame["domain"] == domain).sum())
    nothing = (await analyst.get("/analyst/campaigns/QUAY-2026/dashboard?starts_on=2001-01-01&ends_on=2001-01-02")).text
    assert "Bộ lọc chỉ giữ lại dưới 2 phiếu" in nothing
