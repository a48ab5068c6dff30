"""analysis/ side by side with the `svy` package (Rust core) on 1 M rows, in one run; plus SIPAS indices.

Compared, on the same synthetic data (written once to a temporary .npz that both sides read):
  * Taylor SE of a weighted mean, 50 strata × 1 000 PSUs (with replacement, no fpc): building the design
    from an in-memory frame + the estimate, and the estimate alone on a built design;
  * raking 1 M rows to 3 margins (2 × 4 × 8 levels), tolerance 1e-8 on both sides;
  * linear regression y ~ x (Taylor SEs), 1 M rows;
  * replicate variance of a mean with 1 000 PSUs: jackknife (JKn, 1 000 replicates) and 500-replicate Rao–Wu
    bootstrap, and raking to 3 margins redone in every jackknife replicate — on --replicate-rows rows for svy
    (its replicate weights are a rows × replicates table: 1 M × 1 000 would be 8 GB), and on both sizes for us;
  * the answers are checked to agree (estimate, SE, raked weights, coefficients) so the timings compare like with like
    (bootstrap SEs only roughly: the two sides draw different replicates).
Then SIPAS indices (22 items, 5 factors) for 1 M responses, all 130 units, with SEs from the design, in a fresh
process so its peak memory is its own (goal: < 10 s and < 2 GB).

`svy` is NOT a project dependency. Install it in a separate virtual environment, and point this script at that
environment's python, either with the environment variable SVY_PYTHON or with --svy-python:

    python3 -m venv /tmp/svyvenv && /tmp/svyvenv/bin/pip install svy
    SVY_PYTHON=/tmp/svyvenv/bin/python .venv/bin/python benchmarks/analysis_vs_svy.py [--rows 1000000] [--repeat 3]

svy's part runs as a subprocess of that python (this same file with --svy-worker; it imports only numpy, polars
and svy). Without svy only our side runs. Each timing is the best of --repeat runs. Prints a table and writes
benchmarks/results/analysis_vs_svy.json (gitignored).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

MARGINS = ("sex", "age", "region")
UNITS = 130
ITEMS = 22


def make_data(rows: int, seed: int = 1) -> dict:
    """Plain numpy columns: both sides build their own frame from these."""
    generator = np.random.default_rng(seed)
    psu = generator.integers(0, 1000, rows)
    data = {
        "stratum": psu % 50, "psu": psu, "weight": generator.uniform(1, 5, rows), "y": generator.normal(50, 10, rows),
        "sex": generator.choice(np.array(["f", "m"]), rows), "age": generator.choice(np.array(list("abcd")), rows),
        "region": generator.choice(np.array(list("ABCDEFGH")), rows), "unit": generator.integers(0, UNITS, rows),
    }
    ratings = generator.integers(1, 6, size=(rows, ITEMS)).astype(float)
    ratings[generator.random((rows, ITEMS)) < 0.05] = np.nan  # N/A
    data["ratings"] = ratings
    data["x"] = generator.normal(0, 1, rows)
    data["y"] = data["y"] + 2 * data["x"]  # a slope to estimate
    return data


def margin_targets(data: dict, rows: int | None = None) -> dict:
    """Population margins: each level's weight total × 1.1 (consistent totals, so raking converges)."""
    targets = {}
    for name in MARGINS:
        levels, codes = np.unique(data[name][:rows], return_inverse=True)
        totals = np.bincount(codes, weights=data["weight"][:rows]) * 1.1
        targets[name] = {str(level): float(total) for level, total in zip(levels, totals)}
    return targets


def best_of(repeat: int, action) -> tuple[float, object]:
    best, value = np.inf, None
    for _ in range(repeat):
        start = time.perf_counter()
        value = action()
        best = min(best, time.perf_counter() - start)
    return best, value


# ----------------------------------------------------------------------------------------------- our side
def run_ours(data_path: str, repeat: int) -> dict:
    import pandas as pd

    from analysis import estimators, weighting
    from analysis.design import SurveyDesign
    from analysis.regression import svyglm

    arrays = np.load(data_path)
    frame = pd.DataFrame({name: arrays[name] for name in ("stratum", "psu", "weight", "y", "x", *MARGINS)})
    targets = json.loads(str(arrays["targets"]))

    def build():
        return SurveyDesign.from_frame(frame, clusters="psu", strata="stratum", weights="weight")

    design = build()
    seconds_full, estimate = best_of(repeat, lambda: estimators.mean(build(), "y"))
    seconds_mean, _ = best_of(repeat, lambda: estimators.mean(design, "y"))
    seconds_rake, raked = best_of(repeat, lambda: weighting.rake(design, targets, tolerance=1e-8))
    seconds_glm, fit = best_of(repeat, lambda: svyglm(design, "y", ["x"]))
    return {
        "design_and_mean_s": seconds_full, "mean_s": seconds_mean, "rake_s": seconds_rake, "glm_s": seconds_glm,
        "mean": estimate.value, "se": estimate.se, "rake_iterations": raked.report["iterations"],
        "raked_weights": raked.design.weights, "glm": [float(value) for value in fit.coefficients], "glm_se": [float(value) for value in fit.standard_errors],
    }


