"""Weighting a campaign (issue #24; docs/method.md §4b): the analyst's plan, its population counts, runs kept as
versions, the version the figures use, and the comparison of two versions. The statistics are analysis/'s:
design weights and non-response (analysis.nonresponse), calibration and trimming (analysis.weighting_plan).

Steps: design weights (1 for an open QR campaign; from the latest draw for an officials' campaign, each unit's
answers sharing its completed members' weights, docs/privacy.md) → non-response in weighting classes (officials'
campaigns, from the members' statuses) → calibration to population counts (post-stratification, raking, linear) →
trimming. A run stores its weights and diagnostics as a new version and puts it in use: the weights go to
Response.weight in one write transaction and the stored figures are folded again (survey_app/results/figures.py).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import io
import json
import math
import re
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from survey_app.core import db, jobs

MARGIN_COLUMNS = ("unit", "domain", "level", "channel")
CALIBRATIONS = ("post_stratify", "rake", "linear")
NONRESPONSE_CELLS = ("stratum", "unit")
MARGIN_NAMES_VI = {"unit": "đơn vị", "domain": "lĩnh vực", "level": "cấp", "channel": "kênh"}
CALIBRATION_NAMES_VI = {"post_stratify": "hậu phân tầng", "rake": "cào (raking, lặp tỷ lệ)",
                        "linear": "hiệu chỉnh tuyến tính (GREG)"}
STEP_NAMES_VI = {"design": "Trọng số thiết kế", "nonresponse": "Điều chỉnh không trả lời",
                 "calibration": "Hiệu chỉnh theo tổng thể", "trim": "Cắt tỉa trọng số"}
RUN_TASK = "weighting.run"
STALE_SECONDS = 900  # a run still "running" after this long died with its server: shown failed, the plan can run again
DOSSIERS = "dossiers"
STOPPED = "lần chạy đã dừng giữa chừng (máy chủ khởi động lại?); hãy chạy lại"


class WeightingRefused(Exception):
    """A plan, population file or run that cannot be done: every problem, in Vietnamese, nothing stored."""

    def __init__(self, messages: list[str]):
        super().__init__("; ".join(messages))
        self.messages = messages


@dataclass(frozen=True)
class Plan:
    """What the analyst asked for; margins are columns of MARGIN_COLUMNS, or two crossed (unit×domain)."""

    nonresponse_cells: str | None = None
    calibration: str | None = None
    margins: tuple[str, ...] = ()
    lower: float | None = None
    upper: float | None = None
    max_iterations: int = 100
    population_source: str = "file"  # or "dossiers": counted from the stored dossiers when the plan runs
    dossiers_from: str | None = None  # ISO dates of the dossiers' period; None: the campaign's own dates
    dossiers_to: str | None = None

    def to_dict(self) -> dict:
        values = {"nonresponse_cells": self.nonresponse_cells, "calibration": self.calibration,
                  "margins": list(self.margins), "lower": self.lower, "upper": self.upper,
                  "max_iterations": self.max_iterations}
        if self.population_source == DOSSIERS:  # a file plan keeps its old JSON (and plan hash)
            values.update(population_source=DOSSIERS, dossiers_from=self.dossiers_from, dossiers_to=self.dossiers_to)
        return values

    @classmethod
    def from_dict(cls, values: dict) -> "Plan":
        return cls(values.get("nonresponse_cells"), values.get("calibration"), tuple(values.get("margins") or ()),
                   values.get("lower"), values.get("upper"), int(values.get("max_iterations") or 100),
                   values.get("population_source") or "file", values.get("dossiers_from"), values.get("dossiers_to"))


def check_plan(plan: Plan) -> list[str]:
    """The plan's own problems (before any file is read)."""
    problems = []
    if plan.nonresponse_cells not in (None, *NONRESPONSE_CELLS):
        problems.append(f"lớp điều chỉnh không trả lời '{plan.nonresponse_cells}' không hợp lệ (stratum hoặc unit)")
    if plan.calibration not in (None, *CALIBRATIONS):
        problems.append(f"phương pháp hiệu chỉnh '{plan.calibration}' không hợp lệ ({', '.join(CALIBRATIONS)})")
    for margin in plan.margins:
        if any(part not in MARGIN_COLUMNS for part in margin.split("×")):
            problems.append(f"biên '{margin}' không hợp lệ: dùng {', '.join(MARGIN_COLUMNS)} hoặc hai biến ghép bằng × "
                            "(ví dụ unit×domain)")
    if plan.calibration and not plan.margins:
        problems.append("hiệu chỉnh theo tổng thể cần ít nhất một biên")
    if plan.calibration == "post_stratify" and len(plan.margins) > 1:
        problems.append("hậu phân tầng dùng một biên (ghép các biến bằng ×, ví dụ unit×domain)")
    if plan.lower is not None and plan.upper is not None and plan.lower >= plan.upper:
        problems.append(f"cận dưới {plan.lower:g} phải nhỏ hơn cận trên {plan.upper:g}")
    if any(bound is not None and (not math.isfinite(bound) or bound <= 0) for bound in (plan.lower, plan.upper)):
        problems.append("cận cắt tỉa phải là số dương")
    if plan.population_source not in ("file", DOSSIERS):
        problems.append(f"nguồn số lượng tổng thể '{plan.population_source}' không hợp lệ (file hoặc dossiers)")
    if plan.dossiers_from and plan.dossiers_to and plan.dossiers_from > plan.dossiers_to:
        problems.append("kỳ hồ sơ: ngày bắt đầu phải trước ngày kết thúc")
    if not 1 <= plan.max_iterations <= 10_000:
        problems.append("số vòng lặp tối đa phải từ 1 đến 10 000")
    return problems


