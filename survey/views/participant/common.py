"""What every participant page shares: the language chosen, the rendering with its headers and
cookie, the one-message pages, and the messages for a code that cannot be read."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation.trans_real import parse_accept_lang_header

from ...languages import is_private_use, lookup, own_name
from ...models import PendingResponse, Study
from ...participant_text import LANGUAGE_NAMES, text, translation_for
from ...selectors import study_language_names

LANGUAGE_COOKIE = "candid_lang"
MAX_CODE_INPUT = 200


def choose_language(request: HttpRequest, languages: list[str], default: str) -> str:
    """``?lang=`` if offered, else the language kept for the visit, else Accept-Language, else the default."""
    for candidate in (request.GET.get("lang"), request.COOKIES.get(LANGUAGE_COOKIE)):
        if candidate in languages:
            return candidate
    ranges = [tag for tag, _quality in parse_accept_lang_header(request.headers.get("Accept-Language", ""))]
    return lookup(ranges, languages, default)


def language_switch(languages: list[str], study: Study | None) -> list[tuple[str, str]]:
    """(code, name) for the language switch, each name in its own language; a language the questionnaire
    knows by its name alone (``x-tetun``) is called as the questionnaire calls it (``Tetun``)."""
    names = study_language_names(study) if study and any(is_private_use(c) for c in languages) else {}
    return [(code, LANGUAGE_NAMES.get(code) or own_name(code, names)) for code in languages]


def render_participant(
    request: HttpRequest,
    template: str,
    language: str,
    context: dict[str, Any],
    *,
    status: int = 200,
    languages: list[str] | None = None,
) -> HttpResponse:
    """``template`` rendered in ``language`` (Candid's words and the language switch), never cached;
    the language is kept for the visit in a cookie."""
    with translation_for(language):
        response = render(
            request,
            template,
            {
                "language": language,
                "languages": language_switch(languages or [], context.get("study")),
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
    """A page of one message (title and body are keys of :data:`survey.participant_text.MESSAGES`)."""
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


def page_url(study: Study, index: int) -> str:
    """The address of page ``index`` (0-based, in display order) of the study."""
    return reverse("survey:page", args=[study.slug, index])


def out_of_order(request: HttpRequest, study: Study, response: PendingResponse) -> HttpResponse:
    """A page not open yet (or a finished one): nothing changes; the link leads back to where they are."""
    return message_page(
        request,
        response.language,
        "trouble_title",
        "out_of_order",
        status=409,
        link=page_url(study, response.position),
    )


MALFORMED_MESSAGES = {
    "empty": "withdraw_empty",
    "characters": "withdraw_bad_characters",
    "study": "withdraw_no_study",
    "length": "withdraw_bad_length",
    "mistyped": "withdraw_mistyped",
}


TYPO_MESSAGES = {None: "withdraw_typo", 0: "withdraw_typo_study"}


def malformed_message(problem: str, detail: dict[str, Any], language: str) -> str:
    """The message for a code that cannot be read (a receipt or a code to continue), in ``language``."""
    values = {name: str(value) for name, value in detail.items()}
    if problem == "typo":
        return text(TYPO_MESSAGES.get(detail.get("group"), "withdraw_typo_group"), language, **values)
    return text(MALFORMED_MESSAGES.get(problem, "withdraw_malformed"), language, **values)
