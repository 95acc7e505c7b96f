"""Parse an expression once into Python closures, check it, and evaluate it against answers.

``parse(source)`` checks everything that can be checked without answers (syntax, functions and
their argument counts, regular expressions and date patterns written as literals) and raises
:class:`ExpressionError` with the character position; the :class:`Expression` it returns
evaluates in microseconds. Evaluation never raises for any answers, except when the page's
time budget (:func:`expression_budget`) runs out: :class:`ExpressionBudgetExceeded`.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any

import re2
from django.utils.translation import gettext as _
from lark import Token, Tree
from lark.exceptions import UnexpectedInput

from .functions import FUNCTIONS, REFUSED, TIME_PATTERNS, compile_pattern
from .grammar import ExpressionError, describe, parser
from .values import compare, to_boolean, to_number

# The longest text an expression may build (concat/join of answers): far beyond any label, and small
# enough that a chain of calculations doubling a text cannot fill a worker's memory.
MAX_TEXT = 100_000


def _no_label(question: str, choice: str) -> str:
    return ""


@dataclass(frozen=True)
class Context:
    """What an expression may read besides the answers: the participant's language, choice labels
    (for ``jr:choice-name``), today's date, and in a ``choice_filter`` the candidate choice's columns
    (``name``, ``filter``, any other column of the choices sheet)."""

    language: str = ""
    choice_label: Callable[[str, str], str] = _no_label  # (question code, choice code) -> label
    today: Callable[[], date] = date.today
    choice: Mapping[str, Any] | None = None


DEFAULT_CONTEXT = Context()


class ExpressionBudgetExceeded(Exception):
    """A page's expressions ran past their time budget, or built a text longer than ``MAX_TEXT``."""


@dataclass
class Budget:
    seconds: float
    spent: float = 0.0


_budget: ContextVar[Budget | None] = ContextVar("candid_expression_budget", default=None)
_clock = time.monotonic


@contextmanager
def expression_budget(seconds: float) -> Iterator[Budget | None]:
    """Limit the total time the expressions evaluated inside the block may take (0: no limit).

    Only evaluation is counted, not the database or templates around it; once the budget is spent
    the next function call raises :class:`ExpressionBudgetExceeded`.
    """
    budget = Budget(float(seconds)) if seconds and seconds > 0 else None
    token = _budget.set(budget)
    try:
        yield budget
    finally:
        _budget.reset(token)


class State:
    """One evaluation: the answers, the current value (``.``), the context and the deadline."""

    __slots__ = ("answers", "context", "current", "deadline")

    def __init__(self, answers: Mapping[str, Any], current: Any, context: Context, deadline: float | None):
        self.answers = answers
        self.current = "" if current is None else current
        self.context = context
        self.deadline = deadline


Run = Callable[[State], Any]


@dataclass(frozen=True)
class Expression:
    """A parsed expression: its source, its tree, the question codes it references and its closure."""

    source: str
    tree: Tree | Token
    references: tuple[tuple[str, int], ...]  # (code, position) in order of appearance
    uses_current: bool
    functions: frozenset[str] = frozenset()
    run: Run = field(default=lambda state: "", compare=False, repr=False)

    def evaluate(self, answers: Mapping[str, Any], current: Any = "", context: Context | None = None) -> Any:
        """The value (str, float, bool or list) for these answers; ``current`` is ``.``."""
        budget = _budget.get()
        if budget is None:
            return self.run(State(answers, current, context or DEFAULT_CONTEXT, None))
        started = _clock()
        if budget.spent >= budget.seconds:
            raise ExpressionBudgetExceeded
        try:
            return self.run(
                State(answers, current, context or DEFAULT_CONTEXT, started + budget.seconds - budget.spent)
            )
        finally:
            budget.spent += _clock() - started

    def is_true(self, answers: Mapping[str, Any], current: Any = "", context: Context | None = None) -> bool:
        return to_boolean(self.evaluate(answers, current, context))


def parse(source: str, *, choice_filter: bool = False) -> Expression:
    """Parse and check ``source`` or raise :class:`ExpressionError` with the position of the fault.

    ``choice_filter``: bare names (``state``) are the candidate choice's columns, as in XLSForm's
    ``choice_filter`` column; elsewhere a question is always ``${code}``.
    """
    return _parse(source, choice_filter)


@lru_cache(maxsize=4096)
def _parse(source: str, choice_filter: bool) -> Expression:
    if not source or not source.strip():
        raise ExpressionError(_("the expression is empty"), 0)
    _refuse_unsupported_calls(source)
    try:
        tree = parser().parse(source)
        checker = _Checker(source, choice_filter)
        checker.check(tree)
        run = _compile(tree)
    except UnexpectedInput as error:
        message, position = describe(error, source)
        raise ExpressionError(message, position) from None
    except RecursionError:
        raise ExpressionError(_("the expression is nested too deeply"), 0) from None
    return Expression(
        source,
        tree,
        tuple(sorted(checker.references, key=lambda ref: ref[1])),
        checker.uses_current,
        frozenset(checker.functions),
        run,
    )


