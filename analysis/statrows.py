"""SPSS ``.sav`` and Stata ``.dta`` files written chunk by chunk, as pyreadstat would write them whole.

pyreadstat (ReadStat) writes a file from one DataFrame, so a whole export would be held in memory at
once (1.7 GB at 1,000,000 responses). Here pyreadstat writes only the file's dictionary, from a
one-row frame whose texts are as wide as the widest in the data; its data row is cut out and the
rows of every chunk are written in its place, in ReadStat's layout (``src/spss/readstat_sav_write.c``
and ``src/stata/readstat_dta_write.c``, ReadStat 1.1):

- ``.sav``, uncompressed: a case is ``nominal_case_size`` slots of 8 bytes. A number is a
  little-endian double, system-missing being −DBL_MAX. A text of width w ≤ 255 takes ⌈w/8⌉ slots,
  padded with spaces; a longer one is ⌈w/252⌉ segments of 256 bytes (the last one shorter), each
  holding 255 bytes of the text. The number of cases is in the header (int32 at byte 80) and in
  record 7.16 (uint64), just before the dictionary's termination record (999).
- ``.dta`` (release 119): an observation is its variables end to end. A number is a little-endian
  double, ``.`` being 0x7FE0000000000000 and ``.a``–``.z`` 0x7FE0010000000000 + (k << 40); a text is
  a ``str#`` of its width, padded with NUL bytes. The number of observations is ``<N>`` (uint64) in
  the header, and the map's offsets of the sections after ``<data>`` move with the data's length.
- ``.dta`` strLs (a text column whose widest value has 2,045 bytes or more): the cell holds
  (v, o), 3 and 5 bytes in release 119, the variable and observation (1-based) where the same text first
  appeared, row by row; the ``<strls>`` section after the data holds each distinct text once, in
  that order, as ``GSO`` + v (uint32) + o (uint64) + 130 (ASCII) + length (int32, with the closing
  NUL) + the text and a NUL (ReadStat's ``dta_emit_strls``; pyreadstat shares one text between
  columns too). The blocks wait in a temporary file until the data is written; each distinct text
  is remembered by its 16-byte BLAKE2 digest (a shorter text as it is), so memory grows with the
  number of distinct strL texts (about 150 bytes each), not with their length.

The file is byte for byte what pyreadstat writes from the concatenated chunks, creation time apart
(tested).
"""

from __future__ import annotations

import hashlib
import shutil
import struct
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd
import pyarrow as pa

SAV_SYSMIS = -np.finfo(np.float64).max
SAV_SEGMENT = 255  # bytes of a long text per 256-byte segment (ReadStat's sav_write_string)
SAV_COUNT_OFFSET = 80  # int32 ncases in the file header
SAV_CASE_SIZE_OFFSET = 68  # int32 nominal_case_size
SAV_TERMINATION = struct.pack("<ii", 999, 0)
DTA_MISSING = 0x7FE0000000000000
DTA_MISSING_A = 0x7FE0010000000000
DTA_MAX_DOUBLE = struct.unpack("<d", struct.pack("<q", 0x7FDFFFFFFFFFFFFF))[0]
DTA_STRL_WIDTH = 2045  # pyreadstat makes a text this wide or wider a strL
DTA_GSO_ASCII = 130  # ReadStat writes every strL as ASCII (UTF-8 bytes, NUL-terminated)
DIGEST = 16  # bytes of the BLAKE2 digest a strL is remembered by (shorter ones as they are)
STATA_TAGS = [chr(c) for c in range(ord("a"), ord("z") + 1)]


@dataclass(frozen=True)
class Layout:
    """Where a file written by pyreadstat from one row keeps its data."""

    head: bytes  # everything before the first data byte
    tail: bytes  # everything after the last one (Stata: after the strLs: value labels, closing tag)
    row_length: int
    count_at: tuple[int, ...]  # offsets of the count fields in ``head``


def _texts(values: pd.Series) -> pa.StringArray:
    """``values`` as one Arrow string array, missing as ``""`` (no copy for pandas' Arrow strings)."""
    texts = pa.array(values, from_pandas=True)
    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks()
    if texts.type != pa.string():
        texts = texts.cast(pa.string())
    return texts.fill_null("")


