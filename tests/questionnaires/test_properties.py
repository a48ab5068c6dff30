"""Property tests (hypothesis): show_if parsing and evaluation, and answer validation, never crash.

show_if: any text either parses or raises ShowIfSyntaxError (nothing else); a parsed tree evaluates to a bool for
any answers; well-formed expressions always parse, and their canonical text round-trips.
validate_answers: for the shipped definitions and the every-type fixture, any mapping of strings / lists / None
returns (clean, errors) with errors keyed by item keys and clean values of each item type's documented shape.
"""

import datetime
import json
import math
import os
import pathlib
import re
import shutil
import subprocess
import unicodedata

import pytest

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from questionnaires import load_definition, load_shipped, show_if
from questionnaires.answers import CODE_TEXT
from questionnaires.show_if import ShowIfSyntaxError
from questionnaires.standard import DEFAULT_CODE_LENGTH, DEFAULT_TEXT_LENGTH, NOT_APPLICABLE

# No example database: the checkout is shared, and a failing example is printed by hypothesis anyway.
BOUNDED = settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
KEYS = ["a", "b", "c", "q1", "answered_x", "not_", "_x"]

# --- show_if -----------------------------------------------------------------------------------------------------

TOKENS = ["a", "b", "c", "q1", "1", "-2.5", "0", "'x'", "'na'", '"it\'s"', "==", "!=", "<", "<=", ">", ">=", "in",
          "not", "and", "or", "answered", "(", ")", "[", "]", ",", "=", "'", '"', "#", ".", ";", "__import__",
          "12345678901234567890123", "\t", "\n", "é", "١", "\u00a0", "\x1c"]
token_soup = st.lists(st.sampled_from(TOKENS), max_size=16).map(" ".join) | st.lists(
    st.sampled_from(TOKENS), max_size=16).map("".join)

texts_without_quotes = st.text(st.characters(codec="utf-8", exclude_characters="'\""), max_size=8)
number_literal = (st.integers(-10**6, 10**6).map(str)
                  | st.decimals(-1000, 1000, places=2, allow_nan=False, allow_infinity=False).map(str))
string_literal = texts_without_quotes.map(lambda text: f"'{text}'") | texts_without_quotes.map(
    lambda text: f'"{text}"')
literal = number_literal | string_literal
key = st.sampled_from(KEYS)
value = key | literal | st.lists(literal, max_size=4).map(lambda items: "[" + ", ".join(items) + "]")
operator = st.sampled_from(["==", "!=", "<", "<=", ">", ">=", "in", "not in"])
space = st.sampled_from(["", " ", "  ", "\t"])


@st.composite
def comparison(draw):
    return f"{draw(value)}{draw(space)} {draw(operator)} {draw(space)}{draw(value)}"


atom = comparison() | key.map(lambda name: f"answered({name})") | key.map(lambda name: f"answered( {name} )")
well_formed = st.recursive(
    atom,
    lambda inner: (st.tuples(inner, st.sampled_from([" and ", " or ", " and\n", "  or  "]), inner).map("".join)
                   | inner.map(lambda text: f"not {text}")
                   | inner.map(lambda text: f"({text})")
                   | inner.map(lambda text: f"not({text})")),
    max_leaves=12,
)

SPACES = ["", " ", "\t", "\n", "\x1c", "\x85", "\u00a0", "\ufeff", "\u2028", "\u3000"]  # ASCII and Unicode
answer_text = st.sampled_from(["", " ", "1", "2", "2.0", " 3 ", "-1.5", "na", "x", "it's", "2024-03-05", "١",
                               "1e3", "inf", "nan"]) | st.text(max_size=6) | st.tuples(
    st.sampled_from(SPACES), number_literal, st.sampled_from(SPACES)).map("".join)
answer_value = st.none() | answer_text | st.integers(-5, 10) | st.floats(allow_nan=False, allow_infinity=False) | (
    st.lists(answer_text, max_size=3))
answers = st.dictionaries(key, answer_value, max_size=len(KEYS))


def parse_or_syntax_error(text):
    """The tree, or None for a ShowIfSyntaxError; any other exception fails the test."""
    try:
        return show_if.parse(text)
    except ShowIfSyntaxError as error:
        assert str(error)
        return None


