"""XLSForm import speed (issue #22): a workbook declaring LibreOffice's 1,048,576 × 1,024 cells, pyxform's largest
test workbook, all 57 of pyxform's test workbooks, and the export → import round trip of the shipped definitions.

Each case is timed best of --repeat runs, in process. Run it on this tree and, for the figures before, on another
checkout with PYTHONPATH pointing there:
    PYTHONPATH=. .venv/bin/python benchmarks/xlsform_import.py [--save]
Prints a table and writes JSON to benchmarks/results/xlsform_import.json (with --save).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from questionnaires import DefinitionError
from questionnaires.xlsform import import_xlsform, load_xlsform
from tests.workbooks import libreoffice_declared, real_workbook

RESULTS = Path(__file__).parent / "results" / "xlsform_import.json"
FIXTURES = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "xlsforms-pyxform"
FIXTURES = FIXTURES if FIXTURES.is_dir() else Path("/work/shared/data/xlsforms-pyxform")


def imported(path: Path) -> str:
    try:
        load_xlsform(path)
        return "imported"
    except DefinitionError as error:
        return f"refused ({len(error.problems)} reasons)"


def best_of(repeat: int, work) -> tuple[float, object]:
    timings, outcome = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        outcome = work()
        timings.append(time.perf_counter() - started)
    return min(timings), outcome


def cases(folder: Path) -> dict:
    quirk = folder / "libreoffice.xlsx"
    quirk.write_bytes(libreoffice_declared(real_workbook(("type", "name", "label"), ("text", "q1", "Q1"),
                                                         title="survey")))
    fixtures = sorted(FIXTURES.glob("*/*.xls*"))
    return {
        "LibreOffice quirk (declares 1,048,576 x 1,024)": lambda: imported(quirk),
        "xlsform_spec_test.xlsx (pyxform's largest)": lambda: imported(FIXTURES / "example_xls/xlsform_spec_test.xlsx"),
        f"all {len(fixtures)} pyxform test workbooks": lambda: sum(imported(path) == "imported" for path in fixtures),
        "export + import, 4 shipped definitions": lambda: round_trips(folder),
    }


def round_trips(folder: Path) -> int:
    from questionnaires import load_shipped
    from questionnaires.xlsform_export import export_xlsform

    same = 0
    for key, definition in load_shipped().items():
        path = folder / f"{key}.xlsx"
        path.write_bytes(export_xlsform(definition))
        same += import_xlsform(path)[0]["key"] == key
    return same


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--save", action="store_true")
    options = parser.parse_args()
    rows = {}
    with tempfile.TemporaryDirectory() as folder:
        for name, work in cases(Path(folder)).items():
            seconds, outcome = best_of(options.repeat, work)
            rows[name] = {"seconds": round(seconds, 3), "outcome": outcome}
            print(f"{name:55} {seconds:8.3f} s   {outcome}")
    if options.save:
        RESULTS.parent.mkdir(exist_ok=True)
        RESULTS.write_text(json.dumps(rows, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
