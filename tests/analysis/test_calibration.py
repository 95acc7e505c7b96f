"""Calibration (GREG, raking, logit; bounds and trimming) against R and by its defining equations."""

import numpy as np
import pandas as pd
import pytest

from analysis import (
    SurveyDesign,
    as_replicate,
    calibrate,
    mean,
    poststratify,
    proportion,
    quantile,
    rake,
    ratio,
    total,
)

# R's ?calibrate example: population counts of school types and the total of api99 (apipop).
POPULATION = {"(Intercept)": 6194, "stypeH": 755, "stypeM": 1018, "api99": 3914069}
FORMULA = "~stype+api99"
VARIANTS = {
    "clus1g3": {},
    "clus1g3b": {"bounds": (0.6, 1.6)},
    "clus1g3c": {"calfun": "raking"},
    "clus1g3d": {"calfun": "logit", "bounds": (0.7, 1.7)},
    "clus1g3e": {"calfun": "raking", "trim": (0.8, 1.2)},
}


@pytest.mark.parametrize("name", VARIANTS)
def test_calibrated_taylor_designs_match_r(designs, r, name):
    calibrated, report = calibrate(designs["dclus1"], POPULATION, formula=FORMULA, **VARIANTS[name])
    r.check(f"{name}.mean.api00", mean(calibrated, "api00").iloc[0][["estimate", "se"]])
    g = calibrated.w / designs["dclus1"].w
    if name != "clus1g3c" and name != "clus1g3d":
        r.check(f"{name}.weights.range", [g.min(), g.max()])
    assert report.g_min == pytest.approx(g.min()) and report.g_max == pytest.approx(g.max())
    assert report.converged


def test_calibration_by_type_only_and_by_domain_match_r(designs, r):
    counts = {"(Intercept)": 6194, "stypeH": 755, "stypeM": 1018}
    calibrated, _ = calibrate(designs["dclus1"], counts, formula="~stype")
    r.check("clus1g.mean.api00", mean(calibrated, "api00").iloc[0][["estimate", "se"]])
    r.check("clus1g.total.enroll", total(calibrated, "enroll").iloc[0][["estimate", "se"]])
    # The same totals given as a categorical margin instead of R's model-matrix names.
    by_margin, _ = calibrate(designs["dclus1"], {"stype": {"E": 4421, "H": 755, "M": 1018}})
    np.testing.assert_allclose(by_margin.w, calibrated.w, rtol=1e-12)
    full, _ = calibrate(designs["dclus1"], POPULATION, formula=FORMULA)
    by = mean(full, "api00", by="stype")
    r.check("clus1g3.by.stype", np.concatenate([by["estimate"], by["se"]]))


def test_calibrating_a_two_stage_design_matches_r(designs, r):
    calibrated, _ = calibrate(designs["dclus2"], {"(Intercept)": 6194, "api99": 3914069}, formula="~api99")
    r.check("clus2g.mean.api00", mean(calibrated, "api00").iloc[0][["estimate", "se"]])


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("rclus1g", {}),
        ("rclus1gr", {"calfun": "raking"}),
        ("rclus1gl", {"calfun": "logit", "bounds": (0.7, 1.7)}),
    ],
)
def test_calibrated_replicate_designs_match_r(designs, r, name, options):
    calibrated, _ = calibrate(as_replicate(designs["dclus1"]), POPULATION, formula=FORMULA, **options)
    r.check(f"{name}.mean.api00", mean(calibrated, "api00").iloc[0][["estimate", "se"]])


@pytest.mark.parametrize(
    "options", [{}, {"calfun": "raking"}, {"calfun": "logit", "bounds": (0.5, 2.5)}, {"bounds": (0.5, 2.5)}]
)
def test_calibrated_weights_reproduce_the_totals(designs, options):
    calibrated, report = calibrate(designs["dstrat"], POPULATION, formula=FORMULA, **options)
    data = designs["dstrat"].data
    w = calibrated.w
    assert w.sum() == pytest.approx(6194, rel=1e-7)
    assert w[data["stype"] == "H"].sum() == pytest.approx(755, rel=1e-7)
    assert np.sum(w * data["api99"]) == pytest.approx(3914069, rel=1e-7)
    if "bounds" in options:
        g = w / designs["dstrat"].w
        assert g.min() >= options["bounds"][0] - 1e-9 and g.max() <= options["bounds"][1] + 1e-9
    assert report.n_effective == pytest.approx(w.sum() ** 2 / np.sum(w**2))


def test_greg_on_one_factor_is_post_stratification(designs):
    # Calibrating to the counts of one factor is post-stratification, weights and SEs alike
    # (R's tests/caleg.R checks the same: all.equal(SE(svymean(~x, dcal)), SE(svymean(~x, dps)))).
    counts = pd.DataFrame({"stype": ["E", "H", "M"], "count": [4421, 755, 1018]})
    post = poststratify(designs["dclus1"], counts)
    greg, _ = calibrate(designs["dclus1"], {"stype": {"E": 4421, "H": 755, "M": 1018}})
    np.testing.assert_allclose(greg.w, post.w, rtol=1e-12)
    assert mean(greg, "api00").iloc[0]["se"] == pytest.approx(mean(post, "api00").iloc[0]["se"], rel=1e-10)


