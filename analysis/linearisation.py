"""Linearised variances from group sums, for designs without clusters (each respondent its own PSU).

For a mean or a share of a domain, every respondent's influence score is ``z = w * (A * y + B)``
where ``A`` and ``B`` are constant within a *group* — the respondent's stratum, calibration cell
(the joint category of the raking margins, or the post-stratum), domain and, for shares, answer
level. So ``sum z``, ``sum z z'`` per stratum — all the Taylor variance needs — follow from the group
sums of ``w, w y, w^2, w^2 y, w^2 y^2``: one pass over the rows, then arithmetic on a table of a few
thousand groups. Calibration residuals are R's ``svyrecvar`` (ten sweeps of unweighted margin means
for raking; old-weight post-stratum means for post-stratification) computed on the cell table, which
gives the same numbers as sweeping every row (tested against the row-level path in
``estimates.py``). The result is exact, not an approximation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .design import Calibration, SurveyDesign

SWEEPS = 10


def applies(design: SurveyDesign) -> bool:
    """A Taylor design without clusters, with at most one raking or post-stratification, and no
    stratum with a single respondent."""
    return (
        not design.is_replicate
        and not design.cluster_columns
        and len(design.calibration) <= 1
        and all(c.kind in ("rake", "poststratify") for c in design.calibration)
        and not design._taylor.lonely.any()
    )


@dataclass(frozen=True)
class _Cells:
    """Row -> calibration cell, and per margin the cell -> margin category map."""

    row_cell: np.ndarray
    n_cells: int
    margin_of_cell: tuple[np.ndarray, ...]
    kind: str  # "none", "rake" or "poststratify"


def _cells(design: SurveyDesign) -> _Cells:
    """The calibration cells of ``design``, computed once and kept on the (immutable) design, as
    ``functools.cached_property`` keeps its values."""
    cells = design.__dict__.get("_calibration_cells")
    if cells is None:
        cells = design.__dict__["_calibration_cells"] = _compute_cells(design)
    return cells


def _compute_cells(design: SurveyDesign) -> _Cells:
    if not design.calibration:
        return _Cells(np.zeros(design.n, dtype=np.int64), 1, (), "none")
    calibration: Calibration = design.calibration[0]
    sizes = [int(codes.max()) + 1 for codes in calibration.groups]
    combined = np.zeros(design.n, dtype=np.int64)
    for codes, size in zip(calibration.groups, sizes, strict=True):
        combined = combined * size + codes
    row_cell, uniques = _factorize(combined)
    margin_of_cell = []
    remainder = uniques.copy()
    for size in reversed(sizes):
        margin_of_cell.append(remainder % size)
        remainder //= size
    return _Cells(row_cell, len(uniques), tuple(reversed(margin_of_cell)), calibration.kind)


DENSE_KEY_LIMIT = 50_000_000


def _factorize(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Number the distinct non-negative integer keys 0..k-1 (in key order) without sorting the rows."""
    top = int(values.max()) + 1 if len(values) else 0
    if top > DENSE_KEY_LIMIT:
        uniques, inverse = np.unique(values, return_inverse=True)
        return inverse.astype(np.int64), uniques
    present = np.bincount(values, minlength=top) > 0
    number = np.cumsum(present) - 1
    return number[values].astype(np.int64), np.flatnonzero(present)


@dataclass(frozen=True)
class GroupFit:
    estimate: np.ndarray
    cov: np.ndarray
    vsrs: np.ndarray
    n: np.ndarray


def _group_table(
    design: SurveyDesign,
    cells: _Cells,
    domain: np.ndarray,
    g: int,
    level: np.ndarray | None,
    k: int,
    y: np.ndarray | None,
):
    """Group index per row and the group sums; groups are (stratum, cell, domain[, level]).

    Rows outside every domain form domain ``g``: their scores are zero, but under calibration they
    still take part in the residuals (R residualises every row), so they are kept.
    """
    structure = design._taylor
    stratum = structure.psu_stratum[structure.psu]
    dom = np.where(domain >= 0, domain, g)
    key = (stratum * cells.n_cells + cells.row_cell) * (g + 1) + dom
    if level is not None:
        key = key * k + np.where(domain >= 0, level, 0)
    group, uniques = _factorize(key)
    size = len(uniques)
    w = design.w
    inside = domain >= 0
    sums = {
        "count": np.bincount(group, minlength=size).astype(float),
        "positive": np.bincount(group, weights=(w != 0).astype(float), minlength=size),
        "w": np.bincount(group, weights=w, minlength=size),
        "w2": np.bincount(group, weights=w * w, minlength=size),
    }
    if cells.kind == "poststratify":
        sums["old_w"] = np.bincount(group, weights=design.calibration[0].old_weights, minlength=size)
    if y is not None:
        yk = np.where(inside, y, 0.0)
        sums |= {
            "wy": np.bincount(group, weights=w * yk, minlength=size),
            "w2y": np.bincount(group, weights=w * w * yk, minlength=size),
            "w2y2": np.bincount(group, weights=w * w * yk * yk, minlength=size),
            "y": np.bincount(group, weights=yk, minlength=size),
        }
        if cells.kind == "poststratify":
            sums["old_wy"] = np.bincount(
                group, weights=design.calibration[0].old_weights * yk, minlength=size
            )
    g_level = None
    rest = uniques
    if level is not None:
        g_level = rest % k
        rest = rest // k
    g_domain = rest % (g + 1)
    rest = rest // (g + 1)
    return sums, rest // cells.n_cells, rest % cells.n_cells, g_domain, g_level


