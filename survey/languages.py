"""The languages a questionnaire may be written in, by code, with their names.

Codes are BCP 47 language tags (RFC 5646), what XLSForm headers carry in brackets
(``label::English (en)``, ``label::简体中文 (zh-CN)``) and what ``Study.languages`` stores, in BCP 47's
conventional case. New studies write Simplified Chinese ``zh-Hans``; the shipped study (and older ones) ``zh``; ``zh-CN``, ``zh-SG``,
``zh-Hans`` and ``zh-Hans-CN`` are the same language to every page (:func:`chinese_script`). Names are shown in the language itself, so that a
researcher finds their own language whatever language the page is in.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

from django.conf.locale import LANG_INFO

from analysis.language_tags import (  # noqa: F401  (re-exported: the one lookup)
    _SIMPLIFIED_REGIONS,
    _TRADITIONAL_REGIONS,
    TAG_PATTERN,
    _family,
    chinese_script,
    lookup,
    normalize_tag,
    text_for,
    text_in,
)

# code -> (English name, name in the language itself)
LANGUAGES: dict[str, tuple[str, str]] = {
    "en": ("English", "English"),
    "zh-Hans": ("Chinese (Simplified)", "简体中文"),
    "zh-Hant": ("Chinese (Traditional)", "繁體中文"),
    "ar": ("Arabic", "العربية"),
    "bn": ("Bengali", "বাংলা"),
    "de": ("German", "Deutsch"),
    "es": ("Spanish", "Español"),
    "fa": ("Persian", "فارسی"),
    "fr": ("French", "Français"),
    "hi": ("Hindi", "हिन्दी"),
    "id": ("Indonesian", "Bahasa Indonesia"),
    "it": ("Italian", "Italiano"),
    "ja": ("Japanese", "日本語"),
    "ko": ("Korean", "한국어"),
    "ms": ("Malay", "Bahasa Melayu"),
    "nl": ("Dutch", "Nederlands"),
    "pl": ("Polish", "Polski"),
    "pt": ("Portuguese", "Português"),
    "ru": ("Russian", "Русский"),
    "sw": ("Swahili", "Kiswahili"),
    "th": ("Thai", "ไทย"),
    "tr": ("Turkish", "Türkçe"),
    "uk": ("Ukrainian", "Українська"),
    "ur": ("Urdu", "اردو"),
    "vi": ("Vietnamese", "Tiếng Việt"),
}


def _known(code: str) -> tuple[str, str] | None:
    """The names of ``code``'s language if Candid lists it, under this tag or another tag of the same
    language (an older study's ``zh`` is ``zh-Hans``)."""
    return LANGUAGES.get(code) or LANGUAGES.get(same_language(code, tuple(LANGUAGES)) or "")


def language_name(code: str) -> str:
    """``简体中文 (zh-Hans)`` for a known code (``简体中文 (zh)`` for a study written in ``zh``), the code
    itself otherwise."""
    known = _known(code)
    return f"{known[1]} ({code})" if known else code


def language_choices(extra: list[str] | tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """(code, name) pairs for a form: every known language, plus ``extra`` codes already in use.

    A code in use takes the place of the known tag of the same language, so a study written in ``zh``
    keeps its ``zh`` ticked and is not offered ``zh-Hans`` beside it as a second Chinese.
    """
    codes = [same_language(code, tuple(extra)) or code for code in LANGUAGES]
    codes += [code for code in extra if code not in codes]
    return [(code, language_name(code)) for code in codes]


def xlsform_name(code: str) -> str:
    """The English name XLSForm headers use for ``code`` (``label::Chinese (Simplified) (zh-Hans)``)."""
    known = _known(code)
    return known[0] if known else code


def django_locale(code: str) -> str:
    """The Django language whose catalogue serves a study language: ``zh``, ``zh-CN``, ``zh-SG`` and
    ``zh-Hans`` all read ``zh-hans``; a language without a catalogue falls back to ``LANGUAGE_CODE``.
    """
    from django.conf import settings

    return site_language(code) or settings.LANGUAGE_CODE


def site_language(code: str) -> str | None:
    """The site (Django) language a reader asking for ``code`` gets, or None when the site has
    none for it: ``zh``, ``zh-hans``, ``zh-Hans``, ``zh_CN`` and ``zh-SG`` all give ``zh-hans``.

    Every language a person or a script names for a page, a download or a command goes through
    here (or :func:`study_language`), so that each accepts the codes the others do.
    """
    from django.utils.translation import get_supported_language_variant

    subtags = code.strip().replace("_", "-").lower().split("-")
    if subtags[0] == "zh":
        rest = set(subtags[1:])
        if "hant" in rest or (rest & _TRADITIONAL_REGIONS and "hans" not in rest):
            subtags = ["zh", "hant"]
        else:
            subtags = ["zh", "hans"]
    try:
        return get_supported_language_variant("-".join(subtags), strict=True)
    except (LookupError, ValueError):
        return None


def study_language(code: str, languages: list[str]) -> str | None:
    """The study language (one of ``languages``) a reader asking for ``code`` gets, or None:
    ``zh-hans``, ``zh-Hans`` and ``zh_CN`` read a study's ``zh`` (and ``zh`` its ``zh-CN``)."""
    return (lookup([code], list(languages), "") or None) if code else None


# A private-use tag (RFC 5646 §2.2.7) is ``x-`` and subtags of 1 to 8 letters or digits; Candid keeps
# language tags in 16 characters (the response's language column).
PRIVATE_USE_MAX = 16
# English and native names of the languages Django knows (``label::English``, ``label::简体中文``).
_NAMES: dict[str, str] = {}
for _code, _info in LANG_INFO.items():
    if "name" in _info:
        _NAMES.setdefault(_info["name"].casefold(), _code)
        _NAMES.setdefault(_info["name_local"].casefold(), _code)
for _code, (_english, _native) in LANGUAGES.items():
    _NAMES[_english.casefold()] = _code
    _NAMES[_native.casefold()] = _code
_NAMES.update(
    {"chinese": "zh", "中文": "zh", "simplified chinese": "zh-Hans", "traditional chinese": "zh-Hant"}
)


def tag_for_name(name: str) -> str | None:
    """The tag of a language given by its English or native name (``English``, ``简体中文``), if known."""
    return _NAMES.get(" ".join(name.split()).casefold())


def private_use_tag(name: str) -> str:
    """The private-use tag (RFC 5646 §2.2.7) of a language known by a name alone: ``Tetun`` → ``x-tetun``,
    ``Tetun Dili`` → ``x-tetun-dili``.

    Letters lose their accents (``Mường`` → ``muong``) and each word is a subtag of at most 8 letters or
    digits. A name with no Latin letter or digit, or one whose tag would pass 16 characters, is told apart
    by a digest of the name instead (``x-kinyarwa-3f2a``, ``x-9c41d2e0``), so two names never share a tag.
    """
    folded = unicodedata.normalize("NFKD", " ".join(name.split()).casefold())
    ascii_name = folded.encode("ascii", "ignore").decode()
    subtags = [
        word[start : start + 8]
        for word in re.findall(r"[a-z0-9]+", ascii_name)
        for start in range(0, len(word), 8)
    ]
    tag = "-".join(["x", *subtags])
    if subtags and len(tag) <= PRIVATE_USE_MAX:
        return tag
    digest = hashlib.sha256(" ".join(name.split()).casefold().encode()).hexdigest()
    return f"x-{subtags[0]}-{digest[:4]}" if subtags else f"x-{digest[:8]}"


def own_name(code: str, names: dict[str, str] | None = None) -> str:
    """What a reader of ``code`` looks for in a language switch: the name in the language itself of a
    language Candid lists (``Français``), else the name the questionnaire gives it (``Tetun`` for
    ``x-tetun``), else the tag."""
    known = _known(code)
    return known[1] if known else (names or {}).get(code) or code


def is_private_use(tag: str) -> bool:
    """Whether ``tag`` is a private-use tag (``x-tetun``): a language Candid knows by its name only."""
    return tag.lower().startswith("x-")


def same_language(tag: str, available: list[str] | tuple[str, ...]) -> str | None:
    """The tag of ``available`` that names the same language as ``tag`` for a reader, or None.

    Exact (case-insensitive) first, then by :func:`_family`: ``zh``, ``zh-CN``, ``zh-SG``, ``zh-Hans``
    and ``Chinese (zh-CN)``'s tag all meet one study language (Simplified Chinese), while ``zh-TW`` and
    ``zh-Hant`` meet Traditional; other languages meet only their own tag. Malformed tags meet nothing
    but themselves.
    """
    if tag in available:
        return tag
    try:
        family = _family(tag)
    except ValueError:
        return None
    for other in available:
        try:
            if _family(other) == family:
                return other
        except ValueError:
            continue
    return None