def run_ours_replicates(data_path: str, rows: int, repeat: int) -> dict:
    """Jackknife, 500-replicate bootstrap and jackknife with raking redone per replicate, on the first ``rows`` rows."""
    import pandas as pd

    from analysis import replicate
    from analysis.design import SurveyDesign

    arrays = np.load(data_path)
    frame = pd.DataFrame({name: arrays[name][:rows] for name in ("stratum", "psu", "weight", "y", *MARGINS)})
    targets = json.loads(str(arrays["targets_small" if rows < len(arrays["y"]) else "targets"]))
    design = SurveyDesign.from_frame(frame, clusters="psu", strata="stratum", weights="weight")
    seconds_jk, jackknifed = best_of(repeat, lambda: replicate.replicate_mean(replicate.jackknife(design), "y"))
    seconds_bs, bootstrapped = best_of(repeat, lambda: replicate.replicate_mean(replicate.bootstrap(design, 500, np.random.default_rng(1)), "y"))
    seconds_rk, raked = best_of(repeat, lambda: replicate.replicate_mean(replicate.rake(replicate.jackknife(design), targets, tolerance=1e-8), "y"))
    return {"rows": rows, "jackknife_s": seconds_jk, "bootstrap_s": seconds_bs, "rake_replicates_s": seconds_rk,
            "jackknife": [jackknifed.value, jackknifed.se], "bootstrap": [bootstrapped.value, bootstrapped.se], "rake_replicates": [raked.value, raked.se]}


