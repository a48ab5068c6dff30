"""Weighting a campaign in the product (issue #24): plan → run → version in use, checked against the same steps done
with analysis/ directly; bad population files refused by row with nothing stored (SQLite, or PostgreSQL with
TEST_DATABASE_URL)."""

from __future__ import annotations

import json
import uuid

import numpy as np
import pandas as pd
import pytest

from analysis import weighting as steps
from analysis.design import SurveyDesign
from analysis.sipas import compute_indices
from survey_app.core import jobs
from survey_app.core.sampling_tables import SampleDraw, SampleMember
from survey_app.core.tables import Campaign, Response, Unit
from survey_app.core.weight_tables import WeightPlan, WeightVersion
from survey_app.results import weighting
from survey_app.results.dashboard import campaign_figures
from survey_app.results.frames import campaign_frame
from survey_app.results.weighting import Plan, WeightingRefused
from tests.app.test_analysis_cli import reset_weights, run_survey
from tests.app.test_sample_cli import make_campaign

CAMPAIGN = "SIPAS-2026"


def population_for(frame: pd.DataFrame, margins=("unit", "domain"), scale: float = 40.0) -> tuple[str, dict]:
    """Counts per unit (more dossiers where fewer responded) and per domain, both summing to one total."""
    per_unit = frame["unit"].value_counts().sort_index()
    unit_counts = {unit: float(round(scale * (1 + index % 3) * n)) for index, (unit, n) in enumerate(per_unit.items())}
    total = sum(unit_counts.values())
    per_domain = frame["domain"].value_counts().sort_index()
    domain_counts = {domain: float(np.floor(total * n / len(frame))) for domain, n in per_domain.items()}
    largest = max(domain_counts, key=domain_counts.get)
    domain_counts[largest] += total - sum(domain_counts.values())
    counts = {"unit": unit_counts, "domain": domain_counts}
    lines = ["margin,level,count"] + [f"{margin},{level},{count:.0f}" for margin in margins for level, count in counts[margin].items()]
    return "\n".join(lines) + "\n", {margin: counts[margin] for margin in margins}


async def plan_rows(code: str) -> list[dict]:
    campaign = await Campaign.select(Campaign.id).where(Campaign.code == code).first()
    return await WeightPlan.select().where(WeightPlan.campaign == campaign["id"])


async def test_demo_campaign_weighted_end_to_end_matches_analysis_directly(app):
    """Design (1 for an open QR campaign) → non-response (not applicable there) → raking on unit and domain →
    trimming; the stored weights and the dashboard's overall index with its SE equal the same steps done with
    analysis/ on the same responses."""
    await reset_weights(CAMPAIGN)
    campaign = await weighting.campaign_by_code(CAMPAIGN)
    frame = await weighting.weighting_frame(campaign["id"])
    text, margins = population_for(frame)
    plan = Plan("stratum", "rake", ("unit", "domain"), 20.0, 100.0)
    await weighting.save_plan(CAMPAIGN, plan, "analyst", "dan-so.csv", text.encode())
    version = await weighting.run_plan(CAMPAIGN, "analyst")

    design = SurveyDesign.from_frame(frame, weights=np.ones(len(frame)))
    raked = steps.rake(design, margins)
    trimmed = steps.trim(raked.design, lower=20.0, upper=100.0)
    stored = dict((response, weight) for response, weight in version["weights"])
    assert [stored[response] for response in frame["response_id"]] == pytest.approx(trimmed.design.weights, rel=1e-10)
    assert [step["step"] for step in version["diagnostics"]] == ["design", "nonresponse", "calibration", "trim"]
    assert version["diagnostics"][2]["details"]["iterations"] == raked.report["iterations"]
    assert version["in_use"] and version["state"] == "done"
    assert set(version["input_hashes"]) == {"population", "responses", "sample_statuses", "plan"}

    _, scoring, answers = await campaign_frame(CAMPAIGN)
    expected = compute_indices(answers, scoring, design=SurveyDesign.from_frame(
        answers, weights=np.array([stored[response] for response in answers["response_id"]])))
    figures = await campaign_figures(campaign, False, 5)
    print(f"\noverall index {figures['province']['overall']:.4g} (SE {figures['province']['se']:.4g}); "
          f"analysis/ directly {expected.overall:.4g} (SE {expected.se:.4g})")
    assert figures["province"]["overall"] == pytest.approx(expected.overall, rel=1e-9)
    assert figures["province"]["se"] == pytest.approx(expected.se, rel=1e-9)
    in_use = await weighting.version_in_use(campaign["id"])
    assert in_use["number"] == version["number"]
    assert any("cào" in sentence and "đơn vị, lĩnh vực" in sentence for sentence in in_use["method"])
    await forget_versions(CAMPAIGN)


