"""The participant's pages: consent, one page per section, thank-you, withdrawal.

Views parse the request, call one service and render. Nothing about the person is read from the
request but the form fields, the resume cookie and Accept-Language; query parameters other than
``lang`` (a panel's participant id, say) are never read, stored or logged.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from django import forms
from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation.trans_real import parse_accept_lang_header
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from .. import flow
from ..forms import PageForm, is_well_formed, relevant_codes, submit_page, text_in
from ..instrument import iter_questions
from ..languages import lookup
from ..models import PendingResponse, ResponseStatus, Sample, Study
from ..participant_text import LANGUAGE_NAMES, text, translation_for
from ..receipts import keyed_hash
from ..selectors import completions_by_sample, latest_published_version, pending_position, spec_for
from ..services.responses import (
    Completed,
    ContinueOutcome,
    Finish,
    FlowError,
    ScreenedOut,
    WithdrawalOutcome,
    consent_decline,
    receipt_code_for_token,
    response_complete,
    response_continue,
    response_continue_code,
    response_for_token,
    response_move,
    response_save_page,
    response_set_language,
    response_start,
    response_withdraw,
)

COOKIE_SALT = "candid-resume"
CONSENT_SALT = "candid-consent"
LANGUAGE_COOKIE = "candid_lang"
# A random value this browser keeps while it may send a consent form: the form is accepted only
# from the browser it was shown to (a form copied to another browser cannot take over a response).
BROWSER_COOKIE = "candid_browser"
CONSENT_MAX_AGE = 60 * 60 * 24
# The page form's language buttons send ``action=language:<code>``: one control field for every
# button, so no question code can collide with a field of the switch.
LANGUAGE_ACTION = "language:"


def cookie_name(study: Study) -> str:
    return f"candid_{study.pk}"


def done_cookie_name(study: Study) -> str:
    """The marker a browser keeps after completing a study that asks for one: its value is "1"."""
    return f"candid_done_{study.pk}"


def choose_language(request: HttpRequest, languages: list[str], default: str) -> str:
    """``?lang=`` if offered, else the language kept for the visit, else Accept-Language, else the default."""
    for candidate in (request.GET.get("lang"), request.COOKIES.get(LANGUAGE_COOKIE)):
        if candidate in languages:
            return candidate
    ranges = [tag for tag, _quality in parse_accept_lang_header(request.headers.get("Accept-Language", ""))]
    return lookup(ranges, languages, default)


def render_participant(
    request: HttpRequest,
    template: str,
    language: str,
    context: dict[str, Any],
    *,
    status: int = 200,
    languages: list[str] | None = None,
) -> HttpResponse:
    with translation_for(language):
        response = render(
            request,
            template,
            {
                "language": language,
                "languages": [(code, LANGUAGE_NAMES.get(code, code)) for code in (languages or [])],
                **context,
            },
            status=status,
        )
    response["Cache-Control"] = "no-store"
    response.set_cookie(
        LANGUAGE_COOKIE, language, samesite="Lax", secure=settings.SESSION_COOKIE_SECURE, httponly=True
    )
    return response


def message_page(
    request: HttpRequest,
    language: str,
    title_key: str,
    body_key: str,
    *,
    status: int = 200,
    link: str | None = None,
) -> HttpResponse:
    return render_participant(
        request,
        "survey/participant/message.html",
        language,
        {
            "title": text(title_key, language),
            "body": text(body_key, language),
            "link": link,
        },
        status=status,
    )


def _availability(study: Study, sample: Sample) -> str | None:
    today = timezone.localdate()
    if study.opens_on and today < study.opens_on:
        return "not_open_body"
    if study.closes_on and today > study.closes_on:
        return "closed_body"
    if study.target_size or sample.target_size:
        done = completions_by_sample(study)
        if (study.target_size and sum(done.values()) >= study.target_size) or (
            sample.target_size and done.get(sample.pk, 0) >= sample.target_size
        ):
            return "closed_body"
    return None


def read_resume_cookie(study: Study, value: str | None) -> tuple[str | None, float | None]:
    """The resume token and start time (seconds since the epoch) a resume cookie holds, if genuine."""
    if not value:
        return None, None
    holder = HttpRequest()  # Django's own reading of a signed cookie, for callers without a request
    holder.COOKIES = {cookie_name(study): value}
    content = holder.get_signed_cookie(cookie_name(study), default=None, salt=COOKIE_SALT)
    if not content:
        return None, None
    token, _, started = content.partition("|")
    return token or None, float(started) if started.isdigit() else None


def _resume(request: HttpRequest, study: Study) -> tuple[PendingResponse | None, float | None, str | None]:
    """The response this browser is answering, when it started, and its resume token."""
    token, started = read_resume_cookie(study, request.COOKIES.get(cookie_name(study)))
    if not token:
        return None, None, None
    return response_for_token(study_id=study.pk, token=token), started, token


def _resume_lifetime(study: Study) -> int:
    """Seconds the resume cookie lives: until the study closes (at most 90 days)."""
    longest = 60 * 60 * 24 * 90
    if study.closes_on is None:
        return longest
    days_left = (study.closes_on - timezone.localdate()).days + 1
    return max(60, min(longest, days_left * 24 * 60 * 60))


def _set_resume_cookie(http_response: HttpResponse, study: Study, token: str) -> None:
    http_response.set_signed_cookie(
        cookie_name(study),
        f"{token}|{int(time.time())}",
        salt=COOKIE_SALT,
        max_age=_resume_lifetime(study),
        httponly=True,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
        path=f"/s/{study.slug}/",
    )


def _out_of_order(request: HttpRequest, study: Study, response: PendingResponse) -> HttpResponse:
    """A page not open yet (or a finished one): nothing changes; the link leads back to where they are."""
    return message_page(
        request,
        response.language,
        "trouble_title",
        "out_of_order",
        status=409,
        link=_page_url(study, response.position),
    )


def _page_url(study: Study, index: int) -> str:
    return reverse("survey:page", args=[study.slug, index])


@never_cache
@require_http_methods(["GET", "POST"])
def entry(request: HttpRequest, study_slug: str, sample_slug: str | None = None) -> HttpResponse:
    """The study's link: the consent page, or where this browser left off."""
    study = get_object_or_404(Study, slug=study_slug)
    sample = get_object_or_404(
        Sample, study=study, **({"slug": sample_slug} if sample_slug else {"is_default": True})
    )
    version = latest_published_version(study)
    language = choose_language(request, study.languages, sample.default_language)
    if version is None:
        return message_page(request, language, "closed_title", "not_open_body")
    existing, _, _ = _resume(request, study)
    if existing is not None and existing.status == ResponseStatus.IN_PROGRESS:
        return HttpResponseRedirect(_page_url(study, existing.position))
    if study.completed_marker and request.COOKIES.get(done_cookie_name(study)) == "1":
        return message_page(request, language, "thanks_title", "done_body")
    unavailable = _availability(study, sample)
    if unavailable:
        return message_page(request, language, "closed_title", unavailable)
    consent = version.consent
    if request.method == "POST" and request.POST.get("action") == "continue":
        return _continue_post(request, study, sample, consent, language)
    if request.method == "POST":
        return _consent_post(request, study, sample, version, consent, language)
    return _consent_page(request, study, sample, consent, language)


