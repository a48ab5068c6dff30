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
from survey_app import db
from survey_app.officials import draws
from survey_app.settings import Settings

sample_app = typer.Typer(help="Random samples of officials and their invitation codes.", no_args_is_help=True)


async def run_draw(settings: Settings, campaign: str, frame: Path, mapping: str | None, quotas: list[str],
                   seed: int, level: str | None, codes_out: Path | None) -> str:
    """Draw and store; write the slips CSV (plain codes, once); return the report text."""
    if codes_out is not None and codes_out.exists():
        raise draws.refuse("--codes-out", f"Tệp {codes_out} đã tồn tại; không ghi đè mã.",
                           f"{codes_out} already exists; codes are never overwritten.")
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
    else:
        lines.append("no --codes-out given: the codes were not written anywhere and cannot be recovered")
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
            f"campaign {campaign}: response tracking per stratum (AAPOR RR1, RR3)", tracking.to_string(), "",
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
    return await db.run_connected(settings, lambda: work(settings))


def _run(work):
    try:
        return asyncio.run(_with_database(work))
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
) -> None:
    """Draw officials by unit × role with fixed quotas; store members, reserves and code hashes."""
    chosen_seed = sampling.new_seed() if seed is None else seed
    typer.echo(_run(lambda settings: run_draw(settings, campaign, frame, mapping, quota, chosen_seed, level,
                                              codes_out)))


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
    status: str = typer.Option(..., help="refused or not_reached"),
    reason: str = typer.Option("", help="why (kept with the member, never exported)"),
) -> None:
    """Record that a sampled official refused or could not be reached (no replacement)."""
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
) -> None:
    """Replace a member by the next reserve of the same stratum and print the reserve's new code once."""
    incoming = _run(lambda settings: draws.replace(settings.secret_key, campaign, ref, reason, frame, mapping))
    who = ", ".join(f"{key} {value}" for key, value in incoming.person.items()) or "(give --frame to name them)"
    typer.echo(f"replacement in {incoming.stratum}: staff ref {incoming.staff_ref} {who}\n"
               f"code (shown once, not stored): {incoming.code}")
