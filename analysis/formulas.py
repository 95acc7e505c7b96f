"""The guard against spreadsheet formulas in CSV cells (OWASP, "CSV Injection").

A cell starting with ``= + - @``, a tab or a carriage return is run as a formula by Excel,
LibreOffice and Google Sheets; the CSV exports prefix such text with an apostrophe, which a
spreadsheet reads as "this is text". A number (``-5``, ``-2.5``, ``+3``, ``1e-3``) is no formula
and is never altered: a spreadsheet reads it as that number. XLSX needs no guard at all: its text
cells are typed strings, which no spreadsheet evaluates (``analysis.xlsx``). The guard is
reversible, so what reads the CSV into a statistics package (the syntax files, ``analysis.syntax``)
can give the answers as typed: ``unneutralise`` (one apostrophe less on a text whose first character
after its apostrophes is a formula trigger) undoes it, because only a bare number goes unguarded —
a typed ``'-5`` is written ``''-5``.
"""

from __future__ import annotations

import re
from typing import Any

DANGEROUS_START = ("=", "+", "-", "@", "\t", "\r")
# A plain decimal number as a spreadsheet reads one; the same pattern is PostgreSQL's (bridge_copy)
NUMBER_PATTERN = r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?"
_NUMBER = re.compile(NUMBER_PATTERN)


def neutralise(value: Any) -> Any:
    """Text a spreadsheet would run as a formula, prefixed with an apostrophe; anything else unchanged.

    Text that already starts with apostrophes before such a character (``'=x``) gets one more, so
    the guard can always be undone (``unneutralise``): the syntax files do, for SPSS and Stata. A
    number (``-5``) is left as it is; typed after apostrophes (``'-5``) it is guarded like any text."""
    if (
        isinstance(value, str)
        and value.lstrip("'").startswith(DANGEROUS_START)
        and not _NUMBER.fullmatch(value)
    ):
        return "'" + value
    return value


def unneutralise(value: Any) -> Any:
    """The text ``neutralise`` was given: one apostrophe less on a guarded text."""
    if isinstance(value, str) and value.startswith("'") and value.lstrip("'").startswith(DANGEROUS_START):
        return value[1:]
    return value
