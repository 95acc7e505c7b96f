"""The .sps and .do files beside a CSV, checked without SPSS or Stata: a small interpreter of exactly
the commands they use runs each one over the CSV, and what it builds must equal the .sav or .dta
export of the same responses, variable by variable: values (missing codes and extended missing
values included), value labels, missing values and variable labels. A command the interpreter does
not know fails the test, so the syntax cannot grow past what is checked."""

from __future__ import annotations

import csv
import datetime as dt
import math
import re

import pandas as pd
import pyreadstat
import pytest

from analysis import schema, statfiles
from analysis.exports import export
from analysis.formulas import neutralise
from tests import exports_study as study

QUOTED = r"'(?:[^']|'')*'"
SPSS_EPOCH = dt.date(1582, 10, 14)
STATA_EPOCH = dt.date(1960, 1, 1)


# Typed answers the CSV guards against spreadsheet formulas (OWASP): SPSS and Stata must get them as typed
GUARDED = ["=1+1", "-5 apples", "'=x", "''-y", "-97", "@SUM(A1)", "\tcmd", "+"]
# and numbers, which the CSV leaves unguarded (no formula), unless typed after an apostrophe
NUMBERS = ["-5", "+3", "-2.5e3", "'-5"]


def frames() -> list[pd.DataFrame]:
    """The three-version study, then its four respondents again answering ``in`` with ``GUARDED``
    texts and numbers, one of them refusing ``q1`` (its code -1, a number, is not guarded in the CSV)."""
    again = pd.concat(study.frames(), ignore_index=True)
    again[schema.RESPONSE_ID] = [f"s{i}" for i in range(len(again))]
    extra = []
    for start in (0, 4, 8):
        chunk = again.copy()
        chunk[schema.RESPONSE_ID] = chunk[schema.RESPONSE_ID] + str(start)
        chunk["in"] = pd.Series((GUARDED + NUMBERS)[start : start + 4], dtype=chunk["in"].dtype)
        extra.append(chunk)
    extra[0].loc[2, "q1"] = "-1"
    return study.frames() + extra


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    folder = tmp_path_factory.mktemp("syntax")
    for fmt in ("sav", "dta"):
        export(frames(), study.codebook(), folder / f"out.{fmt}", fmt)
    export(frames(), study.codebook(), folder / "out.csv", "csv", syntax=True)
    with open(folder / "out.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))[1:]
    return folder, rows


def _unquote(text: str) -> str:
    return text[1:-1].replace("''", "'")


def _spss_value(token: str):
    if token.startswith("X'"):  # a hexadecimal string
        return bytes.fromhex(token[2:-1]).decode()
    return _unquote(token) if token.startswith("'") else float(token)


def _statements(text: str) -> list[str]:
    """SPSS commands: lines joined until one ends with a period; comments dropped."""
    statements, current = [], []
    for line in text.splitlines():
        if not current and line.startswith("*"):
            continue
        current.append(line.strip())
        if line.rstrip().endswith("."):
            statements.append(" ".join(current)[:-1].strip())
            current = []
    assert not current, "a command without its closing period"
    return statements


def run_sps(text: str, rows: list[list[str]]) -> dict:
    data: dict[str, list] = {}
    labels, values, ranges, formats = {}, {}, {}, {}
    for statement in _statements(text):
        command = statement.split(" /")[0] if statement.startswith("GET DATA") else statement
        if command.startswith("GET DATA"):
            declared = re.findall(r"(\S+) (A32767|F16\.6)", statement.split("/VARIABLES=")[1])
            for i, (name, kind) in enumerate(declared):
                cells = [row[i] for row in rows]
                data[name] = cells if kind.startswith("A") else [float(c) if c else None for c in cells]
            assert len(declared) == len(rows[0])
        elif m := re.fullmatch(r"RECODE (\S+) (.*) INTO (\S+)", command):
            pairs = dict((_unquote(a), float(b)) for a, b in re.findall(rf"\(({QUOTED})=(-?\d+)\)", m[2]))
            data[m[3]] = [pairs.get(cell) for cell in data[m[1]]]
        elif m := re.fullmatch(
            r"IF \(CHAR\.SUBSTR\((\S+), 1, 1\) = \"'\" AND ANY\(CHAR\.SUBSTR\(LTRIM\(\1, \"'\"\), 1, 1\),"
            r" (.*)\)\) \1 = CHAR\.SUBSTR\(\1, 2\)",
            command,
        ):
            starts = [_spss_value(v) for v in re.findall(rf"{QUOTED}|X'[0-9A-F]+'", m[2])]
            data[m[1]] = [
                cell[1:] if cell[:1] == "'" and cell.lstrip("'")[:1] in starts else cell
                for cell in data[m[1]]
            ]
        elif m := re.fullmatch(r"COMPUTE (\S+) = NUMBER\(CHAR\.SUBSTR\((\S+), 1, 10\), SDATE10\)", command):
            data[m[1]] = [_date(cell, SPSS_EPOCH, 86400.0) for cell in data[m[2]]]
        elif m := re.fullmatch(rf"IF \((\S+) = ({QUOTED})\) (\S+) = (-?\d+)", command):
            data[m[3]] = [
                float(m[4]) if cell == _unquote(m[2]) else new
                for cell, new in zip(data[m[1]], data[m[3]], strict=True)
            ]
        elif m := re.fullmatch(r"FORMATS (\S+) \((\S+)\)", command):
            formats[m[1]] = m[2]
        elif m := re.fullmatch(r"DELETE VARIABLES (\S+)", command):
            del data[m[1]]
        elif m := re.fullmatch(r"RENAME VARIABLES \((\S+)=(\S+)\)", command):
            data[m[2]] = data.pop(m[1])
            formats[m[2]] = formats.pop(m[1], None)
        elif m := re.fullmatch(rf"VARIABLE LABELS (\S+) ({QUOTED})", command):
            labels[m[1]] = _unquote(m[2])
        elif m := re.fullmatch(r"ADD VALUE LABELS (\S+) (.*)", command):
            pairs = re.findall(rf"({QUOTED}|-?[\d.]+) ({QUOTED})", m[2])
            values.setdefault(m[1], {}).update({_spss_value(v): _unquote(label) for v, label in pairs})
        elif m := re.fullmatch(r"MISSING VALUES (\S+) \((-?\d+) THRU (-?\d+)\)", command):
            ranges[m[1]] = [{"lo": float(m[2]), "hi": float(m[3])}]
        elif m := re.fullmatch(r"MISSING VALUES (\S+) \((.*)\)", command):
            ranges[m[1]] = sorted(_unquote(v) for v in re.findall(QUOTED, m[2]))
        elif m := re.fullmatch(r"MATCH FILES /FILE=\* /KEEP= (.*)", command):
            data = {name: data[name] for name in m[1].split()}
        elif command != "EXECUTE":
            raise AssertionError(f"SPSS command the check does not know: {command[:60]}")
    return {"data": data, "labels": labels, "values": values, "ranges": ranges, "formats": formats}


def _date(cell: str, epoch: dt.date, unit: float):
    try:
        return (dt.date.fromisoformat(cell[:10]) - epoch).days * unit
    except ValueError:
        return None


def _stata_value(token: str):
    if token.startswith("."):
        return token[1:]  # pyreadstat's letter for an extended missing value
    return float(token) if token.startswith(("-", *"0123456789")) else token.strip('"')


def run_do(text: str, rows: list[list[str]]) -> dict:
    data: dict[str, list] = {}
    labels, defined, attached = {}, {}, {}
    for line in text.splitlines():
        if line.startswith("*") or line.startswith("notes "):
            continue
        if line.startswith("import delimited"):
            assert "stringcols(_all)" in line and "rowrange(2)" in line
            data = {f"v{i}": [row[i - 1] for row in rows] for i in range(1, len(rows[0]) + 1)}
        elif m := re.fullmatch(r"rename (\S+) (\S+)", line):
            data[m[2]] = data.pop(m[1])
        elif m := re.fullmatch(r"generate double (\S+) = \.", line):
            data[m[1]] = [None] * len(rows)
        elif m := re.fullmatch(r'generate double (\S+) = date\((\S+), "YMD"\)', line):
            data[m[1]] = [_date(cell, STATA_EPOCH, 1.0) for cell in data[m[2]]]
        elif m := re.fullmatch(r'replace (\S+) = usubstr\(\1, 2, \.\) if ustrregexm\(\1, "([^"]*)"\)', line):
            # ICU's syntax for these patterns is Python's
            data[m[1]] = [cell[1:] if re.search(m[2], cell) else cell for cell in data[m[1]]]
        elif m := re.fullmatch(r'replace (\S+) = (\S+|"[^"]*") if (\S+) == ("[^"]*"|-?\d+)', line):
            new, test = _stata_value(m[2]), _stata_value(m[4])
            data[m[1]] = [
                new if cell == test else old for cell, old in zip(data[m[3]], data[m[1]], strict=True)
            ]
        elif m := re.fullmatch(r"destring (\S+), replace", line):
            data[m[1]] = [float(cell) if cell != "" else None for cell in data[m[1]]]
        elif m := re.fullmatch(r"order (.*)", line):
            data = {name: data[name] for name in m[1].split()}
        elif re.fullmatch(r"format (\S+) %td", line):
            continue
        elif m := re.fullmatch(r"drop (\S+)", line):
            del data[m[1]]
        elif m := re.fullmatch(r'label variable (\S+) "([^"]*)"', line):
            labels[m[1]] = m[2]
        elif m := re.fullmatch(r"label define (\S+) (.*), replace", line):
            pairs = re.findall(r'(\.[a-z]|-?[\d.]+) "([^"]*)"', m[2])
            defined[m[1]] = {_stata_value(v): label for v, label in pairs}
        elif m := re.fullmatch(r"label values (\S+) (\S+)", line):
            assert m[1] in data and m[2] in defined, line  # every label set names a variable that exists
            attached[m[1]] = defined[m[2]]
        elif line:
            raise AssertionError(f"Stata command the check does not know: {line[:60]}")
    return {"data": data, "labels": labels, "values": attached}


def _same(cell, expected) -> bool:
    if expected is None or (isinstance(expected, float) and math.isnan(expected)):
        return cell is None or cell == ""
    return cell == expected  # the CSV's guard against formulas undone, as typed


def test_sps_applied_to_the_csv_builds_the_sav(exported):
    folder, rows = exported
    built = run_sps((folder / "out.csv.sps").read_text(encoding="utf-8"), rows)
    data, meta = pyreadstat.read_sav(
        str(folder / "out.sav"), user_missing=True, disable_datetime_conversion=True
    )
    assert list(built["data"]) == list(data.columns)
    for name in data.columns:
        for i, expected in enumerate(data[name].tolist()):
            assert _same(built["data"][name][i], expected), (name, i, built["data"][name][i], expected)
        assert built["labels"][name] == meta.column_names_to_labels[name]
        assert built["values"].get(name, {}) == meta.variable_value_labels.get(name, {}), name
        expected_ranges = meta.missing_ranges.get(name)
        if expected_ranges and isinstance(expected_ranges[0]["lo"], str):
            expected_ranges = sorted(r["lo"] for r in expected_ranges)
        assert built["ranges"].get(name) == expected_ranges, name
        assert (built["formats"].get(name) == "DATE11") == (meta.original_variable_types[name] == "DATE11")


def test_a_typed_text_equal_to_a_missing_code_stays_an_answer(exported):
    folder, _ = exported
    plain, _ = pyreadstat.read_sav(str(folder / "out.sav"))  # user-missing values read as missing
    assert plain["in"].tolist().count("-97") == 1
    assert plain["in"].isna().sum() == 2  # the two respondents who left it blank


def test_do_file_applied_to_the_csv_builds_the_dta(exported):
    folder, rows = exported
    built = run_do((folder / "out.csv.do").read_text(encoding="utf-8"), rows)
    data, meta = pyreadstat.read_dta(
        str(folder / "out.dta"), user_missing=True, disable_datetime_conversion=True
    )
    assert list(built["data"]) == list(data.columns)
    for name in data.columns:
        for i, expected in enumerate(data[name].tolist()):
            assert _same(built["data"][name][i], expected), (name, i, built["data"][name][i], expected)
        assert built["labels"][name] == meta.column_names_to_labels[name]
        assert built["values"].get(name, {}) == meta.variable_value_labels.get(name, {}), name


@pytest.mark.parametrize("fmt", ["sav", "dta"])
def test_syntax_labels_the_kinds_of_missing_in_the_exports_language(tmp_path, fmt):
    """A Chinese export's .sav/.dta label the kinds of missing in Chinese (``translate``): the
    syntax files too, not in English."""

    def translate(text: str) -> str:
        return f"«{text}»"  # any translation: the files must agree

    export(frames(), study.codebook(), tmp_path / f"out.{fmt}", fmt, language="zh", translate=translate)
    export(
        frames(),
        study.codebook(),
        tmp_path / "out.csv",
        "csv",
        syntax=True,
        language="zh",
        translate=translate,
    )
    with open(tmp_path / "out.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))[1:]
    run, read = (run_sps, pyreadstat.read_sav) if fmt == "sav" else (run_do, pyreadstat.read_dta)
    built = run((tmp_path / f"out.csv.{'sps' if fmt == 'sav' else 'do'}").read_text(encoding="utf-8"), rows)
    _, meta = read(str(tmp_path / f"out.{fmt}"), user_missing=True)
    assert "«Shown, not answered»" in meta.variable_value_labels["q1"].values()
    for name in meta.column_names:
        assert built["values"].get(name, {}) == meta.variable_value_labels.get(name, {}), name


def test_a_list_whose_codes_look_like_numbers_is_not_recoded_twice():
    book = study.codebook()
    colour = book.variable("colour")
    colour.values = {"2": 1, "1": 2}  # "2" becomes 1 and "1" becomes 2: no chain
    colour.value_labels = {"2": colour.value_labels["red"], "1": colour.value_labels["green"]}
    do = statfiles_stata(book)
    assert 'replace colour_n = 1 if colour == "2"' in do and 'replace colour = "2" if' not in do


def statfiles_stata(book) -> str:
    from analysis.syntax import stata_syntax

    return stata_syntax(book, "out.csv")


def test_r_snippet_reads_the_files_written_beside_it(exported):
    from analysis.syntax import r_snippet

    folder, _ = exported
    snippet = r_snippet(study.codebook(), "out.csv")
    for read in re.findall(r'read_\w+\("([^"]+)"', snippet) + re.findall(r'fromJSON\("([^"]+)"', snippet):
        assert (folder / read).exists(), read
    assert snippet.count("(") == snippet.count(")") and snippet.count('"') % 2 == 0
    assert statfiles.file_label(study.codebook().variable("long"), "en", "long_x") == "long: How long?"
    # the guard undone as SPSS and Stata do: R's sub(perl = TRUE) run here as Python's re (same syntax)
    literal = re.search(r'sub\("((?:[^"\\]|\\.)*)", "", x, perl = TRUE\)', snippet)[1]
    pattern = literal.replace("\\\\", "\\")  # R's string escapes: \\t is \t for PCRE
    for text in [*GUARDED, *NUMBERS, "-1", "'tis", "a=b"]:
        assert re.sub(pattern, "", neutralise(text), count=1) == text, text
