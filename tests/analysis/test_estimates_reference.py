"""Estimators against published numbers, an independent implementation (samplics) and hand formulas."""

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis import SurveyDesign, as_replicate, glm, mean, proportion, quantile, ratio, regterm_test, total


@pytest.fixture(scope="module")
def design(nhanes2):
    return SurveyDesign(nhanes2, weights="finalwgt", strata="stratid", clusters="psuid")


def test_nhanes2_zinc_matches_the_published_figure(design):
    # Source: samplics documentation, "Taylor-based estimation" (NHANES II, zinc, strata stratid,
    # PSUs psuid, weight finalwgt): 87.182067, SE 0.494483, 95% CI 86.173563-88.190571, df 31.
    row = mean(design, "zinc").iloc[0]
    assert design.df == 31
    assert row["estimate"] == pytest.approx(87.182067, abs=1e-6)
    assert row["se"] == pytest.approx(0.494483, abs=1e-6)
    assert row["ci_low"] == pytest.approx(86.173563, abs=1e-6)
    assert row["ci_high"] == pytest.approx(88.190571, abs=1e-6)


def samplics_estimate(param: str, nhanes2: pd.DataFrame, **kwargs):
    # Independent implementation: samplics' TaylorEstimator (tested by its authors against Stata and R).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from samplics.estimation import TaylorEstimator
        from samplics.utils.types import PopParam

        estimator = TaylorEstimator(getattr(PopParam, param))
        estimator.estimate(
            samp_weight=nhanes2["finalwgt"],
            stratum=nhanes2["stratid"],
            psu=nhanes2["psuid"],
            remove_nan=True,
            **kwargs,
        )
    return estimator


def test_domain_means_match_samplics(design, nhanes2):
    ours = mean(design, "zinc", by="race").set_index("race")
    theirs = samplics_estimate("mean", nhanes2, y=nhanes2["zinc"], domain=nhanes2["race"])
    for race in (1, 2, 3):
        assert ours.loc[race, "estimate"] == pytest.approx(theirs.point_est[race], abs=1e-9)
        assert ours.loc[race, "se"] == pytest.approx(theirs.stderror[race], abs=1e-9)


def test_proportions_and_logit_intervals_match_samplics(design, nhanes2):
    ours = proportion(design, "race").set_index("level")
    theirs = samplics_estimate("prop", nhanes2, y=nhanes2["race"])
    for race in (1, 2, 3):
        assert ours.loc[race, "estimate"] == pytest.approx(theirs.point_est[race], abs=1e-9)
        assert ours.loc[race, "se"] == pytest.approx(theirs.stderror[race], abs=1e-9)
        assert ours.loc[race, "ci_low"] == pytest.approx(theirs.lower_ci[race], abs=1e-7)
        assert ours.loc[race, "ci_high"] == pytest.approx(theirs.upper_ci[race], abs=1e-7)


def test_total_and_ratio_match_samplics(design, nhanes2):
    data = nhanes2.assign(lead1=nhanes2["highlead"].fillna(0) + 1)
    ours_ratio = ratio(
        SurveyDesign(data, weights="finalwgt", strata="stratid", clusters="psuid"), "highbp", "lead1"
    ).iloc[0]
    theirs_ratio = samplics_estimate("ratio", data, y=data["highbp"], x=data["lead1"])
    assert ours_ratio["estimate"] == pytest.approx(theirs_ratio.point_est, rel=1e-10)
    assert ours_ratio["se"] == pytest.approx(theirs_ratio.stderror, rel=1e-8)
    ours_total = total(design, "highbp").iloc[0]
    theirs_total = samplics_estimate("total", nhanes2, y=nhanes2["highbp"])
    assert ours_total["estimate"] == pytest.approx(theirs_total.point_est, rel=1e-10)
    assert ours_total["se"] == pytest.approx(theirs_total.stderror, rel=1e-8)


