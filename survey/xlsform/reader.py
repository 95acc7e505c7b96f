"""Reading an XLSForm workbook into Candid's questionnaire spec.

Every problem is reported with sheet, row and column; the reader never writes anything.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import openpyxl
from django.utils.translation import gettext
from pyxform import aliases as pyxform_aliases

from ..computed import unknown_filter_columns
from ..instrument import (
    CHOICE_TYPES,
    FORMAT,
    Problem,
    QuestionnaireInvalid,
    normalize,
    untranslated_read_instead,
    validate,
)
from . import messages as m
from .headers import CANDID_PREFIX, Column, Sheet, language_of, read_sheet
from .limits import check_workbook, current, read_limited
from .or_other import add_other_choice, specify_question, split_or_other

SUPPORTED_TYPES = (
    "select_one LIST",
    "select_one LIST or_other",
    "select_multiple LIST",
    "rank LIST",
    "integer",
    "decimal",
    "text",
    "date",
    "note",
    "range",
    "calculate",
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
REPEAT_TYPES = frozenset(
    {"begin repeat", "begin_repeat", "end repeat", "end_repeat", "begin loop", "end loop"}
)
SURVEY_COLUMNS = (
    "type",
    "name",
    "label",
    "hint",
    "guidance_hint",
    "required",
    "required_message",
    "relevant",
    "constraint",
    "constraint_message",
    "appearance",
    "parameters",
    "randomize",
    "source",
    "calculate",
    "choice_filter",
    "default",
    "read_only",
)
# Columns holding expressions (and the default, which ODK reads as one): pyxform replaces curly
# quotes in them by straight ones, as a spreadsheet's autocorrect puts them there unasked.
EXPRESSION_COLUMNS = ("relevant", "constraint", "calculate", "choice_filter", "default")
CURLY_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})
# Columns real forms use that Candid refuses, each with the reason it gives.
REFUSED_COLUMNS = {
    "repeat_count": m.REASON_REPEAT_COUNT,
    "trigger": m.REASON_TRIGGER,
}
# Accepted and left aside: words for interviewers and ODK's own "required" message, which change no
# answer (Candid shows its own message when an answer is missing).
# So are pyxform's display hints (``body::rows``) and ``instance::`` attributes (tags such as HXL's).
IGNORED_COLUMNS = frozenset({"guidance_hint", "required_message", "no_app_error_string", "rows"})
TRANSLATABLE = frozenset({"label", "hint", "constraint_message", "guidance_hint", "required_message"})
CHOICES_COLUMNS = ("list_name", "name", "label", "anchor", "exclusive")
SETTINGS_USED = ("form_title", "form_id", "default_language", "version")
# ODK transport settings that mean nothing to a web survey and change no answer.
SETTINGS_IGNORED = frozenset(
    {
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
        "allow_choice_duplicates",
        "prefix",
        "delimiter",
        "sms_keyword",
        "sms_separator",
        "sms_allow_media",
        "sms_date_format",
        "sms_datetime_format",
        "sms_response",
        "compact_prefix",
        "compact_delimiter",
        "instance_xmlns",
        "client_editable",
        "flat",  # ODK Tables: an instance without nested group elements; Candid has no instance XML
        # pyxform 4 adds to each select_multiple only the constraint (.='none' or not(selected(.,
        # 'none'))), and no option named none, so its participants see no change.
        "add_none_option",
    }
)
# Candid's extensions as ``bind::candid:<key>`` columns; other keys become parameters.
CANDID_FLAGS = ("reverse", "shuffle", "randomize")
SPEC_TO_COLUMN = {"relevance": "relevant", "code": "name", "calculation": "calculate"}
PARAMETER_SEPARATOR = re.compile(r"[\s;]+|,\s*(?=[A-Za-z_][\w-]*\s*=)")
TRUE_WORDS = frozenset({"yes", "true", "true()", "1", "y"})
FALSE_WORDS = frozenset({"", "no", "false", "false()", "0", "n"})
DEFAULT_LANGUAGE_CODE = "en"


@dataclass
class Locations:
    """Where each element came from, so that the validator's problems point at a cell."""

    survey_title: str = "survey"
    choices_title: str = "choices"
    rows: dict[tuple[str, Any], tuple[str, int]] = field(default_factory=dict)
    columns: dict[tuple[str, str], str] = field(default_factory=dict)  # (sheet, field) -> "D (relevant)"
    settings: dict[str, str] = field(default_factory=dict)  # form field -> its settings cell

    def locate(self, kind: str, key: Any, column: str) -> str:
        if kind == "form" or key is None:
            return self.settings.get(column, f"sheet {self.survey_title}")
        sheet, row = self.rows.get((kind, key), (self.survey_title, 0))
        where = f"sheet {sheet}, row {row}" if row else f"sheet {sheet}"
        base, sep, language = column.partition("::")
        column = SPEC_TO_COLUMN.get(base, base) + sep + language
        if column:
            where += f", column {self.columns.get((sheet, column), f'{column} (no such column)')}"
        return where


