"""The `show_if` expression language: tokenizer, parser to an AST, safe evaluator.

Grammar (lowest precedence first)::

    expression := and_expr ("or" and_expr)*
    and_expr   := not_expr ("and" not_expr)*
    not_expr   := "not" not_expr | "(" expression ")" | "answered" "(" NAME ")" | comparison
    comparison := value ("==" | "!=" | "<" | "<=" | ">" | ">=" | "in" | "not in") value
    value      := NUMBER | STRING | NAME | "[" literal ("," literal)* "]"

Nothing is ever handed to Python's `eval`; the evaluator walks the tree. `show_if.js` implements the same rules.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from operator import ge, gt, le, lt
from typing import Callable, Mapping, Union

KEYWORDS = frozenset({"and", "or", "not", "in", "answered"})
MAX_NESTING = 32  # 'not' and '(' levels; deeper input is a syntax error, never a RecursionError
MAX_NUMBER_LENGTH = 20  # characters of a number literal; longer ones are a syntax error
COMPARISON_OPERATORS = ("==", "!=", "<=", ">=", "<", ">")
ORDERINGS = {"<": lt, "<=": le, ">": gt, ">=": ge}
WHITESPACE = " \t\n\r\f\v"  # ASCII only, as in show_if.js: Python and JavaScript disagree on Unicode spaces
NUMERIC_TEXT = re.compile(r"-?[0-9]+(\.[0-9]+)?")
TOKEN_PATTERN = re.compile(r"""
    (?P<space>[ \t\n\r\f\v]+)
  | (?P<number>-?[0-9]+(?:\.[0-9]+)?)
  | (?P<string>'[^']*'|"[^"]*")
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<operator>==|!=|<=|>=|<|>)
  | (?P<punctuation>[()\[\],])