def test_raking_distance_on_margins_is_raking(designs):
    margins = pd.DataFrame(
        {
            "variable": ["stype"] * 3 + ["sch.wide"] * 2,
            "category": ["E", "H", "M", "No", "Yes"],
            "count": [4421, 755, 1018, 1072, 5122],
        }
    )
    raked, _ = rake(designs["dclus1"], margins, tol=1e-13)
    calibrated, _ = calibrate(
        designs["dclus1"],
        {"stype": {"E": 4421, "H": 755, "M": 1018}, "sch.wide": {"No": 1072, "Yes": 5122}},
        calfun="raking",
        epsilon=1e-13,
    )
    np.testing.assert_allclose(calibrated.w, raked.w, rtol=1e-8)


@pytest.mark.parametrize(
    ("population", "options", "message"),
    [
        ({"(Intercept)": 6194, "stypeH": 755}, {"formula": FORMULA}, "no total for stypeM, api99"),
        ({**POPULATION, "meals": 1.0}, {"formula": FORMULA}, "'meals' matches no column"),
        (
            {"stype": {"E": 4421, "H": 755, "M": 1000, "X": 18}},
            {},
            "stype=X has a population count but no respondent",
        ),
        ({"stype": {"E": 4421, "H": 755}}, {}, "stype=M occurs in the sample but has no population count"),
        (
            {"(Intercept)": 6000, "stype": {"E": 4421, "H": 755, "M": 1018}},
            {},
            "sum to 6194, but the population size is 6000",
        ),
        (POPULATION, {"formula": FORMULA, "calfun": "logit"}, "logit calibration needs finite bounds"),
        (POPULATION, {"formula": FORMULA, "calfun": "probit"}, "calfun must be one of"),
        (POPULATION, {"formula": FORMULA, "bounds": (0.99, 1.01)}, "did not converge"),
    ],
)
def test_impossible_or_inconsistent_totals_are_refused(designs, population, options, message):
    with pytest.raises(ValueError, match=message):
        calibrate(designs["dclus1"], population, **options)


def test_force_returns_the_last_weights(designs):
    calibrated, report = calibrate(
        designs["dclus1"], POPULATION, formula=FORMULA, bounds=(0.99, 1.01), force=True
    )
    assert not report.converged and report.max_misfit > 1e-7
    assert np.all(calibrated.w / designs["dclus1"].w <= 1.01 + 1e-12)


def test_linear_calibration_of_a_srs_to_a_mean_is_the_regression_estimator():
    # GREG with one auxiliary x and an intercept: ybar_greg = ybar + b (Xbar - xbar), b the OLS slope
    # (Särndal, Swensson & Wretman 1992, §6.4).
    rng = np.random.default_rng(8)
    data = pd.DataFrame({"x": rng.normal(10, 2, 300)})
    data["y"] = 3 + 2 * data["x"] + rng.normal(0, 1, 300)
    calibrated, _ = calibrate(SurveyDesign(data), {"(Intercept)": 300, "x": 300 * 10.5})
    slope = np.polyfit(data["x"], data["y"], 1)[0]
    expected = data["y"].mean() + slope * (10.5 - data["x"].mean())
    assert mean(calibrated, "y").iloc[0]["estimate"] == pytest.approx(expected, rel=1e-12)


# Kalton & Flores-Cervantes (2003), "Weighting methods", J. Official Statistics 19(2): a 4 x 3 table
# of sample and population counts; the published weighting adjustments (rounded to 2 decimals), as
# R's tests/kalton.Rout.save reproduces them, for each method (tables B, C, D, F and G).
SAMPLE_COUNTS = [20, 50, 100, 30, 40, 140, 50, 100, 40, 310, 50, 70]
POPULATION_COUNTS = [80, 60, 170, 55, 40, 150, 60, 165, 55, 340, 200, 125]
KALTON_TABLES = {  # rows a = 1..4, columns b = 1..3
    "raking": [[1.81, 1.45, 2.02], [1.08, 0.87, 1.21], [2.20, 1.76, 2.45], [1.83, 1.47, 2.04]],
    "linear": [[1.82, 1.50, 1.97], [1.09, 0.78, 1.24], [2.19, 1.88, 2.34], [1.83, 1.52, 1.98]],
    "logit": [[1.87, 1.46, 1.98], [1.08, 0.74, 1.27], [2.17, 2.09, 2.18], [1.89, 1.49, 1.99]],
    "truncated": [[1.81, 1.48, 1.99], [1.08, 0.75, 1.26], [2.20, 2.00, 2.20], [1.83, 1.50, 2.00]],
    "greg": [[1.21, 1.17, 1.14], [1.43, 1.40, 1.36], [1.66, 1.62, 1.59], [1.88, 1.85, 1.81]],
}