@dataclass
class _Reader:
    problems: list[Problem] = field(default_factory=list)
    locations: Locations = field(default_factory=Locations)
    languages: dict[str, str] = field(default_factory=dict)  # code -> display name
    default_code: str = DEFAULT_LANGUAGE_CODE
    or_other_rows: set[int] = field(default_factory=set)  # survey rows of "select_... or_other"
    or_other_lists: list[str] = field(default_factory=list)  # lists that gain the choice "other"
    choice_duplicates_allowed: bool = False  # the settings' allow_choice_duplicates
    choice_columns: list[str] = field(default_factory=list)  # the choices sheet's own columns
    specify_codes: set[str] = field(default_factory=set)  # the "specify other" questions or_other adds

    def duplicate_column(self, sheet: str, column: Column, other: str) -> None:
        message = m.E_DUPLICATE_COLUMN.format(header=column.header, other=other)
        self.problems.append(
            Problem(f"sheet {sheet}, row 1, column {column.letter}", message, "duplicate_column")
        )

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
            candid = column.base.startswith(CANDID_PREFIX) and sheet.title.lower() == "survey"
            # pyxform lets the choices sheet carry columns of its own (what choice filters read).
            extra_choice_column = sheet.title.lower() == "choices" and not (
                column.base in TRANSLATABLE or column.base.startswith("media::")
            )
            ignored = column.base in IGNORED_COLUMNS or column.base.startswith("instance::")
            if column.base not in allowed and not candid and not ignored:
                # Refused where it is first used: a header row alone does not say which question to fix.
                used = next((row for row, record in sheet.rows if record.get(column.header)), None)
                if not extra_choice_column and used is not None:
                    self.refuse_column(sheet.title, used, column, allowed)
                continue
            if column.base in TRANSLATABLE or column.base == "form_title":
                code, name = language_of(column.language, self.default_code)
                if column.base in {"label", "form_title"} and self.languages.get(code, code) == code:
                    self.languages[code] = name
                self.locations.columns[(sheet.title, f"{column.base}::{code}")] = str(column)
                column.language = code
            self.locations.columns.setdefault((sheet.title, column.base), str(column))
            by_field.setdefault(column.base, []).append(column)
        return by_field

    def refuse_column(self, sheet: str, row: int, column: Column, allowed: set[str]) -> None:
        if column.base.startswith("media::"):
            message, code = m.E_MEDIA_COLUMN.format(header=column.header), "media_column"
        elif column.base in REFUSED_COLUMNS:
            reason = REFUSED_COLUMNS[column.base]
            message, code = m.E_REFUSED_COLUMN.format(header=column.header, reason=reason), "refused_column"
        else:
            supported = ", ".join(sorted(allowed - IGNORED_COLUMNS))
            message = m.E_UNSUPPORTED_COLUMN.format(header=column.header, supported=supported)
            code = "unsupported_column"
        self.problem(sheet, row, column, message, code)

    def texts(self, record: dict[str, Any], columns: list[Column]) -> dict[str, str]:
        return {c.language: record[c.header] for c in columns if record.get(c.header)}

    def value(self, record: dict[str, Any], by_field: dict[str, list[Column]], name: str) -> str:
        columns = by_field.get(name, [])
        text = record.get(columns[0].header, "") if columns else ""
        return text.translate(CURLY_QUOTES) if name in EXPRESSION_COLUMNS else text

    def boolean(self, sheet: str, row: int, record, by_field, name: str) -> bool:
        raw = self.value(record, by_field, name)
        if raw.lower() in TRUE_WORDS:
            return True
        if raw.lower() not in FALSE_WORDS:
            self.problem(
                sheet,
                row,
                by_field[name][0],
                m.E_BAD_BOOLEAN.format(column=name, value=raw),
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
                    m.E_BAD_PARAMETERS.format(value=raw),
                    "bad_parameters",
                )
                return {}
            result[key.strip().lower()] = value.strip()
        return result

    def extensions(
        self, sheet: str, row: int, record, by_field, parameters: dict[str, str]
    ) -> dict[str, Any]:
        """Candid's flags, wherever a form writes them; other ``candid:`` columns join ``parameters``.

        ``randomize`` is ODK's ``parameters`` ``randomize=true``, Candid's ``bind::candid:randomize``
        or the older ``randomize`` column; ``reverse`` and ``shuffle`` are ``bind::candid:...`` columns
        or (older Candid exports) parameters; ``source`` is ``bind::candid:source`` or a ``source`` column.
        """
        extra = {
            base[len(CANDID_PREFIX) :]: self.value(record, by_field, base)
            for base in by_field
            if base.startswith(CANDID_PREFIX) and self.value(record, by_field, base)
        }
        flags: dict[str, Any] = {}
        for key in CANDID_FLAGS:
            words = [parameters.pop(key, ""), extra.pop(key, "")]
            flags[key] = any(word.lower() in TRUE_WORDS for word in words if word)
        if "randomize" in by_field:
            flags["randomize"] |= self.boolean(sheet, row, record, by_field, "randomize")
        flags["source"] = extra.pop("source", "") or self.value(record, by_field, "source")
        parameters.update(extra)
        return flags

    def drop_unwritten_languages(
        self, sections: list[dict[str, Any]], choice_lists: list[dict[str, Any]]
    ) -> None:
        """Forget a language whose label column holds no text anywhere, as pyxform, which reads cells,
        never sees it (a template's ``label::French`` left empty): the form is in its other languages.
        Texts written in it (a hint) stay, as texts in a language without labels do."""
        nodes = [*sections, *(c for cl in choice_lists for c in cl["choices"])]
        for section in sections:
            for question in section["questions"]:
                if question["code"] not in self.specify_codes:
                    nodes += [question, *question["items"]]
        written = {code for node in nodes for code, text in node["label"].items() if text}
        if not written:
            return  # nothing labelled at all: the validator names each missing label
        for code in [code for code in self.languages if code not in written]:
            del self.languages[code]
            for section in sections:
                for question in section["questions"]:
                    if question["code"] in self.specify_codes:
                        question["label"].pop(code, None)

    # --- settings and choices ----------------------------------------------------------------

    def read_settings(self, sheet: Sheet | None) -> dict[str, Any]:
        """``{"title": {tag: text}, "form_id", "version"}``; every key optional, as in XLSForm."""
        settings: dict[str, Any] = {"title": {}}
        if sheet is None or not sheet.rows:
            return settings
        row, record = sheet.rows[0]
        for column in sheet.columns:
            value = record.get(column.header, "")
            if column.base == "default_language" and value:
                self.default_code, name = language_of(value, self.default_code)
                self.languages.setdefault(self.default_code, name)
        for column in sheet.columns:
            value = record.get(column.header, "")
            if column.base in {"form_title", f"{CANDID_PREFIX}title"}:
                if value:
                    settings["title"][language_of(column.language, self.default_code)[0]] = value
            elif column.base in {"form_id", "version"}:
                settings[column.base] = value
                where = f"sheet {sheet.title}, row {row}, column {column}"
                self.locations.settings[column.base] = where
                if column.base == "version":
                    self.locations.settings["form_version"] = where
            elif column.base == "allow_choice_duplicates":
                self.choice_duplicates_allowed = value.lower() in TRUE_WORDS
            elif column.base == "default_language" or column.base in SETTINGS_IGNORED:
                continue
            elif value:
                self.problem(
                    sheet.title,
                    row,
                    column,
                    m.E_UNKNOWN_SETTING.format(name=column.header, supported=", ".join(SETTINGS_USED)),
                    "unsupported_setting",
                )
        return settings

    def read_choices(self, sheet: Sheet | None) -> list[dict[str, Any]]:
        if sheet is None:
            return []
        self.locations.choices_title = sheet.title
        by_field = self.register_columns(sheet, CHOICES_COLUMNS)
        # The sheet's other columns (what choice filters read), by their header as written.
        extra = [
            column
            for column in sheet.columns
            if column.base not in CHOICES_COLUMNS
            and column.base not in TRANSLATABLE
            and column.base not in IGNORED_COLUMNS
            and not column.base.startswith(("media::", "instance::"))
        ]
        self.choice_columns = [column.header for column in extra]
        missing = [field for field in ("list_name", "name") if field not in by_field]
        if missing and sheet.rows:
            columns = ", ".join(repr(field) for field in missing)
            self.problem(
                sheet.title, 1, None, m.E_NO_CHOICES_COLUMN.format(columns=columns), "no_choices_column"
            )
            return []
        lists: dict[str, dict[str, Any]] = {}
        for row, record in sheet.rows:
            list_name = self.value(record, by_field, "list_name")
            code = self.value(record, by_field, "name")
            if not list_name or not code:
                self.problem(
                    sheet.title,
                    row,
                    by_field["name" if list_name else "list_name"][0],
                    str(m.E_CHOICE_INCOMPLETE),
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
                    (
                        m.E_DUPLICATE_CHOICE_ALLOWED
                        if self.choice_duplicates_allowed
                        else m.E_DUPLICATE_CHOICE_ROW
                    ).format(name=code, list_name=list_name, other=other),
                    "duplicate_choice",
                )
                continue
            flags = {
                flag: True
                for flag in ("anchor", "exclusive")
                if self.boolean(sheet.title, row, record, by_field, flag)
            }
            columns = {c.header: record[c.header] for c in extra if record.get(c.header)}
            choice_list["choices"].append(
                {
                    "code": code,
                    "label": self.texts(record, by_field.get("label", [])),
                    **flags,
                    **({"columns": columns} if columns else {}),
                }
            )
            self.locations.rows.setdefault(("choice", (list_name, code)), (sheet.title, row))
            self.locations.rows.setdefault(("list", list_name), (sheet.title, row))
        return list(lists.values())

    # --- the survey sheet ----------------------------------------------------------------------

    def parse_type(
        self, sheet: str, row: int, column: Column, raw: str, name: str = ""
    ) -> tuple[str, str | None] | None:
        """(Candid type or group marker, choice list) for a type cell, or None after a problem."""
        text, or_other = split_or_other(" ".join(raw.lower().split()))
        if or_other:
            raw = raw.split()
            raw = " ".join(raw[: len(text.split())])
            parsed = self.parse_type(sheet, row, column, raw, name)
            if parsed is not None and parsed[0] not in {"single_choice", "multiple_choice"}:
                self.problem(sheet, row, column, m.E_OR_OTHER.format(type=raw), "or_other")
                return None
            if parsed is not None:
                self.or_other_rows.add(row)
            return parsed
        if text in REPEAT_TYPES or text.startswith(("begin loop ", "begin_loop ")):
            self.problem(sheet, row, column, m.E_REPEAT.format(type=raw), "repeat")
            return None
        if text in {"begin group", "begin_group"}:
            return "begin_group", None
        if text in {"end group", "end_group"}:
            return "end_group", None
        if text in {"integer", "decimal", "text", "date", "note", "calculate"}:
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
                m.E_METADATA_TYPE.format(type=raw, supported=SUPPORTED_TYPES_TEXT),
                "metadata_type",
            )
        else:
            self.problem(
                sheet,
                row,
                column,
                m.E_UNSUPPORTED_TYPE.format(type=raw, supported=SUPPORTED_TYPES_TEXT),
                "unsupported_type",
            )
        return None

    def read_survey(self, sheet: Sheet) -> list[dict[str, Any]]:
        self.locations.survey_title = sheet.title
        by_field = self.register_columns(sheet, SURVEY_COLUMNS)
        if "type" not in by_field:
            self.problem(sheet.title, 1, None, str(m.E_NO_TYPE_COLUMN), "no_type_column")
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
                self.problem(sheet.title, row, type_column, str(m.E_NO_TYPE), "no_type")
                continue
            parsed = self.parse_type(
                sheet.title, row, type_column, raw_type, self.value(record, by_field, "name")
            )
            if parsed is None:
                continue
            kind, list_name = parsed
            if kind == "end_group":
                if not stack:
                    message = m.E_UNMATCHED_END.format(type=raw_type)
                    self.problem(sheet.title, row, type_column, message, "unmatched_end")
                else:
                    stack.pop()
                continue
            name = self.value(record, by_field, "name")
            if not name:
                self.problem(
                    sheet.title,
                    row,
                    by_field.get("name", [type_column])[0],
                    m.E_NO_NAME.format(type=raw_type),
                    "no_name",
                )
                continue
            if name in seen_names:
                self.problem(
                    sheet.title,
                    row,
                    by_field["name"][0],
                    m.E_DUPLICATE_NAME.format(name=name, other=seen_names[name]),
                    "duplicate_code",
                )
                continue
            seen_names[name] = row
            appearance = self.value(record, by_field, "appearance")
            parameters = self.parameters(sheet.title, row, record, by_field)
            flags = self.extensions(sheet.title, row, record, by_field, parameters)
            common = {
                "code": name,
                "label": self.texts(record, by_field.get("label", [])),
                "relevance": self.value(record, by_field, "relevant"),
                "randomize": flags["randomize"],
            }
            if kind == "begin_group":
                tokens = appearance.split()
                if not stack:
                    if "table-list" in tokens:
                        self.problem(
                            sheet.title,
                            row,
                            type_column,
                            m.E_TOP_TABLE_LIST.format(name=name),
                            "top_table_list",
                        )
                    implicit = None
                    section = {
                        **common,
                        "shuffle": flags["shuffle"],
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
                        m.E_NESTED_GROUP.format(name=name),
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
                    flags,
                )
                stack[-1][0]["questions"].append(group)
                stack.append((group, row, group_type))
                continue
            question = self.question(
                sheet.title, row, record, by_field, common, kind, list_name, appearance, parameters, flags
            )
            if question["choice_filter"]:
                self.check_filter_columns(sheet.title, row, by_field["choice_filter"][0], question)
            specify = None
            if row in self.or_other_rows:
                if question["choice_filter"]:
                    # pyxform refuses it too: the filter would hide "other" or not, unpredictably.
                    self.problem(sheet.title, row, type_column, str(m.E_OR_OTHER_FILTER), "or_other_filter")
                specify = specify_question(question, list(self.languages) or [self.default_code])
                self.specify_codes.add(specify["code"])
                self.locations.rows[("question", specify["code"])] = (sheet.title, row)
                self.or_other_lists.append(list_name)
            if stack and stack[-1][2] in {"matrix", "list_experiment"}:
                parent = stack[-1][0]
                if specify:
                    self.problem(
                        sheet.title,
                        row,
                        type_column,
                        m.E_OR_OTHER_GROUP.format(name=parent["code"]),
                        "or_other",
                    )
                if parent["type"] == "matrix":
                    if kind != "single_choice":
                        self.problem(
                            sheet.title,
                            row,
                            type_column,
                            m.E_MATRIX_CHILD.format(name=parent["code"]),
                            "matrix_child",
                        )
                    parent["choice_list"] = parent["choice_list"] or list_name
                parent["items"].append(question)
            elif stack:
                stack[-1][0]["questions"] += [question, *([specify] if specify else [])]
            else:
                implicit_section()["questions"] += [question, *([specify] if specify else [])]
        for node, row, _kind in stack:
            self.problem(
                sheet.title,
                row,
                type_column,
                m.E_UNCLOSED_GROUP.format(name=node["code"]),
                "unclosed_group",
            )
        return sections

    def check_filter_columns(self, sheet: str, row: int, column: Column, question: dict[str, Any]) -> None:
        """A choice filter reads only ``name`` and the choices sheet's own columns: a column the sheet
        does not have would be empty for every choice and hide them all, so it is refused here. A
        filter that does not parse is left to the validator, which names the fault."""
        known = ["name", *self.choice_columns]
        for name in unknown_filter_columns(question["choice_filter"], known):
            message = m.E_FILTER_NO_COLUMN.format(
                column=name, sheet=self.locations.choices_title or "choices", columns=", ".join(known)
            )
            self.problem(sheet, row, column, message, "choice_filter_column")

    def question(
        self, sheet, row, record, by_field, common, kind, list_name, appearance, parameters, flags
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
            "reverse_scale": flags["reverse"],
            "parameters": parameters,
            "choice_list": list_name if kind in CHOICE_TYPES else None,
            "source": flags["source"],
            "calculation": self.value(record, by_field, "calculate"),
            "choice_filter": self.value(record, by_field, "choice_filter"),
            "default": self.value(record, by_field, "default"),
            "read_only": self.boolean(sheet, row, record, by_field, "read_only")
            if "read_only" in by_field
            else False,
            "items": [],
        }


