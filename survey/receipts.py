"""Withdrawal receipt codes: how one is made, written and read back. The only module that knows the format.

A code is the study's number, a hyphen, and 136 random bits in base32 (RFC 4648's alphabet: the
letters A-Z and the digits 2-7, so 0/O and 1/I cannot be confused), in groups of five::

    12-K7QWM-3D2ZX-PA4NB-6YJTE-R5SUC-LQ

The study number lets the withdrawal page check the study's freeze date first. The random part is
not drawn afresh at every "Finish": it is an HMAC of the browser's resume token under
``CANDID_RECEIPT_KEY``, so every request a double or triple click sends from one browser is answered
with the same code, and the database holds no code, only ``keyed_hash(code, "receipt")``.

What a person types is read leniently (NFKC, so full-width characters and superscript digits become
ASCII; any case; spaces and any kind of dash as separators) and strictly (nothing else): whatever is
not a code gets a :class:`ReceiptCodeError` that says what is wrong, never a server error.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import unicodedata
from dataclasses import dataclass

from django.conf import settings

RECEIPT_BITS = 136
BODY_LENGTH = 28  # base32 characters for 136 bits (the last one carries a single bit)
GROUP = 5
MAX_STUDY_DIGITS = 12
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
# Spaces and dashes people type or paste between groups (hyphen-minus, Unicode hyphens and dashes, minus).
SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212\ufe58\ufe63]+")


def receipt_key() -> bytes:
    return (settings.CANDID_RECEIPT_KEY or settings.SECRET_KEY).encode()


def keyed_hash(value: str, purpose: str) -> str:
    """HMAC-SHA256 of ``value`` under the receipt key, as 64 hex digits; tokens and codes are stored only so."""
    return hmac.new(receipt_key(), f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def format_code(study_id: int, body: str) -> str:
    """The canonical written form: ``<study>-`` and the body in groups of five."""
    return f"{study_id}-" + "-".join(body[i : i + GROUP] for i in range(0, len(body), GROUP))


def receipt_code_for(*, study_id: int, secret: str) -> str:
    """The receipt code of the response whose browser holds ``secret`` (its resume token).

    The same secret always gives the same code; without the receipt key the code cannot be computed.
    """
    digest = hmac.new(receipt_key(), f"receipt-code:{secret}".encode(), hashlib.sha256).digest()
    body = base64.b32encode(digest[: RECEIPT_BITS // 8]).decode().rstrip("=")
    return format_code(study_id, body)


class ReceiptCodeError(ValueError):
    """What someone typed is not a receipt code. ``code`` says why; ``detail`` carries what to show."""

    def __init__(self, code: str, **detail: str | int) -> None:
        super().__init__(code)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class ReceiptCode:
    study_id: int
    text: str  # the canonical form, which is what is hashed


def parse_receipt_code(typed: str) -> ReceiptCode:
    """Read a code as a person typed or pasted it.

    Raises :class:`ReceiptCodeError` with ``code`` ``"empty"``; ``"characters"`` (``detail["characters"]``:
    the characters a code cannot contain, such as 0, 1, 8 or 9 in its body); ``"study"`` (no study number
    in front); ``"length"`` (``detail["found"]`` and ``detail["expected"]`` characters after the study
    number); or ``"mistyped"`` (the right characters, but no code ends like this).
    """
    text = unicodedata.normalize("NFKC", typed or "").upper()
    parts = [part for part in SEPARATORS.split(text) if part]
    if not parts:
        raise ReceiptCodeError("empty")
    wrong = sorted({c for c in "".join(parts) if not c.isascii() or not c.isalnum()})
    if wrong:
        raise ReceiptCodeError("characters", characters=" ".join(wrong[:5]))
    if len(parts) > 1 and parts[0].isdigit():
        prefix, body = parts[0], "".join(parts[1:])
    else:  # typed without a hyphen after the study number: the body is the last 28 characters
        compact = "".join(parts)
        prefix, body = compact[:-BODY_LENGTH], compact[-BODY_LENGTH:]
    if not prefix.isdigit() or len(prefix) > MAX_STUDY_DIGITS:
        raise ReceiptCodeError("study")
    if len(body) != BODY_LENGTH:
        raise ReceiptCodeError("length", found=len(body), expected=BODY_LENGTH)
    outside = sorted({c for c in body if c not in ALPHABET})
    if outside:
        raise ReceiptCodeError("characters", characters=" ".join(outside[:5]))
    # 136 bits fill the last character with one bit: its other four are zero in every real code.
    if base64.b32encode(base64.b32decode(body + "====")).decode().rstrip("=") != body:
        raise ReceiptCodeError("mistyped")
    return ReceiptCode(int(prefix), format_code(int(prefix), body))
