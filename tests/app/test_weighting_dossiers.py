"""Weighting to the dossiers the province's one-stop system reported (issue #24 with #21), and the weighting run as a
job on the deployment's engine: dossiers fed through the API are the population, counted per cell of each margin over
the campaign's dates or the plan's period; its hash goes with the version like a file's; missing and empty cells are
named as for a file (SQLite, or PostgreSQL with TEST_DATABASE_URL)."""

from __future__ import annotations

import datetime as dt
import os
import uuid

import pytest
import pytest_asyncio

from survey_app.accounts import api_tokens
from survey_app.core import jobs
from survey_app.core.dossier_tables import Procedure
from survey_app.core.tables import Domain, Response
from survey_app.core.weight_tables import WeightVersion
from survey_app.results import weighting
from survey_app.results.weighting import Plan, WeightingRefused
from tests.app.helpers import app_client
from tests.app.test_analysis_cli import run_survey
from tests.conftest import TEST_DATABASE_URL
from tests.app.test_weighting import CAMPAIGN, forget_versions, officials_campaign, runs_finished

REDIS_URL = os.environ.get("TEST_JOBS_REDIS_URL", "redis://127.0.0.1:6379/10")
PERIOD = (dt.date(2026, 3, 1), dt.date(2026, 3, 31))  # no other test feeds dossiers returned then


@pytest_asyncio.fixture
async def feed(app, settings):
    """Post dossiers as the one-stop system does: {(unit, domain, channel): how many} returned on `day`."""
    token = await api_tokens.issue(settings.secret_key, "analyst", "Cổng một cửa", ["dossiers"], 30, actor="test")
    procedures = await procedure_per_domain()

    async def post(cells: dict, day: dt.date = PERIOD[0] + dt.timedelta(days=9)) -> None:
        batch = [{"code": f"000.00.12.H12-{uuid.uuid4().hex[:12].upper()}", "procedure": procedures[domain],
                  "domain": domain, "unit": unit, "channel": channel, "received_on": (day - dt.timedelta(days=5)).isoformat(),
                  "returned_on": day.strftime("%d/%m/%Y")}
                 for (unit, domain, channel), count in cells.items() for _ in range(count)]
        async with app_client(app) as client:
            sent = await client.post("/api/v1/dossiers", json={"dossiers": batch},
                                     headers={"Authorization": f"Bearer {token}"})
        assert sent.status_code == 201, sent.text

    return post


async def procedure_per_domain() -> dict[str, str]:
    """A procedure code for every domain (the demo catalogue names only a few)."""
    known = {row["domain"]: row["code"] for row in await Procedure.select(Procedure.domain, Procedure.code)}
    codes = {}
    for domain in await Domain.select(Domain.id, Domain.code):
        if domain["id"] not in known:
            known[domain["id"]] = f"T.{domain['code']}"
            await Procedure.insert(Procedure(code=known[domain["id"]], name=f"Thủ tục {domain['code']}", domain=domain["id"]))
        codes[domain["code"]] = known[domain["id"]]
    return codes


def totals(frame, weights: dict, column: str) -> dict:
    frame = frame.assign(weight=frame["response_id"].map(weights))
    return {level: pytest.approx(total) for level, total in frame.groupby(column)["weight"].sum().items()}


async def test_raking_to_the_fed_dossiers_makes_the_weights_sum_to_their_counts_per_margin(app, feed):
    campaign = await weighting.campaign_by_code(CAMPAIGN)
    frame = await weighting.weighting_frame(campaign["id"])
    frame = frame[frame["domain"] != "(none)"]
    cells = sorted(set(zip(frame["unit"], frame["domain"])))
    assert len(frame) == len(await weighting.weighting_frame(campaign["id"])) and len(cells) > 3
    counts = {(unit, domain, "truc_tiep"): 2 + index % 3 for index, (unit, domain) in enumerate(cells)}
    await feed(counts)
    await feed({cells[0] + ("truc_tiep",): 7}, PERIOD[1] + dt.timedelta(days=1))  # outside the period: not counted
    plan = Plan(None, "rake", ("unit", "domain"), population_source="dossiers", dossiers_from=PERIOD[0].isoformat(),
                dossiers_to=PERIOD[1].isoformat())
    saved = await weighting.save_plan(CAMPAIGN, plan, "analyst")
    assert saved["population_name"] == "hồ sơ đã trả kết quả 01/03/2026–31/03/2026"

    version = await weighting.run_plan(CAMPAIGN, "analyst")
    weights = dict(version["weights"])
    by_unit, by_domain = {}, {}
    for (unit, domain, _), count in counts.items():
        by_unit[unit] = by_unit.get(unit, 0) + count
        by_domain[domain] = by_domain.get(domain, 0) + count
    assert totals(frame, weights, "unit") == by_unit and totals(frame, weights, "domain") == by_domain
    assert version["diagnostics"][-1]["after"]["population"] == pytest.approx(sum(counts.values()))
    first_hash = version["input_hashes"]["population"]

    await feed({cells[1] + ("truc_tuyen",): 5})  # dossiers keep arriving: the next run counts them
    again = await weighting.run_plan(CAMPAIGN, "analyst")
    assert again["input_hashes"]["population"] != first_hash
    assert sum(weight for _, weight in again["weights"]) == pytest.approx(sum(counts.values()) + 5)
    await forget_versions(CAMPAIGN)