async def officials_campaign() -> str:
    """Three units at two levels; per unit two strata (roles) with design weights and statuses; answers per unit."""
    code = await make_campaign(f"W-{uuid.uuid4().hex[:6]}")
    campaign = await Campaign.select().where(Campaign.code == code).first()
    draw = SampleDraw(campaign=campaign["id"], seed=1, design=json.dumps({}))
    await draw.save()
    units = {row["code"]: row["id"] for row in await Unit.select(Unit.code, Unit.id).where(Unit.code.is_in(["SO01", "SO02", "H01"]))}
    members, answers = [], []
    for unit_code, unit_id in units.items():
        for role, weight, statuses in (("lanh_dao", 3.0, ["completed", "completed", "refused"]),
                                       ("cong_chuc", 8.0, ["completed", "not_reached", "completed", "ineligible"])):
            members += [SampleMember(draw=draw.id, unit=unit_id, stratum=f"{unit_code}|{role}", role=role,
                                     staff_ref_hash=uuid.uuid4().hex, inclusion_probability=1 / weight,
                                     design_weight=weight, status=status) for status in statuses]
            answers += [Response(campaign=campaign["id"], unit=unit_id, questionnaire=campaign["questionnaire"],
                                 idempotency_key=uuid.uuid4().hex, answers_digest="d", channel="invitation",
                                 answers=json.dumps({})) for status in statuses if status == "completed"]
    await SampleMember.insert(*members)
    await Response.insert(*answers)
    return code


async def test_officials_campaign_design_nonresponse_rake_trim(app):
    """Per unit: lãnh đạo 3 × (3/2) for 2 completed (one refused), công chức 8 × (3/2) for 2 completed (one not
    reached, one ineligible out) → each unit's 4 answers share 2·4.5 + 2·12 = 33, i.e. 8.25 each; raking to unit
    and level counts then trimming to [5, 40] equals analysis/ on the same weights."""
    code = await officials_campaign()
    campaign = await weighting.campaign_by_code(code)
    frame = await weighting.weighting_frame(campaign["id"])
    text = "margin,level,count\nunit,SO01,60\nunit,SO02,20\nunit,H01,40\nlevel,so,80\nlevel,huyen,40\n"
    await weighting.save_plan(code, Plan("stratum", "rake", ("unit", "level"), 5.0, 40.0), "analyst", "p.csv", text.encode())
    version = await weighting.run_plan(code, "analyst")
    design_step, nonresponse_step = version["diagnostics"][:2]
    assert design_step["after"]["total"] == pytest.approx(3 * (2 * 3.0 + 2 * 8.0))
    assert nonresponse_step["after"]["total"] == pytest.approx(3 * 33.0)
    assert nonresponse_step["after"]["minimum"] == pytest.approx(8.25)
    design = SurveyDesign.from_frame(frame, weights=np.full(len(frame), 8.25))
    raked = steps.rake(design, {"unit": {"SO01": 60, "SO02": 20, "H01": 40}, "level": {"so": 80, "huyen": 40}})
    expected = steps.trim(raked.design, lower=5.0, upper=40.0).design.weights
    assert [weight for _, weight in version["weights"]] == pytest.approx(expected, rel=1e-10)
    stored = await Response.select(Response.weight).where(Response.campaign == campaign["id"]).order_by(Response.id)
    assert [row["weight"] for row in stored] == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize("rows, expected", [
    ("unit,SO99,10", "dòng 2: đơn vị 'SO99' không có trong cây đơn vị"),
    ("unit,SO01,0", "dòng 2: số lượng 0 phải lớn hơn 0"),
    ("unit,SO01,-5", "dòng 2: số lượng -5 phải lớn hơn 0"),
    ("unit,SO01,nhiều", "dòng 2: số lượng 'nhiều' không phải là số"),
    ("unit,SO01,10\nunit,SO01,12", "dòng 3: ô unit = 'SO01' lặp lại (đã có ở dòng 2)"),
    ("channel,qr,10", "dòng 2: biên 'channel' không có trong kế hoạch"),
    ("unit,SO01,10\ndomain,dat_dai,11", "tổng các biên khác nhau"),
])
async def test_bad_population_rows_are_named_and_nothing_is_stored(app, rows, expected):
    code = await officials_campaign()
    before = await plan_rows(code)
    with pytest.raises(WeightingRefused) as refused:
        await weighting.save_plan(code, Plan(None, "rake", ("unit", "domain")), "analyst", "p.csv",
                                  f"margin,level,count\n{rows}\n".encode())
    assert any(expected in message for message in refused.value.messages), refused.value.messages
    assert await plan_rows(code) == before == []


