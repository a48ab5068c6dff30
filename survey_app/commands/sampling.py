"""`survey sample draw|slips|draw-dossiers|show|export|mark|replace`: open the database, call
survey_app.officials.samples (or draws), print. Every refusal prints the library's bilingual problems, exit 1."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Optional

import typer


sample_app = typer.Typer(help="Random samples of officials and their invitation codes.", no_args_is_help=True)


async def _with_database(work):
    from survey_app.core import db
    from survey_app.core.server_key import require_server_key
    from survey_app.core.settings import Settings

    settings = Settings.from_env()

    async def checked_then_work():
        await require_server_key(settings.secret_key)  # codes keyed otherwise would be refused by the server
        return await work(settings)

    return await db.run_connected(settings, checked_then_work)


def _run(work):
    import sampling
    from survey_app.core.server_key import KeyMismatch

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
    import sampling
    from survey_app.officials.samples import run_draw

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
    from survey_app.officials.samples import run_slips

    typer.echo(_run(lambda settings: run_slips(settings, codes_file, output, names)))


@sample_app.command("draw-dossiers")
def draw_dossiers(
    frame: Optional[Path] = typer.Argument(None, exists=True, dir_okay=False, help="dossier frame, CSV or XLSX "
                                           "(or --stored)"),
    output: Path = typer.Option(..., "-o", "--output", help="CSV of the selected dossiers and reserves"),
    stored: bool = typer.Option(False, "--stored", help="draw from the completed dossiers stored by the dossier "
                                "feed (API or `survey dossiers import`) instead of a file"),
    returned_from: Optional[str] = typer.Option(None, help="with --stored: first day the dossiers were returned, "
                                                "dd/mm/yyyy or yyyy-mm-dd (required)"),
    returned_to: Optional[str] = typer.Option(None, help="with --stored: last day (required)"),
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
    """SIPAS citizen sample: units → completion days → dossiers, with inclusion probabilities and weights; from a
    frame file or (--stored) the completed dossiers the dossier feed stored."""
    import sampling
    from survey_app.officials import dossier_draws
    from survey_app.officials.samples import run_draw_dossiers

    chosen_seed = sampling.new_seed() if seed is None else seed
    design = dossier_draws.DossierDesign(units, days, dossiers, unit_method, tuple(strata), reserves)
    period = _stored_period(frame, stored, returned_from, returned_to)
    typer.echo(_run(lambda settings: run_draw_dossiers(frame, mapping, design, chosen_seed, output, bad_rows,
                                                       period)))


def _stored_period(frame: Optional[Path], stored: bool, returned_from: Optional[str], returned_to: Optional[str]):
    """(first, last day) with --stored; None with a frame file; exit 1 saying what is missing otherwise."""
    from survey_app.campaigns.services import parse_date

    if stored == (frame is not None):
        typer.echo("refused / từ chối: give a frame file or --stored, not both / chọn tệp khung mẫu hoặc --stored",
                   err=True)
        raise typer.Exit(code=1)
    if not stored:
        return None
    first, last = parse_date(returned_from or ""), parse_date(returned_to or "")
    if first is None or last is None or last < first:
        typer.echo("refused / từ chối: --returned-from and --returned-to must be days (dd/mm/yyyy), the first not "
                   "after the last / cần hai ngày hợp lệ, ngày đầu không sau ngày cuối", err=True)
        raise typer.Exit(code=1)
    return first, last


@sample_app.command("show")
def show(campaign: str = typer.Option(..., help="campaign code")) -> None:
    """Response tracking per stratum, RR1/RR3, and who has not finished (never answers)."""
    from survey_app.officials.samples import run_show

    typer.echo(_run(lambda settings: run_show(campaign)))


@sample_app.command("export")
def export(
    campaign: str = typer.Option(..., help="campaign code"),
    output: Path = typer.Option(..., "-o", "--output", help="CSV file to write"),
) -> None:
    """Members with stratum, inclusion probability, design weight and status; no identities."""
    from survey_app.officials.samples import run_export

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
    from survey_app.officials import draws

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
    from survey_app.officials.samples import run_replace

    typer.echo(_run(lambda settings: run_replace(settings, campaign, ref, reason, frame, mapping, ineligible,
                                                 slips_out, slip_names)))
