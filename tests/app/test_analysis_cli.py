"""`survey indices` and `survey weight` on the demo province (SQLite by default, PostgreSQL with TEST_DATABASE_URL)."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from analysis.sipas import compute_indices
from survey_app.results.analysis import indices_text, run_indices, run_weight, weight_text
from survey_app.results.frames import SRS_NOTE, WEIGHTED_NOTE, AnalysisCommandError, campaign_frame
from survey_app.core.tables import Campaign, Response

SURVEY = Path(sys.executable).parent / "survey"


def run_survey(settings, *arguments) -> subprocess.CompletedProcess:
    environment = {**os.environ, "DATABASE_URL": settings.database_url, "SECRET_KEY": settings.secret_key}
    return subprocess.run([str(SURVEY), *arguments], capture_output=True, text=True, env=environment, timeout=120)


async def reset_weights(campaign_code: str) -> None:
    campaign = await Campaign.select(Campaign.id).where(Campaign.code == campaign_code).first()
    await Response.update({Response.weight: 1.0}).where(Response.campaign == campaign["id"])


async def test_indices_with_all_weights_one_are_srs_and_match_a_hand_computed_se(app):
    await reset_weights("SIPAS-2026")
    result = await run_indices("SIPAS-2026")
    _, scoring, frame = await campaign_frame("SIPAS-2026")
    assert result["design"] == SRS_NOTE and result["responses"] == len(frame)
    [whole] = result["groups"]
    assert whole["overall"] == pytest.approx(compute_indices(frame, scoring).overall)
    assert whole["ci_low"] < whole["overall"] < whole["ci_high"] and whole["se"] > 0

    # One-item criterion under SRS with replacement: p = satisfied / valid, z_i = (s_i − p v_i) / valid,
    # SE² = n/(n−1) Σ z_i² (the z_i sum to zero); ×100 for percent.
    criterion = whole["factors"][0]["criteria"][0]
    [item] = criterion["items"]
    ratings = frame[item].to_numpy(dtype=float)
    valid = ~np.isnan(ratings)
    satisfied = valid & (np.nan_to_num(ratings) >= 4)
    share = satisfied.sum() / valid.sum()
    scores = (satisfied - share * valid) / valid.sum()
    n = len(ratings)
    assert criterion["value"] == pytest.approx(100 * share)
    assert criterion["se"] == pytest.approx(100 * math.sqrt(n / (n - 1) * (scores**2).sum()), rel=1e-9)
    assert "simple random sampling" in indices_text(result)


async def test_indices_by_unit_level_and_domain_cover_every_response(app):
    _, _, frame = await campaign_frame("QUAY-2026")
    for by in ("unit", "level", "domain"):
        result = await run_indices("QUAY-2026", by=by)
        groups = {group["group"]: group for group in result["groups"]}
        assert set(groups) == set(frame[by].astype(str))
        assert sum(group["response_count"] for group in groups.values()) == len(frame)
        for group in groups.values():
            if group["overall"] is not None:
                assert group["se"] >= 0 and group["ci_low"] <= group["overall"] <= group["ci_high"]
    with pytest.raises(AnalysisCommandError, match="--by"):
        await run_indices("QUAY-2026", by="counter")
    with pytest.raises(AnalysisCommandError, match="no campaign"):
        await run_indices("NO-SUCH-CAMPAIGN")


async def test_indices_command_prints_json_and_a_table_and_refuses_unknown_campaigns(settings, app):
    result = run_survey(settings, "indices", "--campaign", "SIPAS-2026", "--by", "level", "--json")
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    assert printed["by"] == "level" and {group["group"] for group in printed["groups"]} <= {"so", "huyen", "xa"}
    assert all({"overall", "se", "ci_low", "ci_high", "response_count"} <= set(group) for group in printed["groups"])
    table = run_survey(settings, "indices", "--campaign", "SIPAS-2026")
    assert table.returncode == 0 and "95% CI" in table.stdout and "overall" in table.stdout
    unknown = run_survey(settings, "indices", "--campaign", "NO-SUCH-CAMPAIGN")
    assert unknown.returncode == 1 and "no campaign" in unknown.stderr


async def test_weight_post_stratifies_stores_in_one_go_and_a_second_run_changes_nothing(app, tmp_path):
    campaign = "QUAY-2026"
    await reset_weights(campaign)
    try:
        _, _, frame = await campaign_frame(campaign)
        levels = sorted(frame["level"].unique())
        population = {level: 10_000 * (position + 1) for position, level in enumerate(levels)}
        path = tmp_path / "population.csv"
        path.write_text("level,count\n" + "".join(f"{level},{count}\n" for level, count in population.items()), encoding="utf-8")

        result = await run_weight(campaign, "level", path)
        assert result["before"]["total"] == pytest.approx(len(frame)) and result["before"]["cv"] == pytest.approx(0)
        assert result["after"]["total"] == pytest.approx(sum(population.values()))
        _, _, stored = await campaign_frame(campaign)
        for level, count in population.items():
            in_level = stored[stored["level"] == level]["weight"]
            # Every weight was 1, so each response of a level now weighs N_level / n_level.
            assert in_level.sum() == pytest.approx(count) and in_level.to_numpy() == pytest.approx(count / len(in_level))
        assert "Kish n_eff" in weight_text(result) and "post-stratified by level" in weight_text(result)

        again = await run_weight(campaign, "level", path)
        assert again["before"] == pytest.approx(again["after"])
        assert (await run_indices(campaign))["design"] == WEIGHTED_NOTE

        # A refused population file changes nothing.
        partial = tmp_path / "partial.csv"
        partial.write_text(f"level,count\n{levels[0]},5\n", encoding="utf-8")
        with pytest.raises(AnalysisCommandError, match="no population count"):
            await run_weight(campaign, "level", partial)
        _, _, unchanged = await campaign_frame(campaign)
        assert unchanged["weight"].to_numpy() == pytest.approx(stored["weight"].to_numpy())
    finally:
        await reset_weights(campaign)


async def test_weight_command_reports_bad_population_rows_and_exits_1(settings, app, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("level,count\nso,abc\n,3\nhuyen,-2\n", encoding="utf-8")
    result = run_survey(settings, "weight", "--campaign", "QUAY-2026", "--post-stratify-by", "level", "--population", str(bad))
    assert result.returncode == 1
    assert "row 2: count 'abc'" in result.stderr and "row 3: level is empty" in result.stderr and "row 4" in result.stderr
    wrong = run_survey(settings, "weight", "--campaign", "QUAY-2026", "--post-stratify-by", "unit", "--population", str(bad))
    assert wrong.returncode == 1 and "level or domain" in wrong.stderr
