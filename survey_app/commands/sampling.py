"""`survey sample draw|show|export`: draw officials for a campaign, track responses, export the sample design.

The async functions do the work and return text/tables so tests can call them directly; the typer commands
only open the database, call them and print. Every refusal prints the library's bilingual problems, exit 1.
"""

from __future__ import annotations

import asyncio
import csv
from pathlib import Path
from typing import Optional

import pandas as pd
import typer

import sampling
from survey_app import db, dossier_draws
from survey_app.officials import draws, slips
from survey_app.server_key import KeyMismatch, require_server_key
from survey_app.settings import Settings

sample_app = typer.Typer(help="Random samples of officials and their invitation codes.", no_args_is_help=True)


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


async def run_draw_dossiers(frame: Path, mapping: str | None, design: dossier_draws.DossierDesign, seed: int,
                            output: Path, bad_rows: Path | None) -> str:
    """Draw dossiers in three stages; write the selection (and the bad-rows report); return the report text."""
    refuse_existing("--output", output)
    drawn = await dossier_draws.draw_dossiers(frame, mapping, design, seed)
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


async def _with_database(work):
    settings = Settings.from_env()

    async def checked_then_work():
        await require_server_key(settings.secret_key)  # codes keyed otherwise would be refused by the server
        return await work(settings)

    return await db.run_connected(settings, checked_then_work)


def _run(work):
    try:
        return asyncio.run(_with_database(work))
    except KeyMismatch as refused:
        typer.echo(f"refused / từ chối: {refused.message_vi} / {refused.message_en}", err=True)
        raise typer.Exit(code=1)
    except sampling.SamplingError as error:
        typer.echo("refused / từ chối:", err=True)
        for problem in error.problems:
            typer.echo(f"  {problem.where}: {problem.message_vi} / {problem.message_en}", err=True)
        raise typer.Exit(code=1)


@sample_app.command("draw")
def draw(
    campaign: str = typer.Option(..., help="campaign code"),
    frame: Path = typer.Option(..., exists=True, dir_okay=False, help="officials frame, CSV or XLSX"),
    mapping: Optional[str] = typer.Option(None, help="field=column header, comma-separated, e.g. "
                                          "unit=Mã đơn vị,role=Chức vụ,staff_id=Mã CB,name=Họ tên"),
    quota: list[str] = typer.Option(..., help="role=n, once per role (per unit)"),
    seed: Optional[int] = typer.Option(None, help="random seed (default: a new one, printed and stored)"),
    level: Optional[str] = typer.Option(None, help="every unit of this level (so, huyen) must be in the frame"),
    codes_out: Optional[Path] = typer.Option(None, help="CSV of the plain codes for printing (written once)"),
    slips_out: Optional[Path] = typer.Option(None, "--slips", help="PDF of printable slips, 8 per A4 page "
                                             "(written once)"),
    slip_names: bool = typer.Option(False, "--slip-names", help="print each person's name from the frame on "
                                    "their slip (never stored)"),
) -> None:
    """Draw officials by unit × role with fixed quotas; store members, reserves and code hashes."""
    chosen_seed = sampling.new_seed() if seed is None else seed
    typer.echo(_run(lambda settings: run_draw(settings, campaign, frame, mapping, quota, chosen_seed, level,
                                              codes_out, slips_out, slip_names)))


@sample_app.command("slips")
def print_slips(
    codes_file: Path = typer.Argument(..., exists=True, dir_okay=False, help="codes CSV written by draw "
                                      "--codes-out"),
    output: Path = typer.Option(..., "-o", "--output", help="PDF to write"),
    names: bool = typer.Option(False, "--names", help="print the name column of the codes file on each slip"),
) -> None:
    """Printable slips (A4, 8 per page) of the codes in a codes CSV that are still open."""
    typer.echo(_run(lambda settings: run_slips(settings, codes_file, output, names)))


