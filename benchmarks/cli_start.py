"""Start-up time of `survey` commands: wall time of fresh processes (median and min of N runs) and the import time
`python -X importtime` counts, with the biggest imports. The goal (issue #23): `survey estimate --help` and
`survey validate FILE` under 0.5 s.

Prints a table and writes JSON to benchmarks/results/cli_start.json.
Usage: PYTHONPATH=. .venv/bin/python benchmarks/cli_start.py [--runs 10]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).parent / "results" / "cli_start.json"
SHIPPED = sorted((ROOT / "questionnaires").rglob("*.yaml"))[0]
COMMANDS = {
    "survey --help": ["--help"],
    "survey estimate --help": ["estimate", "--help"],
    "survey validate FILE": ["validate", str(SHIPPED)],
}
# The same entry point as the `survey` console script (pyproject: survey_app.cli:app)
LAUNCH = "from survey_app.cli import app; app()"


def command_line(arguments: list[str], *python_options: str) -> list[str]:
    return [sys.executable, *python_options, "-c", LAUNCH, *arguments]


def environment() -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def wall_times(arguments: list[str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command_line(arguments), capture_output=True, check=True, cwd=ROOT, env=environment())
        times.append(time.perf_counter() - started)
    return times


def import_profile(arguments: list[str]) -> tuple[float, list[tuple[str, float]]]:
    """Total import seconds and the five biggest top-level packages (cumulative), from -X importtime."""
    done = subprocess.run(command_line(arguments, "-X", "importtime"), capture_output=True, text=True, check=True,
                          cwd=ROOT, env=environment())
    by_package: dict[str, float] = {}
    for match in re.finditer(r"import time:\s+\d+ \|\s+(\d+) \|( *)(\S+)", done.stderr):
        cumulative, depth, name = int(match.group(1)), len(match.group(2)), match.group(3)
        if depth == 1:  # a top-level import: its cumulative time includes everything it pulled in
            package = name.split(".")[0]
            by_package[package] = by_package.get(package, 0) + cumulative / 1e6
    biggest = sorted(by_package.items(), key=lambda pair: -pair[1])[:5]
    return sum(by_package.values()), biggest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="processes started per command")
    runs = parser.parse_args().runs
    baseline = wall_times_of_bare_python(runs)
    rows = []
    for label, arguments in COMMANDS.items():
        times = wall_times(arguments, runs)
        imports, biggest = import_profile(arguments)
        rows.append({"command": label, "runs": runs, "median_s": statistics.median(times), "min_s": min(times),
                     "imports_s": imports, "biggest_imports": biggest})
    print(f"bare `python -c pass`: median {statistics.median(baseline):.3f} s")
    print(f"{'command':<26} {'median s':>9} {'min s':>7} {'imports s':>10}  biggest imports (s)")
    for row in rows:
        biggest = ", ".join(f"{name} {seconds:.2f}" for name, seconds in row["biggest_imports"])
        print(f"{row['command']:<26} {row['median_s']:>9.3f} {row['min_s']:>7.3f} {row['imports_s']:>10.3f}  {biggest}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"python_pass_median_s": statistics.median(baseline), "commands": rows}, indent=2))


def wall_times_of_bare_python(runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        times.append(time.perf_counter() - started)
    return times


if __name__ == "__main__":
    main()
