"""One pass over the rows per categorical answer: the group sums that all its share tables need.

On a design without clusters (:func:`analysis.linearisation.applies`) a share's estimate, its
Taylor variance and design effect, its domain's degrees of freedom, its cell's unweighted count and
the fingerprint of its respondent set (:func:`analysis.suppression.row_keys`) are all functions of
a few sums over groups of rows that share a stratum, a calibration cell, an answer and a group of
each breakdown. :func:`tally` takes those sums in one ``bincount`` each; every table of the
answer — overall, by each breakdown, and its Rao–Scott test against each breakdown — then follows
from a table of at most a few thousand groups (:func:`share_estimates`, :func:`cell_fingerprints`,
:func:`crosstab_of_tally`), with the numbers :func:`analysis.proportion` and
:func:`analysis.crosstab` give from the rows (tested against them; the variance formulas are
``analysis.linearisation``'s, i.e. R's ``svyrecvar`` — Lumley 2010, *Complex Surveys*, §2.2-2.3).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import linearisation
from .crosstab import Crosstab, rao_scott
from .design import SurveyDesign
from .estimates import _frame, _RatioFit
from .intervals import proportion_intervals

DESIGN_SUMS = ("count", "positive", "w", "w2", "old_w")
DENSE_FACTOR = 4  # direct bincount bins allowed per row before groups are numbered by sorting
ESTIMATE_COLUMNS = ["group", "level", "estimate", "se", "ci_low", "ci_high", "deff", "n", "n_eff"]


@dataclass(frozen=True)
class Tally:
    """Sums per group of rows.

    Each group's rows share a stratum and calibration cell (``group``, the code of
    :func:`analysis.linearisation.row_groups`; ``stratum`` the stratum's index), an answer
    (``answer``: -1 missing) and a group of every breakdown (``breakdowns[i]``: -1 missing). ``sums``
    holds per group, as floats: ``count``; ``positive`` (rows of non-zero weight); ``w`` and
    ``w2`` (sums of the weights and of their squares); ``old_w`` (post-stratified designs: the
    weights before); ``key_a`` and ``key_b`` (sums of the respondents' fingerprint numbers).
    """

    group: np.ndarray
    stratum: np.ndarray
    answer: np.ndarray
    breakdowns: tuple[np.ndarray, ...]
    sums: dict[str, np.ndarray]


def _row_sums(design: SurveyDesign) -> dict[str, np.ndarray | None]:
    """What every tally of ``design`` sums besides counts (``None``: equal to the count), computed
    once and kept on the (immutable) design."""
    found = design.__dict__.get("_tally_rows")
    if found is None:
        w = design.w
        unit = not design.has_zero_weights and bool(np.all(w == 1.0))
        calibration = design.calibration
        found = {
            "positive": (w != 0).astype(float) if design.has_zero_weights else None,
            "w": None if unit else w,
            "w2": None if unit else w * w,
            "old_w": calibration[0].old_weights
            if calibration and calibration[0].kind == "poststratify"
            else None,
        }
        design.__dict__["_tally_rows"] = found
    return found


def tally(
    design: SurveyDesign,
    answer: np.ndarray,
    size: int,
    breakdowns: Sequence[tuple[np.ndarray, int]],
    keys: np.ndarray,
) -> Tally:
    """The group sums of one answer crossed with ``breakdowns``, in one pass over the rows.

    ``answer`` is each row's answer code ``0..size-1`` (-1: missing); each breakdown is a pair of
    row codes (-1: missing) and their number; ``keys`` are the respondents' fingerprint numbers
    ``(n, 2)`` (:func:`analysis.suppression.row_keys`). Needs a design on which
    :func:`analysis.linearisation.applies`; raises ``ValueError`` otherwise.
    """
    if not linearisation.applies(design):
        raise ValueError("a tally needs a design without clusters (analysis.linearisation.applies)")
    row_group, groups = linearisation.row_groups(design)
    extents = [size + 1, *(count + 1 for _, count in breakdowns)]
    key = row_group * extents[0] + (answer + 1)
    for (codes, _), extent in zip(breakdowns, extents[1:], strict=True):
        key = key * extent + (codes + 1)
    bins = groups * int(np.prod(extents))
    if bins <= DENSE_FACTOR * max(design.n, 1024):
        count = np.bincount(key, minlength=bins)
        present = np.flatnonzero(count)

        def add(values: np.ndarray) -> np.ndarray:
            return np.bincount(key, weights=values, minlength=bins)[present]

        uniques, count = present, count[present].astype(float)
    else:  # many breakdowns of many groups: number the groups present instead
        index, uniques = linearisation._factorize(key)

        def add(values: np.ndarray) -> np.ndarray:
            return np.bincount(index, weights=values, minlength=len(uniques))

        count = np.bincount(index, minlength=len(uniques)).astype(float)
    sums = {"count": count}
    for name, values in _row_sums(design).items():
        if values is not None:
            sums[name] = add(values)
        elif name != "old_w":
            sums[name] = count
    sums["key_a"], sums["key_b"] = (
        add(np.ascontiguousarray(keys[:, 0])),
        add(np.ascontiguousarray(keys[:, 1])),
    )
    decoded = []
    for extent in reversed(extents[1:]):
        decoded.append(uniques % extent - 1)
        uniques = uniques // extent
    group = uniques // extents[0]
    n_cells = linearisation._cells(design).n_cells
    return Tally(group, group // n_cells, uniques % extents[0] - 1, tuple(reversed(decoded)), sums)


def _design_sums(t: Tally) -> dict[str, np.ndarray]:
    return {name: t.sums[name] for name in DESIGN_SUMS if name in t.sums}


def _own_df(t: Tally, domain: np.ndarray, g: int) -> np.ndarray:
    """Each domain's degrees of freedom as R's ``degf`` of its subset design: its rows of non-zero
    weight (each its own PSU) minus its strata; NaN below one."""
    keep = (domain >= 0) & (t.sums["positive"] > 0)
    units = np.bincount(domain[keep], weights=t.sums["positive"][keep], minlength=g)
    size = int(t.stratum.max()) + 1
    strata = (np.bincount(domain[keep] * size + t.stratum[keep], minlength=g * size) > 0).reshape(g, size)
    dfs = units - strata.sum(axis=1)
    return np.where(dfs >= 1, dfs, np.nan).astype(float)


def share_estimates(
    design: SurveyDesign,
    t: Tally,
    level_of: np.ndarray,
    group_of: np.ndarray | None,
    *,
    level: float = 0.95,
) -> pd.DataFrame:
    """:func:`analysis.proportion` of the answer by a breakdown, from a tally of ``design``.

    ``level_of`` gives each tally group's level (an index into the caller's levels; -1: not
    counted) and ``group_of`` its domain (-1: outside every domain; ``None``: one domain of
    everyone with a level). One row per domain and level that occur among the rows counted:
    ``group`` and ``level`` (the indices), ``estimate, se, ci_low, ci_high, deff, n, n_eff`` —
    ``proportion(design, var, by)``'s numbers with ``method="auto"`` (Wilson for an unweighted
    simple random sample, else logit) and each domain's own degrees of freedom (R's ``svyby`` of
    ``svyciprop``) counted over the domain's rows with a level, which is ``proportion``'s when the
    breakdown is blank where the answer is.
    """
    domain_of = np.zeros_like(level_of) if group_of is None else group_of
    inside = (level_of >= 0) & (domain_of >= 0)
    if not inside.any():
        return pd.DataFrame(columns=ESTIMATE_COLUMNS)
    levels, domains = np.unique(level_of[inside]), np.unique(domain_of[inside])
    k, g = len(levels), len(domains)
    domain = np.where(inside, np.searchsorted(domains, domain_of), -1)
    fit = linearisation.shares_of_groups(
        design, t.group, domain, np.where(inside, np.searchsorted(levels, level_of), 0), _design_sums(t), g, k
    )
    ratio = _RatioFit(fit.estimate, fit.cov, fit.vsrs, fit.n, np.repeat(_own_df(t, domain, g), k))
    index = pd.DataFrame({"group": np.repeat(domains, k), "level": np.tile(levels, g)})
    frame = _frame(ratio, level=level, index=index)
    method = "wilson" if design.is_simple_random_sample else "logit"
    return proportion_intervals(design, frame, ratio, column=None, k=k, level=level, method=method)


def cell_fingerprints(
    t: Tally, level_of: np.ndarray, k: int, group_of: np.ndarray | None, g: int
) -> list[tuple[int, int, int]]:
    """:func:`analysis.suppression.fingerprints` of the ``g * k`` cells (domain ``d``, level ``j`` at
    ``d * k + j``), from a tally: ``level_of`` and ``group_of`` as in :func:`share_estimates`."""
    domain_of = np.zeros_like(level_of) if group_of is None else group_of
    inside = (level_of >= 0) & (domain_of >= 0)
    cell = (domain_of * k + level_of)[inside]
    size = g * k
    first = np.bincount(cell, weights=t.sums["key_a"][inside], minlength=size)
    second = np.bincount(cell, weights=t.sums["key_b"][inside], minlength=size)
    members = np.bincount(cell, weights=t.sums["count"][inside], minlength=size)
    return [(int(a), int(b), int(m)) for a, b, m in zip(first, second, members, strict=True)]


def crosstab_of_tally(
    design: SurveyDesign, t: Tally, breakdown: int, rows: pd.Index, columns: pd.Index
) -> Crosstab:
    """:func:`analysis.crosstab` of the answer (rows) by breakdown number ``breakdown`` (columns),
    from a tally whose codes number the values ``rows`` and ``columns`` (as ``pandas.factorize``
    numbers them). Raises ``ValueError`` when no row has both."""
    row_rank, row_levels = pd.factorize(rows, sort=True)
    column_rank, column_levels = pd.factorize(columns, sort=True)
    nr, nc = len(row_levels), len(column_levels)
    answer, group = t.answer, t.breakdowns[breakdown]
    valid = (answer >= 0) & (group >= 0)
    if not valid.any():
        raise ValueError("no respondent answered both")
    cell = np.where(valid, column_rank[np.clip(group, 0, None)] * nr + row_rank[np.clip(answer, 0, None)], 0)
    fit = linearisation.shares_of_groups(
        design, t.group, np.where(valid, 0, -1), cell, _design_sums(t), 1, nr * nc
    )
    counts = np.bincount(cell[valid], weights=t.sums["count"][valid], minlength=nr * nc)
    return rao_scott(
        design,
        fit.estimate,
        fit.cov,
        counts.astype(np.int64),
        row_levels=row_levels,
        column_levels=column_levels,
    )
