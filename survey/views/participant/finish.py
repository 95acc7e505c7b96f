"""The end of a visit: the thank-you page with the receipt code, a polite end for a full quota
cell, and the repeat of a click that already ended the visit."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from ...models import Study
from ...participant_text import text
from ...services.responses import (
    Completed,
    Finish,
    FlowError,
    ScreenedOut,
    receipt_code_for_token,
    response_complete,
)
from .common import message_page, render_participant
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


def thanks_page(request, study, completed: Completed, language: str) -> HttpResponse:
    """The thank-you page with the receipt code (shown once); ends the resume cookie and, when the
    study asks for it, marks this browser as having completed it."""
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
            max_age=resume_lifetime(study),
            path=f"/s/{study.slug}/",
            httponly=True,
            samesite="Lax",
            secure=settings.SESSION_COOKIE_SECURE,
        )
    return http_response


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