""", re.VERBOSE)


class ShowIfSyntaxError(ValueError):
    """The expression cannot be parsed; the message names the position and what was expected."""


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    position: int


@dataclass(frozen=True)
class Literal:
    value: Union[int, float, str]


@dataclass(frozen=True)
class ListLiteral:
    values: tuple


@dataclass(frozen=True)
class Name:
    key: str


@dataclass(frozen=True)
class Answered:
    key: str


@dataclass(frozen=True)
class Compare:
    operator: str
    left: object
    right: object


@dataclass(frozen=True)
class Not:
    operand: object


@dataclass(frozen=True)
class And:
    operands: tuple


@dataclass(frozen=True)
class Or:
    operands: tuple


def tokenize(text: str) -> list[Token]:
    """Split `text` into tokens; unknown characters raise with their position."""
    tokens, position = [], 0
    while position < len(text):
        match = TOKEN_PATTERN.match(text, position)
        if match is None:
            raise ShowIfSyntaxError(_unexpected_character(text, position))
        if match.lastgroup != "space":
            tokens.append(Token(match.lastgroup, match.group(), position))
        position = match.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


def _unexpected_character(text: str, position: int) -> str:
    character = text[position]
    if character == "=":
        return f"unexpected '=' at column {position + 1}; use '==' to compare"
    if character in "'\"":
        return f"unterminated string starting at column {position + 1}; close it with {character}"
    return f"unexpected character '{character}' at column {position + 1}"


class _Parser:
    """Recursive-descent parser over a token list; one method per grammar rule."""

    def __init__(self, text: str):
        self.tokens = tokenize(text)
        self.index = 0
        self.depth = 0

    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.current
        self.index += 1
        return token

    def at_word(self, word: str) -> bool:
        return self.current.kind == "name" and self.current.text == word

    def at(self, text: str) -> bool:
        return self.current.kind in ("operator", "punctuation") and self.current.text == text

    def expect(self, text: str) -> Token:
        if not self.at(text):
            self.fail(f"'{text}'")
        return self.advance()

    def fail(self, expected: str):
        token = self.current
        found = "the end of the expression" if token.kind == "end" else f"'{token.text}'"
        raise ShowIfSyntaxError(f"expected {expected} at column {token.position + 1}, found {found}")

    def parse(self):
        tree = self.expression()
        if self.current.kind != "end":
            self.fail("'and', 'or' or the end of the expression")
        return tree

    def expression(self):
        operands = [self.and_expression()]
        while self.at_word("or"):
            self.advance()
            operands.append(self.and_expression())
        return operands[0] if len(operands) == 1 else Or(tuple(operands))

    def and_expression(self):
        operands = [self.not_expression()]
        while self.at_word("and"):
            self.advance()
            operands.append(self.not_expression())
        return operands[0] if len(operands) == 1 else And(tuple(operands))

    def not_expression(self):
        if self.at_word("not") or self.at("("):
            return self.nested()
        if self.at_word("answered"):
            return self.answered()
        return self.comparison()

    def nested(self):
        """'not …' or '( … )', at most MAX_NESTING levels deep."""
        if self.depth == MAX_NESTING:
            token = self.current
            raise ShowIfSyntaxError(f"the expression is nested more than {MAX_NESTING} levels deep at column "
                                    f"{token.position + 1}; simplify it")
        self.depth += 1
        if self.at_word("not"):
            self.advance()
            tree = Not(self.not_expression())
        else:
            self.advance()
            tree = self.expression()
            self.expect(")")
        self.depth -= 1
        return tree

    def answered(self):
        self.advance()
        self.expect("(")
        name = self.name()
        self.expect(")")
        return Answered(name.key)

    def comparison(self):
        left = self.value()
        if self.current.kind == "operator":
            return Compare(self.advance().text, left, self.value())
        if self.at_word("in"):
            self.advance()
            return Compare("in", left, self.value())
        if self.at_word("not") and self.tokens[self.index + 1].text == "in":
            self.index += 2
            return Compare("not in", left, self.value())
        self.fail("a comparison operator (==, !=, <, <=, >, >=, in, not in)")

    def value(self):
        token = self.current
        if token.kind == "punctuation" and token.text == "[":
            return self.list_literal()
        if token.kind in ("number", "string"):
            return Literal(self.literal())
        if token.kind == "name" and token.text not in KEYWORDS:
            return self.name()
        self.fail("an item key, a number, a quoted string or a [list]")

    def name(self) -> Name:
        token = self.current
        if token.kind != "name" or token.text in KEYWORDS:
            self.fail("an item key")
        self.advance()
        return Name(token.text)

    def literal(self):
        token = self.current
        if token.kind == "number":
            if len(token.text) > MAX_NUMBER_LENGTH:
                raise ShowIfSyntaxError(f"the number at column {token.position + 1} is longer than "
                                        f"{MAX_NUMBER_LENGTH} characters")
            self.advance()
            return float(token.text) if "." in token.text else int(token.text)
        if token.kind == "string":
            self.advance()
            return token.text[1:-1]
        self.fail("a number or a quoted string")

    def list_literal(self) -> ListLiteral:
        self.expect("[")
        values = [] if self.at("]") else [self.literal()]
        while self.at(","):
            self.advance()
            values.append(self.literal())
        self.expect("]")
        return ListLiteral(tuple(values))


def parse(text: str):
    """Parse `text` into an AST; raises ShowIfSyntaxError with a column and what was expected."""
    if not isinstance(text, str) or not text.strip(WHITESPACE):
        raise ShowIfSyntaxError("the expression is empty")
    return _Parser(text).parse()


@functools.lru_cache(maxsize=1024)
def referenced_keys(tree) -> frozenset[str]:
    """Every item key the expression reads, used for unknown-key and cycle checks and, on every submission, to
    judge visibility (hence cached: trees are frozen, so hashable)."""
    if isinstance(tree, (Name, Answered)):
        return frozenset({tree.key})
    if isinstance(tree, Compare):
        return referenced_keys(tree.left) | referenced_keys(tree.right)
    if isinstance(tree, Not):
        return referenced_keys(tree.operand)
    if isinstance(tree, (And, Or)):
        return frozenset().union(*(referenced_keys(operand) for operand in tree.operands))
    return frozenset()


# --- evaluation -------------------------------------------------------------------------------------------------

def evaluate(tree, answers: Mapping[str, object]) -> bool:
    """Truth of a parsed expression given answers (clean values or raw form strings)."""
    return compiled(tree)(answers)


@functools.lru_cache(maxsize=1024)
def compiled(tree) -> Callable[[Mapping[str, object]], bool]:
    """The expression as a function of the answers, built once per tree: a definition keeps its conditions' functions,
    so judging visibility on each submission walks no tree and hashes none."""
    if isinstance(tree, (Or, And)):
        operands = tuple(compiled(operand) for operand in tree.operands)
        if isinstance(tree, Or):
            return lambda answers: any(operand(answers) for operand in operands)
        return lambda answers: all(operand(answers) for operand in operands)
    if isinstance(tree, Not):
        operand = compiled(tree.operand)
        return lambda answers: not operand(answers)
    if isinstance(tree, Answered):
        key = tree.key
        return lambda answers: _answer(answers, key) is not None
    operator, left, right = tree.operator, _value_function(tree.left), _value_function(tree.right)
    return lambda answers: _compare(operator, left(answers), right(answers))


def _value_function(node) -> Callable[[Mapping[str, object]], object]:
    if isinstance(node, Name):
        key = node.key
        return lambda answers: _answer(answers, key)
    if isinstance(node, ListLiteral):
        values = node.values
        return lambda answers: list(values)
    value = node.value
    return lambda answers: value


def evaluate_text(text: str, answers: Mapping[str, object]) -> bool:
    """Parse and evaluate in one step (for tests and one-off checks)."""
    return evaluate(parse(text), answers)


def _answer(answers: Mapping[str, object], key: str):
    """The answer to `key`, or None when unanswered (missing, empty text, empty list)."""
    value = answers.get(key)
    if value is None or value == "" or value == [] or value == ():
        return None
    if isinstance(value, (list, tuple)):
        return [element for element in value]
    return value


def _as_number(value):
    """A number for int/float or numeric text, else None; booleans are not numbers."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str) and NUMERIC_TEXT.fullmatch(value.strip(WHITESPACE)):
        return float(value.strip(WHITESPACE))
    return None


