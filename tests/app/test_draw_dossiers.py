"""`survey sample draw-dossiers`: SIPAS units → days → dossiers with stage probabilities, weights and bad rows."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tests.app.test_sample_cli import run_survey, write_frame

UNITS = {"SO01": 3, "SO02": 4, "SO03": 5, "SO04": 6, "H01": 3, "H02": 4, "H03": 5, "H04": 6}  # dossiers a day
DAYS = [f"{day:02d}/10/2026" for day in range(1, 7)]
HEADER = ("Mã đơn vị", "Lĩnh vực", "Mã hồ sơ", "Ngày trả kết quả")
MAPPING = "unit=Mã đơn vị,domain=Lĩnh vực,dossier_code=Mã hồ sơ,completion_date=Ngày trả kết quả"
BAD_ROWS = [("ZZ99", "dat_dai", "BAD-1", "01/10/2026"), ("SO01", "dat_dai", "BAD-2", "31/02/2026"),
            ("SO01", "ho_tich", "", "01/10/2026"), ("SO02", "dat_dai", "TWICE", "02/10/2026"),
            ("SO02", "dat_dai", "TWICE", "03/10/2026")]


def dossier_rows() -> list[tuple]:
    """Every unit has the same number of dossiers on each of its 6 days, so the weights add up exactly."""
    return [(unit, "dat_dai" if number % 2 else "ho_tich", f"{unit}-{day[:2]}-{number}", day)
            for unit, per_day in UNITS.items() for day in DAYS for number in range(per_day)]


@pytest.fixture
def frame(tmp_path) -> Path:
    return write_frame(tmp_path / "dossiers.csv", dossier_rows() + BAD_ROWS, header=HEADER)


def draw(settings, frame: Path, output: Path, *options: str):
    return run_survey(settings, "draw-dossiers", str(frame), "-o", str(output), "--mapping", MAPPING, *options)


def read_rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


async def test_three_stage_draw_writes_probabilities_weights_and_a_bad_rows_report(settings, app, frame, tmp_path):
    output = tmp_path / "sample.csv"
    result = draw(settings, frame, output, "--units", "2", "--days", "2", "--dossiers", "3", "--stratum", "level",
                  "--seed", "12", "--reserves", "2")
    assert result.returncode == 0, result.stderr
    assert "5 bad row(s) left out" in result.stdout and "24 dossier(s) selected from 4 unit(s) and 8 day(s)" in result.stdout
    rows = read_rows(output)
    selected = [row for row in rows if row["status"] == "selected"]
    assert len(selected) == 24 and {row["status"] for row in rows} == {"selected", "reserve"}
    assert {row["level"] for row in selected} == {"so", "huyen"}
    for level in ("so", "huyen"):
        in_level = [row for row in selected if row["level"] == level]
        assert len({row["unit"] for row in in_level}) == 2
        population = sum(per_day * 6 for unit, per_day in UNITS.items() if (unit.startswith("SO")) == (level == "so"))
        # PPS by size, SRS of days, SRS of dossiers with equal days: the weights add up to the stratum exactly.
        assert sum(float(row["design_weight"]) for row in in_level) == pytest.approx(population)
        for row in in_level:
            per_day = UNITS[row["unit"]]
            expected = [2 * per_day * 6 / population, 2 / 6, 3 / per_day]
            stages = [float(row[f"stage{number}_inclusion_probability"]) for number in (1, 2, 3)]
            assert stages == pytest.approx(expected)
            assert float(row["inclusion_probability"]) == pytest.approx(expected[0] * expected[1] * expected[2])
            assert float(row["design_weight"]) == pytest.approx(1 / float(row["inclusion_probability"]))
            assert row["completion_date"] in DAYS and row["dossier_code"].startswith(row["unit"])
    # Reserves come from the selected unit and day, at most 2 per group.
    selected_days = {(row["unit"], row["completion_date"]) for row in selected}
    reserves = [row for row in rows if row["status"] == "reserve"]
    assert reserves and {(row["unit"], row["completion_date"]) for row in reserves} <= selected_days
    assert max(int(float(row["reserve_rank"])) for row in reserves) == 2
    assert output.stat().st_mode & 0o077 == 0  # dossier codes are personal data

    report = read_rows(tmp_path / "sample.bad_rows.csv")
    first_bad = len(dossier_rows()) + 2  # the header is row 1
    assert {(int(row["row"]), row["code"]) for row in report} == {
        (first_bad, "unknown_unit"), (first_bad + 1, "bad_date"), (first_bad + 2, "empty"),
        (first_bad + 3, "duplicate_id"), (first_bad + 4, "duplicate_id")}
    assert "ZZ99" in result.stdout and "không có trong danh mục" in result.stdout

    again = tmp_path / "again.csv"
    assert draw(settings, frame, again, "--units", "2", "--days", "2", "--dossiers", "3", "--stratum", "level",
                "--seed", "12", "--reserves", "2").returncode == 0
    assert read_rows(again) == rows  # same frame, same seed: the same sample


async def test_impossible_designs_are_refused_by_stratum_and_nothing_is_written(settings, app, frame, tmp_path):
    output = tmp_path / "never.csv"
    result = draw(settings, frame, output, "--units", "5", "--days", "2", "--dossiers", "3", "--stratum", "level")
    assert result.returncode == 1 and "stratum level=so" in result.stderr and "level=huyen" in result.stderr
    assert not output.exists()
    result = draw(settings, frame, output, "--units", "2", "--days", "7", "--dossiers", "1")
    assert result.returncode == 1 and "thiếu 1" in result.stderr
    result = draw(settings, frame, output, "--units", "0", "--days", "1", "--dossiers", "1", "--stratum", "region",
                  "--unit-method", "lottery")
    assert result.returncode == 1
    assert "--units phải là số nguyên ≥ 1" in result.stderr and "'region'" in result.stderr
    assert "pps_systematic" in result.stderr and not output.exists()
