"""The guard against spreadsheet formulas in CSV and XLSX cells (OWASP, "CSV Injection").

A cell starting with ``= + - @``, a tab or a carriage return is run as a formula by Excel,
LibreOffice and Google Sheets; the exports prefix such text with an apostrophe, which a spreadsheet
reads as "this is text". The guard is reversible, so what reads the CSV into a statistics package
(the syntax files, ``analysis.syntax``) can give the answers as typed.
"""

from __future__ import annotations

from typing import Any

DANGEROUS_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """Text a spreadsheet would run as a formula, prefixed with an apostrophe; anything else unchanged.

    Text that already starts with apostrophes before such a character (``'=x``) gets one more, so
    the guard can always be undone (``unneutralise``): the syntax files do, for SPSS and Stata."""
    if isinstance(value, str) and value.lstrip("'").startswith(DANGEROUS_START):
        return "'" + value
    return value


def unneutralise(value: Any) -> Any:
    """The text ``neutralise`` was given: one apostrophe less on a guarded text."""
    if isinstance(value, str) and value.startswith("'") and value.lstrip("'").startswith(DANGEROUS_START):
        return value[1:]
    return value