def _sheets_by_name(workbook) -> dict[str, Any]:
    """The workbook's sheets by lower-cased name; a workbook of one sheet, whatever its name, is the
    survey sheet, as pyxform reads it (``Sheet1`` saved from a blank spreadsheet)."""
    sheets = {worksheet.title.strip().lower(): worksheet for worksheet in workbook.worksheets}
    if len(workbook.worksheets) == 1 and "survey" not in sheets:
        return {"survey": workbook.worksheets[0]}
    return sheets


def untranslated_cells(spec: dict[str, Any], locate) -> list[Problem]:
    """A notice (code ``untranslated``) at each cell :func:`survey.instrument.untranslated` finds empty:
    a label, hint or constraint message missing in a language, shown in the default language there."""
    sections = {section["code"] for section in spec["sections"]}
    fields = {
        "label": gettext("label"),
        "hint": gettext("hint"),
        "constraint_message": gettext("message when not accepted"),
    }
    notices = []
    for code, text_field, languages, shown in untranslated_read_instead(spec):
        if "/" in code:
            kind, key = "choice", tuple(code.split("/", 1))
        else:
            kind, key = ("section" if code in sections else "question"), code
        for language in languages:
            message = m.N_UNTRANSLATED.format(field=fields[text_field], language=language, default=shown)
            notices.append(Problem(locate(kind, key, f"{text_field}::{language}"), message, "untranslated"))
    return notices


