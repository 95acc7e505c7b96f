"""The draft editor: pages, questions, choice lists and the questionnaire's title and languages.

Every change is one POST to one view, applied by ``services.drafts.draft_change`` with a function of
``survey.editing``; buttons move and delete without JavaScript. The live check of an expression is
one GET that answers with a fragment of HTML (the parser's message and position, or the reading in
words).
"""

from __future__ import annotations

import copy
from functools import partial
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ... import editing
from ...instrument import EXPRESSION_FIELDS, QuestionnaireInvalid, iter_questions
from ...languages import xlsform_name
from ...logic import ExpressionError, parse
from ...models import QuestionnaireVersion, QuestionType, Study, VersionStatus
from ...selectors import logic_vocabulary, questionnaire_language, reading_of, version_to_spec
from ...services.drafts import draft_change, draft_problems, problem_place
from .access import render_studio, studio_page, study_for, version_for
from .forms import ChoiceFormSet, FormSettingsForm, ListNameForm, PageForm, QuestionForm, grown, texts_of

ITEM_TYPES = {"matrix": ["single_choice", "likert"], "list_experiment": ["note"]}
NEW_CODE = "_new_question"


def _draft(request: HttpRequest, slug: str, number: int) -> tuple[Study, QuestionnaireVersion]:
    study = study_for(request, slug, edit=True)
    version = version_for(study, number)
    if version.status != VersionStatus.DRAFT:
        raise Http404("Only a draft can be edited.")
    return study, version


def _back(study: Study, version: QuestionnaireVersion, anchor: str = "") -> HttpResponseRedirect:
    url = reverse("survey:studio_version", args=[study.slug, version.number])
    # ``at`` opens the part of a long form that holds the anchor (selectors.version_parts).
    return HttpResponseRedirect(f"{url}?at={anchor}#{anchor}" if anchor else url)


def _apply(request: HttpRequest, version: QuestionnaireVersion, change, action: str, **detail: Any):
    """Run one change; returns the problems it would bring (empty when it was applied)."""
    try:
        draft_change(user=request.user, version=version, change=change, action=action, **detail)
    except QuestionnaireInvalid as error:
        return error.problems
    return []


# --- questions -------------------------------------------------------------------------------


@studio_page
@require_http_methods(["GET", "POST"])
def question_edit(request: HttpRequest, slug: str, number: int, code: str | None = None) -> HttpResponse:
    """Add a question (``?page=`` or ``?parent=``) or change one; texts in every language side by side."""
    study, version = _draft(request, slug, number)
    spec = version_to_spec(version)
    existing, parent, page_code = None, None, request.GET.get("page", "")
    if code is not None:
        try:
            place = editing.locate(spec, code)
        except editing.EditError as error:
            raise Http404(error.message) from error
        existing, parent, page_code = place.holder[place.index], place.parent, place.section["code"]
    elif request.GET.get("parent"):
        try:
            place = editing.locate(spec, request.GET["parent"])
        except editing.EditError as error:
            raise Http404(error.message) from error
        parent, page_code = place.holder[place.index], place.section["code"]
        if parent["type"] not in ITEM_TYPES:
            raise Http404("Not a group.")
    elif not any(section["code"] == page_code for section in spec["sections"]):
        page_code = spec["sections"][-1]["code"] if spec["sections"] else ""
        if not page_code:
            messages.info(request, _("Add a page first: every question is on a page."))
            return HttpResponseRedirect(reverse("survey:studio_page_new", args=[study.slug, version.number]))
    allowed = ITEM_TYPES[parent["type"]] if parent else [t for t in QuestionType.values]
    form = QuestionForm(
        request.POST or None,
        languages=spec["languages"],
        pages=[(s["code"], s["code"]) for s in spec["sections"]],
        lists=[cl["name"] for cl in spec["choice_lists"]],
        types=[(value, label) for value, label in QuestionType.choices if value in allowed],
        parent=parent,
        existing=existing,
        choice_columns=list(
            dict.fromkeys(
                column
                for choice_list in spec["choice_lists"]
                for choice in choice_list["choices"]
                for column in choice.get("columns", {})
            )
        ),
        initial={"page": page_code, "type": allowed[0]},
    )
    if request.method == "POST" and form.is_valid():
        question = form.question()
        target_page = form.cleaned_data.get("page") or page_code
        problems = _apply(
            request,
            version,
            partial(
                editing.question_put,
                original=code,
                page_code=target_page,
                parent_code=parent["code"] if parent and code is None else None,
                question=question,
            ),
            "question_changed" if code else "question_added",
            question=question["code"],
            **({"renamed_from": code} if code and code != question["code"] else {}),
        )
        if not problems:
            messages.success(request, _("Question %(code)s is saved.") % {"code": question["code"]})
            return _back(study, version, f"q-{question['code']}")
        for problem in problems:
            kind, key, field = problem_place(problem)
            if kind == "question" and key == question["code"]:
                form.add_problem(field, problem.code, problem.message)
            else:
                form.add_error(None, problem.message)
    return render_studio(
        request,
        "survey/studio/question_form.html",
        title=_("Question %(code)s") % {"code": code} if code else _("New question"),
        study=study,
        section="questionnaire",
        version=version,
        form=form,
        code=code,
        parent=parent,
        page_code=page_code,
        check_url=reverse("survey:studio_check", args=[study.slug, version.number]),
        readings=_readings(spec, form, get_language() or "en"),
        status=400 if form.errors else 200,
    )


