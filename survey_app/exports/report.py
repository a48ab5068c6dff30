"""The Vietnamese campaign report: method, sample, SIPAS indices with 95 % CIs per province, level, domain and unit,
rankings, charts and targets met or missed — as an HTML string and PDF bytes (fpdf2, DejaVu Sans).

Figures come from survey_app/results/figures.py, as on every page (the campaign's stored sums, analysis.aggregates). A unit's
index covers the unit and the units below it, as the dashboard, manager view and index API show it; a group with fewer responses than the threshold
(SUPPRESS_BELOW, 5 by default) shows "không đủ số phiếu" instead of a figure and is not ranked. Officials' answers
of a unit with fewer than the threshold are in no figure at all (survey_app/results/suppression.py), and responses the
analyst excluded after the quality review are left out, as on every published page.

Building takes a second or two of CPU (matplotlib, fpdf2): only the database reads run on the event loop, the rest
in a worker thread, so the web worker keeps answering other requests (citizens' forms among them) meanwhile.
Built reports are kept per state of the campaign's data, as the dashboard's figures are: a second click is instant
and a new answer or new weights mean building again.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

from cachetools import LRUCache

from analysis.export_writers import nfc
from survey_app.core import worker_process
from survey_app.results.dashboard import NotEnoughData, campaign_figures, published
from survey_app.core.settings import SMALL_GROUP_DEFAULT
from survey_app.core.single_flight import cached_or_built
from survey_app.core.vietnam_time import today_in_vietnam
from survey_app.core.wording import design_note_vi, domain_label

NOT_ENOUGH = "không đủ số phiếu"
LEVEL_NAMES = {"province": "Tỉnh", "so": "Sở, ban, ngành", "huyen": "UBND cấp huyện", "xa": "UBND cấp xã"}
OPERATORS = {">=": lambda value, target: value >= target, ">": lambda value, target: value > target}
_reports: LRUCache = LRUCache(maxsize=8)  # a report holds its PDF: a few hundred kB


class ReportError(Exception):
    """A refusal with a message for the user; nothing is written."""


@dataclass(frozen=True)
class Target:
    """A figure the province set itself: scope province (overall), domain or unit, compared with >= or >."""

    scope: str
    value: float
    operator: str = ">="
    key: str | None = None

    def met_by(self, figure: float | None) -> bool | None:
        return None if figure is None else OPERATORS[self.operator](figure, self.value)

    def label(self) -> str:
        sign = "≥" if self.operator == ">=" else ">"
        return f"{sign} {_number(self.value)} %"


DEFAULT_TARGETS = (Target("province", 90.0), Target("unit", 90.0), Target("domain", 82.0, ">", "dat_dai"),
                   Target("domain", 84.0, ">", "dau_tu"))


def read_targets(path: Path) -> list[Target]:
    """Targets from YAML or JSON: a list of {scope: province|unit|domain, value, operator: '>=' or '>', key}."""
    import yaml

    try:
        entries = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise ReportError(f"không đọc được tệp mục tiêu {path}: {error}") from error
    entries = entries.get("targets") if isinstance(entries, dict) else entries
    if not isinstance(entries, list) or not entries:
        raise ReportError(f"{path}: cần một danh sách mục tiêu / expected a list of targets")
    return [_target(path, position, entry) for position, entry in enumerate(entries, 1)]


def _target(path: Path, position: int, entry) -> Target:
    where = f"{path}: mục tiêu thứ {position} / target {position}"
    if not isinstance(entry, dict) or entry.get("scope") not in ("province", "unit", "domain"):
        raise ReportError(f"{where}: scope phải là province, unit hoặc domain")
    if entry.get("operator", ">=") not in OPERATORS:
        raise ReportError(f"{where}: operator phải là '>=' hoặc '>'")
    if entry["scope"] == "domain" and not entry.get("key"):
        raise ReportError(f"{where}: mục tiêu lĩnh vực cần key (mã lĩnh vực, ví dụ dat_dai)")
    try:
        value = float(entry["value"])
    except (KeyError, TypeError, ValueError):
        raise ReportError(f"{where}: value phải là một số phần trăm, ví dụ 90") from None
    return Target(entry["scope"], value, entry.get("operator", ">="), entry.get("key"))


@dataclass
class GroupRow:
    """One line of a report table: a group's overall index with its CI, or too few responses to show one."""

    code: str
    name: str
    responses: int
    overall: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    factors: dict = field(default_factory=dict)
    rank: int | None = None
    target_met: bool | None = None

    @property
    def shown(self) -> bool:
        return self.overall is not None  # None too when the group is below the threshold (_group_row)


