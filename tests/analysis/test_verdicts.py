"""Verdicts that weigh what respondents say against what an indirect measure shows.

Frames are drawn from known truths: a direct item answered "yes" with one probability, a list
experiment (three control items) or a forced-response item whose sensitive share is another. The
randomised-response estimator is checked against the closed-form SRS formulas.
"""

import numpy as np
import pandas as pd
import pytest

from analysis import schema
from analysis.claims import parse_registry
from analysis.design import SurveyDesign
from analysis.sensitive import compare_randomized_with_direct, randomized_response
from analysis.verdicts import (
    CONTRADICTED,
    INCONCLUSIVE,
    NOT_MEASURED,
    SUPPORTED,
    combine,
    judge,
    measure_claim,
    release,
    release_tables,
    verdict_of,
)

REGISTRY = """
source = "A test"
[[claims]]
id = "welcome"
paraphrase = "Most welcome it."
citation = {{ article = "Test 2020" }}
comparability = "Same item."
[claims.statistic]
kind = "share"
label = "approve"
variable = "approve"
levels = ["yes"]
population = {{ sample = "china" }}
direction = ">"
threshold = 0.5
rule = "Supported if a majority approve."
[claims.indirect]
label = "approve, indirectly"
rule = "How they combine."
combine = "{combine}"
{indirect}
"""
LIST = 'kind = "list_experiment"\nvariable = "le"'
FORCED = 'kind = "randomized_response"\nvariable = "rr"\nyes = "yes"\np_truth = 0.75\np_forced_yes = 0.125'


def claim(combine_rule: str = "all", indirect: str = LIST):
    return parse_registry(REGISTRY.format(combine=combine_rule, indirect=indirect)).claims[0]


def frame(direct: float, hidden: float, n: int = 2000, seed: int = 0, sample: str = "china") -> pd.DataFrame:
    """``direct``: share answering yes when asked; ``hidden``: share truly holding the attitude."""
    rng = np.random.default_rng(seed)
    arm = np.where(np.arange(n) % 2 == 0, "control", "treatment")
    holds = rng.random(n) < hidden
    count = rng.binomial(3, 0.5, n) + ((arm == "treatment") & holds)
    forced = rng.random(n)
    rr = np.where(forced < 0.75, np.where(holds, "yes", "no"), np.where(forced < 0.875, "yes", "no"))
    return pd.DataFrame(
        {
            schema.SAMPLE: sample,
            "approve": np.where(rng.random(n) < direct, "yes", "no"),
            "le": count,
            "le__arm": arm,
            "rr": rr,
        }
    )


def judged(data: pd.DataFrame, **kw) -> dict:
    return judge(claim(**kw), SurveyDesign(data, strata=schema.SAMPLE))


@pytest.mark.parametrize(
    ("direction", "low", "high", "verdict"),
    [
        (">", 0.55, 0.65, SUPPORTED),
        (">", 0.35, 0.45, CONTRADICTED),
        (">", 0.45, 0.55, INCONCLUSIVE),
        ("<", 0.35, 0.45, SUPPORTED),
        ("<", 0.55, 0.65, CONTRADICTED),
        ("<", 0.45, 0.55, INCONCLUSIVE),
        (">", None, None, INCONCLUSIVE),
        (">", float("nan"), 0.6, INCONCLUSIVE),
    ],
)
def test_one_interval_against_the_threshold(direction, low, high, verdict):
    assert verdict_of(direction, 0.5, low, high) == verdict