def _corrections(
    cells: _Cells,
    g_cell: np.ndarray,
    sums_u: np.ndarray,
    counts: np.ndarray,
    weighted_u: np.ndarray | None,
    old_w: np.ndarray | None,
) -> np.ndarray:
    """Per cell and column, what calibration removes from ``u`` (rows: cells; columns: statistics)."""
    p = sums_u.shape[1]
    corr = np.zeros((cells.n_cells, p))
    if cells.kind == "none":
        return corr
    cell_count = np.bincount(g_cell, weights=counts, minlength=cells.n_cells)
    if cells.kind == "poststratify":
        cell_old_w = np.bincount(g_cell, weights=old_w, minlength=cells.n_cells)
        for j in range(p):
            corr[:, j] = np.bincount(g_cell, weights=weighted_u[:, j], minlength=cells.n_cells) / np.maximum(
                cell_old_w, 1e-300
            )
        return corr
    cell_sum = np.column_stack(
        [np.bincount(g_cell, weights=sums_u[:, j], minlength=cells.n_cells) for j in range(p)]
    )
    for _sweep in range(SWEEPS):
        for margin in cells.margin_of_cell:
            size = int(margin.max()) + 1
            remaining = cell_sum - cell_count[:, None] * corr
            group_n = np.maximum(np.bincount(margin, weights=cell_count, minlength=size), 1)
            for j in range(p):
                corr[:, j] += (np.bincount(margin, weights=remaining[:, j], minlength=size) / group_n)[margin]
    return corr


def _covariance(
    design: SurveyDesign,
    g_stratum: np.ndarray,
    s1: np.ndarray,
    terms: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
) -> np.ndarray:
    """``sum_h scale_h (sum z z' - (sum z)(sum z)' / n_h)`` from per-group ``s1 = sum z`` and
    ``sum z z'`` given as terms ``(c, L, R)``: ``sum_g c_g L_g R_g'`` (one matrix product per
    stratum, not a ``(groups, p, p)`` array)."""
    structure = design._taylor
    p = s1.shape[1]
    cov = np.zeros((p, p))
    for h in np.unique(g_stratum):
        rows = g_stratum == h
        total = s1[rows].sum(axis=0)
        cross = sum(
            ((left[rows] * c[rows, None]).T @ right[rows] for c, left, right in terms), np.zeros((p, p))
        )
        cov += structure.scale_h[h] * (cross - np.outer(total, total) / structure.n_h[h])
    return cov


def shares(design: SurveyDesign, domain: np.ndarray, level: np.ndarray, g: int, k: int) -> GroupFit:
    """Shares of ``k`` levels within ``g`` domains (column ``d*k + l``), with their full covariance."""
    cells = _cells(design)
    sums, g_stratum, g_cell, g_domain, g_level = _group_table(design, cells, domain, g, level, k, None)
    return _shares(design, cells, sums, g_stratum, g_cell, g_domain, g_level, g, k)


def row_groups(design: SurveyDesign) -> tuple[np.ndarray, int]:
    """Each row's stratum and calibration cell as one code ``stratum * cells + cell``, and the
    number of codes: what every row of one group shares in the variance of a share or a mean.
    Computed once and kept on the (immutable) design."""
    found = design.__dict__.get("_row_groups")
    if found is None:
        cells = _cells(design)
        structure = design._taylor
        stratum = structure.psu_stratum[structure.psu]
        found = (stratum * cells.n_cells + cells.row_cell, len(structure.n_h) * cells.n_cells)
        design.__dict__["_row_groups"] = found
    return found


def shares_of_groups(
    design: SurveyDesign,
    group: np.ndarray,
    domain: np.ndarray,
    level: np.ndarray,
    sums: dict[str, np.ndarray],
    g: int,
    k: int,
) -> GroupFit:
    """:func:`shares` from sums over groups of rows instead of the rows themselves.

    The groups may be any partition of the rows at least as fine as (stratum, calibration cell,
    domain, level): ``group`` is each group's :func:`row_groups` code, ``domain`` its domain
    (``-1``: outside every domain) and ``level`` its level; ``sums`` hold per group ``count``,
    ``positive`` (rows of non-zero weight), ``w``, ``w2`` and, for a post-stratified design,
    ``old_w``. Sums of unions of groups are sums of their sums, so the result is :func:`shares`'
    (to rounding; tested), from one pass over the rows for every breakdown of a variable.
    """
    cells = _cells(design)
    inside = domain >= 0
    key = (group * (g + 1) + np.where(inside, domain, g)) * k + np.where(inside, level, 0)
    index, uniques = _factorize(key)
    size = len(uniques)
    merged = {name: np.bincount(index, weights=values, minlength=size) for name, values in sums.items()}
    g_level = uniques % k
    rest = uniques // k
    g_domain = rest % (g + 1)
    rest = rest // (g + 1)
    return _shares(
        design, cells, merged, rest // cells.n_cells, rest % cells.n_cells, g_domain, g_level, g, k
    )


