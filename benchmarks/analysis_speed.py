"""Time analysis/ on 1 M rows: Taylor SE of a mean (50 strata, 1 000 PSUs), raking on 3 margins, SIPAS indices.

Prints a table and writes benchmarks/results/analysis_speed.json (gitignored). Not part of the test run.
Usage: .venv/bin/python benchmarks/analysis_speed.py [rows]
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import estimators, weighting
from analysis.design import SurveyDesign
from analysis.sipas import compute_indices_by


def synthetic_frame(rows: int, generator: np.random.Generator) -> pd.DataFrame:
    psu = generator.integers(0, 1000, rows)
    frame = pd.DataFrame({
        "stratum": psu % 50, "psu": psu, "weight": generator.uniform(1, 5, rows), "y": generator.normal(50, 10, rows),
        "sex": generator.choice(["f", "m"], rows), "age": generator.choice(["a", "b", "c", "d"], rows),
        "region": generator.choice(list("ABCDEFGH"), rows), "unit": generator.integers(0, 130, rows),
    })
    ratings = generator.integers(1, 6, size=(rows, 22)).astype(float)
    ratings[generator.random((rows, 22)) < 0.05] = np.nan
    return pd.concat([frame, pd.DataFrame(ratings, columns=[f"q{i}" for i in range(22)])], axis=1)


def scoring_map() -> dict:
    sizes = [4, 5, 6, 3, 4]
    items = iter(range(22))
    return {"factors": [{"key": f"f{f}", "criteria": [{"key": f"c{next_item}", "items": [f"q{next_item}"]} for next_item in [next(items) for _ in range(size)]]} for f, size in enumerate(sizes)]}


def timed(label: str, action, results: list) -> object:
    start = time.perf_counter()
    value = action()
    results.append({"step": label, "seconds": round(time.perf_counter() - start, 3)})
    return value


def main(rows: int) -> None:
    frame = synthetic_frame(rows, np.random.default_rng(1))
    results: list = []
    design = timed("build design (50 strata, 1000 PSUs)", lambda: SurveyDesign.from_frame(frame, clusters="psu", strata="stratum", weights="weight"), results)
    timed("mean + Taylor SE", lambda: estimators.mean(design, "y"), results)
    margins = {name: (frame.groupby(name)["weight"].sum() * 1.1).to_dict() for name in ("sex", "age", "region")}
    timed("rake 3 margins", lambda: weighting.rake(design, margins), results)
    timed("SIPAS 22 items, 130 units, with SE", lambda: compute_indices_by(frame, scoring_map(), "unit", design=design), results)
    peak_megabytes = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for result in results:
        print(f"{result['step']:<40} {result['seconds']:>8.3f} s")
    print(f"{'peak resident memory':<40} {peak_megabytes:>8.0f} MB   ({rows:,} rows)")
    output = Path(__file__).parent / "results" / "analysis_speed.json"
    output.parent.mkdir(exist_ok=True)
    output.write_text(json.dumps({"rows": rows, "results": results, "peak_mb": peak_megabytes}, indent=2))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
