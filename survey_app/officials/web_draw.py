"""Drawing an officials' sample from the browser: the analyst uploads the frame (CSV or XLSX), maps its columns,
sees a preview (strata, quotas, every bad row by its spreadsheet row number), then draws. The same services as
`survey sample draw` do the work (draws.draw_and_store). The uploaded frame waits in a private folder under a
random token until the draw; the slips with their one-time codes are kept there until downloaded once."""

from __future__ import annotations

import re
import secrets
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

import sampling
from sampling.errors import SamplingError
from survey_app.officials import draws, slips
from survey_app.core.tables import Unit

FIELDS = {"unit": "Mã đơn vị", "role": "Vị trí (vai trò)", "staff_id": "Mã cán bộ", "name": "Họ tên",
          "contact": "Liên hệ"}
REQUIRED_FIELDS = ("unit", "role", "staff_id")
SUFFIXES = (".csv", ".xlsx")
TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,40}$")
MAX_FRAME_BYTES = 200 * 1024
DEFAULT_QUOTAS = ["lanh_dao_phong=5", "cong_chuc=4"]  # the domain brief's plan: 5 heads of division, 4 civil servants


def private_folder() -> Path:
    folder = Path(tempfile.gettempdir()) / "sipas-frames"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


def saved_path(token: str, suffix: str = "") -> Path | None:
    """The file behind a token, or None for a malformed or unknown token (never a path outside the folder)."""
    if not TOKEN.match(token or ""):
        return None
    found = [path for path in private_folder().glob(f"{token}*") if path.name.endswith(suffix)]
    return found[0] if found else None


class FrameRefused(Exception):
    def __init__(self, messages: list[str]):
        self.messages = messages
        super().__init__("; ".join(messages))


def save_upload(filename: str, data: bytes) -> str:
    """Keep the uploaded frame (owner-only) under a new token; refused with a Vietnamese reason when unusable."""
    suffix = Path(filename or "").suffix.lower()
    if suffix not in SUFFIXES:
        raise FrameRefused(["Tệp danh sách: chỉ nhận .csv hoặc .xlsx."])
    if not data or len(data) > MAX_FRAME_BYTES:
        raise FrameRefused([f"Tệp danh sách: trống hoặc lớn quá {MAX_FRAME_BYTES // 1024} KB."])
    token = secrets.token_urlsafe(18)
    path = private_folder() / f"{token}{suffix}"
    path.write_bytes(data)
    path.chmod(0o600)
    try:
        sampling.read_table(path)
    except (SamplingError, ValueError) as error:
        path.unlink(missing_ok=True)
        raise FrameRefused([f"Tệp danh sách không đọc được: {_vietnamese(error)}"]) from error
    return token


def _vietnamese(error: Exception) -> str:
    if isinstance(error, SamplingError):
        return " ".join(problem.message_vi for problem in error.problems)
    return "định dạng không đúng."


@dataclass
class Preview:
    headers: list[str]
    mapping: dict[str, str]
    first_rows: list[dict]
    total_rows: int = 0
    problems: list[str] = field(default_factory=list)   # every bad row or setting, in Vietnamese
    strata: list[dict] = field(default_factory=list)    # unit, role, people, to draw


# Headers provinces use for each field (lowercase), besides the field's own name and label
HEADER_NAMES = {"unit": ("mã đơn vị", "đơn vị", "ma_don_vi"), "role": ("chức vụ", "vị trí", "vai trò"),
                "staff_id": ("mã cb", "mã cán bộ", "mã công chức", "số hiệu"), "name": ("họ tên", "họ và tên"),
                "contact": ("liên hệ", "điện thoại", "email")}


def guessed_mapping(headers: list[str]) -> dict[str, str]:
    """Each field mapped to the header with its own name, its label or a usual Vietnamese header, if any."""
    lowered = {header.strip().lower(): header for header in headers}
    return {name: next((lowered[known] for known in (name, label.lower(), *HEADER_NAMES[name]) if known in lowered),
                       "") for name, label in FIELDS.items()}


