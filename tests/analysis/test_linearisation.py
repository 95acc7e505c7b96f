"""The group-sum path gives the same estimates and covariances as the row-level path, to rounding."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis import SurveyDesign, linearisation, mean, poststratify, rake
from analysis.estimates import _proportion_fit, _ratio_fit


@st.composite
def designs(draw):
    n = draw(st.integers(40, 300))
    rng = np.random.default_rng(draw(st.integers(0, 2**31)))
    data = pd.DataFrame(
        {
            "h": rng.integers(0, 3, n),
            "a": rng.choice(["x", "y", "z"], n),
            "b": rng.choice(["p", "q"], n),
            "d": rng.choice(["d1", "d2", "d3", "d4"], n),
            "answer": rng.choice(["one", "two", "three"], n),
            "y": rng.normal(3, 2, n),
            "w": rng.uniform(0.5, 4, n),
        }
    )
    data.loc[rng.random(n) < 0.1, "y"] = np.nan
    kind = draw(st.sampled_from(["plain", "strata_fpc", "rake", "poststratify"]))
    if kind == "strata_fpc":
        data["N"] = data["h"].map({0: 5000, 1: 800, 2: 2000})
        return SurveyDesign(data, weights="w", strata="h", fpc="N")
    base = SurveyDesign(data, weights="w", strata="h" if draw(st.booleans()) else None)
    if kind == "rake":
        margins = pd.DataFrame(
            {
                "variable": ["a", "a", "a", "b", "b"],
                "category": ["x", "y", "z", "p", "q"],
                "share": [0.2, 0.3, 0.5, 0.6, 0.4],
            }
        )
        return rake(base, margins)[0]
    if kind == "poststratify":
        return poststratify(base, pd.DataFrame({"a": ["x", "y", "z"], "count": [100, 300, 600]}))
    return base


def codes(series: pd.Series) -> np.ndarray:
    return pd.factorize(series, sort=True)[0]


@settings(max_examples=120, deadline=None)
@given(designs())
def test_shares_match_the_row_level_path(design):
    assume_applies = linearisation.applies(design)
    if not assume_applies:
        return
    domain, level = codes(design.data["d"]), codes(design.data["answer"])
    fast = _proportion_fit(design, domain, level, 4, 3)
    slow = _proportion_fit(design, domain, level, 4, 3, scores=True)
    assert fast.psu_scores is None and slow.psu_scores is not None
    np.testing.assert_allclose(fast.estimate, slow.estimate, rtol=1e-12)
    np.testing.assert_allclose(fast.cov, slow.cov, rtol=1e-7, atol=1e-15)


@settings(max_examples=120, deadline=None)
@given(designs())
def test_means_match_the_row_level_path(design):
    if not linearisation.applies(design):
        return
    y = design.data["y"].to_numpy()
    domain = np.where(np.isnan(y), -1, codes(design.data["d"]))
    values = np.nan_to_num(y)
    fast = linearisation.means(design, domain, values, 4)
    slow = _ratio_fit(design, domain, values, np.ones(design.n), 4)
    np.testing.assert_allclose(fast.estimate, slow.estimate, rtol=1e-12)
    # The two paths add the same products in different orders. An entry that is zero in exact
    # arithmetic (the covariance with a domain of one respondent, whose deviation from its own mean
    # is zero) comes out as rounding, a few ulps of the products summed: so entries are compared
    # to a tolerance relative to the largest variance, not to an absolute 1e-15 (which failed at
    # 3.6e-15 when y was not centred and at 1e-15 when it is).
    scale = np.abs(np.diag(slow.cov)).max()
    np.testing.assert_allclose(fast.cov, slow.cov, rtol=1e-7, atol=1e-12 * scale)
    np.testing.assert_allclose(fast.vsrs, slow.vsrs, rtol=1e-9)


def test_a_large_common_value_does_not_cost_digits():
    # A variance is invariant to adding a constant (a year, a timestamp): the group sums are of
    # deviations from the domain mean, not of raw squares, whose difference lost every digit here
    # (the SE was 5% off and the design effect 20% for values around 1.7e9 with an SD of 100).
    rng = np.random.default_rng(1)
    n = 500
    data = pd.DataFrame(
        {"h": rng.integers(0, 3, n), "d": rng.choice(list("abc"), n), "y": rng.normal(0, 100, n)}
    )
    data["w"], data["t"] = rng.uniform(0.5, 4, n), data["y"] + 1.7e9
    design = SurveyDesign(data, weights="w", strata="h")
    assert linearisation.applies(design)
    plain, shifted = mean(design, "y", by="d"), mean(design, "t", by="d")
    np.testing.assert_allclose(shifted["se"], plain["se"], rtol=1e-8)
    np.testing.assert_allclose(shifted["deff"], plain["deff"], rtol=1e-8)


def test_clustered_designs_take_the_row_level_path():
    data = pd.DataFrame({"c": [1, 1, 2, 2, 3, 3], "y": [1.0, 2, 3, 4, 5, 6]})
    assert not linearisation.applies(SurveyDesign(data, clusters="c"))
    assert linearisation.applies(SurveyDesign(data))


def test_published_nhanes_figure_still_holds_after_the_fast_path(nhanes2):
    row = mean(SurveyDesign(nhanes2, weights="finalwgt", strata="stratid", clusters="psuid"), "zinc").iloc[0]
    assert row["se"] == pytest.approx(0.494483, abs=1e-6)
