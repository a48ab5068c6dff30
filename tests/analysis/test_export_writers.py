"""The pure writers: formula neutralising, CSV with BOM, XLSX with codebook, .sav and .dta read back."""

from __future__ import annotations

import io
import unicodedata

import numpy as np
import openpyxl
import pandas as pd
import pyreadstat
import pytest

from analysis.export_writers import (
    Variable,
    csv_chunk,
    csv_header,
    jsonl_chunk,
    neutralise_formula,
    stat_columns,
    stata_label,
    write_dta,
    write_sav,
    write_xlsx,
)

LONG_QUESTION = "Công chức hướng dẫn kê khai, bổ sung hồ sơ một cách tận tình, chu đáo và dễ hiểu đối với người dân, tổ chức"
CODEBOOK = [
    Variable("unit_code", "Mã đơn vị", "Unit code", "string"),
    Variable("weight", "Trọng số", "Weight"),
    Variable("official_guide", LONG_QUESTION, "Guidance", "numeric",
             {1: "Rất không hài lòng", 4: "Hài lòng", 5: "Rất hài lòng", 9: "Không áp dụng / Không biết"},
             {1: "Very dissatisfied", 4: "Satisfied", 5: "Very satisfied", 9: "N/A"}, (9,)),
    Variable("open_feedback", "Ý kiến khác", "Other feedback", "string"),
]
FRAME = pd.DataFrame({
    "unit_code": ["SO01", "H01X1", "SO01"],
    "weight": [1.0, 2.5, 0.75],
    "official_guide": [5, 9, None],
    "open_feedback": ["=HYPERLINK(\"http://x\")", "Thủ tục nhanh, cán bộ nhiệt tình", None],
})


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_text_that_a_spreadsheet_would_run_gets_an_apostrophe(text):
    assert neutralise_formula(text) == "'" + text


def test_harmless_text_and_numbers_are_left_alone():
    assert neutralise_formula("Thủ tục") == "Thủ tục" and neutralise_formula(-1) == -1


def test_csv_starts_with_a_bom_and_round_trips_with_pandas():
    data = csv_header(CODEBOOK) + csv_chunk(FRAME, CODEBOOK)
    assert data.startswith("\ufeff".encode())
    back = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig")
    assert list(back.columns) == [variable.name for variable in CODEBOOK]
    assert back["open_feedback"][0] == "'=HYPERLINK(\"http://x\")"
    assert back["open_feedback"][1] == "Thủ tục nhanh, cán bộ nhiệt tình"
    assert back["weight"].tolist() == [1.0, 2.5, 0.75]


def test_json_lines_keep_nulls_and_vietnamese():
    lines = jsonl_chunk(FRAME).decode().splitlines()
    assert len(lines) == 3 and '"official_guide": null' in lines[2] and "nhiệt tình" in lines[1]


def test_xlsx_keeps_formulas_as_text_and_has_a_codebook(tmp_path):
    path = tmp_path / "out.xlsx"
    assert write_xlsx(path, CODEBOOK, [FRAME.iloc[:2], FRAME.iloc[2:]], notes=["ghi chú"]) == 3
    workbook = openpyxl.load_workbook(path)
    data = workbook["du_lieu"]
    assert [cell.value for cell in data[1]] == [variable.name for variable in CODEBOOK]
    assert data["D2"].data_type == "s" and data["D2"].value.startswith("'=")
    assert data["C3"].value == 9 and data["C4"].value is None and data.max_row == 4
    codebook = {row[0]: row for row in workbook["so_ma"].iter_rows(min_row=2, values_only=True)}
    assert codebook["official_guide"][1] == LONG_QUESTION and "9 = Không áp dụng / Không biết (N/A)" in codebook["official_guide"][4]
    assert workbook["ghi_chu"]["A2"].value == "ghi chú"


def test_sav_reads_back_with_values_labels_and_user_missing(tmp_path):
    path = tmp_path / "out.sav"
    write_sav(path, CODEBOOK, [FRAME], file_label="Khảo sát SIPAS")
    back, meta = pyreadstat.read_sav(str(path), user_missing=True)
    assert back["unit_code"].tolist() == ["SO01", "H01X1", "SO01"]
    assert back["official_guide"].tolist()[:2] == [5, 9] and np.isnan(back["official_guide"][2])
    assert meta.column_names_to_labels["official_guide"] == LONG_QUESTION
    assert meta.variable_value_labels["official_guide"][9] == "Không áp dụng / Không biết"
    assert meta.missing_ranges["official_guide"] == [{"lo": 9.0, "hi": 9.0}]
    assert unicodedata.is_normalized("NFC", meta.column_names_to_labels["official_guide"])