def read_xlsform(
    source: str | Path | bytes | BinaryIO, *, name: str = "", notices: list[Problem] | None = None
) -> dict[str, Any]:
    """Read an XLSForm workbook (a path, its bytes or a binary file) into a validated, normalised spec.

    The upload limits (:mod:`survey.xlsform.limits`) are checked before anything is parsed. The
    settings sheet and each of its keys are optional: the title is ``form_title``, else ``form_id``,
    else ``name`` (the file name) without its extension, in the default language.
    Raises :class:`QuestionnaireInvalid` listing every problem with sheet, row and column. What is
    accepted with a notice (a text missing in a language: :func:`untranslated_cells`) is appended to
    ``notices`` when given, each with its sheet, row and column.
    """
    if isinstance(source, str | Path):
        name = name or Path(source).name
        source = read_limited(source)
    elif not isinstance(source, bytes):
        source = source.read(current().max_bytes + 1)  # no further: over the limit is refused below
    limits = check_workbook(source)
    reader = _Reader()
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(source), read_only=True, data_only=True)
    except Exception as error:  # whatever the parser meets, the file is not a workbook
        raise QuestionnaireInvalid([Problem("", str(m.E_NOT_XLSX), "not_xlsx")]) from error
    try:
        sheets = _sheets_by_name(workbook)
        if "survey" not in sheets:
            raise QuestionnaireInvalid([Problem("", str(m.E_NO_SURVEY), "no_survey_sheet")])
        read = {
            title: read_sheet(sheets[title], reader.duplicate_column, limits, as_pyxform=title == "settings")
            if title in sheets
            else None
            for title in ("settings", "choices", "survey")
        }
    finally:
        workbook.close()
    settings = reader.read_settings(read["settings"])
    choice_lists = reader.read_choices(read["choices"])
    sections = reader.read_survey(read["survey"])
    by_name = {choice_list["name"]: choice_list for choice_list in choice_lists}
    reader.drop_unwritten_languages(sections, choice_lists)
    for list_name in reader.or_other_lists:
        if list_name in by_name:
            add_other_choice(by_name[list_name], list(reader.languages) or [reader.default_code])
    if reader.problems:
        raise QuestionnaireInvalid(reader.problems)
    languages = sorted(reader.languages, key=lambda code: (code != reader.default_code, code))
    default = (
        reader.default_code
        if reader.default_code in reader.languages
        else (languages[0] if languages else "")
    )
    title = settings["title"] or {default: settings.get("form_id") or Path(name).stem}
    spec = normalize(
        {
            "format": FORMAT,
            "form_id": settings.get("form_id", ""),
            "form_version": settings.get("version", ""),
            "title": {code: text for code, text in title.items() if text},
            "languages": languages,
            "language_names": dict(reader.languages),
            "default_language": default,
            "sections": sections,
            "choice_lists": choice_lists,
        }
    )
    problems = validate(spec, reader.locations.locate)
    if problems:
        raise QuestionnaireInvalid(problems)
    if notices is not None:
        notices += untranslated_cells(spec, reader.locations.locate)
    return spec
