"""analysis/ side by side with the `svy` package (Rust core) on 1 M rows, in one run; plus SIPAS indices.

Compared, on the same synthetic data (written once to a temporary .npz that both sides read):
  * Taylor SE of a weighted mean, 50 strata × 1 000 PSUs (with replacement, no fpc): building the design
    from an in-memory frame + the estimate, and the estimate alone on a built design;
  * raking 1 M rows to 3 margins (2 × 4 × 8 levels), tolerance 1e-8 on both sides;
  * the answers are checked to agree (estimate, SE, raked weights) so the timings compare like with like.
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
    return data


def margin_targets(data: dict) -> dict:
    """Population margins: each level's weight total × 1.1 (consistent totals, so raking converges)."""
    targets = {}
    for name in MARGINS:
        levels, codes = np.unique(data[name], return_inverse=True)
        totals = np.bincount(codes, weights=data["weight"]) * 1.1
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

    arrays = np.load(data_path)
    frame = pd.DataFrame({name: arrays[name] for name in ("stratum", "psu", "weight", "y", *MARGINS)})
    targets = json.loads(str(arrays["targets"]))

    def build():
        return SurveyDesign.from_frame(frame, clusters="psu", strata="stratum", weights="weight")

    design = build()
    seconds_full, estimate = best_of(repeat, lambda: estimators.mean(build(), "y"))
    seconds_mean, _ = best_of(repeat, lambda: estimators.mean(design, "y"))
    seconds_rake, raked = best_of(repeat, lambda: weighting.rake(design, targets, tolerance=1e-8))
    return {
        "design_and_mean_s": seconds_full, "mean_s": seconds_mean, "rake_s": seconds_rake,
        "mean": estimate.value, "se": estimate.se, "rake_iterations": raked.report["iterations"],
        "raked_weights": raked.design.weights,
    }


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
def svy_worker(data_path: str, output_path: str, repeat: int) -> None:
    """Runs under the svy environment's python: numpy, polars and svy only."""
    import polars as pl
    import svy

    arrays = np.load(data_path)
    frame = pl.DataFrame({name: arrays[name] for name in ("stratum", "psu", "weight", "y", *MARGINS)})
    targets = json.loads(str(arrays["targets"]))

    def build():
        return svy.Sample(frame, svy.Design(stratum="stratum", psu="psu", wgt="weight", wr=True))

    sample = build()
    seconds_full, estimate = best_of(repeat, lambda: build().estimation.mean("y", method="taylor"))
    seconds_mean, _ = best_of(repeat, lambda: sample.estimation.mean("y", method="taylor"))
    seconds_rake, raked = best_of(repeat, lambda: sample.weighting.rake(controls=targets, tol=1e-8, max_iter=100))
    row_order = raked.data.get_column("__svy_row_index").to_numpy() if "__svy_row_index" in raked.data.columns else None
    weights = raked.data.get_column("rk_wgt").to_numpy()
    if row_order is not None:
        weights = weights[np.argsort(row_order)]
    np.save(output_path + ".weights.npy", weights)
    estimate_table = estimate.to_polars() if hasattr(estimate, "to_polars") else None
    value, error = _svy_estimate(estimate, estimate_table)
    Path(output_path).write_text(json.dumps({
        "design_and_mean_s": seconds_full, "mean_s": seconds_mean, "rake_s": seconds_rake, "mean": value, "se": error,
        "svy_version": svy.__version__ if hasattr(svy, "__version__") else "?",
    }))


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
    parser.add_argument("--svy-python", default=os.environ.get("SVY_PYTHON", ""), help="python of a venv with svy (or SVY_PYTHON)")
    parser.add_argument("--svy-worker", nargs=2, metavar=("DATA", "OUTPUT"), help=argparse.SUPPRESS)
    parser.add_argument("--sipas-worker", action="store_true", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.svy_worker:
        svy_worker(*arguments.svy_worker, arguments.repeat)
        return
    if arguments.sipas_worker:
        print(json.dumps(run_ours_sipas(arguments.rows)))
        return

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    with tempfile.TemporaryDirectory() as folder:
        data = make_data(arguments.rows)
        data_path = str(Path(folder) / "data.npz")
        np.savez(data_path, **{name: values for name, values in data.items() if name != "ratings"}, targets=json.dumps(margin_targets(data)))
        del data
        ours = run_ours(data_path, arguments.repeat)
        theirs = run_svy(arguments.svy_python, data_path, str(Path(folder) / "svy.json"), arguments.repeat)
    sipas = json.loads(subprocess.run([sys.executable, __file__, "--sipas-worker", "--rows", str(arguments.rows)],
                                      check=True, capture_output=True, text=True).stdout)
    report(arguments.rows, ours, theirs, sipas)


def run_svy(svy_python: str, data_path: str, output_path: str, repeat: int) -> dict | None:
    if not svy_python:
        print("svy not run: set SVY_PYTHON (or --svy-python) to the python of a venv where `pip install svy` was done.", file=sys.stderr)
        return None
    subprocess.run([svy_python, __file__, "--svy-worker", data_path, output_path, "--repeat", str(repeat)], check=True)
    theirs = json.loads(Path(output_path).read_text())
    theirs["raked_weights"] = np.load(output_path + ".weights.npy")
    return theirs


def report(rows: int, ours: dict, theirs: dict | None, sipas: dict) -> None:
    lines = [("Taylor mean + SE (build design + estimate)", "design_and_mean_s"), ("Taylor mean + SE (built design)", "mean_s"),
             ("rake 3 margins (tol 1e-8)", "rake_s")]
    print(f"{rows:,} rows, 50 strata, 1000 PSUs; best of repeats")
    print(f"{'step':<44} {'ours s':>8} {'svy s':>8} {'svy/ours':>9}")
    table = []
    for label, key in lines:
        mine, other = ours[key], (theirs or {}).get(key)
        ratio = other / mine if other else None
        table.append({"step": label, "ours_s": round(mine, 4), "svy_s": other and round(other, 4), "svy_over_ours": ratio and round(ratio, 2)})
        print(f"{label:<44} {mine:>8.3f} {other if other else float('nan'):>8.3f} {ratio if ratio else float('nan'):>8.1f}×")
    print(f"{'SIPAS 22 items, all ' + str(sipas['units']) + ' units + province, with SE':<44} {sipas['sipas_s']:>8.3f}"
          f"   peak memory {sipas['peak_mb']:.0f} MB (goal < 10 s, < 2048 MB)")
    agreement = {}
    if theirs:
        agreement = {
            "mean_relative_difference": abs(ours["mean"] - theirs["mean"]) / abs(theirs["mean"]),
            "se_relative_difference": abs(ours["se"] - theirs["se"]) / theirs["se"],
            "raked_weight_max_relative_difference": float(np.max(np.abs(ours["raked_weights"] - theirs["raked_weights"]) / theirs["raked_weights"])),
        }
        print(f"agreement: mean {ours['mean']:.6f} vs {theirs['mean']:.6f}, SE {ours['se']:.6f} vs {theirs['se']:.6f}, "
              f"raked weights max rel. diff {agreement['raked_weight_max_relative_difference']:.1e}  (svy {theirs.get('svy_version')})")
    output = Path(__file__).parent / "results" / "analysis_vs_svy.json"
    output.parent.mkdir(exist_ok=True)
    output.write_text(json.dumps({"rows": rows, "table": table, "sipas": sipas, "agreement": agreement,
                                  "svy_version": theirs and theirs.get("svy_version")}, indent=2))
    print(f"wrote {output}")


if __name__ == "__main__":
    main()
