"""The population figures shipped with Candid, by name, each with a title people read.

A name (``census-china-2020``) is what a URL and a kept release record; the file is what weights;
the title is what a page, a download's notes and a report show, translated like any other word.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext, gettext_noop


@dataclass(frozen=True)
class ShippedMargins:
    path: Path
    title: str  # marked with gettext_noop; read with gettext in the reader's language


SHIPPED = {
    "census-china-2020": ShippedMargins(
        path=settings.BASE_DIR / "analysis" / "claims" / "margins_china_2020.csv",
        title=gettext_noop("China's 2020 census (mainland sample)"),
    ),
}


def margins_title(source: str) -> str:
    """What the weighting ``source`` is called in the active language: the title of shipped
    margins, named (``census-china-2020``) or by their file's name (``margins_china_2020.csv``, as
    ``aggregate_tables --weights`` records it); any other file's name as it is."""
    for name, shipped in SHIPPED.items():
        if source in {name, shipped.path.name}:
            return gettext(shipped.title)
    return source
