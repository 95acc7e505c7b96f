"""Aggregate tables for download (``analysis.aggregates``): the formula guard is the CSV's only."""

from __future__ import annotations

import csv
import io

import openpyxl
import pandas as pd

from analysis.aggregates import write_csv, write_xlsx

ROW = {"question": "q", "variable": "q", "label": "=1+1 people", "statistic": "share", "level": "-1"}
ROW |= {"level_label": "-5 apples", "estimate": 0.5}
PAYLOAD = {"table": [ROW], "n": 20, "k": 5, "data": "real"}
NOTES = {"title": "@title", "study": "s"}


def test_xlsx_cells_hold_texts_as_typed_and_csv_guards_formulas_but_not_numbers():
    book = openpyxl.load_workbook(io.BytesIO(write_xlsx(PAYLOAD, NOTES)))
    sheet = book.worksheets[1]
    header = [c.value for c in sheet[3]]
    row = {name: cell for name, cell in zip(header, sheet[4], strict=True)}
    assert row["label"].value == "=1+1 people" and row["label"].data_type == "s"
    assert row["level_label"].value == "-5 apples" and row["level"].value == "-1"
    assert book["notes"]["B1"].value == "@title (s)"
    lines = write_csv(PAYLOAD, NOTES).splitlines()
    read = next(csv.DictReader(lines))
    assert read["label"] == "'=1+1 people" and read["level_label"] == "'-5 apples" and read["level"] == "-1"


def test_the_csv_reads_plainly_with_whole_counts_notes_and_tests():
    """The header is the first line (no comment line for pandas or R to trip on; synthetic data say
    so in the ``data`` column); counts are integers, not 280.0; an empty figure says why; a
    Rao–Scott test is a row with its p-value, NA where a table of one column has no test."""
    median = {"question": "age", "variable": "age", "statistic": "median", "n": 12.0, "estimate": None}
    median |= {"suppressed": True, "note": "value"}
    alpha = {"question": "t", "variable": "t", "statistic": "alpha", "n": 1.0, "estimate": None}
    alpha |= {"suppressed": False, "note": "too_few_answers"}
    share = ROW | {
        "n": 280.0,
        "suppressed": False,
        "group_variable": "sample",
        "group_variable_label": "Sample",
    }
    tests = [
        {"variable": "q", "by": "sample", "f": 3.2, "ndf": 1.9, "ddf": 550.0, "p_value": 0.04},
        {"variable": "q", "by": "urban", "not_applicable": "one_column"},
    ]
    item = {"question": "q", "kind": "distribution", "label": "Q", "variables": ["q"], "tests": tests}
    payload = {**PAYLOAD, "data": "synthetic", "table": [share, median, alpha], "items": [item]}
    text = write_csv(payload, NOTES)
    frame = pd.read_csv(io.StringIO(text), keep_default_na=False, na_values=[""])
    assert set(frame["data"]) == {"synthetic"}
    assert text.splitlines()[1].split(",")[frame.columns.get_loc("n")] == "280"
    assert frame["n"].dtype.kind == "i" or frame["n"].isna().any()
    notes = dict(zip(frame["statistic"], frame["note"].fillna(""), strict=False))
    assert notes["median"].startswith("suppressed") and notes["alpha"] == "not estimable: too few answers"
    p = frame[frame["statistic"] == "rao_scott_p"].set_index("group_variable")
    assert p.at["sample", "estimate"] == 0.04 and "F = 3.2 on 1.9 and 550 df" in p.at["sample", "note"]
    assert pd.isna(p.at["urban", "estimate"]) and p.at["urban", "note"].startswith("not applicable")
    book = openpyxl.load_workbook(io.BytesIO(write_xlsx(payload, NOTES)))
    sheet = book["tests"]
    assert (
        sheet["A1"].value == "Rao–Scott tests of independence" and sheet.max_row == 5
    )  # title, gap, header, 2


def test_an_indirect_estimate_says_what_it_is_and_that_it_is_not_cut_off():
    """A list experiment's rows are labelled by the sensitive statement, the direct question's by its
    answers and the difference as one, not by the counting question alone; an estimate or CI outside
    0 to 1 (a difference of two means) is noted as not cut off, one inside it is not."""
    count = "How many of these do you agree with?"
    common = {"question": "le", "variable": "le", "label": count, "level": None, "suppressed": False}
    indirect = common | {"statistic": "list_experiment", "estimate": -0.02, "ci_low": -0.3, "ci_high": 0.26}
    inside = indirect | {"group": "west", "estimate": 0.2, "ci_low": 0.05, "ci_high": 0.35}
    direct = common | {"variable": "approve", "label": "Do you approve?", "statistic": "direct"}
    direct |= {"level": "in", "level_label": "Yes", "estimate": 0.7, "ci_low": 0.6, "ci_high": 0.8}
    gap = common | {"statistic": "difference", "estimate": -0.72, "ci_low": -1.1, "ci_high": -0.34}
    item = {"question": "le", "kind": "list_experiment", "label": count, "variables": ["le"]}
    item |= {"sensitive": "I approve of the scheme."}
    payload = {**PAYLOAD, "table": [indirect, inside, direct, gap], "items": [item]}
    rows = list(csv.DictReader(io.StringIO(write_csv(payload, NOTES))))
    labels = [row["level_label"] for row in rows]
    assert labels == [
        "“I approve of the scheme.” — indirect estimate (list experiment)",
        "“I approve of the scheme.” — indirect estimate (list experiment)",
        "Yes — direct question",
        "difference, indirect − direct (below 0: the direct question overstates)",
    ]
    assert [row["label"] for row in rows] == [count, count, "Do you approve?", count]
    notes = [row["note"] for row in rows]
    assert notes[0].startswith("outside 0 to 1 as computed") and notes[1:] == ["", "", ""]


def test_a_p_value_below_the_floor_and_a_determined_table_in_the_files():
    """The XLSX shows a p-value under 0.0001 as "< 0.0001" (a number still, four decimals else: the
    page's rule) and the CSV keeps the float; a table the breakdown determines has no test, with
    why in the note (its statistic read F = 7e19)."""
    tests = [
        {"variable": "q", "by": "sample", "f": 3.2, "ndf": 1.0, "ddf": 998.0, "p_value": 1.7e-186},
        {"variable": "q", "by": "region", "f": 2.1, "ndf": 1.9, "ddf": 990.0, "p_value": 0.0321},
        {"variable": "q", "by": "live", "not_applicable": "determined"},
    ]
    item = {"question": "q", "kind": "distribution", "label": "Q", "variables": ["q"], "tests": tests}
    payload = {**PAYLOAD, "items": [item]}
    frame = pd.read_csv(io.StringIO(write_csv(payload, NOTES)), keep_default_na=False, na_values=[""])
    p = frame[frame["statistic"] == "rao_scott_p"].set_index("group_variable")
    assert p.at["sample", "estimate"] == 1.7e-186 and pd.isna(p.at["live", "estimate"])
    assert p.at["live", "note"].startswith("not applicable: each group gave one answer only")
    sheet = openpyxl.load_workbook(io.BytesIO(write_xlsx(payload, NOTES)))["tests"]
    header = [c.value for c in sheet[3]]
    cells = {
        row[header.index("group_variable")].value: row[header.index("estimate")] for row in sheet.iter_rows(4)
    }
    assert cells["sample"].value == 1.7e-186 and cells["sample"].number_format == '[<0.0001]"< 0.0001";0.0000'
    assert cells["region"].number_format == cells["sample"].number_format and cells["live"].value is None
