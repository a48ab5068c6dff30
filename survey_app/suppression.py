"""Which figures of officials' answers a page may show (Decree 13/2023 privacy; the threshold is SUPPRESS_BELOW).

A group with fewer answers than the threshold shows no figure. A group shown beside parts of itself must also not
give away, by subtraction, the few answers that no shown part covers: with a parent of 7 answers and a child of 5
both shown, 7·P − 5·C gives the parent's own 2 away. Applied to officials' (invitation) campaigns; citizens'
answers only follow the plain threshold.
"""

from __future__ import annotations

from collections.abc import Iterable


def leaves_too_few(whole: int, parts: Iterable[int], minimum: int) -> bool:
    """A group of `whole` answers shown beside `parts` of it (each shown when it has at least `minimum`): fewer
    than `minimum` answers, or the shown parts leave fewer than `minimum` (but some) of its answers uncovered."""
    shown_apart = sum(part for part in parts if part >= minimum)
    return whole < minimum or 0 < whole - shown_apart < minimum


def too_few_to_publish(unit, counts: dict, children: dict, minimum: int) -> bool:
    """A unit's figure covers it and the units below it, as each child's does (`counts`: answers of each unit
    itself): leaves_too_few with the children as the parts. A child withheld itself counts only by what its own
    published parts cover: beside a grandchild of 5, a grandparent of 7 would give away a withheld child's 2."""
    whole, covered = _published_cover(unit, counts, children, minimum)
    return whole < minimum or covered < whole


def _published_cover(unit, counts: dict, children: dict, minimum: int) -> tuple[int, int]:
    """(answers in the unit and below, how many of them published figures cover: all of them when the unit's
    figure is published, else what its children's published figures cover)."""
    below = [_published_cover(child, counts, children, minimum) for child in children.get(unit, [])]
    whole = counts.get(unit, 0) + sum(total for total, _ in below)
    covered = [part for _, part in below]
    return whole, (sum(covered) if leaves_too_few(whole, covered, minimum) else whole)
