"""XLSForm logic (relevant, constraint) as our show_if and item limits, from the parsed XPath tree.

Each function either returns what keeps the expression's meaning or raises NotKept saying which part cannot be
kept; the importer then refuses the form with that reason rather than storing it without the logic.
"""

from __future__ import annotations

import datetime
import re

from questionnaires import show_if
from questionnaires.xpath import Node

ISO_DAY = re.compile(r"\d{4}-\d\d-\d\d")
ORDERINGS = {"<": "<", "<=": "<=", ">": ">", ">=": ">="}
MIRRORED = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "=", "!=": "!="}


class NotKept(ValueError):
    """The part of an expression (English, Vietnamese) that our questionnaire model cannot express."""

    def __init__(self, english: str, vietnamese: str):
        super().__init__(english)
        self.english, self.vietnamese = english, vietnamese


def describe(node: Node) -> tuple[str, str]:
    """What a node is, for a message: ('the function today()', 'hàm today()')."""
    if node.kind == "call":
        return f"the function {node.value}()", f"hàm {node.value}()"
    if node.kind == "binary":
        for child in node.children:
            if child.kind == "ref":
                return (f"a comparison with the answer to ${{{child.value}}}",
                        f"phép so sánh với câu trả lời ${{{child.value}}}")
            if child.kind == "call":
                return describe(child)
        return f"the operator '{node.value}' here", f"phép '{node.value}' ở đây"
    if node.kind in ("number", "string") or (node.kind == "step" and node.value.lower() in ("true", "false")):
        return "a constant condition", "một điều kiện cố định"
    if node.kind in ("path", "step", "parent", "union"):
        return "an XPath path", "một đường dẫn XPath"
    if node.kind == "context":
        return "'.' (the question's own answer)", "'.' (câu trả lời của chính câu hỏi)"
    if node.kind == "negate":
        return "a negative expression", "một biểu thức âm"
    return f"a lone {node.kind}", f"một giá trị {node.kind} đứng riêng"


def not_kept(node: Node) -> NotKept:
    english, vietnamese = describe(node)
    return NotKept(english, vietnamese)


# --- relevant → show_if ---------------------------------------------------------------------------------------

def relevant_to_show_if(tree: Node, key_of, is_date=lambda name: False) -> str:
    """Canonical show_if text with the same meaning as the relevant; key_of maps an XLSForm name to our key,
    is_date tells a date question (whose answer may be ordered against a day: ISO days order as their text)."""
    return show_if.normalise(_condition(tree, key_of, is_date))


def _condition(node: Node, key_of, is_date) -> str:
    if node.kind == "binary" and node.value in ("and", "or"):  # a or b or c: one flat chain, as show_if writes it
        return f" {node.value} ".join(f"({_condition(operand, key_of, is_date)})"
                                      for operand in _chain(node, node.value))
    if node.kind == "call" and node.value == "not" and len(node.children) == 1:
        return f"not ({_condition(node.children[0], key_of, is_date)})"
    if node.kind == "call" and node.value == "selected" and len(node.children) == 2:
        answer, choice = node.children
        if answer.kind == "ref" and choice.kind in ("string", "number"):
            return f"{_literal(choice)} in {key_of(answer.value)}"
    if node.kind == "ref":  # a bare reference is true when the question has an answer
        return f"answered({key_of(node.value)})"
    if node.kind == "binary" and node.value in MIRRORED:
        emptiness = _emptiness_test(node, key_of)
        return emptiness if emptiness is not None else _comparison(node, key_of, is_date)
    raise not_kept(node)


def _emptiness_test(node: Node, key_of) -> str | None:
    """`count-selected(${x}) > 0`, `string-length(${x}) != 0` (answered) and `… = 0` (not answered): common
    idioms for 'x was answered'; None for any other comparison."""
    measured, number = node.children
    if not (measured.kind == "call" and measured.value in ("count-selected", "string-length")
            and len(measured.children) == 1 and measured.children[0].kind == "ref"
            and number.kind == "number" and number.value == 0):
        return None
    key = key_of(measured.children[0].value)
    if node.value in (">", "!="):
        return f"answered({key})"
    if node.value in ("=", "<="):
        return f"not answered({key})"
    return None


def _chain(node: Node, operator: str) -> list[Node]:
    if node.kind == "binary" and node.value == operator:
        return _chain(node.children[0], operator) + _chain(node.children[1], operator)
    return [node]


def _comparison(node: Node, key_of, is_date) -> str:
    left, right = node.children
    operator = node.value
    if left.kind != "ref" and right.kind == "ref":
        left, right, operator = right, left, MIRRORED[operator]
    if left.kind == "ref" and is_date(left.value):
        right = _day_node(right)
    if left.kind != "ref" or right.kind not in ("ref", "string", "number"):
        raise not_kept(left if left.kind != "ref" else right)
    key = key_of(left.value)
    if right.kind == "string" and right.value == "" and operator in ("=", "!="):
        return f"not answered({key})" if operator == "=" else f"answered({key})"
    other = key_of(right.value) if right.kind == "ref" else _literal(right)
    if operator == "=":
        return f"{key} == {other}"
    if operator == "!=":  # in XPath an empty answer differs from 'x': true, as `not (a == 'x')` is
        return f"not ({key} == {other})"
    if right.kind == "string" and is_date(left.value) and _day(right) is not None:
        return f"{key} {ORDERINGS[operator]} {_literal(right)}"  # a date answer against a day, both yyyy-mm-dd
    if right.kind == "string":  # XPath orders texts as numbers (NaN, false); show_if would compare the letters
        raise NotKept(f"ordering against the text '{right.value}'", f"so sánh thứ tự với chữ '{right.value}'")
    return f"{key} {ORDERINGS[operator]} {other}"


