"""Every export format read back (pandas, pyreadstat, pyarrow) against a study answered in three versions:
codes kept, deleted choices kept, every version's wording, four kinds of missing, legal names, dates."""

from __future__ import annotations

import datetime as dt
import json
import re
import zipfile
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pyreadstat
import pytest

from analysis import missing, schema
from analysis.codebook import Variable
from analysis.exports import CHOICE_KINDS, export
from analysis.formulas import unneutralise
from analysis.varnames import MAX_LENGTH, RESERVED, legal_names
from tests import exports_study as study

ANSWERS = [answers for _version, answers, _hidden in study.RESPONSES]


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    folder = tmp_path_factory.mktemp("exports")
    books = {}
    for fmt in ("sav", "dta", "csv", "xlsx", "parquet", "json", "long"):
        books[fmt] = study.codebook()
        assert export(study.frames(), books[fmt], folder / f"out.{fmt}", fmt, language="en") == 4
    books["csv-codes"] = study.codebook()
    export(study.frames(), books["csv-codes"], folder / "codes.csv", "csv", missing_codes=True)
    return folder, books


def read_stat(folder, fmt, **options):
    reader = pyreadstat.read_sav if fmt == "sav" else pyreadstat.read_dta
    return reader(str(folder / f"out.{fmt}"), **options)


@pytest.mark.parametrize("fmt", ["sav", "dta"])
def test_choice_codes_are_the_values_and_deleted_choices_keep_value_and_label(written, fmt):
    folder, books = written
    data, meta = read_stat(folder, fmt)
    names = books[fmt].file_names(fmt)
    q1, colour = names["q1"], names["colour"]
    # integer codes are the values: 1 Yes / 0 No / 99 Don't know
    assert data[q1].tolist() == [1, 0, 99, 1]
    assert meta.variable_value_labels[q1].items() >= {1: "Yes", 0: "No", 99: "Don't know"}.items()
    # other lists numbered by the first version's order, later additions after; blue (deleted in v2) kept
    assert books[fmt].variable("colour").values == {"red": 1, "green": 2, "blue": 3, "purple": 4}
    assert data[colour].tolist() == [3, 1, 2, 4]
    assert (
        meta.variable_value_labels[colour].items() >= {1: "Red", 2: "Green", 3: "Blue", 4: "Purple"}.items()
    )


@pytest.mark.parametrize("fmt", ["sav", "dta"])
def test_four_kinds_of_missing_are_told_apart(written, fmt):
    folder, books = written
    # dates unconverted: SPSS holds seconds since 1582-10-14, so a missing code is that number
    data, meta = read_stat(folder, fmt, user_missing=True, disable_datetime_conversion=True)
    names = books[fmt].file_names(fmt)
    for (row, name), kind in study.EXPECTED_MISSING.items():
        cell = data.loc[row, names[name]]
        if fmt == "sav":
            expected = books[fmt].variable(name).missing_codes[kind]
            assert cell == (str(expected) if name == "in" else expected), (row, name, cell)
        elif name == "in":
            assert cell == ""  # Stata has no extended missing values for text
        else:
            assert cell == missing.STATA_CODES[kind], (row, name, cell)
    # new_q has an answer of -97, so its codes moved 100 lower
    assert books[fmt].variable("new_q").missing_codes[missing.NOT_IN_VERSION] == -199
    if fmt == "sav":
        assert meta.missing_ranges[names["long"]] == [{"lo": -99.0, "hi": -96.0}]
        assert {r["lo"] for r in meta.missing_ranges[names["in"]]} == {"-97", "-98", "-99"}
        assert meta.variable_value_labels[names["long"]][-98] == "Not shown (relevance false)"
    else:
        assert meta.variable_value_labels[names["long"]]["b"] == "Not shown (relevance false)"
    # without user-missing they read as missing, never as numbers
    plain, _ = read_stat(folder, fmt)
    assert plain[names["long"]].isna().tolist() == [False, True, True, False]


