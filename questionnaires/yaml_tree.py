"""YAML to plain Python values while remembering the line of every value, so problems can say `file:line`."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

import yaml
from yaml.constructor import SafeConstructor

from questionnaires.errors import Code, Problem

Path = tuple  # ("sections", 0, "items", 2, "type")
# A definition nests 5 or 6 levels and holds a few thousand values. Deeper nesting makes PyYAML's composer recurse
# until RecursionError; aliases (*name) let 240 bytes expand into millions of values (a "billion laughs").
MAX_DEPTH = 30
MAX_VALUES = 50_000


class TooManyValues(Exception):
    """Raised inside the conversion once MAX_VALUES values were produced."""


@dataclass
class Document:
    """Plain data of one YAML file plus the line of each path in it; problems found while reading it."""

    file: str
    data: object = None
    lines: dict = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    values: int = 0  # converted so far, aliases counted each time they are expanded

    def line(self, path: Path) -> int:
        """Line of `path`, or of its nearest parent that has one (a missing field is reported at its parent)."""
        while path not in self.lines and path:
            path = path[:-1]
        return self.lines.get(path, 1)

    def report(self, path: Path, code: Code, **values: object) -> None:
        self.problems.append(Problem(self.file, self.line(path), field_name(path), code.format(**values)))


def field_name(path: Path) -> str:
    """`sections[0].items[2].type` for ("sections", 0, "items", 2, "type"); `(file)` for the root."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(file)"


def read_document(text: str, file: str) -> Document:
    """Compose `text` into nodes and convert them; syntax errors and duplicate keys become problems."""
    document = Document(file)
    if too_deep := nesting_problem(text, file):
        document.problems.append(too_deep)
        return document
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
        line = mark.line + 1 if mark else 1
        detail = " ".join(str(getattr(error, "problem", None) or error).split())
        document.problems.append(Problem(file, line, "(file)", Code.YAML_SYNTAX.format(detail=detail)))
        return document
    if root is not None:
        try:
            document.data = _convert(root, (), document, SafeConstructor())
        except TooManyValues:
            document.problems.append(Problem(file, 1, "(file)", Code.YAML_TOO_LARGE.format(limit=MAX_VALUES)))
            document.data = None
    return document


def nesting_problem(text: str, file: str) -> Problem | None:
    """A problem when the YAML nests deeper than MAX_DEPTH, found from the parser's events (which do not
    recurse) before the composer (which does) sees it; a syntax error is left for the composer to report."""
    depth = 0
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    return Problem(file, event.start_mark.line + 1, "(file)", Code.YAML_TOO_DEEP.format(limit=MAX_DEPTH))
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
    except yaml.YAMLError:
        return None
    return None


def _convert(node: yaml.Node, path: Path, document: Document, constructor: SafeConstructor):
    document.values += 1
    if document.values > MAX_VALUES:
        raise TooManyValues
    document.lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        return _convert_mapping(node, path, document, constructor)
    if isinstance(node, yaml.SequenceNode):
        return [_convert(child, path + (index,), document, constructor) for index, child in enumerate(node.value)]
    value = constructor.construct_object(node)
    return unicodedata.normalize("NFC", value) if isinstance(value, str) else value


def _convert_mapping(node: yaml.MappingNode, path: Path, document: Document, constructor: SafeConstructor) -> dict:
    result: dict = {}
    for key_node, value_node in node.value:
        key = constructor.construct_object(key_node) if isinstance(key_node, yaml.ScalarNode) else repr(key_node)
        key = str(key)
        if key in result:
            first_line = document.lines[path + (key,)]
            document.problems.append(Problem(document.file, key_node.start_mark.line + 1, field_name(path + (key,)),
                                             Code.DUPLICATE_YAML_KEY.format(name=key, first_line=first_line)))
            continue
        document.lines[path + (key,)] = key_node.start_mark.line + 1
        result[key] = _convert(value_node, path + (key,), document, constructor)
    return result