@pytest.mark.parametrize("method", KALTON_TABLES)
def test_kalton_and_flores_cervantes_weighting_tables(method):
    cells = [(a, b) for b in (1, 2, 3) for a in (1, 2, 3, 4)]  # R's expand.grid order
    sample = pd.DataFrame(
        [cell for cell, count in zip(cells, SAMPLE_COUNTS, strict=True) for _ in range(count)],
        columns=["a", "b"],
    )
    population = pd.DataFrame(
        [cell for cell, count in zip(cells, POPULATION_COUNTS, strict=True) for _ in range(count)],
        columns=["a", "b"],
    )
    margins = {v: population[v].astype(str).value_counts().to_dict() for v in ("a", "b")}
    options = {
        "raking": {"calfun": "raking"},
        "linear": {},
        "logit": {"calfun": "logit", "bounds": (0.5, 2.2)},
        "truncated": {"bounds": (0.5, 2.2)},
    }
    design = SurveyDesign(sample)
    if method == "greg":  # a and b as numbers, with an intercept
        totals = {"(Intercept)": len(population), "a": population["a"].sum(), "b": population["b"].sum()}
        calibrated, _ = calibrate(design, totals)
    else:
        calibrated, _ = calibrate(SurveyDesign(sample.astype(str)), margins, **options[method])
    g = pd.Series(calibrated.w).groupby([sample["a"], sample["b"]]).first().unstack()
    np.testing.assert_array_equal(np.round(g.to_numpy(), 2), KALTON_TABLES[method])


def test_r_population_vector_reads_its_own_formula(designs):
    # R's population vector alone: stypeH/stypeM name the levels of stype, api99 a column.
    inferred, _ = calibrate(designs["dclus1"], POPULATION)
    given, _ = calibrate(designs["dclus1"], POPULATION, formula=FORMULA)
    np.testing.assert_allclose(inferred.w, given.w, rtol=1e-12)
    margins = pd.DataFrame(
        {"variable": ["stype"] * 3, "category": ["E", "H", "M"], "count": [4421, 755, 1018]}
    )
    from_frame, _ = calibrate(designs["dclus1"], margins)
    from_mapping, _ = calibrate(designs["dclus1"], {"stype": {"E": 4421, "H": 755, "M": 1018}})
    np.testing.assert_allclose(from_frame.w, from_mapping.w, rtol=1e-12)
    with pytest.raises(ValueError, match="'zzz' is neither a column of the data"):
        calibrate(designs["dclus1"], {"(Intercept)": 6194, "zzz": 1.0})
    with pytest.raises(ValueError, match="a margins frame needs columns variable, category and count"):
        calibrate(designs["dclus1"], margins.rename(columns={"count": "n"}))
    shares = margins.assign(share=margins["count"] / 6194).drop(columns="count")
    from_shares, _ = calibrate(designs["dclus1"], shares)
    assert from_shares.w.sum() == pytest.approx(designs["dclus1"].w.sum())


def test_every_estimator_on_calibrated_designs_matches_r(designs, r):
    # GREG to ~stype+api99 on dclus1 and on its JK1 replicates: quantiles (Woodruff on the
    # calibrated CDF), svyciprop, ratios and shares.
    for name, base in (("clus1g3", designs["dclus1"]), ("rclus1g", as_replicate(designs["dclus1"]))):
        calibrated, _ = calibrate(base, POPULATION, formula=FORMULA)
        median = quantile(calibrated, "api00", 0.5).iloc[0]
        r.check(f"{name}.median", median[["estimate", "ci_low", "ci_high", "se"]])
        r.check(f"{name}.ciprop", proportion(calibrated, "yes").iloc[1][["estimate", "ci_low", "ci_high"]])
    calibrated, _ = calibrate(designs["dclus1"], POPULATION, formula=FORMULA)
    r.check("clus1g3.ratio", ratio(calibrated, "api00", "enroll").iloc[0][["estimate", "se"]])
    shares = proportion(calibrated, "stype")
    r.check("clus1g3.prop.stype", shares["estimate"])
    assert (shares["se"] < 1e-12).all()  # calibrated to the type counts: R 2.6e-17 to 9.4e-17


def test_logit_calibration_of_a_two_stage_design_matches_r(designs, r):
    counts = {"(Intercept)": 6194, "stypeH": 755, "stypeM": 1018}
    calibrated, report = calibrate(
        designs["dclus2"], counts, formula="~stype", calfun="logit", bounds=(0.5, 2.5)
    )
    assert report.converged
    r.check("clus2l.mean.api00", mean(calibrated, "api00").iloc[0][["estimate", "se"]])
    by = mean(calibrated, "api00", by="sch.wide")
    r.check("clus2l.by", np.concatenate([by["estimate"], by["se"]]))
