"""Error pages a participant may meet: plain words, no stack trace, nothing lost."""

from __future__ import annotations

import logging
import sys

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger("candid.errors")

MESSAGES = {
    400: (_("The request could not be read"), _("Please go back, reload the page and try again.")),
    403: (
        _("This action is not allowed"),
        _(
            "Your session may have expired. Reload the page and try again; nothing you already answered is lost."
        ),
    ),
    404: (_("Page not found"), _("Please check the link you were given.")),
    500: (
        _("Something went wrong"),
        _(
            "We could not complete that step. Nothing you already answered is lost. Please try again in a moment."
        ),
    ),
    503: (
        _("Please try again"),
        _(
            "The survey is briefly unavailable. Nothing you already answered is lost. Please try again in a moment."
        ),
    ),
}


def error_page(request: HttpRequest, status: int) -> HttpResponse:
    title, body = MESSAGES[status]
    response = render(
        request, "survey/error.html", {"title": title, "body": body, "status": status}, status=status
    )
    response["Cache-Control"] = "no-store"
    return response


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_page(request, 400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_page(request, 403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_page(request, 404)


# The researchers' and analysts' pages: a stopped request there gets words for them, not the
# participants' "the survey is briefly unavailable ... nothing you answered is lost".
STAFF_VIEWS = ("survey.views.studio", "survey.views.results", "survey.views.claims", "survey.views.analyst")


def try_again_page(request: HttpRequest) -> HttpResponse:
    """The "please try again" page (503): nothing was saved, and retrying is safe. On a staff page
    (:data:`STAFF_VIEWS`) it says so in the reader's language and, for a GET, reloads itself (a
    results page or report being built in the background then shows it)."""
    match = getattr(request, "resolver_match", None)
    if match is not None and match.func.__module__.startswith(STAFF_VIEWS):
        context = {"reload": request.method == "GET", "language": get_language()}
        response = render(request, "survey/staff_busy.html", context, status=503)
        response["Cache-Control"] = "no-store"
    else:
        response = error_page(request, 503)
    response["Retry-After"] = "5"
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    # Django calls this while handling the exception: a stalled request or a database that went
    # away outside a view (in a middleware) still gets the page that says to try again.
    from ..logic import ExpressionBudgetExceeded
    from ..middleware import RequestTimeBudgetExceeded

    if isinstance(sys.exc_info()[1], (RequestTimeBudgetExceeded, ExpressionBudgetExceeded, DatabaseError)):
        return try_again_page(request)
    return error_page(request, 500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return error_page(request, 403)


class DatabaseTroubleMiddleware:
    """A database that is restarting or locked gives a friendly "try again" page (503), not a 500.

    Every write is one transaction, so a failed request changed nothing and retrying is safe.
    Only the exception's class is logged — never the request (it could carry a panel id).
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, DatabaseError):
            logger.warning("database unavailable: %s", type(exception).__name__)
            return try_again_page(request)
        return None
