"""The languages a questionnaire may be written in, by code, with their names.

Codes are what XLSForm headers carry in brackets (``label::English (en)``) and what
``Study.languages`` stores: ISO 639-1 codes, plus ``zh`` for Chinese as Candid's shipped study
writes it (its texts are Simplified Chinese). Names are shown in the language itself, so that a
researcher finds their own language whatever language the page is in.
"""

from __future__ import annotations

# code -> (English name, name in the language itself)
LANGUAGES: dict[str, tuple[str, str]] = {
    "en": ("English", "English"),
    "zh": ("Chinese (Simplified)", "简体中文"),
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


def language_name(code: str) -> str:
    """``简体中文 (zh)`` for a known code, the code itself otherwise."""
    known = LANGUAGES.get(code)
    return f"{known[1]} ({code})" if known else code


def language_choices(extra: list[str] | tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """(code, name) pairs for a form: every known language, plus ``extra`` codes already in use."""
    codes = list(LANGUAGES) + [code for code in extra if code not in LANGUAGES]
    return [(code, language_name(code)) for code in codes]


def xlsform_name(code: str) -> str:
    """The English name XLSForm headers use for ``code`` (``label::Chinese (Simplified) (zh)``)."""
    known = LANGUAGES.get(code)
    return known[0] if known else code


# Tags whose texts are Simplified (or Traditional) Chinese whatever region they name (BCP 47: a
# script subtag wins; without one, the region decides, as CLDR's likely subtags do).
_SIMPLIFIED_REGIONS = {"cn", "sg", "my"}
_TRADITIONAL_REGIONS = {"tw", "hk", "mo"}


def django_locale(code: str) -> str:
    """The Django language whose catalogue serves a study language: ``zh``, ``zh-CN``, ``zh-SG`` and
    ``zh-Hans`` all read ``zh-hans``; a language without a catalogue falls back to ``LANGUAGE_CODE``.
    """
    from django.conf import settings
    from django.utils.translation import get_supported_language_variant

    subtags = code.replace("_", "-").lower().split("-")
    if subtags[0] == "zh":
        rest = set(subtags[1:])
        if "hant" in rest or (rest & _TRADITIONAL_REGIONS and "hans" not in rest):
            subtags = ["zh", "hant"]
        else:
            subtags = ["zh", "hans"]
    try:
        return get_supported_language_variant("-".join(subtags), strict=True)
    except LookupError:
        return settings.LANGUAGE_CODE
