"""The streamed XLSX writer (``analysis.xlsx``), read back by openpyxl."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pandas as pd

from analysis.xlsx import Workbook


def test_only_dates_excel_can_show_are_date_cells(tmp_path):
    """A missing code in a date column (-97, which pandas parses as the year -97) and a date before
    March 1900 (Excel's serials there are off by its 1900 leap day) stay text, not broken dates."""
    path = tmp_path / "dates.xlsx"
    column = ["2024-02-29", "-97", None, "1890-01-01", "1900-03-01", "-98"]
    with Workbook(path, ["responses"]) as book:
        book.write(0, pd.DataFrame({"when": column}), {"when"})
    cells = [row[0] for row in openpyxl.load_workbook(path)["responses"].iter_rows()]
    assert [c.value for c in cells] == [
        dt.datetime(2024, 2, 29),
        "-97",
        None,
        "1890-01-01",
        dt.datetime(1900, 3, 1),
        "-98",
    ]
