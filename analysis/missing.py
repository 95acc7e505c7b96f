"""Why an answer is missing: four kinds, told apart in every export.

- ``not_answered``: the question was shown and left blank (optional questions);
- ``not_shown``: relevance hid the question or its page from this participant (the response's
  ``display_not_shown`` column lists such variables);
- ``not_in_version``: the respondent's questionnaire version did not have the variable (a question,
  a multiple-choice option or a ranking's place added or deleted in another version);
- ``not_reached``: a partial response stopped before the question's page (partial exports only).

Codes: SPSS user-missing values −97, −98, −99, −96 (declared as the range −99..−96 on numeric variables,
the first three as discrete values on text variables: SPSS allows three); Stata extended missing
``.a .b .c .d`` (numeric variables; Stata has none for text); CSV, XLSX, Parquet and JSON either leave
the cell empty (the default) or write the SPSS code (``missing_codes``). A variable whose own values
include a code gets codes 100 lower (``shifted_codes``), as its codebook entry says.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from . import schema
from .translation import gettext_noop

if TYPE_CHECKING:  # the codebook imports this module for its documentation of the codes
    from .codebook import Codebook, Variable

NOT_ANSWERED, NOT_SHOWN, NOT_IN_VERSION, NOT_REACHED = (
    "not_answered",
    "not_shown",
    "not_in_version",
    "not_reached",
)
KINDS = (NOT_ANSWERED, NOT_SHOWN, NOT_IN_VERSION, NOT_REACHED)
SPSS_CODES = {NOT_ANSWERED: -97, NOT_SHOWN: -98, NOT_IN_VERSION: -99, NOT_REACHED: -96}
STATA_CODES = {NOT_ANSWERED: "a", NOT_SHOWN: "b", NOT_IN_VERSION: "c", NOT_REACHED: "d"}
LABELS = {
    NOT_ANSWERED: gettext_noop("Shown, not answered"),
    NOT_SHOWN: gettext_noop("Not shown (relevance false)"),
    NOT_IN_VERSION: gettext_noop("Not in the respondent's questionnaire version"),
    NOT_REACHED: gettext_noop("Not reached (partial response)"),
}
# Answer variables; the rest (ids, versions, what was shown) are never "missing" in this sense.
STATUS_KINDS = frozenset(
    {"categorical", "ordinal", "rank", "binary", "numeric", "count", "text", "date", "arm"}
)
FURTHEST_PAGE = "furthest_page"  # partial exports: 1-based index of the furthest page reached
RESPONSE_STATUS = "response_status"  # partial exports: complete, in_progress


def has_status(variable: Variable) -> bool:
    return variable.kind in STATUS_KINDS and bool(variable.versions)


def shifted_codes(values: list[float]) -> dict[str, int]:
    """The SPSS codes of a variable whose answers are ``values``: −97, −98, −99, −96, or each 100
    lower (again, while needed) when an answer equals one of them."""
    taken = {v for v in values if v is not None and not pd.isna(v)}
    shift = 0
    while any(code - shift in taken for code in SPSS_CODES.values()):
        shift += 100
    return {kind: code - shift for kind, code in SPSS_CODES.items()}


def _base(variable: Variable) -> str:
    return variable.name.partition(schema.CHOICE_SEPARATOR)[0]


def missing_kinds(frame: pd.DataFrame, codebook: Codebook) -> dict[str, pd.Series]:
    """``{variable: Series}`` for every answer variable in ``frame``: the kind of missing of each
    cell (one of :data:`KINDS`), ``None`` where there is an answer. Same index as ``frame``.

    A cell of a version without the variable is ``not_in_version`` even when the bridge filled it
    (a multiple-choice option another version deleted is 0 there, "not chosen", by construction).
    Rows and columns: ``frame`` needs ``questionnaire_version`` and ``display_not_shown``, and for
    partial exports ``furthest_page`` and ``display_page_order``.
    """
    version = pd.to_numeric(frame[schema.QUESTIONNAIRE_VERSION], errors="coerce")
    tokens = frame[schema.NOT_SHOWN].fillna("").astype(str).str.split().explode()
    tokens = tokens[tokens.notna() & (tokens != "")]
    hidden = tokens.groupby(tokens).groups if len(tokens) else {}
    reached = _reached_pages(frame)
    result: dict[str, pd.Series] = {}
    for variable in codebook.variables:
        if not has_status(variable) or variable.name not in frame:
            continue
        values = frame[variable.name]
        absent = values.isna()
        if not pd.api.types.is_numeric_dtype(values):  # text: an empty string is no answer either
            absent |= values.astype(object).eq("")
        offered = version.isin(variable.versions)
        if not absent.any() and offered.all():  # every cell answered: nothing to judge
            result[variable.name] = pd.Series(None, index=frame.index, dtype=object)
            continue
        kinds = pd.Series(None, index=frame.index, dtype=object)
        kinds[absent] = NOT_ANSWERED
        rows = hidden.get(_base(variable))
        if rows is not None:
            kinds[kinds.index.isin(rows) & absent] = NOT_SHOWN
        if reached is not None and variable.page in reached:
            kinds[absent & ~reached[variable.page]] = NOT_REACHED
        kinds[~offered] = NOT_IN_VERSION
        result[variable.name] = kinds
    return result


def _reached_pages(frame: pd.DataFrame) -> dict[str, pd.Series] | None:
    """Per page code, whether each row reached it (partial exports); None when all are complete."""
    if FURTHEST_PAGE not in frame:
        return None
    orders = frame[schema.PAGE_ORDER].fillna("").astype(str).str.split()
    furthest = pd.to_numeric(frame[FURTHEST_PAGE], errors="coerce").fillna(10**9)
    pages = {code for order in orders for code in order}
    return {
        page: pd.Series(
            [
                page in order and order.index(page) < limit
                for order, limit in zip(orders, furthest, strict=True)
            ],
            index=frame.index,
        )
        for page in pages
    }
