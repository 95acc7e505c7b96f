"""XLSForm spreadsheets in and out.

Reading follows the XLSForm standard as pyxform implements it (its aliases for question types
and column headers are used directly), with Candid's documented extensions:

- a group nested in a page with appearance ``table-list`` is a **matrix** (its items share one
  choice list); with appearance ``list_experiment`` it is a **list experiment** whose rows are
  notes with ``parameters`` ``role=control`` or ``role=sensitive``;
- ``select_one`` with appearance ``likert`` is a **Likert item**; ``text`` with ``multiline`` is
  **long text**; ``range`` is a **slider**;
- ``parameters``: ``reverse=yes`` shows a scale reversed to a random half, ``shuffle=yes`` on a
  page lets it change places with the other shuffled pages; column ``randomize`` (yes/no)
  randomises option order (questions) or item order (pages and matrices); column ``source``
  names the instrument an item follows.

Every problem is reported with sheet, row and column; the reader never writes anything.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, BinaryIO

import openpyxl
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException
from pyxform import aliases as pyxform_aliases

from .instrument import (
    CHOICE_TYPES,
    FORMAT,
    Problem,
    QuestionnaireInvalid,
    normalize,
    validate,
)

SUPPORTED_TYPES = (
    "select_one LIST",
    "select_multiple LIST",
    "rank LIST",
    "integer",
    "decimal",
    "text",
    "date",
    "note",
    "range",
    "begin_group / end_group",
)
SUPPORTED_TYPES_TEXT = ", ".join(SUPPORTED_TYPES)
METADATA_TYPES = frozenset(
    {
        "start",
        "end",
        "today",
        "deviceid",
        "imei",
        "subscriberid",
        "simserial",
        "phonenumber",
        "username",
        "email",
        "audit",
        "start-geopoint",
        "background-audio",
    }
)
SURVEY_COLUMNS = (
    "type",
    "name",
    "label",
    "hint",
    "required",
    "relevant",
    "constraint",
    "constraint_message",
    "appearance",
    "parameters",
    "randomize",
    "source",
)
TRANSLATABLE = frozenset({"label", "hint", "constraint_message"})
CHOICES_COLUMNS = ("list_name", "name", "label")
SETTINGS_USED = ("form_title", "form_id", "default_language")
# ODK transport settings that mean nothing to a web survey and change no answer.
SETTINGS_IGNORED = frozenset(
    {
        "version",
        "instance_name",
        "public_key",
        "submission_url",
        "style",
        "omit_instanceid",
        "xml_root",
        "clean_text_values",
        "auto_send",
        "auto_delete",
        "namespaces",
    }
)
HEADER_ALIASES = {
    "relevance": "relevant",
    "caption": "label",
    "constraining_message": "constraint_message",
    "list name": "list_name",
    "name ": "name",
    "set_form_title": "form_title",
    "title": "form_title",
    "set_form_id": "form_id",
    "id_string": "form_id",
}
LANGUAGE_CODES = {
    "english": ("en", "English"),
    "chinese": ("zh", "Chinese"),
    "simplified chinese": ("zh", "Chinese"),
    "中文": ("zh", "中文"),
    "简体中文": ("zh", "简体中文"),
    "swahili": ("sw", "Swahili"),
    "french": ("fr", "French"),
    "spanish": ("es", "Spanish"),
    "german": ("de", "German"),
    "arabic": ("ar", "Arabic"),
    "portuguese": ("pt", "Portuguese"),
    "russian": ("ru", "Russian"),
    "hindi": ("hi", "Hindi"),
    "japanese": ("ja", "Japanese"),
    "korean": ("ko", "Korean"),
}
LANGUAGE_WITH_CODE = re.compile(r"^(?P<name>.+?)\s*\((?P<code>[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]+)*)\)$")
MAX_BLANK_RUN = 500
SPEC_TO_COLUMN = {"relevance": "relevant", "code": "name"}
TRUE_WORDS = frozenset({"yes", "true", "true()", "1", "y"})
FALSE_WORDS = frozenset({"", "no", "false", "false()", "0", "n"})
DEFAULT_LANGUAGE_CODE = "en"

E_NOT_XLSX = "the file is not an .xlsx workbook (save it from Excel or LibreOffice as .xlsx)"
E_NO_SURVEY = "the workbook has no 'survey' sheet"
E_DUPLICATE_COLUMN = "column header {header!r} appears twice (also in column {other})"
E_UNSUPPORTED_COLUMN = "column {header!r} is not supported by Candid; supported columns: {supported}"
E_UNSUPPORTED_TYPE = "question type {type!r} is not supported; supported types: {supported}"
E_METADATA_TYPE = (
    "question type {type!r} records device or time metadata, which Candid never collects so that "
    "participants stay anonymous; supported types: {supported}"
)
E_OR_OTHER = "'or_other' / 'or specify other' is not supported; add an 'other' choice and a text question shown when it is selected"
E_NO_TYPE = "the row has content but no type"
E_NO_NAME = "a {type} needs a name"
E_BAD_BOOLEAN = "{column} must be yes or no, not {value!r}"
PARAMETER_SEPARATOR = re.compile(r"[\s;]+|,\s*(?=[A-Za-z_][\w-]*\s*=)")
E_BAD_PARAMETERS = "parameters must be written as key=value pairs, not {value!r}"
E_UNMATCHED_END = "end_group without a matching begin_group"
E_UNCLOSED_GROUP = "group {name!r} is never closed with end_group"
E_NESTED_GROUP = (
    "group {name!r}: a group inside a page must have appearance 'table-list' (a matrix) or "
    "'list_experiment'; plain nested groups and deeper nesting are not supported"
)
E_TOP_TABLE_LIST = (
    "group {name!r}: a 'table-list' matrix must sit inside a page group (a begin_group around it)"
)
E_LANGUAGE_CODE = (
    "language {name!r} has no code; write the header as '{column}::{name} (xx)' with its ISO code"
)
E_UNKNOWN_SETTING = "setting {name!r} is not supported; supported settings: " + ", ".join(SETTINGS_USED)
E_DUPLICATE_NAME = "name {name!r} is used twice (also in row {other})"
E_DUPLICATE_CHOICE_ROW = "choice {name!r} appears twice in list {list_name!r} (also in row {other})"
E_MATRIX_CHILD = "only select_one questions can stand in matrix {name!r}"


@dataclass
class Column:
    index: int  # 1-based
    header: str
    base: str
    language: str | None  # None: the form's default language

    @property
    def letter(self) -> str:
        return get_column_letter(self.index)


@dataclass
class Sheet:
    title: str
    columns: list[Column]
    rows: list[tuple[int, dict[str, Any]]]  # (row number, {header: value})


@dataclass
class Locations:
    """Where each element came from, so that the validator's problems point at a cell."""

    survey_title: str = "survey"
    choices_title: str = "choices"
    rows: dict[tuple[str, Any], tuple[str, int]] = field(default_factory=dict)
    columns: dict[tuple[str, str], str] = field(default_factory=dict)  # (sheet, field) -> "D (relevant)"

    def locate(self, kind: str, key: Any, column: str) -> str:
        if kind == "form" or key is None:
            return f"sheet {self.survey_title}"
        sheet, row = self.rows.get((kind, key), (self.survey_title, 0))
        where = f"sheet {sheet}, row {row}" if row else f"sheet {sheet}"
        base, sep, language = column.partition("::")
        column = SPEC_TO_COLUMN.get(base, base) + sep + language
        if column:
            where += f", column {self.columns.get((sheet, column), f'{column} (no such column)')}"
        return where


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.date().isoformat() if isinstance(value, datetime) else value.isoformat()
    return str(value).strip()