def run_ours_sipas(rows: int) -> dict:
    """In a fresh process: build the frame, the design, and every unit's indices; report time and peak memory."""
    import pandas as pd

    from analysis.design import SurveyDesign
    from analysis.sipas import compute_indices, compute_indices_by

    data = make_data(rows)
    frame = pd.DataFrame({name: data[name] for name in ("stratum", "psu", "weight", "unit")})
    frame = pd.concat([frame, pd.DataFrame(data.pop("ratings"), columns=[f"q{i}" for i in range(ITEMS)])], axis=1)
    del data
    start = time.perf_counter()
    design = SurveyDesign.from_frame(frame, clusters="psu", strata="stratum", weights="weight")
    by_unit = compute_indices_by(frame, sipas_scoring_map(), "unit", design=design)
    province = compute_indices(frame, sipas_scoring_map(), design=design)
    seconds = time.perf_counter() - start
    return {
        "sipas_s": seconds, "units": len(by_unit), "province_overall": province.overall, "province_se": province.se,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def sipas_scoring_map() -> dict:
    """22 one-item criteria in 5 factors (4, 5, 6, 3, 4), the shape of the SIPAS questionnaire."""
    items = iter(range(ITEMS))
    return {"factors": [
        {"key": f"f{factor}", "criteria": [{"key": f"c{item}", "items": [f"q{item}"]} for item in [next(items) for _ in range(size)]]}
        for factor, size in enumerate([4, 5, 6, 3, 4])
    ]}


# ---------------------------------------------------------------------------------------------- svy's side
def svy_worker(data_path: str, output_path: str, repeat: int, replicate_rows: int, replicate_repeat: int) -> None:
    """Runs under the svy environment's python: numpy, polars and svy only."""
    import polars as pl
    import svy

    arrays = np.load(data_path)
    frame = pl.DataFrame({name: arrays[name] for name in ("stratum", "psu", "weight", "y", "x", *MARGINS)})
    targets = json.loads(str(arrays["targets"]))

    def build(data=frame):
        return svy.Sample(data, svy.Design(stratum="stratum", psu="psu", wgt="weight", wr=True))

    sample = build()
    seconds_full, estimate = best_of(repeat, lambda: build().estimation.mean("y", method="taylor"))
    seconds_mean, _ = best_of(repeat, lambda: sample.estimation.mean("y", method="taylor"))
    seconds_rake, raked = best_of(repeat, lambda: sample.weighting.rake(controls=targets, tol=1e-8, max_iter=100))
    seconds_glm, fit = best_of(repeat, lambda: sample.glm.fit("y", x=["x"]))
    row_order = raked.data.get_column("__svy_row_index").to_numpy() if "__svy_row_index" in raked.data.columns else None
    weights = raked.data.get_column("rk_wgt").to_numpy()
    if row_order is not None:
        weights = weights[np.argsort(row_order)]
    np.save(output_path + ".weights.npy", weights)
    estimate_table = estimate.to_polars() if hasattr(estimate, "to_polars") else None
    value, error = _svy_estimate(estimate, estimate_table)
    coefficients = fit.to_polars()
    result = {
        "design_and_mean_s": seconds_full, "mean_s": seconds_mean, "rake_s": seconds_rake, "glm_s": seconds_glm, "mean": value, "se": error,
        "glm": coefficients["estimate"].to_list(), "glm_se": coefficients["std_err"].to_list(),
        "svy_version": svy.__version__ if hasattr(svy, "__version__") else "?",
    }
    result["replicates"] = _svy_replicates(build(frame.head(replicate_rows)), json.loads(str(arrays["targets_small"])), replicate_rows, replicate_repeat)
    Path(output_path).write_text(json.dumps(result))


def _svy_replicates(sample, targets: dict, rows: int, repeat: int) -> dict:
    def mean(replicated):
        return _svy_estimate(None, replicated.estimation.mean("y", method="replication").to_polars())

    seconds_jk, jackknifed = best_of(repeat, lambda: mean(sample.weighting.create_jk_wgts()))
    seconds_bs, bootstrapped = best_of(repeat, lambda: mean(sample.weighting.create_bs_wgts(500, rstate=1)))
    seconds_rk, raked = best_of(repeat, lambda: mean(sample.weighting.create_jk_wgts().weighting.rake(controls=targets, tol=1e-8, max_iter=100)))
    return {"rows": rows, "jackknife_s": seconds_jk, "bootstrap_s": seconds_bs, "rake_replicates_s": seconds_rk,
            "jackknife": list(jackknifed), "bootstrap": list(bootstrapped), "rake_replicates": list(raked)}


def _svy_estimate(estimate, table) -> tuple[float, float]:
    if table is not None and {"est", "se"} <= set(table.columns):
        return float(table["est"][0]), float(table["se"][0])
    first = estimate.estimates[0] if hasattr(estimate, "estimates") else estimate
    return float(first.est), float(first.se)


# ----------------------------------------------------------------------------------------------- the run
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--replicate-rows", type=int, default=100_000, help="rows for the replicate comparison with svy")
    parser.add_argument("--replicate-repeat", type=int, default=1, help="repeats of each replicate timing (svy's are slow)")
    parser.add_argument("--svy-python", default=os.environ.get("SVY_PYTHON", ""), help="python of a venv with svy (or SVY_PYTHON)")
    parser.add_argument("--svy-worker", nargs=2, metavar=("DATA", "OUTPUT"), help=argparse.SUPPRESS)
    parser.add_argument("--skip-sipas", action="store_true", help="leave out the SIPAS run")
    parser.add_argument("--sipas-worker", action="store_true", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.svy_worker:
        svy_worker(*arguments.svy_worker, arguments.repeat, arguments.replicate_rows, arguments.replicate_repeat)
        return
    if arguments.sipas_worker:
        print(json.dumps(run_ours_sipas(arguments.rows)))
        return

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    with tempfile.TemporaryDirectory() as folder:
        data = make_data(arguments.rows)
        data_path = str(Path(folder) / "data.npz")
        np.savez(data_path, **{name: values for name, values in data.items() if name != "ratings"}, targets=json.dumps(margin_targets(data)),
                 targets_small=json.dumps(margin_targets(data, arguments.replicate_rows)))
        del data
        ours = run_ours(data_path, arguments.repeat)
        ours["replicates_small"] = run_ours_replicates(data_path, arguments.replicate_rows, arguments.replicate_repeat)
        ours["replicates_full"] = run_ours_replicates(data_path, arguments.rows, arguments.replicate_repeat)
        theirs = run_svy(arguments.svy_python, data_path, str(Path(folder) / "svy.json"), arguments)
    sipas = None if arguments.skip_sipas else json.loads(subprocess.run(
        [sys.executable, __file__, "--sipas-worker", "--rows", str(arguments.rows)], check=True, capture_output=True, text=True).stdout)
    report(arguments.rows, ours, theirs, sipas)


def run_svy(svy_python: str, data_path: str, output_path: str, arguments) -> dict | None:
    if not svy_python:
        print("svy not run: set SVY_PYTHON (or --svy-python) to the python of a venv where `pip install svy` was done.", file=sys.stderr)
        return None
    subprocess.run([svy_python, __file__, "--svy-worker", data_path, output_path, "--repeat", str(arguments.repeat),
                    "--replicate-rows", str(arguments.replicate_rows), "--replicate-repeat", str(arguments.replicate_repeat)], check=True)
    theirs = json.loads(Path(output_path).read_text())
    theirs["raked_weights"] = np.load(output_path + ".weights.npy")
    return theirs


def report(rows: int, ours: dict, theirs: dict | None, sipas: dict | None) -> None:
    small, full = ours["replicates_small"], ours["replicates_full"]
    svy_small = (theirs or {}).get("replicates", {})
    lines = [
        ("Taylor mean + SE (build design + estimate)", ours["design_and_mean_s"], (theirs or {}).get("design_and_mean_s"), rows),
        ("Taylor mean + SE (built design)", ours["mean_s"], (theirs or {}).get("mean_s"), rows),
        ("rake 3 margins (tol 1e-8)", ours["rake_s"], (theirs or {}).get("rake_s"), rows),
        ("linear regression y ~ x, Taylor SEs", ours["glm_s"], (theirs or {}).get("glm_s"), rows),
    ]
    for label, key in (("jackknife SE of a mean (1000 replicates)", "jackknife_s"), ("bootstrap SE of a mean (500 replicates)", "bootstrap_s"),
                       ("jackknife + raking redone per replicate", "rake_replicates_s")):
        lines.append((label, small[key], svy_small.get(key), small["rows"]))
        lines.append((label, full[key], None, full["rows"]))
    print(f"50 strata, 1000 PSUs; best of repeats")
    print(f"{'step':<44} {'rows':>10} {'ours s':>8} {'svy s':>8} {'svy/ours':>9}")
    table = []
    for label, mine, other, size in lines:
        ratio = other / mine if other else None
        table.append({"step": label, "rows": size, "ours_s": round(mine, 4), "svy_s": other and round(other, 4), "svy_over_ours": ratio and round(ratio, 2)})
        print(f"{label:<44} {size:>10,} {mine:>8.3f} {other if other else float('nan'):>8.3f} {ratio if ratio else float('nan'):>8.1f}×")
    if sipas:
        print(f"{'SIPAS 22 items, all ' + str(sipas['units']) + ' units + province, with SE':<44} {rows:>10,} {sipas['sipas_s']:>8.3f}"
              f"   peak memory {sipas['peak_mb']:.0f} MB (goal < 10 s, < 2048 MB)")
    agreement = _agreement(ours, theirs) if theirs else {}
    for name, value in agreement.items():
        print(f"agreement {name}: {value}")
    output = Path(__file__).parent / "results" / "analysis_vs_svy.json"
    output.parent.mkdir(exist_ok=True)
    output.write_text(json.dumps({"rows": rows, "table": table, "sipas": sipas, "agreement": agreement,
                                  "svy_version": theirs and theirs.get("svy_version")}, indent=2, default=float))
    print(f"wrote {output}")


def _agreement(ours: dict, theirs: dict) -> dict:
    """Relative differences between the two sides' answers (bootstrap: different draws, so only roughly equal)."""
    small, other = ours["replicates_small"], theirs["replicates"]
    relative = lambda mine, their: float(abs(mine - their) / abs(their))  # noqa: E731
    return {
        "mean": relative(ours["mean"], theirs["mean"]), "mean_se": relative(ours["se"], theirs["se"]),
        "raked_weights_max": float(np.max(np.abs(ours["raked_weights"] - theirs["raked_weights"]) / theirs["raked_weights"])),
        "glm_coefficients_max": max(relative(a, b) for a, b in zip(ours["glm"], theirs["glm"])),
        "glm_se_max": max(relative(a, b) for a, b in zip(ours["glm_se"], theirs["glm_se"])),
        "jackknife_se": relative(small["jackknife"][1], other["jackknife"][1]),
        "rake_replicates_mean": relative(small["rake_replicates"][0], other["rake_replicates"][0]),
        "rake_replicates_se": relative(small["rake_replicates"][1], other["rake_replicates"][1]),
        "bootstrap_se_ratio": float(small["bootstrap"][1] / other["bootstrap"][1]),
    }


if __name__ == "__main__":
    main()