def test_dta_reads_back_with_values_and_labels_cut_to_stata_limits(tmp_path):
    path = tmp_path / "out.dta"
    write_dta(path, CODEBOOK, [FRAME], file_label="Khảo sát SIPAS")
    back, meta = pyreadstat.read_dta(str(path))
    assert back["weight"].tolist() == [1.0, 2.5, 0.75]
    assert back["open_feedback"][1] == "Thủ tục nhanh, cán bộ nhiệt tình"
    assert meta.column_names_to_labels["official_guide"] == stata_label(LONG_QUESTION)
    assert len(stata_label(LONG_QUESTION)) == 80
    assert meta.variable_value_labels["official_guide"][5] == "Rất hài lòng"


def test_dta_declares_not_applicable_as_stata_missing_in_every_chunk(tmp_path):
    """9 = không áp dụng is .a (labelled), so Stata leaves it out of means as SPSS does; chunks with and without
    a 9 join (the column's type must not change from one chunk to the next)."""
    chunks = [compact_chunk(["A", "B"], [9, 5]), compact_chunk(["C"], [4]), compact_chunk(["D", "E"], [None, 9])]
    assert write_dta(tmp_path / "na.dta", CODEBOOK, chunks) == 5
    back, meta = pyreadstat.read_dta(str(tmp_path / "na.dta"), user_missing=True)
    assert back["official_guide"].tolist()[:3] == ["a", 5, 4] and back["official_guide"][4] == "a"
    assert np.isnan(back["official_guide"][3])
    assert meta.variable_value_labels["official_guide"]["a"] == "Không áp dụng / Không biết"
    plain = pd.read_stata(tmp_path / "na.dta", convert_categoricals=False)["official_guide"]
    assert plain.isna().tolist() == [True, False, False, True, True] and plain.mean() == 4.5


def test_xlsx_with_no_rows_has_the_header_and_the_codebook(tmp_path):
    path = tmp_path / "empty.xlsx"
    assert write_xlsx(path, CODEBOOK, []) == 0
    workbook = openpyxl.load_workbook(path)
    assert [cell.value for cell in workbook["du_lieu"][1]] == [variable.name for variable in CODEBOOK]
    assert workbook["du_lieu"].max_row == 1 and workbook["so_ma"].max_row == len(CODEBOOK) + 1


def test_repeated_text_kept_as_a_categorical_is_neutralised_too(tmp_path):
    # "=1" becomes "'=1", which is also a category already: the guard must not merge or drop either
    frame = FRAME.assign(unit_code=pd.Categorical(["=1", "'=1", None]))
    back = pd.read_csv(io.BytesIO(csv_header(CODEBOOK) + csv_chunk(frame, CODEBOOK)), encoding="utf-8-sig")
    assert back["unit_code"].tolist()[:2] == ["'=1", "'=1"] and np.isnan(back["unit_code"][2])
    write_xlsx(tmp_path / "out.xlsx", CODEBOOK, [frame])
    data = openpyxl.load_workbook(tmp_path / "out.xlsx")["du_lieu"]
    assert [data["A2"].value, data["A3"].value, data["A4"].value] == ["'=1", "'=1", None]


def compact_chunk(units, codes, texts=None):
    """A chunk typed as the export makes it: int8 codes, categoricals with the chunk's own categories."""
    return pd.DataFrame({"unit_code": pd.Categorical(units, categories=pd.Index(
                             [unit for unit in dict.fromkeys(units) if unit], dtype=str)),
                         "weight": [1.0] * len(units), "official_guide": pd.array(codes, dtype="Int8"),
                         "open_feedback": np.array(texts or [None] * len(units), dtype=object)})