@dataclass
class Report:
    """What the report says (for tests and pages) and the two renderings."""

    campaign: dict
    facts: dict
    province: GroupRow
    levels: list[GroupRow]
    domains: list[GroupRow]
    units: list[GroupRow]
    targets: list[dict]
    factor_names: dict
    minimum: int  # the smallest group with a figure (SUPPRESS_BELOW)
    charts: dict = field(default_factory=dict)
    html: str = ""
    pdf: bytes = b""


def _number(value: float | None) -> str:
    """Vietnamese decimal comma: 87,5."""
    return "—" if value is None else f"{value:.1f}".replace(".", ",")


def _group_row(code: str, name: str, result: dict, minimum: int) -> GroupRow:
    row = GroupRow(code, name, result["response_count"])
    if row.responses >= minimum:
        row.overall, row.ci_low, row.ci_high = result["overall"], result["ci_low"], result["ci_high"]
        row.factors = {factor["key"]: factor["value"] for factor in result["factors"]}
    return row


async def build_report(campaign_code: str, targets: list[Target] | None = None, today: dt.date | None = None,
                       minimum: int = SMALL_GROUP_DEFAULT) -> Report:
    """The report of one campaign: HTML string and PDF bytes, for the CLI and the web layer alike. A group with
    fewer than `minimum` responses (SUPPRESS_BELOW) shows no figure. Cached: do not change the Report returned."""
    from survey_app.core.tables import Campaign

    targets, today = list(targets or DEFAULT_TARGETS), today or today_in_vietnam()
    campaign = await Campaign.select().where(Campaign.code == campaign_code).first()
    if campaign is None:
        raise ReportError(f"no campaign with code {campaign_code!r}")
    if not published(campaign):
        raise ReportError(f"Đợt khảo sát công chức {campaign_code} chưa kết thúc: báo cáo được lập sau khi đóng đợt "
                          "(kết quả từng phần để lộ từng câu trả lời mới) / an officials' campaign is reported once "
                          "it is closed")
    names = await _names()
    try:
        figures = await campaign_figures(campaign, True, minimum)
    except NotEnoughData as error:
        raise ReportError(str(error)) from error
    # Everything the report prints: the figures (cached per state of the stored sums), the campaign's row, unit and
    # domain names, targets, threshold and date.
    inputs = {name: figures[name] for name in ("province", "by", "responses", "design", "scoring", "left_out", "cells")}
    inputs["weighting"] = await _weighting_facts(campaign["id"])
    key = (id(figures), repr((campaign, names, inputs["weighting"])), tuple(targets), minimum, today)
    return await cached_or_built(_reports, key, lambda: worker_process.run(
        compose_report, campaign, inputs, names, targets, today, minimum))


def compose_report(campaign: dict, figures: dict, names: dict, targets: list[Target], today: dt.date,
                   minimum: int) -> Report:
    """Figures, charts, HTML and PDF from data already read: it runs in a worker thread, so no database here."""
    from survey_app.results.charts import DRAWING

    report = collect_report(campaign, figures, names, targets, today, minimum)
    with DRAWING:
        report.charts = {"units": units_chart(report), "factors": factors_chart(report)}
    report.html = render_html(report)
    report.pdf = render_pdf(report)
    return report


async def write_report(campaign_code: str, out_dir: Path, targets: list[Target] | None = None,
                       minimum: int = SMALL_GROUP_DEFAULT) -> list[Path]:
    report = await build_report(campaign_code, targets, minimum=minimum)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in (("report.html", report.html.encode()), ("report.pdf", report.pdf)):
        partial = out_dir / f".{name}.partial"
        partial.write_bytes(content)
        partial.replace(out_dir / name)
        written.append(out_dir / name)
    return written


