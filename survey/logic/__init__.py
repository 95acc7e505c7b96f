"""The XLSForm expression language: parse once, check references, evaluate on the server.

Relevance, constraints, piping, calculations and choice filters use XPath 1.0 as the ODK XForms
specification defines it (``${q} >= 4 and selected(${m}, 'x')``, ``int((today() - ${dob}) div
365.25)``): :mod:`.grammar` parses, :mod:`.values` holds the type conversions and comparisons,
:mod:`.functions` the functions, :mod:`.evaluator` checks and evaluates. An unanswered question is
the empty string; a multiple-choice answer is a list of choice codes.

For a calculation or a choice filter::

    expression = parse("concat(${first}, ' ', jr:choice-name(${city}, '${city}'))")
    value = expression.evaluate(answers, context=Context(language="en", choice_label=label_of))
    keep = parse("state = ${state}", choice_filter=True)
    shown = [c for c in choices if keep.is_true(answers, context=Context(choice=c))]
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from .evaluator import (
    MAX_TEXT,
    Context,
    Expression,
    ExpressionBudgetExceeded,
    expression_budget,
    parse,
)
from .functions import FUNCTIONS, REFUSED
from .grammar import ExpressionError
from .values import compare, to_boolean, to_number, to_string

__all__ = [
    "FUNCTIONS",
    "MAX_TEXT",
    "REFUSED",
    "Context",
    "Expression",
    "ExpressionBudgetExceeded",
    "ExpressionError",
    "compare",
    "expression_budget",
    "parse",
    "pipe",
    "piped_codes",
    "to_boolean",
    "to_number",
    "to_string",
]

PIPE_PATTERN = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_.-]*)\}")


def piped_codes(text: str) -> list[tuple[str, int]]:
    """The ``${code}`` references in a label, with their positions (labels are not expressions)."""
    return [(match.group(1), match.start()) for match in PIPE_PATTERN.finditer(text or "")]


def pipe(text: str, answers: Mapping[str, Any], display: Callable[[str, Any], str]) -> str:
    """Replace ``${code}`` in a label by ``display(code, answer)``; the caller escapes the result."""
    return PIPE_PATTERN.sub(lambda match: display(match.group(1), answers.get(match.group(1), "")), text)