def parse_bounds(text: str) -> tuple[float | None, float | None]:
    """'0.3:3' → (0.3, 3.0); either side may be empty; a decimal comma is accepted."""
    if not text.strip():
        return None, None
    lower, separator, upper = text.partition(":")
    if not separator:
        raise WeightingRefused([f"cận cắt tỉa '{text}': viết CẬN_DƯỚI:CẬN_TRÊN, ví dụ 0,3:3 hoặc :3"])
    try:
        return tuple(float(side.strip().replace(",", ".")) if side.strip() else None for side in (lower, upper))
    except ValueError:
        raise WeightingRefused([f"cận cắt tỉa '{text}': viết CẬN_DƯỚI:CẬN_TRÊN, ví dụ 0,3:3 hoặc :3"]) from None


def parse_day(text: str, field: str) -> str | None:
    """A day of the dossiers' period written dd/mm/yyyy (or ISO) → ISO; empty → None (the campaign's date)."""
    text = text.strip()
    if not text:
        return None
    for pattern in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(text, pattern).date().isoformat()
        except ValueError:
            continue
    raise WeightingRefused([f"kỳ hồ sơ, {field}: '{text}' không phải ngày (viết dd/mm/yyyy)"])


# The population file.

def read_population(filename: str, data: bytes, plan: Plan, known: dict[str, set[str]]) -> pd.DataFrame:
    """Rows `margin, level, count` from a CSV or XLSX (header = row 1); a crossed margin's level is its parts joined
    by '/' (SO01/dat_dai). Every bad row is reported by number, with every problem at once."""
    from sampling.errors import SamplingError
    from sampling.frames import read_table

    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    try:
        table = read_table(io.BytesIO(data), file_format=suffix)
    except SamplingError as error:
        raise WeightingRefused([problem.message_vi for problem in error.problems]) from error
    except (ValueError, OSError, UnicodeDecodeError) as error:
        raise WeightingRefused([f"không đọc được tệp {filename}: {error}"]) from error
    table.columns = [str(column).strip().lower() for column in table.columns]
    missing = [column for column in ("margin", "level", "count") if column not in table.columns]
    if missing:
        raise WeightingRefused([f"dòng 1: thiếu cột {', '.join(missing)} (cần margin, level, count)"])
    rows, problems = _population_rows(table, plan, known)
    problems += _whole_file_problems(rows, plan)
    if problems:
        raise WeightingRefused(problems)
    return pd.DataFrame(rows, columns=["row", "margin", "level", "count"])


def _population_rows(table: pd.DataFrame, plan: Plan, known: dict[str, set[str]]) -> tuple[list, list[str]]:
    rows, problems, seen = [], [], {}
    for row_number, record in table.iterrows():
        margin = str(record["margin"] or "").strip().replace("*", "×").replace(" x ", "×").replace(" ", "")
        level, raw = str(record["level"] or "").strip(), str(record["count"] or "").strip()
        found = _row_problems(row_number, margin, level, raw, plan, known)
        if (margin, level) in seen:
            found.append(f"dòng {row_number}: ô {margin} = '{level}' lặp lại (đã có ở dòng {seen[margin, level]})")
        seen.setdefault((margin, level), row_number)
        problems += found
        if not found:
            rows.append((row_number, margin, level, _number(raw)))
    return rows, problems


def _row_problems(row: int, margin: str, level: str, raw: str, plan: Plan, known: dict[str, set[str]]) -> list[str]:
    if margin not in plan.margins:
        return [f"dòng {row}: biên '{margin}' không có trong kế hoạch ({', '.join(plan.margins) or 'chưa có biên'})"]
    problems = []
    parts, values = margin.split("×"), level.split("/")
    if not level:
        problems.append(f"dòng {row}: ô trống ở cột level")
    elif len(values) != len(parts):
        problems.append(f"dòng {row}: biên {margin} cần {len(parts)} phần cách nhau bằng '/', không phải '{level}'")
    else:
        problems += [f"dòng {row}: {MARGIN_NAMES_VI[part]} '{value}' không có trong {_known_source(part)}"
                     for part, value in zip(parts, values) if value not in known.get(part, set())]
    count = _number(raw)
    if count is None:
        problems.append(f"dòng {row}: số lượng '{raw}' không phải là số")
    elif count <= 0:
        problems.append(f"dòng {row}: số lượng {raw} phải lớn hơn 0")
    return problems


