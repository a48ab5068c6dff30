"""The procedure catalogue (danh mục thủ tục hành chính) dossiers refer to: code, name and domain.

Loaded from a CSV/XLSX file (`survey dossiers procedures FILE`: columns code, name, domain); an existing code is
updated, a new one added, and a file with any bad row stores nothing.
"""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import sampling
from survey_app.core import db
from survey_app.core.dossier_tables import Procedure
from survey_app.core.tables import Domain
from survey_app.dossiers.services import DossiersRefused, RowProblem, text_of

# A few procedures of the demo province, one or two per domain of the counter form (illustrative codes: a
# province loads its own catalogue).
DEMO_PROCEDURES = (
    ("1.004227", "Đăng ký đất đai, tài sản gắn liền với đất lần đầu", "dat_dai"),
    ("1.003010", "Đăng ký biến động quyền sử dụng đất", "dat_dai"),
    ("1.009645", "Quyết định chủ trương đầu tư của UBND cấp tỉnh", "dau_tu"),
    ("1.009972", "Cấp giấy phép xây dựng mới đối với nhà ở riêng lẻ", "xay_dung"),
    ("1.001193", "Đăng ký khai sinh", "ho_tich"),
    ("2.000815", "Chứng thực bản sao từ bản chính", "chung_thuc"),
    ("2.001610", "Đăng ký thành lập hộ kinh doanh", "dang_ky_kinh_doanh"),
)


async def store_procedures(rows: list[tuple[int, dict]]) -> int:
    """Check every row (code, name, known domain; no code twice), then add or update them all in one transaction."""
    domains = {row["code"]: row["id"] for row in await Domain.select(Domain.id, Domain.code)}
    problems, seen = [], {}
    for number, row in rows:
        code, name, domain = (text_of(row.get(name)) for name in ("code", "name", "domain"))
        problems += [RowProblem(number, field, f"Thiếu {label}.") for field, label, value in
                     (("code", "mã thủ tục", code), ("name", "tên thủ tục", name)) if not value]
        if len(code) > 64 or len(name) > 500:
            problems.append(RowProblem(number, "code", "Mã thủ tục tối đa 64 ký tự, tên tối đa 500 ký tự."))
        if domain not in domains:
            problems.append(RowProblem(number, "domain", f"Không có lĩnh vực mã “{domain[:40]}”."))
        if code and code in seen:
            problems.append(RowProblem(number, "code", f"Mã thủ tục trùng với dòng {seen[code]}."))
        seen.setdefault(code, number)
    if problems:
        raise DossiersRefused(problems)
    existing = {row["code"] for row in await Procedure.select(Procedure.code)}
    async with db.write_transaction():
        for _, row in rows:
            values = {"name": text_of(row["name"]), "domain": domains[text_of(row["domain"])]}
            if text_of(row["code"]) in existing:
                await Procedure.update(values).where(Procedure.code == text_of(row["code"]))
            else:
                await Procedure.insert(Procedure(code=text_of(row["code"]), **values))
    return len(rows)


def read_procedure_rows(data: bytes, filename: str) -> list[tuple[int, dict]]:
    file_format = Path(filename).suffix.lstrip(".").lower()
    try:
        table = sampling.read_table(io.BytesIO(data), file_format=file_format)
    except sampling.SamplingError as error:
        raise DossiersRefused([RowProblem(0, "file", problem.message_vi) for problem in error.problems]) from error
    table.columns = [str(column).strip().lower() for column in table.columns]
    missing = [name for name in ("code", "name", "domain") if name not in table.columns]
    if missing:
        raise DossiersRefused([RowProblem(1, name, f"Tệp thiếu cột “{name}”.") for name in missing])
    return [(int(number), row) for number, row in zip(table.index, table.to_dict("records"))]


async def import_procedures(data: bytes, filename: str) -> int:
    return await store_procedures(await asyncio.to_thread(read_procedure_rows, data, filename))


async def load_demo_procedures() -> None:
    await store_procedures([(number, {"code": code, "name": name, "domain": domain})
                            for number, (code, name, domain) in enumerate(DEMO_PROCEDURES, start=1)])
