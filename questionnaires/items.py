"""A question and its choices: the leaves of a questionnaire, shared by the model and the answer checks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional


@dataclass(frozen=True)
class Choice:
    value: str
    label: dict[str, str]
    # the choice's values in the columns a cascading filter reads (XLSForm choices sheet columns), e.g. {"state": "wa"}
    filters: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Item:
    """One question. Unused constraints are None; `choices` is filled for single, multiple, rating5 and pickers."""

    key: str
    type: str
    label: dict[str, str]
    hint: dict[str, str] = field(default_factory=dict)
    required: bool = False
    choices: list[Choice] = field(default_factory=list)
    show_if: Optional[str] = None
    max_length: Optional[int] = None
    minimum: Optional[float] = None
    maximum: Optional[float] = None
    pattern: Optional[str] = None
    scale: Optional[str] = None
    max_choices: Optional[int] = None
    # shown instead of the standard message when the answer breaks a limit (XLSForm's constraint_message)
    constraint_message: dict[str, str] = field(default_factory=dict)
    # cascading choices: only choices whose filters[column] equals the answer to item, for each {column, item}
    choice_filter: tuple = ()
    # how choices are laid out: likert or horizontal (in a row), minimal (a drop-down list, single only)
    appearance: Optional[str] = None
    # a calculate item's XPath expression over ${key} answers (questionnaires.xpath_eval), computed at submit
    calculation: Optional[str] = None
    # a date item's earliest and latest accepted day: 'yyyy-mm-dd', or 'today' (in Asia/Ho_Chi_Minh, at submit)
    earliest: Optional[str] = None
    latest: Optional[str] = None

    def choice_values(self) -> list[str]:
        return [choice.value for choice in self.choices]

    def offered_choices(self, answers) -> list[Choice]:
        """The choices a cascading filter leaves given the other answers (all of them without a filter)."""
        return [choice for choice in self.choices if all(
            choice.filters.get(rule["column"]) == _as_text(answers.get(rule["item"])) for rule in self.choice_filter)]


def _as_text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)
