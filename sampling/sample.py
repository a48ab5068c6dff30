"""The `Sample` result: members, ordered reserves, the seed, the design, and replacements made."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from sampling.errors import refuse

PROBABILITY_COLUMNS = ("inclusion_probability", "design_weight")


@dataclass(frozen=True)
class Replacement:
    """One substitution: who left, who came in from the reserve list, and why."""

    stratum: str
    replaced_id: object
    replacement_id: object
    reason: str


class Sample:
    """A drawn sample. `members` has one row per person invited (status selected, replaced or replacement);
    `reserves` holds the not-yet-used reserve list, ordered by `reserve_rank` within each stratum."""

    def __init__(self, members: pd.DataFrame, reserves: pd.DataFrame, seed: int, design: dict,
                 id_column: str, reserve_group_columns: list[str]):
        self.members = members.assign(status="selected", replaces=None, replaced_by=None,
                                      replacement_reason=None)
        self.reserves = reserves
        self.seed = seed
        self.design = design
        self.id_column = id_column
        self.reserve_group_columns = list(reserve_group_columns)
        self.replacements: list[Replacement] = []

    @property
    def active_members(self) -> pd.DataFrame:
        """Members still in the sample (original selections and replacements, not those replaced)."""
        return self.members[self.members["status"] != "replaced"]

    def replace(self, member_id, reason: str) -> pd.Series:
        """Replace an active member by the next reserve of the same stratum; record the reason.

        The replacement stands in for the member it replaces, so it carries that member's inclusion
        probabilities and design weight (nonresponse adjustment belongs to analysis/).
        """
        if not str(reason).strip():
            raise refuse("reason", "Cần ghi lý do thay thế.", "a replacement needs a reason.")
        position = self._active_position(member_id)
        leaving = self.members.loc[position]
        reserve_position = self._next_reserve(leaving)
        incoming = self._incoming_row(leaving, self.reserves.loc[reserve_position])
        self.reserves = self.reserves.drop(index=reserve_position)
        self.members.loc[position, ["status", "replaced_by", "replacement_reason"]] = [
            "replaced", incoming[self.id_column], reason]
        self.members = pd.concat([self.members, pd.DataFrame([incoming.to_dict()])], ignore_index=True)
        self.replacements.append(Replacement(leaving["stratum"], member_id, incoming[self.id_column], reason))
        return incoming

    def to_frame(self, include_reserves: bool = False) -> pd.DataFrame:
        """Everyone invited (with status), optionally followed by the unused reserves (status "reserve")."""
        members = self.members.reset_index(drop=True)
        if not include_reserves:
            return members.copy()
        return pd.concat([members, self.reserves.assign(status="reserve")], ignore_index=True)

    def _active_position(self, member_id):
        matches = self.members.index[(self.members[self.id_column] == member_id)
                                     & (self.members["status"] != "replaced")]
        if len(matches) == 0:
            raise refuse(f"member {member_id!r}", "Không có người này trong mẫu (hoặc đã được thay).",
                         "no such active member in the sample (or already replaced).")
        return matches[0]

    def _next_reserve(self, leaving: pd.Series):
        same_stratum = pd.Series(True, index=self.reserves.index)
        for column in self.reserve_group_columns:
            same_stratum &= self.reserves[column] == leaving[column]
        candidates = self.reserves[same_stratum]
        if candidates.empty:
            raise refuse(f"stratum {leaving['stratum']}", "Tầng này đã hết danh sách dự phòng.",
                         "this stratum has no reserves left.")
        return candidates["reserve_rank"].idxmin()

    def _incoming_row(self, leaving: pd.Series, reserve: pd.Series) -> pd.Series:
        incoming = reserve.drop(labels="reserve_rank").reindex(self.members.columns)
        probability_columns = [column for column in self.members.columns if column.endswith(PROBABILITY_COLUMNS)]
        incoming[probability_columns] = leaving[probability_columns]
        incoming[["stratum", "status", "replaces"]] = [leaving["stratum"], "replacement", leaving[self.id_column]]
        incoming[["replaced_by", "replacement_reason"]] = [None, None]
        return incoming
