"""Upload limits, checked before a questionnaire file is parsed (the studio and the command line alike).

An .xlsx file is a zip of XML: a small file can hold gigabytes of XML, and a form can hold a million
rows that every page then lists. So the file's size, the zip's uncompressed size, the rows of each
sheet and the length of each cell are limited; each refusal names the limit. The limits are settings
(environment variables of the same name), with these defaults:

- ``CANDID_UPLOAD_MAX_BYTES``: 5,000,000 (the file as uploaded);
- ``CANDID_UPLOAD_MAX_UNCOMPRESSED_BYTES``: 50,000,000 (the sum of the zip's members);
- ``CANDID_UPLOAD_MAX_ROWS``: 1,500 (rows of any one sheet; the studio pages of a form that long take
  about 2 s, bench/bench_xlsform_upload.py);
- ``CANDID_UPLOAD_MAX_CELL_CHARS``: 10,000 (characters of any one cell).
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from ..instrument import Problem, QuestionnaireInvalid
from ..uploads import read_at_most

E_TOO_LARGE = _("the file is {size}; the limit is {limit} (CANDID_UPLOAD_MAX_BYTES)")
E_OVER_LIMIT = _("the file holds more than {limit}, the limit (CANDID_UPLOAD_MAX_BYTES)")
E_UNCOMPRESSED = _(
    "the spreadsheet unpacks to {size}; the limit is {limit} (CANDID_UPLOAD_MAX_UNCOMPRESSED_BYTES)"
)
E_ROWS = _("sheet {sheet} has more than {limit} rows, the limit (CANDID_UPLOAD_MAX_ROWS)")
E_CELL = _("the cell holds {length} characters; the limit is {limit} (CANDID_UPLOAD_MAX_CELL_CHARS)")


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    max_uncompressed_bytes: int
    max_rows: int
    max_cell_chars: int


def current() -> Limits:
    """The limits in force (Django settings)."""
    return Limits(
        max_bytes=settings.CANDID_UPLOAD_MAX_BYTES,
        max_uncompressed_bytes=settings.CANDID_UPLOAD_MAX_UNCOMPRESSED_BYTES,
        max_rows=settings.CANDID_UPLOAD_MAX_ROWS,
        max_cell_chars=settings.CANDID_UPLOAD_MAX_CELL_CHARS,
    )


def _bytes(size: int) -> str:
    """``2.5 MB``, ``3 kB`` (decimal units, as the limits are written)."""
    value, unit = (size / 1e6, "MB") if size >= 1e6 else (size / 1e3, "kB")
    return f"{value:.1f}".removesuffix(".0") + " " + unit


def size_problem(size: int, limits: Limits | None = None) -> Problem | None:
    """A problem when a file of ``size`` bytes is over the size limit, else None."""
    limits = limits or current()
    if size <= limits.max_bytes:
        return None
    message = E_TOO_LARGE.format(size=_bytes(size), limit=_bytes(limits.max_bytes))
    return Problem("", message, "too_large")


def check_size(size: int) -> None:
    """Raise :class:`QuestionnaireInvalid` when a file of ``size`` bytes is over the size limit."""
    problem = size_problem(size)
    if problem:
        raise QuestionnaireInvalid([problem])


def read_limited(path: str | Path) -> bytes:
    """The bytes of the file at ``path`` once it passes the size limit; else :class:`QuestionnaireInvalid`
    naming the limit, located at the file's name. A file's size is checked before anything is read, and
    at most one byte over the limit is ever read: a device or a pipe, whose size ``stat()`` gives as 0,
    is refused like a large file."""
    path = Path(path)
    limits = current()
    problem = size_problem(path.stat().st_size, limits)
    content = b"" if problem else read_at_most(path, limits.max_bytes)
    if len(content) > limits.max_bytes:
        message = E_OVER_LIMIT.format(limit=_bytes(limits.max_bytes))
        problem = Problem("", message, "too_large")
    if problem:
        raise QuestionnaireInvalid([replace(problem, location=path.name)])
    return content


def check_workbook(content: bytes) -> Limits:
    """Check an .xlsx file's size and uncompressed size from the zip's directory, without unpacking it.

    Returns the limits for the row and cell checks that reading applies; raises
    :class:`QuestionnaireInvalid` naming the limit. A file that is not a zip passes here, and is
    refused by the reader as not an .xlsx workbook.
    """
    limits = current()
    check_size(len(content))
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            unpacked = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, ValueError):
        return limits
    if unpacked > limits.max_uncompressed_bytes:
        message = E_UNCOMPRESSED.format(size=_bytes(unpacked), limit=_bytes(limits.max_uncompressed_bytes))
        raise QuestionnaireInvalid([Problem("", message, "too_large_uncompressed")])
    return limits
