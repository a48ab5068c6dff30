"""The province's PAR INDEX as data: its structure (fields → criteria → sub-criteria, ids, maximum points, how each
is scored) and the points a unit got for the criteria scored outside the officials' survey.

The province issues its index by its own decision, so the structure is a file (CSV or XLSX), not code:

    id,parent,title,max_points,scored_by,survey_criteria
    1,,Công tác chỉ đạo điều hành CCHC,10,,
    1.1,1,Kế hoạch CCHC năm,3,self_assessment,
    1.2,1,Đánh giá của công chức về công tác chỉ đạo,2,survey,reform_plan;reform_communication

`scored_by` (leaves only): `self_assessment` (the unit's self-assessment as appraised by the council),
`appraisal` (scored by the appraisal council directly) or `survey` (the officials' survey, through the survey
criteria of the questionnaire's scoring map named in `survey_criteria`). A parent's maximum is the sum of its
children's. Every problem is reported with its spreadsheet row (header = row 1), in Vietnamese.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

SCORED_BY = ("self_assessment", "appraisal", "survey")
STRUCTURE_COLUMNS = ("id", "parent", "title", "max_points", "scored_by", "survey_criteria")
POINTS_COLUMNS = ("unit", "id", "points")
MAX_DEPTH = 3  # field → criterion → sub-criterion


class ParIndexFileError(ValueError):
    """A structure or points file with bad rows; ``problems`` lists them all as 'dòng N: …'."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems[:10]) + (f"; … và {len(problems) - 10} lỗi khác" if len(problems) > 10 else ""))


@dataclass(frozen=True)
class Node:
    id: str
    parent: str | None
    title: str
    max_points: float
    scored_by: str | None  # leaves only
    survey_criteria: tuple[str, ...]
    row: int


@dataclass(frozen=True)
class IndexStructure:
    """The index's nodes in file order; leaves carry the points."""

    nodes: dict[str, Node]

    @property
    def leaves(self) -> list[Node]:
        parents = {node.parent for node in self.nodes.values()}
        return [node for node in self.nodes.values() if node.id not in parents]

    def field_of(self, node_id: str) -> str:
        node = self.nodes[node_id]
        while node.parent is not None:
            node = self.nodes[node.parent]
        return node.id

    @property
    def fields(self) -> list[Node]:
        return [node for node in self.nodes.values() if node.parent is None]


def structure_from_scoring(scoring: dict) -> IndexStructure:
    """Without a province file: the scoring map's factors as fields and its criteria as survey-scored leaves."""
    nodes, row = {}, 0
    for factor in scoring.get("factors", []):
        row += 1
        criteria = [criterion for criterion in factor.get("criteria", []) if criterion.get("max_points") is not None]
        nodes[factor["key"]] = Node(factor["key"], None, factor["key"],
                                    float(sum(criterion["max_points"] for criterion in criteria)), None, (), row)
        for criterion in criteria:
            row += 1
            nodes[criterion["key"]] = Node(criterion["key"], factor["key"], criterion["key"],
                                           float(criterion["max_points"]), "survey", (criterion["key"],), row)
    return IndexStructure(nodes)


def read_table(path: str | Path) -> pd.DataFrame:
    path = Path(path)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return pd.read_excel(path, dtype=object)
    if path.suffix.lower() == ".csv":
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    raise ParIndexFileError([f"{path.name}: cần tệp .csv hoặc .xlsx"])


def read_structure(path: str | Path, survey_criteria: set[str]) -> IndexStructure:
    return parse_structure(read_table(path), survey_criteria)


def parse_structure(table: pd.DataFrame, survey_criteria: set[str]) -> IndexStructure:
    """Check a raw structure table against the scoring map's survey criteria; every problem by row."""
    rows = _rows(table, STRUCTURE_COLUMNS, required=("id", "max_points"))
    problems, nodes = [], {}
    for row_number, values in rows:
        node, row_problems = _node(row_number, values, nodes)
        problems += [f"dòng {row_number}: {problem}" for problem in row_problems]
        if node is not None:
            nodes[node.id] = node
    if not problems:
        problems = _structure_problems(IndexStructure(nodes), survey_criteria)
    if problems:
        raise ParIndexFileError(problems)
    if not nodes:
        raise ParIndexFileError(["tệp không có dòng số liệu nào"])
    return IndexStructure(nodes)


def _node(row_number: int, values: dict, known: dict) -> tuple[Node | None, list[str]]:
    problems = []
    node_id, parent = values["id"], values["parent"] or None
    if node_id in known:
        problems.append(f"mã {node_id!r} đã có ở dòng {known[node_id].row}")
    if parent is not None and parent not in known:
        problems.append(f"mã cha {parent!r} chưa được khai báo ở một dòng phía trên")
    elif parent is not None and _depth(parent, known) >= MAX_DEPTH:
        problems.append(f"quá {MAX_DEPTH} cấp (lĩnh vực → tiêu chí → tiêu chí thành phần)")
    max_points = _number(values["max_points"])
    if max_points is None or max_points <= 0:
        problems.append(f"điểm tối đa {values['max_points']!r} phải là một số dương")
    scored_by = values["scored_by"] or None
    if scored_by is not None and scored_by not in SCORED_BY:
        problems.append(f"cách chấm {scored_by!r} phải là một trong {', '.join(SCORED_BY)}")
    criteria = tuple(key.strip() for key in values["survey_criteria"].split(";") if key.strip())
    if problems:
        return None, problems
    return Node(node_id, parent, values["title"] or node_id, max_points, scored_by, criteria, row_number), []