def _day_node(node: Node) -> Node:
    """date('2024-01-01') as the text '2024-01-01' (a date answer compares with it as with a day); others as is."""
    if node.kind == "call" and node.value == "date" and len(node.children) == 1 and node.children[0].kind == "string" \
            and _day(node.children[0]) is not None:
        return Node("string", _day(node.children[0]))
    return node


def _literal(node: Node) -> str:
    if node.kind == "number":
        value = node.value
        return str(int(value)) if float(value).is_integer() else repr(value)
    text = node.value
    if "'" in text and '"' in text:
        raise NotKept(f"the text {text!r} (both kinds of quotes)", f"chuỗi {text!r} (có cả hai loại dấu nháy)")
    return f'"{text}"' if "'" in text else f"'{text}'"


# --- constraint → limits -------------------------------------------------------------------------------------

def constraint_limits(tree: Node, item_type: str) -> dict:
    """{minimum, maximum, pattern, max_length, max_choices} meaning the same as the constraint on an item."""
    limits: dict = {}
    for part in _and_parts(tree):
        _apply_part(part, item_type, limits)
    return limits


def _and_parts(node: Node) -> list[Node]:
    if node.kind == "binary" and node.value == "and":
        return _and_parts(node.children[0]) + _and_parts(node.children[1])
    return [node]


def _apply_part(part: Node, item_type: str, limits: dict) -> None:
    if part.kind == "call" and part.value == "regex" and item_type == "text":
        answer, pattern = part.children if len(part.children) == 2 else (None, None)
        if answer is not None and answer.kind == "context" and pattern.kind == "string":
            limits["pattern"] = pattern.value.removeprefix("^").removesuffix("$")
            return
    if part.kind == "binary" and part.value in ORDERINGS and item_type == "date":
        _date_bound(part, limits)
        return
    if part.kind == "binary" and part.value in ORDERINGS:
        left, right, operator = *part.children, part.value
        if right.kind == "context" or (right.kind == "call" and left.kind == "number"):
            left, right, operator = right, left, MIRRORED[operator]
        if right.kind == "number" and _bound(left, operator, right.value, item_type, limits):
            return
    raise not_kept(part)


def _bound(measured: Node, operator: str, number: float, item_type: str, limits: dict) -> bool:
    """Apply `measured operator number` (. >= 2, string-length(.) <= 20, count-selected(.) <= 3)."""
    if measured.kind == "context" and item_type in ("integer", "decimal"):
        strict = operator in ("<", ">")
        if strict and not (item_type == "integer" and number.is_integer()):
            return False  # the model's limits are inclusive; '. > 2.5' on a decimal has no inclusive bound
        if operator in (">", ">="):
            _tighten(limits, "minimum", number + 1 if strict else number, max)
        else:
            _tighten(limits, "maximum", number - 1 if strict else number, min)
        return True
    if operator not in ("<", "<=") or not number.is_integer():
        return False
    upper = int(number) - (operator == "<")
    argument = measured.children[0].kind if measured.kind == "call" and len(measured.children) == 1 else None
    if measured.value == "string-length" and argument == "context" and item_type == "text":
        _tighten(limits, "max_length", upper, min)
        return True
    if measured.value == "count-selected" and argument == "context" and item_type == "multiple":
        _tighten(limits, "max_choices", upper, min)
        return True
    return False


def _tighten(limits: dict, name: str, value, stricter) -> None:
    limits[name] = stricter(limits[name], value) if name in limits else value


def _date_bound(part: Node, limits: dict) -> None:
    """`. <= today()`, `. >= date('1900-01-01')`, `. > '2020-01-01'` (either way round) as the item's earliest or
    latest day; a strict bound on a fixed day moves it by one day (the limits are inclusive)."""
    left, right, operator = *part.children, part.value
    if right.kind == "context":
        left, right, operator = right, left, MIRRORED[operator]
    day = _day(right) if left.kind == "context" else None
    if day is None:
        raise not_kept(part)
    name, step = ("earliest", 1) if operator in (">", ">=") else ("latest", -1)
    if day == "today" and operator in ("<", ">"):
        raise NotKept(f"'{operator} today()' (a date's limits include the day: write '{operator}= today()')",
                      f"'{operator} today()' (giới hạn ngày tính cả ngày đó: viết '{operator}= today()')")
    if day != "today" and operator in ("<", ">"):
        day = (datetime.date.fromisoformat(day) + datetime.timedelta(days=step)).isoformat()
    if name in limits and "today" in (day, limits[name]) and day != limits[name]:
        raise NotKept("two limits on the same side, one of them today()",
                      "hai giới hạn cùng phía, một trong hai là today()")
    _tighten(limits, name, day, max if name == "earliest" else min)  # ISO days order as their text does


