"""`survey report`: the PDF's text is Vietnamese (NFC), its figures equal the index API's, small groups are hidden."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import unicodedata
from pathlib import Path

import pypdf
import pytest
import pytest_asyncio

from survey_app.exports import report as report_module
from survey_app.exports.report import NOT_ENOUGH, ReportError, Target, build_report, read_targets
from survey_app.tables import Campaign, Response

SURVEY = Path(sys.executable).parent / "survey"


def pdf_text(data: bytes) -> str:
    return unicodedata.normalize("NFC", "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages))


async def reset_weights(campaign_code: str) -> None:
    campaign = await Campaign.select(Campaign.id).where(Campaign.code == campaign_code).first()
    await Response.update({Response.weight: 1.0}).where(Response.campaign == campaign["id"])


@pytest_asyncio.fixture(scope="module")
async def sipas_report(app):
    """One report of the demo SIPAS campaign with every weight 1, as the index API assumes."""
    await reset_weights("SIPAS-2026")
    return await build_report("SIPAS-2026")


async def test_pdf_text_has_the_vietnamese_title_and_unit_names(sipas_report):
    report = sipas_report
    text = pdf_text(report.pdf)
    assert "Báo cáo kết quả khảo sát mức độ hài lòng" in text
    for name in ("Sở Lao động - Thương binh và Xã hội", "Huyện Krông Nô", "Xã Tịnh Ấn", "Tỉnh Minh Họa"):
        assert name in text, name
    assert report.facts["made_on"].count("/") == 2 and report.facts["made_on"] in text
    assert "<h1>Báo cáo kết quả khảo sát" in report.html and "Huyện Krông Nô" in report.html


async def test_report_figures_equal_the_index_api(sipas_report, client):
    report = sipas_report
    text = pdf_text(report.pdf)
    for row in report.units + [report.province]:
        code = "DEMO" if row is report.province else row.code
        api = (await client.get(f"/api/v1/units/{code}/index", params={"campaign": "SIPAS-2026"})).json()
        assert row.responses == api["index"]["response_count"], code
        assert row.overall == pytest.approx(api["index"]["overall"]), code
        assert f"{row.overall:.1f}".replace(".", ",") in text


async def test_groups_below_the_threshold_say_not_enough_and_are_not_ranked(sipas_report, monkeypatch):
    smallest = min(row.responses for row in sipas_report.units)
    monkeypatch.setattr(report_module, "MINIMUM_GROUP", smallest + 1)
    report = await build_report("SIPAS-2026")
    hidden = [row for row in report.units if row.responses == smallest]
    assert hidden and all(row.overall is None and row.rank is None for row in hidden)
    assert NOT_ENOUGH in pdf_text(report.pdf) and NOT_ENOUGH in report.html
    ranks = sorted(row.rank for row in report.units if row.rank)
    assert ranks[0] == 1 and len(ranks) == len(report.units) - len(hidden)


async def test_targets_are_judged_and_a_bad_targets_file_is_refused(app, tmp_path):
    report = await build_report("SIPAS-2026", [Target("province", 10.0), Target("domain", 99.9, ">", "dat_dai")])
    assert [target["met"] for target in report.targets] == [True, False]
    good = tmp_path / "targets.yaml"
    good.write_text("- {scope: province, value: 90}\n- {scope: domain, key: dau_tu, value: 84, operator: '>'}\n")
    assert read_targets(good) == [Target("province", 90.0), Target("domain", 84.0, ">", "dau_tu")]
    bad = tmp_path / "bad.yaml"
    bad.write_text("- {scope: domain, value: 84}\n")
    with pytest.raises(ReportError, match="target 1"):
        read_targets(bad)
    with pytest.raises(ReportError, match="no campaign"):
        await build_report("NO-SUCH")


async def test_report_command_writes_html_and_pdf(app, settings, tmp_path):
    environment = {**os.environ, "DATABASE_URL": settings.database_url, "SECRET_KEY": settings.secret_key}
    result = subprocess.run([str(SURVEY), "report", "QUAY-2026", "--out", str(tmp_path / "r")], capture_output=True,
                            text=True, env=environment, timeout=180)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "r" / "report.pdf").read_bytes().startswith(b"%PDF")
    assert "Đánh giá tại quầy năm 2026" in (tmp_path / "r" / "report.html").read_text(encoding="utf-8")