def _known_source(part: str) -> str:
    return {"unit": "cây đơn vị", "domain": "danh mục lĩnh vực", "level": "các cấp đơn vị (province, so, huyen, xa)",
            "channel": "các kênh của phiếu trong đợt"}[part]


def _number(raw: str) -> float | None:
    """A count as people write it: 1200, 1.200 or 1,200 (thousands), 12,5 or 12.5 (decimals)."""
    text = raw.replace(" ", "").replace("\u00a0", "")
    if re.fullmatch(r"\d{1,3}([.,])\d{3}(\1\d{3})*", text):
        text = re.sub(r"[.,]", "", text)  # a count of dossiers is whole: 1.200 is twelve hundred
    else:
        text = text.replace(",", ".")
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _whole_file_problems(rows: list, plan: Plan) -> list[str]:
    totals = {margin: sum(count for _, name, _, count in rows if name == margin) for margin in plan.margins}
    problems = [f"tệp không có dòng nào cho biên {margin}" for margin, total in totals.items() if total == 0]
    present = {margin: total for margin, total in totals.items() if total > 0}
    if plan.calibration in ("rake", "linear") and len(present) > 1:
        if max(present.values()) - min(present.values()) > 1e-6 * max(present.values()):
            listed = ", ".join(f"{margin}: {total:,.0f}".replace(",", ".") for margin, total in present.items())
            problems.append(f"tổng các biên khác nhau ({listed}); các biên phải cùng một tổng thể")
    return problems


def cells_against_responses(population: pd.DataFrame, frame: pd.DataFrame) -> list[str]:
    """Cells of the responses without a population count, and population cells without any response."""
    from analysis.weighting_plan import margin_column

    problems = []
    for margin, rows in population.groupby("margin", sort=False):
        labels = margin_column(frame, margin)
        counts = labels.value_counts()
        listed = set(rows["level"])
        missing = sorted(set(counts.index) - listed)
        problems += [f"biên {margin}: thiếu số lượng tổng thể cho ô '{level}' ({counts[level]} phiếu)" for level in missing[:20]]
        problems += [f"{_place(getattr(row, 'row', 'số lượng đã lưu'))}: ô {margin} = '{row.level}' không có phiếu nào; gộp với ô bên cạnh hoặc bỏ dòng"
                     for row in rows.itertuples() if row.level not in counts.index]
    return problems


def _place(row) -> str:
    """Where a population cell came from: a file's row number, or the dossiers (a text)."""
    return row if isinstance(row, str) else f"dòng {row}"


def margins_of(population: pd.DataFrame) -> dict[str, dict]:
    return {margin: dict(zip(rows["level"], rows["count"].astype(float)))
            for margin, rows in population.groupby("margin", sort=False)}


# The plan, stored.

async def campaign_by_code(code: str) -> dict:
    from survey_app.core.tables import Campaign

    campaign = await Campaign.select().where(Campaign.code == code).first()
    if campaign is None:
        raise WeightingRefused([f"không có đợt khảo sát với mã '{code}'"])
    return campaign


async def known_levels(campaign_id: int) -> dict[str, set[str]]:
    from survey_app.core.tables import Domain, Response, Unit

    channels = await Response.select(Response.channel).where(Response.campaign == campaign_id).distinct()
    return {"unit": {row["code"] for row in await Unit.select(Unit.code)},
            "domain": {row["code"] for row in await Domain.select(Domain.code)} | {"(none)"},
            "level": {row["level"] for row in await Unit.select(Unit.level).distinct()},
            "channel": {row["channel"] for row in channels}}


