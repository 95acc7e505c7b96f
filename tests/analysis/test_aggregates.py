"""Aggregate tables for download (``analysis.aggregates``): the formula guard is the CSV's only."""

from __future__ import annotations

import csv
import io

import openpyxl

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
    lines = write_csv(PAYLOAD, NOTES).splitlines()[1:]
    read = next(csv.DictReader(lines))
    assert read["label"] == "'=1+1 people" and read["level_label"] == "'-5 apples" and read["level"] == "-1"
