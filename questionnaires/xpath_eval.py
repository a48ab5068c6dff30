"""Evaluates a `calculate` item's expression (a tree from questionnaires.xpath) over the answers, as XPath 1.0 does,
for the subset the forms use: arithmetic, comparisons, and/or/not, if(), concat, count-selected, selected,
string-length, number, string, coalesce, round, int, floor, ceiling, abs, true/false and the ODK math functions
(sqrt, pow, exp, log, log10, the trigonometric ones, pi), and ODK's dates: today(), now(), date(),
date-time(), decimal-date-time(), format-date() and format-date-time(). Anything else (paths, other functions) is
found by `unsupported_parts` so that the loader and the importer refuse it.

Values follow XPath: an unanswered question is '', a multiple choice is its values joined by spaces, a number
that cannot be read is NaN. Dates follow ODK (JavaRosa): as a number a date is its days since 1970-01-01 (a
date-time has the fraction of the day), so `today() - ${dob}` is an age in days and dates compare as numbers; a
date answer ('2024-12-25') reads as a date. Today and now are in Asia/Ho_Chi_Minh. The server computes at submit;
the result is stored with the answers.
"""

from __future__ import annotations

import datetime
import math
import re
from typing import Mapping

from questionnaires.xpath import Node

SUPPORTED_FUNCTIONS = frozenset("""
    if concat count-selected selected string-length number string coalesce round int floor ceiling abs not
    true false boolean sqrt exp log log10 sin cos tan asin acos atan atan2 pow pi
    today now date date-time decimal-date-time format-date format-date-time
""".split())
ARITY = {"if": (3, 3), "concat": (1, 64), "selected": (2, 2), "coalesce": (2, 2), "round": (1, 2), "true": (0, 0),
         "false": (0, 0), "pi": (0, 0), "pow": (2, 2), "atan2": (2, 2), "today": (0, 0), "now": (0, 0),
         "format-date": (2, 2), "format-date-time": (2, 2)}  # every other supported function takes one argument
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
    if isinstance(left, (float, datetime.date)) or isinstance(right, (float, datetime.date)):
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
    if isinstance(value, (datetime.date, datetime.datetime)):
        return _days(value)
    try:
        return float(str(value).strip())
    except ValueError:
        as_date = _date_from_text(str(value).strip())
        return math.nan if as_date is None else _days(as_date)


def boolean(value) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        return not (value == 0 or math.isnan(value))
    if isinstance(value, datetime.date):
        return True
    return value != ""


def string(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat(timespec="milliseconds") if isinstance(value, datetime.datetime) else value.isoformat()
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
    "today": lambda: now_in_vietnam().date(), "now": lambda: now_in_vietnam(), "date": lambda value: _to_date(value),
    "date-time": lambda value: _to_date_time(value), "decimal-date-time": lambda value: number(_to_date_time(value)),
    "format-date": lambda value, pattern: format_date(value, string(pattern)),
    "format-date-time": lambda value, pattern: format_date(value, string(pattern)),
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
    if isinstance(value, datetime.date):
        return string(value)
    return value or None


# --- dates, as ODK computes them ------------------------------------------------------------------------------

VIETNAM = datetime.timezone(datetime.timedelta(hours=7), "ICT")  # Asia/Ho_Chi_Minh today: no tz database needed
EPOCH = datetime.date(1970, 1, 1)
# days since EPOCH of 0002-01-01 and 9998-12-31: a zone or a day's arithmetic never steps out of years 1-9999
DAYS_IN_RANGE = ((datetime.date(2, 1, 1) - EPOCH).days, (datetime.date(9998, 12, 31) - EPOCH).days)
ISO_DATE_TIME = re.compile(r"(\d{4})-(\d\d)-(\d\d)(?:T(\d\d):(\d\d)(?::(\d\d)(?:\.(\d{1,6})\d*)?)?"
                           r"(Z|[+-]\d\d:?\d\d)?)?")
MONTH_ABBREVIATIONS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
DAY_ABBREVIATIONS = "Mon Tue Wed Thu Fri Sat Sun".split()


def now_in_vietnam() -> datetime.datetime:
    """The clock today() and now() read (one place, so that a test can set it)."""
    return datetime.datetime.now(VIETNAM)


def _days(value: datetime.date) -> float:
    """Days since 1970-01-01; a date-time in Vietnam's time adds the fraction of its day there."""
    if isinstance(value, datetime.datetime):
        local = value.astimezone(VIETNAM) if value.tzinfo else value
        midnight = datetime.datetime.combine(local.date(), datetime.time(), local.tzinfo)
        return float((local.date() - EPOCH).days) + (local - midnight).total_seconds() / 86400
    return float((value - EPOCH).days)


def _date_from_text(text: str) -> datetime.date | None:
    """A date ('2024-12-25') or a date-time ('2024-12-25T08:30:00+07:00', no zone = Vietnam) written in ISO."""
    match = ISO_DATE_TIME.fullmatch(text)
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    if not 2 <= int(year) <= 9998:  # a zone or a day's arithmetic would step out of Python's years 1-9999
        return None
    try:
        if hour is None:
            return datetime.date(int(year), int(month), int(day))
        return datetime.datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0),
                                 int((fraction or "0").ljust(6, "0")), _zone(zone))
    except ValueError:
        return None


