"""Small XLSForm workbooks written on the fly for tests."""

from __future__ import annotations

import io

import openpyxl

CHOICES = [["list_name", "name", "label"], ["yn", "yes", "Yes"], ["yn", "no", "No"]]


def workbook(
    survey: list[list[str]],
    *,
    choices: list[list[str]] | None = None,
    settings: list[list[str]] | None = None,
) -> bytes:
    """An .xlsx with a survey sheet (first row the headers), and choices/settings sheets when given."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "survey"
    for row in survey:
        sheet.append(row)
    for title, rows in (("choices", choices), ("settings", settings)):
        if rows is not None:
            extra = book.create_sheet(title)
            for row in rows:
                extra.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
