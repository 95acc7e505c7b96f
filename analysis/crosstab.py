"""Cross-tabulations with weighted column percentages and the Rao–Scott corrected chi-square test."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from .design import SurveyDesign
from .estimates import _proportion_fit


@dataclass(frozen=True)
class Crosstab:
    """Counts, weighted column percentages and the test of independence of ``row`` and ``column``."""

    counts: pd.DataFrame  # unweighted counts (for disclosure control)
    column_percent: pd.DataFrame  # weighted share of each row level within each column, in %
    statistic: float  # Rao–Scott second-order F
    ndf: float
    ddf: float
    p_value: float
    pearson: float  # uncorrected Pearson X^2 on the table scaled to n
    design_effect: float = float("nan")  # mean generalised design effect, tr(Delta) / its order


def crosstab(design: SurveyDesign, row: str, column: str) -> Crosstab:
    """Two-way table of ``row`` by ``column`` with R's ``svychisq(statistic="F")`` test.

    The test divides Pearson's X^2 (on the weighted table scaled to the sample size) by the trace
    of the generalised design-effect matrix Delta, and refers it to F with ``d0 = tr(D)^2 / tr(D^2)``
    and ``d0 * df`` degrees of freedom (Rao & Scott 1984, *Annals of Statistics* 12(1); Lumley's
    ``svychisq``). ``df`` is the design's ``degf``, which leaves out PSUs whose rows all have weight
    zero; R's ``svychisq`` counts them (its ``nu``), unlike its own ``degf``.
    """
    data = design.data
    valid = (data[row].notna() & data[column].notna()).to_numpy()
    r_codes, r_levels = pd.factorize(data[row], sort=True)
    c_codes, c_levels = pd.factorize(data[column], sort=True)
    nr, nc = len(r_levels), len(c_levels)
    cell = np.where(valid, c_codes * nr + r_codes, -1)  # rows vary fastest, as R's interaction()
    everyone = np.where(valid, 0, -1)
    fit = _proportion_fit(design, everyone, np.where(valid, cell, 0), 1, nr * nc)
    tally = np.bincount(cell[valid], minlength=nr * nc)  # one pass, no pivot table
    return rao_scott(design, fit.estimate, fit.cov, tally, row_levels=r_levels, column_levels=c_levels)


def rao_scott(
    design: SurveyDesign,
    p: np.ndarray,
    V: np.ndarray,
    counts: np.ndarray,
    *,
    row_levels: pd.Index,
    column_levels: pd.Index,
) -> Crosstab:
    """The table and test of :func:`crosstab` from the cells' weighted shares of everyone counted
    ``p`` (``(nr * nc,)``, rows varying fastest), their covariance ``V`` and unweighted ``counts``."""
    nr, nc = len(row_levels), len(column_levels)
    n = int(counts.sum())
    main = np.column_stack(
        [
            np.ones(nr * nc),
            *[(np.arange(nr * nc) % nr == i).astype(float) for i in range(1, nr)],
            *[(np.arange(nr * nc) // nr == j).astype(float) for j in range(1, nc)],
        ]
    )
    interaction = np.column_stack(
        [
            ((np.arange(nr * nc) % nr == i) & (np.arange(nr * nc) // nr == j)).astype(float)
            for j in range(1, nc)
            for i in range(1, nr)
        ]
    )
    coef, *_ = np.linalg.lstsq(main, interaction, rcond=None)
    C = interaction - main @ coef
    inverse = np.diag(np.where(p == 0, 0, 1 / np.where(p == 0, 1, p)))
    denominator = C.T @ (inverse / n) @ C
    numerator = C.T @ inverse @ V @ inverse @ C
    delta = np.linalg.solve(denominator, numerator)
    table = (p * n).reshape(nc, nr).T
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / n
    # A table whose shares have no variance (every respondent in one cell of a group) has a zero
    # design-effect matrix: d0 and the statistic are then NaN or infinite, as R's svychisq gives
    # them, and callers leave such a test out.
    with np.errstate(divide="ignore", invalid="ignore"):
        d0 = np.trace(delta) ** 2 / np.trace(delta @ delta)
        pearson = float(np.nansum((table - expected) ** 2 / expected))
        statistic = pearson / np.trace(delta)
    ddf = d0 * max(design.df, 1)
    counts_table = pd.DataFrame(counts.reshape(nc, nr).T, index=row_levels, columns=column_levels)
    weighted = pd.DataFrame(table, index=row_levels, columns=column_levels)
    return Crosstab(
        counts=counts_table,
        column_percent=100 * weighted / weighted.sum(axis=0),
        statistic=float(statistic),
        ndf=float(d0),
        ddf=float(ddf),
        p_value=float(stats.f.sf(statistic, d0, ddf)),
        pearson=pearson,
        design_effect=float(np.trace(delta) / max(len(delta), 1)),
    )