def _readings(spec: dict[str, Any], form: QuestionForm | PageForm, staff_language: str) -> dict[str, str]:
    """The expressions as the form holds them, in words (shown under each field, before any typing)."""
    vocabulary = logic_vocabulary(spec, questionnaire_language(spec["languages"], staff_language))
    values = form.data if form.is_bound else form.initial
    return {
        name: reading_of(str(values.get(name) or ""), vocabulary) or ""
        for name in ("relevance", "constraint", "calculation")
        if name in form.fields
    }


@studio_page
@require_POST
def question_move(request: HttpRequest, slug: str, number: int, code: str) -> HttpResponse:
    study, version = _draft(request, slug, number)
    if request.POST.get("to", "").isdigit():  # dragged (studio.js) to a place on its page
        index = int(request.POST["to"])
        change, detail = partial(editing.question_place, code=code, index=index), {"to": index}
    else:
        step = -1 if request.POST.get("step") == "-1" else 1
        change, detail = partial(editing.question_move, code=code, step=step), {"step": step}
    problems = _apply(request, version, change, "question_moved", question=code, **detail)
    for problem in problems:
        messages.error(
            request, _("%(code)s cannot move there: %(reason)s") % {"code": code, "reason": problem.message}
        )
    return _back(study, version, f"q-{code}")


@studio_page
@require_http_methods(["GET", "POST"])
def question_delete(request: HttpRequest, slug: str, number: int, code: str) -> HttpResponse:
    """A confirmation page naming what goes (a group's items) and what refers to the question."""
    study, version = _draft(request, slug, number)
    spec = version_to_spec(version)
    try:
        place = editing.locate(spec, code)
    except editing.EditError as error:
        raise Http404(error.message) from error
    question = place.holder[place.index]
    dependents = sorted(
        {q["code"] for _s, q, _p in iter_questions(spec) if q["code"] != code and code in _references(q)}
    )
    if request.method == "POST":
        problems = _apply(
            request, version, partial(editing.question_remove, code=code), "question_deleted", question=code
        )
        if not problems:
            messages.success(request, _("Question %(code)s is deleted.") % {"code": code})
            return _back(study, version, f"page-block-{place.section['code']}")
        for problem in problems:
            messages.error(request, problem.message)
    return render_studio(
        request,
        "survey/studio/question_delete.html",
        title=_("Delete %(code)s?") % {"code": code},
        study=study,
        section="questionnaire",
        version=version,
        question=question,
        dependents=dependents,
    )


def _references(question: dict[str, Any]) -> set[str]:
    """The codes a question's relevance, constraint and piped texts refer to."""
    from ...logic import piped_codes

    codes: set[str] = set()
    for source in (question["relevance"], question["constraint"]):
        if source:
            try:
                codes |= {ref for ref, _pos in parse(source).references}
            except ExpressionError:
                continue
    for field in ("label", "hint"):
        for text in question[field].values():
            codes |= {ref for ref, _pos in piped_codes(text)}
    return codes


# --- live checking ---------------------------------------------------------------------------


# The expression fields the live check reads (a page has relevance only; the validator names the same).
CHECKED_FIELDS = frozenset(EXPRESSION_FIELDS)


