"""Replicate-weight designs, supplied and created: every estimator against R, and svrVar's rules."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis import (
    SurveyDesign,
    as_replicate,
    difference,
    mean,
    poststratify,
    proportion,
    quantile,
    rake,
    ratio,
    total,
)

from .conftest import DATA

CREATED = {
    "rclus1": ("dclus1", {}),
    "rstrat": ("dstrat", {}),
    "rclus1mse": ("dclus1", {"mse": True}),
    "rbrr": ("dstrat", {"type": "BRR"}),
    "rfay": ("dstrat", {"type": "Fay", "fay_rho": 0.3}),
}


@pytest.mark.parametrize("name", CREATED)
def test_created_replicate_designs_match_r_for_every_estimator(designs, r, name):
    # R: as.svrepdesign(dclus1) (JK1), as.svrepdesign(dstrat) (JKn), mse=TRUE, type="BRR" and
    # type="Fay", fay.rho=0.3 (apistrat's strata split into 100 pairs, a Paley matrix of order 104).
    source, options = CREATED[name]
    design = as_replicate(designs[source], **options)
    assert design.df == r(f"{name}.degf")
    r.check(f"{name}.mean.api00", mean(design, "api00").iloc[0][["estimate", "se", "deff"]])
    r.check(f"{name}.total.enroll", total(design, "enroll").iloc[0][["estimate", "se", "deff"]])
    row = ratio(design, "api00", "enroll").iloc[0]
    r.check(f"{name}.ratio", row[["estimate", "se"]])
    r.check(f"{name}.ratio.deff", row["deff"])
    by = mean(design, "api00", by="stype")
    r.check(f"{name}.by.stype", np.concatenate([by["estimate"], by["se"]]))
    shares = proportion(design, "stype")
    r.check(f"{name}.prop.stype", np.concatenate([shares["estimate"], shares["se"]]))
    for interval, key in (("mean", "median"), ("quantile", "median.q")):
        row = quantile(design, "api00", 0.5, interval_type=interval).iloc[0]
        r.check(f"{name}.{key}", row[["estimate", "ci_low", "ci_high", "se"]])
    for method in ("logit", "mean", "xlogit", "asin", "beta"):
        row = proportion(design, "yes", method=method).iloc[1]
        r.check(f"{name}.ciprop.{method}", row[["estimate", "se", "ci_low", "ci_high"]])


def test_supplied_bootstrap_weights_match_r(api, r):
    # R: set.seed(42); as.svrepdesign(dclus1, type="bootstrap", replicates=50) — its 50 columns of
    # multipliers are stored in data/apiclus1_bootstrap.csv and supplied here as R's svrepdesign
    # would take them (combined.weights=FALSE, the scale R computed).
    data = api["apiclus1"].merge(pd.read_csv(DATA / "apiclus1_bootstrap.csv"), on=["snum", "dnum"])
    design = SurveyDesign(
        data,
        weights="pw",
        replicate_weights="^bw",
        replicate_type="bootstrap",
        combined_weights=False,
        scale=r("rboot.scale"),
    )
    assert design.df == r("rboot.degf")
    r.check("rboot.mean.api00", mean(design, "api00").iloc[0][["estimate", "se"]])
    by = mean(design, "api00", by="stype")
    r.check("rboot.by.stype", np.concatenate([by["estimate"], by["se"]]))
    r.check("rboot.median", quantile(design, "api00", 0.5).iloc[0][["estimate", "ci_low", "ci_high", "se"]])


def scd_design(kind: str, **options) -> SurveyDesign:
    # Levy & Lemeshow's BRR half-samples for the scd data (R's ?svrepdesign example).
    data = pd.read_csv(DATA / "scd.csv")
    half = 2 * np.array([[1, 0, 1, 0, 1, 0], [1, 0, 0, 1, 0, 1], [0, 1, 1, 0, 0, 1], [0, 1, 0, 1, 1, 0]]).T
    if kind == "Fay":
        half = half * 0.7 + 0.3 * (2 - half)
    for j in range(4):
        data[f"rep{j}"] = half[:, j]
    extra = {"rho": 0.3} if kind == "Fay" else {}
    return SurveyDesign(
        data, replicate_weights="^rep", replicate_type=kind, combined_weights=False, **extra, **options
    )


def test_supplied_brr_and_fay_weights_match_r(r):
    r.check("scd.brr.ratio", ratio(scd_design("BRR"), "alive", "arrests").iloc[0][["estimate", "se"]])
    r.check("scd.fay.ratio", ratio(scd_design("Fay"), "alive", "arrests").iloc[0][["estimate", "se"]])
    r.check("scd.fay.mean", mean(scd_design("Fay"), "alive").iloc[0][["estimate", "se"]])


def test_post_stratified_and_raked_replicates_match_r(designs, r):
    jk1 = as_replicate(designs["dclus1"])
    counts = pd.DataFrame({"stype": ["E", "H", "M"], "count": [4421, 755, 1018]})
    post = poststratify(jk1, counts)
    r.check("rclus1p.mean.api00", mean(post, "api00").iloc[0][["estimate", "se"]])
    r.check("rclus1p.total.enroll", total(post, "enroll").iloc[0][["estimate", "se"]])
    margins = pd.DataFrame(
        {
            "variable": ["stype"] * 3 + ["sch.wide"] * 2,
            "category": ["E", "H", "M", "No", "Yes"],
            "count": [4421, 755, 1018, 1072, 5122],
        }
    )
    raked, _ = rake(jk1, margins)
    r.check("rclus1r.mean.api00", mean(raked, "api00").iloc[0][["estimate", "se"]])


def test_replicate_types_set_r_scales(api):
    data = api["apisrs"].copy()
    for j in range(4):
        data[f"w{j}"] = data["pw"] * (1 + 0.1 * j)
    columns = [f"w{j}" for j in range(4)]
    base = {"weights": "pw", "replicate_weights": columns}
    assert SurveyDesign(data, **base, replicate_type="BRR")._replicates.scale == 1 / 4
    assert SurveyDesign(data, **base, replicate_type="Fay", rho=0.5)._replicates.scale == 1 / (4 * 0.25)
    assert SurveyDesign(data, **base, replicate_type="JK1")._replicates.scale == 3 / 4
    assert SurveyDesign(data, **base, replicate_type="bootstrap")._replicates.scale == 1 / 3
    assert SurveyDesign(data, **base, replicate_type="successive-difference")._replicates.scale == 1
    other = SurveyDesign(data, **base, replicate_type="other", scale=2.0, rscales=[1, 2, 3, 4])._replicates
    assert other.scale == 2.0 and other.rscales.tolist() == [1, 2, 3, 4]
    assert SurveyDesign(data, **base, replicate_type="JK1").n == 200


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"replicate_type": "Fay"}, "needs rho"),
        ({"replicate_type": "JKn"}, "needs rscales"),
        ({"replicate_type": "BRR", "scale": 0.5}, "fixes the scale"),
        ({"replicate_type": "other", "rscales": [1, 2]}, "rscales has 2 values; give one per replicate"),
        ({"replicate_type": "JK9"}, "replicate_type must be one of"),
        ({"replicate_type": "JK1", "strata": "stype"}, "either replicate weights or strata"),
    ],
)
def test_bad_replicate_settings_are_refused(api, options, message):
    data = api["apisrs"].assign(w0=1.0, w1=2.0, w2=3.0)
    with pytest.raises(ValueError, match=message):
        mean(SurveyDesign(data, weights="pw", replicate_weights=["w0", "w1", "w2"], **options), "api00")


def test_replicate_columns_are_checked(api):
    with pytest.raises(KeyError, match="matches no column"):
        SurveyDesign(api["apisrs"], replicate_weights="^nothing")
    data = api["apisrs"].assign(w0=1.0, w1=-1.0)
    with pytest.raises(ValueError, match="'w1' has 200 that are not"):
        SurveyDesign(data, replicate_weights=["w0", "w1"], replicate_type="JK1")


def test_undefined_replicates_are_dropped_as_r_does():
    # A domain empty in one replicate has no estimate there; R's svrVar drops that replicate (na.omit).
    data = pd.DataFrame({"y": [1.0, 2.0, 3.0, 4.0], "d": ["a", "a", "b", "b"]})
    data["r0"], data["r1"], data["r2"] = [0.0, 0.0, 1.5, 1.5], [1.5, 1.5, 0.0, 1.5], [1.5, 1.5, 1.5, 0.0]
    design = SurveyDesign(data, replicate_weights=["r0", "r1", "r2"], replicate_type="JK1")
    row = mean(design, "y", by="d").set_index("d").loc["a"]
    assert row["se"] == pytest.approx(0.0)  # replicate 0 is undefined for "a", the others equal 1.5
    row = mean(design, "y", by="d").set_index("d").loc["b"]
    thetas = np.array([3.5, 4.0, 3.0])
    assert row["se"] ** 2 == pytest.approx(2 / 3 * np.sum((thetas - thetas.mean()) ** 2))


@st.composite
def paired_samples(draw):
    strata = draw(st.integers(2, 6))
    rng = np.random.default_rng(draw(st.integers(0, 2**31)))
    rows = []
    for h in range(strata):
        for psu in range(2):
            for _ in range(int(rng.integers(1, 5))):
                rows.append((h, f"{h}-{psu}", rng.normal(10, 3), rng.uniform(1, 4), rng.choice(["x", "y"])))
    return pd.DataFrame(rows, columns=["h", "psu", "y", "w", "d"])


@settings(max_examples=40, deadline=None)
@given(paired_samples())
def test_replicates_reproduce_taylor_for_totals(data):
    # For a linear statistic the jackknife and (fully balanced) BRR variances equal the Taylor
    # with-replacement variance exactly (Wolter 2007, §4.2 and §3.3).
    taylor = SurveyDesign(data, weights="w", strata="h", clusters="psu")
    expected = total(taylor, "y", by="d")["se"].to_numpy()
    for kind in ("JKn", "BRR"):
        got = total(as_replicate(taylor, kind), "y", by="d")["se"].to_numpy()
        np.testing.assert_allclose(got, expected, rtol=1e-9)


def test_domain_differences_use_the_replicate_covariance(designs):
    jk1 = as_replicate(designs["dclus1"])
    result = difference(jk1, "api00", "stype", "E", "M")
    by = mean(jk1, "api00", by="stype").set_index("stype")
    assert result["estimate"] == pytest.approx(by.loc["E", "estimate"] - by.loc["M", "estimate"])
    assert result["se"] < by.loc["E", "se"] + by.loc["M", "se"]


def test_a_domain_inside_one_psu_has_no_interval_on_replicates_either(api, r):
    # The rank of the domain's replicate weights is one (R's degf of the subset: 0).
    data = api["apiclus1"].assign(one=api["apiclus1"]["dnum"] == 716)
    jk1 = as_replicate(SurveyDesign(data, weights="pw", clusters="dnum", fpc="fpc"))
    rows = mean(jk1, "api00", by="one").set_index("one")
    assert np.isnan(rows.loc[True, "ci_low"]) and np.isfinite(rows.loc[False, "ci_low"])
    assert jk1.domain_dfs(np.where(data["one"], 0, -1), 1)[0] == 0 == r("onepsu.rep.degf")
    assert jk1.domain_dfs(np.where(data["one"], -1, 0), 1)[0] == 13
    # R: svyquantile(~api00, subset(rclus1o, one), 0.5) has no interval either (svyciprop's
    # quasi-binomial fit fails in R there, on the replicates where the domain has no weight).
    rows = quantile(jk1, "api00", 0.5, by="one").iloc[1]
    r.check("onepsu.rep.quantile", rows[["estimate", "ci_low", "ci_high", "se"]])


def test_ratios_and_totals_by_domain_match_r(designs, r):
    jk1 = as_replicate(designs["dclus1"])
    for name, design in (("rep", jk1), ("clus1", designs["dclus1"])):
        by = ratio(design, "api00", "enroll", by="stype")
        r.check(f"{name}.ratio.by", np.concatenate([by["estimate"], by["se"]]))
    by = total(jk1, "enroll", by="stype")
    r.check("rep.total.by", np.concatenate([by["estimate"], by["se"]]))


@pytest.mark.parametrize("name", ["rclus1", "clus2"])
def test_shares_quantiles_and_proportion_intervals_by_domain_match_r(designs, r, name):
    # svyby hands svyquantile and svyciprop each domain's subset design, so their intervals use
    # the domain's own degf (E 14, H 7, M 11 on rclus1; 34, 13, 20 on dclus2), not the design's.
    design = as_replicate(designs["dclus1"]) if name == "rclus1" else designs["dclus2"]
    shares = proportion(design, "stype", by="sch.wide")
    r.check(
        f"{name}.by.prop",
        np.concatenate(
            [
                shares.pivot(index="sch.wide", columns="level", values=c).to_numpy().T.ravel()
                for c in ("estimate", "se")
            ]
        ),
    )
    medians = quantile(design, "api00", 0.5, by="stype")
    r.check(
        f"{name}.by.median", np.concatenate([medians[c] for c in ("estimate", "se", "ci_low", "ci_high")])
    )
    yes = proportion(design, "yes", by="stype").query("level == True")
    r.check(f"{name}.by.ciprop", np.concatenate([yes[c] for c in ("estimate", "se", "ci_low", "ci_high")]))


@pytest.mark.parametrize(
    ("name", "kind", "options"),
    [
        ("scd.brr.mse", "BRR", {"mse": True}),
        ("scd.fay.mse", "Fay", {"mse": True}),
        ("scd.other", "other", {"scale": 0.5, "rscales": [1, 2, 1, 2]}),
        ("scd.sdr", "successive-difference", {}),
        ("scd.acs", "ACS", {}),
        ("scd.jk1", "JK1", {}),
    ],
)
def test_supplied_replicate_types_and_options_match_r(r, name, kind, options):
    design = scd_design(kind, **options)
    r.check(f"{name}.ratio", ratio(design, "alive", "arrests").iloc[0][["estimate", "se"]])
    if kind == "Fay":
        r.check(f"{name}.mean", mean(design, "alive").iloc[0][["estimate", "se"]])


def test_supplied_jkn_weights_with_rscales_match_r(designs, r):
    # as.svrepdesign(dstrat)'s weights handed back as R's svrepdesign(type="JKn", rscales=...) would
    # take them (combined weights): the same figures as the created design.
    created = as_replicate(designs["dstrat"])
    weights = created._replicates.weights
    columns = pd.DataFrame(weights, columns=[f"rep{j}" for j in range(weights.shape[1])])
    data = pd.concat([designs["dstrat"].data, columns], axis=1)
    supplied = SurveyDesign(
        data,
        weights="pw",
        replicate_weights="^rep",
        replicate_type="JKn",
        rscales=created._replicates.rscales,
    )
    assert supplied.df == r("rstrat.degf")
    r.check("rstrat.mean.api00", mean(supplied, "api00").iloc[0][["estimate", "se", "deff"]])
    r.check(
        "rstrat.median", quantile(supplied, "api00", 0.5).iloc[0][["estimate", "ci_low", "ci_high", "se"]]
    )