@sample_app.command("draw-dossiers")
def draw_dossiers(
    frame: Path = typer.Argument(..., exists=True, dir_okay=False, help="dossier frame, CSV or XLSX"),
    output: Path = typer.Option(..., "-o", "--output", help="CSV of the selected dossiers and reserves"),
    units: int = typer.Option(..., help="units drawn per stratum (first stage)"),
    days: int = typer.Option(..., help="completion days drawn per selected unit (second stage)"),
    dossiers: int = typer.Option(..., help="dossiers drawn per selected day (third stage)"),
    unit_method: str = typer.Option("pps_systematic", help="first stage: pps_systematic (size = dossiers in the "
                                    "frame), pps_brewer, srs or systematic"),
    strata: list[str] = typer.Option([], "--stratum", help="stratify by level and/or domain (repeat)"),
    mapping: Optional[str] = typer.Option(None, help="field=column header, comma-separated, e.g. unit=Mã đơn vị,"
                                          "domain=Lĩnh vực,dossier_code=Mã hồ sơ,completion_date=Ngày trả kết quả"),
    seed: Optional[int] = typer.Option(None, help="random seed (default: a new one, printed)"),
    reserves: Optional[int] = typer.Option(None, help="reserves kept per last-stage group (default: all)"),
    bad_rows: Optional[Path] = typer.Option(None, help="CSV report of bad rows (default: OUTPUT.bad_rows.csv)"),
) -> None:
    """SIPAS citizen sample: units → completion days → dossiers, with inclusion probabilities and weights."""
    chosen_seed = sampling.new_seed() if seed is None else seed
    design = dossier_draws.DossierDesign(units, days, dossiers, unit_method, tuple(strata), reserves)
    typer.echo(_run(lambda settings: run_draw_dossiers(frame, mapping, design, chosen_seed, output, bad_rows)))


@sample_app.command("show")
def show(campaign: str = typer.Option(..., help="campaign code")) -> None:
    """Response tracking per stratum, RR1/RR3, and who has not finished (never answers)."""
    typer.echo(_run(lambda settings: run_show(campaign)))


@sample_app.command("export")
def export(
    campaign: str = typer.Option(..., help="campaign code"),
    output: Path = typer.Option(..., "-o", "--output", help="CSV file to write"),
) -> None:
    """Members with stratum, inclusion probability, design weight and status; no identities."""
    count = _run(lambda settings: run_export(campaign, output))
    typer.echo(f"wrote {count} member(s) to {output}")


@sample_app.command("mark")
def mark(
    campaign: str = typer.Option(..., help="campaign code"),
    ref: str = typer.Option(..., help="staff reference prefix (from the slips or the reminders list)"),
    status: str = typer.Option(..., help="refused, not_reached or ineligible (left the unit, long leave)"),
    reason: str = typer.Option("", help="why (kept with the member, never exported; required for ineligible)"),
) -> None:
    """Record that a sampled official refused, could not be reached or is not eligible (no replacement)."""
    member = _run(lambda settings: draws.mark(campaign, ref, status, reason))
    typer.echo(f"{member['stratum']}: {member['staff_ref_hash'][:draws.REF_PREFIX]} marked {status}")


@sample_app.command("replace")
def replace(
    campaign: str = typer.Option(..., help="campaign code"),
    ref: str = typer.Option(..., help="staff reference prefix of the member who cannot answer"),
    reason: str = typer.Option(..., help="why (e.g. on leave, moved post)"),
    frame: Optional[Path] = typer.Option(None, exists=True, dir_okay=False,
                                         help="the draw's frame file, to name the incoming person on the slip"),
    mapping: Optional[str] = typer.Option(None, help="column mapping of --frame, as for draw"),
    ineligible: bool = typer.Option(False, help="the member is not eligible (left the unit, long leave): "
                                    "recorded as ineligible, out of the response-rate denominators"),
    slips_out: Optional[Path] = typer.Option(None, "--slips", help="PDF with the incoming person's slip"),
    slip_names: bool = typer.Option(False, "--slip-names", help="print the name from --frame on the slip"),
) -> None:
    """Replace a member by the next reserve of the same stratum and print the reserve's new code once."""
    async def work(settings):
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

    typer.echo(_run(work))