def text_width(values: pd.Series) -> int:
    """The widest text of ``values`` in UTF-8 bytes (at least 1, as pyreadstat counts)."""
    widest = pa.compute.max(pa.compute.binary_length(_texts(values))).as_py()
    return max(1, widest or 0)


def _user_width(name: str, width: int, value_labels: dict) -> int:
    keys = value_labels.get(name) or {}
    return max([width, 1, *(len(str(key)) for key in keys)])


def _sav_storage(width: int) -> int:
    if width > SAV_SEGMENT:
        segments = (width + 251) // 252
        return (segments - 1) * 256 + (width - (segments - 1) * 252 + 7) // 8 * 8
    return (width + 7) // 8 * 8


def _sav_layout(raw: bytes) -> Layout:
    (case_size,) = struct.unpack_from("<i", raw, SAV_CASE_SIZE_OFFSET)
    row_length = case_size * 8
    start = len(raw) - row_length
    if raw[start - 8 : start] != SAV_TERMINATION or raw[start - 16 : start - 8] != struct.pack("<q", 1):
        raise RuntimeError("pyreadstat's .sav layout is not the one this writer knows")
    return Layout(raw[:start], b"", row_length, (SAV_COUNT_OFFSET, start - 16))


def _dta_layout(raw: bytes) -> Layout:
    if not raw.startswith(b"<stata_dta><header><release>119</release>"):
        raise RuntimeError("pyreadstat's .dta layout is not the one this writer knows")
    count_at = raw.index(b"<N>") + 3  # the first <N>: only the release and byte order come before it
    at = raw.index(b"<map>", count_at) + 5  # the label's length is known from here on
    offsets = struct.unpack_from("<14Q", raw, at)
    start, end = offsets[9] + len(b"<data>"), offsets[10] - len(b"</data>")
    return Layout(raw[:start], raw[offsets[11] :], end - start, (count_at, at))


def _dta_head(layout: Layout, rows: int, strls: int) -> bytes:
    """The header for ``rows`` observations and a ``<strls>`` section of ``strls`` bytes."""
    head = bytearray(layout.head)
    count_at, map_at = layout.count_at
    struct.pack_into("<Q", head, count_at, rows)
    offsets = list(struct.unpack_from("<14Q", head, map_at))
    grown = (rows - 1) * layout.row_length
    strls_grown = strls - (offsets[11] - offsets[10])
    offsets[10:] = [offset + grown for offset in offsets[10:]]
    offsets[11:] = [offset + strls_grown for offset in offsets[11:]]
    struct.pack_into("<14Q", head, map_at, *offsets)
    return bytes(head)


def _sav_head(layout: Layout, rows: int) -> bytes:
    head = bytearray(layout.head)
    struct.pack_into("<i", head, layout.count_at[0], rows)
    struct.pack_into("<q", head, layout.count_at[1], rows)
    return bytes(head)


def _layout(fmt: str, names: list[str], widths: dict[str, int], options: dict[str, Any]) -> Layout:
    """pyreadstat's file for one row: NaN numbers, texts of ``widths`` bytes."""
    import pyreadstat

    row = pd.DataFrame(
        {
            name: pd.Series(["x" * widths[name]], dtype=object)
            if name in widths
            else pd.Series([np.nan], dtype=float)
            for name in names
        }
    )
    with tempfile.TemporaryDirectory() as folder:
        scratch = Path(folder) / f"row.{fmt}"
        (pyreadstat.write_sav if fmt == "sav" else pyreadstat.write_dta)(row, str(scratch), **options)
        raw = scratch.read_bytes()
    return _sav_layout(raw) if fmt == "sav" else _dta_layout(raw)


