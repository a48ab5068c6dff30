"""SIPAS citizen samples drawn from a dossier frame: units → completion days → dossiers.

The frame (unit, domain, dossier code, completion date; CSV or XLSX from the one-stop system) is checked row
by row; bad rows are reported with their spreadsheet row number and left out, good rows are drawn from. The
result is the analyst's file of selected dossiers (with reserves from the same unit and day) carrying every
stage's inclusion probability, the overall probability and the design weight. Nothing is stored in the
database: a dossier code is personal data, kept only in the analyst's file.

The frame may also be the completed dossiers the one-stop system sent (survey_app/dossiers), returned within a
period: their codes exist only as keyed hashes, so the output's `dossier_code` column holds each dossier's
reference (the random id of its rating link) instead. Rows are read in the order they were stored, so the same
seed over the same period draws the same dossiers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

import sampling
from sampling import Stage
from survey_app.officials.draws import parse_mapping
from survey_app.core.dossier_tables import Dossier
from survey_app.core.tables import Unit

DOSSIER_FIELDS = ("unit", "domain", "dossier_code", "completion_date")
STRATUM_FIELDS = ("level", "domain")
UNIT_METHODS = ("pps_systematic", "pps_brewer", "srs", "systematic")
OUTPUT_COLUMNS = ["stratum", "status", "reserve_rank", "unit", "unit_name", "level", "domain", "completion_date",
                  "dossier_code", "stage1_inclusion_probability", "stage2_inclusion_probability",
                  "stage3_inclusion_probability", "inclusion_probability", "design_weight", "source_row"]


@dataclass(frozen=True)
class DossierDesign:
    units: int  # per stratum
    days: int  # per selected unit
    dossiers: int  # per selected day
    unit_method: str = "pps_systematic"
    strata: tuple[str, ...] = ()
    reserves_per_stratum: int | None = None

    def stages(self) -> list[Stage]:
        return [Stage("unit", self.units, self.unit_method), Stage("day", self.days),
                Stage("member_id", self.dossiers)]


@dataclass
class DossierDraw:
    imported: sampling.FrameImport
    sample: sampling.Sample
    table: pd.DataFrame  # what goes to the analyst's file: selected dossiers, then reserves


def check_design(design: DossierDesign) -> None:
    problems = [sampling.Problem(f"--{name}", f"--{name} phải là số nguyên ≥ 1.", f"--{name} must be at least 1.")
                for name in ("units", "days", "dossiers") if getattr(design, name) < 1]
    if design.unit_method not in UNIT_METHODS:
        problems.append(sampling.Problem("--unit-method", f"Cách chọn đơn vị là một trong {', '.join(UNIT_METHODS)}.",
                                         f"the unit method is one of {', '.join(UNIT_METHODS)}."))
    problems += [sampling.Problem("--strata", f"Phân tầng theo '{name}' không có; dùng level hoặc domain.",
                                  f"no stratum field {name!r}; use level or domain.")
                 for name in design.strata if name not in STRATUM_FIELDS]
    if problems:
        raise sampling.SamplingError(problems)


async def stored_frame(returned_from: dt.date, returned_to: dt.date) -> pd.DataFrame:
    """The stored completed dossiers returned within the period, as a frame file would read (row numbers from 2)."""
    rows = await Dossier.select(Dossier.unit.code.as_alias("unit"), Dossier.domain.code.as_alias("domain"),
                                Dossier.link_id, Dossier.returned_on).where(
        (Dossier.returned_on >= returned_from) & (Dossier.returned_on <= returned_to)
        & Dossier.held_by.is_null()).order_by(Dossier.id)
    table = pd.DataFrame({"unit": [row["unit"] for row in rows], "domain": [row["domain"] for row in rows],
                          "dossier_code": [row["link_id"] for row in rows],
                          "completion_date": [row["returned_on"].isoformat() for row in rows]},
                         columns=list(DOSSIER_FIELDS), dtype=object)
    table.index = range(2, len(table) + 2)
    return table


async def draw_dossiers(frame_path: Path | None, mapping_text: str | None, design: DossierDesign, seed: int,
                        stored_period: tuple[dt.date, dt.date] | None = None) -> DossierDraw:
    """Check the frame (a file, or the stored dossiers of `stored_period`) against the unit list, draw the three
    stages from the good rows, build the output table."""
    check_design(design)
    units = {row["code"]: row for row in await Unit.select(Unit.code, Unit.name, Unit.level)}
    table = await stored_frame(*stored_period) if stored_period else sampling.read_table(frame_path)
    mapping = parse_mapping(mapping_text, list(table.columns)) if mapping_text and not stored_period else {
        field: field for field in DOSSIER_FIELDS if field in table.columns}
    imported = sampling.validate_frame(table, "dossiers", mapping, known_units=units)
    if imported.frame.empty:
        where = "stored dossiers" if stored_period else str(frame_path)
        raise sampling.SamplingError([sampling.Problem(where, "Khung mẫu không còn dòng hợp lệ nào.",
                                                       "no good rows are left in the frame.")])
    frame = _with_day_and_level(imported.frame, units)
    sample = sampling.draw_multistage(frame, design.stages(), seed=seed, strata=list(design.strata),
                                      reserves_per_stratum=design.reserves_per_stratum)
    return DossierDraw(imported, sample, _output_table(sample, units))


def _with_day_and_level(frame: pd.DataFrame, units: dict) -> pd.DataFrame:
    """`day` as ISO text (sorts as dates, the second-stage cluster); `level` from the unit list."""
    return frame.assign(day=frame["completion_date"].dt.strftime("%Y-%m-%d"),
                        level=frame["unit"].map(lambda code: units[code]["level"]))


def _output_table(sample: sampling.Sample, units: dict) -> pd.DataFrame:
    drawn = sample.to_frame(include_reserves=True)
    drawn["unit_name"] = drawn["unit"].map(lambda code: units[code]["name"])
    drawn["completion_date"] = drawn["completion_date"].dt.strftime("%d/%m/%Y")
    if "stratum" not in drawn:
        drawn["stratum"] = "all"
    for column in OUTPUT_COLUMNS:
        if column not in drawn:
            drawn[column] = None
    return drawn[OUTPUT_COLUMNS]
