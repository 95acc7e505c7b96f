"""Weighted releases: a weighted total is another equation on the cell's respondents, split by class.

The tables are built from respondent-level data here (answer, breakdown group, weight); the attack
(``attack.py``) is given every class and weight and reads every shown weighted total exactly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.suppression import disclose, fingerprints, row_keys
from analysis.weighted_release import CLASSES, atoms, classes_table, weighting_classes

from .attack import attack


def weighted_table(answer: np.ndarray, group: np.ndarray, w: np.ndarray, keys: np.ndarray) -> pd.DataFrame:
    """A share table of ``answer`` (codes 0..L-1) overall and by ``group`` (codes 0..G-1), each row
    with its class parts, as ``analysis.results`` gives a weighted release."""
    classes = weighting_classes(w)
    size = int(answer.max()) + 1
    rows = []
    for breakdown, codes in (("", np.zeros(len(answer), dtype=np.int64)), ("g", group)):
        count = int(codes.max()) + 1
        cells = fingerprints(keys, codes * size + answer, count * size)
        bases = fingerprints(keys, codes, count)
        cell_parts = atoms(keys, codes * size + answer, count * size, classes)
        base_parts = atoms(keys, codes, count, classes)
        for g in range(count):
            if not bases[g][2]:
                continue
            for j in range(size):
                fp = cells[g * size + j]
                inside = (codes == g) & (answer == j)
                rows.append(
                    {
                        "variable": "q",
                        "group_variable": breakdown,
                        "group": f"g{g}" if breakdown else "",
                        "level": f"l{j}",
                        "count": fp[2],
                        "n": bases[g][2],
                        "estimate": w[inside].sum() / w[codes == g].sum(),
                        "cell": ("set", *fp) if fp[2] else ("empty", breakdown, g, j),
                        "base": ("set", *bases[g]),
                        "atoms": cell_parts[g * size + j],
                        "base_atoms": base_parts[g],
                        "weighting": classes.identity,
                    }
                )
    return pd.DataFrame(rows)


def released(table: pd.DataFrame, w: np.ndarray, keys: np.ndarray, *, k: int = 10) -> tuple[dict, dict]:
    """The release of one weighted table (class sizes known) and the tables the attack reads."""
    sizes = classes_table(keys, weighting_classes(w))
    name = f"{CLASSES}x"
    release = disclose({"q": table}, k=k, fixed={name: sizes})
    return {"q": release["q"], name: sizes}, {"q": table, name: sizes}


def lens(n_small: int = 3, n_large: int = 47) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Post-stratification that weights a small class heavily: 3 respondents of weight 10 (two say
    l0, one l1), 47 of weight 1; every cell of the overall row counts 10 or more."""
    answer = np.array([0, 0, 1] + [0] * 18 + [1] * 29)[: n_small + n_large]
    w = np.array([10.0] * n_small + [1.0] * n_large)
    return answer, np.zeros(len(answer), dtype=np.int64), w


def test_a_shown_weighted_share_gives_a_small_class_its_cells():
    """The lens itself: without the class parts, disclose releases the overall row, and its weighted
    totals beside its counts give the small class's answers (two l0, one l1)."""
    answer, group, w = lens()
    keys = row_keys(len(answer))
    table = weighted_table(answer, group, w, keys)
    plain = disclose({"q": table.drop(columns=["atoms", "base_atoms", "weighting"])}, k=10)
    assert not plain["q"]["suppressed"].any()
    sizes = classes_table(keys, weighting_classes(w))
    found = attack({"q": plain["q"], "c": sizes}, {"q": table, "c": sizes}, k=10)
    assert sorted(key[-1] for key in found) == [1, 2]  # the small class's l1 and l0 parts


