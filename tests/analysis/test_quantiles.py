"""Quantiles: R's rules, Woodruff's intervals, and cumulative weights that land exactly on p."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis import as_replicate, quantile
from analysis.quantiles import weighted_quantile


def test_apisrs_median_is_658_as_in_r(designs, r):
    # 200 equal weights: the median lands exactly on the 100th cumulative weight, where R's
    # extended-precision sums pick 658 and plain double sums used to pick the next value, 660.
    row = quantile(designs["dsrs"], "api00", 0.5).iloc[0]
    assert row["estimate"] == 658
    r.check("srs.median", row[["estimate", "ci_low", "ci_high", "se"]])
    r.check(
        "srs.quantiles", quantile(designs["dsrs"], "api00", [0.1, 0.25, 0.75, 0.9], qrule="hf7")["estimate"]
    )


@pytest.mark.parametrize("rule", ["school", "hf3", "hf4", "hf5", "hf6", "hf8", "hf9", "shahvaish"])
def test_quantile_rules_match_r(designs, r, rule):
    r.check(f"strat.q.{rule}", quantile(designs["dstrat"], "api00", [0.25, 0.5], qrule=rule)["estimate"])


@pytest.mark.parametrize("interval", ["beta", "xlogit", "asin"])
def test_woodruff_interval_types_match_r(designs, r, interval):
    row = quantile(designs["dstrat"], "api00", 0.5, interval_type=interval).iloc[0]
    r.check(f"strat.median.{interval}", row[["estimate", "ci_low", "ci_high", "se"]])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(0, 50), min_size=10, max_size=400),
    st.sampled_from([0.1, 0.25, 0.5, 0.75, 0.9]),
    st.floats(0.01, 1e6),
)
def test_equal_weights_give_the_inverse_empirical_cdf(values, p, weight):
    # Hyndman & Fan's type 1 — the smallest x whose cumulative share reaches p — with any equal
    # weight, however the cumulative sums round. (Below the first share R's rule returns the second
    # order statistic, and so does Candid: at least 10 values keep p = 0.1 above it.)
    x = np.array(values, dtype=float)
    expected = np.quantile(x, p, method="inverted_cdf")
    assert weighted_quantile(x, np.full(len(x), weight), p) == expected


def test_a_million_equal_weights_still_land_on_the_boundary():
    x = np.arange(1_000_000, dtype=float)
    assert weighted_quantile(x, np.full(len(x), 30.97), 0.5) == 499_999


def test_bad_options_are_refused(designs):
    with pytest.raises(ValueError, match="qrule must be one of"):
        quantile(designs["dsrs"], "api00", 0.5, qrule="hf10")
    with pytest.raises(ValueError, match="interval_type must be one of mean, beta, xlogit, asin for"):
        quantile(designs["dsrs"], "api00", 0.5, interval_type="quantile")


def test_zero_weights_are_ignored():
    x = np.array([1.0, 2.0, 3.0, 100.0])
    assert weighted_quantile(x, np.array([1.0, 1.0, 1.0, 0.0]), 0.9) == 3.0
    assert np.isnan(weighted_quantile(x, np.zeros(4), 0.5))


def test_several_quantiles_by_domain(designs):
    frame = quantile(designs["dstrat"], "api00", [0.25, 0.75], by="stype")
    assert frame[["stype", "quantile"]].values.tolist() == [
        ["E", 0.25],
        ["E", 0.75],
        ["H", 0.25],
        ["H", 0.75],
        ["M", 0.25],
        ["M", 0.75],
    ]
    assert (frame["ci_low"] <= frame["estimate"]).all() and (frame["estimate"] <= frame["ci_high"]).all()
    assert pd.isna(frame["deff"]).all()


@pytest.mark.parametrize("name", ["dclus1", "dclus2", "rclus1"])
def test_quantiles_of_a_variable_with_missing_values_match_r(designs, r, name):
    # avg.ed is missing for some schools: R's na.rm=TRUE drops those rows from the design, and from
    # its degf, before the interval is formed (overall and in each domain).
    design = as_replicate(designs["dclus1"]) if name == "rclus1" else designs[name]
    overall = quantile(design, "avg.ed", [0.25, 0.5])
    r.check(f"{name}.q.avged", overall[["estimate", "ci_low", "ci_high", "se"]].to_numpy().ravel())
    by = quantile(design, "avg.ed", 0.5, by="stype")
    r.check(f"{name}.by.q.avged", np.concatenate([by[c] for c in ("estimate", "se", "ci_low", "ci_high")]))


def test_replicate_and_beta_intervals_by_domain_match_r(designs, r):
    by = quantile(as_replicate(designs["dclus1"]), "api00", 0.5, by="stype", interval_type="quantile")
    r.check("rclus1.by.median.q", np.concatenate([by[c] for c in ("estimate", "se", "ci_low", "ci_high")]))
    by = quantile(designs["dclus2"], "api00", 0.5, by="stype", interval_type="beta")
    r.check("clus2.by.median.beta", np.concatenate([by[c] for c in ("estimate", "se", "ci_low", "ci_high")]))
