"""Weighted figures as the disclosure step sees them: each a known sum of its weighting classes' counts.

A weighted share or mean does not release the count of its cell but its *weighted total*
``W = sum_i w_i`` over the cell's respondents. With weights constant within weighting classes —
raking and post-stratification give every respondent of one cross-class of the weighting variables
in one sample one weight (Hundepool et al. 2012, *Statistical Disclosure Control*, Wiley, §5.3 on
linked tables; Lumley 2010, *Complex Surveys*, ch. 7 on calibration) — that is

    ``W(cell) = sum_c w_c * atom_c``,   ``atom_c = |cell ∩ class c|``,

a different linear combination of respondents than the count ``sum_c atom_c``. Beside the count, a
weighted total pins the split of the cell between its classes: two classes and one shown weighted
share give both parts, so a heavily weighted small class shows its own answers in the overall row,
and several mild weightings solved together recover hidden cells. The disclosure step
(:func:`analysis.suppression.disclose`) therefore gets, for every weighted row:

* ``atoms``: the cell's respondents split by class, each ``(identity, count, weight)``; the
  identity is the fingerprint of the respondent set (``suppression.fingerprints``), so the same
  respondents are one unknown in every table and release, whatever the weighting. An atom equal to
  the cell itself (one class in the group) is the cell.
* ``base_atoms``: the same for the row's group (its ``base``).
* ``weighting``: an identity of the weights; ``("weighted", weighting, cell)`` names the row's
  weighted total (:func:`total_identity`), the figure it shows.

Weighting classes are the respondents grouped by their exact weight value
(:func:`weighting_classes`): exact for any weights constant within classes, with no knowledge of
the method; weights that vary person by person (trimmed or model-based) make every respondent a
class, which :data:`MAX_CLASSES` refuses. An unweighted release is one class: nothing changes.

The reader is assumed to know every weight and class (post-stratification weights are the
population counts over the class sizes, both in the analyst's file), so the class sizes are known
figures (:func:`classes_table`, given to ``disclose`` as ``fixed``), and to read every shown
weighted total exactly (rounding is not relied on, as ``analysis.suppression`` says). One exact
weighted total already pins its parts: ``sum_c w_c a_c = W`` with distinct real weights has, in
general, one solution in whole numbers, and a linear programme with ``a_c >= 0`` bounds them
tightly even when linear algebra alone does not (found by the test attack with the weighted total
taken as one more linear equation). So ``disclose`` takes a **shown weighted row to give its
parts away**: a row with a part of 1 to k - 1 respondents is hidden (primary), a part is unknown
only while every row showing it is hidden, and the hidden parts must stay unrecoverable from the
equations :func:`weighted_equations` writes down, per table:

1. each weighted row: its parts add up to its cell;
2. per class, a group's level parts add up to the group's base part (the levels of a row partition
   its group, class by class);
3. per class, the parts of one level over the groups of one breakdown add up to that level's part
   of the overall row, and so do the base parts (the groups partition everyone, class by class).

Base parts are written down although the row-sum equations would say nothing were they unknowns
appearing nowhere else: the same group answering two questions has the same base part in both (and
a group everyone answered within a class is the class, a known size), which ties the tables'
splits together. The cost is blocks of unknowns that span tables (a part of one respondent is the
same unknown wherever that person is alone in their class); ``disclose`` refuses a release whose
block exceeds ``suppression.WEIGHTED_BLOCK_MAX`` unknowns (measured in ``bench/bench_weighted.py``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Hashable, Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

MAX_CLASSES = 120  # weighting classes above which a weighted release is refused (time to decide it)
WEIGHTED = "weighted"  # first element of a weighted total's identity
CLASSES = "weighting classes:"  # the name of the known class sizes' table: this prefix and the weighting
ATOM_COLUMNS = ("atoms", "base_atoms", "weighting")


@dataclass(frozen=True)
class Classes:
    """Respondents grouped by weight: ``codes`` (one per respondent, 0..size-1), ``weights`` (one per
    class, divided by the mean weight: the scale of an equation changes nothing it determines) and
    ``identity`` (a digest of the weights: one weighting, one identity)."""

    codes: np.ndarray
    weights: np.ndarray
    identity: str

    @property
    def size(self) -> int:
        return len(self.weights)


def weighting_classes(w: np.ndarray) -> Classes:
    """The weighting classes of weights ``w`` (shape ``(n,)``): respondents of one exact weight value.

    Raises ``ValueError`` when ``w`` is empty."""
    if len(w) == 0:
        raise ValueError("no weights: a release of no respondents has no weighting classes")
    values, codes = np.unique(np.asarray(w, dtype=float), return_inverse=True)
    mean = float(np.mean(w)) or 1.0
    identity = hashlib.sha256(np.ascontiguousarray(w, dtype=float).tobytes()).hexdigest()[:16]
    return Classes(codes.astype(np.int64), values / mean, identity)


def atoms(
    keys: np.ndarray, codes: np.ndarray, size: int, classes: Classes
) -> list[list[tuple[tuple, int, float]]]:
    """For each of ``size`` sets (row i in set ``codes[i]``, -1 none): its non-empty class parts as
    ``(("set", *fingerprint), count, weight)``. ``keys`` are ``suppression.row_keys`` numbers."""
    from .suppression import fingerprints  # suppression reads this module's equations

    inside = codes >= 0
    parts = fingerprints(
        keys, np.where(inside, codes * classes.size + classes.codes, -1), size * classes.size
    )
    out: list[list[tuple[tuple, int, float]]] = []
    for s in range(size):
        chunk = parts[s * classes.size : (s + 1) * classes.size]
        out.append([(("set", *fp), fp[2], float(classes.weights[c])) for c, fp in enumerate(chunk) if fp[2]])
    return out


def classes_table(keys: np.ndarray, classes: Classes) -> pd.DataFrame:
    """The class sizes as a table released before (``disclose(fixed=...)``): known to a reader who
    knows the weights. One row per class; ``suppressed`` false."""
    from .suppression import fingerprints

    sizes = fingerprints(keys, classes.codes, classes.size)
    everyone = fingerprints(keys, np.zeros(len(keys), dtype=np.int64), 1)[0]
    return pd.DataFrame(
        {
            "variable": f"{CLASSES}{classes.identity}",
            "group_variable": "",
            "group": "",
            "level": [str(c) for c in range(classes.size)],
            "count": [fp[2] for fp in sizes],
            "n": everyone[2],
            "cell": [("set", *fp) for fp in sizes],
            "base": [("set", *everyone)] * classes.size,
            "suppressed": False,
        }
    )


@dataclass
class WeightedTerms:
    """What a table's weighted rows add to the disclosure system.

    ``atoms`` maps each atom's identity to its count; ``carried`` lists ``(row position, its
    weighted total's identity, its cell's atoms)``: a shown weighted total gives its atoms away;
    ``equations`` are dicts identity -> coefficient (each equals zero)."""

    atoms: dict[Hashable, int] = field(default_factory=dict)
    carried: list[tuple[int, Hashable, set[Hashable]]] = field(default_factory=list)
    equations: list[dict[Hashable, float]] = field(default_factory=list)


def total_identity(weighting: str, cell: Hashable) -> tuple:
    """The identity of ``cell``'s weighted total under ``weighting``: the figure a weighted row shows."""
    return (WEIGHTED, weighting, cell)