def test_counts_are_read_as_people_write_them():
    from survey_app.results.weighting import _number

    assert [_number(text) for text in ("1200", "1.200", "1,200", "12,5", "1.234.567", "x")] == [
        1200, 1200, 1200, 12.5, 1234567, None]


async def test_missing_and_empty_cells_are_named(app):
    code = await officials_campaign()
    text = "margin,level,count\nunit,SO01,60\nunit,H01,40\nunit,H02,5\n"
    with pytest.raises(WeightingRefused) as refused:
        await weighting.save_plan(code, Plan(None, "post_stratify", ("unit",)), "analyst", "p.csv", text.encode())
    assert "biên unit: thiếu số lượng tổng thể cho ô 'SO02' (4 phiếu)" in refused.value.messages
    assert "dòng 4: ô unit = 'H02' không có phiếu nào; gộp với ô bên cạnh hoặc bỏ dòng" in refused.value.messages
    assert await plan_rows(code) == []


async def test_a_raking_that_cannot_converge_says_after_how_many_iterations_and_which_margin(app):
    code = await officials_campaign()
    text = "margin,level,count\nunit,SO01,60\nunit,SO02,20\nunit,H01,40\nlevel,so,30\nlevel,huyen,90\n"
    await weighting.save_plan(code, Plan(None, "rake", ("unit", "level"), max_iterations=3), "analyst", "p.csv", text.encode())
    with pytest.raises(WeightingRefused) as refused:
        await weighting.run_plan(code, "analyst")
    [message] = refused.value.messages
    assert "phép cào không hội tụ" in message and "in 3 iterations: margin" in message
    campaign = await weighting.campaign_by_code(code)
    [failed] = await weighting.versions(campaign["id"])
    assert failed["state"] == "failed" and "in 3 iterations" in failed["error"] and not failed["in_use"]
    stored = await Response.select(Response.weight).where(Response.campaign == campaign["id"])
    assert {row["weight"] for row in stored} == {1.0}


async def test_a_run_whose_server_died_is_shown_stopped_not_running_forever(app):
    code = await officials_campaign()
    campaign = await weighting.campaign_by_code(code)
    await WeightVersion.insert(WeightVersion(campaign=campaign["id"], number=1, created_by="x", created_at=1.0))
    [stopped] = await weighting.versions(campaign["id"])
    assert stopped["state"] == "failed" and stopped["error"] == weighting.STOPPED