async def save_plan(campaign_code: str, plan: Plan, user: str, filename: str = "", data: bytes | None = None) -> dict:
    """Check and store the campaign's plan with its population file (kept from before when no new file is given)."""
    from survey_app.core.weight_tables import WeightPlan

    campaign = await campaign_by_code(campaign_code)
    problems = check_plan(plan)
    if problems:
        raise WeightingRefused(problems)
    stored = await WeightPlan.select().where(WeightPlan.campaign == campaign["id"]).first()
    population, name = (stored or {}).get("population", ""), (stored or {}).get("population_name", "")
    if plan.population_source == DOSSIERS and plan.calibration:
        table, name = await dossier_population(campaign, plan)
        problems = cells_against_responses(table, await weighting_frame(campaign["id"]))
        if problems:
            raise WeightingRefused(problems)
        population = table.drop(columns="row").to_csv(index=False)
    elif data is not None:
        known = await known_levels(campaign["id"])
        table = await asyncio.to_thread(read_population, filename, data, plan, known)
        problems = cells_against_responses(table, await weighting_frame(campaign["id"]))
        if problems:
            raise WeightingRefused(problems)
        population, name = table.drop(columns="row").to_csv(index=False), filename
    elif plan.calibration and not population:
        raise WeightingRefused(["hiệu chỉnh theo tổng thể cần tệp số lượng tổng thể (margin, level, count)"])
    values = {"plan": json.dumps(plan.to_dict()), "population": population, "population_name": name,
              "population_hash": hashlib.sha256(population.encode()).hexdigest(), "updated_by": user,
              "updated_at": time.time()}
    from survey_app.accounts.audit import record

    async with db.write_transaction():
        if stored:
            await WeightPlan.update(values).where(WeightPlan.id == stored["id"])
        else:
            await WeightPlan.insert(WeightPlan(campaign=campaign["id"], **values))
        await record(user, "weight_plan", campaign_code, json.loads(stored["plan"]) if stored else None,
                     {**plan.to_dict(), "population": name, "population_hash": values["population_hash"]})
    return {"campaign": campaign_code, "plan": plan.to_dict(), "population_name": name}


# Population counts from the dossiers the province's one-stop system reported (survey_app/dossiers/).

def dossier_period(campaign: dict, plan: Plan) -> tuple[dt.date, dt.date]:
    """The plan's period, or the campaign's own dates: dossiers returned within it are the population."""
    start = dt.date.fromisoformat(plan.dossiers_from) if plan.dossiers_from else campaign["starts_on"]
    end = dt.date.fromisoformat(plan.dossiers_to) if plan.dossiers_to else campaign["ends_on"]
    return start, end


async def dossier_population(campaign: dict, plan: Plan) -> tuple[pd.DataFrame, str]:
    """Counts per cell of each margin of the plan, from the completed dossiers returned in the period; the same
    table (row, margin, level, count) a population file gives, with its name for the page and the version."""
    from analysis.weighting_plan import margin_column
    from survey_app.core.dossier_tables import Dossier

    start, end = dossier_period(campaign, plan)
    name = f"hồ sơ đã trả kết quả {start:%d/%m/%Y}–{end:%d/%m/%Y}"
    rows = await Dossier.select(Dossier.unit.code.as_alias("unit"), Dossier.unit.level.as_alias("level"),
                                Dossier.domain.code.as_alias("domain"), Dossier.channel) \
        .where((Dossier.returned_on >= start) & (Dossier.returned_on <= end) & Dossier.held_by.is_null())
    if not rows:
        raise WeightingRefused([f"không có hồ sơ nào trả kết quả từ {start:%d/%m/%Y} đến {end:%d/%m/%Y}; "
                                "chọn kỳ khác hoặc dùng tệp số lượng tổng thể"])
    dossiers = pd.DataFrame(rows, columns=["unit", "level", "domain", "channel"])
    cells = [(name, margin, str(level), float(count)) for margin in plan.margins
             for level, count in margin_column(dossiers, margin).value_counts().sort_index().items()]
    return pd.DataFrame(cells, columns=["row", "margin", "level", "count"]), name


async def stored_plan(campaign_id: int) -> tuple[Plan, pd.DataFrame | None, dict] | None:
    from survey_app.core.weight_tables import WeightPlan

    row = await WeightPlan.select().where(WeightPlan.campaign == campaign_id).first()
    if row is None:
        return None
    population = pd.read_csv(io.StringIO(row["population"]), dtype={"margin": str, "level": str}) if row["population"] else None
    return Plan.from_dict(json.loads(row["plan"])), population, row


# The data a run reads.

async def weighting_frame(campaign_id: int) -> pd.DataFrame:
    """One row per response: id, unit, level, domain, channel (no answers: weighting never reads them)."""
    from survey_app.core.tables import Response

    rows = await Response.select(Response.id, Response.channel, Response.unit.code.as_alias("unit"),
                                 Response.unit.level.as_alias("level"), Response.domain.code.as_alias("domain")) \
        .where(Response.campaign == campaign_id).order_by(Response.id)
    frame = pd.DataFrame(rows, columns=["id", "channel", "unit", "level", "domain"]).rename(columns={"id": "response_id"})
    frame["domain"] = frame["domain"].fillna("(none)")
    return frame


def frame_hash(frame: pd.DataFrame) -> str:
    return hashlib.sha256(frame[["response_id", "unit", "domain", "channel"]].to_csv(index=False).encode()).hexdigest()


