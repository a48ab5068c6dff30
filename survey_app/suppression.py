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
    """(the rows figures may be made of, the units whose answers were left out with their numbers of answers):
    for officials' answers the rows of small units are dropped; citizens' answers are kept whole."""
    left_out = small_units(frame["unit"], minimum) if officials else {}
    if not left_out:
        return frame, {}
    return frame[~frame["unit"].isin(list(left_out))].reset_index(drop=True), left_out
