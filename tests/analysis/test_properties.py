"""Invariants any design-based estimator must keep (hypothesis)."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis import SurveyDesign, cronbach_alpha, crosstab, difference, mean, proportion, total


@st.composite
def samples(draw):
    n = draw(st.integers(12, 80))
    seed = draw(st.integers(0, 2**31))
    rng = np.random.default_rng(seed)
    data = pd.DataFrame(
        {
            "y": rng.normal(size=n) * 5 + 3,
            "w": rng.uniform(0.2, 5, n),
            "stratum": rng.integers(0, 3, n),
            "domain": rng.choice(["a", "b", "c"], n),
        }
    )
    data["psu"] = data["stratum"] * 100 + rng.integers(0, 4, n)
    # guarantee two PSUs per stratum
    for h in range(3):
        rows = data.index[data["stratum"] == h]
        if len(rows) >= 2:
            data.loc[rows[:1], "psu"], data.loc[rows[1:2], "psu"] = h * 100 + 90, h * 100 + 91
    return data[data.groupby("stratum")["psu"].transform("nunique") >= 2]


@settings(max_examples=80, deadline=None)
@given(samples(), st.floats(0.01, 1000))
def test_scaling_weights_leaves_means_and_their_ses_unchanged(data, factor):
    a = mean(SurveyDesign(data, weights="w", strata="stratum", clusters="psu"), "y", by="domain")
    b = mean(
        SurveyDesign(data.assign(w=data["w"] * factor), weights="w", strata="stratum", clusters="psu"),
        "y",
        by="domain",
    )
    assert np.allclose(a["estimate"], b["estimate"]) and np.allclose(a["se"], b["se"])


@settings(max_examples=80, deadline=None)
@given(samples())
def test_equal_weights_without_design_give_the_textbook_srs_formulas(data):
    row = mean(SurveyDesign(data), "y").iloc[0]
    n = len(data)
    assert row["estimate"] == pytest.approx(data["y"].mean())
    assert row["se"] == pytest.approx(data["y"].std(ddof=1) / np.sqrt(n))
    assert row["deff"] == pytest.approx(1.0)
    share = proportion(SurveyDesign(data), "domain").set_index("level").iloc[0]
    p = share["estimate"]
    assert share["se"] == pytest.approx(np.sqrt(p * (1 - p) / (n - 1)))


@settings(max_examples=80, deadline=None)
@given(samples())
def test_domain_totals_add_up_to_the_whole(data):
    design = SurveyDesign(data, weights="w", strata="stratum", clusters="psu")
    assert total(design, "y", by="domain")["estimate"].sum() == pytest.approx(
        total(design, "y").iloc[0]["estimate"]
    )
    assert proportion(design, "domain")["estimate"].sum() == pytest.approx(1.0)


def test_difference_between_domains_uses_their_covariance():
    rng = np.random.default_rng(2)
    data = pd.DataFrame({"y": rng.normal(size=400), "g": rng.choice(["a", "b"], 400)})
    result = difference(SurveyDesign(data), "y", "g", "a", "b")
    groups = data.groupby("g")["y"]
    assert result["estimate"] == pytest.approx(groups.mean()["a"] - groups.mean()["b"])
    # SRS, independent domains: close to the two-sample SE.
    assert result["se"] == pytest.approx(np.sqrt((groups.var(ddof=1) / groups.size()).sum()), rel=0.02)


def test_rao_scott_reduces_to_pearson_under_simple_random_sampling():
    from scipy.stats import chi2_contingency

    rng = np.random.default_rng(4)
    data = pd.DataFrame({"r": rng.choice(["x", "y", "z"], 500), "c": rng.choice(["p", "q"], 500)})
    result = crosstab(SurveyDesign(data), "r", "c")
    chi2, *_ = chi2_contingency(pd.crosstab(data["r"], data["c"]), correction=False)
    k, n = 2, 500
    # Under SRS with replacement, Delta = n/(n-1) I, so F = X^2 / (k n / (n-1)) with ndf = k.
    assert result.pearson == pytest.approx(chi2)
    assert result.statistic == pytest.approx(chi2 / (k * n / (n - 1)))
    assert result.ndf == pytest.approx(k)
    assert result.column_percent.sum().tolist() == pytest.approx([100.0, 100.0])


def test_cronbach_alpha_with_equal_weights_is_the_classic_formula():
    rng = np.random.default_rng(6)
    latent = rng.normal(size=300)
    items = pd.DataFrame({f"i{j}": latent + rng.normal(size=300) for j in range(4)})
    k = 4
    expected = k / (k - 1) * (1 - items.var(ddof=0).sum() / items.sum(axis=1).var(ddof=0))
    assert cronbach_alpha(SurveyDesign(items), list(items.columns)) == pytest.approx(expected)