@BOUNDED
@given(text=st.text(max_size=40) | token_soup, answers=answers)
def test_any_text_parses_or_raises_only_the_syntax_error(text, answers):
    tree = parse_or_syntax_error(text)
    if tree is not None:
        assert isinstance(show_if.evaluate(tree, answers), bool)
        assert show_if.parse(show_if.to_text(tree)) == tree


@BOUNDED
@given(text=well_formed, answers=answers)
def test_well_formed_expressions_parse_and_evaluate_to_a_bool(text, answers):
    tree = show_if.parse(text)
    result = show_if.evaluate(tree, answers)
    assert isinstance(result, bool)
    canonical = show_if.to_text(tree)
    assert show_if.parse(canonical) == tree
    assert show_if.normalise(canonical) == canonical
    assert show_if.evaluate_text(canonical, answers) is result
    assert show_if.evaluate(show_if.Not(tree), answers) is (not result)
    assert show_if.referenced_keys(tree) <= set(KEYS)


@BOUNDED
@given(text=well_formed, answers=answers)
def test_only_referenced_answers_matter(text, answers):
    tree = show_if.parse(text)
    noise = {"zz_unrelated": "1", "and": "x", "__class__": ["y"]}
    assert show_if.evaluate(tree, {**answers, **noise}) is show_if.evaluate(tree, answers)


@BOUNDED
@given(text=well_formed)
def test_every_comparison_with_no_answers_is_false(text):
    tree = show_if.parse(text)
    for node in _comparisons(tree):
        if show_if.referenced_keys(node):
            assert show_if.evaluate(node, {}) is False



@BOUNDED
@given(before=st.text(st.characters(categories=["Zs", "Zl", "Zp", "Cc", "Cf"]), max_size=3),
       number=number_literal,
       after=st.text(st.characters(categories=["Zs", "Zl", "Zp", "Cc", "Cf"]), max_size=3),
       operator=operator)
def test_numbers_with_any_surrounding_space_compare_without_error(before, number, after, operator):
    result = show_if.evaluate_text(f"a {operator} 1", {"a": before + number + after})
    assert isinstance(result, bool)
    if before.strip(show_if.WHITESPACE) == "" and after.strip(show_if.WHITESPACE) == "" and operator == "==":
        assert result is (float(number) == 1)  # ASCII spaces are trimmed, other spaces make it text

def _comparisons(tree):
    if isinstance(tree, show_if.Compare):
        yield tree
    for child in getattr(tree, "operands", ()) + ((tree.operand,) if isinstance(tree, show_if.Not) else ()):
        yield from _comparisons(child)


# --- the page script gives the same results ----------------------------------------------------------------------

SCRIPT = pathlib.Path(__file__).parents[2] / "questionnaires" / "show_if.js"
BATCH_RUNNER = """
const showIf = require(process.argv[1]);
const cases = JSON.parse(require("fs").readFileSync(0, "utf8"));
console.log(JSON.stringify(cases.map(function (c) {
  try { return showIf.evaluate(c.expression, c.answers); }
  catch (error) { if (error.name === "ShowIfSyntaxError") return "syntax error"; throw error; }
})));
"""


def python_result(expression, answers):
    try:
        return show_if.evaluate_text(expression, answers)
    except ShowIfSyntaxError:
        return "syntax error"


@settings(max_examples=40, deadline=None, database=None)  # one node process per example, 1-40 cases each
@given(cases=st.lists(st.tuples(well_formed | token_soup | st.text(max_size=20), answers), min_size=1,
                      max_size=40))
def test_page_script_agrees_with_python_on_generated_cases(cases):
    node = shutil.which("node") or shutil.which("nodejs")
    if node is None:
        if os.environ.get("CI"):
            pytest.fail("node is needed to test questionnaires/show_if.js (apt-get install nodejs)")
        pytest.skip("node is not installed")
    payload = json.dumps([{"expression": expression, "answers": values} for expression, values in cases])
    output = subprocess.run([node, "-e", BATCH_RUNNER, str(SCRIPT)], input=payload, check=True,
                            capture_output=True, text=True).stdout
    for (expression, values), result in zip(cases, json.loads(output)):
        assert result == python_result(expression, values), (expression, values)


# --- validate_answers --------------------------------------------------------------------------------------------