def weighted_rows(frame: pd.DataFrame) -> np.ndarray:
    """Which rows carry atoms (a weighted figure)."""
    if "atoms" not in frame.columns:
        return np.zeros(len(frame), dtype=bool)
    return np.array([isinstance(a, list | tuple) and len(a) > 0 for a in frame["atoms"]], dtype=bool)


def weighted_equations(frame: pd.DataFrame, overall: str = "") -> WeightedTerms:
    """Equations 1-3 of the module docstring for one prepared table (``suppression._prepared``:
    ``cell``, ``base``, group columns filled; ``level`` NA for a statistic)."""
    terms = WeightedTerms()
    carries = weighted_rows(frame)
    if not carries.any():
        return terms
    statistic = frame["level"].isna().to_numpy()
    breakdowns = sorted({*frame["group_variable"]} - {overall})
    has_overall = set(frame.loc[(frame["group_variable"] == overall).to_numpy(), "variable"])
    rows: dict[tuple, dict[Hashable, float]] = {}
    columns: dict[tuple, dict[Hashable, float]] = {}
    base_done: set[tuple] = set()
    column = {name: frame[name].tolist() for name in ("variable", "group_variable", "group", "cell", "base")}
    column["atoms"] = frame["atoms"].tolist()
    column["weighting"] = frame["weighting"].tolist()
    column["level"] = frame["level"].tolist()
    base_atoms = frame["base_atoms"].tolist() if "base_atoms" in frame.columns else None
    for i in np.flatnonzero(carries):  # columns read once as lists: a per-row .iat is slow
        variable, gv, group = column["variable"][i], column["group_variable"][i], column["group"][i]
        cell, base = column["cell"][i], column["base"][i]
        parts = _parts(column["atoms"][i])
        base_parts = _parts(base_atoms[i]) if base_atoms is not None else []
        total = total_identity(str(column["weighting"][i]), cell)
        terms.carried.append((int(i), total, {key for key, _c, _w in parts}))
        for key, count, _weight in (*parts, *base_parts):
            terms.atoms.setdefault(key, int(count))
        terms.equations.append(_net([(cell, -1.0), *((key, 1.0) for key, _c, _w in parts)]))
        level = "∑" if statistic[i] else str(column["level"][i])
        sign = -1.0 if gv == overall else 1.0
        targets = [gv] if gv != overall else breakdowns
        for key, _count, weight in parts:
            if not statistic[i]:
                _add(rows.setdefault((variable, gv, group, base, weight), {}), key, 1.0)
            if variable in has_overall:
                for target in targets:
                    _add(columns.setdefault((variable, level, target, weight), {}), key, sign)
        if (variable, gv, group, base) in base_done:
            continue
        base_done.add((variable, gv, group, base))
        for key, _count, weight in base_parts:
            if not statistic[i]:
                _add(rows.setdefault((variable, gv, group, base, weight), {}), key, -1.0)
            if variable in has_overall:
                for target in targets:
                    _add(columns.setdefault((variable, "\0base", target, weight), {}), key, sign)
    for equation in (*rows.values(), *columns.values()):
        terms.equations.append({key: c for key, c in equation.items() if c != 0.0})
    terms.equations = [e for e in terms.equations if len(e) > 1]
    return terms