@studio_page
@require_GET
def check(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    """Check one relevance, constraint, calculation or choice filter as typed, in the place it would
    have: the parser's message with its position, a reference to an unknown or later question, or the
    expression in words (not for a choice filter, whose bare names are the choices' columns)."""
    study = study_for(request, slug)
    version = version_for(study, number)
    field = request.GET.get("field", "relevance")
    if field not in CHECKED_FIELDS:
        field = "relevance"
    choice_filter = field == "choice_filter"  # bare names are the choices' columns there
    source = request.GET.get("expression", "")[:2000]
    spec = version_to_spec(version)
    code = request.GET.get("question", "")
    kind = "section" if request.GET.get("kind") == "page" else "question"
    problems, position = [], None
    if source.strip():
        try:
            parse(source, choice_filter=choice_filter)
        except ExpressionError as error:
            problems, position = [str(error)], error.position
        else:
            problems = _expression_problems(spec, kind, code, request.GET.get("page", ""), field, source)
    reading = (
        reading_of(
            source, logic_vocabulary(spec, questionnaire_language(spec["languages"], get_language() or "en"))
        )
        if source.strip() and not problems and not choice_filter
        else ""
    )
    response = render(
        request,
        "survey/studio/check.html",
        {
            "problems": problems,
            "reading": reading,
            "source": source,
            "position": position,
            "before": source[:position] if position is not None else "",
            "after": source[position:] if position is not None else "",
            "field": field,
        },
    )
    response["Cache-Control"] = "no-store"
    return response


def _expression_problems(
    spec: dict[str, Any], kind: str, code: str, page_code: str, field: str, source: str
) -> list[str]:
    """Problems the validator finds with ``source`` as the ``field`` of question (or page) ``code``;
    a question not yet saved is checked at the end of ``page_code``."""
    spec = copy.deepcopy(spec)
    if kind == "section":
        target = next((s for s in spec["sections"] if s["code"] == code), None)
        if target is None:
            target = {"code": code or "_new_page", "label": {}, "questions": []}
            spec["sections"].append(target)
        target[field] = source
        wanted = ("section", target["code"])
    else:
        try:
            place = editing.locate(spec, code)
            question = place.holder[place.index]
        except editing.EditError:
            section = (
                next((s for s in spec["sections"] if s["code"] == page_code), None) or spec["sections"][-1]
            )
            question = {"code": NEW_CODE, "type": "text", "label": {}}
            section["questions"].append(question)
        question[field] = source
        wanted = ("question", question["code"])
    from ...instrument import normalize

    found = []
    for problem in draft_problems(normalize(spec)):
        kind_found, key, problem_field = problem_place(problem)
        if (kind_found, key) == wanted and problem_field == field:
            found.append(problem.message)
    return found


# --- pages -------------------------------------------------------------------------------------


@studio_page
@require_http_methods(["GET", "POST"])
def page_edit(request: HttpRequest, slug: str, number: int, code: str | None = None) -> HttpResponse:
    study, version = _draft(request, slug, number)
    spec = version_to_spec(version)
    existing = None
    if code is not None:
        existing = next((s for s in spec["sections"] if s["code"] == code), None)
        if existing is None:
            raise Http404("No such page.")
    form = PageForm(request.POST or None, languages=spec["languages"], existing=existing)
    if request.method == "POST" and form.is_valid():
        section = form.section()
        problems = _apply(
            request,
            version,
            partial(editing.page_put, original=code, section=section),
            "page_changed" if code else "page_added",
            page=section["code"],
        )
        if not problems:
            messages.success(request, _("Page %(code)s is saved.") % {"code": section["code"]})
            return _back(study, version, f"page-block-{section['code']}")
        for problem in problems:
            kind, key, field = problem_place(problem)
            if kind == "section" and key == section["code"]:
                form.add_problem(field, problem.code, problem.message)
            else:
                form.add_error(None, problem.message)
    return render_studio(
        request,
        "survey/studio/page_form.html",
        title=_("Page %(code)s") % {"code": code} if code else _("New page"),
        study=study,
        section="questionnaire",
        version=version,
        form=form,
        code=code,
        check_url=reverse("survey:studio_check", args=[study.slug, version.number]),
        readings=_readings(spec, form, get_language() or "en"),
        status=400 if form.errors else 200,
    )


@studio_page
@require_POST
def page_move(request: HttpRequest, slug: str, number: int, code: str) -> HttpResponse:
    study, version = _draft(request, slug, number)
    step = -1 if request.POST.get("step") == "-1" else 1
    for problem in _apply(
        request, version, partial(editing.page_move, code=code, step=step), "page_moved", page=code, step=step
    ):
        messages.error(
            request,
            _("Page %(code)s cannot move there: %(reason)s") % {"code": code, "reason": problem.message},
        )
    return _back(study, version, f"page-block-{code}")


@studio_page
@require_POST
def page_delete(request: HttpRequest, slug: str, number: int, code: str) -> HttpResponse:
    study, version = _draft(request, slug, number)
    problems = _apply(request, version, partial(editing.page_remove, code=code), "page_deleted", page=code)
    for problem in problems:
        messages.error(request, problem.message)
    if not problems:
        messages.success(request, _("Page %(code)s is deleted.") % {"code": code})
    return _back(study, version)


# --- choice lists ------------------------------------------------------------------------------


@studio_page
@require_http_methods(["GET", "POST"])
def list_edit(request: HttpRequest, slug: str, number: int, name: str | None = None) -> HttpResponse:
    """A choice list edited in place: its name, and its choices as rows (code and a label per language);
    empty rows are left out, "Delete" removes a row, the order column reorders them."""
    study, version = _draft(request, slug, number)
    spec = version_to_spec(version)
    existing = None
    if name is not None:
        existing = next((cl for cl in spec["choice_lists"] if cl["name"] == name), None)
        if existing is None:
            raise Http404("No such list.")
    data = request.POST if request.method == "POST" else None
    if data is not None and "add_rows" in data:
        data = grown(data, "choices")
    name_form = ListNameForm(data, initial={"name": name or ""})
    choices = ChoiceFormSet(
        data,
        prefix="choices",
        languages=spec["languages"],
        initial=[
            {
                "code": c["code"],
                "label": c["label"],
                "anchor": c.get("anchor", False),
                "exclusive": c.get("exclusive", False),
            }
            for c in existing["choices"]
        ]
        if existing
        else None,
    )
    saving = data is not None and "add_rows" not in data
    if saving and name_form.is_valid() & choices.is_valid():
        new_name = name_form.cleaned_data["name"].strip()
        problems = _apply(
            request,
            version,
            partial(editing.list_put, original=name, name=new_name, choices=choices.choices()),
            "list_changed" if name else "list_added",
            list=new_name,
        )
        if not problems:
            messages.success(request, _("Choice list %(name)s is saved.") % {"name": new_name})
            return _back(study, version, f"list-block-{new_name}")
        for problem in problems:
            name_form.add_error(None, problem.message)
    return render_studio(
        request,
        "survey/studio/list_form.html",
        title=_("Choice list %(name)s") % {"name": name} if name else _("New choice list"),
        study=study,
        section="questionnaire",
        version=version,
        name_form=name_form,
        choices=choices,
        languages=spec["languages"],
        list_name=name,
        used_by=editing.list_users(spec, name) if name else [],
        status=400 if saving else 200,
    )


@studio_page
@require_POST
def list_delete(request: HttpRequest, slug: str, number: int, name: str) -> HttpResponse:
    study, version = _draft(request, slug, number)
    problems = _apply(request, version, partial(editing.list_remove, name=name), "list_deleted", list=name)
    for problem in problems:
        messages.error(request, problem.message)
    if not problems:
        messages.success(request, _("Choice list %(name)s is deleted.") % {"name": name})
    return _back(study, version, "choice-lists")


# --- the questionnaire's title and languages -----------------------------------------------


@studio_page
@require_http_methods(["GET", "POST"])
def form_settings(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    study, version = _draft(request, slug, number)
    spec = version_to_spec(version)
    form = FormSettingsForm(
        request.POST or None,
        languages=spec["languages"],
        title=spec["title"],
        default=spec["default_language"],
    )
    if request.method == "POST" and form.is_valid():
        languages = form.cleaned_data["ordered"]
        # A title in a language the form has no labels in (an XLSForm's form_title::fr) has no field here.
        kept = {code: text for code, text in spec["title"].items() if code not in spec["languages"]}
        title = {**kept, **texts_of(form.cleaned_data, "title", spec["languages"])}
        names = {code: spec["language_names"].get(code) or xlsform_name(code) for code in languages}
        problems = _apply(
            request,
            version,
            partial(editing.form_put, title=title, languages=languages, language_names=names),
            "form_changed",
            languages=languages,
        )
        if not problems:
            messages.success(request, _("The title and languages are saved."))
            return _back(study, version)
        for problem in problems:
            form.add_error(None, problem.message)
    return render_studio(
        request,
        "survey/studio/form_settings.html",
        title=_("Title and languages"),
        study=study,
        section="questionnaire",
        version=version,
        form=form,
        status=400 if form.errors else 200,
    )
