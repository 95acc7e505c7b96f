"""Withdrawal receipt codes: how one is made, written and read back. The only module that knows the format.

A code is the study's number, a hyphen, 136 random bits in base32 (RFC 4648's alphabet: the letters
A-Z and the digits 2-7, so 0/O and 1/I cannot be confused) and two check characters, in groups of
five::

    12-K7QWM-3D2ZX-PA4NB-6YJTE-R5SUC-LQ4F

The study number lets the withdrawal page check the study's freeze date first. The random part is
not drawn afresh at every "Finish": it is an HMAC of the browser's resume token under
``CANDID_RECEIPT_KEY``, so every request a double or triple click sends from one browser is answered
with the same code, and the database holds no code, only ``keyed_hash`` of its canonical form (the
study number and the 28 random characters: the check characters add nothing to hash).

The check characters make the code a Reed-Solomon codeword over GF(32) with two check symbols
(distance 3; the study number enters as one more symbol): every typo in one character and every
pair of wrong characters is caught before anything is looked up, and a single wrong character is
located when nothing else as likely explains it (two swapped neighbours can look like one wrong
character elsewhere), so the page can say which group to look at only then. Codes written before the check characters
existed (28 characters) are still read; only their last character can be checked.

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
CHECK_LENGTH = 2
CODE_LENGTH = BODY_LENGTH + CHECK_LENGTH
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


def receipt_hash(code: str) -> str:
    """What the database keeps of a receipt code: ``keyed_hash`` of its canonical form (the same for
    a code with check characters and for the older form without)."""
    return keyed_hash(parse_receipt_code(code).text, "receipt")


def format_code(study_id: int, body: str) -> str:
    """The canonical written form: ``<study>-`` and the body in groups of five."""
    return f"{study_id}-" + "-".join(body[i : i + GROUP] for i in range(0, len(body), GROUP))


def receipt_code_for(*, study_id: int, secret: str) -> str:
    """The receipt code of the response whose browser holds ``secret`` (its resume token), with its
    check characters.

    The same secret always gives the same code; without the receipt key the code cannot be computed.
    """
    digest = hmac.new(receipt_key(), f"receipt-code:{secret}".encode(), hashlib.sha256).digest()
    body = base64.b32encode(digest[: RECEIPT_BITS // 8]).decode().rstrip("=")
    return format_code(study_id, body + check_characters(study_id, body))


# GF(32) with the primitive polynomial x^5 + x^2 + 1: powers of alpha and their logarithms.
_EXP = [0] * 62
_LOG = [0] * 32
_value = 1
for _power in range(31):
    _EXP[_power] = _EXP[_power + 31] = _value
    _LOG[_value] = _power
    _value = (_value << 1) ^ (0b100101 if _value & 0b10000 else 0)


def _mul(a: int, b: int) -> int:
    return 0 if a == 0 or b == 0 else _EXP[_LOG[a] + _LOG[b]]


def _div(a: int, b: int) -> int:
    return 0 if a == 0 else _EXP[(_LOG[a] - _LOG[b]) % 31]


def _symbols(study_id: int, characters: str) -> list[int]:
    """The codeword's symbols: one per character (position i is the coefficient of x^i), then the
    study number's symbol at position 30 (never 0, so a changed study number is an error there)."""
    study = 1 + int.from_bytes(hashlib.sha256(str(study_id).encode()).digest()[:4], "big") % 31
    return [ALPHABET.index(c) for c in characters] + [0] * (CODE_LENGTH - len(characters)) + [study]


def _syndromes(symbols: list[int]) -> tuple[int, int]:
    """r(alpha) and r(alpha^2): both 0 exactly for a codeword."""
    first = second = 0
    for position, symbol in enumerate(symbols):
        first ^= _mul(symbol, _EXP[position % 31])
        second ^= _mul(symbol, _EXP[(2 * position) % 31])
    return first, second


def check_characters(study_id: int, body: str) -> str:
    """The two characters that make ``body`` (28 characters) a codeword: c28 and c29 solve
    c28 a^28 + c29 a^29 = S1 and c28 a^56 + c29 a^58 = S2 over GF(32) (Cramer's rule)."""
    s1, s2 = _syndromes(_symbols(study_id, body))
    a, b = _EXP[28], _EXP[29]
    c, d = _EXP[56 % 31], _EXP[58 % 31]
    determinant = _mul(a, d) ^ _mul(b, c)
    c28 = _div(_mul(s1, d) ^ _mul(b, s2), determinant)
    c29 = _div(_mul(a, s2) ^ _mul(c, s1), determinant)
    return ALPHABET[c28] + ALPHABET[c29]


def _is_codeword(study_id: int, characters: str) -> bool:
    return _syndromes(_symbols(study_id, characters)) == (0, 0)


