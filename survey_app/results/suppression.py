"""Which answers the figures of a campaign may be made of (Decree 13/2023 privacy; the threshold is SUPPRESS_BELOW).

Officials' answers (an invitation campaign) of a unit with fewer than the threshold of them are left out of every
figure shown anywhere: the unit's own, and every group that would hold them (a unit and the units below it, a
level, a domain, the province, a manager's units), as the exports blank them. Every figure is then made of whole
units with enough answers each, so no way of subtracting or combining figures, on one page or across pages, can
isolate fewer answers than the threshold. (Withholding a group only where it sat beside its own parts left the
province, a level or another page to give the same few answers away.)

Citizens' answers follow the plain threshold only: a group with fewer shows no figure (too few to be reliable).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import pandas as pd


def small_units(unit_of_each_answer: Iterable, minimum: int) -> dict:
    """The units with some answers, but fewer than `minimum`: unit → its number of answers."""
    return {unit: answers for unit, answers in Counter(unit_of_each_answer).items() if answers < minimum}


def publishable(frame: pd.DataFrame, officials: bool, minimum: int) -> tuple[pd.DataFrame, dict]:
    """(the rows figures may be made of, the units whose answers were left out with their numbers of answers).
    Citizens' answers are kept whole. For officials' answers:
    - the rows of small units are dropped;
    - an item that fewer than `minimum` of a unit's officials rated (the rest "không áp dụng") counts as not
      rated in that unit: a criterion answered by 1 of 5 would be that official's answer;
    - every answer of a unit gets the unit's mean weight: weights differ by role (the sampling stratum), and a
      weighted figure beside an unweighted one would tell the roles of a unit apart."""
    if not officials:
        return frame, {}
    left_out = small_units(frame["unit"], minimum)
    kept = frame[~frame["unit"].isin(list(left_out))].reset_index(drop=True) if left_out else frame
    return _one_weight_per_unit(_without_thin_items(kept, minimum)), left_out


NOT_ITEMS = ("response_id", "unit", "level", "domain", "weight")


def _without_thin_items(frame: pd.DataFrame, minimum: int) -> pd.DataFrame:
    items = [column for column in frame.columns if column not in NOT_ITEMS]
    if not items or frame.empty:
        return frame
    rated = frame[items].notna().groupby(frame["unit"]).transform("sum")
    thin = rated.lt(minimum) & rated.gt(0)
    if not thin.to_numpy().any():
        return frame
    return frame.assign(**{item: frame[item].mask(thin[item]) for item in items})


def _one_weight_per_unit(frame: pd.DataFrame) -> pd.DataFrame:
    if "weight" not in frame or frame.empty:
        return frame
    weights = pd.to_numeric(frame["weight"], errors="coerce")
    return frame.assign(weight=weights.groupby(frame["unit"]).transform("mean"))