def _browser_mark(request: HttpRequest) -> str:
    """This browser's random mark (a new one if it has none yet)."""
    mark = request.COOKIES.get(BROWSER_COOKIE, "")
    return mark if 20 <= len(mark) <= 64 and mark.isascii() else secrets.token_urlsafe(24)


def _continue_post(request, study, sample, consent, language) -> HttpResponse:
    """A code from another device: this browser takes over the response; a wrong code is said so."""
    result = response_continue(study_id=study.pk, code=request.POST.get("code", "")[:MAX_CODE_INPUT])
    if result.outcome == ContinueOutcome.CONTINUED:
        http_response = HttpResponseRedirect(_page_url(study, result.position))
        _set_resume_cookie(http_response, study, result.token)
        return http_response
    if result.outcome == ContinueOutcome.MALFORMED and result.problem == "typo":
        message = _malformed_message(result.problem, result.detail, language)
    elif result.outcome == ContinueOutcome.MALFORMED:
        message = text("continue_malformed", language)
    else:
        message = text(
            "continue_rate" if result.outcome == ContinueOutcome.RATE_LIMITED else "continue_unknown",
            language,
        )
    return _consent_page(
        request,
        study,
        sample,
        consent,
        language,
        continue_error=message,
        continue_typed=request.POST.get("code", "")[:MAX_CODE_INPUT],
        status=429 if result.outcome == ContinueOutcome.RATE_LIMITED else 400,
    )