async def test_versions_are_kept_and_an_earlier_one_can_be_used_and_compared(app):
    code = await officials_campaign()
    campaign = await weighting.campaign_by_code(code)
    await weighting.save_plan(code, Plan("stratum"), "first", "", None)
    first = await weighting.run_plan(code, "first")
    text = "margin,level,count\nunit,SO01,60\nunit,SO02,20\nunit,H01,40\n"
    await weighting.save_plan(code, Plan("stratum", "post_stratify", ("unit",)), "second", "p.csv", text.encode())
    second = await weighting.run_plan(code, "second")
    listed = await weighting.versions(campaign["id"])
    assert [(row["number"], row["created_by"], row["in_use"]) for row in listed] == [
        (second["number"], "second", True), (first["number"], "first", False)]
    assert listed[0]["input_hashes"]["population"] != listed[1]["input_hashes"]["population"]
    await weighting.use_version(code, first["number"], "chooser")
    from survey_app.core.tables import AuditLog

    [used] = await AuditLog.select().where((AuditLog.action == "weight_version_used") & (AuditLog.username == "chooser"))
    assert used["target"] == code and used["detail"] == "12 response weights"
    stored = await Response.select(Response.weight).where(Response.campaign == campaign["id"])
    assert {row["weight"] for row in stored} == {8.25}
    assert (await weighting.version_in_use(campaign["id"]))["number"] == first["number"]
    compared = await weighting.compare(code, first["number"], second["number"])
    assert [side["final"]["total"] for side in compared["versions"]] == [pytest.approx(99), pytest.approx(120)]


async def test_weight_plan_and_run_commands(settings, app):
    code = await officials_campaign()
    result = run_survey(settings, "weight", "plan", "--campaign", code, "--nonresponse-cells", "stratum", "--trim", ":20")
    assert result.returncode == 0, result.stderr
    result = run_survey(settings, "weight", "run", "--campaign", code, "--user", "cli-test")
    assert result.returncode == 0, result.stderr
    assert "nonresponse" in result.stdout and "trim" in result.stdout
    listed = run_survey(settings, "weight", "versions", "--campaign", code)
    [line] = [line for line in listed.stdout.splitlines() if "cli-test" in line]
    assert listed.returncode == 0 and line.startswith("*   1 done")
    refused = run_survey(settings, "weight", "plan", "--campaign", code, "--calibration", "rake", "--margin", "unit")
    assert refused.returncode == 1 and "cần tệp số lượng tổng thể" in refused.stderr


async def test_analyst_page_saves_a_plan_runs_it_and_the_dashboard_names_the_version(analyst):
    import asyncio

    from tests.app.helpers import csrf_token

    await reset_weights(CAMPAIGN)
    page_path = f"/analyst/campaigns/{CAMPAIGN}/weighting"
    campaign = await weighting.campaign_by_code(CAMPAIGN)
    text, _ = population_for(await weighting.weighting_frame(campaign["id"]))
    page = await analyst.get(page_path)
    assert page.status_code == 200 and "Kế hoạch" in page.text
    bad = await analyst.post(f"{page_path}/plan", data={"calibration": "rake", "margins": ["unit", "domain"],
                                                        "_csrf_token": csrf_token(page.text)},
                             files={"file": ("dan-so.csv", b"margin,level,count\nunit,SO99,5\n", "text/csv")})
    assert bad.status_code == 422 and "dòng 2: đơn vị &#39;SO99&#39; không có trong cây đơn vị" in bad.text
    saved = await analyst.post(f"{page_path}/plan", data={"calibration": "rake", "margins": ["unit", "domain"],
                                                          "upper": "200", "_csrf_token": csrf_token(page.text)},
                               files={"file": ("dan-so.csv", text.encode(), "text/csv")})
    assert saved.status_code == 303
    ran = await analyst.post(f"{page_path}/run", data={"_csrf_token": csrf_token(page.text)})
    assert ran.status_code == 303
    await runs_finished(campaign["id"])
    shown = await analyst.get(page_path)
    assert 'id="in-use"' in shown.text and "Hiệu chỉnh theo số liệu tổng thể bằng cào" in shown.text
    dashboard = await analyst.get(f"/analyst/campaigns/{CAMPAIGN}/dashboard")
    in_use = await weighting.version_in_use(campaign["id"])
    assert f"Trọng số: phiên bản {in_use['number']} (chạy bởi analyst" in dashboard.text
    await forget_versions(CAMPAIGN)