async def base_weights(campaign: dict, frame: pd.DataFrame, plan: Plan) -> tuple[np.ndarray, list[dict], str]:
    """Design weights, then the non-response adjustment: the weights per response, the steps' diagnostics and a
    hash of the sample statuses they came from."""
    from analysis.weighting_plan import describe

    units = frame["unit"].to_numpy()
    if campaign["mode"] != "invitation":
        ones = np.ones(len(frame))
        steps = [_step("design", None, describe(ones, units), {"source": "open"})]
        if plan.nonresponse_cells:
            steps.append(_step("nonresponse", describe(ones, units), describe(ones, units), {"applied": False}))
        return ones, steps, ""
    from survey_app.results import nonresponse_weights as sample

    from survey_app.core.tables import Unit

    members = await sample._members(campaign["id"], campaign["code"])
    codes = {row["id"]: row["code"] for row in await Unit.select(Unit.id, Unit.code)}
    members["unit"] = members["unit"].map(codes)  # answers carry unit codes in the frame
    design = _shared_by_unit(frame, members, pd.Series(1.0, index=members["stratum"].unique()), "stratum")
    steps = [_step("design", None, describe(design, units), {"source": "draw", "members": len(members)})]
    weights = design
    if plan.nonresponse_cells:
        factors = _class_factors(members, plan.nonresponse_cells)
        weights = _shared_by_unit(frame, members, factors, plan.nonresponse_cells)
        steps.append(_step("nonresponse", describe(design, units), describe(weights, units),
                           {"applied": True, "cells": plan.nonresponse_cells, "classes": len(factors),
                            "max_factor": float(factors.max())}))
    statuses = members[["unit", "stratum", "status", "design_weight"]].to_csv(index=False)
    return weights, steps, hashlib.sha256(statuses.encode()).hexdigest()


def _class_factors(members: pd.DataFrame, cells: str) -> pd.Series:
    from analysis.design import SurveyDesign
    from analysis.nonresponse import adjust_for_statuses
    from analysis.weighting import WeightingError

    try:
        report = adjust_for_statuses(SurveyDesign.from_frame(members, weights="design_weight"), "status", cells).report
    except WeightingError as error:
        raise WeightingRefused([f"điều chỉnh không trả lời: {error}"]) from error
    return pd.Series({cell: report["eligibility_factor"][cell] * report["response_factor"][cell]
                      for cell in report["response_factor"]})


def _shared_by_unit(frame: pd.DataFrame, members: pd.DataFrame, factors: pd.Series, cells: str) -> np.ndarray:
    """Per unit, Σ design weight × class factor over its completed members, shared equally by its answers (answers
    are not linked to members: docs/privacy.md)."""
    completed = members[members["status"] == "completed"]
    totals = (completed["design_weight"] * completed[cells].map(factors)).groupby(completed["unit"]).sum()
    answers = frame.groupby("unit").size()
    unknown = sorted(set(answers.index) - set(totals.index))
    if unknown:
        raise WeightingRefused([f"phiếu của đơn vị {', '.join(unknown[:5])} không có người đã gửi trong mẫu"])
    return (frame["unit"].map(totals) / frame["unit"].map(answers)).to_numpy(dtype=float)


def _step(name: str, before: dict | None, after: dict, details: dict, warnings: tuple = ()) -> dict:
    return {"step": name, "before": before, "after": after, "details": details, "warnings": list(warnings)}


def calibrate(frame: pd.DataFrame, weights: np.ndarray, plan_values: dict, margins: dict) -> tuple[list, list[dict]]:
    """The calibration and trimming steps (module level: it may run in the worker process)."""
    from analysis.weighting_plan import calibrate_and_trim

    plan = Plan.from_dict(plan_values)
    final, steps = calibrate_and_trim(frame, weights, method=plan.calibration, margins=margins, lower=plan.lower,
                                      upper=plan.upper, max_iterations=plan.max_iterations)
    return final.tolist(), [step.to_dict() for step in steps]


# Runs and versions.

async def run_plan(campaign_code: str, user: str, progress=None) -> dict:
    """Run the stored plan to a new version, in use once done. Refusals store a failed version saying why."""
    campaign, version = await _start_version(campaign_code, user)
    return await _run_version(campaign, version, user, progress)


async def _start_version(campaign_code: str, user: str) -> tuple[dict, dict]:
    campaign = await campaign_by_code(campaign_code)
    found = await stored_plan(campaign["id"])
    if found is None:
        raise WeightingRefused([f"đợt {campaign_code} chưa có kế hoạch gia quyền"])
    return campaign, await _new_version(campaign["id"], user, found[0])


