"""AAPOR response rates against a hand-worked example of the Standard Definitions formulas."""

import pandas as pd
import pytest

from sampling import SamplingError
from sampling.rates import (Dispositions, count_dispositions, estimate_eligibility_rate, response_rate_1,
                            response_rate_3, response_table)

# Hand-worked: I=400, P=50, R=100, NC=80, O=20, UH+UO=200, NE=150.
#   RR1 = 400 / (450 + 200 + 200)          = 400 / 850   = 0.470588…
#   e   = (450 + 200) / (450 + 200 + 150)  = 650 / 800   = 0.8125
#   RR3 = 400 / (450 + 200 + 0.8125 × 200) = 400 / 812.5 = 0.492307…
EXAMPLE = Dispositions(complete=400, partial=50, refusal=100, non_contact=80, other=20,
                       unknown_eligibility=200, not_eligible=150)


def test_rr1_hand_worked():
    assert response_rate_1(EXAMPLE) == pytest.approx(400 / 850)


def test_eligibility_rate_hand_worked():
    assert estimate_eligibility_rate(EXAMPLE) == pytest.approx(0.8125)


def test_rr3_hand_worked():
    assert response_rate_3(EXAMPLE) == pytest.approx(400 / 812.5)
    assert response_rate_3(EXAMPLE, eligibility_rate=0.5) == pytest.approx(400 / 750)


def test_rr3_equals_rr1_when_all_unknowns_are_eligible():
    assert response_rate_3(EXAMPLE, eligibility_rate=1.0) == response_rate_1(EXAMPLE)


def test_statuses_map_to_aapor_categories():
    statuses = pd.Series(["completed"] * 3 + ["started", "refused", "not_reached", "replaced",
                                              "pending", "pending", "ineligible"])
    assert count_dispositions(statuses) == Dispositions(3, 1, 1, 1, 1, 2, 1)


def test_response_table_per_stratum_and_total():
    members = pd.DataFrame({
        "stratum": ["S01"] * 4 + ["S02"] * 4,
        "status": ["completed", "completed", "refused", "pending",
                   "completed", "replaced", "ineligible", "started"],
    })
    table = response_table(members)
    assert list(table.index) == ["S01", "S02", "all"]
    assert table.loc["S01", ["invited", "completed", "refused", "pending"]].tolist() == [4, 2, 1, 1]
    assert table.loc["S01", "rr1"] == pytest.approx(2 / 4)
    assert table.loc["S01", "rr3"] == pytest.approx(2 / 4)  # e = 3/3: no ineligible case resolved in S01
    # S02: I=1, P=1, O=1, NE=1 → RR1 = 1/3
    assert table.loc["S02", "rr1"] == pytest.approx(1 / 3)
    assert table.loc["all", "replaced"] == 1
    assert table.loc["all", "invited"] == 8


def test_unknown_status_is_refused():
    with pytest.raises(SamplingError, match="unknown status"):
        count_dispositions(pd.Series(["done"]))
