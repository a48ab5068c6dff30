"""Drawing an officials' sample in the browser: upload, column mapping, preview with row-numbered problems, draw,
slips printed once with codes that work, replacing and ruling out members."""

from __future__ import annotations

import io
import re

import pypdf

from survey_app.officials.services import invitation_for_code
from survey_app.core.sampling_tables import SampleDraw, SampleMember
from survey_app.core.tables import Campaign
from tests.app.helpers import csrf_token
from tests.app.test_sample_cli import make_campaign

HEADER = "Mã đơn vị,Chức vụ,Mã CB,Họ tên\n"


def officials_csv(units=("SO05", "SO06"), heads=6, civil_servants=5, extra: str = "") -> bytes:
    rows = [f"{unit},{role},{unit}-{role}-{n},Cán bộ {n}" for unit in units
            for role, count in (("lanh_dao_phong", heads), ("cong_chuc", civil_servants)) for n in range(count)]
    return (HEADER + "\n".join(rows) + "\n" + extra).encode("utf-8")


async def upload(analyst, code: str, data: bytes, name: str = "danh-sach.csv"):
    page = await analyst.get(f"/analyst/sampling/{code}/draw")
    return await analyst.post(f"/analyst/sampling/{code}/frame", files={"file": (name, data, "text/csv")},
                              data={"_csrf_token": csrf_token(page.text)})


def mapped(token: str, **extra) -> dict:
    return {"token": token, "map_unit": "Mã đơn vị", "map_role": "Chức vụ", "map_staff_id": "Mã CB",
            "map_name": "Họ tên", "quotas": "lanh_dao_phong=2, cong_chuc=1", "seed": "7", **extra}


def token_of(html: str) -> str:
    return re.search(r'name="token" value="([^"]+)"', html).group(1)


async def test_a_bad_row_is_named_by_its_row_and_nothing_is_drawn(analyst):
    code = await make_campaign("WEB-BAD")
    uploaded = await upload(analyst, code, officials_csv(extra="SO99,cong_chuc,X-1,Ai đó\n"))
    preview = await analyst.post(f"/analyst/sampling/{code}/draw",
                                 data={**mapped(token_of(uploaded.text), action="draw"),
                                       "_csrf_token": csrf_token(uploaded.text)})
    assert preview.status_code == 422 and 'id="draw-problems"' in preview.text
    assert re.search(r"Dòng 24, cột “[^”]+”", preview.text), preview.text[-2000:]  # header + 22 people, then it
    campaign = await Campaign.select().where(Campaign.code == code).first()
    assert not await SampleDraw.exists().where(SampleDraw.campaign == campaign["id"])


async def test_an_analyst_draws_prints_slips_once_and_the_codes_work(analyst, settings):
    code = await make_campaign("WEB-OK")
    uploaded = await upload(analyst, code, officials_csv())
    assert uploaded.status_code in (200, 422) and "Mã đơn vị" in uploaded.text
    preview = await analyst.post(f"/analyst/sampling/{code}/draw",
                                 data={**mapped(token_of(uploaded.text), action="preview"),
                                       "_csrf_token": csrf_token(uploaded.text)})
    assert preview.status_code == 200 and 'id="draw-total">6<' in preview.text
    drawn = await analyst.post(f"/analyst/sampling/{code}/draw",
                               data={**mapped(token_of(uploaded.text), action="draw"),
                                     "_csrf_token": csrf_token(preview.text)})
    assert drawn.status_code == 200 and "Đã rút 6 người" in drawn.text
    link = re.search(r'href="(/analyst/sampling/[^"]+/slips/[^"]+)"', drawn.text).group(1)
    pdf = await analyst.get(link)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert (await analyst.get(link)).status_code == 404  # printed once
    text = "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf.content)).pages)
    codes = re.findall(r"\b[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{2,4}\b", text)
    assert len(set(codes)) == 6
    assert (await invitation_for_code(settings.secret_key, codes[0]))["id"]

    tracking = await analyst.get(f"/analyst/sampling/{code}")
    ref = re.search(r'name="ref" value="([0-9a-f]+)"', tracking.text).group(1)
    no_reason = await analyst.post(f"/analyst/sampling/{code}/members", data={
        "ref": ref, "reason": "", "action": "ineligible", "_csrf_token": csrf_token(tracking.text)})
    assert no_reason.status_code == 422 and "lý do" in no_reason.text
    replaced = await analyst.post(f"/analyst/sampling/{code}/members", data={
        "ref": ref, "reason": "chuyển công tác", "action": "replace", "_csrf_token": csrf_token(tracking.text)})
    assert replaced.status_code == 200 and 'id="slips-link"' in replaced.text
    leaving = await SampleMember.select().where(SampleMember.staff_ref_hash.like(ref + "%")).first()
    assert leaving["status"] == "replaced" and leaving["reason"] == "chuyển công tác"
