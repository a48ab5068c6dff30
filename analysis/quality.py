"""Response-quality flags: speeding, straight-lining, bursts from one counter, and an outlier model.

Flags are for review: nothing is excluded here. An analyst decides, and indices can then be computed
with and without the flagged responses (``answers[~flags["any"]]``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.ensemble import IsolationForest


def speeding(durations: pd.Series, fraction_of_median: float = 0.3) -> pd.Series:
    """True where the duration is below ``fraction_of_median`` × the median duration."""
    return durations < fraction_of_median * durations.median()


def straight_lining(answers: pd.DataFrame, minimum_answered: int = 5) -> pd.Series:
    """True where at least ``minimum_answered`` items were answered and all got the same rating."""
    answered = answers.notna().sum(axis=1)
    return (answered >= minimum_answered) & (answers.nunique(axis=1) == 1)


def bursts(answers: pd.DataFrame, counters: pd.Series, submitted_at: pd.Series, window: str = "10min", minimum_size: int = 5) -> pd.Series:
    """True for responses in a run of at least ``minimum_size`` identical answer patterns from one counter within ``window``.

    Vectorised (a pandas rolling window per counter-and-pattern group took most of a queue's time, with nearly one
    group per response): groups smaller than ``minimum_size`` cannot hold a run and are dropped first; the others are
    laid one after another on a single increasing time axis, so one ``searchsorted`` counts every row's window."""
    pattern = pd.util.hash_pandas_object(answers.fillna(-1), index=False).to_numpy()
    group = pd.DataFrame({"counter": counters.to_numpy(), "pattern": pattern}).groupby(["counter", "pattern"], sort=False).ngroup().to_numpy()
    times = pd.DatetimeIndex(pd.to_datetime(pd.Series(submitted_at).to_numpy(), utc=True)).as_unit("ns").asi8
    window_ns = pd.Timedelta(window).value
    flagged = np.zeros(len(answers), dtype=bool)
    rows = np.flatnonzero(np.bincount(group)[group] >= minimum_size)
    if rows.size:
        flagged[rows] = _in_runs(group[rows], times[rows], window_ns, minimum_size)
    return pd.Series(flagged, index=answers.index)


def _in_runs(group: np.ndarray, times: np.ndarray, window_ns: int, minimum_size: int) -> np.ndarray:
    """For rows of groups that may hold a run: whether each is in one, or within ``window`` before its first."""
    order = np.lexsort((times, group))
    band = np.unique(group[order], return_inverse=True)[1].reshape(-1)
    sorted_times = times[order]
    counts = _window_counts(band, sorted_times - sorted_times[np.searchsorted(band, band)], window_ns)
    in_run = counts >= minimum_size
    first = np.full(band.max() + 1, np.iinfo(np.int64).max)
    np.minimum.at(first, band[in_run], sorted_times[in_run])
    has_run = first[band] < np.iinfo(np.int64).max
    flagged_sorted = has_run & (sorted_times >= np.where(has_run, first[band], 0) - window_ns)
    flagged = np.empty(len(order), dtype=bool)
    flagged[order] = flagged_sorted
    return flagged


def _window_counts(band: np.ndarray, since_start: np.ndarray, window_ns: int) -> np.ndarray:
    """Rows of the same band in (t − window, t] up to each row: bands laid one after another on one int64 axis,
    as many at a time as fit in it."""
    stride = int(since_start.max()) + window_ns + 1
    per_pass = max(1, 2**62 // stride)
    counts = np.empty(len(band), dtype=np.int64)
    for low in range(0, int(band.max()) + 1, per_pass):
        start, end = np.searchsorted(band, [low, low + per_pass])
        axis = (band[start:end] - low) * stride + since_start[start:end]
        counts[start:end] = np.arange(end - start) - np.searchsorted(axis, axis - window_ns, side="right") + 1
    return counts


def outliers(answers: pd.DataFrame, durations: pd.Series | None = None, contamination: float = 0.02, seed: int = 0) -> pd.DataFrame:
    """IsolationForest (scikit-learn) on the ratings (N/A → item median) and log duration: score and flag."""
    features = answers.apply(lambda column: column.fillna(column.median())).fillna(0)
    if durations is not None:
        features = features.assign(log_duration=np.log1p(durations.clip(lower=0).to_numpy()))
    model = IsolationForest(contamination=contamination, random_state=seed).fit(features.to_numpy())
    return pd.DataFrame({"outlier_score": -model.score_samples(features.to_numpy()), "outlier": model.predict(features.to_numpy()) == -1}, index=answers.index)


def quality_flags(answers: pd.DataFrame, durations: pd.Series | None = None, counters: pd.Series | None = None, submitted_at: pd.Series | None = None) -> pd.DataFrame:
    """All flags in one reviewable table, with ``any`` set when at least one rule fired."""
    flags = pd.DataFrame({"straight_lining": straight_lining(answers)}, index=answers.index)
    if durations is not None:
        flags["speeding"] = speeding(durations)
    if counters is not None and submitted_at is not None:
        flags["burst"] = bursts(answers, counters, submitted_at)
    flags = flags.join(outliers(answers, durations)) if len(answers) >= 10 else flags
    rule_columns = [column for column in flags if column != "outlier_score"]
    flags["any"] = flags[rule_columns].any(axis=1)
    return flags
