"""The study's link: the consent page (agree, decline, or a code from another device)."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from ...forms import text_in
from ...models import ResponseStatus, Sample, Study
from ...participant_text import text
from ...receipts import keyed_hash
from ...selectors import latest_published_version, study_closed_reason
from ...services.responses import ContinueOutcome, consent_decline, response_continue, response_start
from .common import (
    MAX_CODE_INPUT,
    choose_language,
    malformed_message,
    message_page,
    page_url,
    render_participant,
)
from .resume import WITHDRAWN_MARKER, cookie_name, done_cookie_name, resumed_response, set_resume_cookie

CONSENT_SALT = "candid-consent"
# A random value this browser keeps while it may send a consent form: the form is accepted only
# from the browser it was shown to (a form copied to another browser cannot take over a response).
BROWSER_COOKIE = "candid_browser"
CONSENT_MAX_AGE = 60 * 60 * 24
UNAVAILABLE_MESSAGES = {"not_open": "not_open_body", "closed": "closed_body"}


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
    existing, _, _ = resumed_response(request, study)
    if existing is not None and existing.status == ResponseStatus.IN_PROGRESS:
        return HttpResponseRedirect(page_url(study, existing.position))
    marker = request.COOKIES.get(done_cookie_name(study)) if study.completed_marker else None
    if marker == WITHDRAWN_MARKER:
        return message_page(request, language, "finished_title", "withdrawn_body")
    if marker == "1":
        # Not "your answers are saved": they may since have been withdrawn from another browser.
        return message_page(request, language, "finished_title", "done_body")
    unavailable = study_closed_reason(study, sample)
    if unavailable:
        return message_page(request, language, "closed_title", UNAVAILABLE_MESSAGES[unavailable])
    consent = version.consent
    if request.method == "POST" and request.POST.get("action") == "continue":
        return _continue_post(request, study, sample, consent, language)
    if request.method == "POST":
        return _consent_post(request, study, sample, version, consent, language)
    return consent_page(request, study, sample, consent, language)


def _browser_mark(request: HttpRequest) -> str:
    """This browser's random mark (a new one if it has none yet)."""
    mark = request.COOKIES.get(BROWSER_COOKIE, "")
    return mark if 20 <= len(mark) <= 64 and mark.isascii() else secrets.token_urlsafe(24)


def _continue_post(request, study, sample, consent, language) -> HttpResponse:
    """A code from another device: this browser takes over the response; a wrong code is said so."""
    result = response_continue(study_id=study.pk, code=request.POST.get("code", "")[:MAX_CODE_INPUT])
    if result.outcome == ContinueOutcome.CONTINUED:
        http_response = HttpResponseRedirect(page_url(study, result.position))
        set_resume_cookie(http_response, study, result.token)
        return http_response
    if result.outcome == ContinueOutcome.MALFORMED and result.problem == "typo":
        message = malformed_message(result.problem, result.detail, language)
    elif result.outcome == ContinueOutcome.MALFORMED:
        message = text("continue_malformed", language)
    else:
        message = text(
            "continue_rate" if result.outcome == ContinueOutcome.RATE_LIMITED else "continue_unknown",
            language,
        )
    return consent_page(
        request,
        study,
        sample,
        consent,
        language,
        continue_error=message,
        continue_typed=request.POST.get("code", "")[:MAX_CODE_INPUT],
        status=429 if result.outcome == ContinueOutcome.RATE_LIMITED else 400,
    )


def consent_page(
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
    """The consent page, with a fresh consent key bound to this browser's mark (set as a cookie)."""
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
        return consent_page(request, study, sample, consent, language, error="elsewhere", status=400)
    if request.POST.get("agree") != "yes":
        return consent_page(request, study, sample, consent, language, error="unticked")
    started = response_start(
        sample=sample, version=version, consent=consent, language=language, creation_key=str(key.get("k"))
    )
    http_response = HttpResponseRedirect(page_url(study, started.response.position))
    set_resume_cookie(http_response, study, started.resume_token)
    return http_response
