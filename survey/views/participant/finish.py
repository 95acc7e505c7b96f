"""The end of a visit: the thank-you page with the receipt code, a polite end for a full quota
cell, and the repeat of a click that already ended the visit.

"Finish" answers with a redirect (POST/redirect/GET) to the study's thank-you address, so a reload
(phones reload tabs) asks for that page again instead of sending "Finish" once more. The receipt code
travels to it in a signed cookie of this browser only (path of the study) that ends with the browser
session and is read for :data:`RECEIPT_COOKIE_SECONDS` after it was signed: it is never stored on the server, beside the response or in a session row. After
the cookie has expired the same address shows a neutral "you have finished" page, never an error.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from ...models import Sample, Study
from ...participant_text import text
from ...services.responses import (
    Completed,
    Finish,
    FlowError,
    ScreenedOut,
    receipt_code_for_token,
    response_complete,
)
from .common import choose_language, message_page, render_participant
from .resume import cookie_name, done_cookie_name, resume_lifetime


def completed_page(request, study, response_id, token, started_at, language) -> HttpResponse:
    """A "Finish" (or any page) posted by a browser whose response is complete: the same thank-you."""
    finish = Finish(receipt_code_for_token(study_id=study.pk, token=token), started_at)
    try:
        completed = response_complete(response_id=response_id, finish=finish)
    except FlowError as error:
        if error.code == "ended":
            return visit_ended(request, study, language)
        return message_page(request, language, "thanks_title", "done_body")
    if isinstance(completed, ScreenedOut):
        return screened_out_page(request, study, language, completed)
    return thanks_page(request, study, completed, language)


def visit_ended(request: HttpRequest, study: Study, language: str) -> HttpResponse:
    """The repeat of a click whose first request ended the visit (a full quota cell): nothing is
    wrong, there is just nothing left to do."""
    http_response = message_page(request, language, "ended_title", "ended_body")
    http_response.delete_cookie(cookie_name(study), path=f"/s/{study.slug}/")
    return http_response


RECEIPT_COOKIE_SALT = "candid-receipt"
RECEIPT_COOKIE_SECONDS = 15 * 60
"""How long a reload of the thank-you page shows the receipt code again in the same browser."""


def receipt_cookie_name(study: Study) -> str:
    """The cookie that carries the receipt code from "Finish" to the thank-you page (signed)."""
    return f"candid_receipt_{study.pk}"


def thanks_page(request, study, completed: Completed, language: str) -> HttpResponse:
    """The answer to "Finish": a redirect to the thank-you page, with the receipt code in a signed
    session cookie read for :data:`RECEIPT_COOKIE_SECONDS` (the signature's timestamp); ends the resume cookie and, when the study asks
    for it, marks this browser as having completed it."""
    http_response = HttpResponseRedirect(reverse("survey:thanks", args=[study.slug]))
    http_response.status_code = 303  # See Other: the reload asks for the thank-you page with GET
    path = f"/s/{study.slug}/"
    payload = "|".join(
        [completed.receipt_code, language, str(completed.sample.pk), "1" if completed.synthetic else "0"]
    )
    http_response.set_signed_cookie(
        receipt_cookie_name(study),
        payload,
        salt=RECEIPT_COOKIE_SALT,
        path=path,
        httponly=True,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )
    http_response.delete_cookie(cookie_name(study), path=path)
    if study.completed_marker:
        http_response.set_cookie(
            done_cookie_name(study),
            "1",
            max_age=resume_lifetime(study),
            path=path,
            httponly=True,
            samesite="Lax",
            secure=settings.SESSION_COOKIE_SECURE,
        )
    return http_response


def thanks_again(request: HttpRequest, study: Study) -> HttpResponse | None:
    """The thank-you page again (303) for a POST from a browser that already finished here and lost
    its resume cookie to that: the other request of a double click, or one sent again after a failed
    one, arriving after the first "Finish" answered. None when the browser holds no receipt cookie."""
    payload = request.get_signed_cookie(
        receipt_cookie_name(study), default=None, salt=RECEIPT_COOKIE_SALT, max_age=RECEIPT_COOKIE_SECONDS
    )
    if payload is None:
        return None
    http_response = HttpResponseRedirect(reverse("survey:thanks", args=[study.slug]))
    http_response.status_code = 303
    return http_response


@never_cache
@require_GET
def thanks(request: HttpRequest, study_slug: str) -> HttpResponse:
    """The thank-you page "Finish" leads to, as often as it is reloaded: with the receipt code while
    this browser's receipt cookie lives, afterwards (or without one) a neutral "you have finished"."""
    study = get_object_or_404(Study, slug=study_slug)
    payload = request.get_signed_cookie(
        receipt_cookie_name(study), default=None, salt=RECEIPT_COOKIE_SALT, max_age=RECEIPT_COOKIE_SECONDS
    )
    parts = payload.split("|") if payload else []
    if len(parts) != 4 or parts[1] not in study.languages:
        language = choose_language(request, study.languages, study.languages[0])
        return message_page(request, language, "finished_title", "finished_body")
    code, language, sample_id, synthetic = parts
    sample = Sample.objects.filter(study=study, pk=int(sample_id)).first() if sample_id.isdigit() else None
    return _receipt_page(request, study, code, sample, synthetic == "1", language)


def _receipt_page(request, study, code: str, sample: Sample | None, synthetic: bool, language: str):
    panel_link = sample.panel_link("completion") if sample is not None else None
    freeze = study.data_freeze_on
    warning = (
        text("receipt_warning", language, date=freeze.isoformat())
        if freeze
        else text("receipt_warning_no_date", language)
    )
    withdraw_url = request.build_absolute_uri(reverse("survey:withdraw"))
    return render_participant(
        request,
        "survey/participant/thanks.html",
        language,
        {
            "study": study,
            "receipt_code": code,
            "panel_link": panel_link,
            "receipt_warning": warning,
            "receipt_file": text("receipt_file", language, code=code, address=withdraw_url, warning=warning),
            "receipt_filename": f"receipt-{code.split('-')[0]}.txt",
            "synthetic": synthetic,
        },
    )


def screened_out_page(
    request: HttpRequest, study: Study, language: str, screened: ScreenedOut
) -> HttpResponse:
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