def test_stratified_srs_with_fpc_matches_the_textbook_formula():
    # Hand calculation: V(ybar_st) = sum W_h^2 (1 - n_h/N_h) s_h^2 / n_h (Cochran 1977, eq. 5.6).
    rng = np.random.default_rng(7)
    population = {"a": 400, "b": 100, "c": 1000}
    sizes = {"a": 12, "b": 5, "c": 20}
    rows = [
        (h, rng.normal(10 + i, 2 + i), population[h], population[h] / sizes[h])
        for i, h in enumerate(sizes)
        for _ in range(sizes[h])
    ]
    data = pd.DataFrame(rows, columns=["h", "y", "N", "w"])
    row = mean(SurveyDesign(data, weights="w", strata="h", fpc="N"), "y").iloc[0]
    N = sum(population.values())
    expected = sum(
        (population[h] / N) ** 2
        * (1 - sizes[h] / population[h])
        * data.loc[data.h == h, "y"].var(ddof=1)
        / sizes[h]
        for h in sizes
    )
    assert row["se"] ** 2 == pytest.approx(expected, rel=1e-12)
    # The same design given as sampling fractions instead of population counts.
    fractions = data.assign(f=data["h"].map({h: sizes[h] / population[h] for h in sizes}))
    assert mean(SurveyDesign(fractions, weights="w", strata="h", fpc="f"), "y").iloc[0][
        "se"
    ] == pytest.approx(row["se"], rel=1e-12)


def test_one_stage_cluster_total_with_fpc_matches_the_textbook_formula():
    # Hand calculation: Y_hat = (M/m) sum t_c, V = M^2 (1 - m/M) s_t^2 / m (Lohr 2010, eq. 5.3).
    rng = np.random.default_rng(3)
    M, m = 60, 8
    sizes = rng.integers(3, 9, m)
    data = pd.DataFrame(
        {"cluster": np.repeat(np.arange(m), sizes), "y": rng.poisson(4, sizes.sum()).astype(float)}
    )
    data["w"], data["M"] = M / m, M
    row = total(SurveyDesign(data, weights="w", clusters="cluster", fpc="M"), "y").iloc[0]
    cluster_totals = data.groupby("cluster")["y"].sum()
    assert row["estimate"] == pytest.approx(M / m * cluster_totals.sum())
    assert row["se"] ** 2 == pytest.approx(M**2 * (1 - m / M) * cluster_totals.var(ddof=1) / m, rel=1e-12)


def test_lonely_psu_options():
    data = pd.DataFrame({"h": [1, 1, 2, 3, 3], "psu": [1, 2, 3, 4, 5], "y": [1.0, 3.0, 10.0, 2.0, 6.0]})
    with pytest.raises(ValueError, match="stratum 2 has only one PSU"):
        mean(SurveyDesign(data, strata="h", clusters="psu"), "y")
    certainty = (
        total(SurveyDesign(data, strata="h", clusters="psu", lonely_psu="certainty"), "y").iloc[0]["se"] ** 2
    )
    # Hand: strata 1 and 3 contribute n_h/(n_h-1) * sum (t - tbar)^2 = 2 * (1 + 1) and 2 * (4 + 4); stratum 2 nothing.
    assert certainty == pytest.approx(2 * 2 + 2 * 8)
    adjust = (
        total(SurveyDesign(data, strata="h", clusters="psu", lonely_psu="adjust"), "y").iloc[0]["se"] ** 2
    )
    # R >= 4.2 "adjust": the lonely PSU is centred at the mean of all PSU totals (22 / 5).
    assert adjust == pytest.approx(certainty + (10.0 - 22 / 5) ** 2)


def test_wilson_interval_for_unweighted_srs():
    from statsmodels.stats.proportion import proportion_confint

    data = pd.DataFrame({"answer": ["yes"] * 37 + ["no"] * 63})
    row = proportion(SurveyDesign(data), "answer").set_index("level").loc["yes"]
    low, high = proportion_confint(37, 100, alpha=0.05, method="wilson")
    assert (row["ci_low"], row["ci_high"]) == (pytest.approx(low, abs=1e-12), pytest.approx(high, abs=1e-12))