@pytest.mark.parametrize(
    ("rule", "direct", "indirect", "differ", "verdict", "reasons"),
    [
        ("all", SUPPORTED, SUPPORTED, False, SUPPORTED, []),
        ("all", SUPPORTED, SUPPORTED, True, SUPPORTED, ["measures_differ"]),
        ("strict", SUPPORTED, SUPPORTED, True, INCONCLUSIVE, ["measures_differ"]),
        ("strict", SUPPORTED, SUPPORTED, False, SUPPORTED, []),
        ("all", SUPPORTED, INCONCLUSIVE, True, INCONCLUSIVE, ["measures_differ", "indirect_not_on_side"]),
        ("all", SUPPORTED, CONTRADICTED, True, INCONCLUSIVE, ["measures_differ", "indirect_not_on_side"]),
        ("all", CONTRADICTED, CONTRADICTED, False, CONTRADICTED, []),
        ("all", INCONCLUSIVE, SUPPORTED, False, INCONCLUSIVE, []),
        (
            "indirect",
            SUPPORTED,
            CONTRADICTED,
            True,
            CONTRADICTED,
            ["measures_differ", "indirect_not_on_side"],
        ),
        ("indirect", CONTRADICTED, SUPPORTED, True, SUPPORTED, ["measures_differ"]),
        ("indirect", SUPPORTED, None, False, None, ["indirect_unavailable"]),
        ("all", SUPPORTED, None, False, SUPPORTED, ["indirect_unavailable"]),
        ("all", None, CONTRADICTED, False, CONTRADICTED, ["direct_unavailable"]),
    ],
)
def test_how_the_measures_combine(rule, direct, indirect, differ, verdict, reasons):
    assert combine(rule, direct, indirect, differ) == (verdict, reasons)


def test_a_direct_majority_the_list_experiment_does_not_confirm_is_not_supported():
    """The issue's case: 96% say they approve; the list experiment gives about 43% (CI 27-60%)."""
    result = judged(frame(direct=0.96, hidden=0.43, n=600, seed=5))
    direct, indirect, gap = result["direct"], result["indirect"], result["difference"]
    assert direct["verdict"] == SUPPORTED and direct["ci_low"] > 0.9
    assert indirect["ci_low"] < 0.5 < indirect["ci_high"] and indirect["verdict"] == INCONCLUSIVE
    assert gap["significant"] and gap["ci_high"] < 0 and gap["p_value"] < 0.001
    assert result["verdict"] == INCONCLUSIVE and result["qualified"]
    assert result["reasons"] == ["measures_differ", "indirect_not_on_side"]


def test_measures_that_agree_support_the_claim_plainly():
    result = judged(frame(direct=0.8, hidden=0.8, n=4000, seed=1))
    assert result["verdict"] == SUPPORTED and not result["qualified"] and result["reasons"] == []
    assert not result["difference"]["significant"]


def test_both_on_the_claims_side_but_far_apart_depends_on_the_rule():
    data = frame(direct=0.97, hidden=0.72, n=6000, seed=2)
    loose, strict = judged(data, combine_rule="all"), judged(data, combine_rule="strict")
    assert loose["verdict"] == SUPPORTED and loose["qualified"] and loose["reasons"] == ["measures_differ"]
    assert (
        strict["verdict"] == INCONCLUSIVE
        and strict["direct"]["verdict"] == strict["indirect"]["verdict"] == SUPPORTED
    )


def test_the_indirect_measure_decides_when_the_registry_says_so():
    data = frame(direct=0.3, hidden=0.75, n=6000, seed=4)
    assert judged(data, combine_rule="indirect")["verdict"] == SUPPORTED
    assert judged(data, combine_rule="all")["verdict"] == INCONCLUSIVE
    assert judged(frame(direct=0.2, hidden=0.2, n=4000, seed=5))["verdict"] == CONTRADICTED


def test_forced_response_estimate_matches_the_closed_form_and_the_plain_estimator():
    data = frame(direct=0.9, hidden=0.4, n=3000, seed=6)
    data.loc[data.index % 2 == 0, "rr"] = None  # asked of one half only
    data.loc[data.index % 2 == 1, "approve"] = None  # the direct item of the other half
    design = SurveyDesign(data)
    found = compare_randomized_with_direct(
        design, "rr", "approve", ["yes"], yes="yes", p_truth=0.75, p_forced_yes=0.125
    )
    plain = randomized_response(design, "rr", yes="yes", p_truth=0.75, p_forced_yes=0.125)
    n, answered = len(data), data["rr"].notna().sum()
    observed = (data["rr"] == "yes").sum() / answered
    expected = (observed - 0.125) / 0.75
    # A domain mean on a simple random sample: V = n/(n-1) * p(1-p) / n_d (Lumley 2010, sec. 2.3).
    se = np.sqrt(n / (n - 1) * observed * (1 - observed) / answered) / 0.75
    assert found["randomized"]["estimate"] == pytest.approx(expected, rel=1e-12)
    assert found["randomized"]["se"] == pytest.approx(se, rel=1e-9)
    assert (found["randomized"]["estimate"], found["randomized"]["se"]) == pytest.approx(
        (plain["estimate"], plain["se"]), rel=1e-9
    )
    # Disjoint halves: no covariance, so the variances of the difference add up.
    spread = np.hypot(found["randomized"]["se"], found["direct"]["se"])
    assert found["difference"]["se"] == pytest.approx(spread, rel=1e-9)
    assert found["difference"]["estimate"] == pytest.approx(expected - found["direct"]["estimate"])