def _split_header(raw: str) -> tuple[str, str | None]:
    text = raw.strip()
    if "::" in text:
        base, language = text.split("::", 1)
    elif ":" in text and not text.lower().startswith(("jr:", "bind:", "body:", "media:")):
        base, language = text.split(":", 1)
    else:
        base, language = text, None
    base = base.strip().lower()
    base = HEADER_ALIASES.get(base, base)
    return base, (language.strip() if language is not None else None)


def _read_sheet(worksheet, problems: list[Problem]) -> Sheet:
    rows = worksheet.iter_rows(values_only=True)
    header_row = next(rows, None) or ()
    columns: list[Column] = []
    seen: dict[str, str] = {}
    for index, raw in enumerate(header_row, start=1):
        header = _cell_text(raw)
        if not header:
            continue
        base, language = _split_header(header)
        column = Column(index, header, base, language)
        key = f"{base}::{(language or '').lower()}"
        if key in seen:
            problems.append(
                Problem(
                    f"sheet {worksheet.title}, row 1, column {column.letter}",
                    E_DUPLICATE_COLUMN.format(header=header, other=seen[key]),
                    "duplicate_column",
                )
            )
            continue
        seen[key] = column.letter
        columns.append(column)
    data: list[tuple[int, dict[str, Any]]] = []
    blank_run = 0
    for number, values in enumerate(rows, start=2):
        if not any(value not in (None, "") for value in values):
            # Spreadsheets formatted down to row 1,048,576 would otherwise be read to the end.
            blank_run += 1
            if blank_run >= MAX_BLANK_RUN:
                break
            continue
        blank_run = 0
        record = {
            c.header: _cell_text(values[c.index - 1]) if c.index - 1 < len(values) else "" for c in columns
        }
        if any(record.values()):
            data.append((number, record))
    return Sheet(worksheet.title, columns, data)


