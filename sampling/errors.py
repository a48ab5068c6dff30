"""One error type for the sampling library, carrying bilingual problems."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input: where it is, and what, in Vietnamese and English."""

    where: str
    message_vi: str
    message_en: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message_en} / {self.message_vi}"


class SamplingError(ValueError):
    """Raised when a draw, allocation or frame is refused; `problems` lists every reason found."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))


def refuse(where: str, message_vi: str, message_en: str) -> SamplingError:
    """Build a SamplingError with a single problem (callers `raise refuse(...)`)."""
    return SamplingError([Problem(where, message_vi, message_en)])


def raise_if_any(problems: list[Problem]) -> None:
    """Raise one SamplingError listing all problems, so the user can fix them in one pass."""
    if problems:
        raise SamplingError(problems)
