"""Response-quality flags on small constructed cases."""

import numpy as np
import pandas as pd
from hypothesis import given, settings, strategies as st

from analysis.quality import (OutlierModel, burst_batch, bursts, outliers, pattern_hashes, quality_flags, speeding,
                              straight_lining)


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


def bursts_one_group_at_a_time(answers, counters, submitted_at, window="10min", minimum_size=5) -> pd.Series:
    """The rolling window per counter-and-pattern group that bursts() replaced: the reference it must equal."""
    frame = pd.DataFrame({
        "counter": counters.to_numpy(),
        "pattern": pd.util.hash_pandas_object(answers.fillna(-1), index=False).to_numpy(),
        "time": pd.to_datetime(submitted_at).to_numpy(),
        "count": 1.0,
    }, index=answers.index).sort_values("time")
    counts = pd.Series(0.0, index=frame.index)
    for _, group in frame.groupby(["counter", "pattern"]):
        counts[group.index] = group.rolling(window, on="time")["count"].sum().to_numpy()
    flagged = pd.Series(False, index=answers.index)
    for (counter, pattern), first in frame.loc[counts >= minimum_size].groupby(["counter", "pattern"])["time"].min().items():
        same = (frame["counter"] == counter) & (frame["pattern"] == pattern)
        flagged[frame.index[same & (frame["time"] >= first - pd.Timedelta(window))]] = True
    return flagged


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 1), st.integers(0, 2), st.integers(0, 2), st.integers(0, 3600)),
                min_size=1, max_size=60))
def test_vectorised_bursts_equal_the_rolling_window_per_group(responses):
    answers = pd.DataFrame([(first, second) for _, first, second, _ in responses], columns=["q1", "q2"], dtype=float)
    counters = pd.Series([f"Q{counter}" for counter, _, _, _ in responses])
    times = pd.Series(pd.Timestamp("2026-06-01 08:00") + pd.to_timedelta([s for *_, s in responses], unit="s"))
    expected = bursts_one_group_at_a_time(answers, counters, times, minimum_size=3)
    assert bursts(answers, counters, times, minimum_size=3).tolist() == expected.tolist()


def bursts_in_batches(answers, counters, times, batch_size, window="10min", minimum_size=3) -> list[bool]:
    """burst_batch() as survey_app/results/quality_store.py drives it: each batch with the earlier responses
    submitted within `window` before the batch's first, the groups' first runs carried from batch to batch."""
    patterns = pattern_hashes(answers)
    nanoseconds = pd.DatetimeIndex(times).as_unit("ns").asi8
    counter_codes = counters.to_numpy()
    flagged = np.zeros(len(answers), dtype=bool)
    known: dict[str, int] = {}
    window_ns = pd.Timedelta(window).value
    for start in range(0, len(answers), batch_size):
        end = min(start + batch_size, len(answers))
        earlier = np.flatnonzero(nanoseconds[:start] >= nanoseconds[start:end].min() - window_ns)
        rows = np.concatenate([earlier, np.arange(start, end)])
        flags, found = burst_batch(counter_codes[rows], patterns[rows], nanoseconds[rows], len(earlier), known,
                                   window, minimum_size)
        flagged[rows] |= flags
        known.update(found)
    return flagged.tolist()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 1), st.integers(0, 2), st.integers(0, 2), st.integers(0, 600)),
                min_size=1, max_size=60), st.integers(1, 25))
def test_bursts_in_batches_equal_bursts_over_every_response(responses, batch_size):
    """Responses arrive in order of time (ids follow submission); any batch size gives the one-pass flags."""
    responses = sorted(responses, key=lambda response: response[3])
    answers = pd.DataFrame([(first, second) for _, first, second, _ in responses], columns=["q1", "q2"], dtype=float)
    counters = pd.Series([f"Q{counter}" for counter, _, _, _ in responses])
    times = pd.Series(pd.Timestamp("2026-06-01 08:00", tz="UTC") + pd.to_timedelta(
        np.cumsum([seconds for *_, seconds in responses]), unit="s"))
    expected = bursts(answers, counters, times, minimum_size=3).tolist()
    assert bursts_in_batches(answers, counters, times, batch_size) == expected


def test_the_outlier_model_fitted_and_applied_to_the_same_responses_is_outliers():
    answers = _answers(80)
    durations = pd.Series(np.random.default_rng(3).uniform(30, 300, 80))
    pd.testing.assert_frame_equal(OutlierModel(answers, durations).score(answers, durations), outliers(answers, durations))
