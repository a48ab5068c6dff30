"""The subtraction rule on a unit tree: a province P above a district H above a commune X (answers of each unit
itself in `counts`), threshold 5."""

from __future__ import annotations

import pytest

from survey_app.suppression import leaves_too_few, too_few_to_publish

CHILDREN = {"P": ["H"], "H": ["X"]}


@pytest.mark.parametrize("whole,parts,withheld", [
    (4, [], True), (5, [], False), (7, [5], True), (10, [5], False), (10, [5, 5], False), (7, [2], False),
    (12, [5, 5], True),
])
def test_a_group_beside_its_parts(whole, parts, withheld):
    assert leaves_too_few(whole, parts, 5) is withheld


def test_a_parent_whose_own_few_answers_its_child_would_expose_is_withheld():
    counts = {"H": 2, "X": 5}
    assert too_few_to_publish("H", counts, CHILDREN, 5) and not too_few_to_publish("X", counts, CHILDREN, 5)


def test_a_withheld_child_does_not_cover_its_own_answers_for_the_grandparent():
    """H is withheld (its 2 beside X's 5); P's 7 beside X's 5 would give H's 2 away just the same."""
    assert too_few_to_publish("P", {"H": 2, "X": 5}, CHILDREN, 5)
    assert not too_few_to_publish("P", {"P": 5, "H": 2, "X": 5}, CHILDREN, 5)  # P's own 5 hide H's 2
    assert not too_few_to_publish("P", {"H": 5, "X": 5}, CHILDREN, 5)
