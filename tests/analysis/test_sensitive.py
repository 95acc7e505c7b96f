"""List experiments and randomised response: recovery of known prevalences, and the design-effect test."""

import numpy as np
import pandas as pd
import pytest

from analysis import (
    SurveyDesign,
    as_replicate,
    compare_list_with_direct,
    list_experiment,
    list_experiment_design_test,
    randomized_response,
)


def simulate_list(seed: int, n: int = 1000, prevalence: float = 0.3, items: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    arm = rng.permutation(np.repeat(["control", "treatment"], n // 2))
    control = rng.binomial(1, [0.2, 0.5, 0.7][:items], size=(n, items)).sum(axis=1)
    sensitive = rng.binomial(1, prevalence, n)
    count = control + np.where(arm == "treatment", sensitive, 0)
    # Direct answers overstate: everyone who holds the view says so, and a fifth of the rest too.
    direct = np.where((sensitive == 1) | (rng.random(n) < 0.2), "approve", "disapprove")
    return pd.DataFrame({"arm": arm, "count": count, "direct": direct, "region": rng.choice(["e", "w"], n)})


def test_list_estimator_covers_the_true_prevalence():
    # Coverage: the 95% interval contains the true prevalence in at least 93 of 100 seeds.
    hits = 0
    for seed in range(100):
        row = list_experiment(SurveyDesign(simulate_list(seed)), "count", "arm").iloc[0]
        hits += row["ci_low"] <= 0.3 <= row["ci_high"]
    assert hits >= 93


def test_list_estimate_is_the_difference_in_arm_means():
    data = simulate_list(1)
    row = list_experiment(SurveyDesign(data), "count", "arm").iloc[0]
    means = data.groupby("arm")["count"].mean()
    assert row["estimate"] == pytest.approx(means["treatment"] - means["control"])
    # Unweighted SRS, independent arms: the SE is the two-sample SE (with R's n/(n-1) on each arm's share of n).
    variances = data.groupby("arm")["count"].var(ddof=1)
    counts = data.groupby("arm").size()
    assert row["se"] == pytest.approx(np.sqrt((variances / counts).sum()), rel=0.01)
    by_region = list_experiment(SurveyDesign(data), "count", "arm", by="region")
    assert list(by_region["region"]) == ["e", "w"] and by_region["n"].sum() == len(data)


def test_design_effect_test_passes_a_clean_experiment_and_flags_a_broken_one():
    clean = list_experiment_design_test(
        SurveyDesign(simulate_list(2, n=4000)), "count", "arm", control_items=3
    )
    assert not clean["design_effect"]
    broken = simulate_list(3, n=4000)
    # The treatment list makes people drop a control item they would have counted: a design effect.
    treated = broken["arm"] == "treatment"
    broken.loc[treated, "count"] = (broken.loc[treated, "count"] - 1).clip(lower=0)
    result = list_experiment_design_test(SurveyDesign(broken), "count", "arm", control_items=3)
    assert result["design_effect"] and min(result["shares"].values()) < 0


def test_direct_question_overstates_and_the_difference_is_measured():
    data = simulate_list(4, n=4000)
    result = compare_list_with_direct(SurveyDesign(data), "count", "arm", "direct", ["approve"])
    assert result["direct"]["estimate"] == pytest.approx((data["direct"] == "approve").mean())
    assert result["difference"]["estimate"] == pytest.approx(
        result["list"]["estimate"] - result["direct"]["estimate"]
    )
    assert result["difference"]["ci_high"] < 0  # the list estimate is lower, as simulated (0.3 vs 0.44)


def test_randomized_response_recovers_prevalence():
    rng = np.random.default_rng(9)
    n, truth = 20000, 0.25
    holds = rng.random(n) < truth
    mode = rng.choice(["truth", "yes", "no"], n, p=[0.75, 0.15, 0.10])
    answer = np.where(mode == "truth", np.where(holds, "yes", "no"), mode)
    result = randomized_response(
        SurveyDesign(pd.DataFrame({"a": answer})), "a", yes="yes", p_truth=0.75, p_forced_yes=0.15
    )
    assert result["ci_low"] <= truth <= result["ci_high"]
    observed = (answer == "yes").mean()
    assert result["estimate"] == pytest.approx((observed - 0.15) / 0.75)


def test_list_experiment_and_its_comparison_work_on_replicate_designs():
    rng = np.random.default_rng(12)
    n = 600
    data = pd.DataFrame(
        {
            "arm": rng.choice(["control", "treatment"], n),
            "psu": rng.integers(0, 30, n),
            "direct": rng.choice(["yes", "no"], n, p=[0.6, 0.4]),
        }
    )
    data["count"] = rng.binomial(3, 0.4, n) + ((data["arm"] == "treatment") & (rng.random(n) < 0.3))
    taylor = SurveyDesign(data, clusters="psu")
    jackknife = as_replicate(taylor, "JK1")
    a = list_experiment(taylor, "count", "arm").iloc[0]
    b = list_experiment(jackknife, "count", "arm").iloc[0]
    assert b["estimate"] == pytest.approx(a["estimate"])
    assert b["se"] == pytest.approx(a["se"], rel=0.05)  # jackknife ~ linearisation for a smooth statistic
    both = compare_list_with_direct(jackknife, "count", "arm", "direct", ["yes"])
    assert both["difference"]["estimate"] == pytest.approx(
        both["list"]["estimate"] - both["direct"]["estimate"]
    )
    assert both["difference"]["se"] > 0
