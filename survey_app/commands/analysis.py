"""`survey indices` and `survey weight`: open the database, call survey_app.results.analysis, print.

Refusals (unknown campaign, no responses, bad population file, weighting that cannot be done) exit 1 with a message.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Optional

import typer


async def _with_database(work):
    from survey_app.core import db
    from survey_app.core.settings import Settings

    return await db.run_connected(Settings.from_env(), work)


def _run(work):
    from survey_app.results.frames import AnalysisCommandError

    try:
        return asyncio.run(_with_database(work))
    except AnalysisCommandError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(code=1)


def indices(
    campaign: str = typer.Option(..., "--campaign", help="campaign code, e.g. SIPAS-2026"),
    by: Optional[str] = typer.Option(None, "--by", help="unit, level or domain (default: the whole campaign)"),
    as_json: bool = typer.Option(False, "--json", help="print JSON instead of a table"),
) -> None:
    """SIPAS indices of a campaign with SE and 95 % CI, overall or per unit, level or domain."""
    from survey_app.core.settings import Settings
    from survey_app.results.analysis import indices_text, run_indices

    result = _run(lambda: run_indices(campaign, by, Settings.from_env().suppress_below))
    typer.echo(json.dumps(result, ensure_ascii=False, indent=2) if as_json else indices_text(result))


def weight(
    context: typer.Context,
    campaign: Optional[str] = typer.Option(None, "--campaign", help="campaign code"),
    post_stratify_by: Optional[str] = typer.Option(None, "--post-stratify-by", help="level or domain"),
    population: Optional[Path] = typer.Option(None, "--population", exists=True, dir_okay=False,
                                              help="CSV with the level/domain and its population count"),
    as_json: bool = typer.Option(False, "--json", help="print JSON instead of a table"),
) -> None:
    """Post-stratify a campaign's response weights to population counts and store them (one transaction); or a
    weighting plan and its versions: `survey weight plan|run|versions|use|compare --help`."""
    from survey_app.results.analysis import run_weight, weight_text

    if context.invoked_subcommand is not None:
        return
    if not (campaign and post_stratify_by and population):
        typer.echo("error: give --campaign, --post-stratify-by and --population, or a subcommand "
                   "(plan, run, versions, use, compare)", err=True)
        raise typer.Exit(code=1)

    result = _run(lambda: run_weight(campaign, post_stratify_by, population))
    typer.echo(json.dumps(result, ensure_ascii=False, indent=2) if as_json else weight_text(result))


def weight_nonresponse(
    campaign: str = typer.Option(..., "--campaign", help="campaign code of an officials' (invitation) campaign"),
    as_json: bool = typer.Option(False, "--json", help="print JSON instead of a table"),
) -> None:
    """Weight officials' answers from their sample statuses: design weight × per-stratum non-response factor, stored."""
    from survey_app.results.nonresponse_weights import nonresponse_text, run_nonresponse_weights

    result = _run(lambda: run_nonresponse_weights(campaign))
    typer.echo(json.dumps(result, ensure_ascii=False, indent=2) if as_json else nonresponse_text(result))


def register(app: typer.Typer) -> None:
    """Add `indices`, `weight` and `weight-nonresponse` to the `survey` command."""
    app.command("indices")(indices)
    from survey_app.commands.weighting import weight_app

    weight_app.callback()(weight)
    app.add_typer(weight_app, name="weight")
    app.command("weight-nonresponse")(weight_nonresponse)
