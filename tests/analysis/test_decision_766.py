"""Decision 766's satisfaction group scored from its definition file: hand-computed shares and points."""

from __future__ import annotations

import pytest

from analysis import decision_766


def test_components_score_max_points_times_the_satisfied_share_of_valid_ratings():
    rule = decision_766.load_definition()
    answers = [{"reception": 5, "publicity": 4, "timeliness": 2, "attitude": "na"},
               {"reception": 3, "publicity": 5, "timeliness": 4, "attitude": 1},
               {"reception": 4, "publicity": "na", "timeliness": 5, "attitude": 5},
               {"reception": "na", "publicity": None, "attitude": "x"}]
    counts = decision_766.count_ratings(rule, answers)
    assert counts == {"reception_guidance": (3, 2), "publicity": (2, 2), "timeliness": (3, 2), "attitude": (2, 1)}
    scored = decision_766.score(rule, counts)
    by_key = {entry["key"]: entry for entry in scored["components"]}
    # By hand: 2 points × 2/3, 2 × 2/2, 2 × 2/3, 2 × 1/2
    assert by_key["reception_guidance"]["satisfied_percent"] == pytest.approx(66.67)
    assert by_key["reception_guidance"]["points"] == pytest.approx(4 / 3, abs=1e-4)
    assert by_key["publicity"]["points"] == 2.0 and by_key["attitude"]["points"] == 1.0
    assert scored["points"] == pytest.approx(4 / 3 + 2 + 4 / 3 + 1, abs=1e-3) and scored["max_points"] == 8.0


def test_a_component_without_a_valid_rating_leaves_the_group_empty():
    rule = decision_766.load_definition()
    scored = decision_766.score(rule, decision_766.count_ratings(rule, [{"reception": 5, "publicity": "na"}]))
    assert scored["points"] is None and scored["components"][1]["points"] is None


def test_the_rule_lives_in_the_definition_file(tmp_path):
    text = decision_766.DEFINITION_PATH.read_text(encoding="utf-8")
    changed = tmp_path / "rule.yaml"
    changed.write_text(text.replace("satisfied_values: [4, 5]", "satisfied_values: [5]")
                       .replace("max_points: 2", "max_points: 5", 1), encoding="utf-8")
    rule = decision_766.load_definition(changed)
    scored = decision_766.score(rule, decision_766.count_ratings(rule, [{"reception": 4}, {"reception": 5}]))
    assert scored["components"][0]["points"] == 2.5 and scored["components"][0]["max_points"] == 5.0
    assert "rất hài lòng" in rule.rule["vi"]