def _language(name: str | None, default_code: str) -> tuple[str, str] | None:
    """(code, display name) for a header's language part; None when it has no recognisable code."""
    if name is None or name == "":
        return default_code, default_code
    match = LANGUAGE_WITH_CODE.match(name)
    if match:
        return match.group("code").lower().replace("_", "-"), match.group("name").strip()
    lowered = name.lower()
    if lowered in LANGUAGE_CODES:
        return LANGUAGE_CODES[lowered]
    if re.fullmatch(r"[a-z]{2,3}", lowered):
        return lowered, lowered
    return None


@dataclass
class _Reader:
    problems: list[Problem] = field(default_factory=list)
    locations: Locations = field(default_factory=Locations)
    languages: dict[str, str] = field(default_factory=dict)  # code -> display name
    default_code: str = DEFAULT_LANGUAGE_CODE

    def problem(self, sheet: str, row: int, column: Column | str | None, message: str, code: str) -> None:
        where = f"sheet {sheet}, row {row}" if row else f"sheet {sheet}"
        if isinstance(column, Column):
            where += f", column {column.letter} ({column.header})"
        elif column:
            where += f", column {column}"
        self.problems.append(Problem(where, message, code))

    # --- columns ---------------------------------------------------------------------------

    def register_columns(self, sheet: Sheet, allowed: Iterable[str]) -> dict[str, list[Column]]:
        """Group a sheet's columns by field; flag unsupported ones that hold any value."""
        allowed = set(allowed)
        by_field: dict[str, list[Column]] = {}
        for column in sheet.columns:
            if column.base not in allowed:
                if any(record.get(column.header) for _, record in sheet.rows):
                    supported = ", ".join(sorted(allowed))
                    self.problem(
                        sheet.title,
                        1,
                        column,
                        E_UNSUPPORTED_COLUMN.format(header=column.header, supported=supported),
                        "unsupported_column",
                    )
                continue
            if column.base in TRANSLATABLE or column.base == "form_title":
                language = _language(column.language, self.default_code)
                if language is None:
                    self.problem(
                        sheet.title,
                        1,
                        column,
                        E_LANGUAGE_CODE.format(name=column.language, column=column.base),
                        "language_code",
                    )
                    continue
                code, name = language
                if column.base in {"label", "form_title"} and self.languages.get(code, code) == code:
                    self.languages[code] = name
                self.locations.columns[(sheet.title, f"{column.base}::{code}")] = (
                    f"{column.letter} ({column.header})"
                )
                column.language = code
            self.locations.columns.setdefault(
                (sheet.title, column.base), f"{column.letter} ({column.header})"
            )
            by_field.setdefault(column.base, []).append(column)
        return by_field

    def texts(self, record: dict[str, Any], columns: list[Column]) -> dict[str, str]:
        return {c.language: record[c.header] for c in columns if record.get(c.header)}

    def value(self, record: dict[str, Any], by_field: dict[str, list[Column]], name: str) -> str:
        columns = by_field.get(name, [])
        return record.get(columns[0].header, "") if columns else ""

    def boolean(self, sheet: str, row: int, record, by_field, name: str) -> bool:
        raw = self.value(record, by_field, name)
        if raw.lower() in TRUE_WORDS:
            return True
        if raw.lower() not in FALSE_WORDS:
            self.problem(
                sheet,
                row,
                by_field[name][0],
                E_BAD_BOOLEAN.format(column=name, value=raw),
                "bad_boolean",
            )
        return False

    def parameters(self, sheet: str, row: int, record, by_field) -> dict[str, str]:
        raw = self.value(record, by_field, "parameters")
        result: dict[str, str] = {}
        # Pairs are separated by spaces, semicolons or commas (as pyxform reads them), but a comma
        # not followed by another key= belongs to the value: correct=a,b and direct_levels=a,b.
        text = re.sub(r"\s*,\s*", ",", raw.strip())
        for token in PARAMETER_SEPARATOR.split(text) if text else []:
            key, sep, value = token.partition("=")
            if not sep or not key or not value:
                self.problem(
                    sheet,
                    row,
                    by_field["parameters"][0],
                    E_BAD_PARAMETERS.format(value=raw),
                    "bad_parameters",
                )
                return {}
            result[key.strip().lower()] = value.strip()
        return result

    # --- settings and choices ----------------------------------------------------------------

    def read_settings(self, sheet: Sheet | None) -> dict[str, Any]:
        if sheet is None or not sheet.rows:
            return {}
        row, record = sheet.rows[0]
        settings: dict[str, Any] = {"title": {}}
        for column in sheet.columns:
            value = record.get(column.header, "")
            if column.base == "default_language" and value:
                language = _language(value, DEFAULT_LANGUAGE_CODE)
                if language is None:
                    self.problem(
                        sheet.title,
                        row,
                        column,
                        E_LANGUAGE_CODE.format(name=value, column="label"),
                        "language_code",
                    )
                else:
                    self.default_code = language[0]
                    self.languages.setdefault(language[0], language[1])
                    settings["default_language"] = language[0]
        for column in sheet.columns:
            value = record.get(column.header, "")
            if column.base == "form_title":
                language = _language(column.language, self.default_code)
                if language is None:
                    self.problem(
                        sheet.title,
                        row,
                        column,
                        E_LANGUAGE_CODE.format(name=column.language, column="form_title"),
                        "language_code",
                    )
                elif value:
                    settings["title"][language[0]] = value
            elif column.base == "form_id":
                settings["form_id"] = value
            elif column.base == "default_language" or column.base in SETTINGS_IGNORED:
                continue
            elif value:
                self.problem(
                    sheet.title,
                    row,
                    column,
                    E_UNKNOWN_SETTING.format(name=column.header),
                    "unsupported_setting",
                )
        return settings

    def read_choices(self, sheet: Sheet | None) -> list[dict[str, Any]]:
        if sheet is None:
            return []
        self.locations.choices_title = sheet.title
        by_field = self.register_columns(sheet, CHOICES_COLUMNS)
        lists: dict[str, dict[str, Any]] = {}
        for row, record in sheet.rows:
            list_name = self.value(record, by_field, "list_name")
            code = self.value(record, by_field, "name")
            if not list_name or not code:
                self.problem(
                    sheet.title,
                    row,
                    None,
                    "a choice needs a list_name and a name",
                    "choice_incomplete",
                )
                continue
            choice_list = lists.setdefault(list_name, {"name": list_name, "choices": []})
            if ("choice", (list_name, code)) in self.locations.rows:
                other = self.locations.rows[("choice", (list_name, code))][1]
                self.problem(
                    sheet.title,
                    row,
                    by_field["name"][0],
                    E_DUPLICATE_CHOICE_ROW.format(name=code, list_name=list_name, other=other),
                    "duplicate_choice",
                )
                continue
            choice_list["choices"].append(
                {"code": code, "label": self.texts(record, by_field.get("label", []))}
            )
            self.locations.rows.setdefault(("choice", (list_name, code)), (sheet.title, row))
            self.locations.rows.setdefault(("list", list_name), (sheet.title, row))
        return list(lists.values())

    # --- the survey sheet ----------------------------------------------------------------------

    def parse_type(self, sheet: str, row: int, column: Column, raw: str) -> tuple[str, str | None] | None:
        """(Candid type or group marker, choice list) for a type cell, or None after a problem."""
        text = " ".join(raw.lower().split())
        if text.endswith(" or_other") or text.endswith("or specify other"):
            self.problem(sheet, row, column, E_OR_OTHER, "or_other")
            return None
        if text in {"begin group", "begin_group"}:
            return "begin_group", None
        if text in {"end group", "end_group"}:
            return "end_group", None
        if text in {"integer", "decimal", "text", "date", "note"}:
            return text, None
        if text == "range":
            return "slider", None
        for alias, canonical in pyxform_aliases.select.items():
            if alias in pyxform_aliases.select_from_file or canonical not in {
                "select one",
                "select all that apply",
                "rank",
            }:
                continue
            if text.startswith(alias + " ") and len(text.split()) == len(alias.split()) + 1:
                list_name = raw.split()[-1]
                kind = {
                    "select one": "single_choice",
                    "select all that apply": "multiple_choice",
                    "rank": "ranking",
                }[canonical]
                return kind, list_name
        head = text.split(" ")[0]
        if head in METADATA_TYPES:
            self.problem(
                sheet,
                row,
                column,
                E_METADATA_TYPE.format(type=raw, supported=SUPPORTED_TYPES_TEXT),
                "metadata_type",
            )
        else:
            self.problem(
                sheet,
                row,
                column,
                E_UNSUPPORTED_TYPE.format(type=raw, supported=SUPPORTED_TYPES_TEXT),
                "unsupported_type",
            )
        return None

    def read_survey(self, sheet: Sheet) -> list[dict[str, Any]]:
        self.locations.survey_title = sheet.title
        by_field = self.register_columns(sheet, SURVEY_COLUMNS)
        if "type" not in by_field:
            self.problem(sheet.title, 1, None, "the survey sheet has no 'type' column", "no_type_column")
            return []
        type_column = by_field["type"][0]
        sections: list[dict[str, Any]] = []
        implicit: dict[str, Any] | None = None
        stack: list[tuple[dict[str, Any], int, str]] = []  # (node, row, kind: section|matrix|list_experiment)
        names_in_form = {self.value(record, by_field, "name") for _, record in sheet.rows}
        seen_names: dict[str, int] = {}

        def implicit_section() -> dict[str, Any]:
            nonlocal implicit
            if implicit is None:
                number = len(sections) + 1
                code = f"page_{number}"
                while code in names_in_form:
                    number += 1
                    code = f"page_{number}"
                implicit = {"code": code, "label": {}, "questions": []}
                sections.append(implicit)
            return implicit

        for row, record in sheet.rows:
            raw_type = self.value(record, by_field, "type")
            if not raw_type:
                self.problem(sheet.title, row, type_column, E_NO_TYPE, "no_type")
                continue
            parsed = self.parse_type(sheet.title, row, type_column, raw_type)
            if parsed is None:
                continue
            kind, list_name = parsed
            if kind == "end_group":
                if not stack:
                    self.problem(sheet.title, row, type_column, E_UNMATCHED_END, "unmatched_end")
                else:
                    stack.pop()
                continue
            name = self.value(record, by_field, "name")
            if not name:
                self.problem(
                    sheet.title,
                    row,
                    by_field.get("name", [type_column])[0],
                    E_NO_NAME.format(type=raw_type),
                    "no_name",
                )
                continue
            if name in seen_names:
                self.problem(
                    sheet.title,
                    row,
                    by_field["name"][0],
                    E_DUPLICATE_NAME.format(name=name, other=seen_names[name]),
                    "duplicate_code",
                )
                continue
            seen_names[name] = row
            appearance = self.value(record, by_field, "appearance")
            parameters = self.parameters(sheet.title, row, record, by_field)
            common = {
                "code": name,
                "label": self.texts(record, by_field.get("label", [])),
                "relevance": self.value(record, by_field, "relevant"),
                "randomize": self.boolean(sheet.title, row, record, by_field, "randomize")
                if "randomize" in by_field
                else False,
            }
            if kind == "begin_group":
                tokens = appearance.split()
                if not stack:
                    if "table-list" in tokens:
                        self.problem(
                            sheet.title,
                            row,
                            type_column,
                            E_TOP_TABLE_LIST.format(name=name),
                            "top_table_list",
                        )
                    implicit = None
                    section = {
                        **common,
                        "shuffle": parameters.pop("shuffle", "no").lower() in TRUE_WORDS,
                        "questions": [],
                    }
                    sections.append(section)
                    stack.append((section, row, "section"))
                    self.locations.rows[("section", name)] = (sheet.title, row)
                    continue
                if len(stack) > 1 or not ({"table-list", "list_experiment"} & set(tokens)):
                    self.problem(
                        sheet.title,
                        row,
                        type_column,
                        E_NESTED_GROUP.format(name=name),
                        "nested_group",
                    )
                    stack.append(({"code": name, "items": [], "questions": []}, row, "ignored"))
                    continue
                group_type = "list_experiment" if "list_experiment" in tokens else "matrix"
                group = self.question(
                    sheet.title,
                    row,
                    record,
                    by_field,
                    common,
                    group_type,
                    None,
                    appearance,
                    parameters,
                )
                stack[-1][0]["questions"].append(group)
                stack.append((group, row, group_type))
                continue
            question = self.question(
                sheet.title, row, record, by_field, common, kind, list_name, appearance, parameters
            )
            if stack and stack[-1][2] in {"matrix", "list_experiment"}:
                parent = stack[-1][0]
                if parent["type"] == "matrix":
                    if kind != "single_choice":
                        self.problem(
                            sheet.title,
                            row,
                            type_column,
                            E_MATRIX_CHILD.format(name=parent["code"]),
                            "matrix_child",
                        )
                    parent["choice_list"] = parent["choice_list"] or list_name
                parent["items"].append(question)
            elif stack:
                stack[-1][0]["questions"].append(question)
            else:
                implicit_section()["questions"].append(question)
        for node, row, _kind in stack:
            self.problem(
                sheet.title,
                row,
                type_column,
                E_UNCLOSED_GROUP.format(name=node["code"]),
                "unclosed_group",
            )
        return sections

    def question(
        self, sheet, row, record, by_field, common, kind, list_name, appearance, parameters
    ) -> dict[str, Any]:
        tokens = appearance.split()
        if kind == "single_choice" and "likert" in tokens:
            kind = "likert"
        if kind == "text" and "multiline" in tokens:
            kind = "long_text"
        self.locations.rows[("question", common["code"])] = (sheet, row)
        return {
            **common,
            "type": kind,
            "hint": self.texts(record, by_field.get("hint", [])),
            "required": self.boolean(sheet, row, record, by_field, "required")
            if "required" in by_field
            else False,
            "constraint": self.value(record, by_field, "constraint"),
            "constraint_message": self.texts(record, by_field.get("constraint_message", [])),
            "appearance": appearance,
            "reverse_scale": parameters.pop("reverse", "no").lower() in TRUE_WORDS,
            "parameters": parameters,
            "choice_list": list_name if kind in CHOICE_TYPES else None,
            "source": self.value(record, by_field, "source"),
            "items": [],
        }


