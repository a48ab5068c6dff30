"""Evaluates a `calculate` item's expression (a tree from questionnaires.xpath) over the answers, as XPath 1.0 does,
for the subset the forms use: arithmetic, comparisons, and/or/not, if(), concat, count-selected, selected,
string-length, number, string, coalesce, round, int, floor, ceiling, abs, true/false and the ODK math functions
(sqrt, pow, exp, log, log10, the trigonometric ones, pi). Anything else (paths, other
functions) is found by `unsupported_parts` so that the loader and the importer refuse it.

Values follow XPath: an unanswered question is '', a multiple choice is its values joined by spaces, a number
that cannot be read is NaN. The server computes at submit; the result is stored with the answers.
"""

from __future__ import annotations

import math
from typing import Mapping

from questionnaires.xpath import Node

SUPPORTED_FUNCTIONS = frozenset("""
    if concat count-selected selected string-length number string coalesce round int floor ceiling abs not
    true false boolean sqrt exp log log10 sin cos tan asin acos atan atan2 pow pi
""".split())
ARITY = {"if": (3, 3), "concat": (1, 64), "selected": (2, 2), "coalesce": (2, 2), "round": (1, 2), "true": (0, 0),
         "false": (0, 0), "pi": (0, 0), "pow": (2, 2), "atan2": (2, 2)}  # every other supported function takes one argument
ARITHMETIC = {"+", "-", "*", "div", "mod"}
ORDER = {"<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}


def unsupported_parts(tree: Node) -> list[str]:
    """What the evaluator cannot compute, in words (`the function today()`, `a path`); empty when all is fine."""
    found: list[str] = []
    _walk(tree, found)
    return sorted(set(found))


def _walk(node: Node, found: list[str]) -> None:
    if node.kind == "call" and node.value not in SUPPORTED_FUNCTIONS:
        found.append(f"the function {node.value}()")
    elif node.kind == "call" and not ARITY.get(node.value, (1, 1))[0] <= len(node.children) <= \
            ARITY.get(node.value, (1, 1))[1]:
        found.append(f"{node.value}() with {len(node.children)} arguments")
    elif node.kind in ("path", "union", "context", "parent"):
        found.append("a path")
    for child in node.children:
        if isinstance(child, Node):
            _walk(child, found)


def evaluate(tree: Node, answers: Mapping[str, object]) -> object:
    """The value of `tree` given answers by key: a number (float), a string or a bool."""
    kind = tree.kind
    if kind == "ref":
        return _answer(answers.get(tree.value))
    if kind == "string":
        return tree.value
    if kind == "number":
        return float(tree.value)
    if kind == "negate":
        return -number(evaluate(tree.children[0], answers))
    if kind == "binary":
        return _binary(tree.value, tree.children, answers)
    if kind == "call":
        return _call(tree.value, [child for child in tree.children], answers)
    raise ValueError(f"cannot evaluate {kind}")


def _answer(value) -> object:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return " ".join(str(part) for part in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return float(value)
    return str(value)


def _binary(operator: str, children: tuple, answers) -> object:
    if operator in ("or", "and"):
        left = boolean(evaluate(children[0], answers))
        if (operator == "or") == left:  # short-circuit as XPath does
            return left
        return boolean(evaluate(children[1], answers))
    left, right = evaluate(children[0], answers), evaluate(children[1], answers)
    if operator in ARITHMETIC:
        return _arithmetic(operator, number(left), number(right))
    if operator in ORDER:
        return ORDER[operator](number(left), number(right))
    equal = _equal(left, right)
    return equal if operator == "=" else not equal


def _arithmetic(operator: str, left: float, right: float) -> float:
    if operator == "+":
        return left + right
    if operator == "-":
        return left - right
    if operator == "*":
        return left * right
    if right == 0 or math.isnan(right):
        return math.nan if operator == "mod" or left == 0 or math.isnan(left) else math.copysign(math.inf, left)
    return left / right if operator == "div" else math.fmod(left, right)


def _equal(left, right) -> bool:
    if isinstance(left, bool) or isinstance(right, bool):
        return boolean(left) == boolean(right)
    if isinstance(left, float) or isinstance(right, float):
        return number(left) == number(right)
    return left == right


def _call(name: str, arguments: list, answers) -> object:
    if name == "if":
        condition, yes, no = arguments
        return evaluate(yes if boolean(evaluate(condition, answers)) else no, answers)
    values = [evaluate(argument, answers) for argument in arguments]
    if name == "concat":
        return "".join(string(value) for value in values)
    if name == "count-selected":
        return float(len(string(values[0]).split()))
    if name == "selected":
        return string(values[1]) in string(values[0]).split()
    if name == "string-length":
        return float(len(string(values[0])))
    if name == "coalesce":
        return values[0] if string(values[0]) != "" else values[1]
    if name == "round":
        return _round(number(values[0]), int(number(values[1])) if len(values) > 1 else 0)
    return SIMPLE_FUNCTIONS[name](*values)


def _round(value: float, places: int) -> float:
    """XPath round: halves go up (round(-2.5) is -2), unlike Python's banker's rounding."""
    if math.isnan(value) or math.isinf(value):
        return value
    factor = 10.0 ** places
    return math.floor(value * factor + 0.5) / factor


def number(value) -> float:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, float):
        return value
    try:
        return float(str(value).strip())
    except ValueError:
        return math.nan


def boolean(value) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        return not (value == 0 or math.isnan(value))
    return value != ""


def string(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        return str(int(value)) if value.is_integer() else repr(value)
    return value


SIMPLE_FUNCTIONS = {
    "number": number, "string": string, "boolean": boolean, "not": lambda value: not boolean(value),
    "true": lambda: True, "false": lambda: False, "int": lambda value: float(math.trunc(number(value)))
    if math.isfinite(number(value)) else number(value),
    "floor": lambda value: float(math.floor(number(value))) if math.isfinite(number(value)) else number(value),
    "ceiling": lambda value: float(math.ceil(number(value))) if math.isfinite(number(value)) else number(value),
    "abs": lambda value: abs(number(value)), "pi": lambda: math.pi,
    "pow": lambda base, power: _math(math.pow, base, power), "atan2": lambda y, x: _math(math.atan2, y, x),
    **{name: (lambda function: lambda value: _math(function, value))(getattr(math, name))
       for name in ("sqrt", "exp", "log", "log10", "sin", "cos", "tan", "asin", "acos", "atan")},
}


def _math(function, *values) -> float:
    """A math function on numbers; NaN where it is undefined (sqrt(-1), log(0)), as XPath engines give."""
    try:
        return float(function(*(number(value) for value in values)))
    except (ValueError, OverflowError):
        return math.nan


def stored(value) -> object:
    """How a result is kept with the answers: a whole number as int, a number as float, a bool as "true"/"false",
    text as text; NaN, infinity and '' as no value (None)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return int(value) if value.is_integer() else value
    return value or None
