"""The recovery attack on released tables, written independently of ``analysis.suppression``.

From the released tables alone it writes down every equation a reader knows — levels sum to the
group's n, groups sum to the overall figure in each breakdown, group n's sum to the overall n, one
respondent set is one number in every table, a declared sum equals its parts — and asks linear
algebra, and a linear programme with the counts' lower bound of zero, whether any hidden cell is
determined.

A weighted row (one with ``atoms``: its respondents split by weighting class, each part with its
identity, count and weight) is a weighted total besides a count. The attacker is given the
classes and their weights: each part is an unknown count, the parts add up to the cell, their
weighted sum is the row's weighted total (known exactly when the row is shown), and class by class
a group's parts over its levels add up to its base's part (``base_atoms``) and a breakdown's
groups add up to the overall row's part. A part counting 1 to k - 1 respondents that the attacker
determines is found.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.linalg import null_space
from scipy.optimize import linprog
from scipy.sparse import csr_array


def attack(
    tables: dict[str, pd.DataFrame], truth: dict[str, pd.DataFrame], *, k: int = 10, bounds: bool = True
) -> list[tuple]:
    """Hidden cells an attacker can compute from every released table together.

    ``tables`` are the released tables (hidden values are NA); ``truth`` the same tables before
    release, used only to give the attacker the exact released values (rounding is ignored: the
    attacker is given more than is shown). A figure is known when any table shows it, as a cell or
    as a group's n. ``bounds=False`` leaves out the linear programme (linear algebra only). Rows of
    ``truth`` with ``implied`` true are figures never shown but tied to
    shown ones (the left-out responses' own table): they count as found only when under ``k``.
    """
    values: dict[tuple, float] = {}
    hidden: set[tuple] = set()
    shown: dict[tuple, bool] = {}  # a group's n is known when any row of any table shows it
    seen_cell: dict[tuple, bool] = {}  # so is a cell
    equations: list[dict[tuple, float]] = []
    sums: list[dict[tuple, float]] = []
    implied: set[tuple] = set()
    for name, released in tables.items():
        exact = truth[name].reset_index(drop=True)
        released = released.reset_index(drop=True)
        base_of = exact["base"] if "base" in exact else exact["variable"]
        rows: dict[tuple, dict[tuple, float]] = {}
        columns: dict[tuple, dict[tuple, float]] = {}
        bases: dict[tuple, dict[tuple, float]] = {}
        has_overall = {
            v for v, gv in zip(exact["variable"], exact["group_variable"], strict=True) if gv == ""
        }
        breakdowns = sorted({gv for gv in exact["group_variable"] if gv})
        for i, row in exact.iterrows():
            level = row["level"] if pd.notna(row["level"]) else "Σ"
            cell = (
                row["cell"]
                if "cell" in exact
                else ("cell", row["variable"], row["group_variable"], row["group"], level)
            )
            base = (
                row["base"] if "cell" in exact else ("base", base_of[i], row["group_variable"], row["group"])
            )
            values[cell], values[base] = float(row["count"]), float(row["n"])
            if "implied" in exact and pd.notna(row["implied"]) and bool(row["implied"]):
                implied |= {cell, base}
            seen_cell.setdefault(cell, False)
            seen_cell[cell] |= not bool(released.loc[i, "suppressed"])
            shown.setdefault(base, False)
            shown[base] |= bool(pd.notna(released.loc[i, "n"]))
            place = (row["group_variable"], row["group"])
            if level != "Σ":
                rows.setdefault((row["variable"], *place), {"n": (base, -1.0)})[i] = (cell, 1.0)
            if row["variable"] in has_overall:
                for target in [row["group_variable"]] if row["group_variable"] else breakdowns:
                    sign = -1.0 if row["group_variable"] == "" else 1.0
                    columns.setdefault((row["variable"], level, target), {})[place] = (cell, sign)
                    bases.setdefault((row["variable"], target), {})[place] = (base, sign)
        for terms in (*rows.values(), *columns.values(), *bases.values()):
            net: dict[tuple, float] = {}
            for key, coefficient in terms.values():
                net[key] = net.get(key, 0.0) + coefficient
            equations.append(net)
        if "sum_of" in exact:
            for cell, parts in zip(exact["cell"], exact["sum_of"], strict=True):
                if isinstance(parts, list) and parts:
                    terms = {cell: -1.0}
                    for part in parts:
                        terms[part] = terms.get(part, 0.0) + 1.0
                    sums.append({key: c for key, c in terms.items() if c})
    totals: set[tuple] = set()  # weighted totals: known or not, they are no one's count
    for name, released in tables.items():
        totals |= _weighted(truth[name], released, values, seen_cell, implied, equations)
    equations += [terms for terms in sums if all(key in values for key in terms)]
    known = {key for key, seen in (*seen_cell.items(), *shown.items()) if seen}
    hidden |= {cell for cell, seen in seen_cell.items() if not seen} - known
    targets = hidden | {base for base, seen in shown.items() if not seen and 0 < values[base] < k} - known
    hidden |= {base for base, seen in shown.items() if not seen} - known
    targets = {key for key in targets if key not in implied or values[key] < k} - totals
    unknowns = sorted(hidden)
    if not unknowns:
        return []
    # Equations split into independent blocks (no unknown in common), each solved on its own.
    parent = {key: key for key in unknowns}

    def root(key: tuple) -> tuple:
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    for terms in equations:
        inside = [key for key in terms if key in parent]
        for key in inside[1:]:
            parent[root(key)] = root(inside[0])
    blocks: dict[tuple, list[tuple]] = {}
    for key in unknowns:
        blocks.setdefault(root(key), []).append(key)
    block_equations: dict[tuple, list[dict[tuple, float]]] = {}
    for terms in equations:
        inside = [key for key in terms if key in parent]
        if inside:
            block_equations.setdefault(root(inside[0]), []).append(terms)
    found = []
    for block, keys in blocks.items():
        wanted = [key for key in keys if key in targets and values[key] != 0]
        if wanted and block in block_equations:
            found += _solved(keys, block_equations[block], values, wanted, bounds=bounds)
    return found


def _weighted(
    exact: pd.DataFrame,
    released: pd.DataFrame,
    values: dict[tuple, float],
    seen: dict[tuple, bool],
    implied: set[tuple],
    equations: list[dict[tuple, float]],
) -> set[tuple]:
    """The unknown class parts of a table's weighted rows and the equations a reader writes for them;
    returns the weighted totals' identities."""
    totals: set[tuple] = set()
    if "atoms" not in exact:
        return totals
    exact = exact.reset_index(drop=True)
    released = released.reset_index(drop=True)
    overall = set(exact.loc[exact["group_variable"] == "", "variable"])
    breakdowns = sorted({gv for gv in exact["group_variable"] if gv})
    within: dict[tuple, dict[tuple, float]] = {}
    across: dict[tuple, dict[tuple, float]] = {}
    across_bases: dict[tuple, dict[tuple, tuple[tuple, float]]] = {}  # one base part per group
    within_bases: dict[tuple, tuple] = {}

    def add(terms: dict[tuple, float], key: tuple, coefficient: float) -> None:
        terms[key] = terms.get(key, 0.0) + coefficient

    for i, row in exact.iterrows():
        parts = row["atoms"]
        if not isinstance(parts, list) or not parts:
            continue
        parts = [(tuple(key), float(count), float(w)) for key, count, w in parts]
        bases = [(tuple(key), float(count), float(w)) for key, count, w in row.get("base_atoms") or []]
        for key, count, _w in (*parts, *bases):
            values[key] = count
            if key not in seen:  # a part that is no table's cell is never shown
                implied.add(key)
                seen[key] = False
        total = ("weighted total", row["weighting"], row["cell"])
        totals.add(total)
        values[total] = sum(count * w for _key, count, w in parts)
        seen[total] = seen.get(total, False) or not bool(released.loc[i, "suppressed"])
        cell_terms = {row["cell"]: -1.0}
        total_terms = {total: -1.0}
        for key, _count, w in parts:
            add(cell_terms, key, 1.0)
            add(total_terms, key, w)
        equations += [cell_terms, total_terms]
        share = pd.notna(row["level"])
        level = row["level"] if share else "Σ"
        place = (row["group_variable"], row["group"])
        sign = -1.0 if row["group_variable"] == "" else 1.0
        targets = [row["group_variable"]] if row["group_variable"] else breakdowns
        for key, _count, w in parts:
            if share:
                add(within.setdefault((row["variable"], *place, row["base"], w), {}), key, 1.0)
            if row["variable"] in overall:
                for target in targets:
                    add(across.setdefault((row["variable"], level, target, w), {}), key, sign)
        for key, _count, w in bases:
            if share:
                within_bases[(row["variable"], *place, row["base"], w)] = key
            if row["variable"] in overall:
                for target in targets:
                    across_bases.setdefault((row["variable"], target, w), {})[place] = (key, sign)
    for place, key in within_bases.items():
        add(within.setdefault(place, {}), key, -1.0)
    for terms in across_bases.values():
        net: dict[tuple, float] = {}
        for key, coefficient in terms.values():
            add(net, key, coefficient)
        equations.append(net)
    equations += [{key: c for key, c in terms.items() if c} for terms in (*within.values(), *across.values())]
    return totals


def _solved(
    unknowns: list[tuple],
    equations: list[dict[tuple, float]],
    values: dict[tuple, float],
    wanted: list[tuple],
    *,
    bounds: bool = True,
) -> list[tuple]:
    """Which of ``wanted`` one block of equations determines (exactly, or to within 0.5 given x >= 0)."""
    index = {key: j for j, key in enumerate(unknowns)}
    matrix = np.zeros((len(equations), len(unknowns)))
    rhs = np.zeros(len(equations))
    for i, terms in enumerate(equations):
        for key, coefficient in terms.items():
            if key in index:
                matrix[i, index[key]] = coefficient
            else:
                rhs[i] -= coefficient * values[key]
    # x_j is fixed by A x = b when every null-space vector of A is zero at j.
    null = null_space(matrix)
    free = np.linalg.norm(null, axis=1) > 1e-8 if null.size else np.zeros(len(unknowns), dtype=bool)
    sparse = csr_array(matrix)  # HiGHS works on sparse rows; a dense block of thousands is slow
    found = [key for key in wanted if not free[index[key]]]
    if not bounds:
        return found
    # Bounds: a cell is found when its min and max given x >= 0 and the equations are under 0.5
    # apart. A feasible point 0.5 or more from the cell's value already shows it is not: first
    # all open cells are pushed up together (each capped there), then down, while that frees a
    # tenth of them; only the rest get their own min and max.
    value = np.array([values[key] for key in unknowns], dtype=float)
    open_ = {index[key] for key in wanted if free[index[key]]}
    for direction in (1.0, -1.0):
        while open_:
            objective = np.zeros(len(unknowns))
            limits = [(0.0, None)] * len(unknowns)
            for j in open_:
                objective[j] = -direction
                limits[j] = (0.0, value[j] + 0.5) if direction > 0 else (max(value[j] - 0.5, 0.0), None)
            result = linprog(objective, A_eq=sparse, b_eq=rhs, bounds=limits, method="highs")
            if result.status != 0:
                break
            moved = {j for j in open_ if direction * (result.x[j] - value[j]) >= 0.5 - 1e-9}
            open_ -= moved
            if len(moved) * 10 < len(open_) + len(moved):
                break
    for j in sorted(open_):
        unit = np.zeros(len(unknowns))
        unit[j] = 1.0
        limits = []
        for sign in (1, -1):
            result = linprog(sign * unit, A_eq=sparse, b_eq=rhs, bounds=(0, None), method="highs")
            limits.append(sign * result.fun if result.status == 0 else np.inf)  # 3: no upper bound
        if limits[1] - limits[0] < 0.5:
            found.append(unknowns[j])
    return found