async def test_missing_and_empty_dossier_cells_are_named_as_for_a_file_and_nothing_is_stored(app, feed):
    code = await officials_campaign()  # its answers are at SO01, SO02 and H01
    day = dt.date(2026, 4, 10)
    await feed({("SO01", "dat_dai", "truc_tiep"): 3, ("H01", "dat_dai", "truc_tiep"): 2,
                ("SO09", "dat_dai", "truc_tiep"): 4}, day)
    plan = Plan(None, "post_stratify", ("unit",), population_source="dossiers", dossiers_from="2026-04-10",
                dossiers_to="2026-04-10")
    with pytest.raises(WeightingRefused) as refused:
        await weighting.save_plan(code, plan, "analyst")
    assert refused.value.messages == [
        "biên unit: thiếu số lượng tổng thể cho ô 'SO02' (4 phiếu)",
        "hồ sơ đã trả kết quả 10/04/2026–10/04/2026: ô unit = 'SO09' không có phiếu nào; gộp với ô bên cạnh hoặc bỏ dòng"]
    assert await weighting.stored_plan((await weighting.campaign_by_code(code))["id"]) is None

    with pytest.raises(WeightingRefused) as nothing:
        await weighting.save_plan(code, Plan(None, "post_stratify", ("unit",), population_source="dossiers",
                                             dossiers_from="2026-05-01", dossiers_to="2026-05-02"), "analyst")
    assert nothing.value.messages[0].startswith("không có hồ sơ nào trả kết quả từ 01/05/2026 đến 02/05/2026")


async def test_weight_plan_command_takes_its_population_from_the_dossiers(settings, app, feed):
    code = await officials_campaign()
    await feed({(unit, "ho_tich", "truc_tiep"): count for unit, count in (("SO01", 6), ("SO02", 2), ("H01", 4))},
               dt.date(2026, 6, 3))
    refused = run_survey(settings, "weight", "plan", "--campaign", code, "--calibration", "post_stratify",
                         "--margin", "unit", "--population", "dossiers", "--dossiers-from", "31/06/2026")
    assert refused.returncode == 1 and "--dossiers-from: '31/06/2026' không phải ngày" in refused.stderr
    result = run_survey(settings, "weight", "plan", "--campaign", code, "--calibration", "post_stratify",
                        "--margin", "unit", "--population", "dossiers", "--dossiers-from", "03/06/2026",
                        "--dossiers-to", "03/06/2026")
    assert result.returncode == 0, result.stderr
    assert "population hồ sơ đã trả kết quả 03/06/2026–03/06/2026" in result.stdout
    ran = run_survey(settings, "weight", "run", "--campaign", code, "--json")
    assert ran.returncode == 0, ran.stderr
    campaign = await weighting.campaign_by_code(code)
    frame = await weighting.weighting_frame(campaign["id"])
    version = await weighting.version_in_use(campaign["id"])
    stored = {row["id"]: row["weight"] for row in
              await Response.select(Response.id, Response.weight).where(Response.campaign == campaign["id"])}
    assert version["plan"]["population_source"] == "dossiers"
    assert totals(frame, stored, "unit") == {"SO01": 6, "SO02": 2, "H01": 4}


async def test_a_run_is_a_job_on_the_engine_shown_running_at_once_and_run_once_if_delivered_twice(app):
    code = await officials_campaign()
    campaign = await weighting.campaign_by_code(code)
    await weighting.save_plan(code, Plan("stratum"), "analyst")
    number = await weighting.start_run(code, "analyst")
    [waiting] = await weighting.versions(campaign["id"])
    assert (waiting["number"], waiting["state"]) == (number, "running")
    await jobs.defer(weighting.RUN_TASK, campaign=code, number=number, user="analyst")  # delivered a second time
    await runs_finished(campaign["id"])
    [done] = await weighting.versions(campaign["id"])
    assert (done["state"], done["progress"], done["in_use"]) == ("done", 100, True)
    assert await WeightVersion.count().where(WeightVersion.campaign == campaign["id"]) == 1
    stored = await Response.select(Response.weight).where(Response.campaign == campaign["id"])
    assert {row["weight"] for row in stored} == {8.25}


