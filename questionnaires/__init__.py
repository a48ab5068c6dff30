"""Questionnaire definitions: model, YAML loader with file:line problems, show_if, answer validation, scoring map.

A pure library (stdlib + pyyaml, openpyxl for XLSForm import): no web and no database.
"""

from questionnaires.errors import DefinitionError, Problem
from questionnaires.loader import load_definition, parse_definition
from questionnaires.model import Choice, Criterion, Factor, Item, Questionnaire, Repeat, Scoring, Section
from questionnaires.shipped import load_shipped, shipped_paths

__all__ = [
    "Choice",
    "Criterion",
    "DefinitionError",
    "Factor",
    "Item",
    "Problem",
    "Questionnaire",
    "Repeat",
    "Scoring",
    "Section",
    "load_definition",
    "load_shipped",
    "parse_definition",
    "shipped_paths",
]
