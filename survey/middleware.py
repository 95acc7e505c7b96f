"""Middleware for every page: no copies kept by browsers or proxies, a time budget per request and
one for the expressions a page evaluates; and the deadline of work a staff page may hand to the
background worker instead of running out of that budget (:func:`inline_deadline`).

Static files are served by WhiteNoise before these run, so they stay cacheable.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control

logger = logging.getLogger("candid.errors")


class NoStoreMiddleware:
    """``Cache-Control: no-store, private`` on every page and download Candid produces.

    Staff pages show results and microdata; participant pages show answers and receipt codes:
    none may be kept in a shared proxy, the browser's disk cache or its back-forward cache.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        patch_cache_control(response, no_store=True, private=True)
        return response


class NullCharactersMiddleware:
    """A request whose parameters hold a NUL character gets the "could not be read" page (400).

    No form or link of Candid's sends one, and PostgreSQL refuses it in any text, so without this a
    NUL in, say, an admin list's filter (``?status__exact=%00``) would fail in the database instead.
    Multipart bodies (uploads) are left to their forms, so that a view may still choose its upload
    handlers; form fields refuse NUL themselves.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from .views.errors import bad_request

        sources = [request.GET]
        if request.content_type == "application/x-www-form-urlencoded":
            sources.append(request.POST)
        if "\x00" in request.path or any(
            "\x00" in key or any("\x00" in value for value in values)
            for data in sources
            for key, values in data.lists()
        ):
            return bad_request(request)
        return self.get_response(request)


class RequestTimeBudgetExceeded(Exception):
    """A request ran past ``CANDID_REQUEST_BUDGET_SECONDS``."""


def _expired(signum: int, frame: Any) -> None:
    raise RequestTimeBudgetExceeded


class RequestTimeBudgetMiddleware:
    """Stops a request that runs past ``CANDID_REQUEST_BUDGET_SECONDS`` (set below gunicorn's
    ``timeout``), so the visitor gets the "please try again" page (503) instead of gunicorn killing
    the worker, answering with a bare error and logging the request line.

    The budget is an interval timer (SIGALRM), which only the main thread of a process can
    receive: it applies in gunicorn's sync workers, and nowhere else (threads of the development
    server or of a live test server run without it). An alarm already set by someone else (a test
    runner's time limit) is respected and given back. Every write is one transaction, so a stopped
    request changed nothing.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        budget = float(getattr(settings, "CANDID_REQUEST_BUDGET_SECONDS", 0) or 0)
        if budget <= 0 or threading.current_thread() is not threading.main_thread():
            return self.get_response(request)
        pending, interval = signal.getitimer(signal.ITIMER_REAL)
        if pending and pending <= budget:
            return self.get_response(request)  # someone else's alarm comes first: leave it be
        previous = signal.signal(signal.SIGALRM, _expired)
        signal.setitimer(signal.ITIMER_REAL, budget)
        started = time.monotonic()
        try:
            return self.get_response(request)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
            if pending:  # give back the rest of an alarm set before (a test runner's time limit)
                left = max(pending - (time.monotonic() - started), 0.001)
                signal.setitimer(signal.ITIMER_REAL, left, interval)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, RequestTimeBudgetExceeded):
            from .views.errors import try_again_page

            logger.warning("request stopped at its time budget")
            return try_again_page(request)
        return None


HANDOFF_SECONDS = 3.0  # of the request budget kept to hand a build to the worker and draw the page
RECHECK_SECONDS = 0.5  # after cancelling a query at the deadline: when to look again


class InlineDeadlineExceeded(Exception):
    """Work run under :func:`inline_deadline` did not finish in time."""


@contextmanager
def inline_deadline(seconds: float) -> Iterator[None]:
    """Run the block, raising :class:`InlineDeadlineExceeded` inside it once it has taken
    ``seconds`` (0: no limit of its own) or once the request budget
    (:class:`RequestTimeBudgetMiddleware`) is near its end — :data:`HANDOFF_SECONDS` before it, or
    half of what is left when less — whichever comes first. A staff page builds results inline under
    it and, when it is raised, hands the build to the background worker and says so, instead of
    ending on the participants' "please try again" page (503).

    An interval timer (SIGALRM) as the request budget's, so it applies in the main thread only (no
    budget runs elsewhere either); the budget's alarm, or another's (a test runner's time limit),
    is given back with what is left of it. A PostgreSQL query running at the deadline is cancelled
    on the server (psycopg's ``cancel_safe``) rather than abandoned mid-reply: it ends with the
    database's "canceling statement" error, its transaction rolls back as any error's does, the
    connection stays usable, and that error becomes :class:`InlineDeadlineExceeded`.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending, interval = signal.getitimer(signal.ITIMER_REAL)
    previous = signal.getsignal(signal.SIGALRM)
    limits = [seconds] if seconds > 0 else []
    if pending and previous is _expired:
        limits.append(pending - min(HANDOFF_SECONDS, pending / 2))
    if not limits or (pending and previous is not _expired and pending <= min(limits)):
        yield  # no limit, or someone else's alarm comes first: leave it be
        return
    cancelled = []

    def passed(signum: int, frame: Any) -> None:
        if _cancel_running_queries():
            cancelled.append(True)
            signal.setitimer(signal.ITIMER_REAL, RECHECK_SECONDS)  # should the cancel miss it
            return
        raise InlineDeadlineExceeded

    signal.signal(signal.SIGALRM, passed)
    signal.setitimer(signal.ITIMER_REAL, min(limits))
    started = time.monotonic()
    try:
        yield
    except DatabaseError as error:
        if cancelled:
            raise InlineDeadlineExceeded from error
        raise
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if pending:
            left = max(pending - (time.monotonic() - started), 0.001)
            signal.setitimer(signal.ITIMER_REAL, left, interval)


def _cancel_running_queries() -> bool:
    """Ask PostgreSQL to cancel every query this thread's connections are waiting on; whether any was."""
    from django.db import connections
    from psycopg.pq import TransactionStatus  # only PostgreSQL connections have a pgconn

    found = False
    for connection in connections.all(initialized_only=True):
        raw = connection.connection
        pgconn = getattr(raw, "pgconn", None)
        if pgconn is not None and pgconn.transaction_status == TransactionStatus.ACTIVE:
            raw.cancel_safe(timeout=HANDOFF_SECONDS / 2)
            found = True
    return found


class ExpressionBudgetMiddleware:
    """Limits the time a request may spend evaluating relevance, constraints and calculations to
    ``CANDID_EXPRESSION_BUDGET_SECONDS`` (0: no limit). A questionnaire whose expressions run past
    it gets the "please try again" page (503) instead of holding the worker; every write is one
    transaction, so nothing was saved. Unlike the request budget this works in every thread, and
    counts only evaluation, never the database.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from .logic import expression_budget

        with expression_budget(float(getattr(settings, "CANDID_EXPRESSION_BUDGET_SECONDS", 0) or 0)):
            return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        from .logic import ExpressionBudgetExceeded

        if isinstance(exception, ExpressionBudgetExceeded):
            from .views.errors import try_again_page

            logger.warning("expressions stopped at their time budget")
            return try_again_page(request)
        return None
