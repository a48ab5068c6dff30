"""Frame import: CSV and XLSX, column mapping, bad-row report in Vietnamese and English."""

import datetime as dt

import openpyxl
import pandas as pd
import pytest

from sampling import SamplingError
from sampling.frames import import_frame, preview_source, validate_frame

OFFICIALS_CSV = """\
Mã đơn vị,Chức vụ,Mã cán bộ,Họ tên,Điện thoại
S01,head of division,CB001,Nguyễn Văn An,0901
S01,civil servant,CB002,Trần Thị Bình,
S01,civil servant,CB002,Lê Văn Cường,
S99,civil servant,CB004,Phạm Thị Dung,
S02,,CB005,Hoàng Văn Em,
S02,civil servant,CB006,Vũ Thị Phương,
"""
OFFICIALS_MAPPING = {"unit": "Mã đơn vị", "role": "Chức vụ", "staff_id": "Mã cán bộ",
                     "name": "Họ tên", "contact": "Điện thoại"}
DOSSIERS_MAPPING = {"unit": "unit", "domain": "domain", "dossier_code": "code",
                    "completion_date": "completed"}


@pytest.fixture
def officials_csv(tmp_path):
    path = tmp_path / "officials.csv"
    path.write_text(OFFICIALS_CSV, encoding="utf-8-sig")
    return path


def test_officials_csv_report_names_each_bad_row(officials_csv):
    result = import_frame(officials_csv, "officials", OFFICIALS_MAPPING, known_units={"S01", "S02"})
    report = result.problems_frame()
    assert list(zip(report["row"], report["code"])) == [
        (3, "duplicate_id"), (4, "duplicate_id"), (5, "unknown_unit"), (6, "empty")]
    assert report.loc[2, "column"] == "Mã đơn vị"
    assert report.loc[2, "message_vi"] == "Mã đơn vị 'S99' không có trong danh mục đơn vị."
    assert report.loc[2, "message_en"] == "unit code 'S99' is not in the list of known units."
    assert "row(s) 4" in report.loc[0, "message_en"]


def test_good_rows_are_kept_when_others_are_bad(officials_csv):
    result = import_frame(officials_csv, "officials", OFFICIALS_MAPPING, known_units={"S01", "S02"})
    assert list(result.frame["member_id"]) == ["CB001", "CB006"]
    assert list(result.frame["source_row"]) == [2, 7]
    assert result.summary() == {"total_rows": 6, "good_rows": 2, "bad_rows": 4, "problems": 4}


def test_preview_shows_mapped_good_rows(officials_csv):
    result = import_frame(officials_csv, "officials", OFFICIALS_MAPPING)
    assert list(result.preview(1).columns[:3]) == ["member_id", "unit", "role"]
    assert len(preview_source(officials_csv, rows=3)) == 3


def test_officials_without_staff_id_are_identified_by_unit_and_name():
    table = pd.DataFrame({"u": ["S01", "S01", "S02"], "r": ["x", "x", "x"], "n": ["An", "An", "An"]},
                         index=[2, 3, 4])
    result = validate_frame(table, "officials", {"unit": "u", "role": "r", "name": "n"})
    assert result.bad_rows == [2, 3]
    assert list(result.frame["member_id"]) == ["S02/An"]


def test_missing_mapping_lists_the_file_headers(officials_csv):
    with pytest.raises(SamplingError, match="missing \\['role'\\]") as raised:
        import_frame(officials_csv, "officials", {"unit": "Mã đơn vị", "staff_id": "Mã cán bộ"})
    assert "Họ tên" in str(raised.value)


def test_dossiers_accept_both_date_styles_and_report_bad_dates(tmp_path):
    path = tmp_path / "dossiers.csv"
    path.write_text("unit,domain,code,completed\n"
                    "H01,land,D1,05/03/2024\nH01,land,D2,2024-03-06\n"
                    "H01,land,D3,31/02/2024\nH01,land,D4,yesterday\n", encoding="utf-8")
    result = import_frame(path, "dossiers", DOSSIERS_MAPPING)
    assert list(result.frame["completion_date"]) == [pd.Timestamp("2024-03-05"), pd.Timestamp("2024-03-06")]
    assert [(problem.row, problem.code) for problem in result.problems] == [(4, "bad_date"), (5, "bad_date")]
    assert result.problems[1].message_vi.startswith("Ngày 'yesterday' không hợp lệ")


def test_xlsx_import_with_date_cells_and_numeric_ids(tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["unit", "domain", "code", "completed"])
    sheet.append(["H01", "land", 1001, dt.datetime(2024, 3, 5, 14, 30)])
    sheet.append([None, None, None, None])  # blank rows are skipped but keep numbering
    sheet.append(["H02", "civil status", 1002, "06/03/2024"])
    sheet.append(["H02", "", 1003, "06/03/2024"])
    path = tmp_path / "dossiers.xlsx"
    workbook.save(path)
    result = import_frame(path, "dossiers", DOSSIERS_MAPPING)
    assert list(result.frame["member_id"]) == ["1001", "1002"]
    assert result.frame["completion_date"][0] == pd.Timestamp("2024-03-05")
    assert [(problem.row, problem.column) for problem in result.problems] == [(5, "domain")]


def test_malformed_xlsx_is_a_clear_error(tmp_path):
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"this is not a zip file")
    with pytest.raises(SamplingError, match="malformed"):
        import_frame(path, "dossiers", DOSSIERS_MAPPING)


def test_unsupported_format_is_refused(tmp_path):
    path = tmp_path / "frame.ods"
    path.write_bytes(b"")
    with pytest.raises(SamplingError, match="unsupported file format 'ods'"):
        import_frame(path, "dossiers", DOSSIERS_MAPPING)