def _put_texts(
    block: np.ndarray, start: int, storage: int, values: pd.Series, pad: int, segment: int | None
) -> None:
    """Write each text's UTF-8 bytes into ``block[:, start:start + storage]``, padded with ``pad``;
    with ``segment``, cut into pieces of that many bytes, one at every 256th byte (long SPSS texts).
    Scattered by flat index: 4 or 8 bytes of index per byte of text, never a copy of the column."""
    texts = _texts(values)
    offsets = np.frombuffer(texts.buffers()[1], dtype=np.int32, count=len(texts) + 1, offset=texts.offset * 4)
    width = storage if segment is None else storage // 256 * segment + storage % 256
    lengths = np.diff(offsets)
    if len(lengths) and lengths.max() > width:
        raise ValueError(f"{values.name}: a text of {lengths.max()} bytes in a column {width} bytes wide")
    block[:, start : start + storage] = pad
    total = int(offsets[-1] - offsets[0])
    if not total:
        return
    index = np.int32 if block.size < 2**31 else np.int64
    place = np.arange(total, dtype=index)
    place -= np.repeat((offsets[:-1] - offsets[0]).astype(index), lengths)
    if segment:
        place += place // segment  # byte k of a text goes to k + k // 255: one pad byte per segment
    place += np.repeat(np.arange(len(texts), dtype=index) * block.shape[1] + start, lengths)
    data = np.frombuffer(texts.buffers()[2], dtype=np.uint8)
    block.reshape(-1)[place] = data[offsets[0] : offsets[-1]]