def collect_report(campaign: dict, figures: dict, names: dict, targets: list[Target], today: dt.date,
                   minimum: int) -> Report:
    by = figures["by"]
    province = _group_row(campaign["code"], names["province"], figures["province"], minimum)
    levels = [_group_row(level, LEVEL_NAMES.get(level, level), result, minimum) for level, result in by["level"].items()]
    domains = [_group_row(code, names["domains"].get(code, code), result, minimum)
               for code, result in by["domain"].items()]
    units = _unit_rows(by["unit"], names, minimum, figures["left_out"])
    report = Report(campaign, _facts(campaign, figures, today), province, levels, domains, units, [],
                    {factor["key"]: nfc(factor["label"]["vi"]) for factor in figures["scoring"]["factors"]}, minimum)
    report.targets = _judge_targets(report, targets)
    return report


async def _names() -> dict:
    from survey_app.core.tables import Domain, Unit

    units = await Unit.select(Unit.id, Unit.code, Unit.name, Unit.level, Unit.parent).order_by(Unit.id)
    province = next((unit for unit in units if unit["level"] == "province"), {"name": "Tỉnh", "code": None})
    domains = {row["code"]: nfc(row["name"]) for row in await Domain.select(Domain.code, Domain.name)
               .order_by(Domain.code)}
    return {"units": units, "province": nfc(province["name"]), "province_code": province["code"], "domains": domains}


def _unit_rows(by_unit: dict, names: dict, minimum: int, left_out: dict) -> list[GroupRow]:
    """Each unit with responses in it or below it (figures.py: the unit and the units below it). A unit whose
    officials' answers were left out, and nothing below it counted, is listed without a figure."""
    rows = []
    for unit in names["units"]:
        if unit["level"] == "province":
            continue
        if unit["code"] in by_unit:
            rows.append(_group_row(unit["code"], nfc(unit["name"]), by_unit[unit["code"]], minimum))
        elif unit["code"] in left_out:
            rows.append(GroupRow(unit["code"], nfc(unit["name"]), left_out[unit["code"]]))
    _rank(rows)
    return rows


def _rank(rows: list[GroupRow]) -> None:
    """Rank 1 = highest index; equal figures share a rank; units without a figure are not ranked."""
    shown = sorted((row for row in rows if row.shown), key=lambda row: -row.overall)
    for position, row in enumerate(shown, 1):
        row.rank = position if position == 1 or row.overall != shown[position - 2].overall else shown[position - 2].rank


# Scoring key of the questionnaire → (report title, the index's short name): a counter rating under Decision 766 is
# not SIPAS, nor is the officials' PAR INDEX survey.
REPORT_TITLES = {
    "sipas": ("Báo cáo kết quả khảo sát mức độ hài lòng của người dân, tổ chức (SIPAS)", "Chỉ số SIPAS"),
    "decision_766_satisfaction": ("Báo cáo kết quả khảo sát mức độ hài lòng của người dân, tổ chức tại bộ phận một "
                                  "cửa (Quyết định 766/QĐ-TTg)", "Chỉ số hài lòng"),
    "par_index_survey": ("Báo cáo kết quả điều tra xã hội học, Chỉ số cải cách hành chính (PAR INDEX)",
                         "Điểm điều tra xã hội học"),
}


def _titles(scoring: dict) -> tuple[str, str]:
    label = nfc(scoring.get("label", {}).get("vi", "")) or "mức độ hài lòng"
    return REPORT_TITLES.get(scoring.get("key"), (f"Báo cáo kết quả khảo sát: {label}", "Chỉ số"))


def _facts(campaign: dict, figures: dict, today: dt.date) -> dict:
    title, index_name = _titles(figures["scoring"])
    cells = figures["cells"]
    by_level: dict[str, int] = {}
    for cell in cells.cells:
        by_level[cell.level] = by_level.get(cell.level, 0) + cell.sums.responses
    return {
        "title": title,
        "index_name": index_name,
        "subtitle": nfc(campaign["name"]),
        "period": f"{_date(campaign['starts_on'])} – {_date(campaign['ends_on'])}",
        "made_on": today.strftime("%d/%m/%Y"),
        "responses": figures["responses"],
        "left_out": sum(figures["left_out"].values()),
        "units_answered": len({cell.unit for cell in cells.cells if cell.sums.responses}),
        "responses_by_level": {LEVEL_NAMES.get(level, level): count for level, count in sorted(by_level.items())},
        "design_note": figures["design"],
        "all_weights_one": cells.total().all_weights_one,
        "weighting": figures.get("weighting"),
    }


