"""One page of questions: shown, sent (Next, Back, a language button) and, with the page's script,
asked which of its questions apply as the participant answers."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from ... import flow
from ...forms import PageForm, is_well_formed, live_state, relevant_codes, submit_page, text_in
from ...instrument import iter_questions
from ...models import PendingResponse, ResponseStatus, Study
from ...participant_text import translation_for
from ...selectors import pending_position, spec_for
from ...services.responses import (
    Completed,
    Finish,
    FlowError,
    ScreenedOut,
    receipt_code_for_token,
    response_move,
    response_save_page,
    response_set_language,
)
from .common import choose_language, message_page, out_of_order, page_url, render_participant
from .finish import completed_page, screened_out_page, thanks_again, thanks_page, visit_ended
from .resume import continue_code, resumed_response

# The page form's language buttons send ``action=language:<code>``: one control field for every
# button, so no question code can collide with a field of the switch.
LANGUAGE_ACTION = "language:"
# "Continue on another device", a button of the page form: what was typed is kept, then the code shown.
CONTINUE_ACTION = "continue"


@never_cache
@require_http_methods(["GET", "POST"])
def page(request: HttpRequest, study_slug: str, index: int) -> HttpResponse:
    """Page ``index`` of the response this browser is answering: shown, or sent (Next, Back, a
    language button); a page not open to it leads back to where it is."""
    study = get_object_or_404(Study, slug=study_slug)
    response, started_at, token = resumed_response(request, study)
    if response is None:
        language = choose_language(request, study.languages, study.languages[0])
        if request.method == "POST" and token:
            # A genuine cookie whose response has left the working table: released (a late second
            # click of "Finish" gets the same thank-you page) or ended (screened out, withdrawn).
            return completed_page(request, study, None, token, None, language)
        if request.method == "POST":
            return thanks_again(request, study) or message_page(
                request, language, "trouble_title", "session_invalid", status=403
            )
        return HttpResponseRedirect(reverse("survey:entry", args=[study.slug]))
    if request.GET.get("lang") in study.languages and request.GET["lang"] != response.language:
        response_set_language(response_id=response.pk, language=request.GET["lang"])
        return HttpResponseRedirect(request.path)
    language = response.language
    if response.status == ResponseStatus.COMPLETE:
        if request.method == "POST":
            return completed_page(request, study, response.pk, token, started_at, language)
        return message_page(request, language, "thanks_title", "done_body")
    spec = spec_for(response.version)
    # Values the server computes (calculations, read-only defaults) as they stand before any page is
    # saved, so that the first page's relevance and texts read them too (in memory: saving recomputes).
    response.answers = flow.with_computed(spec, response.display, response.answers)
    all_pages = flow.pages(spec, response.display)
    if (
        index >= len(all_pages)
        or index > response.furthest
        or not flow.page_applies(all_pages[index], response.answers)
    ):
        if request.method == "POST":
            return out_of_order(request, study, response)
        return HttpResponseRedirect(page_url(study, response.position))
    current = all_pages[index]
    if request.method == "POST":
        return _page_post(request, study, response, token, spec, all_pages, current, started_at)
    return _render_page(request, study, response, spec, all_pages, current)


def _render_page(
    request, study, response, spec, all_pages, current, *, form: PageForm | None = None, status: int = 200
) -> HttpResponse:
    answers = response.answers
    relevant = {q["code"] for q in flow.relevant_questions(current, answers)}
    if form is None:
        # Every question of the page is in the HTML, those that do not apply (yet) hidden: the page's
        # script shows them as the server's evaluator says (``relevance``); without it, the "shown"
        # field makes the server send the page again when an answer here brought a question in.
        questions = current.questions
        kwargs = _form_kwargs(spec, response)
        draft = response.drafts.get(str(current.index), {})
        initial = {**_initial(questions, answers), **draft}
        # Defaults (XLSForm ``default``) until the page is first saved: then a blank is an answer.
        fresh = current.index >= response.furthest and not draft
        form = PageForm(initial=initial, questions=questions, use_defaults=fresh, **kwargs)
        if draft:
            # What was typed before Back or a language switch decides, as it did on screen, which
            # follow-up questions show (a kept answer behind a hidden question would be lost).
            relevant = set(
                relevant_codes(data=draft, page_questions=questions, stored=answers, form_kwargs=kwargs)
            )
    else:
        relevant = {item.spec["code"] for item in form.rendered}
    applying = [p.index for p in all_pages if flow.page_applies(p, answers) or p.index == current.index]
    is_last = flow.next_page(all_pages, current.index, answers) is None
    has_previous = flow.previous_page(all_pages, current.index, answers) is not None
    return render_participant(
        request,
        "survey/participant/page.html",
        response.language,
        {
            "study": study,
            "title": flow.form_title(spec, study, response.language),
            "section_label": flow.piped(
                text_in(current.section["label"], response.language, spec["default_language"]),
                spec,
                answers,
                response.language,
            ),
            "form": form,
            "relevant": relevant,
            "participant_page": True,
            "continue_action": CONTINUE_ACTION,
            "relevance_url": (
                reverse("survey:relevance", args=[study.slug, current.index])
                if needs_live_state(current.questions)
                else ""
            ),
            "page_index": current.index,
            "is_last": is_last,
            "has_previous": has_previous,
            "progress_current": applying.index(current.index) + 1,
            "progress_total": len(applying),
            "synthetic": response.is_synthetic,
        },
        status=status,
        languages=study.languages,
    )


def needs_live_state(questions: list[dict[str, Any]]) -> bool:
    """Whether a page's script asks the server what applies as answers are typed: some question of it
    has a relevance (an or_other's specify text has one) or a choice filter. The participant page and
    the studio's test run decide alike, so a test run behaves as the participant link does."""
    return any(q["relevance"] or q.get("choice_filter") for q in questions)


@never_cache
@require_http_methods(["POST"])
def relevance(request: HttpRequest, study_slug: str, index: int) -> HttpResponse:
    """Which questions of the page apply to the answers typed so far, and which choices the choice
    filters offer: ``{"relevant": [codes], "choices": {question: [choice codes]}}``.

    The page's script posts the page's fields here after each change. Nothing is stored and nothing
    is logged but the path (Django's log of a refused request); the page works without it.
    """
    study = get_object_or_404(Study, slug=study_slug)
    response, _, _ = resumed_response(request, study)
    if response is None or response.status != ResponseStatus.IN_PROGRESS:
        return JsonResponse({"relevant": None}, status=409)
    spec = spec_for(response.version)
    response.answers = flow.with_computed(spec, response.display, response.answers)
    all_pages = flow.pages(spec, response.display)
    if index >= len(all_pages) or index > response.furthest:
        return JsonResponse({"relevant": None}, status=409)
    current = all_pages[index]
    kwargs = _form_kwargs(spec, response)
    if not is_well_formed(PageForm(questions=current.questions, **kwargs), request.POST):
        return JsonResponse({"relevant": None}, status=400)
    with translation_for(response.language):
        codes, offered = live_state(
            data=request.POST, page_questions=current.questions, stored=response.answers, form_kwargs=kwargs
        )
    return JsonResponse({"relevant": codes, "choices": offered})


def _page_post(request, study, response, token, spec, all_pages, current, started_at) -> HttpResponse:
    language = response.language
    kwargs = _form_kwargs(spec, response)
    action = request.POST.get("action", "")
    if action.startswith(LANGUAGE_ACTION):
        # A language button of the page form (``language:zh``): what was typed stays, unchecked, as
        # Back keeps it, and the page comes back in the other language, with or without a script.
        typed = _typed(PageForm(questions=current.questions, **kwargs), request.POST)
        try:
            response_move(response_id=response.pk, page_index=current.index, typed=typed)
        except FlowError:
            return out_of_order(request, study, response)
        chosen = action.removeprefix(LANGUAGE_ACTION)
        if chosen in study.languages:
            response_set_language(response_id=response.pk, language=chosen)
        return HttpResponseRedirect(page_url(study, current.index))
    if action == CONTINUE_ACTION:
        typed = _typed(PageForm(questions=current.questions, **kwargs), request.POST)
        try:
            response_move(response_id=response.pk, page_index=current.index, typed=typed)
        except FlowError:
            return out_of_order(request, study, response)
        return continue_code(request, study.slug)
    if request.POST.get("action") == "back":
        previous = flow.previous_page(all_pages, current.index, response.answers)
        if previous is not None:
            typed = _typed(PageForm(questions=current.questions, **kwargs), request.POST)
            try:
                response_move(response_id=response.pk, page_index=previous, typed=typed)
            except FlowError:
                return out_of_order(request, study, response)
        return HttpResponseRedirect(page_url(study, previous if previous is not None else current.index))
    everything = PageForm(questions=current.questions, **kwargs)
    if not is_well_formed(everything, request.POST):
        return message_page(
            request,
            language,
            "trouble_title",
            "bad_request",
            status=400,
            link=page_url(study, current.index),
        )
    with translation_for(language):
        result = submit_page(
            data=request.POST, page_questions=current.questions, stored=response.answers, form_kwargs=kwargs
        )
    if result.answers is None:
        return _render_page(request, study, response, spec, all_pages, current, form=result.form, status=200)
    finish = Finish(receipt_code_for_token(study_id=study.pk, token=token), started_at)
    try:
        outcome = response_save_page(
            response_id=response.pk,
            page_index=current.index,
            answers=result.answers,
            codes=result.codes,
            finish=finish,
        )
    except FlowError as error:
        if error.code == "incomplete":
            return HttpResponseRedirect(page_url(study, pending_position(response_id=response.pk)))
        if error.code == "ended":
            return visit_ended(request, study, language)
        return out_of_order(request, study, response)
    if isinstance(outcome, ScreenedOut):
        return screened_out_page(request, study, language, outcome)
    if isinstance(outcome, Completed):
        return thanks_page(request, study, outcome, language)
    return HttpResponseRedirect(page_url(study, outcome if outcome is not None else current.index))


def _initial(questions: list[dict[str, Any]], answers: dict[str, Any]) -> dict[str, Any]:
    initial: dict[str, Any] = {}
    for question in questions:
        for code in flow.answer_codes(question):
            if code in answers:
                initial[code] = answers[code]
        if question["type"] == "ranking" and question["code"] in answers:
            for rank, choice in enumerate(answers[question["code"]], start=1):
                initial[f"{question['code']}__{choice}"] = str(rank)
    return initial


def _typed(form: PageForm, data: Any) -> dict[str, Any]:
    """What the page's fields held when the participant pressed Back, as sent (unchecked)."""
    return {
        name: data.getlist(name) if isinstance(field, forms.MultipleChoiceField) else data.get(name, "")
        for name, field in form.fields.items()
    }


def _form_kwargs(spec: dict[str, Any], response: PendingResponse) -> dict[str, Any]:
    return page_form_kwargs(
        spec, language=response.language, display=response.display, answers=response.answers
    )


def page_form_kwargs(
    spec: dict[str, Any], *, language: str, display: dict[str, Any], answers: dict[str, Any]
) -> dict[str, Any]:
    """What a page form needs besides its questions: lists, language, the option order and arms of
    this display plan, and piping from ``answers`` (shared by the participant pages and test runs)."""
    list_items = {
        q["code"]: [
            i
            for i in q["items"]
            if i["parameters"].get("role") == "control"
            or display["arms"].get(q["code"]) == flow.ARM_TREATMENT
        ]
        for _, q, _ in iter_questions(spec)
        if q["type"] == "list_experiment"
    }
    return {
        "choice_lists": {cl["name"]: cl["choices"] for cl in spec["choice_lists"]},
        "language": language,
        "fallback_language": spec["default_language"],
        "options": display.get("options", {}),
        "list_items": list_items,
        "pipe": lambda label: flow.piped(label, spec, answers, language),
        "answers": answers,
        "context": flow.expression_context(spec, language),
    }
