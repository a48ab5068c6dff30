"""Service for the parts of `survey estimate` beyond means and totals (docs/estimate.md): svyglm, svyquantile, svychisq, deff,
PPS-without-replacement designs, and replicate designs (built, or read from columns, and re-adjusted per replicate).

Every function here turns analysis/ errors into ModelError (the command prints `error: …` and exits 1).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

PPS_METHODS = ("brewer", "overton", "hartley-rao", "ht")
REPLICATE_TYPES = ("JK1", "JKn", "BRR", "Fay", "bootstrap")


class ModelError(Exception):
    """Bad input for one of these options; estimate.py re-raises it as EstimateError."""


def csv_rows(message: str) -> str:
    """analysis/ names data rows from 0; the command names CSV rows (header = row 1), so data row k is CSV row k + 2."""
    return re.sub(r"\brow (\d+)\b", lambda match: f"row {int(match.group(1)) + 2}", message)


@dataclass(frozen=True)
class Extras:
    """Options of the command that this module handles."""

    regressions: list[str] = field(default_factory=list)  # "y ~ x1 + x2" (gaussian)
    logistic: list[str] = field(default_factory=list)  # "y=LEVEL ~ x1 + x2" or "y ~ ..." with y 0/1
    quantiles: list[str] = field(default_factory=list)  # variables
    shares: tuple[float, ...] = (0.5,)
    chisq: list[str] = field(default_factory=list)  # "row+column"
    deff: str | None = None  # None, "srs" (R's deff=TRUE) or "replace"
    pps: str | None = None
    joint_probabilities: Path | None = None
    pps_p2: float | None = None
    pps_variance: str = "HT"
    replicate_weights: str | None = None  # regular expression of the replicate-weight columns
    replicate_type: str = "JK1"
    fay_rho: float | None = None
    replicate_scale: float | None = None
    mse: bool = False
    nonresponse_status: str | None = None  # column of sampling statuses (completed, refused, ineligible, ...)
    nonresponse_cells: list[str] = field(default_factory=list)
    trim: str | None = None  # "LOWER:UPPER" (either may be empty)

    @property
    def taylor_only(self) -> list[str]:
        """The options that need the Taylor variance of a survey design (not replicates)."""
        named = [("--regress", self.regressions), ("--logistic", self.logistic), ("--quantile", self.quantiles),
                 ("--chisq", self.chisq), ("--deff", self.deff)]
        return [name for name, value in named if value]


def parse_shares(text: str) -> tuple[float, ...]:
    try:
        shares = tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise ModelError(f"--quantiles {text!r}: write shares between 0 and 1 separated by commas, e.g. 0.25,0.5,0.75") from None
    if not shares or any(not 0 < share < 1 for share in shares):
        raise ModelError(f"--quantiles {text!r}: every share must be strictly between 0 and 1")
    return shares


# ------------------------------------------------------------------------------------------------- designs
def pps_design(frame: pd.DataFrame, options, extras: Extras):
    """`--pps METHOD --probabilities P`: R's svydesign(id=~1, fpc=~P, pps=METHOD) (one stage, optional strata)."""
    from analysis import pps

    if extras.pps not in PPS_METHODS:
        raise ModelError(f"--pps {extras.pps!r}: choose one of {', '.join(PPS_METHODS)}")
    if not options.probabilities:
        raise ModelError("--pps needs --probabilities COL: each unit's inclusion probability (R's fpc=~p)")
    if len(options.clusters) > 1 or options.fpc:
        raise ModelError("--pps is one-stage: give at most one --cluster and no --fpc (the probabilities carry it)")
    joint = read_joint_probabilities(extras.joint_probabilities) if extras.joint_probabilities else None
    try:
        return pps.pps_design(frame, options.probabilities, method=extras.pps.replace("-", "_"), strata=options.strata,
                              cluster=options.clusters[0] if options.clusters else None, weights=options.weights,
                              joint_probabilities=joint, population_p2_mean=extras.pps_p2, variance=extras.pps_variance)
    except ValueError as error:
        raise ModelError(str(error)) from error


def read_joint_probabilities(path: Path) -> np.ndarray:
    """A square CSV of π_ij without header, units in the order they first appear in the data."""
    if not path.exists():
        raise ModelError(f"{path}: no such file")
    table = pd.read_csv(path, header=None, dtype=str, keep_default_na=False)
    values = table.apply(lambda column: pd.to_numeric(column.str.replace(",", "."), errors="coerce"))
    bad = values.isna().to_numpy()
    if bad.any():
        row, column = (int(index) for index in np.argwhere(bad)[0])
        raise ModelError(f"{path}, row {row + 1}, column {column + 1}: {table.iat[row, column]!r} is not a number")
    return values.to_numpy(dtype=float)