async def _run_version(campaign: dict, version: dict, user: str, progress=None) -> dict:
    from survey_app.core import worker_process
    from survey_app.core.weight_tables import WeightVersion
    from analysis.weighting import WeightingError

    campaign_code = campaign["code"]
    plan, population, plan_row = await stored_plan(campaign["id"])
    report = progress or (lambda percent: None)
    try:
        frame = await weighting_frame(campaign["id"])
        if len(frame) < 2:
            raise WeightingRefused([f"đợt {campaign_code} có {len(frame)} phiếu; cần ít nhất 2"])
        await _progress(version, 10, report)
        weights, steps, statuses_hash = await base_weights(campaign, frame, plan)
        await _progress(version, 40, report)
        margins, population_hash = {}, plan_row["population_hash"]
        if plan.calibration and plan.population_source == DOSSIERS:  # counted again: dossiers keep arriving
            population = (await dossier_population(campaign, plan))[0].drop(columns="row")
            population_hash = hashlib.sha256(population.to_csv(index=False).encode()).hexdigest()
        if plan.calibration:
            problems = cells_against_responses(population, frame)
            if problems:
                raise WeightingRefused(problems)
            margins = margins_of(population)
        try:
            final, later = await worker_process.run(calibrate, frame, weights, plan.to_dict(), margins)
        except WeightingError as error:
            raise WeightingRefused([_vietnamese_refusal(str(error))]) from error
        await _progress(version, 80, report)
        hashes = {"population": population_hash, "responses": frame_hash(frame),
                  "sample_statuses": statuses_hash, "plan": hashlib.sha256(plan_row["plan"].encode()).hexdigest()}
        await _finish(version, campaign, frame, final, steps + later, hashes, user)
    except WeightingRefused as refused:
        await WeightVersion.update({WeightVersion.state: "failed", WeightVersion.error: "; ".join(refused.messages)}) \
            .where(WeightVersion.id == version["id"])
        raise
    report(100)
    return await version_detail(campaign_code, version["number"])


def _vietnamese_refusal(message: str) -> str:
    """analysis/ speaks English; a page says what went wrong in Vietnamese, with the English detail after it."""
    if "did not converge" in message:
        return f"phép cào không hội tụ ({message})"
    if "same population total" in message:
        return f"tổng các biên khác nhau ({message})"
    if "widen" in message:
        return f"cận cắt tỉa không giữ được tổng trọng số: hãy nới rộng ({message})"
    return f"không gia quyền được ({message})"


async def _new_version(campaign_id: int, user: str, plan: Plan) -> dict:
    from survey_app.core.weight_tables import WeightVersion

    async with db.write_transaction():
        last = await WeightVersion.select(WeightVersion.number).where(WeightVersion.campaign == campaign_id) \
            .order_by(WeightVersion.number, ascending=False).first()
        number = (last["number"] if last else 0) + 1
        await WeightVersion.insert(WeightVersion(campaign=campaign_id, number=number, created_by=user,
                                                 created_at=time.time(), plan=json.dumps(plan.to_dict())))
    return await WeightVersion.select().where((WeightVersion.campaign == campaign_id) &
                                              (WeightVersion.number == number)).first()


async def _progress(version: dict, percent: int, report) -> None:
    from survey_app.core.weight_tables import WeightVersion

    await WeightVersion.update({WeightVersion.progress: percent}).where(WeightVersion.id == version["id"])
    report(percent)


async def _finish(version: dict, campaign: dict, frame: pd.DataFrame, final: list, steps: list, hashes: dict,
                  user: str) -> None:
    from survey_app.core.weight_tables import WeightVersion

    pairs = [[int(response), round(float(weight), 12)] for response, weight in zip(frame["response_id"], final)]
    await WeightVersion.update({WeightVersion.weights: json.dumps(pairs), WeightVersion.diagnostics: json.dumps(steps),
                                WeightVersion.input_hashes: json.dumps(hashes), WeightVersion.progress: 90}) \
        .where(WeightVersion.id == version["id"])
    await _put_in_use(campaign, version, pairs, user, finished=True)


async def use_version(campaign_code: str, number: int, user: str = "") -> dict:
    """Put an earlier (finished) version back in use: its weights to the responses, the figures folded again."""
    from survey_app.core.weight_tables import WeightVersion

    campaign = await campaign_by_code(campaign_code)
    row = await WeightVersion.select().where((WeightVersion.campaign == campaign["id"]) &
                                             (WeightVersion.number == number)).first()
    if row is None or row["state"] != "done":
        raise WeightingRefused([f"đợt {campaign_code} không có phiên bản trọng số số {number} đã chạy xong"])
    await _put_in_use(campaign, row, json.loads(row["weights"]), user)
    return await version_detail(campaign_code, number)


async def _put_in_use(campaign: dict, version: dict, pairs: list, user: str, finished: bool = False) -> None:
    """A finished run is marked done in the same transaction: a version shown done is the one in use."""
    from survey_app.accounts.audit import record
    from survey_app.core.tables import Response
    from survey_app.core.weight_tables import WeightVersion
    from survey_app.results.figures import fold_again

    by_weight: dict[float, list[int]] = {}
    for response, weight in pairs:
        by_weight.setdefault(weight, []).append(response)
    async with db.write_transaction():
        for weight, ids in by_weight.items():
            for start in range(0, len(ids), 500):
                await Response.update({Response.weight: weight}).where(Response.id.is_in(ids[start:start + 500]))
        await WeightVersion.update({WeightVersion.in_use: False}).where(WeightVersion.campaign == campaign["id"])
        done = {WeightVersion.state: "done", WeightVersion.progress: 100} if finished else {}
        await WeightVersion.update({WeightVersion.in_use: True, **done}).where(WeightVersion.id == version["id"])
        await fold_again(campaign["id"])
        await record(user, "weight_version_used", campaign["code"], None, {"version": version["number"]},
                     f"{len(pairs)} response weights")