def test_a_heavily_weighted_small_class_is_protected():
    answer, group, w = lens()
    keys = row_keys(len(answer))
    table = weighted_table(answer, group, w, keys)
    shown, truth = released(table, w, keys)
    assert attack(shown, truth, k=10) == []
    overall = shown["q"][shown["q"]["group_variable"] == ""]
    assert overall["suppressed"].all() and overall["estimate"].isna().all()


def test_an_unweighted_release_is_one_class_and_decided_as_before():
    answer, group, _w = lens()
    keys = row_keys(len(answer))
    w = np.ones(len(answer))
    table = weighted_table(answer, group, w, keys)
    assert (table["atoms"].map(len) <= 1).all()  # one class: the part is the cell itself
    assert table["atoms"].map(lambda parts: not parts or parts[0][0] == parts[0][0]).all()
    plain = disclose({"q": table.drop(columns=["atoms", "base_atoms", "weighting"])}, k=10)
    assert not plain["q"]["suppressed"].any()


def test_a_class_in_one_group_is_its_cell():
    """Classes nested in the breakdown (post-stratification by it): a group's parts are its cells."""
    answer = np.array([0] * 12 + [1] * 13 + [0] * 20 + [1] * 15)
    group = np.array([0] * 25 + [1] * 35)
    w = np.where(group == 0, 2.0, 0.5)
    keys = row_keys(len(answer))
    table = weighted_table(answer, group, w, keys)
    inner = table[table["group_variable"] == "g"]
    assert all(parts[0][0] == cell for parts, cell in zip(inner["atoms"], inner["cell"], strict=True))
    shown, truth = released(table, w, keys)
    assert attack(shown, truth, k=10) == []
    assert not shown["q"]["suppressed"].any()  # nothing to protect: every part is a shown cell


@settings(max_examples=25, deadline=None)
@given(
    st.integers(40, 120),
    st.integers(2, 3),
    st.integers(2, 4),
    st.integers(2, 3),
    st.integers(0, 2**31),
)
def test_no_class_part_is_recoverable_from_a_weighted_release(n, levels, groups, classes, seed):
    rng = np.random.default_rng(seed)
    answer = rng.integers(0, levels, n)
    group = rng.integers(0, groups, n)
    weights = rng.choice([0.5, 1.0, 3.0, 8.0], size=classes, replace=False)
    w = weights[rng.integers(0, classes, n)]
    keys = row_keys(n)
    table = weighted_table(answer, group, w, keys)
    shown, truth = released(table, w, keys, k=5)
    small = (table["count"] > 0) & (table["count"] < 5)
    assert shown["q"].loc[small, "suppressed"].all()
    assert attack(shown, truth, k=5) == []


@pytest.mark.parametrize("w", [np.arange(1.0, 7.0), np.array([2.0, 2.0, 1.0])])
def test_weighting_classes_are_the_distinct_weights(w):
    classes = weighting_classes(w)
    assert classes.size == len(set(w.tolist()))
    assert np.allclose(classes.weights[classes.codes], w / w.mean())


def test_a_count_shown_unweighted_before_is_hidden_weighted_now():
    """The lens beside the same table released unweighted before (its counts known): the weighted
    totals are new figures, so the rows are hidden in the weighted release all the same."""
    answer, group, w = lens()
    keys = row_keys(len(answer))
    table = weighted_table(answer, group, w, keys)
    unweighted = table.drop(columns=["atoms", "base_atoms", "weighting"])
    before = disclose({"q": unweighted}, k=10)["q"]
    assert not before["suppressed"].any()
    sizes = classes_table(keys, weighting_classes(w))
    fixed = {"before": unweighted.assign(suppressed=False), "classes": sizes}
    now = disclose({"q": table}, k=10, fixed=fixed)["q"]
    assert now.loc[now["group_variable"] == "", "suppressed"].all()
    shown = {"q": now, "before": unweighted.assign(suppressed=False), "classes": sizes}
    truth = {"q": table, "before": unweighted, "classes": sizes}
    assert attack(shown, truth, k=10) == []