def _day(node: Node) -> str | None:
    """'today' for today(), the ISO day of date('…') or of a text '…' written yyyy-mm-dd; None otherwise."""
    if node.kind == "call" and node.value == "today" and not node.children:
        return "today"
    if node.kind == "call" and node.value == "date" and len(node.children) == 1:
        node = node.children[0]
    if node.kind != "string":
        return None
    try:
        return datetime.date.fromisoformat(node.value.strip()).isoformat()
    except ValueError:
        return None


# --- show_if → relevant (export) -----------------------------------------------------------------------------

MIRRORED_SHOW_IF = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}


def show_if_to_relevant(text: str, multiple_keys: set[str]) -> str:
    """An XPath relevant with the meaning of a show_if. show_if treats an unanswered question as making every
    comparison false; XPath compares it as '', so '!=' and 'not in' are guarded with `${x} != ''`."""
    return _relevant(show_if.parse(text), multiple_keys)


def _relevant(tree, multiple_keys: set[str]) -> str:
    if isinstance(tree, (show_if.Or, show_if.And)):
        joiner = " or " if isinstance(tree, show_if.Or) else " and "
        return joiner.join(_relevant_operand(operand, multiple_keys) for operand in tree.operands)
    if isinstance(tree, show_if.Not):
        return f"not({_relevant(tree.operand, multiple_keys)})"
    if isinstance(tree, show_if.Answered):
        return f"${{{tree.key}}} != ''"
    return _relevant_comparison(tree, multiple_keys)


def _relevant_operand(tree, multiple_keys: set[str]) -> str:
    text = _relevant(tree, multiple_keys)
    return f"({text})" if isinstance(tree, (show_if.Or, show_if.And)) else text


def _relevant_comparison(tree, multiple_keys: set[str]) -> str:
    operator, left, right = tree.operator, tree.left, tree.right
    if operator in ("in", "not in"):
        matched = _membership(left, right, multiple_keys)
        if operator == "in":
            return matched
        answered = left if isinstance(left, show_if.Name) else right
        return f"${{{answered.key}}} != '' and not({matched})"
    if not isinstance(left, show_if.Name):
        left, right, operator = right, left, MIRRORED_SHOW_IF[operator]
    if not isinstance(left, show_if.Name):
        raise ValueError(f"a comparison of two constants ({show_if.to_text(tree)}) has no XLSForm form")
    value = _xpath_value(right)
    if operator == "==":
        guard = f"${{{left.key}}} != '' and " if isinstance(right, show_if.Name) else ""
        return f"{guard}${{{left.key}}} = {value}"
    if operator == "!=":
        return f"${{{left.key}}} != '' and ${{{left.key}}} != {value}"
    if isinstance(right, show_if.Literal) and isinstance(right.value, str) and ISO_DAY.fullmatch(right.value):
        return f"${{{left.key}}} {operator} date('{right.value}')"  # a date answer against a day
    if isinstance(right, show_if.Literal) and isinstance(right.value, str):
        raise ValueError(f"'{show_if.to_text(tree)}' orders texts, which XPath compares as numbers")
    return f"${{{left.key}}} {operator} {value}"


def _membership(left, right, multiple_keys: set[str]) -> str:
    """`'v' in pick` (a multiple-choice answer holds v) or `pick in ['a', 'b']` (the answer is one of them)."""
    if isinstance(right, show_if.Name) and isinstance(left, show_if.Literal):
        values, key = [left.value], right.key
    elif isinstance(left, show_if.Name) and isinstance(right, show_if.ListLiteral):
        values, key = list(right.values), left.key
    else:
        raise ValueError("'in' between two answers has no XLSForm form")
    if key in multiple_keys:
        tests = [f"selected(${{{key}}}, {_xpath_literal(value)})" for value in values]
    else:
        tests = [f"${{{key}}} = {_xpath_literal(value)}" for value in values]
    return tests[0] if len(tests) == 1 else "(" + " or ".join(tests) + ")"


def _xpath_value(node) -> str:
    if isinstance(node, show_if.Name):
        return f"${{{node.key}}}"
    return _xpath_literal(node.value)


def _xpath_literal(value) -> str:
    if isinstance(value, str):
        return f'"{value}"' if "'" in value else f"'{value}'"
    return str(int(value)) if float(value).is_integer() else repr(value)


# --- choice_filter → cascading choices ----------------------------------------------------------------------

def choice_filter_rules(tree: Node, key_of) -> tuple:
    """({column, item}, …) for `column = ${item}` joined by and, in either order."""
    rules = []
    for part in _and_parts(tree):
        if part.kind == "binary" and part.value == "=":
            left, right = part.children
            column, answer = (left, right) if left.kind == "step" else (right, left)
            if column.kind == "step" and not column.children and answer.kind == "ref":
                rules.append({"column": column.value, "item": key_of(answer.value)})
                continue
        raise not_kept(part)
    return tuple(rules)
