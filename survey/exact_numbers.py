"""The numbers every export format keeps exactly, and the words that refuse the others.

An answer (or a questionnaire's default) is stored as a JSON number and exported as a double (IEEE 754
binary64: SPSS, Stata, Parquet, Excel, pandas) or a 64-bit integer (Parquet, Stata's ``double``). A
decimal is kept exactly, and prints back as the same number, when it has

- at most 15 significant digits (C's ``DBL_DIG``: a decimal of 15 digits goes to the nearest double
  and back to the same 15 digits; Excel shows 15 digits too),
- a magnitude below 10^15 (whole numbers then stay below 2^53, where doubles hold every integer, and
  far from the overflow that turned ``1e400`` into a 500 on export), and
- no digit below 10^-15 (so the value is a normal double, where ``DBL_DIG`` holds; ``1e-400`` was
  once stored as 0).

Whole numbers (``integer`` questions) are limited to ±10^12 by their form field, inside all three
rules. Exponent notation (``1e5``) is read as the number it writes and stored as that number.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

MAX_SIGNIFICANT_DIGITS = 15
# |x| < 10**MAX_MAGNITUDE and every digit at or above 10**-MAX_DECIMAL_PLACES
MAX_MAGNITUDE = 15
MAX_DECIMAL_PLACES = 15
LARGEST = Decimal(10**MAX_MAGNITUDE - 1)
MAX_INTEGER = 10**12

E_TOO_PRECISE = _(
    "Enter a number with at most %(limit)s significant digits (you entered %(digits)s): "
    "statistics programs and spreadsheets cannot keep more exactly."
)
E_TOO_LARGE = _(
    "Enter a number between -%(largest)s and %(largest)s: "
    "statistics programs and spreadsheets cannot keep a larger one exactly."
)
E_TOO_FINE = _(
    "Enter a number with at most %(limit)s digits after the decimal point: "
    "statistics programs and spreadsheets cannot keep smaller parts exactly."
)


def significant(value: Decimal) -> tuple[tuple[int, ...], int]:
    """The significant digits of a finite, nonzero ``value`` and the exponent of the last one.

    Without ``Decimal.normalize``, which rounds to the context's 28 digits (a 30-digit answer
    would pass as a shorter one)."""
    _sign, digits, place = value.as_tuple()
    exponent = int(place)
    kept = list(digits)
    while kept and kept[0] == 0:
        kept.pop(0)
    while kept and kept[-1] == 0:
        kept.pop()
        exponent += 1
    return tuple(kept), exponent


def check_exact(value: Decimal) -> None:
    """Raise ``ValidationError`` (code ``too_precise``, ``too_large`` or ``too_fine``, the message
    naming the limit) unless every export format keeps ``value`` exactly. Zero is always kept."""
    if not value.is_finite() or value.is_zero():
        return
    digits, exponent = significant(value)
    if len(digits) > MAX_SIGNIFICANT_DIGITS:
        raise ValidationError(
            E_TOO_PRECISE,
            code="too_precise",
            params={"limit": MAX_SIGNIFICANT_DIGITS, "digits": len(digits)},
        )
    if exponent + len(digits) > MAX_MAGNITUDE:
        raise ValidationError(E_TOO_LARGE, code="too_large", params={"largest": LARGEST})
    if exponent < -MAX_DECIMAL_PLACES:
        raise ValidationError(E_TOO_FINE, code="too_fine", params={"limit": MAX_DECIMAL_PLACES})


def exact_problem(value: Decimal) -> str | None:
    """The message ``check_exact`` would raise for ``value``, or None."""
    try:
        check_exact(value)
    except ValidationError as error:
        return error.messages[0]
    return None
