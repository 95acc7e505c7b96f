"""Design-based GLMs (svyglm) and Wald tests of terms (regTermTest) against R and by hand."""

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from analysis import SurveyDesign, as_replicate, calibrate, glm, regterm_test


def r_table(fit):
    """The columns of R's coef(summary(svyglm)) in R's order, then confint's."""
    c = fit.coefficients
    return np.concatenate([c["estimate"], c["se"], c["t"], c["p_value"]]), np.concatenate(
        [c["ci_low"], c["ci_high"]]
    )


@pytest.fixture(scope="module")
def models(designs):
    calibrated, _ = calibrate(
        designs["dclus1"],
        {"(Intercept)": 6194, "stypeH": 755, "stypeM": 1018, "api99": 3914069},
        formula="~stype+api99",
    )
    return {
        "m1": glm(designs["dstrat"], "api00~ell+meals+mobility"),
        "m2": glm(designs["dclus2"], "api00~ell+meals+mobility"),
        "m3": glm(as_replicate(designs["dstrat"]), "api00~ell+meals+mobility"),
        "m4": glm(designs["dstrat"], "yes~ell+meals+mobility", "quasibinomial"),
        "m5": glm(as_replicate(designs["dclus1"]), "yes~ell+meals+mobility", "quasibinomial"),
        "m6": glm(calibrated, "api00~stype+ell"),
    }


@pytest.mark.parametrize("name", ["m1", "m2", "m3", "m4", "m5", "m6"])
def test_coefficients_ses_tests_and_intervals_match_r(models, r, name):
    # m1 stratified, m2 two-stage, m3 JKn replicates, m4 logistic, m5 logistic on JK1 replicates,
    # m6 on a GREG-calibrated cluster sample (R's svyglm examples on the api data).
    table, intervals = r_table(models[name])
    r.check(f"{name}.coef", table)
    r.check(f"{name}.ci", intervals)
    assert models[name].df_residual == r(f"{name}.df")


def test_names_follow_r(models):
    assert models["m6"].coefficients["term"].tolist() == ["(Intercept)", "stypeH", "stypeM", "ell"]
    assert models["m6"].params["stypeH"] == models["m6"].coefficients.iloc[1]["estimate"]


def test_dispersion_and_term_tests_match_r(models, r):
    r.check("m1.dispersion", models["m1"].dispersion)
    r.check("m5.dispersion", models["m5"].dispersion)
    for name, terms in (("m1", "~ell+meals"), ("m4", "~ell+meals"), ("m5", "~mobility")):
        test = regterm_test(models[name], terms)
        r.check(f"{name}.test", [test["statistic"], test["df"], test["ddf"], test["p_value"]])
    assert (
        regterm_test(models["m1"], ["ell", "meals"])["statistic"]
        == regterm_test(models["m1"], "~ell+meals")["statistic"]
    )
    chisq = regterm_test(models["m1"], "ell", df=np.inf)
    assert chisq["p_value"] == pytest.approx(2 * stats.norm.sf(abs(models["m1"].coefficients.iloc[1]["t"])))


def test_coefficients_equal_a_weighted_statsmodels_fit(designs):
    data = designs["dstrat"].data
    fit = glm(designs["dstrat"], "yes~ell+meals", "binomial")
    x = sm.add_constant(data[["ell", "meals"]].to_numpy(dtype=float))
    reference = sm.GLM(
        data["yes"].astype(float), x, family=sm.families.Binomial(), var_weights=data["pw"]
    ).fit(tol=1e-12)
    np.testing.assert_allclose(fit.coefficients["estimate"], reference.params, rtol=1e-6)


