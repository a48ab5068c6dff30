"""Paper mode: how long printing numbered copies takes (the PDF is built in a thread per print run) and how much CPU
checking one keyed entry costs (decode the codes, then the web form's checks).

Prints a table and writes JSON to benchmarks/results/paper.json.
Usage: PYTHONPATH=. .venv/bin/python benchmarks/paper.py [--copies 50]
"""

from __future__ import annotations

import argparse
import io
import json
import time
from pathlib import Path

from pypdf import PdfReader

from questionnaires import load_shipped
from questionnaires.paper import answer_codes, is_coded, keyed_to_raw
from survey_app.paper.printing import PrintedCopy, paper_pdf

RESULTS = Path(__file__).parent / "results" / "paper.json"


def print_run(definition, copies: int) -> dict:
    printed = [PrintedCopy(serial, f"https://khaosat.example.gov.vn/p/1-{serial}-{'a' * 20}")
               for serial in range(1, copies + 1)]
    started = time.perf_counter()
    pdf = paper_pdf(definition, "Khảo sát SIPAS năm 2026", "UBND huyện Một", printed)
    seconds = time.perf_counter() - started
    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    return {"copies": copies, "seconds": round(seconds, 3), "ms_per_copy": round(seconds / copies * 1000, 1),
            "pages_per_copy": pages / copies, "kb_per_copy": round(len(pdf) / copies / 1024, 1)}


def keyed_entry(definition) -> dict:
    return {item.key: answer_codes(item)[0][0] if item.type != "rating5" else "4"
            for item in definition.items if is_coded(item)}


def keying_check(definition, entries: int = 2000) -> dict:
    typed = keyed_entry(definition)
    started = time.perf_counter()
    for _ in range(entries):
        raw, _ = keyed_to_raw(definition, typed)
        definition.validate_answers(raw)
    seconds = time.perf_counter() - started
    return {"entries": entries, "us_per_entry": round(seconds / entries * 1e6, 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--copies", type=int, default=50)
    copies = parser.parse_args().copies
    shipped = load_shipped()
    results = {}
    for key in ("sipas_citizen", "counter_rating"):
        results[key] = {"print": print_run(shipped[key], copies), "keying_check": keying_check(shipped[key])}
    print(f"{'questionnaire':<16}{'copies':>8}{'s':>8}{'ms/copy':>9}{'pages/copy':>12}{'KB/copy':>9}{'µs/entry':>10}")
    for key, result in results.items():
        run, check = result["print"], result["keying_check"]
        print(f"{key:<16}{run['copies']:>8}{run['seconds']:>8}{run['ms_per_copy']:>9}{run['pages_per_copy']:>12}"
              f"{run['kb_per_copy']:>9}{check['us_per_entry']:>10}")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
