"""What calculations cost a submission (issue #22 follow-up): validate_answers on the shipped SIPAS form, and on
pyxform's cascading_select_test_equivalent.xls whose two nested-if() calculations decide which questions follow.

    PYTHONPATH=. .venv/bin/python benchmarks/calculations.py
Prints microseconds per validate_answers call, best of 5 runs of N calls each.
"""

from __future__ import annotations

import time

from questionnaires import load_shipped
from questionnaires.xlsform import load_xlsform
from tests.questionnaires.test_pyxform_fixtures import FIXTURES

N = 2000


def per_call(questionnaire, raw: dict) -> float:
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(N):
            questionnaire.validate_answers(raw)
        best = min(best, time.perf_counter() - start)
    return best / N * 1e6


def main() -> None:
    sipas = load_shipped()["sipas_citizen"]
    sipas_raw = {item.key: (item.choices[0].value if item.choices else "1") for item in sipas.items}
    cascading, _ = load_xlsform(FIXTURES / "example_xls/cascading_select_test_equivalent.xls")
    cascading_raw = {"mylga_zone": "zone_2", "mylga_state_in_zone_2": "state_3", "mylga_lga_in_state_3": "lga_5"}
    print(f"sipas_citizen (no calculation): {per_call(sipas, sipas_raw):8.1f} µs per submission")
    print(f"cascading_select_test_equivalent (2 calculations): {per_call(cascading, cascading_raw):8.1f} µs per "
          "submission")


if __name__ == "__main__":
    main()