def _shares(
    design: SurveyDesign,
    cells: _Cells,
    sums: dict[str, np.ndarray],
    g_stratum: np.ndarray,
    g_cell: np.ndarray,
    g_domain: np.ndarray,
    g_level: np.ndarray,
    g: int,
    k: int,
) -> GroupFit:
    p = g * k
    W_domain = np.bincount(g_domain, weights=sums["w"], minlength=g + 1)[:g]
    A = np.bincount(g_domain * k + g_level, weights=sums["w"], minlength=(g + 1) * k)[:p]
    with np.errstate(divide="ignore", invalid="ignore"):
        estimate = A / np.repeat(W_domain, k)
    # u for column c in group gr: [domain(gr) == d_c] * ([level(gr) == k_c] - p_c) / W_{d_c}
    column_domain, column_level = np.repeat(np.arange(g), k), np.tile(np.arange(k), g)
    in_domain = g_domain[:, None] == column_domain[None, :]
    u = np.where(
        in_domain,
        ((g_level[:, None] == column_level[None, :]) - estimate[None, :]) / np.repeat(W_domain, k)[None, :],
        0.0,
    )
    u = np.nan_to_num(u)
    corr = _corrections(
        cells,
        g_cell,
        u * sums["count"][:, None],
        sums["count"],
        u * sums.get("old_w", np.zeros_like(sums["w"]))[:, None],
        sums.get("old_w"),
    )
    B = u - corr[g_cell]
    s1 = B * sums["w"][:, None]
    cov = _covariance(design, g_stratum, s1, [(sums["w2"], B, B)])
    n_domain = np.bincount(g_domain, weights=sums["positive"], minlength=g + 1)[:g]
    n = np.repeat(n_domain, k)
    with np.errstate(divide="ignore", invalid="ignore"):
        vsrs = estimate * (1 - estimate) / (n - 1)
    return GroupFit(estimate, cov, vsrs, n)


def means(design: SurveyDesign, domain: np.ndarray, y: np.ndarray, g: int) -> GroupFit:
    """Means of ``y`` in ``g`` domains, with their covariance (influence ``(y - ybar_d) / W_d`` in domain d).

    ``y`` is centred at its domain's mean before the group sums are taken, so the sums of squares
    are those of the deviations, as the row-level path computes them: expanding ``(y - ybar)^2``
    instead would lose digits to cancellation (a domain of one respondent got a variance of
    ``1e-14`` rather than 0).
    """
    cells = _cells(design)
    w = design.w
    inside = domain >= 0
    W = np.bincount(domain[inside], weights=w[inside], minlength=g)
    with np.errstate(divide="ignore", invalid="ignore"):
        estimate = np.bincount(domain[inside], weights=w[inside] * y[inside], minlength=g) / W
    centred = np.where(inside, np.nan_to_num(y - estimate[np.where(inside, domain, 0)]), 0.0)
    sums, g_stratum, g_cell, g_domain, _ = _group_table(design, cells, domain, g, None, 0, centred)
    in_domain = (g_domain[:, None] == np.arange(g)[None, :]).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        A = np.nan_to_num(in_domain / W[None, :])  # u = A * (y - ybar_d) - what calibration removes
    sums_u = A * sums["y"][:, None]
    weighted_u = A * sums["old_wy"][:, None] if cells.kind == "poststratify" else None
    corr = _corrections(cells, g_cell, sums_u, sums["count"], weighted_u, sums.get("old_w"))
    B = -corr[g_cell]
    s1 = A * sums["wy"][:, None] + B * sums["w"][:, None]
    terms = [(sums["w2y2"], A, A), (sums["w2y"], A, B), (sums["w2y"], B, A), (sums["w2"], B, B)]
    cov = _covariance(design, g_stratum, s1, terms)
    n = np.bincount(g_domain, weights=sums["positive"], minlength=g + 1)[:g]
    with np.errstate(divide="ignore", invalid="ignore"):
        # svyvar(y) over n, from the domain's weighted squared deviations (R's deff = "replace")
        squares = np.bincount(domain[inside], weights=w[inside] * centred[inside] ** 2, minlength=g)
        vsrs = squares / W * n / (n - 1) / n
    return GroupFit(estimate, cov, vsrs, n)