async def _weighting_facts(campaign_id: int) -> dict | None:
    """The weight version the figures use and its method in Vietnamese (written from the plan actually run)."""
    from survey_app.core.vietnam_time import VIETNAM_TIME
    from survey_app.results.weighting import version_in_use

    version = await version_in_use(campaign_id)
    if version is None:
        return None
    return {"number": version["number"], "created_by": version["created_by"],
            "created": version["created"].astimezone(VIETNAM_TIME).strftime("%d/%m/%Y %H:%M"),
            "method": version["method"]}


def _weighting_lines(report: Report) -> list[str]:
    weighting = report.facts.get("weighting")
    if weighting is None:
        return ["Gia quyền: chưa gia quyền, mọi phiếu có trọng số 1."]
    return [nfc(f"Gia quyền: phiên bản trọng số {weighting['number']}, chạy bởi {weighting['created_by']} lúc "
                f"{weighting['created']}."), *(nfc(sentence) for sentence in weighting["method"])]


def _date(value) -> str:
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    return value.strftime("%d/%m/%Y")


def _judge_targets(report: Report, targets: list[Target]) -> list[dict]:
    judged = []
    for target in targets:
        if target.scope == "unit":
            for row in report.units:
                row.target_met = target.met_by(row.overall if row.shown else None)
            met = sum(1 for row in report.units if row.target_met)
            judged.append({"what": f"Số đơn vị đạt mục tiêu ({report.facts['index_name']})", "target": target.label(),
                           "figure": f"{met}/{sum(1 for row in report.units if row.shown)} đơn vị", "met": None})
            continue
        row = report.province if target.scope == "province" else next(
            (domain for domain in report.domains if domain.code == target.key), None)
        what = f"{report.facts['index_name']} toàn tỉnh" if target.scope == "province" else \
            domain_label(row.name if row else target.key)
        figure = row.overall if row is not None and row.shown else None
        judged.append({"what": what, "target": target.label(),
                       "figure": NOT_ENOUGH if figure is None else f"{_number(figure)} %",
                       "met": target.met_by(figure)})
    return judged


# Charts (matplotlib's object API, PNG; drawn in a worker thread holding charts.DRAWING, see results/charts.py).

PRINTED_WIDTH_MM = 170  # both charts are placed this wide on the A4 page


def units_chart(report: Report) -> bytes:
    return _png(units_figure(report))


def units_figure(report: Report):
    from matplotlib.figure import Figure

    from survey_app.results.charts import error_bars

    shown = sorted((row for row in report.units if row.shown), key=lambda row: row.overall)
    # Printed 170 mm wide (0.84 of the 8-inch figure): 10-point names stay above 8 points on paper.
    figure = Figure(figsize=(8, max(3.0, 0.28 * len(shown) + 1.0)), dpi=150)
    axes = figure.subplots()
    positions = range(len(shown))
    errors = error_bars([row.overall for row in shown], [row.ci_low for row in shown], [row.ci_high for row in shown])
    bars = axes.barh(list(positions), [row.overall for row in shown], xerr=errors, color="#2f6f9f", ecolor="#555",
                     capsize=2)
    axes.bar_label(bars, labels=[_number(row.overall) for row in shown], label_type="center", color="white",
                   fontsize=9)
    axes.set_yticks(list(positions), [_short_name(row.name) for row in shown], fontsize=10)
    unit_target = next((target for target in DEFAULT_TARGETS if target.scope == "unit"), None)
    if unit_target:
        axes.axvline(unit_target.value, color="#c0392b", linestyle="--", label=f"Mục tiêu {unit_target.label()}")
        axes.legend(loc="lower right", fontsize=7)
    axes.set_xlim(0, 100)
    axes.set_xlabel("Chỉ số hài lòng (%), khoảng tin cậy 95 %")
    axes.set_title(f"{report.facts['index_name']} theo đơn vị", fontsize=11)
    return figure


