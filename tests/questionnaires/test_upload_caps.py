"""Uploaded files within caps: deep or alias-bombed YAML, damaged or expanding workbooks are refused, quickly."""

from __future__ import annotations

import threading
import time

import pytest

from questionnaires.errors import DefinitionError
from questionnaires.loader import parse_definition
from questionnaires.workbook import UPLOAD_CAPS, WorkbookRefused, read_workbook
from questionnaires.xlsform import import_xlsform
from tests.workbooks import expanding, far_cell, libreoffice_declared, real_workbook, truncated_sheet, without_sheets

ALIAS_BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{name}: &{name} [{', '.join(['*' + previous] * 10)}]\n"
    for previous, name in zip("abcdefgh", "bcdefghi"))


def finishes_within(seconds: float, work):
    """work()'s result or exception; fails if it runs longer (it keeps running in a daemon thread)."""
    outcome: dict = {}

    def run():
        try:
            outcome["value"] = work()
        except Exception as error:  # handed to the test
            outcome["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    started = time.perf_counter()
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still running after {seconds} s"
    return outcome, time.perf_counter() - started


def test_yaml_nested_3000_deep_is_a_problem_not_a_recursion_error():
    definition, problems = parse_definition("a: " + "[" * 3000 + "]" * 3000 + "\n", "deep.yaml")
    assert definition is None and len(problems) == 1
    assert "lồng nhau quá 30 cấp" in problems[0].message and problems[0].line == 1


def test_a_yaml_alias_bomb_is_refused_in_well_under_a_second():
    outcome, seconds = finishes_within(5, lambda: parse_definition(ALIAS_BOMB, "bomb.yaml"))
    definition, problems = outcome["value"]
    assert definition is None and "hơn 50000 giá trị" in problems[0].message
    assert seconds < 1


@pytest.mark.parametrize("damage, says", [(truncated_sheet, "bị cắt ngắn"), (without_sheets, "không có trang tính"),
                                          (lambda data: data[: len(data) // 2], "bị cắt ngắn")])
def test_a_damaged_workbook_is_refused_with_a_vietnamese_message(damage, says):
    with pytest.raises(WorkbookRefused) as refused:
        read_workbook(damage(real_workbook(("type", "name"), ("text", "q1"))), UPLOAD_CAPS)
    assert says in refused.value.message_vi


def test_a_damaged_xlsform_is_a_definition_problem(tmp_path):
    path = tmp_path / "form.xlsx"
    path.write_bytes(truncated_sheet(real_workbook(("type", "name"), ("text", "q1"))))
    with pytest.raises(DefinitionError) as error:
        import_xlsform(path)
    assert "bị cắt ngắn" in str(error.value)


@pytest.mark.parametrize("bomb, says", [(lambda data: far_cell(data, b"A30000"), "hơn 10000 dòng"),
                                        (lambda data: expanding(data, 7), "giải nén lớn hơn 6 MB")])
def test_a_small_workbook_that_expands_is_refused_quickly(bomb, says):
    data = bomb(real_workbook(("type", "name"), ("text", "q1")))
    assert len(data) < 30_000
    outcome, seconds = finishes_within(10, lambda: read_workbook(data, UPLOAD_CAPS))
    assert isinstance(outcome.get("error"), WorkbookRefused) and says in outcome["error"].message_vi
    assert seconds < 2


def test_cells_past_the_column_cap_are_refused_and_far_ones_never_read():
    wide = real_workbook(("x",) * (UPLOAD_CAPS.columns + 1))
    with pytest.raises(WorkbookRefused, match="beyond column 100"):
        read_workbook(wide, UPLOAD_CAPS)
    sheets = read_workbook(far_cell(real_workbook(("type", "name"), ("text", "q1")), b"XFD3"), UPLOAD_CAPS)
    assert list(sheets.values())[0] == [("type", "name"), ("text", "q1")]  # the far cell's row is never read


def test_a_workbook_declaring_a_million_rows_as_libreoffice_does_imports_in_well_under_a_second(tmp_path):
    path = tmp_path / "libreoffice.xlsx"
    path.write_bytes(libreoffice_declared(real_workbook(("type", "name", "label"), ("text", "q1", "Q1"), title="survey")))
    outcome, seconds = finishes_within(10, lambda: import_xlsform(path))
    definition, _notes = outcome["value"]
    assert [item["key"] for item in definition["sections"][0]["items"]] == ["q1"]
    assert seconds < 1.5  # 22 s before: every declared row was built and checked
