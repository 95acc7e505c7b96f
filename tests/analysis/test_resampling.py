"""Replicate weights created from a design: R's rules for each type, Hadamard matrices, seeds."""

import numpy as np
import pandas as pd
import pytest

from analysis import SurveyDesign, as_replicate, mean, total
from analysis.resampling import hadamard_matrix

# Orders R's hadamard(n) returns for n = 1..130 (R 4.2.2, survey 4.1.1), except where R uses its
# stored matrices of order 28 or 36 (n = 24-27, 32-35, 48-55, 68-71, 108-111), not reproduced.
R_ORDERS = {
    1: 4,
    3: 4,
    4: 8,
    5: 8,
    8: 12,
    11: 12,
    12: 16,
    15: 16,
    16: 20,
    20: 24,
    30: 32,
    40: 44,
    60: 64,
    100: 104,
}


@pytest.mark.parametrize("n", [*range(1, 24), 28, 29, 30, 31, 36, 40, 44, 60, 64, 100, 104, 130])
def test_hadamard_matrices_are_hadamard_of_r_orders(n):
    matrix = hadamard_matrix(n)
    signs = 2 * matrix - 1
    order = len(matrix)
    assert order > n
    np.testing.assert_array_equal(signs.T @ signs, order * np.eye(order))
    assert np.all(matrix[0] == 1) and np.all(matrix[:, 0] == 1)
    if n in R_ORDERS:
        assert order == R_ORDERS[n]


def test_sylvester_order_four_is_r_s_stored_matrix():
    np.testing.assert_array_equal(
        hadamard_matrix(3), [[1, 1, 1, 1], [1, 0, 1, 0], [1, 1, 0, 0], [1, 0, 0, 1]]
    )


@pytest.fixture
def stratified():
    rng = np.random.default_rng(11)
    rows = [
        (h, f"{h}{p}", rng.normal(5 + h, 1), 10.0 + h) for h in range(4) for p in range(3) for _ in range(3)
    ]
    data = pd.DataFrame(rows, columns=["h", "psu", "y", "w"])
    data["N"] = 30
    return data


def test_jackknife_replicates_drop_one_psu(stratified):
    design = as_replicate(SurveyDesign(stratified, weights="w", strata="h", clusters="psu", fpc="N"), "JKn")
    replicates = design._replicates
    assert replicates.count == 12
    # rscales (n_h - 1)/n_h times the fpc factor (1 - 3/30), as R's jknweights
    np.testing.assert_allclose(replicates.rscales, 0.9 * 2 / 3)
    multipliers = replicates.weights / stratified["w"].to_numpy()[:, None]
    assert set(np.round(np.unique(multipliers), 12)) == {0.0, 1.0, 1.5}
    assert design.df == 8  # 12 PSUs - 4 strata


def test_bootstrap_is_reproducible_from_a_seed(stratified):
    taylor = SurveyDesign(stratified, weights="w", strata="h", clusters="psu")
    a = as_replicate(taylor, "bootstrap", replicates=30, seed=5)
    b = as_replicate(taylor, "bootstrap", replicates=30, seed=5)
    np.testing.assert_array_equal(a._replicates.weights, b._replicates.weights)
    counts = a._replicates.weights / stratified["w"].to_numpy()[:, None]
    # every replicate draws n_h = 3 PSUs in each stratum, a whole number of times each
    psu_counts = pd.DataFrame(counts).groupby(stratified["psu"]).first()
    np.testing.assert_array_equal(psu_counts.groupby(psu_counts.index.str[0]).sum(), 3)
    nbar = 3
    assert a._replicates.scale == pytest.approx(nbar / ((nbar - 1) * 29))


def test_bootstrap_variance_approaches_the_taylor_variance():
    rng = np.random.default_rng(3)
    data = pd.DataFrame({"y": rng.normal(size=400), "h": np.repeat(range(4), 100), "w": 1.0})
    taylor = SurveyDesign(data, weights="w", strata="h")
    boot = as_replicate(taylor, "bootstrap", replicates=2000, seed=1)
    assert total(boot, "y").iloc[0]["se"] == pytest.approx(total(taylor, "y").iloc[0]["se"], rel=0.05)
    sub = as_replicate(taylor, "subbootstrap", replicates=2000, seed=1)
    assert mean(sub, "y").iloc[0]["se"] == pytest.approx(mean(taylor, "y").iloc[0]["se"], rel=0.05)


@pytest.mark.parametrize(
    ("kind", "strata", "message"),
    [
        ("JK1", "h", "JK1 is for unstratified designs"),
        ("JKn", None, "JKn needs a stratified design"),
        ("BRR", "h", "stratum 0 has an odd number"),
        ("Fee", "h", "type must be one of"),
    ],
)
def test_types_the_design_does_not_allow_are_refused(stratified, kind, strata, message):
    design = SurveyDesign(stratified, weights="w", strata=strata, clusters="psu")
    with pytest.raises(ValueError, match=message):
        as_replicate(design, kind)


def test_replicate_designs_cannot_be_replicated_again(stratified):
    design = as_replicate(SurveyDesign(stratified, weights="w", strata="h", clusters="psu"))
    with pytest.raises(ValueError, match="already has replicate weights"):
        as_replicate(design)
