"""Words people read, without Django: marked for translation here, translated by whoever renders them.

``analysis`` never imports Django, yet every word it shows a person must reach Django's translation
catalogue. Messages are therefore written with :func:`gettext_noop` — the marker Django's
``makemessages`` extracts — and kept untranslated; the caller passes a ``translate`` function
(Django's ``gettext`` in the app, the identity in a notebook) wherever words are rendered.

Texts that come from data (a registry's claims, a questionnaire's labels) carry their own languages
as ``{language code: text}`` dictionaries; :func:`text_in` picks one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from . import language_tags

Translate = Callable[[str], str]
Text = Mapping[str, str]  # language code -> text


def gettext_noop(message: str) -> str:
    """Mark ``message`` for Django's ``makemessages`` without translating it (as ``django.utils.translation``)."""
    return message


def identity(message: str) -> str:
    return message


def text_in(text: Text | str | None, language: str, fallback: str = "en") -> str:
    """``text`` in ``language``; else in ``fallback``; else in any language it has; "" when empty.

    Languages are matched by the RFC 4647 lookup of :mod:`analysis.language_tags` (``zh-hans`` finds
    ``zh`` or ``zh-CN``), so Django's codes, a study's and a questionnaire's codes meet.
    """
    if text is None:
        return ""
    if isinstance(text, str):
        return text
    found = language_tags.text_in(dict(text), language, fallback)
    return found or next((value for value in text.values() if value), "")
