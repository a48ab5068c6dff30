"""Time a stratified draw from a 1M-row dossier frame; print a table and write JSON to benchmarks/results/.

Usage: .venv/bin/python benchmarks/sampling_draw.py [--rows 1000000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd

from sampling import Stage, allocate_proportional, draw_multistage, draw_stratified, draw_systematic, yamane_size

RESULTS = Path(__file__).parent / "results" / "sampling_draw.json"


def synthetic_dossiers(rows: int, units: int = 130, domains: int = 8, seed: int = 1) -> pd.DataFrame:
    """Dossier frame: ~130 units (sở, huyện, xã) × 8 domains, unequal volumes, one year of dates."""
    generator = np.random.default_rng(seed)
    unit_weights = generator.lognormal(0, 1, units)
    return pd.DataFrame({
        "member_id": [f"HS-{number:08d}" for number in range(rows)],
        "unit": generator.choice([f"U{number:03d}" for number in range(units)], rows, p=unit_weights / unit_weights.sum()),
        "domain": generator.choice([f"D{number}" for number in range(domains)], rows),
        "day": generator.integers(1, 366, rows),
    })


def time_call(function, repeats: int) -> float:
    """Best wall-clock time of `repeats` calls, in seconds."""
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        timings.append(time.perf_counter() - start)
    return min(timings)


def cases(frame: pd.DataFrame) -> dict:
    """The draws measured: stratified SRS (Yamane n per unit, proportional to domains), systematic, 3-stage."""
    strata_sizes = frame.groupby(["unit", "domain"]).size()
    quotas = allocate_proportional(strata_sizes, yamane_size(len(frame)) * 20)
    stages = [Stage("unit", 30, "pps_systematic"), Stage("day", 5), Stage("member_id", 1)]
    return {
        f"stratified SRS, {len(strata_sizes)} strata, n={quotas.sum()}":
            lambda: draw_stratified(frame, quotas, strata=["unit", "domain"], seed=42),
        "systematic within units, 50 per unit":
            lambda: draw_systematic(frame, 50, strata=["unit"], order_by=["day"], seed=42),
        "3-stage: 30 units PPS → 5 days → 1 dossier":
            lambda: draw_multistage(frame, stages, seed=42),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    arguments = parser.parse_args()
    frame = synthetic_dossiers(arguments.rows)
    results = [{"case": name, "rows": len(frame), "seconds": round(time_call(function, arguments.repeats), 3)}
               for name, function in cases(frame).items()]
    print(f"{'case':<55} {'rows':>10} {'seconds':>8}")
    for result in results:
        print(f"{result['case']:<55} {result['rows']:>10,} {result['seconds']:>8.3f}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"python": platform.python_version(), "numpy": np.__version__,
                                   "pandas": pd.__version__, "results": results}, indent=2))
    print(f"written {RESULTS}")


if __name__ == "__main__":
    main()
