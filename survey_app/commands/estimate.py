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
    regress: list[str] = typer.Option([], "--regress", help='linear svyglm, e.g. "api00 ~ ell + meals" (repeatable)'),
    logistic: list[str] = typer.Option([], "--logistic", help='logistic svyglm, e.g. "sch.wide=Yes ~ ell + meals"'),
    quantile: list[str] = typer.Option([], "--quantile", help="variable whose quantiles to estimate (repeatable)"),
    quantiles: str = typer.Option("0.5", "--quantiles", help="shares for --quantile, e.g. 0.25,0.5,0.75"),
    chisq: list[str] = typer.Option([], "--chisq", help="Rao–Scott test of independence, ROW+COLUMN (repeatable)"),
    deff: bool = typer.Option(False, "--deff", help="design effect of means and totals vs SRS without replacement"),
    deff_replace: bool = typer.Option(False, "--deff-replace", help="design effect vs SRS with replacement"),
    pps: Optional[str] = typer.Option(None, "--pps", help="PPS without replacement: brewer|overton|hartley-rao|ht"),
    joint_probabilities: Optional[Path] = typer.Option(None, "--joint-probabilities", help="CSV matrix of π_ij (for --pps ht)"),
    pps_p2: Optional[float] = typer.Option(None, "--pps-p2", help="population Σπ²/n for --pps hartley-rao"),
    pps_variance: str = typer.Option("HT", "--pps-variance", help="HT (Horvitz–Thompson) or YG (Yates–Grundy)"),
    replicate_weights: Optional[str] = typer.Option(None, "--replicate-weights", help="regular expression of replicate-weight columns"),
    replicate_type: str = typer.Option("JK1", "--replicate-type", help="JK1|JKn|BRR|Fay|bootstrap"),
    fay_rho: Optional[float] = typer.Option(None, "--fay-rho", help="rho of Fay's method"),
    replicate_scale: Optional[float] = typer.Option(None, "--replicate-scale", help="overall scale of the replicate variance"),
    mse: bool = typer.Option(False, "--mse", help="replicate variance around the full-sample estimate (R's mse=TRUE)"),
    nonresponse: Optional[str] = typer.Option(None, "--nonresponse", help="column of sample statuses: weighting-class non-response adjustment"),
    nonresponse_cells: list[str] = typer.Option([], "--nonresponse-cells", help="weighting-class column for --nonresponse (repeatable)"),
    trim: Optional[str] = typer.Option(None, "--trim", help="LOWER:UPPER bounds for the weights, excess spread over the others"),
) -> None:
    """Design-based estimates with SE and CI from a CSV file (docs/estimate.md)."""
    from survey_app.results.estimate import DesignOptions, EstimateError, format_table, parse_requests, run_estimate
    from survey_app.results.estimate_models import Extras, ModelError, parse_shares

    design_options = DesignOptions(strata, list(cluster), weights, probabilities, list(fpc), nest, lonely_psu)
    adjustments = {"post_stratify": post_stratify, "rake": rake, "calibrate": calibrate}
    try:
        extras = Extras(list(regress), list(logistic), list(quantile), parse_shares(quantiles), list(chisq),
                        "replace" if deff_replace else ("srs" if deff else None), pps, joint_probabilities, pps_p2,
                        pps_variance, replicate_weights, replicate_type, fay_rho, replicate_scale, mse, nonresponse,
                        list(nonresponse_cells), trim)
        requests = parse_requests(mean, total, ratio, proportion, allow_none=bool(regress or logistic or quantile or chisq))
        result = run_estimate(data_file, requests, design_options, by=by, adjustments=adjustments, variance=variance,
                              replicates=replicates, seed=seed, na_rm=na_rm, confidence=confidence, extras=extras)
    except (EstimateError, ModelError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(code=1)
    typer.echo(json.dumps(result, indent=2, ensure_ascii=False) if as_json else format_table(result))
