"""The definitions this product ships, in `questionnaires/definitions/*.yaml`."""

from __future__ import annotations

import pathlib

from questionnaires.loader import load_definition
from questionnaires.model import Questionnaire

DEFINITIONS_FOLDER = pathlib.Path(__file__).parent / "definitions"


def shipped_paths() -> list[pathlib.Path]:
    """Paths of the shipped definition files, sorted by name."""
    return sorted(DEFINITIONS_FOLDER.glob("*.yaml"))


def load_shipped() -> dict[str, Questionnaire]:
    """Questionnaire key → its latest shipped version (highest version, compared number by number)."""
    latest: dict[str, Questionnaire] = {}
    for path in shipped_paths():
        questionnaire = load_definition(path)
        current = latest.get(questionnaire.key)
        if current is None or version_order(questionnaire.version) > version_order(current.version):
            latest[questionnaire.key] = questionnaire
    return latest


def version_order(version: str) -> tuple:
    """Sort key for versions such as "2", "2024.1" or "1.10": numeric parts compare as numbers."""
    parts = version.replace("-", ".").split(".")
    return tuple((0, int(part), "") if part.isdecimal() else (1, 0, part) for part in parts)