async def start_run(campaign_code: str, user: str) -> int:
    """A new version, shown running at once; the run itself is a job on the deployment's engine
    (survey_app.core.jobs), which keeps nothing: progress, state and error are the version's own row."""
    campaign, version = await _start_version(campaign_code, user)
    await jobs.defer(RUN_TASK, campaign=campaign_code, number=version["number"], user=user)
    return version["number"]


@jobs.task(RUN_TASK)
async def run_in_background(campaign: str, number: int, user: str) -> None:
    """The job: runs the version once (a job may be delivered twice: only the one that claims it runs)."""
    from survey_app.core.weight_tables import WeightVersion

    found = await campaign_by_code(campaign)
    claimed = await WeightVersion.update({WeightVersion.progress: 1}).where(
        (WeightVersion.campaign == found["id"]) & (WeightVersion.number == number) &
        (WeightVersion.state == "running") & (WeightVersion.progress == 0)).returning(WeightVersion.id)
    if not claimed:
        return
    version = await WeightVersion.select().where(WeightVersion.id == claimed[0]["id"]).first()
    try:
        await _run_version(found, version, user)
    except WeightingRefused:
        pass  # stored on the failed version, which the page shows


# Reading versions.

async def versions(campaign_id: int) -> list[dict]:
    from survey_app.core.weight_tables import WeightVersion

    rows = await WeightVersion.select(*[column for column in WeightVersion._meta.columns if column._meta.name != "weights"]) \
        .where(WeightVersion.campaign == campaign_id).order_by(WeightVersion.number, ascending=False)
    return [_readable(row) for row in rows]


def _readable(row: dict) -> dict:
    import datetime as dt

    if row["state"] == "running" and time.time() - row["created_at"] > STALE_SECONDS:
        row = {**row, "state": "failed", "error": STOPPED}
    return {**row, "plan": json.loads(row["plan"]), "input_hashes": json.loads(row["input_hashes"]),
            "diagnostics": json.loads(row["diagnostics"]),
            "created": dt.datetime.fromtimestamp(row["created_at"], dt.timezone.utc)}


async def version_detail(campaign_code: str, number: int) -> dict:
    from survey_app.core.weight_tables import WeightVersion

    campaign = await campaign_by_code(campaign_code)
    row = await WeightVersion.select().where((WeightVersion.campaign == campaign["id"]) &
                                             (WeightVersion.number == number)).first()
    if row is None:
        raise WeightingRefused([f"đợt {campaign_code} không có phiên bản trọng số số {number}"])
    detail = _readable(row)
    detail["weights"] = json.loads(row["weights"])
    return detail


async def version_in_use(campaign_id: int) -> dict | None:
    """The version the campaign's figures use, with its method text (None: never weighted, every weight 1)."""
    from survey_app.core.weight_tables import WeightVersion

    row = await WeightVersion.select(WeightVersion.number, WeightVersion.created_by, WeightVersion.created_at,
                                     WeightVersion.plan, WeightVersion.diagnostics, WeightVersion.input_hashes,
                                     WeightVersion.state, WeightVersion.progress, WeightVersion.error,
                                     WeightVersion.in_use, WeightVersion.id, WeightVersion.campaign) \
        .where((WeightVersion.campaign == campaign_id) & (WeightVersion.in_use == True)).first()  # noqa: E712
    if row is None:
        return None
    version = _readable(row)
    version["method"] = method_text(version["plan"], version["diagnostics"])
    return version


async def compare(campaign_code: str, first: int, second: int) -> dict:
    """Two versions side by side: their final diagnostics and the campaign's overall index under each (responses
    excluded in the quality review left out, as on every published figure)."""
    from analysis.sipas import compute_indices
    from survey_app.results.frames import campaign_frame

    from survey_app.results.figures import excluded_ids

    campaign, scoring, frame = await campaign_frame(campaign_code)
    frame = frame[~frame["response_id"].isin(await excluded_ids(campaign["id"]))]  # as published figures count
    sides = []
    for number in (first, second):
        version = await version_detail(campaign_code, number)
        weights = dict((int(response), weight) for response, weight in version["weights"])
        chosen = frame[frame["response_id"].isin(weights)].reset_index(drop=True)
        if len(chosen) < 2:
            raise WeightingRefused([f"phiên bản {number} chưa có trọng số cho các phiếu này"])
        design = _design(chosen, [weights[int(response)] for response in chosen["response_id"]])
        overall = await asyncio.to_thread(compute_indices, chosen, scoring, None, design)
        final = version["diagnostics"][-1]["after"] if version["diagnostics"] else None
        sides.append({"number": number, "created_by": version["created_by"], "created": version["created"],
                      "plan": version["plan"], "final": final, "index": _overall(overall)})
    return {"campaign": campaign_code, "versions": sides}


