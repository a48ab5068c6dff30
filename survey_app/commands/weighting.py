"""`survey weight plan|run|versions|use|compare`: a campaign's weighting plan and its versions (issue #24).

Typer options and printing only; the work is survey_app.results.weighting's. Refusals print every problem
(in Vietnamese, with the row of the population file) and exit 1; nothing is stored.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import List, Optional

import typer

weight_app = typer.Typer(invoke_without_command=True, no_args_is_help=False,
                         help="Weight a campaign: post-stratify at once (options below), or plan | run | versions | use | compare.")


def _run(work):
    from survey_app.core import db
    from survey_app.core.settings import Settings
    from survey_app.results.weighting import WeightingRefused

    try:
        return asyncio.run(db.run_connected(Settings.from_env(), work))
    except WeightingRefused as refused:
        for message in refused.messages:
            typer.echo(f"error: {message}", err=True)
        raise typer.Exit(code=1)


@weight_app.command("plan")
def plan(
    campaign: str = typer.Option(..., "--campaign", help="campaign code"),
    nonresponse: Optional[str] = typer.Option(None, "--nonresponse-cells", help="stratum or unit: weighting classes of an officials' campaign"),
    calibration: Optional[str] = typer.Option(None, "--calibration", help="post_stratify, rake or linear"),
    margin: List[str] = typer.Option([], "--margin", help="unit, domain, level, channel, or two crossed: unit×domain (repeat)"),
    population: Optional[str] = typer.Option(None, "--population",
                                             help="CSV or XLSX with margin, level, count (a crossed level: SO01/dat_dai), "
                                                  "or 'dossiers': counts of the stored dossiers returned in the period"),
    dossiers_from: str = typer.Option("", "--dossiers-from", help="with --population dossiers: first day (dd/mm/yyyy; default the campaign's start)"),
    dossiers_to: str = typer.Option("", "--dossiers-to", help="with --population dossiers: last day (dd/mm/yyyy; default the campaign's end)"),
    trim: str = typer.Option("", "--trim", help="LOWER:UPPER bounds of the final weights, e.g. 0.3:3 or :3"),
    max_iterations: int = typer.Option(100, "--max-iterations", help="raking iterations before giving up"),
    user: str = typer.Option("cli", "--user", help="who defines the plan (kept with it)"),
) -> None:
    """Store a campaign's weighting plan and its population counts (checked row by row; nothing stored on error)."""
    from survey_app.results.weighting import DOSSIERS, Plan, WeightingRefused, parse_bounds, parse_day, save_plan

    async def work():
        lower, upper = parse_bounds(trim)
        source = DOSSIERS if population == DOSSIERS else "file"
        chosen = Plan(nonresponse, calibration, tuple(margin), lower, upper, max_iterations, source,
                      parse_day(dossiers_from, "--dossiers-from"), parse_day(dossiers_to, "--dossiers-to"))
        path = Path(population) if population and source == "file" else None
        if path is not None and not path.is_file():
            raise WeightingRefused([f"không có tệp {population}"])
        return await save_plan(campaign, chosen, user, path.name if path else "", path.read_bytes() if path else None)

    result = _run(work)
    typer.echo(f"campaign {campaign}: plan stored {json.dumps(result['plan'], ensure_ascii=False)}"
               + (f", population {result['population_name']}" if result["population_name"] else ""))


@weight_app.command("run")
def run(
    campaign: str = typer.Option(..., "--campaign", help="campaign code"),
    user: str = typer.Option("cli", "--user", help="who runs it (kept with the version)"),
    as_json: bool = typer.Option(False, "--json", help="print JSON instead of a table"),
) -> None:
    """Run the stored plan: a new weight version, put in use (the figures are computed again)."""
    from survey_app.results.weighting import run_plan

    with typer.progressbar(length=100, label="weighting", file=None) as bar:
        done = [0]

        def progress(percent: int) -> None:
            bar.update(percent - done[0])
            done[0] = percent

        result = _run(lambda: run_plan(campaign, user, progress))
    result.pop("weights")
    typer.echo(json.dumps(result, ensure_ascii=False, indent=2, default=str) if as_json else version_text(result))


@weight_app.command("versions")
def versions(campaign: str = typer.Option(..., "--campaign", help="campaign code")) -> None:
    """Every weight version of a campaign: number, state, who, when, plan, inputs' hashes; * marks the one in use."""
    from survey_app.core.vietnam_time import VIETNAM_TIME
    from survey_app.results.weighting import campaign_by_code, versions as listed

    async def work():
        return await listed((await campaign_by_code(campaign))["id"])

    for version in _run(work):
        hashes = " ".join(f"{name}={value[:12]}" for name, value in version["input_hashes"].items() if value)
        typer.echo(f"{'*' if version['in_use'] else ' '} {version['number']:>3} {version['state']:<7} "
                   f"{version['created'].astimezone(VIETNAM_TIME):%d/%m/%Y %H:%M} {version['created_by']:<12} "
                   f"{json.dumps(version['plan'], ensure_ascii=False)} {hashes} {version['error']}")


@weight_app.command("use")
def use(campaign: str = typer.Option(..., "--campaign"), number: int = typer.Argument(..., help="version number"),
        user: str = typer.Option("cli", "--user", help="who puts it in use (audit log)")) -> None:
    """Put a finished version in use again (its weights to the responses, figures computed again)."""
    from survey_app.results.weighting import use_version

    result = _run(lambda: use_version(campaign, number, user))
    typer.echo(f"campaign {campaign}: weight version {result['number']} in use")


@weight_app.command("compare")
def compare(campaign: str = typer.Option(..., "--campaign"), first: int = typer.Argument(...),
            second: int = typer.Argument(...)) -> None:
    """Two versions side by side: final weight diagnostics and the overall index with its SE."""
    from survey_app.results.weighting import compare as compared

    result = _run(lambda: compared(campaign, first, second))
    typer.echo(f"{'version':>8} {'sum':>12} {'max/min':>8} {'Kish deff':>9} {'n_eff':>9} {'index':>7} {'SE':>6}")
    for side in result["versions"]:
        final, index = side["final"] or {}, side["index"]
        typer.echo(f"{side['number']:>8} {final.get('total', 0):>12.1f} {final.get('ratio', 0):>8.2f} "
                   f"{final.get('kish_deff', 0):>9.3f} {final.get('effective_n', 0):>9.1f} "
                   f"{index['value'] or 0:>7.2f} {index['se'] or 0:>6.2f}")


def version_text(version: dict) -> str:
    lines = [f"campaign weight version {version['number']} ({version['state']}), in use: {version['in_use']}",
             f"{'step':<12} {'count':>6} {'sum':>12} {'min':>9} {'median':>9} {'max':>9} {'Kish deff':>9} {'n_eff':>9}"]
    for step in version["diagnostics"]:
        after = step["after"]
        lines.append(f"{step['step']:<12} {after['count']:>6} {after['total']:>12.1f} {after['minimum']:>9.4f} "
                     f"{after['median']:>9.4f} {after['maximum']:>9.4f} {after['kish_deff']:>9.4f} {after['effective_n']:>9.1f}")
        details = step["details"]
        if "iterations" in details:
            lines.append(f"{'':<12} iterations {details['iterations']}")
        for hit in details.get("margins", []):
            lines.append(f"{'':<12} margin {hit['margin']}: largest relative error {hit['max_relative_error']:.2e}")
        lines += [f"{'':<12} warning: {warning}" for warning in step["warnings"]]
    return "\n".join(lines)
