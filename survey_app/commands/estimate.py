"""`survey estimate DATA.csv`: parse the options, call survey_app.results.estimate, print (refusals exit 1).

No database and no web stack: this command starts fast (benchmarks/cli_start.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer


def estimate(
    data_file: Path = typer.Argument(..., help="CSV file, one row per respondent, header in the first row"),
    mean: list[str] = typer.Option([], "--mean", help="variable whose mean to estimate (repeatable)"),
    total: list[str] = typer.Option([], "--total", help="variable whose total to estimate (repeatable)"),
    ratio: list[str] = typer.Option([], "--ratio", help="NUMERATOR/DENOMINATOR, ratio of two totals (repeatable)"),
    proportion: list[str] = typer.Option([], "--proportion", help="categorical variable: share of each level (repeatable)"),
    by: Optional[str] = typer.Option(None, "--by", help="domain variable: every figure per level"),
    strata: Optional[str] = typer.Option(None, "--strata", help="stratum column (first stage)"),
    cluster: list[str] = typer.Option([], "--cluster", help="cluster id column per stage: once for one stage, twice for two"),
    weights: Optional[str] = typer.Option(None, "--weights", help="sampling weight column"),
    probabilities: Optional[str] = typer.Option(None, "--probabilities", help="inclusion probability column (weight = 1/p)"),
    fpc: list[str] = typer.Option([], "--fpc", help="population size (or sampling fraction) column per stage, in stage order"),
    nest: bool = typer.Option(False, "--nest", help="cluster ids repeat across strata (R's nest=TRUE)"),
    lonely_psu: str = typer.Option("fail", "--lonely-psu", help="stratum with one PSU: fail|certainty|remove|adjust|average"),
    post_stratify: Optional[Path] = typer.Option(None, "--post-stratify", help="CSV variable,level,count for one variable"),
    rake: Optional[Path] = typer.Option(None, "--rake", help="CSV variable,level,count: margins of several variables"),
    calibrate: Optional[Path] = typer.Option(None, "--calibrate", help="CSV term,total (GREG): intercept, x, or var[level]"),
    variance: str = typer.Option("taylor", "--variance", help="taylor|jackknife|bootstrap"),
    replicates: int = typer.Option(500, "--replicates", help="bootstrap replicates"),
    seed: int = typer.Option(1, "--seed", help="bootstrap seed (same seed, same SEs)"),
    na_rm: bool = typer.Option(False, "--na-rm", help="estimate over the rows that have a value (a domain)"),
    confidence: float = typer.Option(0.95, "--confidence", help="confidence level of the intervals"),
    as_json: bool = typer.Option(False, "--json", help="print JSON: estimate, SE, CI for each figure"),
) -> None:
    """Design-based estimates with SE and CI from a CSV file (docs/estimate.md)."""
    from survey_app.results.estimate import DesignOptions, EstimateError, format_table, parse_requests, run_estimate

    design_options = DesignOptions(strata, list(cluster), weights, probabilities, list(fpc), nest, lonely_psu)
    adjustments = {"post_stratify": post_stratify, "rake": rake, "calibrate": calibrate}
    try:
        requests = parse_requests(mean, total, ratio, proportion)
        result = run_estimate(data_file, requests, design_options, by=by, adjustments=adjustments, variance=variance,
                              replicates=replicates, seed=seed, na_rm=na_rm, confidence=confidence)
    except EstimateError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(code=1)
    typer.echo(json.dumps(result, indent=2, ensure_ascii=False) if as_json else format_table(result))
