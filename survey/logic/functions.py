"""The functions of the ODK XForms specification ("XPath Functions") that make sense on a server.

Each entry gives the arity and the implementation; the values and edge cases follow the
specification's table and, where it says "as in XPath 1.0/3.0", that standard; JavaRosa (ODK
Collect's engine) settles what the standards leave open. ``REFUSED`` lists the specification's
functions Candid does not evaluate, with the reason given to the researcher at import.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import re2
from django.utils import dateformat, translation
from django.utils.translation import gettext_lazy as _

from .values import (
    NAN,
    date_days,
    is_empty,
    selection,
    to_boolean,
    to_date,
    to_number,
    to_string,
)

if TYPE_CHECKING:
    from .evaluator import State

Thunk = Callable[["State"], Any]


@dataclass(frozen=True)
class Function:
    low: int
    high: int | None  # None: any number
    impl: Callable[..., Any]
    lazy: bool = False  # impl gets the state and unevaluated arguments (thunks)


# --- strings -------------------------------------------------------------------------------------


def _concat(state: State, args: Sequence[Any]) -> str:
    return "".join(to_string(a) for a in args)


def _join(state: State, args: Sequence[Any]) -> str:
    return to_string(args[0]).join(to_string(a) for a in args[1:])


def _substr(state: State, args: Sequence[Any]) -> str:
    """0-based start, end exclusive; negative indices count from the end (JavaRosa ``substring``)."""
    text = to_string(args[0])
    length = len(text)
    start = _index(args[1], length)
    end = _index(args[2], length) if len(args) > 2 else length
    if start is None or end is None:
        return ""
    start, end = min(max(0, start), length), min(max(0, end), length)
    return text[start:end] if start <= end else ""


def _index(value: Any, length: int) -> int | None:
    number = to_number(value)
    if math.isnan(number):
        return None
    if math.isinf(number):
        return length if number > 0 else 0
    index = math.trunc(number)
    return length + index if index < 0 else index


def _substring_before(state: State, args: Sequence[Any]) -> str:
    text, needle = to_string(args[0]), to_string(args[1])
    position = text.find(needle)
    return text[:position] if position >= 0 else ""


def _substring_after(state: State, args: Sequence[Any]) -> str:
    text, needle = to_string(args[0]), to_string(args[1])
    position = text.find(needle)
    return text[position + len(needle) :] if position >= 0 else ""


def _translate(state: State, args: Sequence[Any]) -> str:
    """XPath 1.0 §4.2: the first occurrence of a character in the second argument decides."""
    text, source, target = (to_string(a) for a in args)
    table: dict[int, int | None] = {}
    for position, char in enumerate(source):
        if ord(char) not in table:
            table[ord(char)] = ord(target[position]) if position < len(target) else None
    return text.translate(table)


def _normalize_space(state: State, args: Sequence[Any]) -> str:
    text = to_string(args[0]) if args else to_string(state.current)
    return " ".join(text.split(None)) if text else ""


def _string_length(state: State, args: Sequence[Any]) -> float:
    return float(len(to_string(args[0])))


def _contains(state: State, args: Sequence[Any]) -> bool:
    return to_string(args[1]) in to_string(args[0])


def _starts_with(state: State, args: Sequence[Any]) -> bool:
    return to_string(args[0]).startswith(to_string(args[1]))


def _ends_with(state: State, args: Sequence[Any]) -> bool:
    return to_string(args[0]).endswith(to_string(args[1]))


def _string(state: State, args: Sequence[Any]) -> str:
    return to_string(args[0])


REGEX_OPTIONS = re2.Options()
REGEX_OPTIONS.log_errors = False


@lru_cache(maxsize=256)
def compile_pattern(pattern: str) -> Any:
    """The RE2 program for ``pattern`` (linear time in the text: no backtracking, no look-around, no
    back-references); raises ``re2.error`` when RE2 cannot compile it."""
    return re2.compile(pattern, REGEX_OPTIONS)


def _regex(state: State, args: Sequence[Any]) -> bool:
    """True when the pattern matches somewhere in the value (the specification: ``'[0-9]+'`` becomes
    ``/[0-9]+/``, a JavaScript test); anchor with ``^...$`` to match the whole value, which is how
    ODK Collect reads every pattern. A pattern RE2 cannot run is false (refused at import when
    written as a literal)."""
    try:
        program = compile_pattern(to_string(args[1]))
    except re2.error:
        return False
    return program.search(to_string(args[0])) is not None


# --- booleans and control ---------------------------------------------------------------------------


def _if(state: State, thunks: Sequence[Thunk]) -> Any:
    return thunks[1](state) if to_boolean(thunks[0](state)) else thunks[2](state)


def _coalesce(state: State, thunks: Sequence[Thunk]) -> Any:
    first = thunks[0](state)
    return thunks[1](state) if is_empty(first) else first


def _once(state: State, args: Sequence[Any]) -> Any:
    """The question's own value when it has one, else the argument (ODK: "evaluated and returned if
    the context node's value is empty"). On Candid's server the context node is the calculate being
    computed: its stored value, so ``once()`` keeps the value it was first given."""
    return args[0] if is_empty(state.current) else state.current


def _boolean_from_string(state: State, args: Sequence[Any]) -> bool:
    text = to_string(args[0])
    return text.lower() == "true" or text == "1"


def _checklist(state: State, args: Sequence[Any]) -> bool:
    low, high = math.trunc(_finite(args[0])), math.trunc(_finite(args[1]))
    count = sum(1 for a in args[2:] if to_boolean(a))
    return (low < 0 or count >= low) and (high < 0 or count <= high)


def _weighted_checklist(state: State, args: Sequence[Any]) -> bool:
    low, high = to_number(args[0]), to_number(args[1])
    pairs = zip(args[2::2], args[3::2], strict=True)
    total = sum(to_number(weight) for flag, weight in pairs if to_boolean(flag))
    return low <= total <= high


def _finite(value: Any) -> float:
    number = to_number(value)
    return number if math.isfinite(number) else 0.0


# --- numbers ------------------------------------------------------------------------------------------


def _number(state: State, args: Sequence[Any]) -> float:
    return to_number(args[0])


def _int(state: State, args: Sequence[Any]) -> float:
    number = to_number(args[0])
    if not math.isfinite(number):
        return number
    return math.copysign(float(math.trunc(number)), number)


def xpath_round(number: float, digits: int = 0) -> float:
    """Round to ``digits`` decimals, halves toward +infinity (XPath 1.0 §4.4: ``round(2.5)`` is 3,
    ``round(-2.5)`` is -2), on the number's shortest decimal text (so ``round(12345.15, 1)`` is
    12345.2, as JavaRosa's BigDecimal rounding gives). NaN and ±Infinity are returned as they are;
    more than 30 digits either way is NaN (JavaRosa)."""
    if not math.isfinite(number):
        return number
    if abs(digits) > 30:
        return NAN
    exact = Decimal(repr(number))
    method = ROUND_HALF_UP if number >= 0 else ROUND_HALF_DOWN
    try:
        rounded = exact.quantize(Decimal(1).scaleb(-digits), rounding=method)
    except InvalidOperation:
        return number
    result = float(rounded)
    return math.copysign(0.0, number) if result == 0 else result


def _round(state: State, args: Sequence[Any]) -> float:
    digits = to_number(args[1]) if len(args) > 1 else 0.0
    if math.isnan(digits):
        return NAN
    return xpath_round(to_number(args[0]), math.trunc(max(min(digits, 1e6), -1e6)))


def _sum(state: State, args: Sequence[Any]) -> float:
    """Sum of the node-set's values, NaN values skipped (JavaRosa); Candid's node-sets hold one node."""
    return sum((n for n in (to_number(a) for a in args) if not math.isnan(n)), 0.0)


def _extreme(pick: Callable[[Sequence[float]], float]) -> Callable[[State, Sequence[Any]], float]:
    def implementation(state: State, args: Sequence[Any]) -> float:
        numbers = [n for n in (to_number(a) for a in args) if not math.isnan(n)]
        return pick(numbers) if numbers else NAN

    return implementation


def _math(function: Callable[..., float], arity: int = 1) -> Callable[[State, Sequence[Any]], float]:
    """A floating-point function with IEEE results where Python raises (Java's ``Math``)."""

    def implementation(state: State, args: Sequence[Any]) -> float:
        numbers = [to_number(a) for a in args[:arity]]
        try:
            return float(function(*numbers))
        except OverflowError:
            return math.inf
        except (ValueError, ZeroDivisionError):
            return _ieee_special(function, numbers)

    return implementation


def _ieee_special(function: Callable[..., float], numbers: list[float]) -> float:
    if function in (math.log, math.log10) and numbers[0] == 0:
        return -math.inf
    if function is math.pow and numbers[0] == 0 and numbers[1] < 0:
        return math.inf
    return NAN


def _exp10(x: float) -> float:
    return math.pow(10.0, x)


def _abs(state: State, args: Sequence[Any]) -> float:
    return abs(to_number(args[0]))


# --- selects ------------------------------------------------------------------------------------------


def _selected(state: State, args: Sequence[Any]) -> bool:
    return to_string(args[1]).strip() in selection(args[0])


def _selected_at(state: State, args: Sequence[Any]) -> str:
    """The item at the 0-based index, or '' outside the list (ODK XForms spec)."""
    items = selection(args[0])
    index = to_number(args[1])
    if not math.isfinite(index):
        return ""
    position = math.trunc(index)
    return items[position] if 0 <= position < len(items) else ""


def _count_selected(state: State, args: Sequence[Any]) -> float:
    return float(len(selection(args[0])))


def _choice_name(state: State, args: Sequence[Any]) -> str:
    """The label of choice ``args[0]`` of the question named in ``args[1]`` (``'${q}'``, or a path
    such as ``'/data/q'``), in the participant's language; '' when unknown."""
    reference = to_string(args[1]).strip()
    code = reference[2:-1] if reference.startswith("${") and reference.endswith("}") else reference
    code = code.rstrip("/").rsplit("/", 1)[-1]
    return state.context.choice_label(code, to_string(args[0]).strip())


# --- dates --------------------------------------------------------------------------------------------


def _today(state: State, args: Sequence[Any]) -> str:
    return state.context.today().isoformat()


def _date(state: State, args: Sequence[Any]) -> str:
    """A date string; '' for a value that is empty or cannot be a date (JavaRosa stops the form)."""
    day = to_date(args[0])
    return day.isoformat() if day is not None else ""


def _decimal_date_time(state: State, args: Sequence[Any]) -> float:
    value = args[0]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return date_days(to_string(value))


TIME_PATTERNS = "HhMS3"


def format_date(day: date, pattern: str, language: str) -> str:
    """``format-date()``'s patterns: %Y %y %m %n %b %d %e %a; month and day names in ``language``."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char != "%" or i + 1 >= len(pattern):
            out.append(char)
            i += 1
            continue
        code = pattern[i + 1]
        i += 2
        if code == "Y":
            out.append(f"{day.year:04d}")
        elif code == "y":
            out.append(f"{day.year % 100:02d}")
        elif code == "m":
            out.append(f"{day.month:02d}")
        elif code == "n":
            out.append(str(day.month))
        elif code == "d":
            out.append(f"{day.day:02d}")
        elif code == "e":
            out.append(str(day.day))
        elif code in "ba":
            with translation.override(_django_language(language)):
                out.append(dateformat.format(day, "M" if code == "b" else "D"))
        else:
            out.append("%" + code)
    return "".join(out)


def _django_language(language: str) -> str | None:
    """Django's catalogue for a study language: every Chinese tag through ``django_locale``."""
    if not language:
        return None
    if language.lower().startswith("zh"):
        from ..languages import django_locale

        return django_locale(language)
    return language


def _format_date(state: State, args: Sequence[Any]) -> str:
    day = to_date(args[0])
    if day is None:
        return ""
    return format_date(day, to_string(args[1]), state.context.language)


FUNCTIONS: dict[str, Function] = {
    # strings
    "concat": Function(0, None, _concat),
    "join": Function(1, None, _join),
    "substr": Function(2, 3, _substr),
    "substring-before": Function(2, 2, _substring_before),
    "substring-after": Function(2, 2, _substring_after),
    "translate": Function(3, 3, _translate),
    "string-length": Function(1, 1, _string_length),
    "normalize-space": Function(0, 1, _normalize_space),
    "contains": Function(2, 2, _contains),
    "starts-with": Function(2, 2, _starts_with),
    "ends-with": Function(2, 2, _ends_with),
    "string": Function(1, 1, _string),
    "regex": Function(2, 2, _regex),
    # booleans and control
    "if": Function(3, 3, _if, lazy=True),
    "coalesce": Function(2, 2, _coalesce, lazy=True),
    "once": Function(1, 1, _once),
    "true": Function(0, 0, lambda state, args: True),
    "false": Function(0, 0, lambda state, args: False),
    "boolean": Function(1, 1, lambda state, args: to_boolean(args[0])),
    "boolean-from-string": Function(1, 1, _boolean_from_string),
    "not": Function(1, 1, lambda state, args: not to_boolean(args[0])),
    "checklist": Function(2, None, _checklist),
    "weighted-checklist": Function(2, None, _weighted_checklist),
    # numbers
    "number": Function(1, 1, _number),
    "int": Function(1, 1, _int),
    "round": Function(1, 2, _round),
    "sum": Function(1, 1, _sum),
    "max": Function(0, None, _extreme(max)),
    "min": Function(0, None, _extreme(min)),
    "pow": Function(2, 2, _math(math.pow, 2)),
    "abs": Function(1, 1, _abs),
    "log": Function(1, 1, _math(math.log)),
    "log10": Function(1, 1, _math(math.log10)),
    "sin": Function(1, 1, _math(math.sin)),
    "cos": Function(1, 1, _math(math.cos)),
    "tan": Function(1, 1, _math(math.tan)),
    "asin": Function(1, 1, _math(math.asin)),
    "acos": Function(1, 1, _math(math.acos)),
    "atan": Function(1, 1, _math(math.atan)),
    "atan2": Function(2, 2, _math(math.atan2, 2)),
    "sqrt": Function(1, 1, _math(math.sqrt)),
    "exp": Function(1, 1, _math(math.exp)),
    "exp10": Function(1, 1, _math(_exp10)),
    "pi": Function(0, 0, lambda state, args: math.pi),
    # selects
    "selected": Function(2, 2, _selected),
    "selected-at": Function(2, 2, _selected_at),
    "count-selected": Function(1, 1, _count_selected),
    "jr:choice-name": Function(2, 2, _choice_name),
    # dates (Candid records dates, never times)
    "today": Function(0, 0, _today),
    "now": Function(0, 0, _today),
    "date": Function(1, 1, _date),
    "decimal-date-time": Function(1, 1, _decimal_date_time),
    "decimal-date": Function(1, 1, _decimal_date_time),
    "format-date": Function(2, 2, _format_date),
}

_REPEATS = _("it works on repeats or node-sets, which Candid's anonymous surveys do not have")
_INSTANCES = _(
    "it reads secondary instances or external files, which Candid does not have; use choice_filter"
)
_RANDOM = _("a random value would differ between the server and a device; use the randomize column")
_TIMES = _("Candid records dates, never times")
_GEO = _("Candid has no geographic questions")
_DEVICE = _("it reads the device or signs data, which Candid does not do")

REFUSED: dict[str, Any] = {
    "instance": _INSTANCES,
    "current": _INSTANCES,
    "pulldata": _INSTANCES,
    "jr:itext": _("labels are translated with label::language columns"),
    "count": _REPEATS,
    "count-non-empty": _REPEATS,
    "position": _REPEATS,
    "indexed-repeat": _REPEATS,
    "randomize": _RANDOM,
    "random": _RANDOM,
    "uuid": _RANDOM,
    "format-date-time": _TIMES,
    "date-time": _TIMES,
    "decimal-time": _TIMES,
    "area": _GEO,
    "distance": _GEO,
    "geofence": _GEO,
    "digest": _DEVICE,
    "base64-decode": _DEVICE,
    "extract-signed": _DEVICE,
    "property": _DEVICE,
    "version": _DEVICE,
    "substring": _("use substr(), whose start is 0-based"),
    "lower-case": _("the ODK XForms specification does not list it"),
    "upper-case": _("the ODK XForms specification does not list it"),
}