def test_a_randomised_response_claim_is_judged_beside_its_direct_question():
    result = judged(frame(direct=0.95, hidden=0.35, n=5000, seed=7), indirect=FORCED)
    assert result["indirect"]["kind"] == "randomized_response"
    assert result["indirect"]["estimate"] == pytest.approx(0.35, abs=0.05)
    assert result["indirect"]["verdict"] == CONTRADICTED and result["verdict"] == INCONCLUSIVE
    assert "measures_differ" in result["reasons"]


def test_too_few_respondents_in_an_arm_withhold_the_indirect_figure_and_its_difference():
    data = frame(direct=0.9, hidden=0.4, n=600, seed=8)
    data.loc[(data["le__arm"] == "treatment") & (data.index > 16), "le"] = None  # 8 treated answered
    result = judged(data)
    assert result["indirect"]["suppressed"] and result["indirect"]["estimate"] is None
    assert result["difference"]["suppressed"] and result["difference"]["estimate"] is None
    assert result["verdict"] == SUPPORTED and result["reasons"] == ["indirect_unavailable"]
    assert judged(data, combine_rule="indirect")["verdict"] == INCONCLUSIVE


def test_a_claim_the_data_cannot_measure():
    result = judged(frame(0.5, 0.5).drop(columns=["approve", "le"]))
    assert result["verdict"] == NOT_MEASURED and result["direct"]["verdict"] == NOT_MEASURED
    assert result["indirect"]["measured"] is False


def test_every_figure_is_offered_to_disclosure_control_as_count_tables():
    data = frame(0.7, 0.6, n=400, seed=9)
    found = measure_claim(claim(), SurveyDesign(data, strata=schema.SAMPLE))
    tables = release_tables([found])
    assert set(tables) == {"welcome/direct", "welcome/indirect"}
    direct = tables["welcome/direct"]
    assert {"variable", "group_variable", "group", "level", "count", "n", "cell", "base"} <= set(
        direct.columns
    )
    assert direct.set_index("level")["count"].sum() == direct["n"].iloc[0] == 400
    arms = tables["welcome/indirect"]
    assert arms["level"].isna().all() and sorted(arms["count"]) == [200, 200]
    assert release([found], k=10)[0]["direct"]["suppressed"] is False


def test_a_small_subgroup_is_withheld_with_a_partner_so_it_cannot_be_subtracted():
    from analysis.claims import load_registry
    from analysis.codebook import Codebook, Variable
    from analysis.report import build_report

    data = frame(0.7, 0.6, n=400, seed=10)
    data["age_band"] = np.where(
        np.arange(400) < 6, "18_29", np.where(np.arange(400) < 200, "30_39", "60_plus")
    )
    labels = {"18_29": {"en": "18–29"}, "30_39": {"en": "30–39"}, "60_plus": {"en": "60 or older"}}
    variables = [
        Variable("age_band", "categorical", "age_band", value_labels=labels),
        Variable("approve_scs", "ordinal", "approve_scs"),
    ]
    data["approve_scs"] = np.where(data["approve"] == "yes", "somewhat_approve", "neutral")
    report = build_report(data, Codebook("s", "S", ["en"], variables), registry=load_registry(), k=10)
    welcome = next(c for c in report["claims"] if c["id"] == "welcome-scs")
    rows = {row["group"]: row for row in welcome["subgroups"]["age_band"]["rows"]}
    assert rows["18_29"]["suppressed"] and rows["18_29"]["estimate"] is None
    assert sum(row["suppressed"] for row in rows.values()) >= 2  # overall minus the rest would reveal it
    assert welcome["direct"]["suppressed"] is False