async def test_a_running_version_is_shown_by_a_status_line_that_updates_itself(analyst, monkeypatch):
    code = await officials_campaign()
    await weighting.save_plan(code, Plan("stratum"), "analyst")

    async def kept_waiting(*arguments, **options) -> None:  # no worker takes it: the run stays "running"
        return None

    monkeypatch.setattr(jobs, "defer", kept_waiting)
    number = await weighting.start_run(code, "analyst")
    page = (await analyst.get(f"/analyst/campaigns/{code}/weighting")).text
    assert '<div id="weighting-status" data-refresh="2"' in page and f"Đang chạy phiên bản {number}: 0 %" in page
    assert "progress." in page and 'http-equiv="refresh"' not in page  # updated in place by static/progress.js


async def test_a_run_without_a_plan_is_refused_before_any_job(app):
    code = await officials_campaign()
    with pytest.raises(WeightingRefused, match="chưa có kế hoạch gia quyền"):
        await weighting.start_run(code, "analyst")


ENGINES = ["in-process", "saq"] + (["procrastinate"] if TEST_DATABASE_URL.startswith("postgres") else [])


@pytest.mark.parametrize("kind", ENGINES)
async def test_the_run_job_completes_on_each_engine_its_state_in_the_version_row(app, settings, kind):
    """The same job on procrastinate (PostgreSQL), SAQ (Redis) and in-process (SQLite), each on a queue of its own so
    the suite's server worker never takes it."""
    queue = f"test-{uuid.uuid4().hex[:8]}"
    engine = {"saq": lambda: jobs.SaqEngine(REDIS_URL, queue=queue),
              "procrastinate": lambda: jobs.ProcrastinateEngine(settings.database_url, queue=queue),
              "in-process": jobs.InProcessEngine}[kind]()
    await engine.open()
    try:
        code = await officials_campaign()
        await weighting.save_plan(code, Plan("stratum", upper=9.0), "analyst")
        campaign, version = await weighting._start_version(code, "analyst")
        await engine.defer(weighting.RUN_TASK, {"campaign": code, "number": version["number"], "user": "analyst"}, None, 0)
        await engine.run_until_idle()
    finally:
        await engine.close()
    [done] = await weighting.versions(campaign["id"])
    assert (done["state"], done["in_use"], done["diagnostics"][-1]["step"]) == ("done", True, "trim")


async def test_the_weighting_page_offers_the_dossiers_beside_the_file_and_names_bad_days(analyst, feed):
    from tests.app.helpers import csrf_token

    code = await officials_campaign()
    await feed({(unit, "dat_dai", "truc_tiep"): 3 for unit in ("SO01", "SO02", "H01")}, dt.date(2026, 7, 8))
    path = f"/analyst/campaigns/{code}/weighting"
    page = await analyst.get(path)
    assert 'name="population_source"' in page.text and 'value="dossiers"' in page.text and 'name="file"' in page.text
    form = {"calibration": "post_stratify", "margins": ["unit"], "population_source": "dossiers",
            "dossiers_from": "08/07/2026", "dossiers_to": "32/07/2026", "_csrf_token": csrf_token(page.text)}
    bad = await analyst.post(f"{path}/plan", data=form)
    assert bad.status_code == 422 and "kỳ hồ sơ, đến ngày: &#39;32/07/2026&#39; không phải ngày (viết dd/mm/yyyy)" in bad.text
    saved = await analyst.post(f"{path}/plan", data={**form, "dossiers_to": "08/07/2026"})
    assert saved.status_code == 303
    shown = await analyst.get(path)
    assert "hồ sơ đã trả kết quả 08/07/2026–08/07/2026" in shown.text and 'value="08/07/2026"' in shown.text
    ran = await analyst.post(f"{path}/run", data={"_csrf_token": csrf_token(page.text)})
    assert ran.status_code == 303
    campaign = await weighting.campaign_by_code(code)
    await runs_finished(campaign["id"])
    stored = await Response.select(Response.weight).where(Response.campaign == campaign["id"])
    assert sum(row["weight"] for row in stored) == pytest.approx(9)
