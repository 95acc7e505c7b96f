"""Model matrices from R-style formulas (``"y ~ x + f + f:x"``), with R's column names.

Built by formulaic (treatment contrasts against the first sorted level, as R's default
``contr.treatment``); the columns are renamed as R names them (``(Intercept)``, ``stypeH``,
``stypeH:ell``) so coefficients and calibration totals read as in R's ``survey`` output.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
from formulaic import model_matrix

E_FORMULA = "cannot build the model matrix of {formula!r}: {error}"
E_NO_ROWS = "no row has every variable of {formula!r}"
TREATMENT = re.compile(r"\[T\.([^\]]*)\]")


def r_name(column: str) -> str:
    """formulaic's column name as R writes it: ``Intercept`` -> ``(Intercept)``, ``f[T.a]`` -> ``fa``."""
    if column == "Intercept":
        return "(Intercept)"
    return TREATMENT.sub(lambda match: match.group(1), column).replace(" ", "")


@dataclass(frozen=True)
class ModelFrame:
    """Response, model matrix and the rows used (complete cases), with R's names and term structure."""

    y: np.ndarray | None  # (used rows,)
    x: np.ndarray  # (used rows, p)
    names: list[str]
    terms: dict[str, list[int]]  # term label (R's "a:b") -> its columns
    rows: np.ndarray  # (n,) boolean: the complete cases used
    intercept: bool


def _response(data: pd.DataFrame, expression: str) -> pd.Series:
    """The left-hand side: a column (a factor or boolean becomes ``level != first level``, as R's glm) or an expression."""
    name = expression.strip().strip("`")
    if name in data.columns:
        column = data[name]
        if (
            column.dtype == bool
            or column.dtype == object
            or isinstance(column.dtype, pd.CategoricalDtype)
            or pd.api.types.is_string_dtype(column)
        ):
            if column.dtype == bool:
                return column.astype(float)
            levels = sorted(column.dropna().unique())
            return column.map(lambda value: np.nan if pd.isna(value) else float(value != levels[0]))
        return pd.to_numeric(column, errors="coerce")
    lhs = model_matrix(expression, data, na_action="ignore", ensure_full_rank=False)
    return pd.Series(np.asarray(lhs, dtype=float)[:, -1], index=data.index)


def model_frame(formula: str, data: pd.DataFrame) -> ModelFrame:
    """The model of ``formula`` on ``data``; rows missing any variable are dropped (R's ``na.omit``).

    Raises ``ValueError`` naming the formula for an unknown variable or a syntax error.
    """
    data = data.reset_index(drop=True)
    lhs, _, rhs = formula.rpartition("~")
    try:
        matrix = model_matrix(rhs, data, na_action="drop")
    except Exception as error:  # formulaic raises many kinds; the message is what matters
        raise ValueError(E_FORMULA.format(formula=formula, error=error)) from error
    rows = np.zeros(len(data), dtype=bool)
    rows[np.asarray(matrix.index)] = True
    y = None
    if lhs.strip():
        try:
            response = _response(data, lhs).to_numpy(dtype=float)
        except Exception as error:
            raise ValueError(E_FORMULA.format(formula=formula, error=error)) from error
        rows &= np.isfinite(response)
        y = response[rows]
    if not rows.any():
        raise ValueError(E_NO_ROWS.format(formula=formula))
    keep = rows[np.asarray(matrix.index)]
    x = np.asarray(matrix, dtype=float)[keep]
    names = [r_name(str(c)) for c in matrix.columns]
    spec = matrix.model_spec
    terms = {
        ":".join(str(f) for f in term.factors) if str(term) != "1" else "(Intercept)": list(columns)
        for term, columns in spec.term_indices.items()
    }
    return ModelFrame(y, x, names, terms, rows, "(Intercept)" in names)
