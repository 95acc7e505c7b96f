"""The questionnaire as plain data (the "spec"), and the checks every questionnaire must pass.

XLSForm, JSON and the database all convert to and from this one shape, so import, export,
preview and publish share a single validator. A spec is a dict::

    {"format": "candid/questionnaire@1", "form_id": str, "form_version": str, "title": {lang: str},
     "languages": [code, ...], "language_names": {code: name}, "default_language": code,
     "sections": [{"code", "label", "relevance", "randomize", "shuffle", "questions": [Q, ...]}],
     "choice_lists": [{"name", "choices": [{"code", "label"[, "anchor": true][, "exclusive": true]
                                             [, "columns": {column: text}]}]}]}

and a question ``Q`` has every key of :data:`QUESTION_DEFAULTS`; matrices and list experiments
carry their items in ``items``. Problems are reported with a location that the caller supplies
(sheet/row/column for XLSForm, a JSON path for JSON, the question code in the admin).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _

from analysis.language_tags import lookup

from .exact_numbers import MAX_INTEGER, exact_problem
from .logic import ExpressionError, parse, piped_codes

FORMAT = "candid/questionnaire@1"
CODE_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,31}$")

QUESTION_TYPES = (
    "single_choice",
    "multiple_choice",
    "likert",
    "matrix",
    "integer",
    "decimal",
    "text",
    "long_text",
    "date",
    "ranking",
    "slider",
    "note",
    "list_experiment",
    "calculate",
)
CHOICE_TYPES = frozenset({"single_choice", "multiple_choice", "likert", "ranking", "matrix"})
GROUP_TYPES = frozenset({"matrix", "list_experiment"})
# Types whose value a relevance expression can read.
ANSWERED_TYPES = frozenset(QUESTION_TYPES) - {"note", "matrix"}
TRANSLATED_FIELDS = ("label", "hint", "constraint_message")
# The columns holding an expression, each of which may name questions as ``${code}``.
EXPRESSION_FIELDS = ("relevance", "constraint", "calculation", "choice_filter")
# Texts a form may leave out in some of its languages: the page shows the default language's instead.
OPTIONAL_TRANSLATIONS = ("hint", "constraint_message")
# Types whose value a ``calculation`` can set (a ``calculate`` stores it without showing it; the
# others show it read-only, as ODK does with a calculation on an input).
CALCULATED_TYPES = frozenset({"calculate", "text", "integer", "decimal", "date"})
# Types whose choices a ``choice_filter`` can filter (on the participant page, by the server).
FILTERED_TYPES = frozenset({"single_choice", "multiple_choice", "likert"})
# Types that take a (static) ``default``.
DEFAULT_TYPES = frozenset(
    {
        "single_choice",
        "multiple_choice",
        "likert",
        "integer",
        "decimal",
        "text",
        "long_text",
        "date",
        "slider",
    }
)
LIST_EXPERIMENT_ROLES = ("control", "sensitive")

QUESTION_DEFAULTS: dict[str, Any] = {
    "code": "",
    "type": "",
    "label": {},
    "hint": {},
    "required": False,
    "relevance": "",
    "constraint": "",
    "constraint_message": {},
    "appearance": "",
    "parameters": {},
    "choice_list": None,
    "randomize": False,
    "reverse_scale": False,
    "source": "",
    "calculation": "",
    "choice_filter": "",
    "default": "",
    "read_only": False,
    "items": [],
}
SECTION_DEFAULTS: dict[str, Any] = {
    "code": "",
    "label": {},
    "relevance": "",
    "randomize": False,
    "shuffle": False,
    "questions": [],
}

# Texts stored in columns of a fixed width (survey.models: QuestionnaireVersion.form_id,
# Question.appearance); a longer one is a problem at its cell, never a database error on saving.
TEXT_LIMITS = {"form_id": 100, "form_version": 100, "appearance": 100}
E_TOO_LONG = _("{field} is {length} characters long; at most {limit} are kept")

# Messages as constants so tests assert them and translators find them in one place.
E_CODE_FORMAT = _(
    "name {code!r} is not a valid variable name (a letter or _, then letters, digits or _, at most 32)"
)
# The names the participant page's form uses for itself (its buttons, its CSRF token, the list of
# questions on screen): a question of that name would send two values and no page could be sent.
PAGE_FORM_NAMES = frozenset({"csrfmiddlewaretoken", "action", "receipt", "page_key", "shown"})
E_RESERVED_CODE = _("name {code!r} is used by the survey page itself ({names}): choose another")
E_DUPLICATE_CODE = _("name {code!r} is used twice (also at {other})")
E_DUPLICATE_CHOICE = _("choice {code!r} appears twice in list {list_name!r}")
E_UNKNOWN_LIST = _("choice list {list_name!r} is not defined in the choices sheet")
E_MISSING_LABEL = _("no {field} in {language} ({code})")
E_EMPTY_LIST = _("choice list {list_name!r} has no choices")
E_BAD_EXPRESSION = _("{field} of {code!r}: {error}")
E_UNKNOWN_REF = _(
    "{field} of {code!r} refers to ${{{ref}}}, which is not a question of this form (at character {position})"
)
E_LATER_REF = _(
    "{field} of {code!r} refers to ${{{ref}}}, which comes later in the form (at character {position})"
)
E_SAME_PAGE_REF = _(
    "{field} of {code!r} pipes ${{{ref}}}, which is answered on the same page: an answer is piped "
    "into the pages after its own (at character {position})"
)
E_PIPE_SYNTAX = _(
    "{field} of {code!r} has a '${{' that is not a reference such as ${{q1}}: put a question's code "
    "between ${{ and }} (at character {position})"
)
E_PIPE_IN_TITLE = _(
    "the form title ({language}) is shown before any answer, so it cannot pipe ${{...}} (at character "
    "{position}); piping works in question labels, hints, constraint messages, choice labels and page titles"
)
E_SELF_REF = _("{field} of {code!r} refers to itself (at character {position})")
E_NOT_ANSWERED_REF = _(
    "{field} of {code!r} refers to ${{{ref}}}, a {type} that holds no answer (at character {position})"
)
E_CURRENT_IN_RELEVANCE = _("{field} of {code!r} uses '.', which only a constraint may use")
E_SLIDER_PARAMETERS = _(
    "slider {code!r} needs numeric parameters start and end with start < end and step > 0"
)
E_MATRIX_ITEMS = _(
    "matrix {code!r} must contain single-choice or Likert items that all use list {list_name!r}"
)
E_LIST_EXPERIMENT = _(
    "list experiment {code!r} needs at least two notes with role=control and exactly one with role=sensitive"
)
E_NESTED_GROUP = _("{code!r}: a {type} cannot contain another group")
E_ATTENTION_TYPE = _(
    "attention check {code!r}: correct= names choice codes, so it needs a single-choice or Likert "
    "question (or a matrix item), not a question of type {type!r}"
)
E_ATTENTION_CODE = _(
    "attention check {code!r}: correct={value!r} names {missing}, not a choice of list {list_name!r} "
    "(its choices: {choices})"
)
ATTENTION_TYPES = frozenset({"single_choice", "likert"})
E_NO_CALCULATION = _("calculate {code!r} needs an expression in the calculation column")
E_CALCULATION_TYPE = _(
    "{code!r}: a calculation can set a calculate, text, integer, decimal or date question, not a {type}"
)
E_CHOICE_FILTER_TYPE = _("{code!r}: a choice_filter can filter a select_one or select_multiple, not a {type}")
E_DEFAULT_TYPE = _("{code!r}: a {type} takes no default")
E_DEFAULT_DYNAMIC = _(
    "default of {code!r} is an expression ({value!r}); Candid takes only a fixed default value: "
    "use a calculation, or compute the value in the analysis"
)
E_DEFAULT_VALUE = _("default of {code!r}: {value!r} is not {expected}")
E_NO_SECTIONS = _("the form has no questions")
E_NO_LANGUAGES = _("the form declares no language")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a questionnaire, where it is, and a stable code for tests."""

    location: str
    message: str
    code: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" if self.location else self.message


