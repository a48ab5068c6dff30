"""`calculate` items: the evaluator follows XPath 1.0 for the supported subset; the loader refuses what it cannot
compute; the server computes at submit (a posted value is ignored), also for show_if; the XLSForm export round
trips through pyxform; paper neither prints nor keys it."""

from __future__ import annotations

import math

import pytest
from pyxform.xls2xform import convert

from questionnaires import DefinitionError, load_definition, xpath
from questionnaires.paper import item_numbers, keyed_to_raw
from questionnaires.xlsform import load_xlsform
from questionnaires.xlsform_export import export_xlsform
from questionnaires.xpath_eval import evaluate, stored, unsupported_parts
from tests.questionnaires.forms import form_yaml, section

CALCULATED = form_yaml("calc", section("""
    - {key: adults, type: integer, label: {vi: Người lớn, en: Adults}}
    - {key: children, type: integer, label: {vi: Trẻ em, en: Children}}
    - {key: pets, type: multiple, label: {vi: Vật nuôi, en: Pets},
       choices: [{value: cho, label: {vi: Chó, en: Dog}}, {value: meo, label: {vi: Mèo, en: Cat}}]}
    - {key: household, type: calculate, calculation: "${adults} + coalesce(${children}, 0)",
       label: {vi: Số người, en: People}}
    - {key: big, type: calculate, calculation: "if(${household} >= 5, 'lon', 'nho')", label: {vi: Hộ lớn, en: Big}}
    - {key: pet_count, type: calculate, calculation: "count-selected(${pets})", label: {vi: Số loài, en: Kinds}}
    - {key: why_big, type: text, show_if: "big == 'lon'", label: {vi: "Vì sao ${household} người?", en: Why}}
"""))


@pytest.mark.parametrize("expression, value", [
    ("1 + 2 * 3 - 4 div 2", 5), ("7 mod 3", 1), ("round(2.5)", 3), ("round(-2.5)", -2), ("round(3.14159, 2)", 3.14),
    ("int(-3.7)", -3), ("${a} > 1 and not(${b} = 'x')", "true"), ("${a} < 1 or ${b} = 'x'", "false"),
    ("concat('a', ${a}, ${none})", "a4"), ("string-length(${b})", 1), ("selected(${m}, 'y')", "true"),
    ("count-selected(${m})", 2), ("number('abc')", None), ("${a} div 0", None), ("coalesce(${none}, ${a})", 4),
    ("if(${none} = '', 'blank', 'set')", "blank"), ("${a} = '4'", "true"), ("-${a}", -4), ("1.5 + 1", 2.5),
    ("round(15 div (sqrt(cos(atan(${a} div 100)))), 2)", 15.01), ("pow(2, 10)", 1024), ("sqrt(-1)", None),
])
def test_the_evaluator_follows_xpath(expression, value):
    answers = {"a": 4, "b": "y", "m": ["x", "y"]}
    assert stored(evaluate(xpath.parse(expression), answers)) == value
    assert math.isnan(evaluate(xpath.parse("${none} + 1"), answers))  # an unanswered number is NaN, as in XPath


def test_what_it_cannot_compute_is_named():
    assert unsupported_parts(xpath.parse("uuid() + /data/x")) == ["a path", "the function uuid()"]
    assert unsupported_parts(xpath.parse("if(1, 2)")) == ["if() with 2 arguments"]


def test_the_server_computes_calculations_and_a_condition_may_read_them():
    definition = load_definition(CALCULATED)
    clean, errors = definition.validate_answers({"adults": "4", "children": "2", "pets": ["cho", "meo"],
                                                 "household": "99", "why_big": "Ông bà ở cùng"})
    assert errors == {}
    assert clean == {"adults": 4, "children": 2, "pets": ["cho", "meo"], "household": 6, "big": "lon", "pet_count": 2,
                     "why_big": "Ông bà ở cùng"}
    small, _ = definition.validate_answers({"adults": "2", "why_big": "x"})
    assert small == {"adults": 2, "household": 2, "big": "nho", "pet_count": 0}
    assert "why_big" in definition.conditions_on_calculations


@pytest.mark.parametrize("change, words", [
    ("", "'calculation'"),
    ('calculation: "uuid()"', "the function uuid() is not supported"),
    ('calculation: "${nosuch} + 1"', "'nosuch', which is not an item key"),
    ('calculation: "${household} + 1"', "cannot depend on its own answer"),
    ('calculation: "${adults} + + "', "cannot be computed"),
])
def test_the_loader_refuses_what_cannot_be_computed(change, words):
    text = CALCULATED.replace('calculation: "${adults} + coalesce(${children}, 0)",', change + "," if change else "")
    with pytest.raises(DefinitionError) as raised:
        load_definition(text)
    assert words in str(raised.value)


def test_a_calculate_round_trips_through_pyxform_and_is_not_on_paper(tmp_path):
    definition = load_definition(CALCULATED)
    path = tmp_path / "calc.xlsx"
    path.write_bytes(export_xlsform(definition))
    converted = convert(xlsform=str(path), validate=False)
    assert 'calculate=" /data/s/adults  + coalesce( /data/s/children , 0)"' in converted.xform and not converted.warnings
    back, _ = load_xlsform(path)
    assert back.to_dict() == definition.to_dict()
    assert item_numbers(definition) == {"adults": 1, "children": 2, "pets": 3, "why_big": 4}
    raw, errors = keyed_to_raw(definition, {"adults": "5", "household": "1"})
    assert errors == {} and "household" not in raw
