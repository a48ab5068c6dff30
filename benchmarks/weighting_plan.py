"""Time a province's weighting plan in analysis/: raking a campaign's responses on unit × domain (130 units × 8
domains) and channel, then trimming; and the diagnostics (Kish deff, effective n per unit) it reports.

Prints a table and writes benchmarks/results/weighting_plan.json (gitignored). Not part of the test run.
Usage: .venv/bin/python benchmarks/weighting_plan.py [responses]
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.weighting_plan import calibrate_and_trim, margin_column


def synthetic_campaign(responses: int, generator: np.random.Generator) -> tuple[pd.DataFrame, dict]:
    frame = pd.DataFrame({"unit": generator.integers(0, 130, responses).astype(str),
                          "domain": generator.choice([f"d{index}" for index in range(8)], responses),
                          "channel": generator.choice(["qr", "paper", "online"], responses, p=[0.7, 0.2, 0.1])})
    cells = margin_column(frame, "unit×domain").value_counts()
    dossiers = {cell: float(count * generator.integers(5, 60)) for cell, count in cells.items()}
    total = sum(dossiers.values())
    channels = {"qr": round(total * 0.5), "paper": round(total * 0.3)}
    channels["online"] = total - sum(channels.values())
    return frame, {"unit×domain": dossiers, "channel": channels}


def main(responses: int) -> dict:
    frame, margins = synthetic_campaign(responses, np.random.default_rng(24))
    mean_weight = sum(margins["channel"].values()) / responses
    started = time.perf_counter(), time.process_time()
    weights, steps = calibrate_and_trim(frame, np.ones(responses), method="rake", margins=margins, upper=3 * mean_weight)
    wall, cpu = time.perf_counter() - started[0], time.process_time() - started[1]
    calibration, trimming = steps
    result = {"responses": responses, "cells": len(margins["unit×domain"]), "wall_s": round(wall, 3),
              "cpu_s": round(cpu, 3), "iterations": calibration.details["iterations"],
              "kish_deff_after": round(trimming.after["kish_deff"], 4), "trimmed": trimming.details["trimmed"],
              "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}
    print(" | ".join(f"{key} {value}" for key, value in result.items()))
    return result


if __name__ == "__main__":
    sizes = [int(sys.argv[1])] if len(sys.argv) > 1 else [10_000, 100_000, 1_000_000]
    results = [main(size) for size in sizes]
    out = Path(__file__).parent / "results" / "weighting_plan.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
