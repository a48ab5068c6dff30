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
    """True for responses in a run of at least ``minimum_size`` identical answer patterns from one counter within ``window``."""
    frame = pd.DataFrame({
        "counter": counters.to_numpy(),
        "pattern": pd.util.hash_pandas_object(answers.fillna(-1), index=False).to_numpy(),
        "time": pd.to_datetime(submitted_at).to_numpy(),
        "count": 1.0,
    }, index=answers.index).sort_values("time")
    counts = pd.Series(0.0, index=frame.index)
    for _, group in frame.groupby(["counter", "pattern"]):  # (groupby.apply gives a table for a single group)
        counts[group.index] = group.rolling(window, on="time")["count"].sum().to_numpy()
    in_run = counts >= minimum_size
    flagged = pd.Series(False, index=answers.index)
    # Mark the whole run, including the responses before its threshold was reached.
    for (counter, pattern), first in frame.loc[in_run].groupby(["counter", "pattern"])["time"].min().items():
        same = (frame["counter"] == counter) & (frame["pattern"] == pattern)
        flagged[frame.index[same & (frame["time"] >= first - pd.Timedelta(window))]] = True
    return flagged


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