def _design(frame: pd.DataFrame, weights: list[float]):
    from analysis.design import SurveyDesign

    return SurveyDesign.from_frame(frame, weights=np.asarray(weights, dtype=float))


def _overall(result) -> dict:
    overall = result.to_dict() if hasattr(result, "to_dict") else result
    return {"value": overall.get("overall"), "se": overall.get("se")}


# The method, in Vietnamese, from the plan actually run.

def method_text(plan: dict, steps: list[dict]) -> list[str]:
    """One sentence per step that was run, with its diagnostics: the report's method section and the pages."""
    sentences = []
    for step in steps:
        sentences.append(_sentence(step, plan))
    if steps:
        final = steps[-1]["after"]
        sentences.append(
            f"Sau cùng: {final['count']} phiếu, tổng trọng số {_number_vi(final['total'])}"
            + (f" (tổng thể {_number_vi(final['population'])})" if final.get("population") else "")
            + f"; trọng số nhỏ nhất {_number_vi(final['minimum'], 3)}, trung vị {_number_vi(final['median'], 3)}, "
              f"lớn nhất {_number_vi(final['maximum'], 3)} (gấp {_number_vi(final['ratio'], 1)} lần); hệ số thiết kế "
              f"do gia quyền (Kish) {_number_vi(final['kish_deff'], 2)}, cỡ mẫu hiệu dụng {_number_vi(final['effective_n'], 1)}.")
    return sentences


def _sentence(step: dict, plan: dict) -> str:
    details = step["details"]
    if step["step"] == "design":
        return ("Trọng số thiết kế: mỗi phiếu trọng số 1 (đợt khảo sát mở qua mã QR, không có mẫu rút trước)."
                if details.get("source") == "open" else
                "Trọng số thiết kế lấy từ mẫu đã rút (nghịch đảo xác suất chọn); phiếu của mỗi đơn vị chia đều tổng "
                "trọng số của những người đã gửi ở đơn vị đó (phiếu không gắn với người được chọn).")
    if step["step"] == "nonresponse":
        if not details.get("applied"):
            return "Điều chỉnh không trả lời: không áp dụng (đợt mở không có danh sách mẫu và tình trạng trả lời)."
        cells = "tầng chọn mẫu" if details.get("cells") == "stratum" else "đơn vị"
        return (f"Điều chỉnh không trả lời trong {details['classes']} lớp theo {cells}: trọng số của người không trả lời "
                f"chuyển cho người đã trả lời cùng lớp; người không đủ điều kiện ra khỏi mẫu (hệ số lớn nhất "
                f"{_number_vi(details['max_factor'], 3)}).")
    if step["step"] == "calibration":
        margins = ", ".join(_margin_vi(hit["margin"]) for hit in details.get("margins", []))
        worst = max((hit["max_relative_error"] for hit in details.get("margins", [])), default=0.0)
        text = f"Hiệu chỉnh theo số liệu tổng thể bằng {CALIBRATION_NAMES_VI[details['method']]} trên các biên: {margins}"
        if details.get("iterations"):
            text += f"; hội tụ sau {details['iterations']} vòng lặp"
        return text + f"; sai lệch tương đối lớn nhất so với tổng thể {_number_vi(worst * 100, 6)} %."
    lower, upper = details.get("lower"), details.get("upper")
    bounds = f"[{_number_vi(lower, 3) if lower is not None else '—'}; {_number_vi(upper, 3) if upper is not None else '—'}]"
    return (f"Cắt tỉa trọng số trong khoảng {bounds}: {details.get('trimmed', 0)} trọng số bị cắt, phần cắt ra chia đều "
            f"cho các trọng số còn lại để giữ tổng (như trimWeights của R), sau {details.get('iterations', 0)} lượt.")


def _margin_vi(margin: str) -> str:
    return " × ".join(MARGIN_NAMES_VI.get(part, part) for part in margin.split("×"))


def _number_vi(value: float | None, digits: int = 0) -> str:
    """1234.5 → '1.234,5' (Vietnamese separators)."""
    if value is None:
        return "—"
    text = f"{value:,.{digits}f}"
    return text.replace(",", " ").replace(".", ",").replace(" ", ".")


def warning_text(code: str) -> str:
    """analysis.weighting_plan's warning codes in Vietnamese."""
    kind, _, rest = code.partition(":")
    if kind == "small_cells":
        margin, _, levels = rest.partition(":")
        return f"Biên {_margin_vi(margin)}: ô có ít hơn 5 phiếu ({levels}); trọng số ở đó dao động nhiều"
    if kind == "above_bound":
        count, _, bound = rest.partition(":")
        return f"{count} trọng số vượt cận trên {bound}"
    return code