@never_cache
@require_http_methods(["POST"])
def continue_code(request: HttpRequest, study_slug: str) -> HttpResponse:
    """ "Continue on another device": the code to enter on the study's link elsewhere."""
    study = get_object_or_404(Study, slug=study_slug)
    response, _, token = _resume(request, study)
    if response is None or response.status != ResponseStatus.IN_PROGRESS:
        language = choose_language(request, study.languages, study.languages[0])
        return message_page(request, language, "trouble_title", "session_invalid", status=403)
    code = response_continue_code(study_id=study.pk, token=token)
    link = reverse("survey:entry_sample", args=[study.slug, response.sample.slug])
    return render_participant(
        request,
        "survey/participant/continue.html",
        response.language,
        {
            "study": study,
            "title": study.title_in(response.language),
            "code": code,
            "link": request.build_absolute_uri(link),
            "back": _page_url(study, response.position),
            "closes_on": study.closes_on,
        },
        languages=study.languages,
    )


def _consent_page(
    request,
    study,
    sample,
    consent,
    language,
    *,
    error: str = "",
    status: int = 200,
    continue_error: str = "",
    continue_typed: str = "",
) -> HttpResponse:
    mark = _browser_mark(request)
    key = {"k": secrets.token_urlsafe(24), "b": keyed_hash(mark, "browser")[:32]}
    http_response = render_participant(
        request,
        "survey/participant/consent.html",
        language,
        {
            "study": study,
            "title": study.title_in(language),
            "consent_text": text_in(consent.texts, language, sample.default_language),
            "research_team": text_in(consent.research_team, language, sample.default_language),
            "contact": text_in(consent.contact, language, sample.default_language),
            "ethics_committee": text_in(consent.ethics_committee, language, sample.default_language),
            "ethics_reference": consent.ethics_reference,
            "consent_version": consent.version,
            "consent_key": signing.dumps(key, salt=CONSENT_SALT),
            "error": error,
            "elsewhere": text("consent_elsewhere", language) if error == "elsewhere" else "",
            "continue_error": continue_error,
            "continue_typed": continue_typed,
        },
        status=status,
        languages=study.languages,
    )
    http_response.set_cookie(
        BROWSER_COOKIE,
        mark,
        path="/s/",
        httponly=True,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )
    return http_response


def _consent_post(request, study, sample, version, consent, language) -> HttpResponse:
    if request.POST.get("action") == "decline":
        consent_decline(sample=sample)
        response = message_page(request, language, "declined_title", "declined_body")
        response.delete_cookie(cookie_name(study), path=f"/s/{study.slug}/")
        return response
    try:
        key = signing.loads(request.POST.get("consent_key", ""), salt=CONSENT_SALT, max_age=CONSENT_MAX_AGE)
    except signing.BadSignature:
        return message_page(request, language, "trouble_title", "bad_request", status=400)
    mark = request.COOKIES.get(BROWSER_COOKIE, "")
    if not isinstance(key, dict) or not mark or key.get("b") != keyed_hash(mark, "browser")[:32]:
        # Shown to another browser (or this one lost its cookies): start afresh here.
        return _consent_page(request, study, sample, consent, language, error="elsewhere", status=400)
    if request.POST.get("agree") != "yes":
        return _consent_page(request, study, sample, consent, language, error="unticked")
    started = response_start(
        sample=sample, version=version, consent=consent, language=language, creation_key=str(key.get("k"))
    )
    http_response = HttpResponseRedirect(_page_url(study, started.response.position))
    _set_resume_cookie(http_response, study, started.resume_token)
    return http_response


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
    }


