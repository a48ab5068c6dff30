"""SPSS .sav and Stata .dta of any size in flat memory, written chunk by chunk through pyreadstat.

pyreadstat (ReadStat) writes a whole data frame at once and cannot append rows. So each chunk is written as a
small file of its own with the same dictionary, and the chunks' rows are joined under the first one's dictionary:

1. the chunks are spooled to a scratch file while each text column's widest value (in UTF-8 bytes) is found: a
   text's storage width decides the row layout, so every chunk must be written with the same widths;
2. each chunk is written with one extra last row whose texts are that wide (spaces), so ReadStat gives every chunk
   the same layout, and that row is cut off again.

.sav (uncompressed, as pyreadstat writes it): a 176-byte header, the dictionary's records up to the type 999 one,
then cases of a fixed size (the header's nominal case size × 8 bytes). The case count is kept twice: the header's
int32 at byte 80 and the int64 of record 7 subtype 16 ("extended number of cases"); both are patched. Every
chunk's dictionary must be byte-identical to the first one's but for that int64.
.dta (release 119): <header> with N, a <map> of section offsets, …, <data> rows </data> <strls> … </strls>
<value_labels> … </value_labels> </stata_dta>. A text over 2 045 bytes makes its column a strL: each row holds an
8-byte (variable, observation) reference and <strls> a GSO record per text, so both are renumbered by the rows
written before the chunk.
"""

from __future__ import annotations

import pickle
import shutil
import struct
import tempfile
from pathlib import Path
from typing import BinaryIO, Callable, Iterable, Iterator

import numpy as np
import pandas as pd

WriteFrame = Callable[[pd.DataFrame, Path], None]  # pyreadstat.write_sav/dta with the codebook's labels bound

SAV_HEADER_SIZE = 176
SAV_CASE_COUNT_AT = 80
SAV_ROWS64_RECORD = struct.pack("<iiii", 7, 16, 8, 2)  # type 7, subtype 16, two 8-byte values
DTA_RELEASE = b"119"
DTA_STRL = 32768
DTA_NUMERIC_BYTES = {65526: 8, 65527: 4, 65528: 4, 65529: 2, 65530: 1}  # double, float, long, int, byte
GSO_HEAD = struct.Struct("<3sIQBI")  # "GSO", variable, observation, type, length


class LayoutError(RuntimeError):
    """Two chunks came out of ReadStat with different layouts: joining them would corrupt the file."""


def write_chunked(path: Path, frames: Iterable[pd.DataFrame], text_columns: list[str], write_frame: WriteFrame,
                  join: Callable[[BinaryIO, Iterator[bytes]], int], empty: pd.DataFrame) -> int:
    """Write `frames` (columns as pyreadstat takes them) to `path` as one file; returns the number of rows.
    With no rows at all, `empty` (the columns and nothing else) is written as it is."""
    with tempfile.TemporaryDirectory(prefix=".chunks-", dir=path.parent) as scratch, \
            (Path(scratch) / "spool").open("w+b") as spool_file:
        spool = Spool(spool_file, text_columns)
        for frame in frames:
            spool.add(frame)
        if not spool.count:
            write_frame(empty, path)
            return 0
        with path.open("w+b") as out:
            return join(out, _chunk_files(spool, write_frame, Path(scratch) / "chunk"))


def _chunk_files(spool: Spool, write_frame: WriteFrame, piece: Path) -> Iterator[bytes]:
    for frame in spool.frames():
        write_frame(_with_widest_row(frame, spool.widths), piece)
        yield piece.read_bytes()


class Spool:
    """Frames pickled to a scratch file as they come, with the widest value of each text column in bytes."""

    def __init__(self, file: BinaryIO, text_columns: list[str]):
        self.file, self.widths, self.count = file, dict.fromkeys(text_columns, 0), 0

    def add(self, frame: pd.DataFrame) -> None:
        if frame.empty:
            return
        for name in self.widths:
            self.widths[name] = max(self.widths[name], _widest(frame[name]))
        pickle.dump(frame, self.file, protocol=pickle.HIGHEST_PROTOCOL)
        self.count += 1

    def frames(self) -> Iterator[pd.DataFrame]:
        self.file.seek(0)
        for _ in range(self.count):
            yield pickle.load(self.file)


def _widest(column: pd.Series) -> int:
    texts = column.cat.categories if isinstance(column.dtype, pd.CategoricalDtype) else column.dropna()
    return max((len(str(text).encode()) for text in texts), default=0)


def _with_widest_row(frame: pd.DataFrame, widths: dict[str, int]) -> pd.DataFrame:
    """The frame plus a last row whose texts are as wide as the widest of all chunks and whose numbers are
    missing. Texts become plain objects with '' for missing (what ReadStat writes for a missing text anyway;
    a None in a strL column makes it fail)."""
    columns = {}
    for name in frame.columns:
        if name in widths:
            texts = frame[name].to_numpy(dtype=object, na_value="")
            columns[name] = np.append(texts, " " * widths[name])
        else:
            numbers = frame[name].to_numpy()
            columns[name] = np.concatenate([numbers, np.full(1, np.nan, dtype=numbers.dtype)])
    return pd.DataFrame(columns, copy=False)