def test_linear_model_on_an_srs_is_ols_with_the_sandwich():
    # Unweighted, unclustered: the design variance is the HC0 sandwich times n/(n-1) (Binder 1983).
    rng = np.random.default_rng(4)
    data = pd.DataFrame({"x": rng.normal(size=200), "z": rng.normal(size=200)})
    data["y"] = 1 + 2 * data["x"] - data["z"] + rng.standard_t(4, 200)
    fit = glm(SurveyDesign(data), "y ~ x + z")
    ols = sm.OLS(data["y"], sm.add_constant(data[["x", "z"]])).fit(cov_type="HC0")
    np.testing.assert_allclose(fit.coefficients["estimate"], ols.params, rtol=1e-10)
    np.testing.assert_allclose(fit.coefficients["se"], ols.bse * np.sqrt(200 / 199), rtol=1e-8)
    assert fit.df_residual == 199 + 1 - 3


def test_rows_with_missing_variables_are_left_out(designs):
    data = designs["dclus1"].data.assign(ell=designs["dclus1"].data["ell"].where(lambda s: s.index % 7 != 0))
    fit = glm(SurveyDesign(data, weights="pw", clusters="dnum", fpc="fpc"), "api00 ~ ell")
    assert fit.n == int(data["ell"].notna().sum())


@pytest.mark.parametrize(
    ("formula", "family", "message"),
    [
        ("api00 ~ nothing", "gaussian", "cannot build the model matrix"),
        ("api00 ~ ell", "gamma", "family must be one of"),
        ("api00 ~ ell + ell2", "gaussian", "rank deficient"),
        # R's binomial family refuses a response outside [0, 1]; IRLS used to diverge on it.
        ("api00 ~ ell", "binomial", "response between 0 and 1"),
        ("api00 ~ ell", "quasibinomial", r"'api00' has values from \d+ to \d+"),
        ("neg ~ ell", "poisson", "non-negative response"),
    ],
)
def test_bad_models_are_refused(designs, formula, family, message):
    design = SurveyDesign(
        designs["dstrat"].data.assign(ell2=lambda d: 2 * d["ell"], neg=lambda d: d["ell"] - 10),
        weights="pw",
        strata="stype",
    )
    with pytest.raises(ValueError, match=message):
        glm(design, formula, family)


def test_unknown_terms_are_named(models):
    with pytest.raises(ValueError, match="no term acs in the model; its terms are"):
        regterm_test(models["m1"], "acs")


def test_poisson_and_interactions_on_replicates_match_r(designs, r):
    fit = glm(designs["dclus2"], "enroll ~ ell + stype", "quasipoisson")
    r.check("pois.coef", r_table(fit)[0])
    r.check("pois.family.coef", r_table(glm(designs["dclus2"], "enroll ~ ell + stype", "poisson"))[0])
    fit = glm(as_replicate(designs["dclus1"]), "api00 ~ stype*ell")
    assert fit.coefficients["term"].tolist() == [
        "(Intercept)",
        "stypeH",
        "stypeM",
        "ell",
        "stypeH:ell",
        "stypeM:ell",
    ]
    r.check("rep.inter.coef", r_table(fit)[0])
    assert regterm_test(fit, "stype:ell")["df"] == 2


def test_binomial_and_two_stage_logistic_models_match_r(designs, r):
    # R: svyglm(I(sch.wide=='Yes')~ell+meals, dstrat, family=binomial()) (same SEs as
    # quasibinomial: the variance is the design's), and a quasi-binomial model on two stages with
    # regTermTest on one term.
    r.check("binom.coef", r_table(glm(designs["dstrat"], "yes~ell+meals", "binomial"))[0])
    fit = glm(designs["dclus2"], "yes~ell+meals", "quasibinomial")
    r.check("clus2.logit.coef", r_table(fit)[0])
    assert fit.df_residual == r("clus2.logit.df") == 37
    test = regterm_test(fit, "~meals")
    r.check("clus2.logit.test", [test["statistic"], test["df"], test["ddf"], test["p_value"]])


def test_calibrated_replicate_model_matches_r(designs, r):
    calibrated, _ = calibrate(
        as_replicate(designs["dclus1"]),
        {"(Intercept)": 6194, "stypeH": 755, "stypeM": 1018, "api99": 3914069},
        formula="~stype+api99",
    )
    r.check("rclus1g.glm", r_table(glm(calibrated, "api00~ell+meals"))[0])
