"""Disclosure control: small-cell suppression with complementary suppression, and attribute-disclosure flags.

Primary suppression hides every cell whose unweighted count is 1..k-1. Complementary suppression
then hides further cells until no hidden cell can be worked out from the released cells and the
row, column and grand totals: a hidden cell is exactly recoverable when it is a *bridge* of the
bipartite graph whose nodes are rows and columns and whose edges are hidden cells (Cox 1980,
"Suppression methodology and statistical disclosure control", *JASA* 75(370)); the smallest
released cell that closes a cycle around each bridge is hidden next (Hundepool et al. 2012,
*Statistical Disclosure Control*, §5.3). Zero cells are released: they reveal no one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

MIN_K = 5
E_K_TOO_SMALL = "k must be at least 5 (got {k}); smaller thresholds do not protect respondents"


@dataclass(frozen=True)
class Suppressed:
    """A table after disclosure control.

    ``counts`` has hidden cells as NA; ``hidden`` marks them (primary or complementary);
    ``primary`` marks the cells under k; ``attribute_disclosure`` lists the rows (groups) whose
    members all gave the same answer, and ``hidden_rows`` the rows whose total is under k.
    """

    counts: pd.DataFrame
    hidden: pd.DataFrame
    primary: pd.DataFrame
    attribute_disclosure: list
    hidden_rows: list

    def apply(self, values: pd.DataFrame) -> pd.DataFrame:
        """Hide the same cells in a companion table (percentages, estimates) of the same shape."""
        return values.mask(self.hidden.reindex_like(values).fillna(False).astype(bool))


def suppress(table: pd.DataFrame, *, k: int = 10) -> Suppressed:
    """Suppress small cells of a table of unweighted counts (rows = groups, columns = answers).

    Parameters
    ----------
    table : DataFrame
        Non-negative integer counts; row and column totals are taken as published.
    k : int
        Minimum cell count; never below 5.
    """
    if k < MIN_K:
        raise ValueError(E_K_TOO_SMALL.format(k=k))
    counts = table.to_numpy(dtype=float)
    primary = (counts > 0) & (counts < k)
    row_totals = counts.sum(axis=1)
    small_rows = (row_totals > 0) & (row_totals < k)
    hidden = primary | (small_rows[:, None] & (counts > 0))
    hidden = _complementary(counts, hidden)
    attribute = [
        label
        for label, row, total in zip(table.index, counts, row_totals, strict=True)
        if total >= 1 and np.count_nonzero(row) == 1 and table.shape[1] > 1
    ]
    hidden_frame = pd.DataFrame(hidden, index=table.index, columns=table.columns)
    return Suppressed(
        counts=table.astype("Float64").mask(hidden_frame),
        hidden=hidden_frame,
        primary=pd.DataFrame(primary, index=table.index, columns=table.columns),
        attribute_disclosure=attribute,
        hidden_rows=[label for label, small in zip(table.index, small_rows, strict=True) if small],
    )


def _complementary(counts: np.ndarray, hidden: np.ndarray) -> np.ndarray:
    """Hide one more cell per step until no hidden cell is a bridge; every step hides a new cell, so it ends."""
    hidden = hidden.copy()
    while (bridge := _first_bridge(hidden)) is not None:
        candidate = _partner(counts, hidden, *bridge)
        if candidate is None:  # every cell is hidden already (a one-row or one-column table)
            return hidden
        hidden[candidate] = True
    return hidden


def _partner(counts: np.ndarray, hidden: np.ndarray, row: int, column: int) -> tuple[int, int] | None:
    """The released cell to hide next: the smallest non-zero one in the bridge's row or column, else a
    zero there (hiding a zero also hides that it is zero), else the smallest released cell anywhere."""
    released = ~hidden
    line = np.zeros_like(hidden)
    line[row, :] = True
    line[:, column] = True
    for pool in (released & line & (counts > 0), released & line, released):
        if pool.any():
            masked = np.where(pool, counts, np.inf)
            return tuple(int(i) for i in np.unravel_index(np.argmin(masked), counts.shape))
    return None


def _first_bridge(hidden: np.ndarray) -> tuple[int, int] | None:
    """A hidden cell that no cycle of hidden cells passes through, i.e. one that totals reveal."""
    rows, columns = np.nonzero(hidden)
    edges = list(zip(rows.tolist(), columns.tolist(), strict=True))
    n_rows = hidden.shape[0]
    adjacency: dict[int, list[tuple[int, int]]] = {}
    for index, (r, c) in enumerate(edges):
        adjacency.setdefault(r, []).append((n_rows + c, index))
        adjacency.setdefault(n_rows + c, []).append((r, index))
    order: dict[int, int] = {}
    low: dict[int, int] = {}
    counter = [0]
    found: list[int] = []

    def visit(node: int, via: int) -> None:  # Tarjan's bridge search; tables are small
        order[node] = low[node] = counter[0]
        counter[0] += 1
        for neighbour, edge in adjacency.get(node, []):
            if edge == via:
                continue
            if neighbour in order:
                low[node] = min(low[node], order[neighbour])
            else:
                visit(neighbour, edge)
                low[node] = min(low[node], low[neighbour])
                if low[neighbour] > order[node]:
                    found.append(edge)

    for node in list(adjacency):
        if node not in order:
            visit(node, -1)
    if not found:
        return None
    return edges[min(found)]


def recoverable_cells(counts: np.ndarray, hidden: np.ndarray) -> list[tuple[int, int]]:
    """Hidden cells whose value is fixed by the released cells and all totals (a linear-algebra check).

    Independent of the graph argument above, so tests can verify it: a cell is recoverable when
    its unit vector lies in the row space of the system "hidden cells of each row/column sum to
    the known remainder".
    """
    cells = list(zip(*np.nonzero(hidden), strict=True))
    if not cells:
        return []
    equations = []
    for r in range(counts.shape[0]):
        equations.append([1.0 if cell[0] == r else 0.0 for cell in cells])
    for c in range(counts.shape[1]):
        equations.append([1.0 if cell[1] == c else 0.0 for cell in cells])
    matrix = np.array(equations)
    rank = np.linalg.matrix_rank(matrix)
    recoverable = []
    for i, cell in enumerate(cells):
        unit = np.zeros(len(cells))
        unit[i] = 1.0
        if np.linalg.matrix_rank(np.vstack([matrix, unit])) == rank:
            recoverable.append((int(cell[0]), int(cell[1])))
    return recoverable


def suppress_estimates(frame: pd.DataFrame, *, k: int = 10, group: list[str] | None = None) -> pd.DataFrame:
    """Hide estimates of domains with fewer than ``k`` respondents (and a partner, so none can be derived).

    ``frame`` is an estimator's tidy output (it has ``n``). Within each ``group`` (e.g. one
    variable), if exactly one row is hidden the next smallest is hidden too, since the overall
    figure minus the others would reveal it. Hidden rows keep their label with NA values and
    ``suppressed = True``.
    """
    if k < MIN_K:
        raise ValueError(E_K_TOO_SMALL.format(k=k))
    frame = frame.copy()
    hide = frame["n"] < k
    for _, rows in frame.groupby(group, sort=False) if group else [(None, frame)]:
        if hide[rows.index].sum() == 1 and len(rows) > 2:
            others = rows.loc[~hide[rows.index], "n"]
            hide[others.idxmin()] = True
    value_columns = [
        c for c in ("estimate", "se", "ci_low", "ci_high", "deff", "n", "n_eff") if c in frame.columns
    ]
    frame[value_columns] = frame[value_columns].astype(float).mask(hide)
    frame["suppressed"] = hide
    return frame
