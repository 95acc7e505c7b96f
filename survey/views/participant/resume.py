"""The resume cookie that keeps a browser at its response, the "already completed" marker, and
"Continue on another device" (a code to enter on the study's link elsewhere)."""

from __future__ import annotations

import time

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from ...models import PendingResponse, ResponseStatus, Study
from ...services.responses import response_continue_code, response_for_token
from .common import choose_language, message_page, page_url, render_participant

COOKIE_SALT = "candid-resume"


def cookie_name(study: Study) -> str:
    """The resume cookie of ``study`` (its value is signed: a token and the start time)."""
    return f"candid_{study.pk}"


WITHDRAWN_MARKER = "withdrawn"
"""The marker's value after the answers were withdrawn in this browser (else "1")."""


def done_cookie_name(study: Study) -> str:
    """The marker a browser keeps after completing a study that asks for one: its value is "1"."""
    return f"candid_done_{study.pk}"


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


def resumed_response(
    request: HttpRequest, study: Study
) -> tuple[PendingResponse | None, float | None, str | None]:
    """The response this browser is answering, when it started, and its resume token."""
    token, started = read_resume_cookie(study, request.COOKIES.get(cookie_name(study)))
    if not token:
        return None, None, None
    return response_for_token(study_id=study.pk, token=token), started, token


def resume_lifetime(study: Study) -> int:
    """Seconds the resume cookie lives: until the study closes (at most 90 days)."""
    longest = 60 * 60 * 24 * 90
    if study.closes_on is None:
        return longest
    days_left = (study.closes_on - timezone.localdate()).days + 1
    return max(60, min(longest, days_left * 24 * 60 * 60))


def set_resume_cookie(
    http_response: HttpResponse, study: Study, token: str, *, started: int | None = None
) -> None:
    """Keep ``token`` and the start (seconds since the epoch; now unless ``started`` is given: a
    synthetic respondent's start is dated back by the time it takes) in the browser."""
    http_response.set_signed_cookie(
        cookie_name(study),
        f"{token}|{int(time.time()) if started is None else started}",
        salt=COOKIE_SALT,
        max_age=resume_lifetime(study),
        httponly=True,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
        path=f"/s/{study.slug}/",
    )


@never_cache
@require_http_methods(["POST"])
def continue_code(request: HttpRequest, study_slug: str) -> HttpResponse:
    """ "Continue on another device": the code to enter on the study's link elsewhere."""
    study = get_object_or_404(Study, slug=study_slug)
    response, _, token = resumed_response(request, study)
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
            "back": page_url(study, response.position),
            "closes_on": study.closes_on,
        },
        languages=study.languages,
    )
