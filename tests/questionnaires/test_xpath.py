"""The XLSForm expression parser: a tree for every valid expression, an XPathSyntaxError with the column (in
English and Vietnamese) for every invalid one, and nothing else whatever the input."""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies

from questionnaires.xpath import XPathSyntaxError, called_functions, parse, referenced_names

VALID = [
    ". >= 2 and . <= 54",
    "count-selected(.) <= 3",
    "regex(., '^[0-9]{3}$')",
    "selected(${x}, 'a') or not(${y} = '')",
    "instance('c')/root/item[name = current()/../x]",
    "if(${a} > 1, 'x', \"y\")",
    "today() - ${dob} div 365.25",
    "${a} * 2 + -3 mod 4",
    "/data/x = 1 | //y",
    "jr:choice-name(${a}, '${a}')",
    "(((${a})))",
    "@id != .5",
]


@pytest.mark.parametrize("text", VALID)
def test_valid_expressions_parse(text):
    parse(text)


def test_the_tree_names_its_references_and_functions():
    tree = parse("if(count-selected(${pick}) > ${limit}, today(), 0)")
    assert referenced_names(tree) == {"pick", "limit"}
    assert called_functions(tree) == {"if", "count-selected", "today"}
    assert parse("${a} - 2 * 3").children[1].value == "*"  # precedence: * before -
    assert parse("${a} or ${b} and ${c}").value == "or"  # and before or


@pytest.mark.parametrize("text, column, expected", [
    ("${q1} = = 'yes' and (", 9, "expected a value"),
    ("${q3} >>> 5", 8, "expected a value"),
    ("${a} and", 9, "found the end of the expression"),
    ("foo(1)", 1, "'foo' is not an XPath or XForms function"),
    ("${a} = ‘other’", 8, "unexpected character"),
    ("(${a}", 6, "expected ')'"),
    ("${a} ${b}", 6, "unexpected '${b}' after a complete expression"),
    ("${}", 1, "does not hold a question name"),
    ("", 1, "the expression is empty"),
    ("(" * 100 + "1" + ")" * 100, 33, "nesting deeper than 32 levels"),
])
def test_invalid_expressions_name_the_column(text, column, expected):
    with pytest.raises(XPathSyntaxError) as raised:
        parse(text)
    assert str(raised.value).startswith(f"column {column}: ") and expected in str(raised.value)
    assert raised.value.vietnamese.startswith(f"cột {column}: ")


def test_a_long_chain_of_minus_signs_is_no_recursion_error():
    assert parse("- " * 5000 + "1").kind == "number"  # an even number of signs cancels out


TOKENS = strategies.sampled_from(["${a}", "${b}", ".", "..", "/", "//", "(", ")", "[", "]", ",", "=", "!=", "<",
                                  ">=", "+", "-", "*", "div", "mod", "and", "or", "not(", "selected(", "'x'", "1",
                                  "2.5", "@", "|", "name", "today()", " "])


@settings(max_examples=400, deadline=None)
@given(strategies.one_of(strategies.text(max_size=40), strategies.lists(TOKENS, max_size=25).map(" ".join)))
def test_any_text_parses_or_raises_a_syntax_error(text):
    try:
        parse(text)
    except XPathSyntaxError:
        pass