# .sav

class SavChunk:
    """An uncompressed little-endian .sav as ReadStat writes it: where its dictionary ends and where the 64-bit case
    count is, found by walking the dictionary's records (so no label text is ever mistaken for one)."""

    def __init__(self, data: bytes):
        layout, case_units, compression = struct.unpack_from("<iii", data, 64)
        if layout not in (2, 3) or compression:
            raise LayoutError(f"expected an uncompressed little-endian .sav, got layout {layout}, "
                              f"compression {compression}")
        self.data, self.case_size = data, 8 * case_units
        self.rows = struct.unpack_from("<i", data, SAV_CASE_COUNT_AT)[0]
        try:
            self.dictionary_end, self.rows64_at = _walk_sav_dictionary(data)
        except (struct.error, IndexError) as cut:
            raise LayoutError("a .sav's dictionary runs past the end of the file") from cut
        if self.dictionary_end + self.rows * self.case_size != len(data):
            raise LayoutError(f"a .sav's dictionary ends at byte {self.dictionary_end}, but its {self.rows} cases "
                              f"of {self.case_size} bytes leave {len(data) - self.dictionary_end}")

    def dictionary(self) -> bytes:
        """The records after the header, the 64-bit case count zeroed: what every chunk must share."""
        dictionary = bytearray(self.data[SAV_HEADER_SIZE:self.dictionary_end])
        if self.rows64_at is not None:
            dictionary[self.rows64_at - SAV_HEADER_SIZE:self.rows64_at - SAV_HEADER_SIZE + 8] = bytes(8)
        return bytes(dictionary)


def _walk_sav_dictionary(data: bytes) -> tuple[int, int | None]:
    """Where the dictionary ends (after its type 999 record), and where record 7 subtype 16 ("extended number of
    cases": the 16-byte record header, int64 1, int64 case count) keeps its count, if the file has one."""
    at, rows64_at = SAV_HEADER_SIZE, None
    while (kind := _int32(data, at)) != 999:
        if kind == 7 and _int32(data, at + 4) == 16:
            if data[at:at + 16] != SAV_ROWS64_RECORD:
                raise LayoutError(f"a .sav's extended number of cases record is not {SAV_ROWS64_RECORD.hex()}")
            rows64_at = at + 24
        at = _sav_record_end(data, at, kind)
    return at + 8, rows64_at


def _sav_record_end(data: bytes, at: int, kind: int) -> int:
    """Where the record of type `kind` at `at` ends (sizes from the PSPP system-file format)."""
    if kind == 2:  # variable: 32 bytes, an optional label padded to 4 bytes, then its missing values
        has_label, missing_values = struct.unpack_from("<ii", data, at + 8)
        at += 32
        if has_label:
            at += 4 + _padded(_int32(data, at), 4)
        return at + 8 * abs(missing_values)
    if kind == 3:  # value labels: each an 8-byte value, then length byte and label padded to 8
        labels, at = _int32(data, at + 4), at + 8
        for _ in range(labels):
            at += 8 + _padded(data[at + 8] + 1, 8)
        return at
    if kind in (4, 6):  # the variables a type 3 labels (int32 each); document lines (80 bytes each)
        return at + 8 + (4 if kind == 4 else 80) * _int32(data, at + 4)
    if kind == 7:
        size, count = struct.unpack_from("<ii", data, at + 8)
        return at + 16 + size * count
    raise LayoutError(f"unknown .sav record type {kind} at byte {at}")


def _int32(data: bytes, at: int) -> int:
    return struct.unpack_from("<i", data, at)[0]


