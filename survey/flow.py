"""The questionnaire as one participant walks it: their randomised display plan, the pages that apply
to them, which questions are relevant, and which stored answers a change has made stale.

Everything here is pure (spec and answers in, plain data out) so the views, the simulator and the
tests share one implementation of the rules.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .computed import calculated, default_value, filtered_choices
from .instrument import iter_questions
from .languages import text_in
from .logic import Context, parse, pipe

ARM_CONTROL, ARM_TREATMENT = "control", "treatment"


def is_true(source: str, answers: dict[str, Any], current: Any = "", context: Context | None = None) -> bool:
    """Evaluate a relevance or constraint; an empty expression is true."""
    return True if not source else parse(source).is_true(answers, current, context)


def expression_context(
    spec: dict[str, Any], language: str, *, choice: dict[str, Any] | None = None
) -> Context:
    """What ``jr:choice-name()``, ``format-date()`` and choice filters read, for ``spec`` in ``language``:
    choice labels in that language (else the questionnaire's default language), and in a choice
    filter the candidate choice's columns."""
    lists = {cl["name"]: {c["code"]: c["label"] for c in cl["choices"]} for cl in spec["choice_lists"]}
    question_lists = {q["code"]: q["choice_list"] for _, q, _ in iter_questions(spec) if q.get("choice_list")}
    default = spec.get("default_language", "")

    def choice_label(question: str, code: str) -> str:
        labels = lists.get(question_lists.get(question, ""), {}).get(code)
        return text_in(labels, language, default) if labels else ""

    return Context(language=language, choice_label=choice_label, choice=choice)


def make_plan(spec: dict[str, Any], seed: int, arms: dict[str, str]) -> dict[str, Any]:
    """The order this participant sees, from ``seed``: stored with the response for order-effect analysis.

    - pages flagged ``shuffle`` swap places among themselves; the others stay put;
    - a page with ``randomize`` shows its questions in random order; a matrix with it, its rows;
    - a question with ``randomize`` shows its options in random order;
    - a question or matrix with ``reverse_scale`` shows its scale reversed (a coin flip);
    - list experiments get the arm assigned by the caller (balanced across participants).
    """
    rng = random.Random(seed)
    sections = [s["code"] for s in spec["sections"]]
    movable = [i for i, s in enumerate(spec["sections"]) if s["shuffle"]]
    moved = [sections[i] for i in movable]
    rng.shuffle(moved)
    for i, code in zip(movable, moved, strict=True):
        sections[i] = code
    items: dict[str, list[str]] = {}
    options: dict[str, list[str]] = {}
    reversed_codes: list[str] = []
    lists = {cl["name"]: [c["code"] for c in cl["choices"]] for cl in spec["choice_lists"]}
    anchored = {
        cl["name"]: {c["code"] for c in cl["choices"] if c.get("anchor")} for cl in spec["choice_lists"]
    }
    for section in spec["sections"]:
        order = [q["code"] for q in section["questions"]]
        if section["randomize"]:
            rng.shuffle(order)
        items[section["code"]] = order
        for question in section["questions"]:
            if question["type"] == "matrix" and question["randomize"]:
                rows = [item["code"] for item in question["items"]]
                rng.shuffle(rows)
                items[question["code"]] = rows
            if question["choice_list"]:
                choice_order = list(lists[question["choice_list"]])
                fixed = anchored[question["choice_list"]]
                if question["randomize"] and question["type"] != "matrix":
                    choice_order = _shuffled_around(choice_order, fixed, rng)
                if question["reverse_scale"] and rng.random() < 0.5:
                    choice_order = _reversed_around(choice_order, fixed)
                    reversed_codes.append(question["code"])
                options[question["code"]] = choice_order
    return {
        "seed": seed,
        "sections": sections,
        "items": items,
        "options": options,
        "reversed": reversed_codes,
        "arms": arms,
    }


def _shuffled_around(order: list[str], anchored: set[str], rng: random.Random) -> list[str]:
    """``order`` shuffled, its anchored choices left at their places ("Don't know" stays last)."""
    movable = [code for code in order if code not in anchored]
    rng.shuffle(movable)
    rest = iter(movable)
    return [code if code in anchored else next(rest) for code in order]


def _reversed_around(order: list[str], anchored: set[str]) -> list[str]:
    """``order`` reversed, its anchored choices left at their places."""
    rest = iter(reversed([code for code in order if code not in anchored]))
    return [code if code in anchored else next(rest) for code in order]


@dataclass(frozen=True)
class Page:
    index: int
    section: dict[str, Any]
    questions: list[dict[str, Any]]  # in display order


def _by_code(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {q["code"]: q for _, q, _ in iter_questions(spec)}


def pages(spec: dict[str, Any], plan: dict[str, Any]) -> list[Page]:
    """Every page in display order, with its questions ordered as planned (matrix rows too)."""
    sections = {s["code"]: s for s in spec["sections"]}
    result = []
    for index, code in enumerate(plan["sections"]):
        section = sections[code]
        by_code = {q["code"]: q for q in section["questions"]}
        ordered = []
        for question_code in plan["items"].get(code, list(by_code)):
            question = by_code[question_code]
            if question["type"] == "matrix" and question_code in plan["items"]:
                rows = {item["code"]: item for item in question["items"]}
                question = {**question, "items": [rows[c] for c in plan["items"][question_code]]}
            ordered.append(question)
        result.append(Page(index, section, ordered))
    return result


def is_shown(question: dict[str, Any]) -> bool:
    """Whether a question appears on its page: every one but a ``calculate`` (computed, never shown)."""
    return question["type"] != "calculate"


def is_entered(question: dict[str, Any]) -> bool:
    """Whether the participant gives this question's value: not when it is computed or read-only."""
    return is_shown(question) and not question.get("calculation") and not question.get("read_only")


def page_applies(page: Page, answers: dict[str, Any]) -> bool:
    """A page is shown when its relevance holds and at least one of its shown questions is relevant
    (a page of calculations alone is computed, never shown)."""
    return is_true(page.section["relevance"], answers) and any(
        is_true(q["relevance"], answers) for q in page.questions if is_shown(q)
    )


def next_page(all_pages: list[Page], after: int, answers: dict[str, Any]) -> int | None:
    """The index of the next page that applies after ``after``; None at the end."""
    return next((p.index for p in all_pages[after + 1 :] if page_applies(p, answers)), None)


def previous_page(all_pages: list[Page], before: int, answers: dict[str, Any]) -> int | None:
    return next((p.index for p in reversed(all_pages[:before]) if page_applies(p, answers)), None)


def first_page(all_pages: list[Page], answers: dict[str, Any]) -> int | None:
    return next_page(all_pages, -1, answers)


def first_incomplete_page(spec: dict[str, Any], plan: dict[str, Any], answers: dict[str, Any]) -> int | None:
    """The first page that applies and has a relevant required question without an answer."""
    for page in pages(spec, plan):
        if not page_applies(page, answers):
            continue
        for question in relevant_questions(page, answers):
            if (
                question["required"]
                and is_entered(question)
                and any(code not in answers for code in answer_codes(question))
            ):
                return page.index
    return None


def answer_codes(question: dict[str, Any]) -> list[str]:
    """The variables a question stores: its own code, or its rows for a matrix; none for a note."""
    if question["type"] == "matrix":
        return [item["code"] for item in question["items"]]
    if question["type"] == "note":
        return []
    return [question["code"]]


def with_computed(spec: dict[str, Any], plan: dict[str, Any], answers: dict[str, Any]) -> dict[str, Any]:
    """``answers`` with the values the server computes (:func:`clear_stale`) when the questionnaire
    has any (a calculation or a read-only question); else ``answers`` itself, at no cost."""
    computes = any(q.get("calculation") or q.get("read_only") for _, q, _ in iter_questions(spec))
    return clear_stale(spec, plan, answers) if computes else answers


def clear_stale(spec: dict[str, Any], plan: dict[str, Any], answers: dict[str, Any]) -> dict[str, Any]:
    """Drop answers to questions (or whole pages) that an earlier answer has made irrelevant, and
    choices a choice filter no longer offers; set every relevant calculation and read-only default
    (:mod:`survey.computed`), whatever was posted for them.

    Relevance, filters and calculations only look backwards, so one pass in display order settles
    every question.
    """
    kept = dict(answers)
    context: Context | None = None
    lists = {cl["name"]: cl["choices"] for cl in spec["choice_lists"]}
    for page in pages(spec, plan):
        page_on = is_true(page.section["relevance"], kept)
        for question in page.questions:
            code = question["code"]
            if not (page_on and is_true(question["relevance"], kept)):
                for variable in answer_codes(question):
                    kept.pop(variable, None)
                continue
            if question.get("calculation") or question.get("choice_filter"):
                context = context or expression_context(spec, spec.get("default_language", ""))
            if question.get("calculation"):
                value = calculated(question, kept, context)
                if value is None:
                    kept.pop(code, None)
                else:
                    kept[code] = value
            elif question.get("read_only"):
                fixed = default_value(question)
                if fixed in ("", []):
                    kept.pop(code, None)
                else:
                    kept[code] = fixed
            elif question.get("choice_filter") and code in kept:
                offered = {
                    c["code"]
                    for c in filtered_choices(question, lists[question["choice_list"]], kept, context)
                }
                value = kept[code]
                if isinstance(value, list):
                    kept[code] = [v for v in value if v in offered]
                    if not kept[code]:
                        kept.pop(code)
                elif value not in offered:
                    kept.pop(code)
    return kept


def not_shown(
    spec: dict[str, Any], plan: dict[str, Any], answers: dict[str, Any], *, upto: int | None = None
) -> list[str]:
    """The variables (``answer_codes``) of questions this participant was not shown because their page
    or their own relevance was false, judged on the final ``answers`` (relevance only looks backwards,
    and ``clear_stale`` keeps the answers consistent with it). With ``upto`` (a page index), only pages
    up to it: those after it were not reached, which is another kind of missing.

    Stored with a completed response (``display["not_shown"]``) so exports can tell "not shown" from
    "shown, left blank" without evaluating expressions for every row.
    """
    hidden: list[str] = []
    for page in pages(spec, plan):
        if upto is not None and page.index > upto:
            break
        page_on = page_applies(page, answers)
        section_on = is_true(page.section["relevance"], answers)
        for question in page.questions:
            # A calculation is never on screen: it applies when its page's and its own relevance hold
            # (a page of calculations alone is computed though never shown).
            on = page_on if is_shown(question) else section_on
            if not (on and is_true(question["relevance"], answers)):
                hidden += answer_codes(question)
    return hidden


def relevant_questions(page: Page, answers: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The page's questions that apply, judging each with the answers before it (same page included)."""
    for question in page.questions:
        if is_true(question["relevance"], answers):
            yield question


def to_json(value: Any) -> Any:
    """A cleaned form value as stored in ``Response.answers``.

    A decimal becomes an int when whole, else the double nearest to it: the forms accept only what a
    double keeps exactly (``survey.exact_numbers``: 15 significant digits, below 10^15, none below
    10^-15), so the stored number prints back as the number the participant typed (less trailing
    zeros; ``1e5`` as 100000, ``-0`` as 0).
    """
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def form_title(spec: dict[str, Any], study: Any, language: str) -> str:
    """The title a reader of ``language`` sees at the top of each page: the form's title in that
    language, else the study's (which the studio asks for in every study language), else the form's
    title in its default language, else the study's first title. A form titled in English only (or by
    its file name) no longer shows that to Chinese readers of a study titled in Chinese."""
    from .languages import text_for

    return (
        text_for(spec["title"], language)
        or text_for(study.titles or {}, language)
        or text_in(spec["title"], language, spec["default_language"])
        or study.title_in(language)
    )


def missing_titles(spec: dict[str, Any], study: Any) -> list[str]:
    """The study languages the form has no title in (a notice on the publish page, not a block)."""
    from .languages import text_for

    return [language for language in study.languages if not text_for(spec["title"], language)]


def display_value(spec: dict[str, Any], code: str, value: Any, language: str) -> str:
    """An answer as text for piping: choice labels in the participant's language."""
    question = _by_code(spec).get(code)
    if question is None or value in ("", None):
        return ""
    if question["choice_list"]:
        default = spec.get("default_language", "")
        labels = {
            c["code"]: text_in(c["label"], language, default) or c["code"]
            for cl in spec["choice_lists"]
            if cl["name"] == question["choice_list"]
            for c in cl["choices"]
        }
        values = value if isinstance(value, list) else [value]
        return ", ".join(labels.get(str(v), str(v)) for v in values)
    return str(value)


def piped(text: str, spec: dict[str, Any], answers: dict[str, Any], language: str) -> str:
    return (
        pipe(text, answers, lambda code, value: display_value(spec, code, value, language))
        if "${" in text
        else text
    )