@never_cache
@require_http_methods(["GET", "POST"])
def page(request: HttpRequest, study_slug: str, index: int) -> HttpResponse:
    study = get_object_or_404(Study, slug=study_slug)
    response, started_at, token = _resume(request, study)
    if response is None:
        language = choose_language(request, study.languages, study.languages[0])
        if request.method == "POST" and token:
            # A genuine cookie whose response has left the working table: released (a late second
            # click of "Finish" gets the same thank-you page) or ended (screened out, withdrawn).
            return _finish(request, study, None, token, None, language)
        if request.method == "POST":
            return message_page(request, language, "trouble_title", "session_invalid", status=403)
        return HttpResponseRedirect(reverse("survey:entry", args=[study.slug]))
    if request.GET.get("lang") in study.languages and request.GET["lang"] != response.language:
        response_set_language(response_id=response.pk, language=request.GET["lang"])
        return HttpResponseRedirect(request.path)
    language = response.language
    if response.status == ResponseStatus.COMPLETE:
        if request.method == "POST":
            return _finish(request, study, response.pk, token, started_at, language)
        return message_page(request, language, "thanks_title", "done_body")
    spec = spec_for(response.version)
    all_pages = flow.pages(spec, response.display)
    if (
        index >= len(all_pages)
        or index > response.furthest
        or not flow.page_applies(all_pages[index], response.answers)
    ):
        if request.method == "POST":
            return _out_of_order(request, study, response)
        return HttpResponseRedirect(_page_url(study, response.position))
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
        form = PageForm(initial=initial, questions=questions, **kwargs)
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
            "title": text_in(spec["title"], response.language, spec["default_language"]),
            "section_label": flow.piped(
                text_in(current.section["label"], response.language, spec["default_language"]),
                spec,
                answers,
                response.language,
            ),
            "form": form,
            "relevant": relevant,
            "participant_page": True,
            "relevance_url": (
                reverse("survey:relevance", args=[study.slug, current.index])
                if any(q["relevance"] for q in current.questions)
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


@never_cache
@require_http_methods(["POST"])
def relevance(request: HttpRequest, study_slug: str, index: int) -> HttpResponse:
    """Which questions of the page apply to the answers typed so far: ``{"relevant": [codes]}``.

    The page's script posts the page's fields here after each change. Nothing is stored and nothing
    is logged but the path (Django's log of a refused request); the page works without it.
    """
    study = get_object_or_404(Study, slug=study_slug)
    response, _, _ = _resume(request, study)
    if response is None or response.status != ResponseStatus.IN_PROGRESS:
        return JsonResponse({"relevant": None}, status=409)
    spec = spec_for(response.version)
    all_pages = flow.pages(spec, response.display)
    if index >= len(all_pages) or index > response.furthest:
        return JsonResponse({"relevant": None}, status=409)
    current = all_pages[index]
    kwargs = _form_kwargs(spec, response)
    if not is_well_formed(PageForm(questions=current.questions, **kwargs), request.POST):
        return JsonResponse({"relevant": None}, status=400)
    with translation_for(response.language):
        codes = relevant_codes(
            data=request.POST, page_questions=current.questions, stored=response.answers, form_kwargs=kwargs
        )
    return JsonResponse({"relevant": codes})


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
            return _out_of_order(request, study, response)
        chosen = action.removeprefix(LANGUAGE_ACTION)
        if chosen in study.languages:
            response_set_language(response_id=response.pk, language=chosen)
        return HttpResponseRedirect(_page_url(study, current.index))
    if request.POST.get("action") == "back":
        previous = flow.previous_page(all_pages, current.index, response.answers)
        if previous is not None:
            typed = _typed(PageForm(questions=current.questions, **kwargs), request.POST)
            try:
                response_move(response_id=response.pk, page_index=previous, typed=typed)
            except FlowError:
                return _out_of_order(request, study, response)
        return HttpResponseRedirect(_page_url(study, previous if previous is not None else current.index))
    everything = PageForm(questions=current.questions, **kwargs)
    if not is_well_formed(everything, request.POST):
        return message_page(
            request,
            language,
            "trouble_title",
            "bad_request",
            status=400,
            link=_page_url(study, current.index),
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
            return HttpResponseRedirect(_page_url(study, pending_position(response_id=response.pk)))
        if error.code == "ended":
            return _visit_ended(request, study, language)
        return _out_of_order(request, study, response)
    if isinstance(outcome, ScreenedOut):
        return _screened_out(request, study, language, outcome)
    if isinstance(outcome, Completed):
        return _thanks(request, study, outcome, language)
    return HttpResponseRedirect(_page_url(study, outcome if outcome is not None else current.index))


def _finish(request, study, response_id, token, started_at, language) -> HttpResponse:
    """A "Finish" (or any page) posted by a browser whose response is complete: the same thank-you."""
    finish = Finish(receipt_code_for_token(study_id=study.pk, token=token), started_at)
    try:
        completed = response_complete(response_id=response_id, finish=finish)
    except FlowError as error:
        if error.code == "ended":
            return _visit_ended(request, study, language)
        return message_page(request, language, "thanks_title", "done_body")
    if isinstance(completed, ScreenedOut):
        return _screened_out(request, study, language, completed)
    return _thanks(request, study, completed, language)


def _visit_ended(request: HttpRequest, study: Study, language: str) -> HttpResponse:
    """The repeat of a click whose first request ended the visit (a full quota cell): nothing is
    wrong, there is just nothing left to do."""
    http_response = message_page(request, language, "ended_title", "ended_body")
    http_response.delete_cookie(cookie_name(study), path=f"/s/{study.slug}/")
    return http_response


def _thanks(request, study, completed: Completed, language: str) -> HttpResponse:
    panel_link = completed.sample.panel_link("completion")
    freeze = study.data_freeze_on
    warning = (
        text("receipt_warning", language, date=freeze.isoformat())
        if freeze
        else text("receipt_warning_no_date", language)
    )
    withdraw_url = request.build_absolute_uri(reverse("survey:withdraw"))
    http_response = render_participant(
        request,
        "survey/participant/thanks.html",
        language,
        {
            "study": study,
            "receipt_code": completed.receipt_code,
            "panel_link": panel_link,
            "receipt_warning": warning,
            "receipt_file": text(
                "receipt_file", language, code=completed.receipt_code, address=withdraw_url, warning=warning
            ),
            "receipt_filename": f"receipt-{completed.receipt_code.split('-')[0]}.txt",
            "synthetic": completed.synthetic,
        },
    )
    http_response.delete_cookie(cookie_name(study), path=f"/s/{study.slug}/")
    if study.completed_marker:
        http_response.set_cookie(
            done_cookie_name(study),
            "1",
            max_age=_resume_lifetime(study),
            path=f"/s/{study.slug}/",
            httponly=True,
            samesite="Lax",
            secure=settings.SESSION_COOKIE_SECURE,
        )
    return http_response


def _screened_out(request: HttpRequest, study: Study, language: str, screened: ScreenedOut) -> HttpResponse:
    """A polite end for a participant of a full quota cell: nothing they answered is kept, and the
    panel's over-quota (or screen-out) link, when the sample has one, takes them back."""
    http_response = render_participant(
        request,
        "survey/participant/screened_out.html",
        language,
        {
            "study": study,
            "title": study.title_in(language),
            "panel_link": screened.sample.panel_link(screened.outcome),
        },
    )
    http_response.delete_cookie(cookie_name(study), path=f"/s/{study.slug}/")
    return http_response


WITHDRAWAL_MESSAGES = {
    WithdrawalOutcome.DELETED: "withdraw_deleted",
    WithdrawalOutcome.NOT_FOUND: "withdraw_not_found",
    WithdrawalOutcome.FROZEN: "withdraw_frozen",
    WithdrawalOutcome.RATE_LIMITED: "withdraw_rate",
}
MALFORMED_MESSAGES = {
    "empty": "withdraw_empty",
    "characters": "withdraw_bad_characters",
    "study": "withdraw_no_study",
    "length": "withdraw_bad_length",
    "mistyped": "withdraw_mistyped",
}
TYPO_MESSAGES = {None: "withdraw_typo", 0: "withdraw_typo_study"}
MAX_CODE_INPUT = 200


def _malformed_message(problem: str, detail: dict[str, Any], language: str) -> str:
    values = {name: str(value) for name, value in detail.items()}
    if problem == "typo":
        return text(TYPO_MESSAGES.get(detail.get("group"), "withdraw_typo_group"), language, **values)
    return text(MALFORMED_MESSAGES.get(problem, "withdraw_malformed"), language, **values)


@never_cache
@require_http_methods(["GET", "POST"])
def withdraw(request: HttpRequest) -> HttpResponse:
    """The receipt code, then a confirmation naming what will be deleted, then the outcome."""
    language = choose_language(request, ["en", "zh"], "en")
    outcome = message = typed = ""
    status = 200
    confirm: dict[str, Any] = {}
    if request.method == "POST":
        typed = request.POST.get("code", "")[:MAX_CODE_INPUT]
        result = response_withdraw(code=typed, confirmed=request.POST.get("action") == "confirm")
        outcome = result.outcome
        if outcome == WithdrawalOutcome.MALFORMED:
            message = _malformed_message(result.problem, result.detail, language)
            status = 400
        elif outcome == WithdrawalOutcome.CONFIRM:
            confirm = {"study": result.study.title_in(language), "answers": result.answers}
        else:
            message = text(WITHDRAWAL_MESSAGES[outcome], language)
            status = 429 if outcome == WithdrawalOutcome.RATE_LIMITED else 200
    return render_participant(
        request,
        "survey/participant/withdraw.html",
        language,
        {
            "outcome": message,
            "deleted": outcome == WithdrawalOutcome.DELETED,
            "malformed": outcome == WithdrawalOutcome.MALFORMED,
            "confirm": confirm,
            # A code that could not be read is shown again, to be corrected; a found one is carried
            # to the confirmation.
            "typed": typed if outcome in (WithdrawalOutcome.MALFORMED, WithdrawalOutcome.CONFIRM) else "",
            "title": text("withdraw_title", language),
        },
        status=status,
        languages=["en", "zh"],
    )
