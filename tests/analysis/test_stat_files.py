"""analysis/stat_files.py at the byte level: a .sav joined from chunks is the file pyreadstat writes at once."""

from __future__ import annotations

import struct
from functools import partial

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from analysis import stat_files

SAV_CREATED = slice(92, 109)  # the header's creation date and time: the only bytes two writes of one frame differ in
LABELS = {"column_labels": {"unit": "Đơn vị", "rating": "Hài lòng", "feedback": "Ý kiến"},
          "variable_value_labels": {"rating": {1: "Rất không hài lòng", 5: "Rất hài lòng", 9: "Không áp dụng"}},
          "missing_ranges": {"rating": [9]}, "file_label": "Khảo sát"}


def survey_frame(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    return pd.DataFrame({
        "unit": np.array([f"X{i % 7}" for i in range(rows)], dtype=object),
        "rating": rng.integers(1, 6, rows).astype("float64"),
        "feedback": np.array(["Ý kiến " + "ồ" * int(rng.integers(0, 90)) if i % 3 == 0 else "" for i in range(rows)],
                             dtype=object),
    })


def joined_sav(path, frame: pd.DataFrame, chunk_rows: int, write_frame) -> bytes:
    chunks = [frame.iloc[start:start + chunk_rows].reset_index(drop=True) for start in range(0, len(frame), chunk_rows)]
    stat_files.write_chunked(path, chunks, ["unit", "feedback"], write_frame, stat_files.join_sav, frame.iloc[:0])
    return path.read_bytes()


def without_creation_time(data: bytes) -> bytes:
    return data[:SAV_CREATED.start] + data[SAV_CREATED.stop:]


@pytest.mark.parametrize("chunk_rows", [1000, 250, 7])
def test_a_joined_sav_is_byte_for_byte_the_whole_frames_file(tmp_path, chunk_rows):
    """Header, dictionary (with the 64-bit case count of record 7, subtype 16) and cases; one chunk included."""
    frame = survey_frame(1000)
    write_frame = partial(_write_sav, **LABELS)
    joined = joined_sav(tmp_path / "joined.sav", frame, chunk_rows, write_frame)
    write_frame(frame, tmp_path / "whole.sav")
    whole = (tmp_path / "whole.sav").read_bytes()
    assert without_creation_time(joined) == without_creation_time(whole)


def test_the_64_bit_case_count_is_the_total(tmp_path):
    joined = joined_sav(tmp_path / "joined.sav", survey_frame(30), 7, partial(_write_sav, **LABELS))
    record = joined.index(struct.pack("<iiii", 7, 16, 8, 2))
    assert struct.unpack_from("<qq", joined, record + 16) == (1, 30)
    assert struct.unpack_from("<i", joined, stat_files.SAV_CASE_COUNT_AT)[0] == 30


def test_chunks_whose_dictionaries_differ_are_refused(tmp_path):
    """Same sizes, another label: joining them would give every row the first chunk's dictionary."""
    frame = survey_frame(10)
    labels = [LABELS["column_labels"], {**LABELS["column_labels"], "rating": "Hài lònG"}]
    chunks = []
    for number, column_labels in enumerate(labels):
        _write_sav(frame, tmp_path / f"{number}.sav", column_labels=column_labels)
        chunks.append((tmp_path / f"{number}.sav").read_bytes())
    with (tmp_path / "joined.sav").open("w+b") as out, pytest.raises(stat_files.LayoutError, match="dictionary"):
        stat_files.join_sav(out, iter(chunks))


def _write_sav(frame: pd.DataFrame, path, **labels) -> None:
    pyreadstat.write_sav(frame, str(path), **labels)
