"""Draws: reproducibility, quotas, reserves and replacements, multi-stage, and refused bad input."""

import numpy as np
import pandas as pd
import pytest

from sampling import SamplingError, allocate_fixed
from sampling.draw import Stage, draw_multistage, draw_pps, draw_stratified, draw_systematic, new_seed
from sampling.selection import pps_probabilities

from .conftest import TINY_QUOTAS, province_officials, tiny_frame


def draw_tiny(frame=None, seed=2024):
    return draw_stratified(tiny_frame() if frame is None else frame, TINY_QUOTAS,
                           strata=["unit", "role"], seed=seed)


def test_fixed_expected_selection_for_a_tiny_frame():
    # Computed once with numpy's PCG64 and frozen here: a change means draws are no longer reproducible.
    sample = draw_tiny()
    assert list(sample.members["member_id"]) == ["M02", "M04", "M05", "M08", "M07", "M09"]
    assert list(sample.reserves["member_id"]) == ["M00", "M06", "M03", "M01", "M10", "M11"]
    assert sample.seed == 2024


@pytest.mark.parametrize("shuffle_seed", [1, 2, 3])
def test_same_sample_whatever_the_input_row_order(shuffle_seed):
    shuffled = tiny_frame().sample(frac=1, random_state=shuffle_seed)
    shuffled = shuffled[["role", "member_id", "unit"]]  # column order must not matter either
    assert list(draw_tiny(shuffled).members["member_id"]) == list(draw_tiny().members["member_id"])
    assert list(draw_tiny(shuffled).reserves["member_id"]) == list(draw_tiny().reserves["member_id"])


def test_other_seed_gives_other_sample():
    assert list(draw_tiny(seed=1).members["member_id"]) != list(draw_tiny().members["member_id"])


def test_probabilities_and_weights_per_stratum():
    members = draw_tiny().members.set_index("member_id")
    assert members.loc["M02", "inclusion_probability"] == pytest.approx(2 / 4)
    assert members.loc["M07", "design_weight"] == pytest.approx(3 / 2)


@pytest.mark.parametrize(("prefix", "count", "quota_by_role", "total"), [
    ("S", 20, {"head of division": 5, "civil servant": 4}, 180),
    ("H", 11, {"head of division": 12, "civil servant": 5}, 187),
])
def test_par_index_quotas_are_reproduced_exactly(prefix, count, quota_by_role, total):
    frame = province_officials(prefix, count)
    quotas = allocate_fixed(sorted(frame["unit"].unique()), quota_by_role,
                            stratum_sizes=frame.groupby(["unit", "role"]).size())
    sample = draw_stratified(frame, quotas, strata=["unit", "role"], seed=new_seed())
    assert len(sample.members) == total
    drawn = sample.members.groupby(["unit", "role"]).size()
    assert drawn.to_dict() == quotas.to_dict()


def test_weights_sum_to_stratum_sizes():
    frame = province_officials("S", 20)
    quotas = allocate_fixed(sorted(frame["unit"].unique()), {"head of division": 5, "civil servant": 4})
    sample = draw_stratified(frame, quotas, strata=["unit", "role"], seed=5)
    weight_totals = sample.members.groupby(["unit", "role"])["design_weight"].sum()
    population = frame.groupby(["unit", "role"]).size()
    np.testing.assert_allclose(weight_totals.sort_index(), population.sort_index())


def test_replace_takes_the_next_reserve_of_the_same_stratum_and_records_reason():
    sample = draw_tiny()
    incoming = sample.replace("M02", "on maternity leave")
    assert incoming["member_id"] == "M00"  # first reserve of stratum (A, head)
    assert incoming["inclusion_probability"] == pytest.approx(0.5)
    second = sample.replace("M04", "refused")
    assert second["member_id"] == "M06"
    table = sample.to_frame().set_index("member_id")
    assert table.loc["M02", ["status", "replaced_by", "replacement_reason"]].tolist() == [
        "replaced", "M00", "on maternity leave"]
    assert table.loc["M00", ["status", "replaces"]].tolist() == ["replacement", "M02"]
    assert [replacement.reason for replacement in sample.replacements] == ["on maternity leave", "refused"]
    assert len(sample.active_members) == 6


def test_replace_refuses_when_reserves_run_out():
    sample = draw_tiny()
    sample.replace("M08", "moved")  # stratum (B, head) has a single reserve
    with pytest.raises(SamplingError, match="no reserves left"):
        sample.replace("M10", "moved again")


def test_replace_refuses_unknown_or_already_replaced_member():
    sample = draw_tiny()
    sample.replace("M02", "ill")
    with pytest.raises(SamplingError, match="no such active member"):
        sample.replace("M02", "ill")


def test_reserve_list_can_be_limited():
    sample = draw_stratified(tiny_frame(), TINY_QUOTAS, strata=["unit", "role"], seed=2024,
                             reserves_per_stratum=1)
    assert list(sample.reserves["member_id"]) == ["M00", "M03", "M10", "M11"]


def test_to_frame_with_reserves_and_design_description():
    sample = draw_tiny()
    table = sample.to_frame(include_reserves=True)
    assert table["status"].value_counts().to_dict() == {"selected": 6, "reserve": 6}
    assert sample.design["stages"][0]["counts"]["unit=A, role=head"] == 2
    assert sample.design["stages"][0]["population"]["unit=A, role=head"] == 4


