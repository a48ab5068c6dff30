"""Ineligible members (left the unit, long leave): recorded with a reason, out of the AAPOR denominators.

Hand-worked from AAPOR Standard Definitions for stratum unit=SO01, role=cong_chuc after the steps below:
I = 2 completed, P = 1 started, R = 1 refused, NC = O = 0, NE = 2 ineligible, UH = 1 (the reserve brought in,
not started yet).
  RR1 = I / ((I+P) + (R+NC+O) + UH)     = 2 / (3 + 1 + 1)       = 0.4
  e   = (I+P+R+NC+O) / (... + NE)       = 4 / 6                 = 0.6667
  RR3 = I / ((I+P) + (R+NC+O) + e·UH)   = 2 / (4 + 2/3)         = 3/7 = 0.428571…
Stratum SO02 (6 invited, nobody started): RR1 = RR3 = 0, e = 1 (nothing resolved). All:
I=2, P=1, R=1, NE=2, UH=7: RR1 = 2/11, e = 4/6, RR3 = 2 / (4 + 14/3) = 3/13.
Counting the ineligible as eligible nonrespondents instead would give RR1 = 2/7 in SO01.
"""

from __future__ import annotations

import pytest

import sampling
from survey_app.officials import draws
from survey_app.core.sampling_tables import SampleMember
from tests.app.test_sample_cli import make_campaign, run_survey, write_frame

SO01 = "unit=SO01, role=cong_chuc"


async def test_ineligible_members_leave_the_denominators_with_hand_worked_aapor_rates(settings, app, tmp_path):
    campaign = await make_campaign("RATES-NE")
    rows = [("SO01", "cong_chuc", f"A{number}", "") for number in range(10)]
    rows += [("SO02", "cong_chuc", f"B{number}", "") for number in range(10)]
    frame = write_frame(tmp_path / "officials.csv", rows)
    stored = await draws.draw_and_store(settings.secret_key, campaign, frame, None, ["cong_chuc=6"], seed=3)
    refs = [slip["staff_ref"] for slip in stored.slips.to_dict("records") if slip["unit"] == "SO01"]
    await SampleMember.update({SampleMember.status: "completed"}).where(
        SampleMember.staff_ref_hash.like(refs[0] + "%") | SampleMember.staff_ref_hash.like(refs[1] + "%"))
    await SampleMember.update({SampleMember.status: "started"}).where(SampleMember.staff_ref_hash.like(refs[2] + "%"))
    await draws.mark(campaign, refs[3], "refused", "")
    result = run_survey(settings, "mark", "--campaign", campaign, "--ref", refs[4], "--status", "ineligible",
                        "--reason", "đã chuyển công tác")
    assert result.returncode == 0, result.stderr
    result = run_survey(settings, "replace", "--campaign", campaign, "--ref", refs[5], "--reason", "nghỉ dài hạn",
                        "--ineligible")
    assert result.returncode == 0, result.stderr

    members = await draws.members_frame(campaign)
    left = members.set_index(members["staff_ref_hash"].str[:draws.REF_PREFIX]).loc[[refs[4], refs[5]]]
    assert left["status"].tolist() == ["ineligible", "ineligible"]
    assert left["reason"].tolist() == ["đã chuyển công tác", "nghỉ dài hạn"]
    assert left["replaced_by"].isna().tolist() == [True, False]
    tracking = draws.tracking_table(members)
    so01 = tracking.loc[SO01]
    assert so01[["invited", "completed", "started", "refused", "ineligible", "not_started"]].tolist() == [
        7, 2, 1, 1, 2, 1]
    assert so01["rr1"] == pytest.approx(0.4)
    assert so01["e"] == pytest.approx(2 / 3)
    assert so01["rr3"] == pytest.approx(3 / 7)
    so02 = tracking.loc["unit=SO02, role=cong_chuc"]
    assert (so02["rr1"], so02["rr3"], so02["e"]) == (0, 0, 1)
    everyone = tracking.loc["all"]
    assert everyone["rr1"] == pytest.approx(2 / 11) and everyone["rr3"] == pytest.approx(3 / 13)

    shown = run_survey(settings, "show", "--campaign", campaign)
    assert shown.returncode == 0, shown.stderr
    line = next(text for text in shown.stdout.splitlines() if text.startswith(SO01))
    assert line.split()[-3:] == ["0.667", "0.400", "0.429"]  # e, RR1, RR3
    # The reason stays with the member and never reaches the export.
    exported = draws.export_frame(members).to_csv()
    assert "ineligible" in exported and "chuyển công tác" not in exported


async def test_ineligible_needs_a_reason_and_other_statuses_are_refused(settings, app, tmp_path):
    campaign = await make_campaign("RATES-REASON")
    frame = write_frame(tmp_path / "officials.csv", [("SO01", "cong_chuc", f"C{number}", "") for number in range(2)])
    stored = await draws.draw_and_store(settings.secret_key, campaign, frame, None, ["cong_chuc=1"], seed=2)
    ref = stored.slips["staff_ref"][0]
    with pytest.raises(sampling.SamplingError, match="needs a reason"):
        await draws.mark(campaign, ref, "ineligible", "  ")
    with pytest.raises(sampling.SamplingError, match="refused, not_reached or ineligible"):
        await draws.mark(campaign, ref, "completed", "")
    assert (await draws.members_frame(campaign))["status"].tolist() == ["invited"]