def _swaps_explain(study_id: int, characters: str) -> bool:
    """Whether two neighbouring characters swapped (in the body or in the study number) make the
    typed code a codeword: then a single wrong character cannot be told from a swap."""
    for i in range(len(characters) - 1):
        if characters[i] != characters[i + 1]:
            swapped = characters[:i] + characters[i + 1] + characters[i] + characters[i + 2 :]
            if _is_codeword(study_id, swapped):
                return True
    digits = str(study_id)
    for i in range(len(digits) - 1):
        other = digits[:i] + digits[i + 1] + digits[i] + digits[i + 2 :]
        if other != digits and not other.startswith("0") and _is_codeword(int(other), characters):
            return True
    return False


def typo_groups(study_id: int, characters: str) -> list[int]:
    """Where a code of 30 characters that fails its check was mistyped: ``[group]`` (1-6, or 0 for
    the study number) only when one wrong character there is the one explanation the check can be
    sure of, else ``[]``.

    With two check symbols (distance 3) the syndromes of two wrong characters can look like one
    wrong character somewhere else: two swapped neighbours, the commonest double typo, often do. So
    a located position is named only when (a) its correction is a possible code (the last body
    character of a 136-bit code carries one bit) and (b) no swap of two neighbouring characters
    (or study-number digits) also explains what was typed.
    """
    s1, s2 = _syndromes(_symbols(study_id, characters))
    if s1 == 0 or s2 == 0:
        return []
    position = _LOG[_div(s2, s1)]  # a single error e at position j: s1 = e a^j, s2 = e a^2j
    if position > CODE_LENGTH:
        return []
    if position < CODE_LENGTH:
        error = _div(s1, _EXP[position])
        corrected = ALPHABET[ALPHABET.index(characters[position]) ^ error]
        if position == BODY_LENGTH - 1 and ALPHABET.index(corrected) & 0b01111:
            return []  # the last body character of a real code has its four low bits zero
    if _swaps_explain(study_id, characters):
        return []
    return [0] if position == CODE_LENGTH else [position // GROUP + 1]


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
    """Read a code as a person typed or pasted it (with its check characters, or an older code without).

    Raises :class:`ReceiptCodeError` with ``code`` ``"empty"``; ``"characters"`` (``detail["characters"]``:
    the characters a code cannot contain, such as 0, 1, 8 or 9 in its body); ``"study"`` (no study number
    in front); ``"length"`` (``detail["found"]`` and ``detail["expected"]`` characters after the study
    number); ``"typo"`` (the check characters do not fit: ``detail["group"]`` is the group, 1 to 6, of
    the one mistyped character, 0 for the study number, absent when more than one is wrong); or
    ``"mistyped"`` (an older code whose last character cannot be right).
    """
    text = unicodedata.normalize("NFKC", typed or "").upper()
    parts = [part for part in SEPARATORS.split(text) if part]
    if not parts:
        raise ReceiptCodeError("empty")
    wrong = sorted({c for c in "".join(parts) if not c.isascii() or not c.isalnum()})
    if wrong:
        raise ReceiptCodeError("characters", characters=" ".join(wrong[:5]))
    if len(parts) > 1 and parts[0].isdigit():
        return _read("".join(parts[0]), "".join(parts[1:]))
    # Typed without a hyphen after the study number: the code is the last 30 characters, or an
    # older code's last 28.
    compact = "".join(parts)
    errors = []
    for length in (CODE_LENGTH, BODY_LENGTH):
        try:
            return _read(compact[:-length], compact[-length:])
        except ReceiptCodeError as error:
            errors.append(error)
    raise next((error for error in errors if error.code != "study"), errors[0])


def _read(prefix: str, body: str) -> ReceiptCode:
    if not prefix.isdigit() or len(prefix) > MAX_STUDY_DIGITS:
        raise ReceiptCodeError("study")
    if len(body) not in (BODY_LENGTH, CODE_LENGTH):
        raise ReceiptCodeError("length", found=len(body), expected=CODE_LENGTH)
    outside = sorted({c for c in body if c not in ALPHABET})
    if outside:
        raise ReceiptCodeError("characters", characters=" ".join(outside[:5]))
    if len(body) == CODE_LENGTH:
        if check_characters(int(prefix), body[:BODY_LENGTH]) != body[BODY_LENGTH:]:
            groups = typo_groups(int(prefix), body)
            raise ReceiptCodeError("typo", **({"group": groups[0]} if groups else {}))
        body = body[:BODY_LENGTH]
    # 136 bits fill the last character with one bit: its other four are zero in every real code.
    if base64.b32encode(base64.b32decode(body + "====")).decode().rstrip("=") != body:
        raise ReceiptCodeError("mistyped")
    return ReceiptCode(int(prefix), format_code(int(prefix), body))