def test_answers_read_back_equal_the_stored_answers(written):
    folder, books = written
    for fmt in ("sav", "dta"):
        data, _ = read_stat(folder, fmt)
        names = books[fmt].file_names(fmt)
        assert data[names["WITH"]].tolist()[:2] == [0.1, 70.25]
        assert data[names["in"]].tolist()[3] == "上海"
        assert data[names["when"]].tolist()[0] == dt.date(2024, 2, 29)  # a date, not text
        assert data[names["completed_on"]].tolist()[0] == dt.date(2026, 1, 10)
        assert data[names["fruit__苹果"]].tolist()[0] == 1 and data[names["fruit__a-b"]].tolist()[0] == 1
    csv = pd.read_csv(folder / "out.csv", dtype={"q1": str, "in": str})
    assert csv["q1"].tolist() == ["1", "0", "99", "1"] and csv["colour"].tolist() == [
        "blue",
        "red",
        "green",
        "purple",
    ]
    assert csv["in"].tolist()[0] == "'=cmd" and csv["WITH"].tolist()[:2] == [0.1, 70.25]
    assert csv["long"].isna().tolist() == [False, True, True, False]  # empty by default
    codes = pd.read_csv(folder / "codes.csv", dtype={"in": str})
    assert codes["long"].tolist() == [12, -98, -98, 3]
    # new_q's answer -97 stays an answer: its codes are the .sav's, 100 lower, in the codebook too
    assert codes["new_q"].tolist() == [-199, -199, -97, -197]
    assert books["csv-codes"].variable("new_q").missing_codes == books["sav"].variable("new_q").missing_codes
    assert codes["in"].tolist()[1] == "-97"
    records = json.loads((folder / "out.json").read_text(encoding="utf-8"))["responses"]
    assert [r.get("colour") for r in records] == ["blue", "red", "green", "purple"]
    assert "long" not in records[1] and records[2]["new_q"] == -97


def test_parquet_has_dictionary_columns_for_choices_and_dates(written):
    folder, _ = written
    table = pq.read_table(folder / "out.parquet")
    assert pa.types.is_dictionary(table.schema.field("colour").type)
    assert pa.types.is_dictionary(table.schema.field("q1").type)
    assert table.schema.field("when").type == pa.date32()
    frame = table.to_pandas()
    assert isinstance(frame["colour"].dtype, pd.CategoricalDtype)
    assert frame["colour"].astype(str).tolist() == ["blue", "red", "green", "purple"]
    assert frame["when"].tolist()[0] == dt.date(2024, 2, 29)
    assert frame["WITH"].tolist()[:2] == [0.1, 70.25]


def test_xlsx_holds_dates_as_dates_and_text_never_as_formulas(written):
    import openpyxl

    folder, _ = written
    sheet = openpyxl.load_workbook(folder / "out.xlsx")["responses"]
    header = [c.value for c in sheet[1]]
    row = [c for c in sheet[2]]
    assert row[header.index("when")].value == dt.datetime(2024, 2, 29)
    # a typed string cell, never run as a formula: the text as typed, without the CSV's apostrophe
    assert row[header.index("in")].value == "=cmd" and row[header.index("in")].data_type == "s"
    with zipfile.ZipFile(folder / "out.xlsx") as archive:
        assert "<f>" not in archive.read("xl/worksheets/sheet1.xml").decode()
    assert row[header.index("WITH")].value == 0.1


@pytest.mark.parametrize("fmt", ["sav", "dta"])
def test_names_are_legal_unique_and_the_codebook_gives_both(written, fmt):
    folder, books = written
    _, meta = read_stat(folder, fmt)
    names = books[fmt].file_names(fmt)
    assert len(set(map(str.casefold, names.values()))) == len(names)
    for original, name in names.items():
        assert re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name) and len(name.encode()) <= MAX_LENGTH[fmt]
        assert name.upper() not in RESERVED["sav"] if fmt == "sav" else name not in RESERVED["dta"]
        if name != original:
            assert meta.column_names_to_labels[name].startswith(original + ": ")
    assert names["fruit__苹果"] != names["fruit__香蕉"] and names["fruit__a-b"] != names["fruit__a_b"]
    payload = json.loads((folder / f"out.{fmt}.codebook.json").read_text(encoding="utf-8"))
    entry = next(v for v in payload["variables"] if v["name"] == "long")
    assert entry["stata_name"] != "long" and entry["spss_name"] == "long"