_STRING_LITERAL = re.compile(r"'[^']*'|\"[^\"]*\"")
_CALL = re.compile(r"(?<![\w.:${-])([A-Za-z_][\w.-]*(?::[A-Za-z_][\w.-]*)?)\s*\(")


def _refuse_unsupported_calls(source: str) -> None:
    """Name a refused function before the grammar trips over what usually comes with it
    (``position(..)``, ``instance('x')/root/item[...]``): the function is the researcher's fault to fix."""
    masked = _STRING_LITERAL.sub(lambda match: " " * len(match.group(0)), source)
    for match in _CALL.finditer(masked):
        name = match.group(1)
        if name in REFUSED:
            raise ExpressionError(
                _("%(name)s() is not supported: %(reason)s") % {"name": name, "reason": REFUSED[name]},
                match.start(1),
            )
    if "${last-saved#" in masked:
        raise ExpressionError(
            _("${last-saved#...} reads the device's previous submission, which Candid does not have"),
            masked.index("${last-saved#"),
        )


def _position(node: Tree | Token) -> int:
    if isinstance(node, Token):
        return node.start_pos or 0
    return getattr(node.meta, "start_pos", 0) if not getattr(node.meta, "empty", True) else 0


class _Checker:
    """Collects references and refuses what cannot be evaluated, before any answer is seen."""

    def __init__(self, source: str, choice_filter: bool) -> None:
        self.source = source
        self.choice_filter = choice_filter
        self.references: list[tuple[str, int]] = []
        self.functions: set[str] = set()
        self.uses_current = False

    def check(self, node: Tree | Token) -> None:
        if not isinstance(node, Tree):
            return
        if node.data == "ref":
            name = node.children[0]
            self.references.append((str(name), name.start_pos - 2))
        elif node.data == "current":
            self.uses_current = True
        elif node.data == "column" and not self.choice_filter:
            name = str(node.children[0])
            if name in {"true", "false"}:
                raise ExpressionError(
                    _("%(name)s is a name in XPath: write %(name)s()") % {"name": name},
                    _position(node.children[0]),
                )
            raise ExpressionError(
                _("unexpected %(name)r: refer to a question as ${%(name)s}") % {"name": name},
                _position(node.children[0]),
            )
        elif node.data == "call":
            self.call(node)
        for child in node.children:
            self.check(child)

    def call(self, node: Tree) -> None:
        name_token = node.children[0]
        name = str(name_token)
        arguments = node.children[1:]
        position = name_token.start_pos
        if name in REFUSED:
            raise ExpressionError(
                _("%(name)s() is not supported: %(reason)s") % {"name": name, "reason": REFUSED[name]},
                position,
            )
        function = FUNCTIONS.get(name)
        if function is None:
            raise ExpressionError(_("unknown function %(name)s()") % {"name": name}, position)
        count = len(arguments)
        if count < function.low or (function.high is not None and count > function.high):
            if function.low == function.high:
                expected = str(function.low)
            elif function.high is None:
                expected = _("%(low)d or more") % {"low": function.low}
            else:
                expected = _("%(low)d to %(high)d") % {"low": function.low, "high": function.high}
            raise ExpressionError(
                _("%(name)s() takes %(expected)s argument(s), not %(count)d")
                % {"name": name, "expected": expected, "count": count},
                position,
            )
        self.functions.add(name)
        check = _ARGUMENT_CHECKS.get(name)
        if check is not None:
            check(self, name, arguments, position)


def _literal(node: Tree | Token) -> str | None:
    if isinstance(node, Tree) and node.data == "string":
        return str(node.children[0])[1:-1]
    return None


def _check_regex(checker: _Checker, name: str, arguments: list, position: int) -> None:
    pattern = _literal(arguments[1])
    if pattern is None:
        return
    try:
        compile_pattern(pattern)
    except re2.error as error:
        detail = (
            error.args[0].decode("utf-8", "replace")
            if error.args and isinstance(error.args[0], bytes)
            else str(error)
        )
        fragment = detail.rsplit(": ", 1)[-1] if ": " in detail else ""
        offset = pattern.find(fragment) if fragment else -1
        start = _position(arguments[1]) + 1
        raise ExpressionError(
            _(
                "the regular expression cannot be used (%(detail)s); Candid runs patterns on RE2, which has no "
                "look-around or back-references"
            )
            % {"detail": detail},
            start + max(offset, 0),
        ) from None


def _check_format_date(checker: _Checker, name: str, arguments: list, position: int) -> None:
    pattern = _literal(arguments[1])
    if pattern is None:
        return
    index = 0
    while index < len(pattern) - 1:
        if pattern[index] == "%":
            if pattern[index + 1] in TIME_PATTERNS:
                raise ExpressionError(
                    _("format-date() pattern %%%(code)s is a time: Candid records dates, never times")
                    % {"code": pattern[index + 1]},
                    _position(arguments[1]) + 1 + index,
                )
            index += 2
        else:
            index += 1