def _short_name(name: str, width: int = 40) -> str:
    return name if len(name) <= width else name[: width - 1] + "…"


def factors_chart(report: Report) -> bytes:
    from matplotlib.figure import Figure

    keys = list(report.factor_names)
    figure = Figure(figsize=(8, 0.5 * len(keys) + 1.2), dpi=150)
    axes = figure.subplots()
    values = [report.province.factors.get(key) or 0 for key in keys]
    axes.barh(range(len(keys)), values, color="#3c8d5a")
    axes.set_yticks(range(len(keys)), [_short_name(report.factor_names[key]) for key in keys], fontsize=10)
    axes.invert_yaxis()
    axes.set_xlim(0, 100)
    for position, value in enumerate(values):
        axes.text(value + 1, position, _number(value), va="center", fontsize=10)
    axes.set_title("Chỉ số toàn tỉnh theo yếu tố", fontsize=11)
    return _png(figure)


def _png(figure) -> bytes:
    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


# HTML (Jinja2, autoescaped) and PDF (fpdf2).

def render_html(report: Report) -> str:
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    environment = Environment(loader=FileSystemLoader(Path(__file__).parent.parent / "templates"),
                              autoescape=select_autoescape(["html"]))
    environment.filters["number"] = _number
    charts = {name: base64.b64encode(data).decode() for name, data in report.charts.items()}
    return nfc(environment.get_template("report.html").render(
        report=report, charts=charts, not_enough=NOT_ENOUGH, ranked_units=ranked_units(report),
        method=_method_text(report), weighting=_weighting_lines(report), sample_lines=_sample_lines(report)))


def render_pdf(report: Report) -> bytes:
    from survey_app.core.pdf import vietnamese_pdf

    document = vietnamese_pdf()
    document.set_title(report.facts["title"])
    document.add_page()
    _pdf_heading(document, report)
    _pdf_section(document, "1. Phương pháp", [_method_text(report), *_weighting_lines(report)])
    _pdf_section(document, "2. Mẫu khảo sát", _sample_lines(report))
    _pdf_table(document, "3. Chỉ số toàn tỉnh và theo cấp", [report.province, *report.levels], ranked=False)
    _pdf_table(document, "4. Chỉ số theo lĩnh vực", report.domains, ranked=False)
    _pdf_targets(document, report)
    # The sections flow on (fpdf breaks pages itself): forced page breaks left a page with a few lines on it.
    _pdf_table(document, "6. Xếp hạng đơn vị", ranked_units(report), ranked=True)
    _pdf_chart(document, report.charts["factors"], "7. Biểu đồ")
    _pdf_chart(document, report.charts["units"])
    return bytes(document.output())


def ranked_units(report: Report) -> list[GroupRow]:
    """Ranked units first (best first), then the units with too few responses."""
    return sorted(report.units, key=lambda row: (row.rank is None, row.rank or 0, row.code))


def _method_text(report: Report) -> str:
    return nfc("Chỉ số của một tiêu chí là tỷ lệ (có trọng số) câu trả lời “hài lòng” hoặc “rất hài lòng” trên số câu "
               "trả lời hợp lệ (không tính “không áp dụng / không biết”); chỉ số yếu tố là trung bình cộng các tiêu chí, "
               "chỉ số chung là trung bình cộng các yếu tố. Khoảng tin cậy 95 % theo phương pháp tuyến tính hoá Taylor "
               "(logit). Chỉ số của một đơn vị gồm cả các đơn vị cấp dưới. Nhóm có dưới "
               f"{report.minimum} phiếu ghi “{NOT_ENOUGH}”. Phiếu bị loại khi kiểm tra chất lượng không được tính. "
               f"Để bảo vệ người trả lời, câu trả lời của công chức tại đơn vị có dưới {report.minimum} phiếu không "
               f"được tính vào bất kỳ chỉ số nào. Thiết kế: {design_note_vi(report.facts['design_note'])}.")


