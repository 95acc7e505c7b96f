"""The changes a researcher makes to a draft questionnaire, as pure functions on its spec.

Each function takes a normalised spec (see :mod:`survey.instrument`) and returns a changed copy, or
raises :class:`EditError` when the change cannot be made at all (an unknown code, a list still in
use). Whether the result is a sound questionnaire is the validator's business: the service that
applies a change (``survey.services.drafts.draft_change``) validates the whole spec afterwards, so every
kind of edit is checked by the same rules as an import.

Renaming a question updates every ``${code}`` that refers to it (relevance, constraints, piped
labels); renaming a choice list updates the questions that use it.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy

from .instrument import (
    EXPRESSION_FIELDS,
    QUESTION_DEFAULTS,
    SECTION_DEFAULTS,
    TRANSLATED_FIELDS,
    iter_questions,
    normalize_choice,
)

E_NO_QUESTION = gettext_lazy("there is no question {code!r} in this version")
E_NO_PAGE = gettext_lazy("there is no page {code!r} in this version")
E_NO_LIST = gettext_lazy("there is no choice list {name!r} in this version")
E_NOT_A_GROUP = gettext_lazy("{code!r} is not a matrix or list experiment, so it holds no items")
E_LIST_IN_USE = gettext_lazy("choice list {name!r} is used by {codes}; give them another list first")
E_PAGE_NOT_EMPTY = gettext_lazy("page {code!r} still holds {count} question(s); move or delete them first")
E_LAST_PAGE = gettext_lazy("the questionnaire needs at least one page")


class EditError(ValueError):
    """A change that cannot be made to this spec; ``code`` is stable for tests."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True)
class Place:
    """Where a question sits: its page, the list holding it, its index there, and its group if any."""

    section: dict[str, Any]
    holder: list[dict[str, Any]]
    index: int
    parent: dict[str, Any] | None


def locate(spec: dict[str, Any], code: str) -> Place:
    for section in spec["sections"]:
        for index, question in enumerate(section["questions"]):
            if question["code"] == code:
                return Place(section, section["questions"], index, None)
            for item_index, item in enumerate(question["items"]):
                if item["code"] == code:
                    return Place(section, question["items"], item_index, question)
    raise EditError(E_NO_QUESTION.format(code=code), "no_question")


def page(spec: dict[str, Any], code: str) -> dict[str, Any]:
    for section in spec["sections"]:
        if section["code"] == code:
            return section
    raise EditError(E_NO_PAGE.format(code=code), "no_page")


def _reference_pattern(code: str) -> re.Pattern[str]:
    return re.compile(r"\$\{\s*" + re.escape(code) + r"\s*\}")


def rename_references(spec: dict[str, Any], old: str, new: str) -> None:
    """Point every ``${old}`` of the spec at ``new``, in place: every expression column (relevance,
    constraint, calculation, choice filter) and every piped text (of pages, questions and choices)."""
    pattern = _reference_pattern(old)
    replacement = "${" + new + "}"
    nodes: list[dict[str, Any]] = [
        *spec["sections"],
        *(q for _, q, _ in iter_questions(spec)),
        *(c for choice_list in spec["choice_lists"] for c in choice_list["choices"]),
    ]
    for node in nodes:
        for field in EXPRESSION_FIELDS:
            if node.get(field):
                node[field] = pattern.sub(replacement, node[field])
        for field in TRANSLATED_FIELDS:
            texts = node.get(field) or {}
            for language, text in texts.items():
                texts[language] = pattern.sub(replacement, text)


def question_put(
    spec: dict[str, Any],
    *,
    original: str | None,
    page_code: str,
    parent_code: str | None,
    question: dict[str, Any],
) -> dict[str, Any]:
    """Add ``question`` at the end of a page (or of a group's items), or replace question ``original``.

    A replaced question keeps its items and its place, unless ``page_code`` names another page, where
    it moves to the end. Renaming it updates every reference to it.
    """
    spec = copy.deepcopy(spec)
    fields = {key: copy.deepcopy(question.get(key, default)) for key, default in QUESTION_DEFAULTS.items()}
    if original is None:
        fields["items"] = []
        if parent_code:
            parent = locate(spec, parent_code)
            group = parent.holder[parent.index]
            if group["type"] not in {"matrix", "list_experiment"}:
                raise EditError(E_NOT_A_GROUP.format(code=parent_code), "not_a_group")
            group["items"].append(fields)
        else:
            page(spec, page_code)["questions"].append(fields)
        return spec
    place = locate(spec, original)
    fields["items"] = place.holder[place.index]["items"]
    if fields["type"] == "matrix":  # a matrix's rows share its scale
        for item in fields["items"]:
            item["choice_list"] = fields["choice_list"]
    if place.parent is None and page_code != place.section["code"]:
        target = page(spec, page_code)
        del place.holder[place.index]
        target["questions"].append(fields)
    else:
        place.holder[place.index] = fields
    if fields["code"] != original:
        rename_references(spec, original, fields["code"])
    return spec


