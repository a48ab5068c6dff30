"""Estimates for `survey estimate DATA.csv`: analysis/ estimators on any CSV, for analysts who do not write Python (docs/estimate.md).

The design options mirror R's svydesign; the statistics svymean/svytotal/svyratio/proportions, optionally by a domain;
post-stratification, raking or linear calibration to population figures read from a file; Taylor (default),
jackknife or Rao–Wu bootstrap variance (re-adjusted per replicate), or replicate weights read from columns; svyglm,
svyquantile, svychisq, deff and PPS designs via estimate_models.py. Every refusal names the column and, where one exists, the CSV row
(header = row 1) and exits 1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from survey_app.results.estimate_models import (
    Extras, ModelError, adjust_replicates, chisq_result, deff_values, parse_shares, pps_design, quantile_rows,
    regression_rows, weighting_steps,
)
from survey_app.results.estimate_models import replicate_design as replicate_design_of

LONELY_PSU_CHOICES = ("fail", "certainty", "remove", "adjust", "average")
VARIANCE_CHOICES = ("taylor", "jackknife", "bootstrap")


class EstimateError(Exception):
    """Bad input for `survey estimate`: the message says what and where (exit 1)."""


@dataclass(frozen=True)
class Request:
    """What to estimate: statistic, variable, optional denominator."""

    statistic: str  # mean, total, ratio, proportion
    variable: str
    denominator: str | None = None

    @property
    def label(self) -> str:
        return f"{self.variable}/{self.denominator}" if self.denominator else self.variable


@dataclass(frozen=True)
class DesignOptions:
    strata: str | None = None
    clusters: list[str] = field(default_factory=list)
    weights: str | None = None
    probabilities: str | None = None
    fpc: list[str] = field(default_factory=list)
    nest: bool = False
    lonely_psu: str = "fail"


def parse_requests(means, totals, ratios, proportions, allow_none: bool = False) -> list[Request]:
    requests = [Request("mean", name) for name in means] + [Request("total", name) for name in totals]
    for text in ratios:
        numerator, _, denominator = text.partition("/")
        if not numerator or not denominator:
            raise EstimateError(f"--ratio {text!r}: write NUMERATOR/DENOMINATOR, e.g. --ratio api.stu/enroll")
        requests.append(Request("ratio", numerator, denominator))
    requests += [Request("proportion", name) for name in proportions]
    if not requests and not allow_none:
        raise EstimateError("nothing to estimate: give --mean, --total, --ratio, --proportion, --quantile, --regress, --logistic or --chisq")
    return requests


def run_estimate(data_file: Path, requests: list[Request], options: DesignOptions, *, by=None, adjustments=None,
                 variance="taylor", replicates=500, seed=1, na_rm=False, confidence=0.95, extras: Extras | None = None) -> dict:
    """Read, check, build the design, adjust, estimate: a JSON-able dict (tests call this directly)."""
    extras = extras or Extras()
    variance = "replicate weights" if extras.replicate_weights else variance
    _check_choices(options, variance, confidence, extras)
    frame = read_data(data_file)
    _check_inputs(frame, requests, options, by, na_rm)
    design = pps_design(frame, options, extras) if extras.pps else build_design(frame, options)
    design, weighting_reports = weighting_steps(design, extras)
    full_design, adjustment = apply_adjustment(design, adjustments or {})
    replicate_design = _replicates(design, adjustments or {}, adjustment, variance, replicates, seed, extras)
    figures = [row for request in requests for row in _estimate_request(full_design, request, by, na_rm, confidence, replicate_design)]
    figures += _model_rows(full_design, extras, by, na_rm, confidence, figures)
    described = replicate_design.method if replicate_design is not None else variance
    return {"data": str(data_file), "rows": design.row_count, "design": design.steps[0], "adjustment": adjustment,
            "weighting": weighting_reports, "variance": described, "confidence": confidence, "estimates": figures,
            "tests": [chisq_result(full_design, pair) for pair in extras.chisq]}


def _replicates(design, adjustments: dict, adjustment, variance: str, replicates: int, seed: int, extras: Extras):
    """The replicate design (None for Taylor), adjusted in every replicate as the full sample was."""
    if variance == "taylor":
        return None
    if adjustment and adjustment["method"] == "calibrate":
        raise EstimateError(f"--variance {variance} with --calibrate is not supported; use --rake or --post-stratify, "
                            "which are redone in every replicate, or the Taylor variance")
    replicate_design = replicate_design_of(design, variance, replicates, seed, extras)
    if adjustment:
        margins = read_margins(adjustments[adjustment["method"]], design.data)
        replicate_design = adjust_replicates(replicate_design, adjustment["method"], margins)
    return replicate_design


def _model_rows(design, extras: Extras, by, na_rm: bool, confidence: float, figures: list[dict]) -> list[dict]:
    """svyglm, svyquantile rows; deff added to the mean and total rows (Taylor variance only)."""
    rows = [row for formula in extras.regressions for row in regression_rows(design, formula, "gaussian", confidence)]
    rows += [row for formula in extras.logistic for row in regression_rows(design, formula, "binomial", confidence)]
    rows += [row for variable in extras.quantiles for row in quantile_rows(design, variable, extras.shares, by, na_rm, confidence)]
    if extras.deff:
        deff_values(design, figures, extras.deff, na_rm)
    return rows


def read_data(path: Path) -> pd.DataFrame:
    if not path.exists():
        raise EstimateError(f"{path}: no such file")
    try:
        frame = pd.read_csv(path, keep_default_na=False, na_values=[""])  # only empty cells are missing; "n/a" is reported
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as error:
        raise EstimateError(f"{path}: not a readable CSV file ({error})") from error
    if frame.empty:
        raise EstimateError(f"{path}: no data rows")
    return frame


def _check_choices(options: DesignOptions, variance: str, confidence: float, extras: Extras) -> None:
    if options.lonely_psu not in LONELY_PSU_CHOICES:
        raise EstimateError(f"--lonely-psu {options.lonely_psu!r}: choose one of {', '.join(LONELY_PSU_CHOICES)}")
    if variance not in VARIANCE_CHOICES + ("replicate weights",):
        raise EstimateError(f"--variance {variance!r}: choose one of {', '.join(VARIANCE_CHOICES)}")
    if variance != "taylor" and (extras.taylor_only or extras.pps):
        named = ", ".join(extras.taylor_only + (["--pps"] if extras.pps else []))
        raise EstimateError(f"{named} use the Taylor variance of the design; drop --variance/--replicate-weights for them")
    if extras.pps_variance not in ("HT", "YG"):
        raise EstimateError(f"--pps-variance {extras.pps_variance!r}: choose HT or YG")
    if len(options.clusters) > 2:
        raise EstimateError("--cluster given more than twice: one or two cluster stages are supported")
    if options.weights and options.probabilities:
        raise EstimateError("give --weights or --probabilities, not both")
    if not 0 < confidence < 1:
        raise EstimateError(f"--confidence {confidence}: must be between 0 and 1")


def _check_inputs(frame: pd.DataFrame, requests: list[Request], options: DesignOptions, by, na_rm: bool) -> None:
    """Unknown columns, non-numeric cells, missing values and bad weights, each with its column and row."""
    design_columns = [options.strata, *options.clusters, options.weights, options.probabilities, *options.fpc, by]
    for name in [column for column in design_columns if column] + [name for request in requests for name in (request.variable, request.denominator) if name]:
        _require_column(frame, name)
    for name in [options.strata, *options.clusters, by]:
        if name:
            _require_complete(frame, name, "a design or domain column")
    for name in [options.weights, options.probabilities, *options.fpc]:
        if name:
            _require_complete(frame, name, "a design column")
            _require_positive(frame, name, _numeric_column(frame, name))
    if options.probabilities:
        _require_at_most_one(frame, options.probabilities)
    for request in requests:
        for name in (request.variable, request.denominator):
            if name and request.statistic != "proportion":
                _numeric_column(frame, name)
            if name and not na_rm:
                _require_complete(frame, name, "estimated", hint="; pass --na-rm to estimate over the rows that have one")
    _check_lonely_strata(frame, options)


def _require_column(frame: pd.DataFrame, name: str) -> None:
    if name not in frame.columns:
        raise EstimateError(f"column {name!r} is not in the data; columns are: {', '.join(map(str, frame.columns))}")


def _row(index: int) -> int:
    return int(index) + 2  # CSV row number: the header is row 1


def _numeric_column(frame: pd.DataFrame, name: str) -> np.ndarray:
    values = pd.to_numeric(frame[name], errors="coerce")
    bad = values.isna() & frame[name].notna()
    if bad.any():
        first = bad.idxmax()
        raise EstimateError(f"column {name!r}, row {_row(first)}: {frame.at[first, name]!r} is not a number"
                            f" ({int(bad.sum())} such cells)")
    return values.to_numpy(dtype=float)


def _require_complete(frame: pd.DataFrame, name: str, role: str, hint: str = "") -> None:
    missing = frame[name].isna()
    if missing.any():
        rows = ", ".join(str(_row(index)) for index in np.flatnonzero(missing.to_numpy())[:5])
        raise EstimateError(f"column {name!r} ({role}) is empty in {int(missing.sum())} rows (rows {rows}){hint}")


def _require_positive(frame: pd.DataFrame, name: str, values: np.ndarray) -> None:
    bad = ~np.isfinite(values) | (values <= 0)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise EstimateError(f"column {name!r}, row {_row(first)}: {frame.at[first, name]!r} must be greater than 0"
                            f" ({int(bad.sum())} such rows)")


def _require_at_most_one(frame: pd.DataFrame, name: str) -> None:
    values = _numeric_column(frame, name)
    if (values > 1).any():
        first = int(np.flatnonzero(values > 1)[0])
        raise EstimateError(f"column {name!r}, row {_row(first)}: probability {frame.at[first, name]!r} is above 1")


def _check_lonely_strata(frame: pd.DataFrame, options: DesignOptions) -> None:
    """Name the strata with a single first-stage unit when --lonely-psu is fail (R's default)."""
    if not options.strata or options.lonely_psu != "fail":
        return
    units = frame[options.clusters[0]] if options.clusters else pd.Series(frame.index, index=frame.index)
    per_stratum = units.groupby(frame[options.strata]).nunique()
    lonely = per_stratum[per_stratum < 2].index.tolist()
    if options.fpc:  # a single unit that is the whole stratum (f = 1) is a certainty, not a problem
        population = pd.to_numeric(frame[options.fpc[0]]).groupby(frame[options.strata]).first()
        lonely = [stratum for stratum in lonely if population[stratum] != 1]  # N = 1 or fraction 1
    if lonely:
        shown = ", ".join(repr(stratum) for stratum in lonely[:5])
        raise EstimateError(f"column {options.strata!r}: stratum {shown} has only one PSU, so its variance cannot be estimated; "
                            "choose --lonely-psu certainty|remove|adjust|average (as R's survey.lonely.psu) or merge strata")


def build_design(frame: pd.DataFrame, options: DesignOptions):
    from analysis.design import SurveyDesign

    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "no weights: weight 1" is stated in the design line instead
            return SurveyDesign.from_frame(
                frame, clusters=options.clusters or None, strata=options.strata, weights=options.weights,
                probabilities=options.probabilities, fpc=options.fpc or None, nest=options.nest, lonely_psu=options.lonely_psu,
            )
    except ValueError as error:
        raise EstimateError(str(error)) from error


def apply_adjustment(design, adjustments: dict):
    """At most one of post-stratification, raking, linear calibration; returns the new design and a report."""
    from analysis import weighting

    chosen = {name: path for name, path in adjustments.items() if path}
    if len(chosen) > 1:
        raise EstimateError(f"choose one adjustment, not {', '.join('--' + name.replace('_', '-') for name in chosen)}")
    if not chosen:
        return design, None
    method, path = next(iter(chosen.items()))
    try:
        if method == "calibrate":
            totals = read_calibration_totals(path)
            weighted = weighting.calibrate(design, _calibration_variables(totals, design), totals, intercept="intercept" in totals)
        else:
            margins = read_margins(path, design.data)
            if method == "post_stratify" and len(margins) != 1:
                raise EstimateError(f"{path}: --post-stratify takes one variable, the file has {list(margins)}; use --rake for several")
            weighted = (weighting.post_stratify(design, *next(iter(margins.items()))) if method == "post_stratify"
                        else weighting.rake(design, margins))
    except weighting.WeightingError as error:
        raise EstimateError(f"{path}: {error}") from error
    report = {"method": method, "file": str(path), "before": vars(weighted.before), "after": vars(weighted.after), **weighted.report}
    return weighted.design, report


def read_margins(path: Path, data: pd.DataFrame) -> dict:
    """variable,level,count rows → {variable: {level: count}}, levels typed like the data column."""
    table = _read_table(path, ["variable", "level", "count"])
    margins: dict = {}
    for index, row in table.iterrows():
        variable = str(row["variable"]).strip()
        if variable not in data.columns:
            raise EstimateError(f"{path}, row {_row(index)}: variable {variable!r} is not a column of the data")
        count = _number(path, index, "count", row["count"])
        margins.setdefault(variable, {})[_level_like(data[variable], row["level"], path, index)] = count
    return margins


def read_calibration_totals(path: Path) -> dict:
    table = _read_table(path, ["term", "total"])
    return {str(row["term"]).strip(): _number(path, index, "total", row["total"]) for index, row in table.iterrows()}


def _calibration_variables(totals: dict, design) -> list[str]:
    variables = []
    for term in totals:
        if term == "intercept":
            continue
        variable = term.split("[", 1)[0]
        if variable not in design.data.columns:
            raise EstimateError(f"calibration term {term!r}: {variable!r} is not a column of the data")
        if variable not in variables:
            variables.append(variable)
    return variables


def _read_table(path: Path, columns: list[str]) -> pd.DataFrame:
    if not path.exists():
        raise EstimateError(f"{path}: no such file")
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [column for column in columns if column not in table.columns]
    if missing:
        raise EstimateError(f"{path}: needs the columns {', '.join(columns)}; missing {', '.join(missing)}")
    return table


def _number(path: Path, index, column: str, text: str) -> float:
    try:
        value = float(str(text).replace(",", "."))
    except ValueError:
        raise EstimateError(f"{path}, row {_row(index)}: {column} {text!r} is not a number") from None
    if not math.isfinite(value):
        raise EstimateError(f"{path}, row {_row(index)}: {column} {text!r} is not a finite number")
    return value


def _level_like(column: pd.Series, text: str, path: Path, index):
    """The margin file's level as the data column holds it (numbers stay numbers)."""
    if pd.api.types.is_numeric_dtype(column):
        try:
            return column.dtype.type(float(text))
        except ValueError:
            raise EstimateError(f"{path}, row {_row(index)}: level {text!r} is not a number, but {column.name!r} is numeric") from None
    return text


def _estimate_request(design, request: Request, by, na_rm, confidence, replicate_design) -> list[dict]:
    from analysis import estimators

    try:
        if replicate_design is not None:
            results = _replicate_results(replicate_design, request, by, na_rm, confidence)
        elif request.statistic == "proportion":
            results = _proportions(design, request, by, na_rm, confidence)
        elif by:
            results = {(level, None): value for level, value in estimators.by(
                design, by, request.statistic, request.variable, denominator=request.denominator, na_rm=na_rm, confidence=confidence).items()}
        else:
            function = getattr(estimators, request.statistic)
            arguments = (request.variable, request.denominator) if request.denominator else (request.variable,)
            results = {(None, None): function(design, *arguments, na_rm=na_rm, confidence=confidence)}
    except ValueError as error:
        raise EstimateError(f"{request.statistic} of {request.label}: {error}") from error
    return [_row_of(request, by, key, estimate) for key, estimate in results.items()]


def _proportions(design, request, by, na_rm, confidence) -> dict:
    from analysis import estimators

    if not by:
        return {(None, level): estimate for level, estimate in estimators.proportion(design, request.variable, na_rm=na_rm, confidence=confidence).items()}
    results = {}
    for domain_level in sorted(design.data[by].unique().tolist()):
        inside = (design.data[by] == domain_level).to_numpy()
        shares = estimators.proportion(design, request.variable, domain=inside, na_rm=na_rm, confidence=confidence)
        results.update({(domain_level, level): estimate for level, estimate in shares.items()})
    return results


def _replicate_results(replicate_design, request, by, na_rm, confidence) -> dict:
    from analysis import replicate

    design = replicate_design.design
    domains = [None] if not by else sorted(design.data[by].unique().tolist())
    results = {}
    for domain_level in domains:
        inside = np.ones(design.row_count, dtype=bool) if by is None else (design.data[by] == domain_level).to_numpy()
        for level, (top, bottom, present) in _ratio_parts(design, request, inside).items():
            results[(domain_level, level)] = replicate.replicate_ratio(replicate_design, top, bottom, present, confidence)
    return results


def _ratio_parts(design, request: Request, inside: np.ndarray) -> dict:
    """The statistic as Σw·top / Σw·bottom (bottom None: a total) over the domain's rows with values."""
    if request.statistic == "proportion":
        raw = design.data[request.variable]
        present = inside & raw.notna().to_numpy()
        return {level: ((raw == level).to_numpy(dtype=float), np.ones(design.row_count), present)
                for level in sorted(raw[present].unique().tolist())}
    values = design.column(request.variable)
    present = inside & ~np.isnan(values)
    if request.statistic == "total":
        return {None: (values, None, present)}
    bottom = np.ones_like(values) if request.statistic == "mean" else design.column(request.denominator)
    return {None: (values, bottom, present & ~np.isnan(bottom))}


def _row_of(request: Request, by, key, estimate) -> dict:
    domain_level, level = key
    return {
        "statistic": request.statistic, "variable": request.label, "level": _plain(level),
        "by": by, "domain": _plain(domain_level),
        "estimate": estimate.value, "se": estimate.se, "ci_low": estimate.ci_low, "ci_high": estimate.ci_high,
        "count": estimate.count,
    }


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value


def format_table(result: dict) -> str:
    """A readable table: one line per figure, CI at the stated confidence."""
    lines = [f"{result['data']}: {result['rows']} rows; {result['design']}; variance: {result['variance']}"]
    for step in result.get("weighting", []):
        lines.append(f"weights {step['method']}: sum {step['before']['total']:.6g} → {step['after']['total']:.6g}, "
                     f"rows {step['before']['count']} → {step['after']['count']}, max {step['before']['maximum']:.6g} → {step['after']['maximum']:.6g}")
    if result["adjustment"]:
        adjustment = result["adjustment"]
        lines.append(f"weights {adjustment['method'].replace('_', '-')} to {adjustment['file']}: "
                     f"sum {adjustment['before']['total']:.6g} → {adjustment['after']['total']:.6g}, "
                     f"Kish n_eff {adjustment['before']['effective_n']:.1f} → {adjustment['after']['effective_n']:.1f}")
    percent = f"{result['confidence'] * 100:g}% CI"
    header = f"{'statistic':<11} {'variable':<22} {'domain':<14} {'estimate':>14} {'SE':>12} {percent:>29}"
    lines += [header, "-" * len(header)]
    for row in result["estimates"]:
        variable = row["variable"] + (f" = {row['level']}" if row["level"] is not None else "")
        domain = "" if row["domain"] is None else f"{row['by']}={row['domain']}"
        extra = "".join(f"  {name} {_digits(row[name], 4)}" for name in ("deff", "p_value") if row.get(name) is not None)
        lines.append(f"{row['statistic']:<11} {variable:<22} {domain:<14} {_digits(row['estimate']):>14} {_digits(row['se'], 5):>12} "
                     f"  [{_digits(row['ci_low']):>12}, {_digits(row['ci_high']):>12}]{extra}")
    for test in result.get("tests", []):
        lines.append(f"svychisq {test['rows']} × {test['columns']}: F = {_digits(test['F'], 5)}, ndf = {_digits(test['ndf'], 5)}, "
                     f"ddf = {_digits(test['ddf'], 6)}, p = {_digits(test['p_value'], 4)}; "
                     f"X² = {_digits(test['X2'], 5)}, df = {test['df']}, p = {_digits(test['p_value_chisq'], 4)}")
    return "\n".join(lines)


def _digits(value: float, significant: int = 6) -> str:
    """``significant`` digits without an exponent (a total of 3 687 178 prints as 3687178, not 3.68718e+06)."""
    if value == 0 or not math.isfinite(value):
        return f"{value:g}"
    decimals = max(0, significant - 1 - math.floor(math.log10(abs(value))))
    return f"{value:.{decimals}f}"