def _zone(text: str | None) -> datetime.tzinfo:
    if text is None:
        return VIETNAM
    if text == "Z":
        return datetime.timezone.utc
    hours, minutes = int(text[1:3]), int(text[-2:])
    offset = datetime.timedelta(hours=hours, minutes=minutes)
    return datetime.timezone(offset if text[0] == "+" else -offset)


def _to_date_time(value) -> datetime.date | str:
    """date-time(): a date or a date-time as it is; a text in ISO read; a number as days since 1970-01-01 (the
    fraction a time of day, in Vietnam); anything else '' (no value), as ODK gives an empty answer."""
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str):
        return _date_from_text(value.strip()) or ""
    days = number(value)
    if not math.isfinite(days) or not DAYS_IN_RANGE[0] <= days <= DAYS_IN_RANGE[1]:
        return ""
    start = datetime.datetime.combine(EPOCH, datetime.time(), VIETNAM)
    return start + datetime.timedelta(days=days)


def _to_date(value) -> datetime.date | str:
    """date(): as date-time(), keeping the day of a date-time."""
    moment = _to_date_time(value)
    if isinstance(moment, datetime.datetime):
        return moment.astimezone(VIETNAM).date() if moment.tzinfo else moment.date()
    return moment


def format_date(value, pattern: str) -> str:
    """ODK's format-date: %Y year, %y two digits, %m month 01-12, %n month 1-12, %b month's short name, %d day
    01-31, %e day 1-31, %H hour 00-23, %h hour 0-23, %M minutes, %S seconds, %3 milliseconds, %a day's short name;
    '' for a value that is not a date."""
    moment = _to_date_time(value)
    if moment == "":
        return ""
    if isinstance(moment, datetime.datetime) and moment.tzinfo:
        moment = moment.astimezone(VIETNAM)
    if not isinstance(moment, datetime.datetime):
        moment = datetime.datetime.combine(moment, datetime.time())
    return re.sub(r"%(.)", lambda match: _date_part(moment, match.group(1)), pattern)


def _date_part(moment: datetime.datetime, letter: str) -> str:
    parts = {"Y": f"{moment.year:04d}", "y": f"{moment.year % 100:02d}", "m": f"{moment.month:02d}",
             "n": str(moment.month), "b": MONTH_ABBREVIATIONS[moment.month - 1], "d": f"{moment.day:02d}",
             "e": str(moment.day), "H": f"{moment.hour:02d}", "h": str(moment.hour), "M": f"{moment.minute:02d}",
             "S": f"{moment.second:02d}", "3": f"{moment.microsecond // 1000:03d}",
             "a": DAY_ABBREVIATIONS[moment.weekday()]}
    return parts.get(letter, letter)
