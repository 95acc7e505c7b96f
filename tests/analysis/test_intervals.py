"""Proportion intervals, every method of R's svyciprop, on Taylor designs (replicates: test_replicate)."""

import numpy as np
import pandas as pd
import pytest

from analysis import SurveyDesign, as_replicate, proportion
from analysis.profile import fmm_spline, spline_points


@pytest.mark.parametrize("method", ["logit", "asin", "beta", "mean", "xlogit", "likelihood"])
def test_two_stage_share_intervals_match_r(designs, r, method):
    row = proportion(designs["dclus2"], "yes", method=method).iloc[1]
    r.check(f"clus2.ciprop.{method}", row[["estimate", "ci_low", "ci_high"]])


def test_likelihood_intervals_match_r_at_other_levels_and_designs(designs, r):
    r.check(
        "strat.ciprop.likelihood",
        proportion(designs["dstrat"], "yes", method="likelihood").iloc[1][["estimate", "ci_low", "ci_high"]],
    )
    row = proportion(designs["dsrs"], "yes", method="likelihood", level=0.9).iloc[1]
    r.check("srs.ciprop.likelihood", row[["estimate", "ci_low", "ci_high"]])
    # On a replicate design R's profile never reaches the cut-off (its replicate dispersion is
    # n times the weighted mean square) and gives NA; so does Candid, rather than a made-up interval.
    row = proportion(as_replicate(designs["dclus1"]), "yes", method="likelihood").iloc[1]
    r.check("rclus1.ciprop.likelihood", row[["estimate", "ci_low", "ci_high"]])


def test_fmm_spline_reproduces_cubics_exactly():
    # Forsythe-Malcolm-Moler end conditions fit the cubic through the end points, so a cubic is exact.
    x = np.array([0.0, 0.5, 1.5, 2.0, 3.5, 4.0])
    cubic = 2 - x + 0.5 * x**2 - 0.25 * x**3
    grid, values = spline_points(x, cubic)
    np.testing.assert_allclose(values, 2 - grid + 0.5 * grid**2 - 0.25 * grid**3, rtol=1e-12, atol=1e-12)
    b, _, _ = fmm_spline(np.array([0.0, 1.0]), np.array([1.0, 3.0]))
    assert b.tolist() == [2.0, 2.0]


def test_shares_at_zero_or_one_get_the_wilson_interval_on_the_effective_n():
    data = pd.DataFrame({"answer": ["yes"] * 30, "w": np.linspace(1, 3, 30), "h": [1, 2] * 15})
    row = proportion(SurveyDesign(data, weights="w", strata="h"), "answer").iloc[0]
    assert row["estimate"] == 1.0 and row["ci_high"] == pytest.approx(1.0) and 0.8 < row["ci_low"] < 1.0


def test_unknown_methods_are_refused(designs):
    with pytest.raises(ValueError, match="method must be one of logit, likelihood"):
        proportion(designs["dsrs"], "yes", method="exact")


@pytest.mark.parametrize("method", ["mean", "beta", "asin", "xlogit", "likelihood"])
@pytest.mark.parametrize("name", ["dclus1", "dclus2", "rclus1"])
def test_share_intervals_by_domain_use_the_domain_s_degf_as_r(designs, r, name, method):
    # R's svyby(~I(sch.wide=='Yes'), ~stype, design, svyciprop, method=...) runs svyciprop on each
    # domain's subset design, whose degf counts the domain's own PSUs.
    design = as_replicate(designs["dclus1"]) if name == "rclus1" else designs[name]
    yes = proportion(design, "yes", by="stype", method=method).query("level == True")
    r.check(f"{name}.by.ciprop.{method}", np.concatenate([yes["estimate"], yes["ci_low"], yes["ci_high"]]))