def _sample_lines(report: Report) -> list[str]:
    facts = report.facts
    lines = [f"Thời gian khảo sát: {facts['period']}. Số phiếu hợp lệ: {facts['responses']}; "
             f"số đơn vị có phiếu: {facts['units_answered']}."]
    lines += [f"– {level}: {count} phiếu" for level, count in facts["responses_by_level"].items()]
    if facts["left_out"]:
        lines.append(f"Không tính (công chức tại đơn vị dưới {report.minimum} phiếu): {facts['left_out']} phiếu.")
    return lines


def _pdf_heading(document, report: Report) -> None:
    document.set_font(size=15, style="B")
    document.multi_cell(0, 8, report.facts["title"], new_x="LMARGIN", new_y="NEXT")
    document.set_font(size=11, style="")
    document.multi_cell(0, 6, f"{report.facts['subtitle']} — {report.province.name}", new_x="LMARGIN", new_y="NEXT")
    document.multi_cell(0, 6, f"Ngày lập báo cáo: {report.facts['made_on']}", new_x="LMARGIN", new_y="NEXT")
    document.ln(3)


def _pdf_section(document, title: str, paragraphs: list[str]) -> None:
    document.set_font(size=12, style="B")
    document.multi_cell(0, 7, title, new_x="LMARGIN", new_y="NEXT")
    document.set_font(size=10, style="")
    for paragraph in paragraphs:
        document.multi_cell(0, 5.5, paragraph, new_x="LMARGIN", new_y="NEXT")
    document.ln(2)


def _pdf_table(document, title: str, rows: list[GroupRow], ranked: bool) -> None:
    _pdf_section(document, title, [])
    header = (["Hạng"] if ranked else []) + ["Đơn vị / nhóm", "Số phiếu", "Chỉ số (%)", "KTC 95 %"] + \
        (["Mục tiêu"] if ranked else [])
    widths = ((12,) if ranked else ()) + (90, 20, 22, 30) + ((16,) if ranked else ())
    document.set_font(size=9)
    with document.table(col_widths=widths, text_align="LEFT", line_height=5.5) as table:
        table.row(header)
        for row in rows:
            table.row([cell for cell in _table_cells(row, ranked)])
    document.ln(3)


def _table_cells(row: GroupRow, ranked: bool) -> list[str]:
    figure = [_number(row.overall), f"{_number(row.ci_low)} – {_number(row.ci_high)}"] if row.shown else [NOT_ENOUGH, ""]
    met = {True: "đạt", False: "chưa đạt", None: ""}[row.target_met]
    return ([str(row.rank or "")] if ranked else []) + [row.name, str(row.responses), *figure] + ([met] if ranked else [])


def _pdf_chart(document, png: bytes, title: str = "") -> None:
    """A chart PRINTED_WIDTH_MM wide (narrower if it would not fit on one page), kept on one page with its title."""
    from PIL import Image

    width_px, height_px = Image.open(io.BytesIO(png)).size
    usable_height = document.page_break_trigger - document.t_margin - (10 if title else 0)
    width = min(PRINTED_WIDTH_MM, usable_height * width_px / height_px)
    height = width * height_px / width_px + (10 if title else 0)
    if document.get_y() + height > document.page_break_trigger:
        document.add_page()
    if title:
        _pdf_section(document, title, [])
    document.image(io.BytesIO(png), w=width)
    document.ln(3)


def _pdf_targets(document, report: Report) -> None:
    _pdf_section(document, "5. Mục tiêu", [])
    document.set_font(size=9)
    with document.table(col_widths=(80, 30, 40, 24), text_align="LEFT", line_height=5.5) as table:
        table.row(["Chỉ tiêu", "Mục tiêu", "Kết quả", "Đánh giá"])
        for target in report.targets:
            verdict = {True: "đạt", False: "chưa đạt", None: ""}[target["met"]]
            table.row([target["what"], target["target"], target["figure"], verdict])
    document.ln(3)


def report_json(report: Report) -> str:
    """The report's figures as JSON (for pages that draw their own charts)."""
    rows = lambda items: [row.__dict__ for row in items]  # noqa: E731
    return json.dumps({"facts": report.facts, "province": report.province.__dict__, "levels": rows(report.levels),
                       "domains": rows(report.domains), "units": rows(report.units), "targets": report.targets},
                      ensure_ascii=False, default=str)
