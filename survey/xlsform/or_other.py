"""XLSForm's "or other": ``select_one LIST or_other`` (also ``or specify other``, ``or other``).

As pyxform expands it (its ``xls2json``, and the XLSForm documentation's "Specify other"): the list
gains a choice named ``other`` labelled "Other" unless it has one, and a text question named
``<name>_other``, labelled "Specify other.", follows the select, relevant when ``other`` is selected.
Candid writes the labels in each of the form's languages it has a translation for (pyxform writes the
English words in every language). The expansion is what is stored and exported, so the specify text
is its own variable and an exported form is plain XLSForm.
"""

from __future__ import annotations

import re
from typing import Any

from django.utils import translation
from django.utils.translation import gettext

from ..languages import django_locale

OR_OTHER = re.compile(r"^(?P<type>.+?) (?:or specify other|or_other|or other)$")
OTHER_CODE = "other"


def split_or_other(text: str) -> tuple[str, bool]:
    """(type without the suffix, whether it had one) of a lower-cased, space-normalised type cell.

    >>> split_or_other("select_one colours or_other"), split_or_other("integer")
    (('select_one colours', True), ('integer', False))
    """
    match = OR_OTHER.match(text)
    return (match.group("type"), True) if match else (text, False)


def _in_each(languages: list[str], message: str) -> dict[str, str]:
    texts = {}
    for code in languages:
        with translation.override(django_locale(code)):
            texts[code] = gettext(message)
    return texts


def specify_question(select: dict[str, Any], languages: list[str]) -> dict[str, Any]:
    """The text question that follows ``select`` (a spec question), shown when ``other`` is chosen."""
    return {
        "code": f"{select['code']}_other",
        "type": "text",
        "label": _in_each(languages, "Specify other."),
        "relevance": f"selected(${{{select['code']}}}, '{OTHER_CODE}')",
    }


def add_other_choice(choice_list: dict[str, Any], languages: list[str]) -> None:
    """Give ``choice_list`` (a spec list) the choice ``other`` unless it has one."""
    if not any(choice["code"] == OTHER_CODE for choice in choice_list["choices"]):
        choice_list["choices"].append({"code": OTHER_CODE, "label": _in_each(languages, "Other")})


# The words above, for the translators (gettext_noop keeps them in the catalogue).
_WORDS = (translation.gettext_noop("Specify other."), translation.gettext_noop("Other"))
