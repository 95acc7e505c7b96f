"""Sheets as rows of ``{header: text}``, and what each column header means.

A header is ``base``, ``base::language`` or (older forms) ``base:language``; pyxform's namespaced
headers (``bind::relevant``, ``body::appearance``, ``media::image``) and aliases (``relevance``,
``caption``, ``calculation``) are read as pyxform reads them. Candid's own extensions are columns
pyxform passes through as bind attributes (``bind::candid:reverse``), so they survive a trip through
ODK tools. A language is a BCP 47 tag in brackets (``label::简体中文 (zh-CN)``), a bare tag
(``label::zh-CN``), or a language name alone (``label::English``; an unknown one, ``label::Tetun``, as a
private-use tag, ``x-tetun``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from openpyxl.utils import get_column_letter

from ..instrument import Problem, QuestionnaireInvalid
from ..languages import normalize_tag, private_use_tag, tag_for_name
from .limits import E_CELL, E_ROWS, Limits
from .messages import E_UNREADABLE_SHEET

# Candid's extensions, written as bind attributes in the ``candid`` namespace.
CANDID_PREFIX = "candid:"
CANDID_NAMESPACE = 'candid="urn:candid:xlsform"'
# pyxform's binding names (``bind::...`` and its plain aliases) -> Candid's column names.
BIND_COLUMNS = {
    "relevant": "relevant",
    "constraint": "constraint",
    "required": "required",
    "readonly": "read_only",
    "calculate": "calculate",
    "jr:constraintmsg": "constraint_message",
    "jr:requiredmsg": "required_message",
    "jr:noapperrorstring": "no_app_error_string",
}
CONTROL_COLUMNS = {"appearance": "appearance", "jr:count": "repeat_count", "rows": "rows"}
HEADER_ALIASES = {
    "relevance": "relevant",
    "caption": "label",
    "constraining_message": "constraint_message",
    "calculation": "calculate",
    "readonly": "read_only",
    "requiredmsg": "required_message",
    "count": "repeat_count",
    "jr:count": "repeat_count",
    "list name": "list_name",
    "value": "name",
    "tag": "name",
    "command": "type",
    "set_form_title": "form_title",
    "title": "form_title",
    "set_form_id": "form_id",
    "id_string": "form_id",
    "big-image": "media::big-image",
    "image": "media::image",
    "audio": "media::audio",
    "video": "media::video",
}
NAMESPACES = frozenset({"bind", "body", "control", "instance", "media"})
LANGUAGE_WITH_TAG = re.compile(r"^(?P<name>.*?)\s*\((?P<tag>[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*)\)$")
MAX_BLANK_RUN = 500


@dataclass
class Column:
    index: int  # 1-based
    header: str
    base: str
    language: str | None  # None: the form's default language

    @property
    def letter(self) -> str:
        return get_column_letter(self.index)

    def __str__(self) -> str:
        return f"{self.letter} ({self.header})"


@dataclass
class Sheet:
    title: str
    columns: list[Column]
    rows: list[tuple[int, dict[str, Any]]]  # (row number, {header: value})


def cell_text(value: Any, *, as_pyxform: bool = False) -> str:
    """A cell's value as text. A date cell is ``YYYY-MM-DD``, with its time when it has one
    (``2024-05-01 13:45:00``); ``as_pyxform`` writes every date cell as pyxform does (``str()``, so
    midnight too), for the settings sheet, whose ``version`` ODK tools compare as text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return str(value) if as_pyxform or value.time() != time() else value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def split_header(raw: str) -> tuple[str, str | None]:
    """(column name, language part or None) of a header, aliases resolved.

    >>> split_header("bind::relevant"), split_header("label::English (en)"), split_header("image")
    (('relevant', None), ('label', 'English (en)'), ('media::image', None))
    """
    text = " ".join(raw.split())
    if "::" in text:
        base, language = (part.strip() for part in text.split("::", 1))
    elif ":" in text and not text.lower().startswith(("jr:", "candid:")):
        base, language = (part.strip() for part in text.split(":", 1))
    else:
        base, language = text, None
    base = base.lower()
    if base in NAMESPACES and language is not None:
        name, _sep, language = language.partition("::")
        name = name.strip()
        language = language.strip() or None
        if name.lower().startswith(CANDID_PREFIX):
            return CANDID_PREFIX + name[len(CANDID_PREFIX) :].strip().lower(), language
        if base == "media":
            return f"media::{name.lower()}", language
        if base == "bind":
            return BIND_COLUMNS.get(name.lower(), f"bind::{name}"), language
        if base in {"body", "control"}:
            return CONTROL_COLUMNS.get(name.lower(), f"body::{name}"), language
        return f"{base}::{name}", language
    return HEADER_ALIASES.get(base, base), language


