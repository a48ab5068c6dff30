"""The expression language of XLSForm cells (relevant, constraint, calculation, choice_filter): XPath 1.0 with
`${name}` references, parsed into a tree so that the importer can keep an expression or say exactly why not.

    expression := or_expr
    or_expr    := and_expr ("or" and_expr)*
    and_expr   := equality ("and" equality)*
    equality   := relational (("=" | "!=") relational)*
    relational := additive (("<" | "<=" | ">" | ">=") additive)*
    additive   := multiplicative (("+" | "-") multiplicative)*
    multiplicative := unary (("*" | "div" | "mod") unary)*
    unary      := "-" unary | union
    union      := path ("|" path)*
    path       := primary predicate* (("/" | "//") relative)? | "/" relative? | "//" relative | relative
    primary    := "${" NAME "}" | STRING | NUMBER | "(" expression ")" | NAME "(" (expression ("," expression)*)? ")"
    relative   := step (("/" | "//") step)*
    step       := "." | ".." | "@"? (NAME | "*") predicate*
    predicate  := "[" expression "]"

A syntax error is an XPathSyntaxError naming the column (1-based) and what was expected. Nothing is evaluated here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

EXPECTED_VALUE = "expected a value, a reference ${name}, a function or '('"
EXPECTED_VALUE_VI = "cần một giá trị, một tham chiếu ${tên}, một hàm hoặc '('"
MAX_NESTING = 32  # '(', function and predicate levels; deeper input is a syntax error, never a RecursionError
TOKEN_PATTERN = re.compile(r"""
    (?P<space>\s+)
  | (?P<reference>\$\{[^}]*\})
  | (?P<number>[0-9]+(?:\.[0-9]*)?|\.[0-9]+)
  | (?P<string>'[^']*'|"[^"]*")
  | (?P<operator>!=|<=|>=|//|\.\.|[=<>+\-*|/.@,()\[\]])
  | (?P<name>[A-Za-z_][\w.\-]*(?::[A-Za-z_][\w.\-]*)?)
""", re.VERBOSE)
REFERENCE_NAME = re.compile(r"[A-Za-z_][\w.\-]*")
# XPath 1.0 and the ODK XForms functions (https://getodk.github.io/xforms-spec/#xpath-functions)
FUNCTIONS = frozenset("""
    boolean boolean-from-string ceiling concat contains count count-non-empty count-selected current date
    date-time decimal-date-time decimal-time digest distance area ends-with false floor format-date
    format-date-time id if indexed-repeat instance int jr:choice-name choice-name join last local-name max min
    name namespace-uri normalize-space not now number once position pow random randomize regex round selected
    selected-at starts-with string string-length substr substring substring-after substring-before sum
    translate true uuid today log log10 abs sin cos tan asin acos atan atan2 sqrt exp exp10 pi coalesce
    checklist weighted-checklist boolean-from-string base64-decode extract-signed geofence lang pulldata
    sum date-time-from-string true false position
""".split())


class XPathSyntaxError(ValueError):
    """The expression cannot be parsed; the message names the column and what was expected (`vietnamese` too)."""

    def __init__(self, column: int, english: str, vietnamese: str):
        super().__init__(f"column {column}: {english}")
        self.vietnamese = f"cột {column}: {vietnamese}"


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    column: int  # 1-based, for messages


@dataclass(frozen=True)
class Node:
    """One node of the tree: kind is ref, string, number, call, binary, negate, path, union, context, parent.
    `value` holds the name, literal, operator or path text; `children` the operands or arguments."""

    kind: str
    value: object = None
    children: tuple = ()


def tokenize(text: str) -> list[Token]:
    tokens, position = [], 0
    while position < len(text):
        match = TOKEN_PATTERN.match(text, position)
        if match is None:
            raise XPathSyntaxError(position + 1, f"unexpected character {text[position]!r}",
                                   f"ký tự không dùng được {text[position]!r}")
        if match.lastgroup != "space":
            tokens.append(Token(match.lastgroup, match.group(), position + 1))
        position = match.end()
    return tokens


def references(text: str) -> list[tuple[str, int]]:
    """(name, column) of every `${name}` in the text, even when the text does not parse: a wrong name is worth
    reporting next to a syntax error."""
    return [(match.group(1), match.start() + 1) for match in re.finditer(r"\$\{([^}]*)\}", text)]


def parse(text: str) -> Node:
    tokens = tokenize(text)
    if not tokens:
        raise XPathSyntaxError(1, "the expression is empty", "biểu thức trống")
    parser = _Parser(tokens, len(text))
    tree = parser.expression()
    if parser.position < len(tokens):
        token = tokens[parser.position]
        raise XPathSyntaxError(token.column, f"unexpected '{token.text}' after a complete expression",
                               f"thừa '{token.text}' sau một biểu thức đã trọn vẹn")
    return tree


def referenced_names(tree: Node) -> set[str]:
    names = {tree.value} if tree.kind == "ref" else set()
    for child in tree.children:
        names |= referenced_names(child)
    return names


def called_functions(tree: Node) -> set[str]:
    names = {tree.value} if tree.kind == "call" else set()
    for child in tree.children:
        names |= called_functions(child)
    return names


class _Parser:
    """Recursive descent over the token list; each method parses one rule of the grammar above."""

    def __init__(self, tokens: list[Token], length: int):
        self.tokens, self.length, self.position, self.depth = tokens, length, 0, 0

    def peek(self, offset: int = 0) -> Token | None:
        index = self.position + offset
        return self.tokens[index] if index < len(self.tokens) else None

    def at(self, *texts: str) -> bool:
        token = self.peek()
        return token is not None and token.kind in ("operator", "name") and token.text in texts

    def take(self) -> Token:
        token = self.peek()
        self.position += 1
        return token

    def expect(self, text: str) -> Token:
        if not self.at(text):
            self.fail(f"expected '{text}'", f"cần '{text}'")
        return self.take()

    def fail(self, expected: str, expected_vi: str):
        token = self.peek()
        if token is None:
            raise XPathSyntaxError(self.length + 1, f"{expected}, found the end of the expression",
                                   f"{expected_vi}, nhưng biểu thức đã hết")
        raise XPathSyntaxError(token.column, f"{expected}, found '{token.text}'", f"{expected_vi}, gặp '{token.text}'")

    def binary(self, operators: tuple, operand) -> Node:
        left = operand()
        while self.at(*operators):
            operator = self.take().text
            left = Node("binary", operator, (left, operand()))
        return left

    def expression(self) -> Node:
        self.depth += 1
        if self.depth > MAX_NESTING:
            self.fail(f"nesting deeper than {MAX_NESTING} levels", f"lồng quá {MAX_NESTING} cấp")
        try:
            return self.binary(("or",), self.and_expr)
        finally:
            self.depth -= 1

    def and_expr(self) -> Node:
        return self.binary(("and",), self.equality)

    def equality(self) -> Node:
        return self.binary(("=", "!="), self.relational)

    def relational(self) -> Node:
        return self.binary(("<", "<=", ">", ">="), self.additive)

    def additive(self) -> Node:
        return self.binary(("+", "-"), self.multiplicative)

    def multiplicative(self) -> Node:
        return self.binary(("*", "div", "mod"), self.unary)

    def unary(self) -> Node:
        signs = 0
        while self.at("-"):  # a loop, not recursion: '- - - … 1' must not exhaust the stack
            self.take()
            signs += 1
        operand = self.union()
        return Node("negate", None, (operand,)) if signs % 2 else operand

    def union(self) -> Node:
        left = self.path()
        while self.at("|"):
            self.take()
            left = Node("union", None, (left, self.path()))
        return left

    def path(self) -> Node:
        token = self.peek()
        if token is None:
            self.fail(EXPECTED_VALUE, EXPECTED_VALUE_VI)
        if token.kind in ("reference", "string", "number") or self.at("(") or self.is_function_call():
            primary = self.primary()
            steps = self.predicates()
            if self.at("/", "//"):
                return Node("path", "filtered", (primary, *steps, self.relative_after_slash()))
            return Node("path", "filtered", (primary, *steps)) if steps else primary
        if self.at("/"):
            self.take()
            if self.starts_step():
                return Node("path", "/", (self.relative(),))
            return Node("path", "/")
        if self.at("//"):
            self.take()
            return Node("path", "//", (self.relative(),))
        if self.starts_step():
            return self.relative()
        self.fail(EXPECTED_VALUE, EXPECTED_VALUE_VI)

    def is_function_call(self) -> bool:
        token, following = self.peek(), self.peek(1)
        return (token.kind == "name" and following is not None and following.text == "("
                and token.text not in ("and", "or", "div", "mod"))

    def starts_step(self) -> bool:
        token = self.peek()
        return token is not None and (token.kind == "name" or self.at(".", "..", "@", "*"))

    def relative_after_slash(self) -> Node:
        separator = self.take().text
        return Node("path", separator, (self.relative(),))

    def relative(self) -> Node:
        steps = [self.step()]
        while self.at("/", "//"):
            steps.append(Node("separator", self.take().text))
            steps.append(self.step())
        return steps[0] if len(steps) == 1 else Node("path", "relative", tuple(steps))

    def step(self) -> Node:
        if self.at("."):
            self.take()
            return Node("context")
        if self.at(".."):
            self.take()
            return Node("parent")
        attribute = self.take().text if self.at("@") else ""
        token = self.peek()
        if token is None or not (token.kind == "name" or self.at("*")):
            self.fail("expected a name or '*' in a path", "cần một tên hoặc '*' trong đường dẫn")
        self.take()
        return Node("step", attribute + token.text, tuple(self.predicates()))

    def predicates(self) -> list[Node]:
        found = []
        while self.at("["):
            self.take()
            found.append(Node("predicate", None, (self.expression(),)))
            self.expect("]")
        return found

    def primary(self) -> Node:
        token = self.take()
        if token.kind == "reference":
            name = token.text[2:-1].strip()
            if not REFERENCE_NAME.fullmatch(name):
                raise XPathSyntaxError(token.column, f"'{token.text}' does not hold a question name",
                                       f"'{token.text}' không chứa tên câu hỏi")
            return Node("ref", name)
        if token.kind == "string":
            return Node("string", token.text[1:-1])
        if token.kind == "number":
            return Node("number", float(token.text))
        if token.text == "(":
            inner = self.expression()
            self.expect(")")
            return inner
        return self.call(token)

    def call(self, name: Token) -> Node:
        if name.text not in FUNCTIONS:
            raise XPathSyntaxError(name.column, f"'{name.text}' is not an XPath or XForms function",
                                   f"'{name.text}' không phải hàm XPath hay XForms")
        self.expect("(")
        arguments = []
        if not self.at(")"):
            arguments.append(self.expression())
            while self.at(","):
                self.take()
                arguments.append(self.expression())
        self.expect(")")
        return Node("call", name.text, tuple(arguments))
