"""SIPAS indices and post-stratified weights of a campaign's stored responses (docs/method.md), for `survey indices`
and `survey weight`.

The async functions do the work on an already-connected database and return text or a JSON-able dict.
Refusals (unknown campaign, no responses, bad population file, weighting that cannot be done) exit 1 with a message.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from survey_app.core import db
from survey_app.core.settings import SMALL_GROUP_DEFAULT
from survey_app.results.frames import SRS_NOTE, WEIGHTED_NOTE, AnalysisCommandError, campaign_frame, design_of

BY_CHOICES = ("unit", "level", "domain")



async def run_indices(campaign_code: str, by: str | None = None, minimum: int = SMALL_GROUP_DEFAULT) -> dict:
    """SIPAS indices of the campaign (all counted responses) or per unit (its own responses), level or domain, each
    with SE and 95 % CI, as every page counts them (survey_app/results/figures.py: stored sums, excluded responses
    left out, officials' answers through suppression.publishable)."""
    from survey_app.core.tables import Campaign
    from survey_app.results.dashboard import NotEnoughData, campaign_figures

    if by is not None and by not in BY_CHOICES:
        raise AnalysisCommandError(f"--by must be one of {', '.join(BY_CHOICES)}, not {by!r}")
    campaign = await Campaign.select().where(Campaign.code == campaign_code).first()
    if campaign is None:
        raise AnalysisCommandError(f"no campaign with code {campaign_code!r}")
    try:
        figures = await campaign_figures(campaign, True, minimum)
    except NotEnoughData as error:
        raise AnalysisCommandError(str(error)) from error
    from survey_app.results.weighting import version_in_use

    groups = {"all": figures["province"]} if by is None else figures["by"]["unit_alone" if by == "unit" else by]
    version = await version_in_use(campaign["id"])
    return {"weight_version": version["number"] if version else None,
        "campaign": campaign["code"], "by": by or "campaign", "confidence": 0.95, "responses": figures["responses"],
        "design": SRS_NOTE if figures["cells"].total().all_weights_one else WEIGHTED_NOTE,
        "groups": [{"group": str(key), **result} for key, result in groups.items()],
    }


def indices_text(result: dict) -> str:
    """A plain table: per group, the overall index and each factor, with SE and 95 % CI."""
    lines = [f"campaign {result['campaign']}: SIPAS indices by {result['by']} ({result['responses']} responses)",
             f"design: {result['design']}",
             f"weights: {'version ' + str(result['weight_version']) if result.get('weight_version') else 'never weighted'}"
             " (survey weight versions)",
             f"{'group':<14} {'index':<22} {'n':>6} {'value':>7} {'SE':>6} {'95% CI':>16}"]
    for group in result["groups"]:
        rows = [("overall", group["overall"], group.get("se"), group.get("ci_low"), group.get("ci_high"))]
        rows += [(f"  {factor['key']}", factor["value"], factor.get("se"), factor.get("ci_low"), factor.get("ci_high"))
                 for factor in group["factors"]]
        for position, (name, value, se, low, high) in enumerate(rows):
            label = group["group"] if position == 0 else ""
            count = str(group["response_count"]) if position == 0 else ""
            lines.append(f"{label:<14} {name:<22} {count:>6} {_fixed(value, 7)} {_fixed(se, 6)} "
                         f"{'' if low is None else f'[{low:5.1f}, {high:5.1f}]':>16}")
    return "\n".join(lines)


def _fixed(value, width: int) -> str:
    return f"{'—':>{width}}" if value is None else f"{value:{width}.1f}"


def read_population(path: Path, by: str) -> dict:
    """Population counts per level/domain from a CSV: a column named like --post-stratify-by (or the first), and
    `count` (or the last column). Every bad row is reported with its row number (header = row 1)."""
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise AnalysisCommandError(f"cannot read population file {path}: {error}") from error
    table.columns = [str(column).strip().lower() for column in table.columns]
    if len(table.columns) < 2:
        raise AnalysisCommandError(f"{path}: row 1: expected two columns, {by} and count")
    key_column = by if by in table.columns else table.columns[0]
    count_column = "count" if "count" in table.columns else table.columns[-1]
    counts, problems = {}, []
    for offset, (key, raw) in enumerate(zip(table[key_column], table[count_column])):
        key, raw = key.strip(), raw.strip()
        try:
            count = float(raw.replace(",", ""))
        except ValueError:
            count = math.nan
        if not key:
            problems.append(f"row {offset + 2}: {key_column} is empty")
        elif key in counts:
            problems.append(f"row {offset + 2}: {key_column} {key!r} appears twice")
        if not math.isfinite(count) or count <= 0:
            problems.append(f"row {offset + 2}: count {raw!r} is not a positive number")
        elif key:
            counts[key] = count
    if problems or not counts:
        raise AnalysisCommandError(f"{path}: " + ("; ".join(problems) if problems else "no data rows"))
    return counts


async def run_weight(campaign_code: str, by: str, population_path: Path, engine=None) -> dict:
    """Post-stratify the campaign's current weights to the population counts and store them in one transaction.

    Starting from the stored weights makes a second run with the same counts a no-op (factors of 1).
    """
    from analysis.weighting import WeightingError, post_stratify
    from survey_app.core.tables import Response
    from survey_app.results.figures import fold_again

    if by not in ("level", "domain"):
        raise AnalysisCommandError(f"--post-stratify-by must be level or domain, not {by!r}")
    population = read_population(population_path, by)
    campaign, _, frame = await campaign_frame(campaign_code)
    design, _ = design_of(frame)
    try:
        weighted = post_stratify(design, by, population)
    except WeightingError as error:
        raise AnalysisCommandError(str(error)) from error
    new_weights = weighted.design.weights
    cells = (frame.assign(before=design.weights, after=new_weights).groupby(by)
             .agg(responses=("response_id", "size"), weight_before=("before", "sum"), weight_after=("after", "sum")))
    cells["population"] = [population[str(key)] for key in cells.index]
    engine = engine or Response._meta.db
    by_value = pd.Series(frame["response_id"].to_numpy()).groupby(new_weights)
    async with db.write_transaction(engine):
        for weight, ids in by_value:
            ids = [int(value) for value in ids]
            for start in range(0, len(ids), 500):
                await Response.update({Response.weight: float(weight)}).where(Response.id.is_in(ids[start:start + 500]))
        await fold_again(campaign["id"])  # the stored figures are folded again with the new weights
    return {
        "campaign": campaign_code, "post_stratified_by": by, "responses": len(frame),
        "before": weighted.before.__dict__, "after": weighted.after.__dict__,
        "cells": [{by: str(row.Index), "responses": int(row.responses), "population": float(row.population),
                   "weight_before": float(row.weight_before), "weight_after": float(row.weight_after)}
                  for row in cells.itertuples()],
    }


def weight_text(result: dict) -> str:
    by = result["post_stratified_by"]
    lines = [f"campaign {result['campaign']}: {result['responses']} response weights post-stratified by {by} and stored",
             f"{'':<8} {'sum':>12} {'min':>9} {'max':>9} {'CV':>7} {'Kish n_eff':>11}"]
    for name in ("before", "after"):
        summary = result[name]
        lines.append(f"{name:<8} {summary['total']:>12.1f} {summary['minimum']:>9.3f} {summary['maximum']:>9.3f} "
                     f"{summary['cv']:>7.3f} {summary['effective_n']:>11.1f}")
    lines.append(f"{by:<12} {'responses':>9} {'population':>11} {'sum before':>11} {'sum after':>11}")
    for cell in result["cells"]:
        lines.append(f"{cell[by]:<12} {cell['responses']:>9} {cell['population']:>11.0f} "
                     f"{cell['weight_before']:>11.1f} {cell['weight_after']:>11.1f}")
    return "\n".join(lines)


