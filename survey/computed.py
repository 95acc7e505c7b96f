"""What the server computes for a participant from their answers: calculations and choice filters.

XLSForm's ``calculation`` column (on a ``calculate`` row, or on an input shown read-only) and its
``choice_filter`` column, evaluated by Candid's one evaluator (:mod:`survey.logic`) with the ODK
semantics it implements. Pure functions: spec and answers in, values out.

- A calculation's stored value is XPath ``string()`` of its result, as an XForms instance holds it
  (ODK XForms spec, "Bindings": ``calculate``): ``3`` for 1 + 2, ``true``/``false`` for a
  comparison. An empty result stores nothing, like an unanswered question, and so does NaN (a sum
  with an unanswered term, ``number('x')``), which ODK would store as the text "NaN": an analyst
  gets a missing value rather than a word in a number's place (``coalesce()`` treats both alike).
  On an ``integer`` or ``decimal`` question, so does a number no export keeps (±Infinity, 10^15 and
  more in size: ``survey.exact_numbers``), which once stopped the Stata export.
  ``jr:choice-name()`` and ``format-date()`` read the form's default language, so a stored value
  does not depend on the language a participant chose.
- A choice filter keeps the choices for which it is true, with the choice's ``name`` and the
  choices sheet's other columns as bare names (``state = ${state}``), as in XLSForm.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from lark import Tree

from .exact_numbers import MAX_MAGNITUDE
from .logic import Context, ExpressionError, parse, to_string


def calculated(
    question: dict[str, Any], answers: dict[str, Any], context: Context | None = None
) -> str | None:
    """The value ``question``'s calculation stores for ``answers`` (a string), or None when the
    question has no calculation or the result is empty."""
    if not question.get("calculation"):
        return None
    value = parse(question["calculation"]).evaluate(answers, "", context)
    if isinstance(value, float) and math.isnan(value):
        return None
    if question.get("type") in NUMERIC_TYPES and _beyond_exports(value):
        return None
    return to_string(value) or None


NUMERIC_TYPES = frozenset({"integer", "decimal"})


def _beyond_exports(value: Any) -> bool:
    """Whether a calculated number is one no export keeps: ±Infinity (``1 div 0``) or 10^15 and more
    in size (``survey.exact_numbers``; Stata refuses ±8.99e307 and up, ``pow(10, 308)``)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return not math.isfinite(value) or abs(value) >= 10**MAX_MAGNITUDE


def unknown_filter_columns(source: str, known: list[str]) -> list[str]:
    """The columns a choice filter reads that are not in ``known`` (``name`` and the choices' own
    columns), in order: each would be empty for every choice and hide them all. A filter that does not
    parse reads nothing here; the validator names its fault."""
    try:
        expression = parse(source, choice_filter=True)
    except ExpressionError:
        return []
    tree = expression.tree
    read = (
        [str(node.children[0]) for node in tree.iter_subtrees_topdown() if node.data == "column"]
        if isinstance(tree, Tree)
        else []
    )
    return [name for name in dict.fromkeys(read) if name not in known]


def choice_columns(choice: dict[str, Any]) -> dict[str, Any]:
    """What a choice filter reads of a choice: its ``name`` and the choices sheet's other columns."""
    return {**choice.get("columns", {}), "name": choice["code"]}


def filtered_choices(
    question: dict[str, Any],
    choices: list[dict[str, Any]],
    answers: dict[str, Any],
    context: Context | None = None,
) -> list[dict[str, Any]]:
    """The ``choices`` (spec choices, in order) that ``question``'s choice filter keeps; all of them
    when it has none."""
    source = question.get("choice_filter")
    if not source:
        return choices
    expression = parse(source, choice_filter=True)
    base = context or Context()
    kept = []
    for choice in choices:
        scoped = Context(
            language=base.language,
            choice_label=base.choice_label,
            today=base.today,
            choice=choice_columns(choice),
        )
        if expression.is_true(answers, "", scoped):
            kept.append(choice)
    return kept


def default_value(question: dict[str, Any]) -> Any:
    """A question's ``default`` as its answer is stored (a number, a date string, a choice code or a
    list of codes for a multiple choice); "" when it has none. The validator has checked its form."""
    text = str(question.get("default") or "").strip()
    if not text:
        return ""
    match question["type"]:
        case "multiple_choice":
            return text.split()
        case "integer":
            return int(text)
        case "decimal" | "slider":
            number = Decimal(text)
            return int(number) if number == number.to_integral_value() else float(number)
    return text