def test_a_withheld_share_is_withheld_wherever_the_same_respondents_appear():
    """The mainland share of a claim is the mainland row of the panel by sample: hidden in both."""
    from analysis.claims import load_registry
    from analysis.codebook import Codebook, Variable
    from analysis.report import build_report

    data = pd.concat([frame(0.9, 0.5, n=6, seed=11), frame(0.3, 0.2, n=300, seed=12, sample="west")])
    data["approve_scs"] = np.where(data["approve"] == "yes", "somewhat_approve", "neutral")
    variables = [Variable("approve_scs", "ordinal", "approve_scs")]
    report = build_report(
        data.reset_index(drop=True), Codebook("s", "S", ["en"], variables), registry=load_registry()
    )
    welcome = next(c for c in report["claims"] if c["id"] == "welcome-scs")
    assert welcome["direct"]["suppressed"] and welcome["verdict"] == "inconclusive"
    by_sample = {row["group"]: row for row in welcome["samples"]}
    assert by_sample["china"]["suppressed"] and by_sample["china"]["estimate"] is None
    west_vs_china = next(c for c in report["claims"] if c["id"] == "west-vs-china")
    assert west_vs_china["direct"]["suppressed"] and west_vs_china["verdict"] == "inconclusive"


def test_a_supplementary_difference_between_samples_passes_disclosure_control():
    """A difference shown beside a claim is withheld when one sample's share rests on too few
    respondents, as the claim's own difference is (it would reveal that sample's share)."""
    from analysis.claims import load_registry
    from analysis.codebook import Codebook, Variable
    from analysis.report import build_report

    data = pd.concat([frame(0.9, 0.5, n=300, seed=13), frame(0.3, 0.2, n=300, seed=14, sample="west")])
    data = data.reset_index(drop=True)
    data["show_dating"] = np.where(data["approve"] == "yes", "somewhat_approve", "neutral")
    west = np.flatnonzero(data[schema.SAMPLE] == "west")
    data.loc[west[6:], "show_dating"] = None  # 6 Western respondents answered
    variables = [Variable("show_dating", "ordinal", "show_dating")]
    report = build_report(data, Codebook("s", "S", ["en"], variables), registry=load_registry(), k=10)
    shown = next(c for c in report["claims"] if c["id"] == "scores-shown")
    assert shown["direct"]["suppressed"] is False
    gap = next(s for s in shown["supplementary"] if s["kind"] == "difference")
    assert gap["suppressed"] and gap["estimate"] is None
    assert all(entry["estimate"] is None for entry in gap["samples"])


def test_published_figures_are_rounded_but_verdicts_use_the_exact_ones():
    result = judge(
        claim(), SurveyDesign(frame(0.7, 0.6, n=803, seed=13), strata=schema.SAMPLE), rounding=True
    )
    assert result["direct"]["n"] == 805 and result["direct"]["estimate"] == round(
        result["direct"]["estimate"], 3
    )
    assert result["indirect"]["n_treatment"] % 5 == 0


def test_a_figure_hidden_to_protect_another_says_so_not_that_it_is_small():
    """Three rural respondents are too few; the urban share is hidden only because the overall
    share minus it would give the rural one. The report said "fewer than 10 respondents" of both."""
    from analysis.report import _panel
    from analysis.report_text import ReportText

    data = frame(0.6, 0.6, n=200)
    data["urban"] = np.where(np.arange(200) < 3, "rural", "urban")
    design = SurveyDesign(data, strata=schema.SAMPLE)
    statistic = claim().statistic
    found = measure_claim(claim(), design)
    found["subgroups"] = {"urban": {"title": {}, "rows": _panel(design, statistic, "urban", {})}}
    rows = {row["group"]: row for row in release([found], k=10)[0]["subgroups"]["urban"]["rows"]}
    assert rows["rural"]["suppression"] == "primary" and rows["urban"]["suppression"] == "complementary"
    text = ReportText()
    assert text.withheld_for(rows["rural"], 10) == "withheld (fewer than 10 respondents)"
    assert "fewer than" not in text.withheld_for(rows["urban"], 10)
    assert "another withheld figure" in text.withheld_for(rows["urban"], 10)