def replicate_design(design, variance: str, replicates: int, seed: int, extras: Extras):
    """Jackknife or bootstrap replicates of the design, or the replicate-weight columns named by --replicate-weights."""
    from analysis import replicate

    try:
        if extras.replicate_weights:
            if extras.replicate_type not in REPLICATE_TYPES:
                raise ModelError(f"--replicate-type {extras.replicate_type!r}: choose one of {', '.join(REPLICATE_TYPES)}")
            try:
                return replicate.from_columns(design, extras.replicate_weights, extras.replicate_type, fay_rho=extras.fay_rho,
                                              scale=extras.replicate_scale, mse=extras.mse)
            except ValueError as error:
                raise ModelError(csv_rows(str(error))) from error
        if variance == "jackknife":
            return replace_mse(replicate.jackknife(design, use_fpc=design.stages[0].population_size is not None), extras.mse)
        return replace_mse(replicate.bootstrap(design, replicates, np.random.default_rng(seed)), extras.mse)
    except ValueError as error:
        raise ModelError(str(error)) from error


def replace_mse(replicates, mse: bool):
    from dataclasses import replace

    return replace(replicates, mse=mse)


def adjust_replicates(replicates, method: str, margins: dict):
    """Post-stratify or rake every replicate as the full sample (R's postStratify / rake on a svrep.design)."""
    from analysis import replicate, weighting

    try:
        if method == "post_stratify":
            return replicate.post_stratify(replicates, *next(iter(margins.items())))
        return replicate.rake(replicates, margins)
    except (weighting.WeightingError, replicate.ReplicateError) as error:
        raise ModelError(str(error)) from error


def weighting_steps(design, extras: Extras) -> tuple[object, list[dict]]:
    """Non-response adjustment from sample statuses, then trimming; each step's report for the output."""
    from analysis import nonresponse, weighting

    reports = []
    try:
        if extras.nonresponse_status:
            weighted = nonresponse.adjust_for_statuses(design, extras.nonresponse_status, extras.nonresponse_cells or None)
            design = weighted.design
            reports.append({"method": "nonresponse", "status": extras.nonresponse_status, "cells": extras.nonresponse_cells,
                            "before": vars(weighted.before), "after": vars(weighted.after), **weighted.report})
        if extras.trim:
            lower, upper = parse_trim(extras.trim)
            weighted = weighting.trim(design, lower=lower, upper=upper)
            design = weighted.design
            reports.append({"method": "trim", "lower": lower, "upper": upper, "before": vars(weighted.before),
                            "after": vars(weighted.after), **weighted.report})
    except weighting.WeightingError as error:
        raise ModelError(csv_rows(str(error))) from error
    return design, reports


def parse_trim(text: str) -> tuple[float | None, float | None]:
    lower, separator, upper = text.partition(":")
    try:
        bounds = tuple(float(part) if part.strip() else None for part in (lower, upper))
    except ValueError:
        raise ModelError(f"--trim {text!r}: write LOWER:UPPER, e.g. --trim 10:60 or --trim :60") from None
    if not separator or bounds == (None, None):
        raise ModelError(f"--trim {text!r}: write LOWER:UPPER, e.g. --trim 10:60 or --trim :60")
    return bounds


# ---------------------------------------------------------------------------------------------- statistics
def regression_rows(design, formula: str, family: str, confidence: float) -> list[dict]:
    """`--regress "y ~ a + b"` / `--logistic "y=Yes ~ a + b"`: one row per coefficient (R's summary(svyglm))."""
    from analysis.regression import svyglm

    outcome, level, predictors, intercept = parse_formula(formula, design.data)
    data_design = design
    if level is not None:
        indicator = (design.data[outcome].astype(str) == level).astype(float).where(design.data[outcome].notna())
        data_design = _with_column(design, f"{outcome}={level}", indicator)
        outcome = f"{outcome}={level}"
    try:
        fit = svyglm(data_design, outcome, predictors, family=family, intercept=intercept)
    except ValueError as error:
        raise ModelError(f"{'--logistic' if family == 'binomial' else '--regress'} {formula!r}: {error}") from error
    table = fit.table(confidence)
    statistic = "logistic" if family == "binomial" else "svyglm"
    return [{"statistic": statistic, "variable": outcome, "level": row.term, "by": None, "domain": None,
             "estimate": float(row.coefficient), "se": float(row.se), "ci_low": float(row.ci_low), "ci_high": float(row.ci_high),
             "count": fit.count, "p_value": float(row.p_value)} for row in table.itertuples()]