def language_of(part: str | None, default: str) -> tuple[str, str]:
    """(BCP 47 tag, display name) for a header's language part.

    ``None`` or empty is the form's default language; ``简体中文 (zh-CN)`` is ``zh-CN`` called
    ``简体中文``; ``zh-cn`` alone is ``zh-CN``; ``English`` and ``Kiswahili`` (names Django's language
    table or Candid's list knows) are ``en`` and ``sw``. Any other name is a language all the same, as
    pyxform takes it: ``Tetun`` is the private-use tag ``x-tetun`` called ``Tetun``
    (:func:`survey.languages.private_use_tag`), and the export writes ``label::Tetun`` back.
    """
    if not part:
        return default, default
    match = LANGUAGE_WITH_TAG.match(part)
    if match:
        tag = normalize_tag(match.group("tag"))
        return tag, match.group("name").strip() or tag
    by_name = tag_for_name(part)
    if by_name:
        return normalize_tag(by_name), part.strip()
    try:
        tag = normalize_tag(part)
    except ValueError:
        return private_use_tag(part), " ".join(part.split())
    return tag, tag


def _rows_read(worksheet) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """The worksheet's rows with their numbers from 1. openpyxl parses a sheet's XML only as its rows
    are read, so whatever it cannot parse (a cell reference past column XFD, malformed XML, a number
    that is not one) is refused here, at the sheet and after the last row read, like any problem of
    the file: the parser's exception is never the answer."""
    rows = worksheet.iter_rows(values_only=True)
    number = 0
    while True:
        try:
            values = next(rows)
        except StopIteration:
            return
        except Exception as error:  # any failure of the parser is a problem of the file
            message = E_UNREADABLE_SHEET.format(row=number, error=str(error) or type(error).__name__)
            raise QuestionnaireInvalid(
                [Problem(f"sheet {worksheet.title}", message, "unreadable_sheet")]
            ) from error
        number += 1
        yield number, values


def read_sheet(
    worksheet, duplicate: Callable[[str, Column, str], None], limits: Limits, *, as_pyxform: bool = False
) -> Sheet:
    """A worksheet's header row and non-empty rows; ``duplicate(sheet, column, other_letter)`` reports a
    repeated header; ``as_pyxform``: date cells as pyxform writes them (:func:`cell_text`).
    Raises :class:`QuestionnaireInvalid` at the first row or cell over ``limits``."""
    rows = _rows_read(worksheet)
    header_row = next(rows, (1, ()))[1] or ()
    columns: list[Column] = []
    seen: dict[str, str] = {}
    for index, raw in enumerate(header_row, start=1):
        header = cell_text(raw)
        if not header:
            continue
        base, language = split_header(header)
        column = Column(index, header, base, language)
        key = f"{base}::{(language or '').lower()}"
        if key in seen:
            duplicate(worksheet.title, column, seen[key])
            continue
        seen[key] = column.letter
        columns.append(column)
    data: list[tuple[int, dict[str, Any]]] = []
    blank_run = 0
    for number, values in rows:
        if not any(value not in (None, "") for value in values):
            # Spreadsheets formatted down to row 1,048,576 would otherwise be read to the end.
            blank_run += 1
            if blank_run >= MAX_BLANK_RUN:
                break
            continue
        blank_run = 0
        if len(data) >= limits.max_rows:
            message = E_ROWS.format(sheet=worksheet.title, limit=f"{limits.max_rows:,}")
            raise QuestionnaireInvalid(
                [Problem(f"sheet {worksheet.title}, row {number}", message, "too_many_rows")]
            )
        record = {
            c.header: cell_text(values[c.index - 1], as_pyxform=as_pyxform)
            if c.index - 1 < len(values)
            else ""
            for c in columns
        }
        for column in columns:
            if len(record[column.header]) > limits.max_cell_chars:
                where = f"sheet {worksheet.title}, row {number}, column {column}"
                message = E_CELL.format(
                    length=f"{len(record[column.header]):,}", limit=f"{limits.max_cell_chars:,}"
                )
                raise QuestionnaireInvalid([Problem(where, message, "cell_too_long")])
        if any(record.values()):
            data.append((number, record))
    return Sheet(worksheet.title, columns, data)