def _depth(node_id: str, known: dict) -> int:
    depth = 1
    while known[node_id].parent is not None:
        node_id, depth = known[node_id].parent, depth + 1
    return depth


def _structure_problems(structure: IndexStructure, survey_criteria: set[str]) -> list[str]:
    """What only the whole file shows: leaves without a scoring, parents whose maximum is not their children's
    sum, survey criteria that are unknown or used twice."""
    problems, leaves, mapped = [], {node.id for node in structure.leaves}, {}
    for node in structure.nodes.values():
        children = [child for child in structure.nodes.values() if child.parent == node.id]
        where = f"dòng {node.row}: {node.id}"
        if node.id in leaves:
            problems += _leaf_problems(node, where, survey_criteria, mapped)
        elif node.scored_by or node.survey_criteria:
            problems.append(f"{where} có tiêu chí con: chỉ chấm điểm ở tiêu chí cuối cùng, để trống cách chấm")
        elif abs(sum(child.max_points for child in children) - node.max_points) > 1e-9:
            problems.append(f"{where}: điểm tối đa {node.max_points:g} khác tổng điểm tối đa của các tiêu chí con "
                            f"({sum(child.max_points for child in children):g})")
    return problems


def _leaf_problems(node: Node, where: str, survey_criteria: set[str], mapped: dict) -> list[str]:
    if node.scored_by is None:
        return [f"{where}: thiếu cách chấm ({', '.join(SCORED_BY)})"]
    if node.scored_by != "survey":
        return [f"{where}: chỉ tiêu chí chấm bằng điều tra xã hội học (survey) mới ghi survey_criteria"] \
            if node.survey_criteria else []
    if not node.survey_criteria:
        return [f"{where}: tiêu chí chấm bằng điều tra xã hội học cần survey_criteria (mã tiêu chí của phiếu hỏi)"]
    problems = []
    for key in node.survey_criteria:
        if key not in survey_criteria:
            problems.append(f"{where}: {key!r} không phải tiêu chí của phiếu hỏi")
        elif key in mapped:
            problems.append(f"{where}: {key!r} đã được dùng cho tiêu chí {mapped[key]}")
        else:
            mapped[key] = node.id
    return problems


def read_points(path: str | Path, structure: IndexStructure, units: set[str]) -> pd.DataFrame:
    return parse_points(read_table(path), structure, units)


def parse_points(table: pd.DataFrame, structure: IndexStructure, units: set[str]) -> pd.DataFrame:
    """Self-assessment (appraised) and appraisal points, columns ``unit, id, points``: every problem by row."""
    problems, records, seen = [], [], {}
    for row_number, values in _rows(table, POINTS_COLUMNS, required=POINTS_COLUMNS):
        unit, node_id, points = values["unit"], values["id"], _number(values["points"])
        row_problems = _points_problems(unit, node_id, points, values["points"], structure, units)
        if (unit, node_id) in seen:
            row_problems.append(f"đơn vị {unit} và tiêu chí {node_id} đã có ở dòng {seen[(unit, node_id)]}")
        seen.setdefault((unit, node_id), row_number)
        problems += [f"dòng {row_number}: {problem}" for problem in row_problems]
        if not row_problems:
            records.append({"unit": unit, "id": node_id, "points": points})
    if problems:
        raise ParIndexFileError(problems)
    if not records:
        raise ParIndexFileError(["tệp không có dòng số liệu nào"])
    return pd.DataFrame(records, columns=list(POINTS_COLUMNS))


def _points_problems(unit, node_id, points, raw_points, structure: IndexStructure, units: set[str]) -> list[str]:
    problems = [] if unit in units else [f"đơn vị {unit!r} không có trong danh sách đơn vị của tỉnh"]
    node = structure.nodes.get(node_id)
    if node is None:
        problems.append(f"tiêu chí {node_id!r} không có trong bộ chỉ số")
    elif node not in structure.leaves:
        problems.append(f"tiêu chí {node_id} có tiêu chí con: ghi điểm cho từng tiêu chí con")
    elif node.scored_by == "survey":
        problems.append(f"tiêu chí {node_id} được chấm bằng điều tra xã hội học, không nhập điểm")
    if points is None:
        problems.append(f"điểm {raw_points!r} không phải là số")
    elif points < 0:
        problems.append(f"điểm {points:g} là số âm")
    elif node is not None and points > node.max_points + 1e-9:
        problems.append(f"điểm {points:g} vượt điểm tối đa {node.max_points:g} của tiêu chí {node_id}")
    return problems


def _rows(table: pd.DataFrame, columns: tuple[str, ...], required: tuple[str, ...]):
    """(spreadsheet row number, {column: text}) for every non-blank row; a missing column is row 1's problem."""
    table = table.rename(columns=lambda name: str(name).strip().lower())
    missing = [column for column in required if column not in table.columns]
    if missing:
        raise ParIndexFileError([f"dòng 1: thiếu cột {', '.join(missing)}; cần các cột {', '.join(columns)}"])
    for offset, raw in enumerate(table.to_dict("records")):
        values = {column: _text(raw.get(column)) for column in columns}
        if any(values.values()):
            yield offset + 2, values


def _text(value) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return str(value).strip()


def _number(text: str) -> float | None:
    try:
        value = float(text.replace(",", ".")) if text else None
    except ValueError:
        return None
    return value if value is not None and np.isfinite(value) else None
