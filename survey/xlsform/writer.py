"""Writing a questionnaire spec as an XLSForm workbook that pyxform converts and ODK Validate accepts.

Standard XLSForm carries what ODK knows (types, labels and hints per language, relevance, constraints,
``parameters`` it accepts: ``start``/``end``/``step`` of a range, ``randomize=true`` of a select).
Candid's extensions go in ``bind::candid:<key>`` columns, which pyxform writes as attributes in the
``candid`` namespace declared in the settings sheet; :func:`survey.xlsform.read_xlsform` reads them back.
"""

from __future__ import annotations

import io
from typing import Any

import openpyxl
from openpyxl.cell.cell import Cell

from ..instrument import normalize
from ..languages import is_private_use, private_use_tag
from .headers import CANDID_NAMESPACE, CANDID_PREFIX

# Parameters pyxform accepts per XLSForm type; every other parameter becomes a candid: column.
PYXFORM_PARAMETERS = {"range": frozenset({"start", "end", "step"})}
SELECT_TYPES = frozenset({"single_choice", "likert", "multiple_choice", "ranking"})
TYPE_CELLS = {
    "single_choice": "select_one {list}",
    "likert": "select_one {list}",
    "multiple_choice": "select_multiple {list}",
    "ranking": "rank {list}",
    "slider": "range",
    "long_text": "text",
}


def _yes(value: bool) -> str:
    return "yes" if value else ""


def _extension_keys(spec: dict[str, Any]) -> list[str]:
    """Parameter keys of the spec that pyxform does not accept for their type, in first-seen order."""
    keys: dict[str, None] = {}
    for section in spec["sections"]:
        for question in section["questions"]:
            for node in [question, *question["items"]]:
                accepted = PYXFORM_PARAMETERS.get(TYPE_CELLS.get(node["type"], node["type"]), frozenset())
                keys.update({key: None for key in node["parameters"] if key not in accepted})
    return list(keys)


# XLSForm columns written only when a question of the spec uses them: (column, spec key).
OPTIONAL_COLUMNS = (
    ("calculation", "calculation"),
    ("choice_filter", "choice_filter"),
    ("default", "default"),
    ("read_only", "read_only"),
)


def _used_columns(spec: dict[str, Any]) -> list[str]:
    nodes = [n for s in spec["sections"] for q in s["questions"] for n in [q, *q["items"]]]
    return [column for column, key in OPTIONAL_COLUMNS if any(node.get(key) for node in nodes)]


def _choice_columns(spec: dict[str, Any]) -> list[str]:
    """The choices sheet's other columns (what choice filters read), in first-seen order."""
    columns: dict[str, None] = {}
    for choice_list in spec["choice_lists"]:
        for choice in choice_list["choices"]:
            columns.update(dict.fromkeys(choice.get("columns", {})))
    return list(columns)


def _text_languages(spec: dict[str, Any], field: str) -> list[str]:
    """The form's languages, then every other language some text of ``field`` is written in (a hint in a
    language without labels), in first-seen order: each gets its column, so no text is left behind."""
    found = dict.fromkeys(spec["languages"])
    for section in spec["sections"]:
        if field == "label":
            found.update(dict.fromkeys(section["label"]))
        for question in section["questions"]:
            for node in [question, *question["items"]]:
                found.update(dict.fromkeys(node.get(field) or {}))
    if field == "label":
        for choice_list in spec["choice_lists"]:
            for choice in choice_list["choices"]:
                found.update(dict.fromkeys(choice["label"]))
    return list(found)


