"""Non-response adjustment in weighting classes from the sample statuses of sampling/ (officials' surveys).

Statuses are those of ``sampling.rates.STATUSES`` (the app's "invited", a member not heard from, counts as "pending").
Per weighting class (Valliant, Dever & Kreuter 2013, §13.4):
  1. unknown eligibility ("pending"): their weight goes to the cases whose eligibility is known, in proportion;
  2. eligible non-respondents ("started", "refused", "not_reached", "replaced"): their weight goes to the
     respondents ("completed");
  3. ineligible cases keep their weight out of the population and, like non-respondents, leave the design.
The returned design holds the respondents with adjusted weights; its variance treats them as design weights.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.design import SurveyDesign
from analysis.weighting import Weighted, WeightingError, WeightSummary, _cell_codes, subset_rows

RESPONDED = ("completed",)
ELIGIBLE_NONRESPONSE = ("started", "refused", "not_reached", "replaced")
INELIGIBLE = ("ineligible",)
UNKNOWN_ELIGIBILITY = ("pending", "invited")
STATUSES = RESPONDED + ELIGIBLE_NONRESPONSE + INELIGIBLE + UNKNOWN_ELIGIBILITY


def adjust_for_statuses(design: SurveyDesign, status: str, cells: str | list[str] | None = None) -> Weighted:
    """Respondents' design with weights adjusted for unknown eligibility and non-response within ``cells``."""
    statuses = _statuses(design.data, status)
    codes = _cell_codes(design.data, cells)
    labels = _cell_names(design.data, cells, codes)
    known = ~np.isin(statuses, UNKNOWN_ELIGIBILITY)
    responded = np.isin(statuses, RESPONDED)
    eligible = np.isin(statuses, RESPONDED + ELIGIBLE_NONRESPONSE)
    eligibility_factor = _factor(codes, design.weights, known, labels, "has cases of unknown eligibility but none of known eligibility")
    known_weights = design.weights * eligibility_factor[codes] * known
    response_factor = _factor(codes, known_weights, responded, labels, "has eligible cases but no respondent", within=eligible)
    adjusted = known_weights * response_factor[codes]
    respondents = subset_rows(design, responded).with_weights(adjusted[responded], None, f"non-response adjustment from {status} within {cells}")
    report = {"cells": len(labels), "respondents": int(responded.sum()), "ineligible": int(np.isin(statuses, INELIGIBLE).sum()),
              "unknown_eligibility": int((~known).sum()),
              "eligibility_factor": dict(zip(labels, eligibility_factor.tolist())),
              "response_factor": dict(zip(labels, response_factor.tolist()))}
    return Weighted(respondents, WeightSummary.of(design.weights), WeightSummary.of(respondents.weights), report)


def _statuses(data: pd.DataFrame, status: str) -> np.ndarray:
    if status not in data.columns:
        raise WeightingError(f"Status column {status!r} is not in the data.")
    values = data[status].astype("string").str.strip().to_numpy(dtype=object)
    unknown = ~np.isin(values, STATUSES)
    if unknown.any():
        row = int(np.flatnonzero(unknown)[0])
        raise WeightingError(f"Column {status!r}, row {row}: status {str(data[status].iloc[row])!r} is not one of {', '.join(STATUSES)} "
                             f"({int(unknown.sum())} such rows).")
    if not np.isin(values, RESPONDED).any():
        raise WeightingError(f"Column {status!r} has no respondent ('completed'): nothing to estimate from.")
    return values


def _cell_names(data: pd.DataFrame, cells, codes: np.ndarray) -> list[str]:
    if cells is None:
        return ["all"]
    first_rows = np.unique(codes, return_index=True)[1]
    names = [cells] if isinstance(cells, str) else list(cells)
    return ["/".join(str(data[name].iloc[row]) for name in names) for row in first_rows]


def _factor(codes, weights, receiving, labels, problem: str, within: np.ndarray | None = None) -> np.ndarray:
    """Per cell: Σ weight (over ``within``, default all rows) / Σ weight of the ``receiving`` rows."""
    count = len(labels)
    giving = np.bincount(codes, weights=weights if within is None else weights * within, minlength=count)
    receiving_total = np.bincount(codes, weights=weights * receiving, minlength=count)
    empty = np.flatnonzero((giving > 0) & (receiving_total == 0))
    if len(empty):
        raise WeightingError(f"Weighting class {labels[int(empty[0])]!r} {problem}; merge it with a neighbouring class.")
    return np.divide(giving, receiving_total, out=np.ones(count), where=receiving_total > 0)