def question_remove(spec: dict[str, Any], code: str) -> dict[str, Any]:
    """Delete a question (a group with its items)."""
    spec = copy.deepcopy(spec)
    place = locate(spec, code)
    del place.holder[place.index]
    return spec


def question_move(spec: dict[str, Any], code: str, step: int) -> dict[str, Any]:
    """Move a question one place up (``step`` -1) or down (+1). At the edge of its page a question moves
    to the end of the previous page or the start of the next; an item stays within its group."""
    spec = copy.deepcopy(spec)
    place = locate(spec, code)
    target = place.index + step
    if 0 <= target < len(place.holder):
        place.holder[place.index], place.holder[target] = place.holder[target], place.holder[place.index]
        return spec
    if place.parent is not None:
        return spec
    sections = spec["sections"]
    neighbour = sections.index(place.section) + step
    if not 0 <= neighbour < len(sections):
        return spec
    question = place.holder.pop(place.index)
    if step < 0:
        sections[neighbour]["questions"].append(question)
    else:
        sections[neighbour]["questions"].insert(0, question)
    return spec


def question_place(spec: dict[str, Any], code: str, index: int) -> dict[str, Any]:
    """Move a question to position ``index`` among its page's questions (or its group's items)."""
    spec = copy.deepcopy(spec)
    place = locate(spec, code)
    question = place.holder.pop(place.index)
    place.holder.insert(max(0, min(index, len(place.holder))), question)
    return spec


def page_put(spec: dict[str, Any], *, original: str | None, section: dict[str, Any]) -> dict[str, Any]:
    """Add a page at the end, or change page ``original`` (its questions stay)."""
    spec = copy.deepcopy(spec)
    fields = {key: copy.deepcopy(section.get(key, default)) for key, default in SECTION_DEFAULTS.items()}
    if original is None:
        fields["questions"] = []
        spec["sections"].append(fields)
        return spec
    current = page(spec, original)
    fields["questions"] = current["questions"]
    spec["sections"][spec["sections"].index(current)] = fields
    return spec


def page_remove(spec: dict[str, Any], code: str) -> dict[str, Any]:
    """Delete an empty page (questions are moved or deleted one by one, on purpose)."""
    spec = copy.deepcopy(spec)
    current = page(spec, code)
    if current["questions"]:
        raise EditError(E_PAGE_NOT_EMPTY.format(code=code, count=len(current["questions"])), "page_not_empty")
    if len(spec["sections"]) == 1:
        raise EditError(str(E_LAST_PAGE), "last_page")
    spec["sections"].remove(current)
    return spec


def page_move(spec: dict[str, Any], code: str, step: int) -> dict[str, Any]:
    spec = copy.deepcopy(spec)
    sections = spec["sections"]
    index = sections.index(page(spec, code))
    target = index + step
    if 0 <= target < len(sections):
        sections[index], sections[target] = sections[target], sections[index]
    return spec


def list_users(spec: dict[str, Any], name: str) -> list[str]:
    return [q["code"] for _, q, _ in iter_questions(spec) if q["choice_list"] == name]


def list_put(
    spec: dict[str, Any], *, original: str | None, name: str, choices: list[dict[str, Any]]
) -> dict[str, Any]:
    """Add a choice list, or replace list ``original``'s name and choices (questions follow a rename)."""
    spec = copy.deepcopy(spec)
    entry = {"name": name, "choices": [normalize_choice(c) for c in choices]}
    if original is None:
        spec["choice_lists"].append(entry)
        return spec
    for index, choice_list in enumerate(spec["choice_lists"]):
        if choice_list["name"] == original:
            spec["choice_lists"][index] = entry
            break
    else:
        raise EditError(E_NO_LIST.format(name=original), "no_list")
    if name != original:
        for _, question, _ in iter_questions(spec):
            if question["choice_list"] == original:
                question["choice_list"] = name
    return spec


def list_remove(spec: dict[str, Any], name: str) -> dict[str, Any]:
    spec = copy.deepcopy(spec)
    users = list_users(spec, name)
    if users:
        raise EditError(E_LIST_IN_USE.format(name=name, codes=", ".join(users)), "list_in_use")
    before = len(spec["choice_lists"])
    spec["choice_lists"] = [cl for cl in spec["choice_lists"] if cl["name"] != name]
    if len(spec["choice_lists"]) == before:
        raise EditError(E_NO_LIST.format(name=name), "no_list")
    return spec


def form_put(
    spec: dict[str, Any], *, title: dict[str, str], languages: list[str], language_names: dict[str, str]
) -> dict[str, Any]:
    """Change the questionnaire's title and its languages (the first is the default)."""
    spec = copy.deepcopy(spec)
    spec["title"] = dict(title)
    spec["languages"] = list(languages)
    spec["language_names"] = {code: language_names.get(code, code) for code in languages}
    spec["default_language"] = languages[0] if languages else ""
    return spec