def _equal(left, right) -> bool:
    left_number, right_number = _as_number(left), _as_number(right)
    if left_number is not None and right_number is not None:
        return left_number == right_number
    return str(left) == str(right)


def _order(operator: str, left, right) -> bool:
    left_number, right_number = _as_number(left), _as_number(right)
    if left_number is not None and right_number is not None:
        left, right = left_number, right_number
    elif left_number is not None or right_number is not None:
        return False  # a number and a word (such as 'na') have no order
    else:
        left, right = str(left), str(right)  # by code point; show_if.js compares code points too
    return ORDERINGS[operator](left, right)


def _contains(left, right) -> bool:
    container = right if isinstance(right, list) else [right]
    elements = left if isinstance(left, list) else [left]
    return any(_equal(element, member) for element in elements for member in container)


def _compare(operator: str, left, right) -> bool:
    """Apply `operator`; anything compared with an unanswered item is false (also for != and not in)."""
    if left is None or right is None:
        return False
    if operator == "in":
        return _contains(left, right)
    if operator == "not in":
        return not _contains(left, right)
    if isinstance(left, list) or isinstance(right, list):
        return False  # use 'in' for multiple-choice answers and lists
    if operator == "==":
        return _equal(left, right)
    if operator == "!=":
        return not _equal(left, right)
    return _order(operator, left, right)


# --- canonical text ---------------------------------------------------------------------------------------------

def to_text(tree) -> str:
    """Canonical text of a tree: single spaces, minimal parentheses; parse(to_text(t)) == t."""
    if isinstance(tree, Or):
        return " or ".join(_grouped(operand, (Or,)) for operand in tree.operands)
    if isinstance(tree, And):
        return " and ".join(_grouped(operand, (Or, And)) for operand in tree.operands)
    if isinstance(tree, Not):
        return "not " + _grouped(tree.operand, (Or, And))
    if isinstance(tree, Answered):
        return f"answered({tree.key})"
    if isinstance(tree, Compare):
        return f"{_value_text(tree.left)} {tree.operator} {_value_text(tree.right)}"
    raise TypeError(f"not an expression node: {tree!r}")


def _grouped(tree, needs_parentheses: tuple) -> str:
    text = to_text(tree)
    return f"({text})" if isinstance(tree, needs_parentheses) else text


def _value_text(node) -> str:
    if isinstance(node, Name):
        return node.key
    if isinstance(node, ListLiteral):
        return "[" + ", ".join(_literal_text(value) for value in node.values) + "]"
    return _literal_text(node.value)


def _literal_text(value) -> str:
    if isinstance(value, str):
        return f'"{value}"' if "'" in value else f"'{value}'"
    return repr(value)


def normalise(text: str) -> str:
    """Canonical text of an expression, so formatting does not change a definition's content hash."""
    return to_text(parse(text))