class QuestionnaireInvalid(ValueError):
    """Raised with every problem found; nothing has been written when it is raised."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))


# Locator: (kind, key, field) -> human-readable location. kind is "question", "section",
# "choice", "list" or "form"; key is the code, (list, code) for a choice, or the list name.
Locator = Callable[[str, Any, str], str]


def no_location(kind: str, key: Any, field: str) -> str:
    return f"{kind} {key}" + (f", {field}" if field else "") if key else ""


# XLSForm expresses these types through an appearance word; the spec always carries it.
TYPE_APPEARANCE = {
    "likert": "likert",
    "matrix": "table-list",
    "list_experiment": "list_experiment",
    "long_text": "multiline",
}


def plain_copy(value: Any) -> Any:
    """A deep copy of JSON-shaped data (dicts, lists, scalars).

    ``copy.deepcopy``'s memo and bookkeeping made it most of the time of importing a 5,000-row form;
    a spec has no shared or cyclic parts, so a plain recursive copy is equal and several times faster.
    """
    if isinstance(value, dict):
        return {key: plain_copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain_copy(item) for item in value]
    return value


def _copy_without(value: dict[str, Any], nested: str) -> dict[str, Any]:
    """A deep copy of ``value`` but its ``nested`` list, which the caller copies item by item
    (copying it here too copied every question two or three times)."""
    return {key: plain_copy(item) for key, item in value.items() if key != nested}


def normalize_question(question: dict[str, Any]) -> dict[str, Any]:
    normalized = {**plain_copy(QUESTION_DEFAULTS), **_copy_without(question, "items")}
    token = TYPE_APPEARANCE.get(normalized["type"])
    if token and token not in normalized["appearance"].split():
        normalized["appearance"] = f"{token} {normalized['appearance']}".strip()
    normalized["items"] = [normalize_question(item) for item in question.get("items", [])]
    return normalized


CHOICE_FLAGS = ("anchor", "exclusive")


def normalize_choice(choice: dict[str, Any]) -> dict[str, Any]:
    """A choice's code and labels, and each flag only when set: ``anchor`` (randomisation and a
    reversed scale leave it where it is, such as "Don't know" at the end) and ``exclusive`` (in a
    multiple choice, chosen alone, such as "None of these"); ``columns`` ({column: text}, the
    choices sheet's other columns, which a ``choice_filter`` reads) only when there are some."""
    flags = {flag: True for flag in CHOICE_FLAGS if choice.get(flag)}
    columns = {"columns": dict(choice["columns"])} if choice.get("columns") else {}
    return {"code": choice["code"], "label": dict(choice["label"]), **flags, **columns}


def normalize(spec: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``spec`` with every optional key filled in, so that equal forms compare equal."""
    sections = []
    for section in spec.get("sections", []):
        merged = {**plain_copy(SECTION_DEFAULTS), **_copy_without(section, "questions")}
        merged["questions"] = [normalize_question(question) for question in section.get("questions", [])]
        sections.append(merged)
    languages = list(spec.get("languages", []))
    return {
        "format": FORMAT,
        "form_id": spec.get("form_id", ""),
        "form_version": spec.get("form_version", ""),
        "title": dict(spec.get("title", {})),
        "languages": languages,
        "language_names": {code: spec.get("language_names", {}).get(code, code) for code in languages},
        "default_language": spec.get("default_language") or (languages[0] if languages else ""),
        "sections": sections,
        "choice_lists": [
            {
                "name": cl["name"],
                "choices": [normalize_choice(c) for c in cl["choices"]],
            }
            for cl in spec.get("choice_lists", [])
        ],
    }


def iter_questions(spec: dict[str, Any]) -> Iterator[tuple[dict, dict, dict | None]]:
    """(section, question, parent) in document order; items follow their group."""
    for section in spec["sections"]:
        for question in section["questions"]:
            yield section, question, None
            for item in question["items"]:
                yield section, item, question


def validate(spec: dict[str, Any], locate: Locator = no_location) -> list[Problem]:
    """Every problem in a normalised spec; an empty list means the questionnaire is sound."""
    problems: list[Problem] = []

    def add(kind: str, key: Any, field: str, message: str, code: str) -> None:
        problems.append(Problem(locate(kind, key, field), message, code))

    languages = spec["languages"]
    if not languages:
        add("form", None, "", str(E_NO_LANGUAGES), "no_languages")
    if not any(section["questions"] for section in spec["sections"]):
        add("form", None, "", str(E_NO_SECTIONS), "no_questions")
    _check_length("form", None, "form_id", spec.get("form_id", ""), add)
    _check_length("form", None, "form_version", spec.get("form_version", ""), add)
    unwritten = unwritten_languages(spec)
    lists = _validate_choice_lists(spec, languages, add, unwritten)
    order = _validate_names(spec, add)
    for language, title in (spec.get("title") or {}).items():
        for position in _pipe_starts(str(title)):
            add(
                "form",
                None,
                "title",
                E_PIPE_IN_TITLE.format(language=language, position=position + 1),
                "pipe_in_title",
            )
    for section in spec["sections"]:
        _validate_texts(
            "section", section["code"], section, languages, add, required_label=False, unwritten=unwritten
        )
        _validate_section_relevance(section, order, add)
        page_start = _page_start(section, order)
        same_page = {node["code"] for q in section["questions"] for node in [q, *q["items"]]}
        for language, text in (section["label"] or {}).items():
            field = f"label::{language}"
            _check_piping("section", section["code"], field, text, page_start, same_page, order, add)
        for question in section["questions"]:
            for node in [question, *question["items"]]:
                parent = question if node is not question else None
                _validate_question(node, parent, lists, languages, order, add, unwritten)
                _validate_piping(node, lists, page_start, same_page, order, add)
    unique = list(dict.fromkeys(problems))  # a list shared by questions is checked once per question
    problems[:] = unique
    return problems


def _page_start(section: dict[str, Any], order: dict[str, tuple[int, str]]) -> int:
    """The document position of a page's first question: answers before it can be piped into it."""
    positions = [order[q["code"]][0] for q in section["questions"] if q["code"] in order]
    return min(positions) if positions else 10**9


def _pipe_starts(text: str) -> list[int]:
    """Where each ``${`` of a text starts."""
    return [match.start() for match in re.finditer(r"\$\{", text)]


def _check_piping(kind, code, field, text, page_start, same_page, order, add, *, key: Any = None) -> None:
    """A text shown to participants with ``${code}`` piped from answers given on earlier pages: the
    page is drawn from the answers already saved, so an answer on its own page would show blank."""
    text = str(text or "")
    if "${" not in text:
        return
    refs = piped_codes(text)
    well_formed = {position for _ref, position in refs}
    for position in _pipe_starts(text):
        if position not in well_formed:
            message = E_PIPE_SYNTAX.format(field=field, code=code, position=position + 1)
            add(kind, key or code, field, message, "pipe_syntax")
    for ref, position in refs:
        if ref in same_page and order.get(ref, (0, ""))[1] in ANSWERED_TYPES:
            message = E_SAME_PAGE_REF.format(field=field, code=code, ref=ref, position=position + 1)
            add(kind, key or code, field, message, "same_page_reference")
        else:
            _check_ref(kind, code, field, ref, position, page_start, order, add, key=key)


def _validate_piping(question, lists, page_start, same_page, order, add) -> None:
    """Piping in a question's label, hint and constraint message, and in its choices' labels."""
    code = question["code"]
    for field in TRANSLATED_FIELDS:
        for language, text in (question.get(field) or {}).items():
            _check_piping("question", code, f"{field}::{language}", text, page_start, same_page, order, add)
    choice_list = lists.get(question.get("choice_list") or "")
    for choice in (choice_list or {}).get("choices", []):
        key = (choice_list["name"], choice["code"])
        name = f"{choice_list['name']}/{choice['code']}"
        for language, text in (choice["label"] or {}).items():
            _check_piping(
                "choice", name, f"label::{language}", text, page_start, same_page, order, add, key=key
            )


def _check_length(kind: str, key: Any, field: str, value: str, add) -> None:
    limit = TEXT_LIMITS[field]
    if len(value) > limit:
        add(kind, key, field, E_TOO_LONG.format(field=field, length=len(value), limit=limit), "too_long")


def _validate_choice_lists(spec, languages, add, unwritten) -> dict[str, dict]:
    lists: dict[str, dict] = {}
    for choice_list in spec["choice_lists"]:
        name = choice_list["name"]
        lists[name] = choice_list
        if not choice_list["choices"]:
            add("list", name, "", E_EMPTY_LIST.format(list_name=name), "empty_list")
        seen: set[str] = set()
        for choice in choice_list["choices"]:
            key = (name, choice["code"])
            if choice["code"] in seen:
                add(
                    "choice",
                    key,
                    "name",
                    E_DUPLICATE_CHOICE.format(code=choice["code"], list_name=name),
                    "duplicate_choice",
                )
            seen.add(choice["code"])
            if not re.match(r"^[^\s]+$", str(choice["code"])):
                add(
                    "choice",
                    key,
                    "name",
                    f"choice name {choice['code']!r} must be one word without spaces",
                    "choice_code_format",
                )
            given = [lang for lang in languages if str(choice["label"].get(lang, "")).strip()]
            for language in languages:
                if language not in given and (not given or language in unwritten):
                    add(
                        "choice",
                        key,
                        f"label::{language}",
                        E_MISSING_LABEL.format(field=_("label"), language=language, code=choice["code"]),
                        "missing_label",
                    )
    return lists


def _validate_names(spec, add) -> dict[str, tuple[int, str]]:
    """Map of code -> (document position, type); reports bad and duplicate names."""
    order: dict[str, tuple[int, str]] = {}
    first_seen: dict[str, str] = {}
    position = 0
    for section in spec["sections"]:
        _check_name("section", section["code"], first_seen, add)
        order.setdefault(section["code"], (position, "section"))
        for question in section["questions"]:
            for node in [question, *question["items"]]:
                position += 1
                _check_name("question", node["code"], first_seen, add)
                order.setdefault(node["code"], (position, node["type"]))
    return order


def _check_name(kind: str, code: str, first_seen: dict[str, str], add) -> None:
    if not CODE_PATTERN.match(str(code)):
        add(kind, code, "name", E_CODE_FORMAT.format(code=code), "code_format")
    elif kind == "question" and code in PAGE_FORM_NAMES:
        names = ", ".join(sorted(PAGE_FORM_NAMES))
        add(kind, code, "name", E_RESERVED_CODE.format(code=code, names=names), "reserved_code")
    if code in first_seen:
        add(
            kind,
            code,
            "name",
            E_DUPLICATE_CODE.format(code=code, other=first_seen[code]),
            "duplicate_code",
        )
    else:
        first_seen[code] = f"{kind} {code}"


def _validate_texts(kind, code, node, languages, add, *, required_label: bool, unwritten=frozenset()) -> None:
    """A question needs a label (``required_label``) in some language; a label, hint or constraint message
    given in some languages may be missing in others: pyxform only warns (and writes "-"), and the page
    shows the default language's text there (as JavaRosa's localizer falls back to the default
    language); :func:`untranslated` lists them. A language the form has no label in at all
    (``unwritten``: added in the studio, not yet translated) is still unfinished: every label is missing
    there, and publishing refuses it.
    """
    texts = node.get("label") or {}
    given = [lang for lang in languages if str(texts.get(lang, "")).strip()]
    if not (required_label or given):
        return
    for language in languages:
        if language not in given and (not given or language in unwritten):
            add(
                kind,
                code,
                f"label::{language}",
                E_MISSING_LABEL.format(field=_("label"), language=language, code=code),
                "missing_label",
            )


def unwritten_languages(spec: dict[str, Any]) -> frozenset[str]:
    """The form's languages in which no page, question or choice has a label: not a translation with a
    few gaps (accepted, shown in the default language) but one not begun."""
    written: set[str] = set()
    nodes = [*spec["sections"], *(node for _s, node, _p in iter_questions(spec))]
    nodes += [choice for choice_list in spec["choice_lists"] for choice in choice_list["choices"]]
    for node in nodes:
        written.update(lang for lang, text in (node.get("label") or {}).items() if str(text).strip())
    return frozenset(lang for lang in spec["languages"] if lang not in written)


def untranslated(spec: dict[str, Any]) -> list[tuple[str, str, list[str]]]:
    """``(code, field, [languages without it])`` for each page label, question label, hint or constraint
    message and choice label (code ``list/choice``) given in some of the form's languages but not all:
    accepted, and shown in the default language there. Languages without any label
    (:func:`unwritten_languages`) are left out: they are refused, not accepted with gaps."""
    unwritten = unwritten_languages(spec)
    languages = [lang for lang in spec["languages"] if lang not in unwritten]
    nodes: list[tuple[str, dict[str, Any], tuple[str, ...]]] = []
    for section in spec["sections"]:
        nodes.append((section["code"], section, ("label",)))
        for question in section["questions"]:
            for node in [question, *question["items"]]:
                nodes.append((node["code"], node, ("label", *OPTIONAL_TRANSLATIONS)))
    for choice_list in spec["choice_lists"]:
        for choice in choice_list["choices"]:
            nodes.append((f"{choice_list['name']}/{choice['code']}", choice, ("label",)))
    gaps = []
    for code, node, fields in nodes:
        for field in fields:
            texts = node.get(field) or {}
            if any(str(text).strip() for text in texts.values()):
                missing = [lang for lang in languages if not str(texts.get(lang, "")).strip()]
                if missing:
                    gaps.append((code, field, missing))
    return gaps


def read_instead(texts: dict[str, str], default: str) -> str:
    """The language whose text a reader of a language without one gets, as the page picks it
    (:func:`survey.forms.text_in`): the default language's, else the first language that has one. A
    constraint message written only in ``zh-CN`` is what ``en`` readers see, even when ``en`` is the
    default."""
    available = [lang for lang, text in texts.items() if text]
    return lookup([default], available, "") or (available[0] if available else default)


def untranslated_read_instead(spec: dict[str, Any]) -> list[tuple[str, str, list[str], str]]:
    """:func:`untranslated`, each gap with the language its readers see instead (:func:`read_instead`)."""
    texts_of: dict[tuple[str, str], dict[str, str]] = {}
    for section in spec["sections"]:
        texts_of[(section["code"], "label")] = section["label"]
        for question in section["questions"]:
            for node in [question, *question["items"]]:
                for field in ("label", *OPTIONAL_TRANSLATIONS):
                    texts_of[(node["code"], field)] = node.get(field) or {}
    for choice_list in spec["choice_lists"]:
        for choice in choice_list["choices"]:
            texts_of[(f"{choice_list['name']}/{choice['code']}", "label")] = choice["label"]
    default = spec["default_language"]
    return [
        (code, field, missing, read_instead(texts_of.get((code, field), {}), default))
        for code, field, missing in untranslated(spec)
    ]


def _validate_section_relevance(section, order, add) -> None:
    if not section["relevance"]:
        return
    first = next((order[q["code"]][0] for q in section["questions"] if q["code"] in order), None)
    limit = first if first is not None else 10**9
    _check_expression(
        "section",
        section["code"],
        "relevance",
        section["relevance"],
        limit,
        order,
        add,
        allow_self=False,
    )


def _validate_question(question, _parent, lists, languages, order, add, unwritten) -> None:
    code, qtype = question["code"], question["type"]
    if qtype not in QUESTION_TYPES:
        add("question", code, "type", _("unknown type {type!r}").format(type=qtype), "unknown_type")
        return
    _validate_texts(
        "question", code, question, languages, add, required_label=qtype != "calculate", unwritten=unwritten
    )
    _check_length("question", code, "appearance", question["appearance"], add)
    position = order.get(code, (10**9, qtype))[0]
    if question["relevance"]:
        _check_expression(
            "question",
            code,
            "relevance",
            question["relevance"],
            position,
            order,
            add,
            allow_self=False,
        )
    if question["constraint"]:
        _check_expression(
            "question",
            code,
            "constraint",
            question["constraint"],
            position + 1,
            order,
            add,
            allow_self=True,
        )
    _validate_xlsform_columns(question, position, lists, order, add)
    if qtype in CHOICE_TYPES:
        name = question["choice_list"]
        if not name:
            add(
                "question",
                code,
                "type",
                f"{qtype.replace('_', ' ')} {code!r} needs a choice list",
                "missing_list",
            )
        elif name not in lists:
            add("question", code, "type", E_UNKNOWN_LIST.format(list_name=name), "unknown_list")
    if qtype == "slider" and not _slider_ok(question["parameters"]):
        add(
            "question",
            code,
            "parameters",
            E_SLIDER_PARAMETERS.format(code=code),
            "slider_parameters",
        )
    if "correct" in question["parameters"]:
        _validate_attention_check(question, lists, add)
    if qtype in GROUP_TYPES:
        _validate_group(question, add)
    elif question["items"]:
        add(
            "question",
            code,
            "type",
            f"{code!r} is a {qtype} and cannot contain items",
            "items_not_allowed",
        )


def _validate_xlsform_columns(question, position, lists, order, add) -> None:
    """``calculation``, ``choice_filter``, ``default`` and ``read_only`` of one question."""
    code, qtype = question["code"], question["type"]
    if qtype == "calculate" and not question["calculation"].strip():
        add("question", code, "calculation", E_NO_CALCULATION.format(code=code), "no_calculation")
    if question["calculation"]:
        if qtype not in CALCULATED_TYPES:
            message = E_CALCULATION_TYPE.format(code=code, type=qtype.replace("_", " "))
            add("question", code, "calculation", message, "calculation_type")
        else:
            _check_expression(
                "question",
                code,
                "calculation",
                question["calculation"],
                position,
                order,
                add,
                allow_self=False,
            )
    if question["choice_filter"]:
        if qtype not in FILTERED_TYPES:
            message = E_CHOICE_FILTER_TYPE.format(code=code, type=qtype.replace("_", " "))
            add("question", code, "choice_filter", message, "choice_filter_type")
        else:
            _check_expression(
                "question",
                code,
                "choice_filter",
                question["choice_filter"],
                position,
                order,
                add,
                allow_self=False,
                choice_filter=True,
            )
    if question["default"]:
        _validate_default(question, lists, add)


DYNAMIC_DEFAULT = re.compile(r"\$\{|[()\[\]{}]")


def _is_calendar_date(value: str) -> bool:
    """Whether ``YYYY-MM-DD`` names a day that exists (``2024-02-30`` and ``2024-13-45`` do not)."""
    try:
        datetime.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _beyond(whole: str, limit: int) -> bool:
    """Whether the whole number written ``whole`` is beyond ±``limit`` (read without ``int`` when
    longer than the limit: Python refuses to read more than 4,300 digits)."""
    digits = whole.lstrip("-").lstrip("0")
    return len(digits) > len(str(limit)) or abs(int(whole)) > limit


def _validate_default(question, lists, add) -> None:
    """A default is a fixed answer of the question's type: choice codes, a number, a date, a text.

    An expression (``${...}``, a function call, brackets; pyxform's test for a dynamic default) is
    refused: ODK evaluates it on the device when the form opens, which Candid does not do.
    """
    code, qtype, value = question["code"], question["type"], str(question["default"]).strip()
    if qtype not in DEFAULT_TYPES:
        add(
            "question",
            code,
            "default",
            E_DEFAULT_TYPE.format(code=code, type=qtype.replace("_", " ")),
            "default_type",
        )
        return
    if DYNAMIC_DEFAULT.search(value) and qtype not in {"text", "long_text"}:
        add("question", code, "default", E_DEFAULT_DYNAMIC.format(code=code, value=value), "default_dynamic")
        return
    if qtype in {"text", "long_text"}:
        if DYNAMIC_DEFAULT.search(value) and "${" in value:
            add(
                "question",
                code,
                "default",
                E_DEFAULT_DYNAMIC.format(code=code, value=value),
                "default_dynamic",
            )
        return
    expected = ""
    if qtype in FILTERED_TYPES:
        codes = {str(c["code"]) for c in lists.get(question["choice_list"] or "", {}).get("choices", [])}
        given = value.split() if qtype == "multiple_choice" else [value]
        if not given or any(word not in codes for word in given):
            choices = ", ".join(sorted(codes))
            expected = _("a choice of list {list_name!r} (its choices: {choices})").format(
                list_name=question["choice_list"], choices=choices
            )
    elif qtype == "integer" and not re.fullmatch(r"-?\d+", value):
        expected = _("a whole number")
    elif qtype == "integer" and _beyond(value, MAX_INTEGER):
        expected = _("a whole number between -{limit} and {limit}").format(limit=MAX_INTEGER)
    elif qtype in {"decimal", "slider"} and not re.fullmatch(r"-?(\d+(\.\d*)?|\.\d+)", value):
        expected = _("a number")
    elif qtype in {"decimal", "slider"} and (problem := exact_problem(Decimal(value))):
        expected = _("a number every export format keeps exactly ({problem})").format(problem=problem)
    elif qtype == "date" and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        expected = _("a date written YYYY-MM-DD")
    elif qtype == "date" and not _is_calendar_date(value):
        expected = _("a date (no such day in the calendar)")
    if expected:
        add(
            "question",
            code,
            "default",
            E_DEFAULT_VALUE.format(code=code, value=value, expected=expected),
            "default_value",
        )


def _validate_attention_check(question, lists, add) -> None:
    """``parameters`` ``correct=a,b`` (an attention check, ``analysis.quality``): codes of the
    question's own choice list, on a question whose answer is one choice code."""
    code, value = question["code"], str(question["parameters"]["correct"])
    if question["type"] not in ATTENTION_TYPES:
        add(
            "question",
            code,
            "parameters",
            E_ATTENTION_TYPE.format(code=code, type=question["type"]),
            "attention_type",
        )
        return
    choice_list = lists.get(question["choice_list"] or "")
    if choice_list is None:
        return  # the missing or unknown list is reported already
    codes = [str(choice["code"]) for choice in choice_list["choices"]]
    wanted = [c.strip() for c in re.split(r"[,;]", value) if c.strip()]
    missing = [c for c in wanted if c not in codes] or ([] if wanted else ["no code"])
    if missing:
        add(
            "question",
            code,
            "parameters",
            E_ATTENTION_CODE.format(
                code=code,
                value=value,
                missing=", ".join(repr(m) for m in missing) if wanted else "no code",
                list_name=choice_list["name"],
                choices=", ".join(codes),
            ),
            "attention_code",
        )


def _validate_group(question, add) -> None:
    code, items = question["code"], question["items"]
    if any(item["type"] in GROUP_TYPES for item in items):
        add(
            "question",
            code,
            "type",
            E_NESTED_GROUP.format(code=code, type=question["type"]),
            "nested_group",
        )
    if question["type"] == "matrix":
        ok = bool(items) and all(
            item["type"] in {"single_choice", "likert"} and item["choice_list"] == question["choice_list"]
            for item in items
        )
        if not ok:
            add(
                "question",
                code,
                "type",
                E_MATRIX_ITEMS.format(code=code, list_name=question["choice_list"]),
                "matrix_items",
            )
    else:
        roles = [item["parameters"].get("role") for item in items if item["type"] == "note"]
        if (
            len(roles) != len(items)
            or roles.count("sensitive") != 1
            or roles.count("control") < 2
            or not set(roles) <= set(LIST_EXPERIMENT_ROLES)
        ):
            add(
                "question",
                code,
                "type",
                E_LIST_EXPERIMENT.format(code=code),
                "list_experiment_items",
            )


def _slider_ok(parameters: dict[str, Any]) -> bool:
    try:
        start, end = float(parameters["start"]), float(parameters["end"])
        step = float(parameters.get("step", 1))
    except (KeyError, TypeError, ValueError):
        return False
    return start < end and step > 0


def _check_expression(
    kind, code, field, source, limit, order, add, *, allow_self: bool, choice_filter: bool = False
) -> None:
    try:
        expression = parse(source, choice_filter=choice_filter)
    except ExpressionError as error:
        add(
            kind,
            code,
            field,
            E_BAD_EXPRESSION.format(field=field, code=code, error=error),
            "bad_expression",
        )
        return
    if field in {"relevance", "calculation"} and expression.uses_current:
        add(kind, code, field, E_CURRENT_IN_RELEVANCE.format(field=field, code=code), "current_in_relevance")
    for ref, position in expression.references:
        if ref == code and not allow_self:
            add(
                kind,
                code,
                field,
                E_SELF_REF.format(field=field, code=code, position=position + 1),
                "self_reference",
            )
            continue
        _check_ref(kind, code, field, ref, position, limit, order, add, allow_self=allow_self)


def _check_ref(
    kind, code, field, ref, position, limit, order, add, *, allow_self: bool = False, key: Any = None
) -> None:
    if ref not in order or order[ref][1] == "section":
        add(
            kind,
            key or code,
            field,
            E_UNKNOWN_REF.format(field=field, code=code, ref=ref, position=position + 1),
            "unknown_reference",
        )
        return
    ref_position, ref_type = order[ref]
    if ref_type not in ANSWERED_TYPES:
        add(
            kind,
            key or code,
            field,
            E_NOT_ANSWERED_REF.format(
                field=field,
                code=code,
                ref=ref,
                type=ref_type.replace("_", " "),
                position=position + 1,
            ),
            "unanswered_reference",
        )
    elif ref_position >= limit and not (allow_self and ref == code):
        add(
            kind,
            key or code,
            field,
            E_LATER_REF.format(field=field, code=code, ref=ref, position=position + 1),
            "later_reference",
        )


# --- JSON --------------------------------------------------------------------------------------

_TEXTS = "texts"  # {language: text}
_QUESTION_SHAPE: dict[str, Any] = {
    "code": str,
    "type": str,
    "label": _TEXTS,
    "hint": _TEXTS,
    "required": bool,
    "relevance": str,
    "constraint": str,
    "constraint_message": _TEXTS,
    "appearance": str,
    "parameters": "params",
    "choice_list": (str, type(None)),
    "randomize": bool,
    "reverse_scale": bool,
    "source": str,
    "calculation": str,
    "choice_filter": str,
    "default": str,
    "read_only": bool,
    "items": "questions",
}
_SECTION_SHAPE: dict[str, Any] = {
    "code": str,
    "label": _TEXTS,
    "relevance": str,
    "randomize": bool,
    "shuffle": bool,
    "questions": "questions",
}


def _shape_problems(value: Any, shape: Any, path: str) -> list[Problem]:
    def bad(expected: str) -> list[Problem]:
        return [Problem(path, f"expected {expected}, found {type(value).__name__}", "json_shape")]

    if shape == _TEXTS or shape == "params":
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        ):
            return bad("an object of strings")
        return []
    if shape == "questions":
        if not isinstance(value, list):
            return bad("a list")
        return [p for i, q in enumerate(value) for p in _shape_problems(q, _QUESTION_SHAPE, f"{path}[{i}]")]
    if isinstance(shape, dict):
        if not isinstance(value, dict):
            return bad("an object")
        problems = [
            Problem(f"{path}.{key}", "unknown field", "json_unknown_field")
            for key in value
            if key not in shape
        ]
        for key, sub in shape.items():
            if key in value:
                problems += _shape_problems(value[key], sub, f"{path}.{key}")
            elif key in ("code", "type"):
                problems.append(Problem(f"{path}.{key}", "missing", "json_missing"))
        return problems
    types = shape if isinstance(shape, tuple) else (shape,)
    if bool in types and not isinstance(value, bool):
        return bad("true or false")
    if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
        return bad(" or ".join("null" if t is type(None) else t.__name__ for t in types))
    return []


def spec_from_json(data: Any) -> dict[str, Any]:
    """A validated, normalised spec from parsed JSON; problems are located by JSON path."""
    shape = {
        "format": str,
        "form_id": str,
        "form_version": str,
        "title": _TEXTS,
        "languages": list,
        "language_names": _TEXTS,
        "default_language": str,
        "sections": list,
        "choice_lists": list,
    }
    problems = _shape_problems(data, shape, "$")
    if not problems:
        if data.get("format", FORMAT) != FORMAT:
            problems.append(
                Problem(
                    "$.format",
                    f"unsupported format {data['format']!r}; expected {FORMAT!r}",
                    "json_format",
                )
            )
        for i, section in enumerate(data.get("sections", [])):
            problems += _shape_problems(section, _SECTION_SHAPE, f"$.sections[{i}]")
        for i, choice_list in enumerate(data.get("choice_lists", [])):
            problems += _shape_problems(choice_list, {"name": str, "choices": list}, f"$.choice_lists[{i}]")
            for j, choice in enumerate(
                choice_list.get("choices", []) if isinstance(choice_list, dict) else []
            ):
                problems += _shape_problems(
                    choice,
                    {"code": str, "label": _TEXTS, "anchor": bool, "exclusive": bool, "columns": _TEXTS},
                    f"$.choice_lists[{i}].choices[{j}]",
                )
        if not all(isinstance(code, str) for code in data.get("languages", [])):
            problems.append(Problem("$.languages", "expected a list of language codes", "json_shape"))
    if problems:
        raise QuestionnaireInvalid(problems)
    spec = normalize(data)
    problems = validate(spec, _json_locator(spec))
    if problems:
        raise QuestionnaireInvalid(problems)
    return spec


def _json_locator(spec: dict[str, Any]) -> Locator:
    paths: dict[tuple[str, Any], str] = {}
    for i, section in enumerate(spec["sections"]):
        paths[("section", section["code"])] = f"$.sections[{i}]"
        for j, question in enumerate(section["questions"]):
            paths.setdefault(("question", question["code"]), f"$.sections[{i}].questions[{j}]")
            for k, item in enumerate(question["items"]):
                paths.setdefault(("question", item["code"]), f"$.sections[{i}].questions[{j}].items[{k}]")
    for i, choice_list in enumerate(spec["choice_lists"]):
        paths[("list", choice_list["name"])] = f"$.choice_lists[{i}]"
        for j, choice in enumerate(choice_list["choices"]):
            paths.setdefault(
                ("choice", (choice_list["name"], choice["code"])),
                f"$.choice_lists[{i}].choices[{j}]",
            )

    def locate(kind: str, key: Any, field: str) -> str:
        base = paths.get((kind, key), "$")
        return f"{base}.{field}" if field else base

    return locate
