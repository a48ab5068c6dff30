"""SIPAS indices with SEs for a country's yearly counter ratings, in chunks: time and peak memory.

Synthetic responses (22 items, 5 % N/A, 130 units, 50 strata × 1 000 PSUs) are generated chunk by chunk and fed
to analysis.sipas_chunked.SipasAccumulator, so memory holds one chunk and the per-(unit, PSU) sums only.
Goal (issue #20): 10 M responses under 60 s and 1.5 GB peak on the 2-core machine.

    .venv/bin/python benchmarks/sipas_chunked.py [--rows 10000000] [--chunk 500000]

Prints one line per run and writes benchmarks/results/sipas_chunked.json (gitignored). Peak memory is the
process's maximum resident set size (ru_maxrss), interpreter and libraries included. Wall and CPU seconds are both
given: on the shared machine other processes stretch the wall time, not the CPU time.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

ITEMS, UNITS, PSUS, STRATA = 22, 130, 1000, 50


def scoring_map() -> dict:
    """22 one-item criteria in 5 factors (4, 5, 6, 3, 4), the shape of the SIPAS questionnaire."""
    items = iter(range(ITEMS))
    return {"factors": [{"key": f"f{factor}", "criteria": [{"key": f"c{item}", "items": [f"q{item}"]} for item in [next(items) for _ in range(size)]]}
                        for factor, size in enumerate([4, 5, 6, 3, 4])]}


def chunks(rows: int, chunk: int, seed: int = 1):
    generator = np.random.default_rng(seed)
    for start in range(0, rows, chunk):
        size = min(chunk, rows - start)
        psu = generator.integers(0, PSUS, size)
        ratings = generator.integers(1, 6, size=(size, ITEMS)).astype(float)
        ratings[generator.random((size, ITEMS)) < 0.05] = np.nan
        frame = pd.DataFrame(ratings, columns=[f"q{item}" for item in range(ITEMS)])
        frame["stratum"], frame["psu"] = psu % STRATA, psu
        frame["weight"] = generator.uniform(1, 5, size)
        frame["unit"] = generator.integers(0, UNITS, size)
        yield frame


def run(rows: int, chunk: int) -> dict:
    from analysis.sipas_chunked import Columns, SipasAccumulator

    accumulator = SipasAccumulator(scoring_map(), Columns(psu="psu", stratum="stratum", weight="weight", group="unit"))
    generating = accumulating = accumulating_cpu = 0.0
    stream = chunks(rows, chunk)
    while True:
        start = time.perf_counter()
        frame = next(stream, None)
        generating += time.perf_counter() - start
        if frame is None:
            break
        start, start_cpu = time.perf_counter(), time.process_time()
        accumulator.add(frame)
        accumulating += time.perf_counter() - start
        accumulating_cpu += time.process_time() - start_cpu
    start, start_cpu = time.perf_counter(), time.process_time()
    overall, by_unit = accumulator.results()
    finishing, finishing_cpu = time.perf_counter() - start, time.process_time() - start_cpu
    return {"rows": rows, "chunk": chunk, "items": ITEMS, "units": len(by_unit), "generate_s": round(generating, 2),
            "accumulate_s": round(accumulating, 2), "accumulate_cpu_s": round(accumulating_cpu, 2),
            "indices_and_se_s": round(finishing, 2), "indices_and_se_cpu_s": round(finishing_cpu, 2),
            "total_s": round(generating + accumulating + finishing, 2),
            "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "overall": round(overall.overall, 4), "overall_se": round(overall.se, 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--chunk", type=int, default=500_000)
    arguments = parser.parse_args()
    result = run(arguments.rows, arguments.chunk)
    print(json.dumps(result))
    output = Path(__file__).parent / "results" / "sipas_chunked.json"
    output.parent.mkdir(exist_ok=True)
    output.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