def test_codebook_shows_every_versions_wording_and_choices(written):
    folder, _ = written
    payload = json.loads((folder / "out.csv.codebook.json").read_text(encoding="utf-8"))
    q1 = next(v for v in payload["variables"] if v["name"] == "q1")
    assert q1["wording"]["1"]["label"]["en"] == "Do you trust people?"
    assert q1["wording"]["3"]["label"]["en"] == "Generally speaking, do you trust people?"
    colour = next(v for v in payload["variables"] if v["name"] == "colour")
    assert colour["wording"]["1"]["choices"] == ["red", "green", "blue"]
    assert colour["wording"]["3"]["choices"] == ["red", "green", "purple"]
    assert colour["coding"] == "numbered" and colour["values"]["blue"] == 3
    assert payload["missing_values"]["not_shown"] == {
        "spss": -98,
        "stata": ".b",
        "meaning": "Not shown (relevance false)",
    }
    page = (folder / "out.csv.codebook.html").read_text(encoding="utf-8")
    assert "Do you trust people?" in page and "Generally speaking, do you trust people?" in page


def test_legal_names_rule():
    names = legal_names(
        ["long", "in", "a-b", "a_b", "x__苹果", "x__香蕉", "Q", "q", "_all", "str9", "ok"], "dta"
    )
    assert names["ok"] == "ok" and names["Q"] == "Q" and names["q"] == "q"  # Stata tells case apart
    assert len(set(names.values())) == 11
    assert not any(n in RESERVED["dta"] or re.fullmatch(r"str[0-9]+", n) for n in names.values())
    spss = legal_names(["Q", "q", "with", "x" * 70], "sav")
    assert spss["Q"].casefold() != spss["q"].casefold() and spss["with"] != "with"
    assert len(spss["x" * 70]) == 64
    assert (
        legal_names(["long"], "dta")["long"] == legal_names(["other", "long"], "dta")["long"]
    )  # names stand alone
    with pytest.raises(ValueError):
        legal_names(["a"], "csv")


def test_every_schema_meta_column_is_in_the_codebook():
    assert set(schema.META_COLUMNS) <= set(study.codebook().names)


def test_long_format_gives_each_answers_status(written):
    folder, _ = written
    long = pd.read_csv(folder / "out.long", dtype=str, keep_default_na=False)
    assert list(long.columns) == ["response_id", "questionnaire_version", "variable", "value", "status"]
    status = long.set_index(["response_id", "variable"])["status"]
    for (row, name), kind in study.EXPECTED_MISSING.items():
        assert status[(f"r{row}", name)] == kind, (row, name)
    assert status[("r0", "colour")] == "answered" and status[("r2", "q1")] == "answered"
    assert long.set_index(["response_id", "variable"]).loc[("r0", "colour"), "value"] == "blue"
    assert long.groupby("response_id").size().nunique() == 1  # every answer variable for every response


def _stored() -> dict[tuple[int, str], Any]:
    """Every answer variable's stored answer per row (``None`` where missing), from the study."""
    book = study.codebook()
    answers = [v.name for v in book.variables if missing.has_status(v)]
    stored = {}
    for row, ((version, given, _hidden), chosen) in enumerate(
        zip(study.RESPONSES, study.CHOSEN, strict=True)
    ):
        for name in answers:
            option = name.partition(schema.CHOICE_SEPARATOR)[2]
            if option:
                offered = version in book.variable(name).versions
                stored[(row, name)] = int(option in chosen) if chosen is not None and offered else None
            else:
                stored[(row, name)] = given.get(name)
    assert set(study.EXPECTED_MISSING) <= {key for key, value in stored.items() if value is None}
    return stored


def _objects(records: list[dict[str, Any]]) -> pd.DataFrame:
    """Records as a frame of the values as read (an integer stays an int, not a float beside a None)."""
    names = dict.fromkeys(name for record in records for name in record)
    return pd.DataFrame({name: [r.get(name) for r in records] for name in names}, dtype=object)


def _read_back(folder, fmt: str, book) -> dict[tuple[int, str], Any]:
    """Every answer cell of the ``fmt`` export as its reader gives it, under the original names."""
    if fmt in {"sav", "dta"}:
        data, _ = read_stat(folder, fmt)
        data = data.rename(columns={v: k for k, v in book.file_names(fmt).items()})
    elif fmt == "csv":
        data = pd.read_csv(folder / "out.csv", dtype=str, keep_default_na=False)
    elif fmt == "xlsx":
        data = pd.read_excel(folder / "out.xlsx", sheet_name="responses", dtype=object)
    elif fmt == "parquet":
        data = _objects(pq.read_table(folder / "out.parquet").to_pylist())
    elif fmt == "json":
        records = json.loads((folder / "out.json").read_text(encoding="utf-8"))["responses"]
        data = _objects(records)
    else:
        long = pd.read_csv(folder / "out.long", dtype=str, keep_default_na=False)
        data = long.pivot(index="response_id", columns="variable", values="value").loc[
            [f"r{i}" for i in range(4)]
        ]
    data = data.reset_index(drop=True)
    return {(row, name): data[name][row] if name in data else None for row, name in _stored()}


