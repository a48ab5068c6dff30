"""Samples of officials and dossiers, for `survey sample draw|slips|draw-dossiers|show|export|replace`: draw for a
campaign, print slips, track responses, export the sample design.

The async functions do the work on a connected database and return text/tables; refusals are the sampling
library's SamplingError with its bilingual problems.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd

from survey_app.officials import dossier_draws
from survey_app.officials import draws, slips
from survey_app.core.settings import Settings


def refuse_existing(option: str, path: Path | None) -> None:
    if path is not None and path.exists():
        raise draws.refuse(option, f"Tệp {path} đã tồn tại; không ghi đè mã.",
                           f"{path} already exists; codes are never overwritten.")


def write_private(path: Path, content: bytes) -> None:
    """Codes are bearer secrets: the file is readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    path.chmod(0o600)


async def write_slips(settings: Settings, rows: list[dict], output: Path, with_names: bool) -> list[str]:
    """The slips PDF of the codes still open among `rows`; returns report lines (what was left out)."""
    title, printable, notes = await draws.printable_slips(settings.secret_key, rows)
    write_private(output, slips.slips_pdf(printable, title, settings.base_url, with_names=with_names))
    return [f"wrote {len(printable)} slip(s) to {output} ({-(-len(printable) // 8)} A4 page(s), cut along the "
            "dashed lines)", *notes]


async def run_draw(settings: Settings, campaign: str, frame: Path, mapping: str | None, quotas: list[str],
                   seed: int, level: str | None, codes_out: Path | None, slips_out: Path | None = None,
                   slip_names: bool = False) -> str:
    """Draw and store; write the codes CSV and the slips PDF (plain codes, once); return the report text."""
    refuse_existing("--codes-out", codes_out)
    refuse_existing("--slips", slips_out)
    stored = await draws.draw_and_store(settings.secret_key, campaign, frame, mapping, quotas, seed, level)
    lines = [f"draw {stored.draw_id} for campaign {campaign}: seed {seed}, {len(stored.sample.members)} members, "
             f"{len(stored.sample.reserves)} reserves",
             stored.table.to_string()]
    if codes_out is not None:
        codes_out.parent.mkdir(parents=True, exist_ok=True)
        stored.slips.to_csv(codes_out, index=False, encoding="utf-8-sig", quoting=csv.QUOTE_MINIMAL)
        codes_out.chmod(0o600)
        lines.append(f"wrote {len(stored.slips)} invitation codes to {codes_out} (shown once: print the slips, "
                     "then keep or destroy this file; the database holds only hashes)")
    if slips_out is not None:
        lines += await write_slips(settings, stored.slips.to_dict("records"), slips_out, slip_names)
    if codes_out is None and slips_out is None:
        lines.append("no --codes-out or --slips given: the codes were not written anywhere and cannot be recovered")
    return "\n".join(lines)


async def run_slips(settings: Settings, codes_file: Path, output: Path, with_names: bool) -> str:
    refuse_existing("--output", output)
    with codes_file.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    missing = [column for column in draws.SLIP_FILE_COLUMNS if rows and column not in rows[0]]
    if not rows or missing:
        raise draws.refuse(str(codes_file), f"Tệp mã phải có các cột {', '.join(draws.SLIP_FILE_COLUMNS)} và ít "
                           f"nhất một dòng; thiếu: {', '.join(missing) or 'dòng'}.",
                           f"the codes file needs columns {', '.join(draws.SLIP_FILE_COLUMNS)} and at least one "
                           f"row; missing: {', '.join(missing) or 'rows'}.")
    return "\n".join(await write_slips(settings, rows, output, with_names))


async def run_draw_dossiers(frame: Path | None, mapping: str | None, design: dossier_draws.DossierDesign, seed: int,
                            output: Path, bad_rows: Path | None, stored_period=None) -> str:
    """Draw dossiers in three stages (from a frame file, or the stored dossiers returned in `stored_period`); write
    the selection (and the bad-rows report); return the report text."""
    refuse_existing("--output", output)
    drawn = await dossier_draws.draw_dossiers(frame, mapping, design, seed, stored_period)
    selected = drawn.table[drawn.table["status"] == "selected"]
    write_private(output, drawn.table.to_csv(index=False).encode("utf-8-sig"))
    summary = drawn.imported.summary()
    lines = [f"read {summary['total_rows']} row(s): {summary['good_rows']} drawn from, {summary['bad_rows']} bad "
             f"row(s) left out / {summary['bad_rows']} dòng lỗi bị loại",
             f"seed {seed}: {len(selected)} dossier(s) selected from {selected['unit'].nunique()} unit(s) and "
             f"{selected[['unit', 'completion_date']].drop_duplicates().shape[0]} day(s), "
             f"{len(drawn.table) - len(selected)} reserve(s); design weights sum to "
             f"{selected['design_weight'].sum():.1f} (frame: {summary['good_rows']})",
             f"wrote {output}"]
    if drawn.imported.problems:
        report = bad_rows or output.with_name(output.stem + ".bad_rows.csv")
        report.parent.mkdir(parents=True, exist_ok=True)
        drawn.imported.problems_frame().to_csv(report, index=False, encoding="utf-8-sig")
        lines.append(f"bad rows / dòng lỗi: {report}")
        lines += [f"  row {problem.row}, {problem.column}: {problem.message_vi} / {problem.message_en}"
                  for problem in drawn.imported.problems[:10]]
        if len(drawn.imported.problems) > 10:
            lines.append(f"  … {len(drawn.imported.problems) - 10} more in {report}")
    return "\n".join(lines)


async def run_show(campaign: str) -> str:
    members = await draws.members_frame(campaign)
    if members.empty:
        return f"campaign {campaign}: no members"
    tracking = draws.tracking_table(members)
    waiting = draws.reminders(members)
    with pd.option_context("display.width", 200, "display.max_rows", 10_000, "display.max_columns", 20,
                           "display.float_format", "{:.3f}".format):
        return "\n".join([
            f"campaign {campaign}: response tracking per stratum (AAPOR RR1, RR3; ineligible members are out of "
            "both denominators; e = estimated eligibility of those not started, used by RR3)",
            tracking.to_string(), "",
            f"reminders: {len(waiting)} member(s) have not submitted (unit, role, staff reference prefix)",
            waiting.to_string(index=False) if len(waiting) else "(none)",
        ])


async def run_export(campaign: str, output: Path) -> int:
    exported = draws.export_frame(await draws.members_frame(campaign))
    output.parent.mkdir(parents=True, exist_ok=True)
    exported.to_csv(output, index=False, encoding="utf-8-sig")
    return len(exported)


async def run_replace(settings: Settings, campaign: str, ref: str, reason: str, frame: Path | None,
                      mapping: str | None, ineligible: bool, slips_out: Path | None, slip_names: bool) -> str:
    """Replace a member by the next reserve of the same stratum; the lines to print (the new code once)."""
    refuse_existing("--slips", slips_out)
    incoming = await draws.replace(settings.secret_key, campaign, ref, reason, frame, mapping, ineligible)
    who = ", ".join(f"{key} {value}" for key, value in incoming.person.items()) or "(give --frame to name them)"
    lines = [f"replacement in {incoming.stratum}: staff ref {incoming.staff_ref} {who}",
             f"code (shown once, not stored): {incoming.code}"]
    if slips_out is not None:
        row = {"campaign": campaign, "unit": incoming.unit, "role": incoming.role, "code": incoming.code,
               "staff_ref": incoming.staff_ref, "name": incoming.person.get("name", "")}
        lines = await write_slips(settings, [row], slips_out, slip_names) + lines
    return "\n".join(lines)