def test_systematic_takes_the_quota_with_probability_n_over_n():
    frame = province_officials("S", 3)
    sample = draw_systematic(frame, 10, strata=["unit"], seed=3)
    assert sample.members.groupby("unit").size().tolist() == [10, 10, 10]
    sizes = frame.groupby("unit").size()
    expected = 10 / sample.members["unit"].map(sizes)
    np.testing.assert_allclose(sample.members["inclusion_probability"], expected)


def test_pps_takes_large_units_with_certainty():
    frame = pd.DataFrame({"member_id": list("ABCDE"), "size": [100, 1, 1, 1, 1]})
    for method in ("systematic", "brewer"):
        sample = draw_pps(frame, 2, size="size", seed=9, method=method)
        assert "A" in set(sample.members["member_id"])
        assert sample.members.set_index("member_id").loc["A", "inclusion_probability"] == 1.0


def test_multistage_multiplies_stage_probabilities(dossier_frame):
    stages = [Stage("unit", 3, "pps_systematic"), Stage("day", 2), Stage("member_id", 4)]
    sample = draw_multistage(dossier_frame, stages, seed=11)
    members = sample.members
    assert len(members) == 3 * 2 * 4
    product = (members["stage1_inclusion_probability"] * members["stage2_inclusion_probability"]
               * members["stage3_inclusion_probability"])
    np.testing.assert_allclose(members["inclusion_probability"], product)
    np.testing.assert_allclose(members["stage2_inclusion_probability"], 2 / 5)
    unit_sizes = dossier_frame.groupby("unit").size()  # U5 (300 of 800 dossiers) is taken with certainty
    expected = dict(zip(unit_sizes.index, pps_probabilities(unit_sizes.to_numpy(), 3)))
    np.testing.assert_allclose(members["stage1_inclusion_probability"], members["unit"].map(expected))
    assert expected["U5"] == 1.0 and expected["U1"] == pytest.approx(2 * 200 / 500)
    assert (members.groupby(["unit", "day"]).size() == 4).all()


def test_multistage_reserves_come_from_the_same_unit_and_day(dossier_frame):
    stages = [Stage("unit", 2), Stage("day", 1), Stage("member_id", 3)]
    sample = draw_multistage(dossier_frame, stages, seed=4)
    leaving = sample.members.iloc[0]
    incoming = sample.replace(leaving["member_id"], "not reachable")
    assert (incoming["unit"], incoming["day"]) == (leaving["unit"], leaving["day"])


# --- bad input: the draw is refused with a clear message, never silently short --------------------

def test_frame_smaller_than_quota_names_stratum_and_shortfall():
    quotas = {**TINY_QUOTAS, ("B", "head"): 5}
    with pytest.raises(SamplingError) as raised:
        draw_stratified(tiny_frame(), quotas, strata=["unit", "role"], seed=1)
    assert "stratum unit=B, role=head: quota 5 but only 2 in the frame (3 short)" in str(raised.value)
    assert "Chỉ tiêu 5 nhưng khung mẫu chỉ có 2" in raised.value.problems[0].message_vi


def test_empty_stratum_is_refused():
    quotas = {**TINY_QUOTAS, ("C", "head"): 2}
    with pytest.raises(SamplingError, match="stratum C / head: quota 2 but the stratum is empty"):
        draw_stratified(tiny_frame(), quotas, strata=["unit", "role"], seed=1)


def test_stratum_without_quota_is_refused():
    quotas = {key: value for key, value in TINY_QUOTAS.items() if key != ("B", "staff")}
    with pytest.raises(SamplingError, match="unit=B, role=staff: 3 members but no quota"):
        draw_stratified(tiny_frame(), quotas, strata=["unit", "role"], seed=1)


@pytest.mark.parametrize("bad_quota", [0, -1, 1.5])
def test_zero_or_invalid_quota_is_refused(bad_quota):
    quotas = {**TINY_QUOTAS, ("A", "head"): bad_quota}
    with pytest.raises(SamplingError, match="unit=A, role=head: quota must be a whole number ≥ 1"):
        draw_stratified(tiny_frame(), quotas, strata=["unit", "role"], seed=1)


def test_all_quota_problems_are_reported_together():
    quotas = {("A", "head"): 0, ("A", "staff"): 9, ("B", "head"): 1, ("B", "staff"): 2}
    with pytest.raises(SamplingError) as raised:
        draw_stratified(tiny_frame(), quotas, strata=["unit", "role"], seed=1)
    assert len(raised.value.problems) == 2


def test_duplicate_ids_are_refused():
    frame = tiny_frame()
    frame.loc[3, "member_id"] = "M00"
    with pytest.raises(SamplingError, match="duplicate identifiers .*'M00'"):
        draw_tiny(frame)


@pytest.mark.parametrize("bad_size", [0, -3, np.nan])
def test_pps_size_must_be_positive(bad_size):
    frame = pd.DataFrame({"member_id": list("ABCD"), "size": [5, 2, bad_size, 1]})
    with pytest.raises(SamplingError, match="PPS size must be > 0; 1 unit\\(s\\) are not: \\['C'\\]"):
        draw_pps(frame, 2, size="size", seed=1)


def test_missing_columns_and_unknown_method_are_refused():
    with pytest.raises(SamplingError) as raised:
        draw_multistage(tiny_frame(), [Stage("member_id", 2, "lottery")], seed=1, strata=["region"])
    message = str(raised.value)
    assert "unknown method 'lottery'" in message and "column 'region': the frame has no such column" in message


def test_empty_stratum_values_are_refused():
    frame = tiny_frame()
    frame.loc[0, "unit"] = ""
    with pytest.raises(SamplingError, match="column 'unit': 1 empty cell"):
        draw_tiny(frame)