def _sheets_by_name(workbook) -> dict[str, Any]:
    return {worksheet.title.strip().lower(): worksheet for worksheet in workbook.worksheets}


def read_xlsform(source: str | bytes | BinaryIO) -> dict[str, Any]:
    """Read an XLSForm workbook into a validated, normalised spec.

    Raises :class:`QuestionnaireInvalid` listing every problem with sheet, row and column.
    """
    if isinstance(source, bytes):
        source = io.BytesIO(source)
    try:
        workbook = openpyxl.load_workbook(source, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as error:
        raise QuestionnaireInvalid([Problem("", E_NOT_XLSX, "not_xlsx")]) from error
    try:
        sheets = _sheets_by_name(workbook)
        reader = _Reader()
        if "survey" not in sheets:
            raise QuestionnaireInvalid([Problem("", E_NO_SURVEY, "no_survey_sheet")])
        settings_sheet = _read_sheet(sheets["settings"], reader.problems) if "settings" in sheets else None
        choices_sheet = _read_sheet(sheets["choices"], reader.problems) if "choices" in sheets else None
        survey_sheet = _read_sheet(sheets["survey"], reader.problems)
    finally:
        workbook.close()
    settings = reader.read_settings(settings_sheet)
    choice_lists = reader.read_choices(choices_sheet)
    sections = reader.read_survey(survey_sheet)
    if reader.problems:
        raise QuestionnaireInvalid(reader.problems)
    languages = sorted(reader.languages, key=lambda code: (code != reader.default_code, code))
    spec = normalize(
        {
            "format": FORMAT,
            "form_id": settings.get("form_id", ""),
            "title": settings.get("title", {}),
            "languages": languages,
            "language_names": dict(reader.languages),
            "default_language": reader.default_code
            if reader.default_code in reader.languages
            else (languages[0] if languages else ""),
            "sections": sections,
            "choice_lists": choice_lists,
        }
    )
    problems = validate(spec, reader.locations.locate)
    if problems:
        raise QuestionnaireInvalid(problems)
    return spec


# --- writing -----------------------------------------------------------------------------------


def _yes(value: bool) -> str:
    return "yes" if value else ""


def _parameters_text(parameters: dict[str, str], **flags: bool) -> str:
    items = [f"{key}={value}" for key, value in parameters.items()]
    items += [f"{key}=yes" for key, on in flags.items() if on]
    return " ".join(items)


def write_xlsform(spec: dict[str, Any]) -> bytes:
    """The spec as an XLSForm workbook (survey, choices, settings); ``read_xlsform`` reads it back equal."""
    spec = normalize(spec)
    languages = spec["languages"]
    names = spec["language_names"]

    def header(base: str, code: str) -> str:
        name = names.get(code, code)
        return f"{base}::{name} ({code})"

    survey_headers = [
        "type",
        "name",
        *[header("label", code) for code in languages],
        *[header("hint", code) for code in languages],
        "required",
        "relevant",
        "constraint",
        *[header("constraint_message", code) for code in languages],
        "appearance",
        "parameters",
        "randomize",
        "source",
    ]

    workbook = openpyxl.Workbook()
    survey = workbook.active
    survey.title = "survey"
    survey.append(survey_headers)

    def row(**values: Any) -> None:
        _append_text_row(survey, [values.get(h, "") for h in survey_headers])

    def texts(node: dict[str, Any], base: str) -> dict[str, str]:
        return {header(base, code): node.get(base, {}).get(code, "") for code in languages}

    def question_row(question: dict[str, Any]) -> None:
        qtype = question["type"]
        type_cell = {
            "single_choice": f"select_one {question['choice_list']}",
            "likert": f"select_one {question['choice_list']}",
            "multiple_choice": f"select_multiple {question['choice_list']}",
            "ranking": f"rank {question['choice_list']}",
            "slider": "range",
            "long_text": "text",
        }.get(qtype, qtype)
        row(
            type=type_cell,
            name=question["code"],
            required=_yes(question["required"]),
            relevant=question["relevance"],
            constraint=question["constraint"],
            appearance=question["appearance"],
            randomize=_yes(question["randomize"]),
            parameters=_parameters_text(question["parameters"], reverse=question["reverse_scale"]),
            source=question["source"],
            **texts(question, "label"),
            **texts(question, "hint"),
            **texts(question, "constraint_message"),
        )

    for section in spec["sections"]:
        row(
            type="begin_group",
            name=section["code"],
            relevant=section["relevance"],
            randomize=_yes(section["randomize"]),
            parameters=_parameters_text({}, shuffle=section["shuffle"]),
            **texts(section, "label"),
        )
        for question in section["questions"]:
            if question["type"] in {"matrix", "list_experiment"}:
                row(
                    type="begin_group",
                    name=question["code"],
                    relevant=question["relevance"],
                    required=_yes(question["required"]),
                    constraint=question["constraint"],
                    **texts(question, "constraint_message"),
                    appearance=question["appearance"],
                    randomize=_yes(question["randomize"]),
                    parameters=_parameters_text(question["parameters"], reverse=question["reverse_scale"]),
                    source=question["source"],
                    **texts(question, "label"),
                    **texts(question, "hint"),
                )
                for item in question["items"]:
                    question_row(item)
                row(type="end_group")
            else:
                question_row(question)
        row(type="end_group")

    choices = workbook.create_sheet("choices")
    choices.append(["list_name", "name", *[header("label", code) for code in languages]])
    for choice_list in spec["choice_lists"]:
        for choice in choice_list["choices"]:
            _append_text_row(
                choices,
                [
                    choice_list["name"],
                    choice["code"],
                    *[choice["label"].get(code, "") for code in languages],
                ],
            )

    settings = workbook.create_sheet("settings")
    title_headers = [header("form_title", code) for code in languages if spec["title"].get(code)]
    settings.append([*title_headers, "form_id", "default_language"])
    default = spec["default_language"]
    _append_text_row(
        settings,
        [
            *[spec["title"][code] for code in languages if spec["title"].get(code)],
            spec["form_id"],
            f"{names.get(default, default)} ({default})",
        ],
    )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _append_text_row(worksheet, values: list[Any]) -> None:
    """Append a row whose cells are all text: a label such as "=1+1" stays text, never a formula."""
    worksheet.append(values)
    for cell in worksheet[worksheet.max_row]:
        if isinstance(cell.value, str) and cell.value.startswith("="):
            cell.data_type = "s"
