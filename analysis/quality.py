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


def pattern_hashes(answers: pd.DataFrame) -> np.ndarray:
    """One int64 per row for its answer pattern (N/A as −1): rows with the same answers get the same number, in any
    batch, as long as the columns are the same floats."""
    return pd.util.hash_pandas_object(answers.fillna(-1), index=False).to_numpy().view(np.int64)


def bursts(answers: pd.DataFrame, counters: pd.Series, submitted_at: pd.Series, window: str = "10min", minimum_size: int = 5) -> pd.Series:
    """True for responses in a run of at least ``minimum_size`` identical answer patterns from one counter within
    ``window``, or later in the same counter and pattern, or within ``window`` before the first run.

    Vectorised (a pandas rolling window per counter-and-pattern group took most of a queue's time, with nearly one
    group per response): groups smaller than ``minimum_size`` cannot hold a run and are dropped first; the others are
    laid one after another on a single increasing time axis, so one ``searchsorted`` counts every row's window."""
    group = _groups(counters.to_numpy(), pattern_hashes(answers))
    times = _nanoseconds(submitted_at)
    window_ns = pd.Timedelta(window).value
    flagged = np.zeros(len(answers), dtype=bool)
    rows = np.flatnonzero(np.bincount(group)[group] >= minimum_size)
    if rows.size:
        in_run = _run_counts(group[rows], times[rows], window_ns) >= minimum_size
        first = _first_runs(group[rows], times[rows], in_run, int(group.max()) + 1)
        flagged[rows] = _after_first_run(first[group[rows]], times[rows], window_ns)
    return pd.Series(flagged, index=answers.index)


NEVER = np.iinfo(np.int64).max


def burst_batch(counters: np.ndarray, patterns: np.ndarray, times: np.ndarray, new_from: int, known_runs: dict[str, int],
                window: str = "10min", minimum_size: int = 5) -> tuple[np.ndarray, dict[str, int]]:
    """bursts() one batch at a time. Rows before ``new_from`` are earlier responses submitted within ``window`` before
    the batch's first (already flagged), the rest the batch; ``known_runs``: "counter:pattern" → when the group first
    held a run (ns). Returns each row's flag (earlier rows: True where a run found now reaches back to them) and the
    groups whose first run is new. Equal to bursts() over every response when responses arrive in order of time."""
    keys = np.char.add(np.char.add(counters.astype(str), ":"), patterns.astype(str))
    group, names = pd.factorize(keys)
    window_ns = pd.Timedelta(window).value
    in_run = (_run_counts(group, times, window_ns) >= minimum_size) & (np.arange(len(group)) >= new_from)
    first = _first_runs(group, times, in_run, len(names))
    known = np.array([known_runs.get(name, NEVER) for name in names], dtype=np.int64)
    combined = np.minimum(first, known)
    found = {str(names[g]): int(combined[g]) for g in np.flatnonzero(combined < known)}
    return _after_first_run(combined[group], times, window_ns), found


def _groups(counters: np.ndarray, patterns: np.ndarray) -> np.ndarray:
    return pd.DataFrame({"counter": counters, "pattern": patterns}).groupby(["counter", "pattern"], sort=False).ngroup().to_numpy()


def _nanoseconds(submitted_at) -> np.ndarray:
    return pd.DatetimeIndex(pd.to_datetime(pd.Series(submitted_at).to_numpy(), utc=True)).as_unit("ns").asi8


def _first_runs(group: np.ndarray, times: np.ndarray, in_run: np.ndarray, groups: int) -> np.ndarray:
    first = np.full(groups, NEVER, dtype=np.int64)
    np.minimum.at(first, group[in_run], times[in_run])
    return first


def _after_first_run(first: np.ndarray, times: np.ndarray, window_ns: int) -> np.ndarray:
    has_run = first < NEVER
    return has_run & (times >= np.where(has_run, first, 0) - window_ns)


def _run_counts(group: np.ndarray, times: np.ndarray, window_ns: int) -> np.ndarray:
    """Each row's count of rows of its group in (t − window, t], up to itself (ties: in the given order)."""
    order = np.lexsort((times, group))
    band = np.unique(group[order], return_inverse=True)[1].reshape(-1)
    sorted_times = times[order]
    counts = np.empty(len(order), dtype=np.int64)
    counts[order] = _window_counts(band, sorted_times - sorted_times[np.searchsorted(band, band)], window_ns)
    return counts


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


class OutlierModel:
    """IsolationForest (scikit-learn) fitted on some responses: the ratings (N/A → the item's median among them) and,
    when every one of them has a duration, the log duration."""

    def __init__(self, answers: pd.DataFrame, durations: pd.Series | None = None, contamination: float = 0.02, seed: int = 0):
        self.uses_durations = durations is not None and bool(durations.notna().all())
        features = self._features(answers, durations, fill=None)
        self.fill = features.median().fillna(0)
        self.forest = IsolationForest(contamination=contamination, random_state=seed).fit(features.fillna(self.fill).to_numpy())

    def _features(self, answers: pd.DataFrame, durations: pd.Series | None, fill: pd.Series | None) -> pd.DataFrame:
        features = answers.copy()
        if self.uses_durations:
            features["log_duration"] = np.log1p(durations.clip(lower=0).to_numpy()) if durations is not None else np.nan
        return features if fill is None else features.fillna(fill)

    def score(self, answers: pd.DataFrame, durations: pd.Series | None = None) -> pd.DataFrame:
        features = self._features(answers, durations, self.fill).to_numpy()
        scores = self.forest.score_samples(features)
        return pd.DataFrame({"outlier_score": -scores, "outlier": scores < self.forest.offset_}, index=answers.index)


def outliers(answers: pd.DataFrame, durations: pd.Series | None = None, contamination: float = 0.02, seed: int = 0) -> pd.DataFrame:
    """The outlier model fitted on these responses and applied to them: score and flag."""
    return OutlierModel(answers, durations, contamination, seed).score(answers, durations)


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