def _tagged(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Numbers as float64 and the index of each Stata extended-missing letter (−1 where none)."""
    if values.dtype != object:
        return values.to_numpy(dtype=np.float64), np.full(len(values), -1)
    tags = values.isin(STATA_TAGS).to_numpy()
    numbers = pd.to_numeric(values.where(~tags), errors="coerce").to_numpy(dtype=np.float64)
    index = np.full(len(values), -1)
    index[tags] = [ord(tag) - ord("a") for tag in values[tags]]
    return numbers, index


def _sav_number(values: pd.Series) -> np.ndarray:
    numbers = values.to_numpy(dtype=np.float64)
    return np.where(np.isnan(numbers), SAV_SYSMIS, numbers).astype("<f8")


def _dta_number(values: pd.Series) -> np.ndarray:
    numbers, tags = _tagged(values)
    if (np.abs(numbers) > DTA_MAX_DOUBLE).any():
        raise ValueError(f"{values.name}: a number beyond Stata's largest double (±8.99e307)")
    bits = numbers.astype("<f8").view("<i8").copy()
    bits[np.isnan(numbers)] = DTA_MISSING
    bits[tags >= 0] = DTA_MISSING_A + (tags[tags >= 0].astype(np.int64) << 40)
    return bits


class StrLs:
    """Stata strLs as pyreadstat writes them: each distinct text once, as a ``GSO`` block named by
    the (variable, observation) of its first appearance, row by row; every cell holds that pair."""

    def __init__(self, columns: list[tuple[str, int, int]], spool: IO[bytes]) -> None:
        self.columns = columns  # name, byte offset in the row, variable number (1-based)
        self.spool = spool
        self.seen: dict[bytes, bytes] = {}  # text or its digest: its cell
        self.rows = 0
        self.size = 0  # bytes of GSO blocks in the spool

    def put(self, block: np.ndarray, chunk: pd.DataFrame) -> None:
        """Write the chunk's strL cells into ``block`` and its new texts' blocks to the spool."""
        texts = [_texts(chunk[name]).to_pylist() for name, _start, _v in self.columns]
        cells: list[list[bytes]] = [[] for _ in self.columns]
        for row, values in enumerate(zip(*texts, strict=True), start=self.rows + 1):
            for (_name, _start, v), text, out in zip(self.columns, values, cells, strict=True):
                data = text.encode("utf-8")
                key = data if len(data) < DIGEST else hashlib.blake2b(data, digest_size=DIGEST).digest()
                ref = self.seen.get(key)
                if ref is None:
                    ref = self.seen[key] = v.to_bytes(3, "little") + row.to_bytes(5, "little")
                    gso = b"GSO" + struct.pack("<IQBi", v, row, DTA_GSO_ASCII, len(data) + 1) + data + b"\0"
                    self.spool.write(gso)
                    self.size += len(gso)
                out.append(ref)
        for (_name, start, _v), refs in zip(self.columns, cells, strict=True):
            block[:, start : start + 8] = np.frombuffer(b"".join(refs), dtype=np.uint8).reshape(-1, 8)
        self.rows += len(chunk)


def _encoder(
    fmt: str, names: list[str], widths: dict[str, int], row_length: int, spool: IO[bytes] | None = None
) -> tuple[Callable, StrLs | None]:
    """A function from one chunk to its rows' bytes, ``(rows, row_length)`` uint8, and the strLs it
    writes to ``spool`` (Stata texts of 2,045 bytes or more; ``None`` when there are none)."""
    columns = []
    strl_columns = []
    offset = 0
    for index, name in enumerate(names):
        if name not in widths:
            columns.append((name, offset, 8, None))
            offset += 8
            continue
        if fmt == "dta" and widths[name] >= DTA_STRL_WIDTH:
            strl_columns.append((name, offset, index + 1))
            offset += 8
            continue
        storage = _sav_storage(widths[name]) if fmt == "sav" else widths[name]
        columns.append((name, offset, storage, widths[name]))
        offset += storage
    if offset != row_length:
        raise RuntimeError(f"rows of {offset} bytes where pyreadstat's are {row_length}")
    number = _sav_number if fmt == "sav" else _dta_number
    strls = StrLs(strl_columns, spool) if strl_columns and spool is not None else None
    if strl_columns and strls is None:
        raise ValueError("strLs need a spool for their blocks")

    def encode(chunk: pd.DataFrame) -> np.ndarray:
        block = np.empty((len(chunk), row_length), dtype=np.uint8)
        for name, start, storage, width in columns:
            if width is None:
                block[:, start : start + 8] = number(chunk[name]).view(np.uint8).reshape(-1, 8)
            elif fmt == "sav":
                segment = SAV_SEGMENT if width > SAV_SEGMENT else None
                _put_texts(block, start, storage, chunk[name], 32, segment)
            else:
                _put_texts(block, start, storage, chunk[name], 0, None)
        if strls is not None:
            strls.put(block, chunk)
        return block

    return encode, strls


def write_chunks(
    chunks: Iterable[pd.DataFrame],
    path: Path,
    fmt: str,
    *,
    text_widths: dict[str, int],
    **options: Any,
) -> int:
    """Write ``chunks`` as one ``.sav`` (``fmt="sav"``) or ``.dta`` (``"dta"``, version 15) file;
    returns the rows written. The file equals ``pyreadstat.write_sav``/``write_dta`` of
    ``pd.concat(chunks)`` with the same ``options``, but only one chunk is held at a time.

    Chunks have the same columns; a column named in ``text_widths`` is text (``str``, missing as
    ``""``), with its widest value in UTF-8 bytes over all chunks (``text_width``); any other is a
    float64 number, or for Stata an object column of floats, ``None`` and the letters ``a``–``z``
    of extended missing values (pyreadstat's conventions). A text wider than its width, or a Stata
    number beyond ±8.99e307 (infinities included), raises ``ValueError``.
    """
    chunks = iter(chunks)
    first = next(chunks, None)
    if first is None:
        raise ValueError("no chunk: give at least one, empty if need be, for the columns")
    names = list(first.columns)
    labels = options.get("variable_value_labels") or {}
    widths = {name: _user_width(name, width, labels) for name, width in text_widths.items()}
    if fmt == "dta":
        options = {"version": 15, **options}
    layout = _layout(fmt, names, widths, options)
    rows = 0
    with open(path, "wb") as out, tempfile.TemporaryFile() as spool:
        encode, strls = _encoder(fmt, names, widths, layout.row_length, spool)
        out.write(layout.head)
        for chunk in _chained(first, chunks):
            out.write(encode(chunk[names]).data)
            rows += len(chunk)
        if fmt == "dta":
            out.write(b"</data><strls>")
            spool.seek(0)
            shutil.copyfileobj(spool, out)
            out.write(b"</strls>")
        out.write(layout.tail)
        out.seek(0)
        if fmt == "sav":
            out.write(_sav_head(layout, rows))
        else:
            strls_size = len(b"<strls></strls>") + (strls.size if strls else 0)
            out.write(_dta_head(layout, rows, strls_size))
    return rows


def _chained(first: pd.DataFrame, rest: Iterable[pd.DataFrame]) -> Iterable[pd.DataFrame]:
    yield first
    yield from rest
