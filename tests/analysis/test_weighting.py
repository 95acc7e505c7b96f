"""Raking and post-stratification: margins met, bad margins refused by name, variances by hand."""

import numpy as np
import pandas as pd
import pytest

from analysis import (
    SurveyDesign,
    as_replicate,
    glm,
    mean,
    poststratify,
    proportion,
    quantile,
    rake,
    ratio,
    total,
)


@pytest.fixture
def sample():
    rng = np.random.default_rng(5)
    n = 3000
    data = pd.DataFrame(
        {
            "age": rng.choice(["18_29", "30_49", "50_plus"], n, p=[0.5, 0.3, 0.2]),
            "sex": rng.choice(["f", "m"], n, p=[0.6, 0.4]),
            "urban": rng.choice(["urban", "rural"], n, p=[0.8, 0.2]),
        }
    )
    data["y"] = rng.normal(size=n) + (data["age"] == "50_plus") + 0.5 * (data["urban"] == "rural")
    return data


MARGINS = pd.DataFrame(
    {
        "variable": ["age"] * 3 + ["sex"] * 2 + ["urban"] * 2,
        "category": ["18_29", "30_49", "50_plus", "f", "m", "urban", "rural"],
        "share": [0.25, 0.35, 0.40, 0.49, 0.51, 0.64, 0.36],
    }
)


def test_raking_reproduces_every_margin(sample):
    raked, report = rake(SurveyDesign(sample), MARGINS, tol=1e-12)
    assert report.converged and report.max_deviation < 1e-8
    for variable, rows in MARGINS.groupby("variable"):
        shares = proportion(raked, variable).set_index("level")["estimate"]
        for _, row in rows.iterrows():
            assert shares[row["category"]] == pytest.approx(row["share"], abs=1e-8)
    w = raked.w
    assert report.n_effective == pytest.approx(w.sum() ** 2 / (w**2).sum())
    assert report.deff_weighting == pytest.approx(len(w) * (w**2).sum() / w.sum() ** 2)
    assert report.weight_min == pytest.approx(w.min()) and report.weight_max == pytest.approx(w.max())


def test_raking_to_counts_scales_to_the_population(sample):
    counts = MARGINS.assign(count=MARGINS["share"] * 1_000_000).drop(columns="share")
    raked, _ = rake(SurveyDesign(sample), counts)
    assert raked.w.sum() == pytest.approx(1_000_000)


def test_trimming_bounds_weight_ratios(sample):
    raked, report = rake(SurveyDesign(sample), MARGINS, trim=(0.5, 1.8), max_iter=50)
    ratio = raked.w / np.ones(len(sample))
    assert ratio.min() >= 0.5 - 1e-12 and ratio.max() <= 1.8 + 1e-12
    assert report.trimmed > 0