def write_xlsform(spec: dict[str, Any]) -> bytes:
    """The spec as an XLSForm workbook (survey, choices, settings); ``read_xlsform`` reads it back equal."""
    spec = normalize(spec)
    names = spec["language_names"]
    extension_keys = _extension_keys(spec)
    text_languages = {
        field: _text_languages(spec, field) for field in ("label", "hint", "constraint_message")
    }

    def header(base: str, code: str) -> str:
        name = names.get(code, code)
        if is_private_use(code) and private_use_tag(name) == code:
            return f"{base}::{name}"  # as the form wrote it (label::Tetun), which reads back as this tag
        return f"{base}::{name} ({code})" if name != code else f"{base}::{code}"

    def candid(key: str) -> str:
        return f"bind::{CANDID_PREFIX}{key}"

    survey_headers = [
        "type",
        "name",
        *[header("label", code) for code in text_languages["label"]],
        *[header("hint", code) for code in text_languages["hint"]],
        "required",
        "relevant",
        "constraint",
        *[header("constraint_message", code) for code in text_languages["constraint_message"]],
        "appearance",
        "parameters",
        *_used_columns(spec),
        *[candid(key) for key in ("randomize", "reverse", "shuffle", "source", *extension_keys)],
    ]

    workbook = openpyxl.Workbook()
    survey = workbook.active
    survey.title = "survey"
    survey.append(survey_headers)

    def row(**values: Any) -> None:
        _append_text_row(survey, [values.get(h, "") for h in survey_headers])

    def texts(node: dict[str, Any], *bases: str) -> dict[str, str]:
        return {
            header(base, code): node.get(base, {}).get(code, "")
            for base in bases
            for code in text_languages[base]
        }

    def node_cells(node: dict[str, Any], xls_type: str) -> dict[str, str]:
        """Cells every survey row shares: texts, logic, Candid's flags and the parameters."""
        accepted = PYXFORM_PARAMETERS.get(xls_type, frozenset())
        parameters = [
            f"{key}={value}" for key, value in node.get("parameters", {}).items() if key in accepted
        ]
        randomize_cell = candid("randomize")
        if node["randomize"] and xls_type.startswith(("select_one ", "select_multiple ", "rank ")):
            parameters.append("randomize=true")  # ODK's own way: ODK tools randomise the options too
            randomize_cell = ""
        return {
            "type": xls_type,
            "name": node["code"],
            "required": _yes(node.get("required", False)),
            "relevant": node["relevance"],
            "constraint": node.get("constraint", ""),
            "appearance": node.get("appearance", ""),
            "parameters": " ".join(parameters),
            "calculation": node.get("calculation", ""),
            "choice_filter": node.get("choice_filter", ""),
            "default": node.get("default", ""),
            "read_only": _yes(node.get("read_only", False)),
            **({randomize_cell: _yes(node["randomize"])} if randomize_cell else {}),
            candid("reverse"): _yes(node.get("reverse_scale", False)),
            candid("shuffle"): _yes(node.get("shuffle", False)),
            candid("source"): node.get("source", ""),
            **{
                candid(key): value for key, value in node.get("parameters", {}).items() if key not in accepted
            },
            **texts(node, "label", "hint", "constraint_message"),
        }

    def question_row(question: dict[str, Any]) -> None:
        cell = TYPE_CELLS.get(question["type"], question["type"]).format(list=question["choice_list"])
        row(**node_cells(question, cell))

    used_names = {section["code"] for section in spec["sections"]} | {
        node["code"]
        for section in spec["sections"]
        for question in section["questions"]
        for node in (question, *question.get("items", []))
    }
    loose = False  # the previous page was written without a group
    for index, section in enumerate(spec["sections"]):
        if not loose and _loose_page(section, index, used_names):
            # A page of calculations alone has nothing to show: as a group it would be empty, which
            # ODK Validate refuses ("Group has no children"). Outside any group, the reader makes it
            # the same page again (named page_N by its position, as XLSForm's implicit pages are).
            for question in section["questions"]:
                question_row(question)
            loose = True
            continue
        loose = False
        row(**node_cells(section, "begin_group"))
        for question in section["questions"]:
            if question["type"] in {"matrix", "list_experiment"}:
                row(**node_cells(question, "begin_group"))
                for item in question["items"]:
                    question_row(item)
                row(type="end_group")
            else:
                question_row(question)
        row(type="end_group")

    choices = workbook.create_sheet("choices")
    # Candid's own choice columns (pyxform passes unknown choices columns through to the form's
    # itemsets, ODK ignores them): written only when a choice uses them.
    flags = [
        flag
        for flag in ("anchor", "exclusive")
        if any(c.get(flag) for cl in spec["choice_lists"] for c in cl["choices"])
    ]
    extra = _choice_columns(spec)
    choices.append(
        ["list_name", "name", *[header("label", code) for code in text_languages["label"]], *flags, *extra]
    )
    for choice_list in spec["choice_lists"]:
        for choice in choice_list["choices"]:
            _append_text_row(
                choices,
                [
                    choice_list["name"],
                    choice["code"],
                    *[choice["label"].get(code, "") for code in text_languages["label"]],
                    *["yes" if choice.get(flag) else "" for flag in flags],
                    *[choice.get("columns", {}).get(column, "") for column in extra],
                ],
            )

    # pyxform reads form_title in one language only: the default's; the others go in candid:title columns.
    settings = workbook.create_sheet("settings")
    default = spec["default_language"]
    titled = [code for code in spec["title"] if spec["title"][code] and code != default]
    settings.append(
        [
            "form_title",
            *[header("candid:title", code) for code in titled],
            "form_id",
            *(["version"] if spec["form_version"] else []),
            "default_language",
            "namespaces",
        ]
    )
    _append_text_row(
        settings,
        [
            spec["title"].get(default, ""),
            *[spec["title"][code] for code in titled],
            spec["form_id"],
            *([spec["form_version"]] if spec["form_version"] else []),
            header("", default).removeprefix("::") if default else "",
            CANDID_NAMESPACE,
        ],
    )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _append_text_row(worksheet, values: list[Any]) -> None:
    """Append a row whose cells are all text: a label such as "=1+1" stays text, never a formula.

    The cells are made here (not found again after appending): ``worksheet.max_row`` scans every cell,
    which made writing a 5,000-row form quadratic.
    """
    row = []
    for value in values:
        if isinstance(value, str) and value.startswith("="):
            cell = Cell(worksheet, value=value)
            cell.data_type = "s"
            row.append(cell)
        else:
            row.append(value)
    worksheet.append(row)


def _loose_page(section: dict[str, Any], index: int, names: set[str]) -> bool:
    """Whether a page can be written without a group and read back as itself: calculations only,
    nothing of its own to show or decide (label, relevance, flags), and the name the reader gives an
    implicit page at this position (``page_N``, skipping names the form uses)."""
    if not section["questions"] or any(q["type"] != "calculate" for q in section["questions"]):
        return False
    if any(section.get("label", {}).values()) or section.get("relevance") or section.get("randomize"):
        return False
    if section.get("shuffle") or section.get("appearance") or section.get("parameters"):
        return False
    number = index + 1
    while f"page_{number}" in names - {section["code"]}:
        number += 1
    return section["code"] == f"page_{number}"
