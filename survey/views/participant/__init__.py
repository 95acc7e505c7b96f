"""The participant's pages, one module per step: ``consent`` (the study's link), ``page`` (the
questions), ``finish`` (thank-you), ``resume`` (the cookie and "continue on another device") and
``withdraw``; ``common`` holds what they share.

Views parse the request, call one service or selector and render. Nothing about the person is read
from the request but the form fields, the resume cookie and Accept-Language; query parameters other
than ``lang`` (a panel's participant id, say) are never read, stored or logged.
"""

from __future__ import annotations

from .common import choose_language
from .consent import entry
from .finish import thanks
from .page import needs_live_state, page, page_form_kwargs, relevance
from .resume import continue_code, cookie_name, read_resume_cookie
from .withdraw import withdraw

__all__ = [
    "choose_language",
    "continue_code",
    "cookie_name",
    "entry",
    "needs_live_state",
    "page",
    "page_form_kwargs",
    "read_resume_cookie",
    "relevance",
    "thanks",
    "withdraw",
]