@pytest.mark.parametrize(
    ("margins", "message"),
    [
        (
            MARGINS.replace({"category": {"50_plus": "65_plus"}}),
            "age=65_plus has no respondent in the sample",
        ),
        (
            MARGINS[MARGINS["category"] != "rural"].assign(
                share=lambda m: m["share"].where(m["category"] != "urban", 1.0)
            ),
            "urban=rural occurs in the sample but has no population figure",
        ),
        (
            MARGINS.assign(share=MARGINS["share"].where(MARGINS["category"] != "f", 0.59)),
            "the shares of sex sum to 1.100000, not 1",
        ),
        (
            MARGINS.assign(variable=MARGINS["variable"].replace("urban", "city")),
            "margin variable 'city' is not a column",
        ),
    ],
)
def test_bad_margins_are_refused_by_name(sample, margins, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        rake(SurveyDesign(sample), margins)


@pytest.mark.parametrize("value", [1e308, float("inf"), float("nan"), -5.0, 0.0])
def test_impossible_population_figures_are_refused(sample, value):
    """A tester's margins of 1e308 per category 'converged in 1 iteration' with every share 0.0%."""
    counts = MARGINS.assign(count=MARGINS["share"] * 1000).drop(columns="share")
    counts.loc[counts["category"] == "f", "count"] = value
    with pytest.raises(ValueError, match="sex=f has the population figure"):
        rake(SurveyDesign(sample), counts)


def test_counts_of_different_populations_are_refused(sample):
    counts = MARGINS.assign(count=MARGINS["share"] * 100).drop(columns="share")
    counts.loc[counts["variable"] == "urban", "count"] *= 2
    with pytest.raises(ValueError, match="the counts of urban sum to 200, but age sums to 100"):
        rake(SurveyDesign(sample), counts)


def test_non_convergence_is_reported(sample):
    impossible = pd.DataFrame(
        {
            "variable": ["age", "age", "age", "age2", "age2", "age2"],
            "category": ["18_29", "30_49", "50_plus"] * 2,
            "share": [0.2, 0.3, 0.5, 0.5, 0.3, 0.2],
        }
    )
    with pytest.raises(ValueError, match="raking did not converge in 5 iterations"):
        rake(SurveyDesign(sample.assign(age2=sample["age"])), impossible, max_iter=5)


def test_poststratified_mean_and_variance_by_hand(sample):
    population = pd.DataFrame({"age": ["18_29", "30_49", "50_plus"], "count": [2500, 3500, 4000]})
    design = poststratify(SurveyDesign(sample), population)
    row = mean(design, "y").iloc[0]
    cells = sample.groupby("age")["y"]
    shares = population.set_index("age")["count"] / 10000
    assert row["estimate"] == pytest.approx((cells.mean() * shares).sum(), rel=1e-12)
    # Linearisation of the post-stratified mean (Lohr 2010, eq. 4.17 with-replacement form):
    # scores w_i (e_i) / N with e_i = y_i - ybar_cell(i); V = n/(n-1) sum (score - mean score)^2.
    w = design.w
    e = sample["y"] - cells.transform("mean")
    scores = w * e.to_numpy() / w.sum()
    n = len(sample)
    assert row["se"] ** 2 == pytest.approx(n / (n - 1) * np.sum((scores - scores.mean()) ** 2), rel=1e-10)


TYPES = pd.DataFrame({"stype": ["E", "H", "M"], "count": [4421, 755, 1018]})
TYPE_AND_TARGET = pd.DataFrame(
    {
        "variable": ["stype"] * 3 + ["sch.wide"] * 2,
        "category": ["E", "H", "M", "No", "Yes"],
        "count": [4421, 755, 1018, 1072, 5122],
    }
)


@pytest.mark.parametrize("name", ["dclus1p", "rclus1p", "dclus1r", "rclus1r"])
def test_every_estimator_on_post_stratified_and_raked_designs_matches_r(designs, r, name):
    # R: postStratify(design, ~stype, pop.types) and rake(design, list(~stype, ~sch.wide), ...), on
    # dclus1 and on its JK1 replicates (each replicate reweighted); every estimator after it.
    base = as_replicate(designs["dclus1"]) if name.startswith("r") else designs["dclus1"]
    design = poststratify(base, TYPES) if name.endswith("p") else rake(base, TYPE_AND_TARGET, tol=1e-13)[0]
    r.check(f"{name}.ratio", ratio(design, "api00", "enroll").iloc[0][["estimate", "se"]])
    r.check(f"{name}.total", total(design, "enroll").iloc[0][["estimate", "se"]])
    for variable, key in (("sch.wide", "prop"), ("stype", "prop.stype")):
        shares = proportion(design, variable)
        if name.endswith("r"):  # a raked margin's SE is zero up to the raking's convergence (R's too)
            r.check(f"{name}.{key}", shares["estimate"])
            assert (shares["se"] < 1e-7).all()
        else:
            r.check(f"{name}.{key}", np.concatenate([shares["estimate"], shares["se"]]))
    by = mean(design, "api00", by="sch.wide")
    r.check(f"{name}.by", np.concatenate([by["estimate"], by["se"]]))
    r.check(f"{name}.median", quantile(design, "api00", 0.5).iloc[0][["estimate", "ci_low", "ci_high", "se"]])
    r.check(f"{name}.ciprop", proportion(design, "yes").iloc[1][["estimate", "se", "ci_low", "ci_high"]])
    fit = glm(design, "api00~ell+meals")
    c = fit.coefficients
    r.check(f"{name}.glm", np.concatenate([c["estimate"], c["se"], c["t"], c["p_value"]]))
    assert fit.df_residual == r(f"{name}.glm.df")
