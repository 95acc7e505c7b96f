"""XPath 1.0 values as ODK uses them: conversions between strings, numbers and booleans, and comparisons.

A value is a ``str``, a ``float`` (``int`` is accepted), a ``bool``, or a ``list`` of choice codes (a
multiple-choice or ranking answer, which XForms stores as the space-separated string of its codes).
An unanswered question is the empty string. Dates are strings in the XML Schema date format
(``2024-05-31``) and become numbers of days since 1970-01-01 in arithmetic and comparisons.

Sources: XPath 1.0 §3.4 (booleans and comparisons), §3.5 (numbers), §4.2-4.4 (``string()``,
``boolean()``, ``number()``); the ODK XForms specification, "XPath Functions" (``number()`` also reads
date and dateTime strings) and "XPath Operators"; JavaRosa's ``XPathFuncExpr``/``XPathEqExpr``
(``test/.../XPathEvalTest.java``) where XPath leaves a choice to the implementation.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

NAN = float("nan")
EPOCH = date(1970, 1, 1)

# XPath 1.0 §3.7 Number, with the optional minus and whitespace of §4.4 number(): no exponent, no
# "+", no "Infinity" (JavaRosa's XPathEvalTest: number('1.1e6') and number('Infinity') are NaN).
_NUMBER = re.compile(r"\s*(-?(?:\d+(?:\.\d*)?|\.\d+))\s*")
_DATE = re.compile(r"\s*(-?\d{4,})-(\d{2})-(\d{2})(T[0-9:.]+(?:Z|[+-]\d{2}(?::?\d{2})?)?)?\s*")

# JavaRosa's XPathEqExpr treats numbers closer than this as equal ("6.1 - 7.8 = -1.7" is true).
EQUALITY_TOLERANCE = 1e-12


def date_days(text: str) -> float:
    """Days since 1970-01-01 of a date or dateTime string (fractional with a time); NaN if not one."""
    match = _DATE.fullmatch(text)
    if match is None:
        return NAN
    try:
        day = date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return NAN
    days = float((day - EPOCH).days)
    if match.group(4):
        try:
            moment = datetime.fromisoformat(text.strip())
        except ValueError:
            return NAN
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return (moment - datetime(1970, 1, 1, tzinfo=UTC)) / timedelta(days=1)
    return days


def to_number(value: Any) -> float:
    """XPath ``number()``, extended as ODK does: date and dateTime strings become days since 1970."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        return float(value)
    text = to_string(value)
    match = _NUMBER.fullmatch(text)
    if match is not None:
        return float(match.group(1))
    if "-" in text:
        return date_days(text)
    return NAN


def number_text(number: float) -> str:
    """XPath ``string()`` of a number: integers without a point, no exponent, NaN and ±Infinity."""
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "Infinity" if number > 0 else "-Infinity"
    if number.is_integer():
        return str(int(number))
    text = format(Decimal(repr(number)), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def to_string(value: Any) -> str:
    """XPath ``string()``; a list of choice codes is their space-separated string, as XForms stores it."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return number_text(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list | tuple):
        return " ".join(to_string(item) for item in value)
    if isinstance(value, date):
        return value.isoformat()
    return "" if value is None else str(value)


def to_boolean(value: Any) -> bool:
    """XPath ``boolean()``: a number is true unless 0 or NaN, a string unless empty.

    A reference to a question is its value (as JavaRosa unpacks a one-node node-set), so an
    unanswered question is false, not "a node exists" as a strict XPath 1.0 reading would make it.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0 and not math.isnan(value)
    if isinstance(value, list | tuple):
        return len(value) > 0
    return value is not None and to_string(value) != ""


def is_empty(value: Any) -> bool:
    """Empty as ``coalesce()`` and ``once()`` see it: the empty string or NaN (JavaRosa ``isNull``)."""
    if isinstance(value, float):
        return math.isnan(value)
    return not isinstance(value, bool | int) and to_string(value) == ""


def equal(left: Any, right: Any) -> bool:
    """XPath ``=``: as booleans if either side is one, else as numbers if either side is one, else as
    strings (XPath 1.0 §3.4). So ``'' = ''`` is true and ``'' = 0`` is false (NaN equals nothing)."""
    if isinstance(left, bool) or isinstance(right, bool):
        return to_boolean(left) == to_boolean(right)
    if _is_number(left) or _is_number(right):
        a, b = to_number(left), to_number(right)
        if a == b:
            return True
        return abs(a - b) < EQUALITY_TOLERANCE
    return to_string(left) == to_string(right)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def compare(op: str, left: Any, right: Any) -> bool:
    """XPath ``=``, ``!=``, ``<``, ``<=``, ``>``, ``>=``.

    ``<`` and friends compare numbers only (XPath 1.0 §3.4): a string that is not a number or a
    date is NaN, and any comparison with NaN is false, so a blank answer is neither ``< 10`` nor
    ``>= 10``. ``!=`` is the negation of ``=`` (JavaRosa), so ``'' != 5`` is true.
    """
    if op == "=":
        return equal(left, right)
    if op == "!=":
        return not equal(left, right)
    a, b = to_number(left), to_number(right)
    if op == "<":
        return a < b
    if op == "<=":
        return a <= b
    if op == ">":
        return a > b
    return a >= b


def selection(value: Any) -> list[str]:
    """The choice codes of a multiple-choice value: a list as stored, or a space-separated string."""
    if isinstance(value, list | tuple):
        return [to_string(item) for item in value]
    return to_string(value).split()


def to_date(value: Any) -> date | None:
    """A date from a date/dateTime string or a number of days since 1970 (XForms ``date()``); None when
    the value is empty or cannot be a date."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
        if not math.isfinite(number) or abs(number) > 3_000_000:
            return None
        return EPOCH + timedelta(days=math.trunc(number))
    text = to_string(value)
    match = _DATE.fullmatch(text)
    if match is None:
        return None
    try:
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None