def parse_formula(formula: str, data: pd.DataFrame) -> tuple[str, str | None, list[str], bool]:
    """ "y ~ a + b - 1" → (y, None, [a, b], False); "y=Yes ~ a" → (y, "Yes", [a], True)."""
    left, separator, right = formula.partition("~")
    if not separator or not left.strip() or not right.strip():
        raise ModelError(f"formula {formula!r}: write OUTCOME ~ PREDICTOR + PREDICTOR (e.g. \"api00 ~ ell + meals\")")
    outcome, _, level = (part.strip() for part in left.partition("="))
    terms = [term.strip() for term in re.split(r"\s*\+\s*", right.replace("- 1", "+ -1").replace("-1", "+ -1")) if term.strip()]
    intercept = "-1" not in terms and "0" not in terms
    predictors = [term for term in terms if term not in ("-1", "0", "1")]
    for name in [outcome, *predictors]:
        if name not in data.columns:
            raise ModelError(f"formula {formula!r}: column {name!r} is not in the data")
    if not predictors and not intercept:
        raise ModelError(f"formula {formula!r}: no predictors and no intercept")
    return outcome, (level or None), predictors, intercept


def quantile_rows(design, variable: str, shares, by, na_rm: bool, confidence: float) -> list[dict]:
    """`--quantile COL --quantiles 0.25,0.5`: R's svyquantile(~COL, design, shares, ci=TRUE) (Woodruff, qrule math)."""
    from analysis.quantiles import quantile

    domains = [(None, None)] if not by else [(level, (design.data[by] == level).to_numpy()) for level in sorted(design.data[by].unique().tolist())]
    rows = []
    for level, mask in domains:
        for share in shares:
            try:
                estimate = quantile(design, variable, share, domain=mask, na_rm=na_rm, confidence=confidence)
            except ValueError as error:
                raise ModelError(f"quantile {share} of {variable}: {error}") from error
            rows.append({"statistic": "quantile", "variable": variable, "level": share, "by": by, "domain": _plain(level),
                         "estimate": estimate.value, "se": estimate.se, "ci_low": estimate.ci_low, "ci_high": estimate.ci_high,
                         "count": estimate.count})
    return rows


def chisq_result(design, pair: str) -> dict:
    """`--chisq ROW+COL`: R's svychisq(~ROW+COL, design) — both the "F" and the "Chisq" Rao–Scott versions."""
    from analysis.crosstab import svychisq

    row, separator, column = (part.strip() for part in pair.partition("+"))
    if not separator or not row or not column:
        raise ModelError(f"--chisq {pair!r}: write ROW+COLUMN, e.g. --chisq sch.wide+stype")
    for name in (row, column):
        if name not in design.data.columns:
            raise ModelError(f"--chisq {pair!r}: column {name!r} is not in the data")
    try:
        test = svychisq(design, row, column)
    except ValueError as error:
        raise ModelError(f"--chisq {pair!r}: {error}") from error
    return {"statistic": "svychisq", "rows": row, "columns": column, "F": test.f_statistic, "ndf": test.numerator_df,
            "ddf": test.denominator_df, "p_value": test.f_p_value, "X2": test.pearson, "df": test.pearson_df,
            "p_value_chisq": test.chisq_p_value}


def deff_values(design, rows: list[dict], kind: str, na_rm: bool) -> None:
    """Add R's deff (``kind`` "srs": deff=TRUE, "replace": deff="replace") to every mean and total row, in place."""
    from analysis import estimators

    for row in rows:
        if row["statistic"] not in ("mean", "total"):
            continue
        domain = None if row["domain"] is None else (design.data[row["by"]] == row["domain"]).to_numpy()
        function = getattr(estimators, row["statistic"])
        estimate = function(design, row["variable"], domain=domain, na_rm=na_rm, deff=True if kind == "srs" else "replace")
        row["deff"] = estimate.deff


def _with_column(design, name: str, values: pd.Series):
    from dataclasses import replace

    return replace(design, data=design.data.assign(**{name: values.to_numpy()}))


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value