def _check_choice_name(checker: _Checker, name: str, arguments: list, position: int) -> None:
    reference = _literal(arguments[1])
    if reference and reference.strip().startswith("${") and reference.strip().endswith("}"):
        code = reference.strip()[2:-1]
        checker.references.append((code, _position(arguments[1]) + 1 + reference.index("${")))


def _check_sum(checker: _Checker, name: str, arguments: list, position: int) -> None:
    argument = arguments[0]
    if not (isinstance(argument, Tree) and argument.data in {"ref", "current"}):
        raise ExpressionError(_("sum() adds the values of a question: write sum(${code})"), position)


def _check_pairs(checker: _Checker, name: str, arguments: list, position: int) -> None:
    if len(arguments) % 2:
        raise ExpressionError(
            _("weighted-checklist() takes pairs of value and weight after min and max"), position
        )


_ARGUMENT_CHECKS: dict[str, Callable[[_Checker, str, list, int], None]] = {
    "regex": _check_regex,
    "format-date": _check_format_date,
    "jr:choice-name": _check_choice_name,
    "sum": _check_sum,
    "weighted-checklist": _check_pairs,
}


# --- compiling the tree to closures ---------------------------------------------------------------------


def _compile(node: Tree | Token) -> Run:
    if isinstance(node, Token):  # pragma: no cover - every token sits in a named node
        value = str(node)
        return lambda state: value
    return _COMPILERS[node.data](node)


def _number(node: Tree) -> Run:
    value = float(node.children[0])
    return lambda state: value


def _string(node: Tree) -> Run:
    value = str(node.children[0])[1:-1]
    return lambda state: value


def _ref(node: Tree) -> Run:
    code = str(node.children[0])

    def run(state: State) -> Any:
        value = state.answers.get(code, "")
        return "" if value is None else value

    return run


def _current(node: Tree) -> Run:
    return lambda state: state.current


def _column(node: Tree) -> Run:
    name = str(node.children[0])

    def run(state: State) -> Any:
        choice = state.context.choice
        value = choice.get(name, "") if choice is not None else ""
        return "" if value is None else value

    return run


def _neg(node: Tree) -> Run:
    operand = _compile(node.children[0])
    return lambda state: -to_number(operand(state))


def _or(node: Tree) -> Run:
    parts = [_compile(child) for child in node.children]
    return lambda state: any(to_boolean(part(state)) for part in parts)


def _and(node: Tree) -> Run:
    parts = [_compile(child) for child in node.children]
    return lambda state: all(to_boolean(part(state)) for part in parts)


def _comparison(node: Tree) -> Run:
    left, operator, right = node.children
    op = str(operator)
    a, b = _compile(left), _compile(right)
    return lambda state: compare(op, a(state), b(state))


def divide(a: float, b: float) -> float:
    """XPath ``div``: IEEE 754 division, so ``1 div 0`` is Infinity and ``0 div 0`` NaN."""
    try:
        return a / b
    except ZeroDivisionError:
        if a == 0 or a != a:
            return float("nan")
        return math.copysign(math.inf, a) * math.copysign(1.0, b)


def modulo(a: float, b: float) -> float:
    """XPath ``mod``: the remainder of truncating division, with the dividend's sign (``-5 mod 3`` is -2)."""
    if b == 0 or a != a or b != b or a in (float("inf"), float("-inf")):
        return float("nan")
    return math.fmod(a, b)


_ARITHMETIC: dict[str, Callable[[float, float], float]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "div": divide,
    "mod": modulo,
}


def _arithmetic(node: Tree) -> Run:
    first = _compile(node.children[0])
    steps = [
        (_ARITHMETIC[str(op)], _compile(operand))
        for op, operand in zip(node.children[1::2], node.children[2::2], strict=True)
    ]

    def run(state: State) -> float:
        result = to_number(first(state))
        for operation, operand in steps:
            result = operation(result, to_number(operand(state)))
        return result

    return run


def _call(node: Tree) -> Run:
    name = str(node.children[0])
    function = FUNCTIONS[name]
    arguments = [_compile(child) for child in node.children[1:]]
    implementation = function.impl

    if function.lazy:

        def run_lazy(state: State) -> Any:
            _check_time(state)
            return implementation(state, arguments)

        return run_lazy

    def run(state: State) -> Any:
        _check_time(state)
        result = implementation(state, [argument(state) for argument in arguments])
        if isinstance(result, str) and len(result) > MAX_TEXT:
            raise ExpressionBudgetExceeded
        return result

    return run


def _check_time(state: State) -> None:
    if state.deadline is not None and _clock() > state.deadline:
        raise ExpressionBudgetExceeded


_COMPILERS: dict[str, Callable[[Tree], Run]] = {
    "number": _number,
    "string": _string,
    "ref": _ref,
    "current": _current,
    "column": _column,
    "neg": _neg,
    "or_expr": _or,
    "and_expr": _and,
    "comparison": _comparison,
    "additive": _arithmetic,
    "multiplicative": _arithmetic,
    "call": _call,
}