def test_logit_interval_is_the_back_transformed_t_interval(design):
    row = proportion(design, "highbp").set_index("level").loc[1]
    p, se = row["estimate"], row["se"]
    t = stats.t.ppf(0.975, 31)
    logit = np.log(p / (1 - p))
    assert row["ci_low"] == pytest.approx(1 / (1 + np.exp(-(logit - t * se / (p * (1 - p))))), abs=1e-12)


def test_quantile_follows_r_qrule_math_and_woodruff():
    # Hand: weights 1..5 on values 10..50, total 15; median: cumulative 1,3,6,10,15 -> first >= 7.5 is 40.
    data = pd.DataFrame({"y": [10.0, 20, 30, 40, 50], "w": [1.0, 2, 3, 4, 5]})
    row = quantile(SurveyDesign(data, weights="w"), "y", 0.5).iloc[0]
    assert row["estimate"] == 40.0
    assert np.isnan(row["ci_low"])  # as R: the interval for p = mean(y <= 40) reaches below 0
    rng = np.random.default_rng(11)
    larger = pd.DataFrame({"y": rng.normal(50, 10, 400).round(1), "w": rng.uniform(1, 3, 400)})
    row = quantile(SurveyDesign(larger, weights="w"), "y", 0.25).iloc[0]
    order = larger.sort_values("y")
    cumulative = order["w"].cumsum() / order["w"].sum()
    assert row["estimate"] == order["y"].to_numpy()[np.argmax(cumulative.to_numpy() >= 0.25)]
    assert row["ci_low"] < row["estimate"] < row["ci_high"]
    assert row["se"] == pytest.approx((row["ci_high"] - row["ci_low"]) / (2 * stats.t.ppf(0.975, 399)))


def test_zero_weights_count_in_the_variance_but_not_in_df_or_n(api, r):
    # One of apiclus1's 15 PSUs (district 413) given weight zero: R drops it from degf (13, not 14)
    # and from the design effect's n, but keeps its rows (as zeros) in the variance.
    data = api["apiclus1"].copy()
    data.loc[data["dnum"] == 413, "pw"] = 0.0
    design = SurveyDesign(data, weights="pw", clusters="dnum", fpc="fpc")
    assert design.df == r("zero.degf") == 13
    row = mean(design, "api00").iloc[0]
    r.check("zero.mean.api00", row[["estimate", "se", "deff"]])
    assert row["n"] == int((data["pw"] > 0).sum())
    r.check("zero.total.enroll", total(design, "enroll").iloc[0][["estimate", "se", "deff"]])


def test_a_domain_inside_one_psu_has_no_interval(api, r):
    # R: degf(subset(dclus1, dnum == 716)) is 0, so svyciprop's and svyquantile's intervals are NaN;
    # the mean's linearised SE is zero (R 2.6e-14), which is no information, not certainty.
    data = api["apiclus1"].assign(one=api["apiclus1"]["dnum"] == 716)
    design = SurveyDesign(data, weights="pw", clusters="dnum", fpc="fpc")
    assert r("onepsu.degf") == 0
    row = mean(design, "api00", by="one").set_index("one").loc[True]
    r.check("onepsu.mean", row[["estimate", "se"]], rel=1e-6)
    assert np.isnan(row["ci_low"]) and np.isnan(row["ci_high"]) and np.isnan(row["n_eff"])
    r.check(
        "onepsu.quantile",
        quantile(design, "api00", 0.5, by="one").iloc[1][["estimate", "ci_low", "ci_high", "se"]],
    )
    share = proportion(design, "yes", by="one").set_index(["one", "level"]).loc[(True, True)]
    r.check("onepsu.ciprop", share[["estimate", "ci_low", "ci_high"]])
    other = mean(design, "api00", by="one").set_index("one").loc[False]
    assert np.isfinite(other["ci_low"])  # the rest of the sample keeps the design's df


@pytest.fixture(scope="module")
def dzero(api) -> SurveyDesign:
    data = api["apiclus1"].assign(pw0=np.where(api["apiclus1"]["dnum"] == 413, 0.0, api["apiclus1"]["pw"]))
    return SurveyDesign(data, weights="pw0", clusters="dnum", fpc="fpc")