def test_sav_from_compact_chunks_reads_back_like_one_frame(tmp_path):
    """Chunks with other categories, a chunk without any text and texts of other widths join into one .sav with
    the same values and labels as one frame's; the rows and the case count are right."""
    chunks = [compact_chunk(["SO01", "H01X1"], [5, 9], ["ngắn", None]), compact_chunk([None], [None]),
              compact_chunk(["H02", "SO01"], [1, None], ["Ý kiến dài hơn nhiều " * 20, "=1"])]
    assert write_sav(tmp_path / "chunks.sav", CODEBOOK, chunks) == 5
    back, meta = pyreadstat.read_sav(str(tmp_path / "chunks.sav"), user_missing=True)
    assert meta.number_rows == 5
    assert back["unit_code"].tolist() == ["SO01", "H01X1", "", "H02", "SO01"]
    assert back["official_guide"].tolist()[:2] == [5, 9] and back["official_guide"][3] == 1
    assert back["official_guide"][[2, 4]].isna().all()
    assert back["open_feedback"].tolist() == ["ngắn", "", "", ("Ý kiến dài hơn nhiều " * 20).rstrip(), "=1"]
    assert meta.readstat_variable_types["official_guide"] == "double"
    assert meta.variable_value_labels["official_guide"][9] == "Không áp dụng / Không biết"
    assert meta.missing_ranges["official_guide"] == [{"lo": 9.0, "hi": 9.0}]


def test_many_chunks_give_the_same_file_as_one_frame(tmp_path):
    """The joined .sav and .dta read back exactly like the files pyreadstat itself writes from the whole frame."""
    rng = np.random.default_rng(7)
    rows = 1200
    texts = [None if i % 3 else "Phản ánh số " + "ồ" * int(rng.integers(0, 90)) for i in range(rows)]
    whole = compact_chunk([f"X{i % 7}" for i in range(rows)], [int(c) if c < 6 else None for c in
                          rng.integers(1, 8, rows)], texts)
    chunks = [whole.iloc[start:start + 250].reset_index(drop=True) for start in range(0, rows, 250)]
    labels = {variable.name: variable.value_labels for variable in CODEBOOK if variable.value_labels}
    typed_whole = pd.DataFrame(stat_columns(whole, CODEBOOK))
    for write, read, reference in ((write_sav, pyreadstat.read_sav, pyreadstat.write_sav),
                                   (write_dta, pyreadstat.read_dta, pyreadstat.write_dta)):
        suffix = ".sav" if write is write_sav else ".dta"
        assert write(tmp_path / f"joined{suffix}", CODEBOOK, chunks) == rows
        reference(typed_whole, str(tmp_path / f"whole{suffix}"), variable_value_labels=labels)
        joined, joined_meta = read(str(tmp_path / f"joined{suffix}"))
        expected, expected_meta = read(str(tmp_path / f"whole{suffix}"))
        pd.testing.assert_frame_equal(joined, expected)
        assert joined_meta.number_rows == rows
    assert joined_meta.variable_value_labels["official_guide"][5] == "Rất hài lòng"


def test_dta_texts_longer_than_2045_bytes_keep_their_rows_across_chunks(tmp_path):
    """Stata keeps such texts as strLs, referenced by observation number: each chunk's must be renumbered."""
    long_texts = [f"{n} " + "Thủ tục rườm rà. " * (150 + n) for n in range(5)]
    chunks = [compact_chunk(["A", "B"], [1, 2], [long_texts[0], None]),
              compact_chunk(["C"], [3], ["ngắn"]),
              compact_chunk(["D", "E", "F"], [4, 5, None], [long_texts[1], long_texts[2], long_texts[1]]),
              compact_chunk(["G", "H"], [1, 1], [None, long_texts[3]])]
    assert all(len(text.encode()) > 2045 for text in long_texts)
    assert write_dta(tmp_path / "long.dta", CODEBOOK, chunks) == 8
    back, meta = pyreadstat.read_dta(str(tmp_path / "long.dta"))
    assert back["open_feedback"].tolist() == [long_texts[0], "", "ngắn", long_texts[1], long_texts[2],
                                             long_texts[1], "", long_texts[3]]
    assert back["unit_code"].tolist() == list("ABCDEFGH") and meta.number_rows == 8
    assert pd.read_stata(tmp_path / "long.dta")["open_feedback"][7] == long_texts[3]


def test_sav_and_dta_with_no_rows_still_carry_the_dictionary(tmp_path):
    for write, read, suffix in ((write_sav, pyreadstat.read_sav, ".sav"), (write_dta, pyreadstat.read_dta, ".dta")):
        for name, chunks in (("no-rows", [FRAME.iloc[:0]]), ("no-chunks", [])):
            assert write(tmp_path / f"{name}{suffix}", CODEBOOK, chunks) == 0
            back, meta = read(str(tmp_path / f"{name}{suffix}"))
            assert list(back.columns) == [variable.name for variable in CODEBOOK] and len(back) == 0
            assert meta.column_names_to_labels["official_guide"].startswith("Công chức")
