"""SPSS and Stata files written chunk by chunk (``analysis.statrows``, used by ``analysis.statfiles``):
byte for byte what pyreadstat writes from the whole frame, creation time apart, holding one chunk."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from analysis import schema, statfiles
from analysis.statrows import text_width, write_chunks
from tests import exports_study as study

TEXTS = ["", "a", "héllo", "苹果香蕉", "=1+1", "-97", "x" * 255]
LONG_TEXTS = ["y" * 256, "z" * 600, "é" * 200, "苹" * 300]  # SPSS's segments; 'é' straddles one


def _masked(raw: bytes, fmt: str) -> bytes:
    """The file without its creation date and time (ReadStat stamps the second it writes)."""
    raw = bytearray(raw)
    if fmt == "sav":
        raw[92:109] = bytes(17)  # creation_date[9], creation_time[8]
    else:
        at = raw.index(b"<timestamp>") + len(b"<timestamp>")
        raw[at : at + 1 + raw[at]] = bytes(1 + raw[at])
    return bytes(raw)


def _frame(fmt: str, rows: int, seed: int = 3) -> tuple[pd.DataFrame, dict]:
    rng = np.random.default_rng(seed)
    numbers = rng.normal(size=rows) * 1000
    numbers[rng.random(rows) < 0.2] = np.nan
    edges = [np.inf, -np.inf] if fmt == "sav" else [8.9e307, -8.9e307]  # Stata: within ±8.99e307
    numbers[:6] = [*edges, -97.0, 0.0, -0.0, 1e300]
    per_day = 86400.0 if fmt == "sav" else 1.0  # SPSS dates are seconds, Stata's %td days
    frame = pd.DataFrame(
        {
            "score": numbers,
            "day": np.where(rng.random(rows) < 0.3, np.nan, rng.integers(-400, 30000, rows) * per_day),
            "short": pd.Series(rng.choice(TEXTS, rows), dtype=object),
            "answer": pd.Series(rng.choice(TEXTS + (LONG_TEXTS if fmt == "sav" else []), rows), dtype=object),
            "empty": pd.Series([""] * rows, dtype=object),
        }
    )
    options: dict = {
        "column_labels": {"score": "A score", "answer": "Free text"},
        "variable_value_labels": {"score": {1: "one", -97.0: "Shown, not answered"}},
        "variable_format": {"day": "DATE11" if fmt == "sav" else "%td"},
    }
    if fmt == "sav":
        options["missing_ranges"] = {"score": [{"lo": -99, "hi": -96}], "short": ["-97", "-98", "-99"]}
        options["variable_value_labels"]["short"] = {"-97": "Shown, not answered"}
        options["note"] = ["a note", "another"]
    else:
        options["variable_value_labels"] = {"score": {1: "one", "a": "Shown, not answered"}}
        tagged = frame["score"].astype(object).where(frame["score"].notna(), None)
        tagged[rng.random(rows) < 0.15] = "a"
        tagged[rng.random(rows) < 0.1] = "c"
        frame["score"] = tagged
        frame["tags"] = pd.Series(["b"] * rows, dtype=object)  # every cell an extended missing value
        options["missing_user_values"] = {"score": ["a", "b", "c", "d"], "tags": ["a", "b", "c", "d"]}
    return frame, options


def _widths(frame: pd.DataFrame) -> dict[str, int]:
    return {name: text_width(frame[name]) for name in ("short", "answer", "empty")}


@pytest.mark.parametrize("fmt", ["sav", "dta"])
@pytest.mark.parametrize("size", [1, 7, 500])
def test_chunked_file_equals_pyreadstats_whole_frame_file(tmp_path, fmt, size):
    frame, options = _frame(fmt, 173)
    whole, chunked = tmp_path / f"whole.{fmt}", tmp_path / f"chunked.{fmt}"
    writer = pyreadstat.write_sav if fmt == "sav" else pyreadstat.write_dta
    writer(frame, str(whole), **({"version": 15} if fmt == "dta" else {}), **options)
    chunks = [frame.iloc[i : i + size] for i in range(0, len(frame), size)]
    chunks.insert(1, frame.iloc[:0])  # an empty chunk changes nothing
    assert write_chunks(chunks, chunked, fmt, text_widths=_widths(frame), **options) == 173
    assert _masked(chunked.read_bytes(), fmt) == _masked(whole.read_bytes(), fmt)
    reader = pyreadstat.read_sav if fmt == "sav" else pyreadstat.read_dta
    back, _ = reader(str(chunked), user_missing=True)
    assert back["answer"].tolist() == frame["answer"].tolist()


@pytest.mark.parametrize("fmt", ["sav", "dta"])
def test_no_rows_still_make_a_file_with_every_variable(tmp_path, fmt):
    frame, options = _frame(fmt, 10)
    path = tmp_path / f"none.{fmt}"
    assert write_chunks([frame.iloc[:0]], path, fmt, text_widths=_widths(frame.iloc[:0]), **options) == 0
    back, meta = (pyreadstat.read_sav if fmt == "sav" else pyreadstat.read_dta)(str(path))
    assert len(back) == 0 and meta.column_names == list(frame.columns)
    assert meta.column_names_to_labels["answer"] == "Free text"


def _strl_frame(rows: int, seed: int = 5) -> pd.DataFrame:
    """Two strL columns: long texts, short and empty ones, repeats within a column, across the two
    columns and across chunks, one text first seen in the second column of the row."""
    rng = np.random.default_rng(seed)
    pool = ["长" * 700, "z" * 3000, "", "a", "=1+1", "y" * 2045, "x" * 2044]
    answer = [
        str(rng.choice(pool)) if rng.random() < 0.6 else f"unique {i} " + "w" * int(rng.integers(0, 2100))
        for i in range(rows)
    ]
    other = [str(rng.choice(pool)) for _ in range(rows)]
    other[3] = "only here, then in answer" + "q" * 2050
    answer[4] = other[3]
    frame, _ = _frame("dta", rows, seed)
    frame["answer"] = pd.Series(answer, dtype=object)
    frame["note"] = pd.Series(other, dtype=object)
    return frame


@pytest.mark.parametrize("size", [1, 7, 500])
def test_stata_strls_are_written_chunk_by_chunk_as_pyreadstat_writes_them(tmp_path, size):
    frame = _strl_frame(120)
    _, options = _frame("dta", 120)
    whole, chunked = tmp_path / "whole.dta", tmp_path / "chunked.dta"
    pyreadstat.write_dta(frame, str(whole), version=15, **options)
    widths = {**_widths(frame), "note": text_width(frame["note"])}
    assert widths["answer"] >= 2045 and widths["note"] >= 2045  # strLs, both
    chunks = [frame.iloc[i : i + size] for i in range(0, len(frame), size)]
    assert write_chunks(chunks, chunked, "dta", text_widths=widths, **options) == 120
    assert _masked(chunked.read_bytes(), "dta") == _masked(whole.read_bytes(), "dta")
    back, _ = pyreadstat.read_dta(str(chunked))
    assert back["answer"].tolist() == frame["answer"].tolist()


def test_stata_strls_hold_memory_flat_in_the_number_of_chunks(tmp_path):
    one = _strl_frame(2000)
    _, options = _frame("dta", 2000)
    widths = {**_widths(one), "note": text_width(one["note"])}

    def write(chunks):
        write_chunks(chunks, tmp_path / "big.dta", "dta", text_widths=widths, **options)

    few, many = _peaks(write, one, (2, 20))
    assert many < 1.3 * few  # whole, it would be about ten times


def test_text_wider_than_declared_and_stata_numbers_out_of_range_are_refused(tmp_path):
    frame, options = _frame("sav", 20)
    widths = {**_widths(frame), "answer": 3}
    with pytest.raises(ValueError, match="bytes wide"):
        write_chunks([frame], tmp_path / "narrow.sav", "sav", text_widths=widths, **options)
    frame, options = _frame("dta", 20)
    frame.loc[9, "day"] = -np.inf
    with pytest.raises(ValueError, match="largest double"):
        write_chunks([frame], tmp_path / "big.dta", "dta", text_widths=_widths(frame), **options)
    with pytest.raises(pyreadstat.ReadstatError):  # pyreadstat refuses it too
        pyreadstat.write_dta(frame, str(tmp_path / "whole.dta"), **options)


def _peaks(write, chunk: pd.DataFrame, counts: tuple[int, ...]) -> list[int]:
    """Peak bytes allocated (tracemalloc) writing ``count`` copies of ``chunk``, made as they are asked
    for, after a first write that pays for what is allocated once (imports, caches)."""
    write(chunk.copy() for _ in range(2))
    peaks = []
    for count in counts:
        tracemalloc.start()
        try:
            write(chunk.copy() for _ in range(count))
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
    return peaks


@pytest.mark.parametrize("fmt", ["sav", "dta"])
def test_memory_is_flat_in_the_number_of_chunks(tmp_path, fmt):
    one, options = _frame(fmt, 2000)
    widths = _widths(one)

    def write(chunks):
        write_chunks(chunks, tmp_path / f"big.{fmt}", fmt, text_widths=widths, **options)

    few, many = _peaks(write, one, (2, 20))
    assert many < 1.3 * few  # whole, it would be about ten times


@pytest.mark.parametrize("fmt", ["sav", "dta"])
def test_statistical_export_converts_and_writes_one_chunk_at_a_time(tmp_path, fmt):
    base = pd.concat(study.frames(chunk=4) * 250, ignore_index=True)  # 1,000 rows, every kind of missing
    base[schema.RESPONSE_ID] = [f"r{i}" for i in range(len(base))]

    def write(chunks):
        statfiles.write_statistical(chunks, study.codebook(), tmp_path / f"out.{fmt}", fmt)

    few, many = _peaks(write, base, (2, 20))
    assert many < 1.3 * few  # whole, it would be about ten times
    back, _ = (pyreadstat.read_sav if fmt == "sav" else pyreadstat.read_dta)(str(tmp_path / f"out.{fmt}"))
    assert len(back) == 20_000


@pytest.mark.parametrize("fmt", ["sav", "dta"])
def test_a_study_without_responses_exports_every_variable(tmp_path, fmt):
    book = study.codebook()
    assert statfiles.write_statistical([], book, tmp_path / f"none.{fmt}", fmt) == 0
    back, meta = (pyreadstat.read_sav if fmt == "sav" else pyreadstat.read_dta)(str(tmp_path / f"none.{fmt}"))
    assert len(back) == 0 and meta.column_names == list(book.file_names(fmt).values())


def test_a_stata_export_with_a_strl_answer_reads_back(tmp_path):
    frames = study.frames()
    frames[1].loc[1, "in"] = "长" * 800  # 2,400 bytes: a strL
    book = study.codebook()
    assert statfiles.write_statistical(frames, book, tmp_path / "long.dta", "dta") == 4
    back, _ = pyreadstat.read_dta(str(tmp_path / "long.dta"))
    name = book.file_names("dta")["in"]
    assert back[name].tolist() == ["=cmd", "", "", "长" * 800]
