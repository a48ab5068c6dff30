"""Response tracking per stratum and AAPOR response rates RR1 and RR3.

AAPOR Standard Definitions (2023): I complete, P partial, R refusal, NC non-contact, O other,
UH/UO unknown eligibility, NE not eligible.
  RR1 = I / ((I + P) + (R + NC + O) + (UH + UO))
  RR3 = I / ((I + P) + (R + NC + O) + e (UH + UO)),  e = estimated share of unknowns that are eligible.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from sampling.errors import refuse

# Status of a sampled person → AAPOR category. "pending" means invited and nothing heard since, which
# AAPOR counts as unknown eligibility; a person replaced is a known-eligible nonrespondent ("other").
# Record someone replaced because they are not eligible (retired, moved post) as "ineligible".
STATUS_CATEGORY = {
    "completed": "complete", "started": "partial", "refused": "refusal", "not_reached": "non_contact",
    "replaced": "other", "pending": "unknown_eligibility", "ineligible": "not_eligible",
}
STATUSES = tuple(STATUS_CATEGORY)


@dataclass(frozen=True)
class Dispositions:
    """Final disposition counts in AAPOR's categories."""

    complete: int = 0
    partial: int = 0
    refusal: int = 0
    non_contact: int = 0
    other: int = 0
    unknown_eligibility: int = 0
    not_eligible: int = 0

    @property
    def eligible(self) -> int:
        """Known eligible cases: I + P + R + NC + O."""
        return self.complete + self.partial + self.refusal + self.non_contact + self.other


def response_rate_1(counts: Dispositions) -> float:
    """AAPOR RR1: completes over all eligible and unknown-eligibility cases (the most conservative rate)."""
    return _rate(counts.complete, counts.eligible + counts.unknown_eligibility)


def response_rate_3(counts: Dispositions, eligibility_rate: float | None = None) -> float:
    """AAPOR RR3: as RR1 but only a share e of the unknown-eligibility cases is counted as eligible."""
    if eligibility_rate is None:
        eligibility_rate = estimate_eligibility_rate(counts)
    if not 0 <= eligibility_rate <= 1:
        raise refuse("eligibility_rate", "Tỷ lệ đủ điều kiện e phải trong [0, 1].",
                     "the eligibility rate e must lie in [0, 1].")
    return _rate(counts.complete, counts.eligible + eligibility_rate * counts.unknown_eligibility)


def estimate_eligibility_rate(counts: Dispositions) -> float:
    """e estimated from the resolved cases: eligible / (eligible + not eligible); 1 when none is resolved."""
    resolved = counts.eligible + counts.not_eligible
    return counts.eligible / resolved if resolved else 1.0


def count_dispositions(statuses: pd.Series) -> Dispositions:
    """Count a column of statuses (see STATUSES) into AAPOR categories; unknown statuses are refused."""
    unknown = sorted(set(statuses) - set(STATUSES))
    if unknown:
        raise refuse("status", f"Trạng thái không hợp lệ: {unknown}.",
                     f"unknown status(es) {unknown}; use {list(STATUSES)}.")
    tally = statuses.map(STATUS_CATEGORY).value_counts()
    return Dispositions(**{category: int(count) for category, count in tally.items()})


def response_table(members: pd.DataFrame, stratum_column: str = "stratum",
                   status_column: str = "status") -> pd.DataFrame:
    """Per stratum (and a final "all" row): invited (everyone), a count per status, e, RR1 and RR3."""
    groups = {stratum: group[status_column] for stratum, group in members.groupby(stratum_column, sort=True)}
    groups["all"] = members[status_column]
    return pd.DataFrame([_table_row(statuses) for statuses in groups.values()],
                        index=pd.Index(list(groups), name=stratum_column))


def _table_row(statuses: pd.Series) -> dict:
    counts = count_dispositions(statuses)
    row = {"invited": len(statuses)}
    row |= {status: int((statuses == status).sum()) for status in STATUSES}
    row |= {"eligibility_rate": estimate_eligibility_rate(counts),
            "rr1": response_rate_1(counts), "rr3": response_rate_3(counts)}
    return row


def _rate(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else float("nan")