def _as_stored(value: Any, stored: Any, fmt: str, variable) -> Any:
    """``value`` read from ``fmt`` in the stored answer's terms: codes, numbers, dates as ISO text."""
    if value is None or value == "" or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT:
        return None
    if fmt in {"csv", "long"} and isinstance(value, str):  # XLSX: typed strings, no guard
        value = unneutralise(value)  # the spreadsheet guard, undone (analysis.formulas)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()[:10]
    if fmt in {"sav", "dta"} and variable.kind in CHOICE_KINDS:  # a choice's number back to its code
        return {n: code for code, n in variable.values.items()}[value]
    if isinstance(stored, int | float) and not isinstance(stored, bool):
        return float(value)
    return str(value) if isinstance(stored, str) else value


@pytest.mark.parametrize("fmt", ["sav", "dta", "csv", "xlsx", "parquet", "json", "long"])
def test_every_stored_answer_reads_back_from_every_format(written, fmt):
    """Each answer of the three-version study (deleted and added choices, reworded questions,
    reserved and Chinese names, a formula-like text, dates, decimals) read back by pandas,
    pyreadstat or pyarrow equals what was stored, and each missing answer is missing."""
    folder, books = written
    book = books[fmt]
    stored = _stored()
    read = _read_back(folder, fmt, book)
    for key, expected in stored.items():
        variable = book.variable(key[1])
        if expected is not None and isinstance(expected, int) and fmt in {"csv", "long", "json", "parquet"}:
            # an integer (or 0/1) answer is written as an integer, not 18.0
            assert re.fullmatch(r"-?[0-9]+", str(read[key])), (fmt, key, read[key])
            assert fmt in {"csv", "long"} or isinstance(read[key], int), (fmt, key, read[key])
        got = _as_stored(read[key], expected, fmt, variable)
        if isinstance(expected, int | float) and expected is not None:
            expected = float(expected)
        assert got == expected, (fmt, key, read[key], expected)


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "parquet", "json", "long"])
def test_with_missing_codes_every_missing_answer_reads_back_as_its_kinds_code(tmp_path, fmt):
    """``missing_codes``: each missing cell of every format holds the code of its kind of missing,
    the .sav's (so 100 lower for ``new_q``, answered -97), and every answer is still as stored."""
    sav_book, book = study.codebook(), study.codebook()
    export(study.frames(), sav_book, tmp_path / "ref.sav", "sav")
    export(study.frames(), book, tmp_path / f"out.{fmt}", fmt, missing_codes=True)
    read = _read_back(tmp_path, fmt, book)
    kinds = {}
    for name, column in missing.missing_kinds(pd.concat(study.frames(), ignore_index=True), book).items():
        kinds.update({(row, name): kind for row, kind in column.items() if pd.notna(kind)})
    assert set(study.EXPECTED_MISSING.items()) <= set(kinds.items())
    for key, expected in _stored().items():
        variable = book.variable(key[1])
        if key in kinds:
            code = sav_book.variable(key[1]).missing_codes[kinds[key]]
            assert variable.missing_codes[kinds[key]] == code  # the codebook says what the file holds
            assert float(read[key]) == code, (fmt, key, read[key], code)
        else:
            got = _as_stored(read[key], expected, fmt, variable)
            assert got == (float(expected) if isinstance(expected, int | float) else expected), (fmt, key)


def test_integers_only_where_every_version_asked_for_whole_numbers(tmp_path):
    """An integer question is written as integers (12, not 12.0); one a version asked as a decimal,
    or a column holding a fraction, keeps its decimals."""
    book = study.codebook()
    assert book.variable("long").integer and book.variable("new_q").integer
    assert not book.variable("WITH").integer
    later = Variable("long", "numeric", "long", integer=False)
    merged = Variable("long", "numeric", "long", integer=True)
    merged.merge(later)
    assert not merged.integer
    frames = study.frames()
    frames[1].loc[1, "long"] = 2.5  # stored before the question became an integer
    export(frames, book, tmp_path / "out.csv", "csv")
    written = pd.read_csv(tmp_path / "out.csv", dtype=str, keep_default_na=False)
    assert written["long"].tolist() == ["12", "", "", "2.5"]
    assert written["new_q"].tolist() == ["", "", "-97", ""]