def row_totals(frame: pd.DataFrame) -> list[Hashable | None]:
    """Each row's weighted total's identity (None for an unweighted row)."""
    carries = weighted_rows(frame)
    return [
        total_identity(str(weighting), cell) if carried else None
        for carried, weighting, cell in zip(
            carries,
            frame["weighting"] if "weighting" in frame else [None] * len(frame),
            frame["cell"],
            strict=True,
        )
    ]


def row_atoms(frame: pd.DataFrame) -> Iterator[set[Hashable]]:
    """Each row's atom identities (cell's and base's), empty for an unweighted row."""
    atoms = frame["atoms"].tolist() if "atoms" in frame.columns else []
    base_atoms = frame["base_atoms"].tolist() if "base_atoms" in frame.columns else None
    for i, carries in enumerate(weighted_rows(frame)):  # no atoms column: no row carries
        if not carries:
            yield set()
            continue
        keys = {key for key, _c, _w in _parts(atoms[i])}
        if base_atoms is not None:
            keys |= {key for key, _c, _w in _parts(base_atoms[i])}
        yield keys


def _parts(value: object) -> list[tuple[Hashable, int, float]]:
    if not isinstance(value, list | tuple):
        return []
    return [(_hashable(key), int(count), float(weight)) for key, count, weight in value]


def _hashable(key: object) -> Hashable:
    return tuple(_hashable(k) for k in key) if isinstance(key, list | tuple) else key  # type: ignore[return-value]


def _add(terms: dict[Hashable, float], key: Hashable, coefficient: float) -> None:
    terms[key] = terms.get(key, 0.0) + coefficient


def _net(pairs: list[tuple[Hashable, float]]) -> dict[Hashable, float]:
    out: dict[Hashable, float] = {}
    for key, coefficient in pairs:
        _add(out, key, coefficient)
    return {key: c for key, c in out.items() if c != 0.0}
