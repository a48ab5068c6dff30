"""Versions (immutable once answered, comparable items) and validate_files for `survey validate`."""

from questionnaires import load_definition, shipped_paths
from questionnaires.validate import validate_files
from questionnaires.versions import comparable_items, version_problems
from tests.questionnaires.forms import demo_yaml

VERSION_1 = demo_yaml("""
    - {key: q1, type: rating5, label: {vi: Một, en: One}}
    - {key: q2, type: rating5, label: {vi: Hai, en: Two}}
    - {key: q3, type: text, label: {vi: Ba, en: Three}}
""")


def version_2(comparable: str = '\ncomparable_with: {version: "1", items: [q1, q3]}\n') -> str:
    changed = VERSION_1.replace('version: "1"', 'version: "2"').replace("{vi: Hai, en: Two}",
                                                                        "{vi: Hai mới, en: New two}")
    return changed.replace("type: text", "type: integer") + comparable


def test_an_answered_version_cannot_change():
    old = load_definition(VERSION_1)
    edited = load_definition(VERSION_1.replace("{vi: Một, en: One}", "{vi: Một!, en: One!}"))
    (problem,) = version_problems(old, edited, old_has_responses=True)
    assert "already has responses and cannot change" in problem
    assert version_problems(old, edited, old_has_responses=False) == []
    assert version_problems(old, load_definition(VERSION_1), old_has_responses=True) == []


def test_new_version_must_state_comparable_items():
    old = load_definition(VERSION_1)
    (problem,) = version_problems(old, load_definition(version_2("")), old_has_responses=True)
    assert "does not say which items are comparable" in problem


def test_comparable_item_must_be_the_same_question():
    old, new = load_definition(VERSION_1), load_definition(version_2())
    (problem,) = version_problems(old, new, old_has_responses=True)
    assert problem == "comparable item 'q3' changed its type or answer values since version '1'; give it a new key."
    assert comparable_items(old, new) == ["q1", "q3"]


def test_comparable_items_default_to_unchanged_questions():
    old, new = load_definition(VERSION_1), load_definition(version_2(""))
    assert comparable_items(old, new) == ["q1", "q2"]


def test_validate_files_accepts_the_shipped_definitions():
    assert validate_files(shipped_paths()) == []


def test_validate_files_collects_problems_of_every_file(tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text(VERSION_1, encoding="utf-8")
    clash = tmp_path / "clash.yaml"
    clash.write_text(VERSION_1.replace("Một", "Khác"), encoding="utf-8")
    broken = tmp_path / "broken.yaml"
    broken.write_text(VERSION_1.replace("type: text", "type: txt"), encoding="utf-8")
    missing = tmp_path / "missing.yaml"
    problems = [str(problem) for problem in validate_files([good, clash, broken, missing])]
    assert problems[0].startswith(f"{broken}:10: sections[0].items[2].type: unknown item type 'txt'")
    assert problems[1].startswith(f"{missing}:1: (file): cannot read the file")
    assert problems[2] == (f"{clash}:2: version: version '1' of 'demo' is also defined in {good} with different "
                           "content. Give one of them a new version.")
    assert len(problems) == 3
