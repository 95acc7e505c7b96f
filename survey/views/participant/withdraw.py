"""Withdrawal: the receipt code, then a confirmation naming what will be deleted, then the outcome."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from ...models import Study
from ...participant_text import text
from ...services.responses import WithdrawalOutcome, response_withdraw
from .common import MAX_CODE_INPUT, choose_language, malformed_message, render_participant
from .finish import receipt_cookie_name
from .resume import WITHDRAWN_MARKER, done_cookie_name, resume_lifetime

WITHDRAWAL_MESSAGES = {
    WithdrawalOutcome.DELETED: "withdraw_deleted",
    WithdrawalOutcome.NOT_FOUND: "withdraw_not_found",
    WithdrawalOutcome.FROZEN: "withdraw_frozen",
    WithdrawalOutcome.RATE_LIMITED: "withdraw_rate",
}


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
            message = malformed_message(result.problem, result.detail, language)
            status = 400
        elif outcome == WithdrawalOutcome.CONFIRM:
            confirm = {"study": result.study.title_in(language), "answers": result.answers}
        else:
            message = text(WITHDRAWAL_MESSAGES[outcome], language)
            status = 429 if outcome == WithdrawalOutcome.RATE_LIMITED else 200
    http_response = render_participant(
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
    if outcome == WithdrawalOutcome.DELETED and result.study is not None:
        mark_withdrawn(http_response, result.study)
    return http_response


def mark_withdrawn(http_response: HttpResponse, study: Study) -> None:
    """After a withdrawal in this browser: the study's link no longer says the answers are saved
    (its completed marker says withdrawn), and the thank-you page no longer shows the receipt."""
    path = f"/s/{study.slug}/"
    http_response.delete_cookie(receipt_cookie_name(study), path=path)
    if study.completed_marker:
        http_response.set_cookie(
            done_cookie_name(study),
            WITHDRAWN_MARKER,
            max_age=resume_lifetime(study),
            path=path,
            httponly=True,
            samesite="Lax",
            secure=settings.SESSION_COOKIE_SECURE,
        )