async def preview(token: str, mapping: dict[str, str] | None, quota_texts: list[str], level: str) -> Preview:
    path = saved_path(token)
    if path is None:
        raise FrameRefused(["Tệp danh sách đã hết hạn hoặc không có: hãy tải lên lại."])
    table = sampling.read_table(path)
    headers = [str(header) for header in table.columns]
    mapping = {name: header for name, header in (mapping or guessed_mapping(headers)).items() if header}
    result = Preview(headers, mapping, table.head(5).fillna("").to_dict("records"), len(table))
    missing = [FIELDS[name] for name in REQUIRED_FIELDS if name not in mapping]
    if missing:
        result.problems.append("Chọn cột cho: " + ", ".join(missing) + ".")
        return result
    units = await _units(level)
    imported = sampling.validate_frame(table, "officials", mapping, known_units=units)
    result.problems += [f"Dòng {problem.row}, cột “{problem.column}”: {problem.message_vi}"
                        for problem in imported.problems]
    try:
        quotas = draws.parse_quotas(quota_texts)
        sizes = imported.frame.groupby(draws.STRATA).size()
        planned = sampling.allocate_fixed(sorted(units) if level else sorted(imported.frame["unit"].unique()),
                                          quotas, stratum_sizes=sizes)
        result.strata = [{"unit": unit, "role": role, "people": int(sizes.get((unit, role), 0)), "drawn": int(n)}
                         for (unit, role), n in planned.items()]
    except SamplingError as error:
        result.problems += [problem.message_vi for problem in error.problems]
    return result


async def _units(level: str) -> dict[str, int]:
    query = Unit.select(Unit.id, Unit.code)
    rows = await (query.where(Unit.level == level) if level else query)
    return {row["code"]: row["id"] for row in rows}


def mapping_text(mapping: dict[str, str]) -> str:
    return ",".join(f"{name}={header}" for name, header in mapping.items())


async def draw(secret_key: str, base_url: str, campaign_code: str, token: str, mapping: dict[str, str],
               quota_texts: list[str], level: str, seed: int) -> tuple[int, str]:
    """Draw and store; the slips PDF (the only place the codes are written) kept for one download. (members, token)"""
    path = saved_path(token)
    if path is None:
        raise FrameRefused(["Tệp danh sách đã hết hạn hoặc không có: hãy tải lên lại."])
    stored = await draws.draw_and_store(secret_key, campaign_code, path, mapping_text(mapping), quota_texts, seed,
                                        level or None)
    path.unlink(missing_ok=True)  # the frame (names) is not kept once drawn
    title, printable, _ = await draws.printable_slips(secret_key, stored.slips.to_dict("records"))
    return len(printable), keep_once(slips.slips_pdf(printable, title, base_url, with_names=True), ".pdf")


def keep_once(data: bytes, suffix: str) -> str:
    token = secrets.token_urlsafe(18)
    path = private_folder() / f"{token}-once{suffix}"
    path.write_bytes(data)
    path.chmod(0o600)
    return token


def take_once(token: str) -> bytes | None:
    """A kept file's bytes, deleted as it is read: codes are printed once."""
    path = saved_path(token, "-once.pdf")
    if path is None:
        return None
    data = path.read_bytes()
    path.unlink(missing_ok=True)
    return data


async def replacement_slip(secret_key: str, base_url: str, campaign_code: str, ref_prefix: str, reason: str,
                           ineligible: bool) -> str:
    """Replace one member by the next reserve; the new member's slip kept for one download (its token)."""
    replacement = await draws.replace(secret_key, campaign_code, ref_prefix, reason, ineligible=ineligible)
    row = {"campaign": campaign_code, "unit": replacement.unit, "role": replacement.role,
           "staff_ref": replacement.staff_ref, "code": replacement.code}
    title, printable, _ = await draws.printable_slips(secret_key, [row])
    return keep_once(slips.slips_pdf(printable, title, base_url), ".pdf")