def _padded(size: int, unit: int) -> int:
    return -(-size // unit) * unit


def join_sav(out: BinaryIO, chunk_files: Iterator[bytes]) -> int:
    rows, dictionary, rows64_at = 0, None, None
    for data in chunk_files:
        chunk = SavChunk(data)
        if dictionary is None:
            dictionary, rows64_at = chunk.dictionary(), chunk.rows64_at
            out.write(data[:chunk.dictionary_end])
        elif chunk.dictionary() != dictionary:
            raise LayoutError("a chunk's .sav dictionary differs from the first one's")
        out.write(data[chunk.dictionary_end:len(data) - chunk.case_size])  # without the widest row
        rows += chunk.rows - 1
    out.seek(SAV_CASE_COUNT_AT)
    out.write(struct.pack("<i", rows))
    if rows64_at is not None:
        out.seek(rows64_at)
        out.write(struct.pack("<q", rows))
    return rows


# .dta

class DtaChunk:
    """Where a release-119 .dta file keeps its parts (offsets from its <map>)."""

    def __init__(self, data: bytes):
        if data[28:31] != DTA_RELEASE:
            raise LayoutError(f"expected a .dta of release {DTA_RELEASE.decode()}, got {data[28:31]!r}")
        self.data = data
        self.rows_at = data.index(b"<N>") + 3
        self.rows = struct.unpack_from("<Q", data, self.rows_at)[0]
        self.map_at = self._map_at()
        self.offsets = struct.unpack_from("<14Q", data, self.map_at)
        if self.offsets[1] + len(b"<map>") != self.map_at:
            raise LayoutError("the .dta map is not where its own offsets say")
        variables = struct.unpack_from("<I", data, data.index(b"<K>") + 3)[0]
        types_at = self.offsets[2] + len(b"<variable_types>")
        self.types = struct.unpack_from(f"<{variables}H", data, types_at)
        self.dictionary = data[:self.offsets[9]]

    def _map_at(self) -> int:
        label_at = self.data.index(b"<label>", self.rows_at) + len(b"<label>")
        label_size = struct.unpack_from("<H", self.data, label_at)[0]
        stamp_at = label_at + 2 + label_size + len(b"</label><timestamp>")
        return stamp_at + 1 + self.data[stamp_at] + len(b"</timestamp></header><map>")

    def row_bytes(self) -> bytes:
        return self.data[self.offsets[9] + len(b"<data>"):self.offsets[10] - len(b"</data>")]

    def strls(self) -> bytes:
        return self.data[self.offsets[10] + len(b"<strls>"):self.offsets[11] - len(b"</strls>")]

    def tail(self) -> bytes:
        """<value_labels> … </stata_dta>: the same in every chunk."""
        return self.data[self.offsets[11]:]

    def strl_columns(self) -> list[int]:
        """Byte offsets, within a row, of each strL reference."""
        positions, at = [], 0
        for kind in self.types:
            if kind == DTA_STRL:
                positions.append(at)
            at += kind if kind <= 2045 else 8 if kind == DTA_STRL else DTA_NUMERIC_BYTES[kind]
        return positions


def join_dta(out: BinaryIO, chunk_files: Iterator[bytes]) -> int:
    rows, first = 0, None
    with tempfile.TemporaryFile() as strls:
        for data in chunk_files:
            chunk = DtaChunk(data)
            if first is None:
                first = chunk
                out.write(chunk.data[:chunk.offsets[9] + len(b"<data>")])
            elif (len(chunk.dictionary), chunk.types) != (len(first.dictionary), first.types):
                raise LayoutError("a chunk's .dta dictionary differs from the first one's")
            out.write(_renumbered_rows(chunk, rows))
            strls.write(_renumbered_strls(chunk, rows))
            rows += chunk.rows - 1
        _finish_dta(out, first, strls, rows)
    return rows


def _renumbered_rows(chunk: DtaChunk, rows_before: int) -> bytes:
    """The chunk's rows without the widest (last) one; strL references point at observation + rows_before."""
    table = np.frombuffer(chunk.row_bytes(), dtype=np.uint8).reshape(chunk.rows, -1)[:-1]
    columns = chunk.strl_columns()
    if not columns or not rows_before:
        return table.tobytes()
    table = table.copy()
    for at in columns:  # 119: variable in the low 3 bytes, observation in the high 5
        references = table[:, at:at + 8].copy().view("<u8")
        shift = np.uint64(24)
        references[references >> shift != 0] += np.uint64(rows_before) << shift
        table[:, at:at + 8] = references.view(np.uint8)
    return table.tobytes()


def _renumbered_strls(chunk: DtaChunk, rows_before: int) -> bytes:
    """The chunk's GSO records, the widest row's dropped, observations moved by rows_before."""
    data, kept, at = chunk.strls(), bytearray(), 0
    while at < len(data):
        tag, variable, observation, kind, size = GSO_HEAD.unpack_from(data, at)
        if tag != b"GSO":
            raise LayoutError(f"a .dta string record starts with {tag!r}, not GSO")
        end = at + GSO_HEAD.size + size
        if observation != chunk.rows:
            kept += GSO_HEAD.pack(tag, variable, observation + rows_before, kind, size) + data[at + GSO_HEAD.size:end]
        at = end
    return bytes(kept)


def _finish_dta(out: BinaryIO, first: DtaChunk, strls: BinaryIO, rows: int) -> None:
    """</data>, every chunk's strLs, the value labels; then the row count and the map's last four offsets."""
    out.write(b"</data>")
    strls_at = out.tell()
    out.write(b"<strls>")
    strls.seek(0)
    shutil.copyfileobj(strls, out)
    out.write(b"</strls>")
    labels_at = out.tell()
    out.write(first.tail())
    end = out.tell()
    closing_at = end - len(b"</stata_dta>")
    out.seek(first.rows_at)
    out.write(struct.pack("<Q", rows))
    out.seek(first.map_at + 10 * 8)
    out.write(struct.pack("<4Q", strls_at, labels_at, closing_at, end))
