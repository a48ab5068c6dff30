"""Response-quality flags on small constructed cases."""

import numpy as np
import pandas as pd

from analysis.quality import bursts, quality_flags, speeding, straight_lining


def _answers(rows: int, seed: int = 1) -> pd.DataFrame:
    generator = np.random.default_rng(seed)
    return pd.DataFrame(generator.integers(1, 6, size=(rows, 6)).astype(float), columns=[f"q{i}" for i in range(6)])


def test_speeding_against_the_median():
    durations = pd.Series([100, 110, 90, 20, 105])
    assert speeding(durations).tolist() == [False, False, False, True, False]


def test_straight_lining_needs_enough_answers():
    answers = pd.DataFrame({f"q{i}": [5, 5, 3] for i in range(6)})
    answers.loc[1, ["q0", "q1"]] = np.nan  # 4 answered: below the minimum
    answers.loc[2, "q0"] = 4
    assert straight_lining(answers).tolist() == [True, False, False]


def test_burst_of_identical_answers_from_one_counter():
    answers = _answers(12)
    answers.iloc[:6] = 5.0
    counters = pd.Series(["A"] * 6 + ["B"] * 6)
    times = pd.Series(pd.date_range("2024-05-01 09:00", periods=12, freq="1min"))
    flagged = bursts(answers, counters, times)
    assert flagged.iloc[:6].all()
    assert not flagged.iloc[6:].any()


def test_quality_flags_table_is_reviewable():
    answers = _answers(60)
    durations = pd.Series(np.full(60, 120.0))
    durations.iloc[0] = 5
    flags = quality_flags(answers, durations)
    assert {"straight_lining", "speeding", "outlier", "outlier_score", "any"} <= set(flags.columns)
    assert flags.loc[0, "any"]
    assert len(flags) == 60


def test_a_burst_that_is_the_only_counter_and_pattern_is_flagged():
    """One (counter, pattern) group: pandas' groupby.apply gave a table there, and the flags failed to compute."""
    answers = pd.DataFrame([[4.0, 4.0]] * 5)
    times = pd.Series(pd.date_range("2026-01-01", periods=5, freq="1min"))
    assert bursts(answers, pd.Series(["x"] * 5), times).tolist() == [True] * 5