async def runs_finished(campaign_id: int) -> None:
    """Run the deferred jobs; on PostgreSQL/Redis the app's own worker may have taken the run: wait for its row."""
    import asyncio

    await jobs.current().run_until_idle()
    for _ in range(300):
        if not await WeightVersion.exists().where((WeightVersion.campaign == campaign_id) &
                                                  (WeightVersion.state == "running")):
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the weighting run did not finish in 30 s")


async def forget_versions(code: str) -> None:
    """Back to the demo as the other tests know it: weights 1 and no version in use."""
    campaign = await Campaign.select(Campaign.id).where(Campaign.code == code).first()
    await WeightVersion.delete().where(WeightVersion.campaign == campaign["id"])
    await reset_weights(code)


async def test_the_demo_ships_a_weighted_sipas_campaign_shown_on_dashboard_and_report(analyst):
    from survey_app.campaigns.demo import weight_demo_campaign
    from survey_app.exports.report import build_report

    version = await weight_demo_campaign()
    try:
        steps_run = [step["step"] for step in version["diagnostics"]]
        assert steps_run == ["design", "calibration", "trim"] and version["in_use"]
        assert version["diagnostics"][-1]["after"]["maximum"] <= version["plan"]["upper"] + 1e-9
        dashboard = await analyst.get(f"/analyst/campaigns/{CAMPAIGN}/dashboard")
        assert "Mọi phiếu có trọng số 1" not in dashboard.text  # the design note says weights are used
        assert f"Trọng số: phiên bản {version['number']}" in dashboard.text
        assert "cào (raking, lặp tỷ lệ) trên các biên: đơn vị, lĩnh vực" in dashboard.text
        api = await analyst.get(f"/api/v1/units/DEMO/index?campaign={CAMPAIGN}")
        assert api.json()["weight_version"] == version["number"]
        report = await build_report(CAMPAIGN)
        assert f"Gia quyền: phiên bản trọng số {version['number']}" in report.html
        assert "hệ số thiết kế do gia quyền (Kish)" in report.html and "Cắt tỉa trọng số" in report.html
    finally:
        await forget_versions(CAMPAIGN)


async def test_an_xlsx_population_file_is_read_and_its_bad_rows_named(app, tmp_path):
    from openpyxl import Workbook

    code = await officials_campaign()
    book = Workbook()
    sheet = book.active
    for row in (("margin", "level", "count"), ("unit", "SO01", 60), ("unit", "SO02", "-1"), ("unit", "H01", 40)):
        sheet.append(row)
    book.save(tmp_path / "dan-so.xlsx")
    with pytest.raises(WeightingRefused) as refused:
        await weighting.save_plan(code, Plan(None, "post_stratify", ("unit",)), "analyst", "dan-so.xlsx",
                                  (tmp_path / "dan-so.xlsx").read_bytes())
    assert refused.value.messages == ["dòng 3: số lượng -1 phải lớn hơn 0"]
    sheet["C3"] = 20
    book.save(tmp_path / "dan-so.xlsx")
    saved = await weighting.save_plan(code, Plan(None, "post_stratify", ("unit",)), "analyst", "dan-so.xlsx",
                                      (tmp_path / "dan-so.xlsx").read_bytes())
    assert saved["population_name"] == "dan-so.xlsx"
    version = await weighting.run_plan(code, "analyst")
    assert version["diagnostics"][-1]["after"]["total"] == pytest.approx(120)
