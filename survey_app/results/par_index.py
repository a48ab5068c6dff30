"""The PAR INDEX (`survey par-index`): the survey points per unit and criterion, the province's index structure and its
self-assessment and appraisal points, totals, per-field subtotals and the ranking per level (analysis/par_index.py,
analysis/par_structure.py; every rule in docs/method.md §6b).

Units with fewer respondents than SUPPRESS_BELOW are listed with their count but no points and no rank; within a
unit, a criterion fewer than SUPPRESS_BELOW officials rated is withheld (its count shown) and scored by the unit's
mean of its other survey criteria.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from survey_app.results.frames import AnalysisCommandError, campaign_frame
from survey_app.results.suppression import small_units

LEVEL_NAMES = {"province": "tỉnh", "so": "sở, ban, ngành", "huyen": "huyện", "xa": "xã"}


async def run_par_index(campaign_code: str, points_file: Path | None, suppress_below: int,
                        rule: str | None = None, structure_file: Path | None = None) -> dict:
    from analysis.par_index import criteria_with_points, leaf_points, rule_of, survey_points, unit_totals
    from analysis.par_structure import read_points, read_structure, structure_from_scoring

    from survey_app.core.tables import Unit
    from survey_app.results.dashboard import without_excluded

    campaign, scoring, frame = await campaign_frame(campaign_code)
    frame = await without_excluded(campaign["id"], frame)
    try:
        criteria = criteria_with_points(scoring)
        rule = rule_of(scoring, rule)
    except ValueError as error:
        raise AnalysisCommandError(f"campaign {campaign_code}: {error}") from error
    levels = {row["code"]: row["level"] for row in await Unit.select(Unit.code, Unit.level)}
    respondents = frame.groupby("unit").size()
    suppressed = small_units(frame["unit"], suppress_below)
    kept = frame[~frame["unit"].isin(list(suppressed))].reset_index(drop=True)
    points = survey_points(kept, scoring, "unit", rule=rule, minimum_valid=suppress_below) if len(kept) else \
        pd.DataFrame(columns=["unit", "criterion", "score", "points"])
    with file_problems(structure_file):
        structure = read_structure(structure_file, {criterion.key for criterion in criteria}) if structure_file \
            else structure_from_scoring(scoring)
    with file_problems(points_file):
        assessed = read_points(points_file, structure, set(levels)) if points_file else \
            pd.DataFrame(columns=["unit", "id", "points"])
    assessed = assessed[~assessed["unit"].isin(list(suppressed))]
    totals = unit_totals(leaf_points(points, structure, assessed), structure, levels)
    return {
        "campaign": campaign_code, "campaign_status": campaign["status"], "rule": rule,
        "suppress_below": suppress_below,
        "fields": [{"id": field.id, "title": field.title, "max_points": field.max_points} for field in structure.fields],
        "units": [{**row, "respondents": int(respondents.get(row["unit"], 0))} for row in totals.to_dict("records")],
        "suppressed": [{"unit": unit, "respondents": int(count)} for unit, count in sorted(suppressed.items())],
        "criteria": points.to_dict("records"),
    }


@contextmanager
def file_problems(path: Path | None):
    """A file's bad rows as one command error: the file, then one problem per line."""
    from analysis.par_structure import ParIndexFileError

    try:
        yield
    except ParIndexFileError as error:
        raise AnalysisCommandError(f"{path}:\n  " + "\n  ".join(error.problems)) from error


def par_index_text(result: dict) -> str:
    lines = [f"Đợt khảo sát {result['campaign']}: Chỉ số CCHC (PAR INDEX), quy tắc chấm {result['rule']}; tiêu chí "
             f"có dưới {result['suppress_below']} câu trả lời hợp lệ trong một đơn vị không công bố, tính bằng điểm "
             "trung bình điều tra của đơn vị (docs/method.md §6b)"]
    if result["campaign_status"] != "closed":
        lines.append(open_campaign_warning(result))
    fields = [field["id"] for field in result["fields"]]
    header = f"{'hạng':>4}  {'đơn vị':<10} {'n':>4} {'tự ĐG':>8} {'thẩm ĐG':>8} {'điều tra':>8} {'tổng':>8}"
    for level, rows in _by_level(result["units"]):
        lines += [f"-- {LEVEL_NAMES.get(level, level or '?')}",
                  header + "".join(f" {'LV ' + field:>8}" for field in fields)]
        lines += [_unit_line(row, fields) for row in rows]
    for row in result["suppressed"]:
        lines.append(f"{'—':>4}  {row['unit']:<10} {row['respondents']:>4}  không đủ số phiếu "
                     f"(dưới {result['suppress_below']} người trả lời)")
    return "\n".join(lines)


def open_campaign_warning(result: dict) -> str:
    return (f"CẢNH BÁO: đợt khảo sát {result['campaign']} chưa kết thúc (trạng thái {result['campaign_status']}): "
            "số liệu còn thay đổi, chưa được công bố.")


def _by_level(units: list[dict]) -> list[tuple[str, list[dict]]]:
    levels: dict = {}
    for row in units:
        levels.setdefault(row["level"], []).append(row)
    return list(levels.items())


def _unit_line(row: dict, fields: list[str]) -> str:
    rank = "—" if row["rank"] is None else str(int(row["rank"]))
    line = (f"{rank:>4}  {row['unit']:<10} {row['respondents']:>4} {_points(row['self_assessment_points'])} "
            f"{_points(row['appraisal_points'])} {_points(row['survey_points'])} {_points(row['total'])}")
    line += "".join(f" {_points(row['fields'][field])}" for field in fields)
    return line + (f"  thiếu điểm: {', '.join(row['missing'])}" if row["missing"] else "")


def _points(value) -> str:
    return f"{'—':>8}" if value is None else f"{value:8.2f}"