EVERY_TYPE = load_definition(pathlib.Path(__file__).parent / "data" / "every_type.yaml")
QUESTIONNAIRES = {**load_shipped(), EVERY_TYPE.key: EVERY_TYPE}
PLAUSIBLE = ["1", "2", "5", "6", "0", "na", "NA", " 4 ", "-3", "3,5", "3.5", "1e9", "nan", "inf", "١٢", "²",
             "0x10", "18", "99", "100", "31/12/2024", "31/02/2024", "2024-12-25", "5-3-2024", "SO_TU_PHAP",
             "000.00.19.H12-240305-0001", "abc def", "700000", "Hà Nội", "Cafe\u0301", "x" * 70, "\x00", "  "]


def raw_answers(questionnaire):
    """Random raw form fields for a questionnaire: per item nothing, None, text or a list; plus unknown fields."""
    choice_values = sorted({value for item in questionnaire.items for value in item.choice_values()})
    text = st.sampled_from(PLAUSIBLE + choice_values) | st.text(max_size=12)
    field = st.none() | text | st.lists(text, max_size=4) | st.lists(st.sampled_from(choice_values or ["x"]),
                                                                     max_size=5)
    keys = st.sampled_from([item.key for item in questionnaire.items] + ["csrf_token", "unknown"])
    return st.dictionaries(keys, field)


@st.composite
def questionnaire_and_answers(draw):
    questionnaire = QUESTIONNAIRES[draw(st.sampled_from(sorted(QUESTIONNAIRES)))]
    return questionnaire, draw(raw_answers(questionnaire)), draw(st.sampled_from(["vi", "en", "fr"]))


def check_clean_value(item, value):
    """The documented clean shape of each item type (docs/questionnaires.md, Answers)."""
    if item.type == "rating5":
        assert value == NOT_APPLICABLE or (type(value) is int and 1 <= value <= 5)
    elif item.type == "single":
        assert isinstance(value, str) and value in item.choice_values()
    elif item.type == "multiple":
        assert isinstance(value, list) and value and all(isinstance(element, str) for element in value)
        assert value == [choice for choice in item.choice_values() if choice in value]  # definition order, unique
        assert item.max_choices is None or len(value) <= item.max_choices
    elif item.type in ("integer", "decimal"):
        assert type(value) is (int if item.type == "integer" else float)
        assert math.isfinite(value)
        assert item.minimum is None or value >= item.minimum
        assert item.maximum is None or value <= item.maximum
    elif item.type == "text":
        assert isinstance(value, str) and value == value.strip() and value
        assert unicodedata.is_normalized("NFC", value)
        assert len(value) <= (item.max_length or DEFAULT_TEXT_LENGTH)
        assert item.pattern is None or re.fullmatch(item.pattern, value)
    elif item.type == "date":
        assert datetime.date.fromisoformat(value).isoformat() == value
    else:  # unit, domain, dossier_code
        assert isinstance(value, str)
        if item.choices:
            assert value in item.choice_values()
        else:
            assert CODE_TEXT.fullmatch(value) and len(value) <= (item.max_length or DEFAULT_CODE_LENGTH)


def as_raw(value):
    """A clean value as a form would submit it again."""
    if isinstance(value, list):
        return list(value)
    if isinstance(value, float):
        return format(value, "f")
    return str(value)


@BOUNDED
@given(case=questionnaire_and_answers())
def test_validate_answers_never_crashes_and_returns_documented_shapes(case):
    questionnaire, raw, lang = case
    clean, errors = questionnaire.validate_answers(raw, lang=lang)
    assert isinstance(clean, dict) and isinstance(errors, dict)
    keys = {item.key for item in questionnaire.items}
    assert set(clean) <= keys and set(errors) <= keys and not set(clean) & set(errors)
    assert all(isinstance(message, str) and message and unicodedata.is_normalized("NFC", message)
               for message in errors.values())
    for key, value in clean.items():
        check_clean_value(questionnaire.item(key), value)
    visible = questionnaire.visible_keys(clean)
    assert set(clean) <= visible and set(errors) <= visible
    for item in questionnaire.items:
        if item.required and item.key in visible:
            assert item.key in clean or item.key in errors


@BOUNDED
@given(case=questionnaire_and_answers())
def test_clean_answers_validate_to_themselves(case):
    questionnaire, raw, lang = case
    clean, errors = questionnaire.validate_answers(raw, lang=lang)
    again, errors_again = questionnaire.validate_answers({key: as_raw(value) for key, value in clean.items()}, lang)
    assert again == clean
    assert set(errors_again) <= set(errors)

