"""show_if: parsing, precedence, error messages, safe evaluation, canonical text."""

import json
import pathlib

import pytest

from questionnaires import show_if
from questionnaires.show_if import And, Answered, Compare, Literal, Name, Not, Or, ShowIfSyntaxError

CASES = json.loads((pathlib.Path(__file__).parent / "show_if_cases.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", CASES["evaluate"], ids=lambda case: case["expression"])
def test_shared_evaluation_cases(case):
    assert show_if.evaluate_text(case["expression"], case["answers"]) is case["expected"]


@pytest.mark.parametrize("case", CASES["syntax_errors"], ids=lambda case: case["expression"] or "empty")
def test_shared_syntax_error_cases(case):
    with pytest.raises(ShowIfSyntaxError) as raised:
        show_if.parse(case["expression"])
    assert case["message"] in str(raised.value)


def test_and_binds_tighter_than_or_and_not_tighter_than_and():
    tree = show_if.parse("not a == 1 and b == 2 or answered(c)")
    a_is_1 = Compare("==", Name("a"), Literal(1))
    b_is_2 = Compare("==", Name("b"), Literal(2))
    assert tree == Or((And((Not(a_is_1), b_is_2)), Answered("c")))


def test_parentheses_override_precedence():
    tree = show_if.parse("a == 1 and (b == 2 or c == 3)")
    assert isinstance(tree, And) and isinstance(tree.operands[1], Or)


def test_referenced_keys():
    tree = show_if.parse("a == b or 'x' in c and not answered(d)")
    assert show_if.referenced_keys(tree) == {"a", "b", "c", "d"}


def test_injection_is_only_ever_parsed_never_run(monkeypatch):
    import builtins

    monkeypatch.setattr(builtins, "eval", lambda *args: pytest.fail("eval called"))
    for text in ("__import__('os').system('echo hacked') == 0", "x == __import__", "().__class__ == 1"):
        try:
            result = show_if.evaluate_text(text, {"x": "1", "__import__": "1"})
        except ShowIfSyntaxError:
            continue
        assert isinstance(result, bool)
    assert show_if.evaluate_text("__import__ == 1", {"__import__": "1"}) is True  # just a key name


def test_canonical_text_round_trips():
    for text in ("a==1 or(b==2 and c==3)", "not(a==1 or b==2)", "(a==1 or b==2) or c==3",
                 "x in ['p',\"it's\", 2, -1.5]", "not not answered(a)"):
        canonical = show_if.normalise(text)
        assert show_if.parse(canonical) == show_if.parse(text)
        assert show_if.normalise(canonical) == canonical

