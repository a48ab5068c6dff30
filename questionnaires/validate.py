"""`validate_files(paths)`: every problem of several definition files, for `survey validate FILE…`."""

from __future__ import annotations

import pathlib
from typing import Iterable

from questionnaires.errors import Code, DefinitionError, Problem
from questionnaires.loader import parse_definition, read_source
from questionnaires.model import Questionnaire


def validate_files(paths: Iterable) -> list[Problem]:
    """Problems of YAML definitions and XLSForm workbooks (.xlsx, .xls), plus versions defined twice differently.

    Returns an empty list when every file is valid; never raises for a bad file.
    """
    problems: list[Problem] = []
    loaded: list[tuple[str, Questionnaire]] = []
    for path in map(pathlib.Path, paths):
        questionnaire, file_problems = validate_file(path)
        problems.extend(file_problems)
        if questionnaire is not None:
            loaded.append((str(path), questionnaire))
    return problems + duplicate_version_problems(loaded)


def validate_file(path: pathlib.Path) -> tuple[Questionnaire | None, list[Problem]]:
    """(questionnaire or None, problems) of one file."""
    if path.suffix.lower() in (".xlsx", ".xlsm", ".xls"):
        return _validate_workbook(path)
    try:
        text, file = read_source(path)
    except DefinitionError as error:
        return None, error.problems
    return parse_definition(text, file)


def _validate_workbook(path: pathlib.Path) -> tuple[Questionnaire | None, list[Problem]]:
    from questionnaires.xlsform import load_xlsform

    try:
        questionnaire, _notes = load_xlsform(path)
    except DefinitionError as error:
        return None, error.problems
    return questionnaire, []


def duplicate_version_problems(loaded: list[tuple[str, Questionnaire]]) -> list[Problem]:
    """The same key and version with different content in two files is ambiguous."""
    problems, first_seen = [], {}
    for file, questionnaire in loaded:
        identity = (questionnaire.key, questionnaire.version)
        if identity not in first_seen:
            first_seen[identity] = (file, questionnaire)
            continue
        other_file, other = first_seen[identity]
        if other.content_hash != questionnaire.content_hash:
            message = Code.DUPLICATE_VERSION.format(version=questionnaire.version, key=questionnaire.key,
                                                    other=other_file)
            problems.append(Problem(file, _version_line(file), "version", message))
    return problems


def _version_line(file: str) -> int:
    """Line of the top-level `version:` field, 1 when it cannot be found (for example in a workbook)."""
    try:
        lines = pathlib.Path(file).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return 1
    return next((number for number, line in enumerate(lines, 1) if line.startswith("version:")), 1)