def test_zero_weights_leave_df_and_n_in_every_estimator(dzero, r):
    # R keeps district 413's rows (weight 0) in the variance, but its degf is 13 and its design
    # effects count the rows of non-zero weight: ratios, shares, domains, quantiles, svyciprop,
    # intervals and svyglm's df.residual all follow from that.
    r.check("zero.ratio", ratio(dzero, "api00", "enroll").iloc[0][["estimate", "se"]])
    shares = proportion(dzero, "stype")
    r.check("zero.prop.stype", np.concatenate([shares["estimate"], shares["se"], shares["deff"]]))
    by = mean(dzero, "api00", by="stype")
    r.check("zero.by.stype", np.concatenate([by["estimate"], by["se"], by["deff"]]))
    r.check("zero.median", quantile(dzero, "api00", 0.5).iloc[0][["estimate", "ci_low", "ci_high", "se"]])
    r.check("zero.ciprop", proportion(dzero, "yes").iloc[1][["estimate", "ci_low", "ci_high"]])
    r.check("zero.mean.ci", mean(dzero, "api00").iloc[0][["ci_low", "ci_high"]])
    fit = glm(dzero, "api00~ell+meals")
    c = fit.coefficients
    r.check("zero.glm.coef", np.concatenate([c["estimate"], c["se"], c["t"], c["p_value"]]))
    assert fit.df_residual == r("zero.glm.df") == 11
    test = regterm_test(fit, "~ell+meals")
    r.check("zero.glm.test", [test["statistic"], test["df"], test["ddf"], test["p_value"]])


def test_zero_weights_by_domain_match_r(dzero, r):
    quantiles = quantile(dzero, "api00", 0.5, by="stype")
    r.check("zero.by.median", np.concatenate([quantiles[c] for c in ("estimate", "se", "ci_low", "ci_high")]))
    shares = proportion(dzero, "yes", by="stype").query("level == True")
    r.check("zero.by.ciprop", np.concatenate([shares[c] for c in ("estimate", "se", "ci_low", "ci_high")]))
    shares = proportion(dzero, "stype", by="sch.wide")
    tables = [
        shares.pivot(index="sch.wide", columns="level", values=c).to_numpy().T.ravel()
        for c in ("estimate", "se", "deff")
    ]
    r.check("zero.by.prop", np.concatenate(tables))


def test_zero_weights_on_rows_stages_and_replicates_match_r(api, dzero, r):
    # Single rows of weight 0 in a stratified sample (their PSUs leave degf: 200 - 10 - 3 = 187),
    # a zero-weight district of a two-stage sample, and JK1 replicates of dzero.
    data = api["apistrat"].copy()
    data["pw0"] = data["pw"].where(data.index % 20 != 0, 0.0)
    stratified = SurveyDesign(data, weights="pw0", strata="stype", fpc="fpc")
    assert stratified.df == r("zero.strat.degf") == 187
    r.check("zero.strat.mean", mean(stratified, "api00").iloc[0][["estimate", "se", "deff"]])
    shares = proportion(stratified, "stype")
    r.check("zero.strat.prop", np.concatenate([shares["estimate"], shares["se"], shares["deff"]]))
    two = api["apiclus2"].copy()
    base = SurveyDesign(two, clusters=["dnum", "snum"], fpc=["fpc1", "fpc2"])
    two["w0"] = np.where(two["dnum"] == 83, 0.0, base.w)
    staged = SurveyDesign(two, weights="w0", clusters=["dnum", "snum"], fpc=["fpc1", "fpc2"])
    assert staged.df == r("zero.clus2.degf")
    r.check("zero.clus2.mean", mean(staged, "api00").iloc[0][["estimate", "se", "deff"]])
    jk1 = as_replicate(dzero)
    assert jk1.df == r("zero.rep.degf")
    r.check("zero.rep.mean", mean(jk1, "api00").iloc[0][["estimate", "se"]])
    fit = glm(jk1, "api00~ell+meals")
    c = fit.coefficients
    r.check("zero.rep.glm", np.concatenate([c["estimate"], c["se"], c["t"], c["p_value"]]))
    assert fit.df_residual == r("zero.rep.glm.df")
