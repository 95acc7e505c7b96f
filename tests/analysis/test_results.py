"""Results for every question: each summary checked against a direct computation, labels in the
chosen language, and the whole release attacked for recoverable hidden cells."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pandas as pd
import pytest

from analysis import SurveyDesign, cronbach_alpha, schema
from analysis.codebook import codebook_from_specs
from analysis.crosstab import crosstab
from analysis.results import _has_variance, build_results, parameters_by_question, plan, results_tables
from analysis.suppression import disclose

from .attack import attack

DEFAULTS: dict[str, Any] = {
    "hint": {},
    "required": False,
    "relevance": "",
    "constraint": "",
    "constraint_message": {},
    "appearance": "",
    "parameters": {},
    "choice_list": None,
    "randomize": False,
    "reverse_scale": False,
    "source": "",
    "items": [],
}


def question(code: str, kind: str, en: str, zh: str, **extra: Any) -> dict[str, Any]:
    return {**DEFAULTS, "code": code, "type": kind, "label": {"en": en, "zh": zh}, **extra}


def choices(name: str, *codes: tuple[str, str, str]) -> dict[str, Any]:
    return {"name": name, "choices": [{"code": c, "label": {"en": en, "zh": zh}} for c, en, zh in codes]}


SPEC = {
    "sections": [
        {
            "code": "p1",
            "randomize": False,
            "questions": [
                question(
                    "colour", "single_choice", "Favourite colour", "最喜欢的颜色", choice_list="colours"
                ),
                question(
                    "trust",
                    "matrix",
                    "How much do you trust",
                    "你有多信任",
                    choice_list="agree",
                    items=[
                        question("t_a", "likert", "neighbours", "邻居"),
                        question("t_b", "likert", "strangers", "陌生人"),
                        question("t_c", "likert", "sellers", "卖家"),
                    ],
                ),
                question("media", "multiple_choice", "Media you use", "你使用的媒体", choice_list="media"),
                question("rank", "ranking", "Rank these", "排序", choice_list="media"),
                question("age", "integer", "Age", "年龄"),
                question(
                    "le",
                    "list_experiment",
                    "How many",
                    "多少",
                    parameters={"direct": "approve", "direct_levels": "yes"},
                    items=[
                        question("c1", "note", "one", "一", parameters={"role": "control"}),
                        question("c2", "note", "two", "二", parameters={"role": "control"}),
                        question("s", "note", "sensitive", "敏感", parameters={"role": "sensitive"}),
                    ],
                ),
                question(
                    "approve",
                    "single_choice",
                    "Do you approve",
                    "你赞成吗",
                    choice_list="yn",
                    parameters={"randomized_response": "forced", "p_truth": "0.75", "p_forced_yes": "0.125"},
                ),
                question("place", "single_choice", "Where", "哪里", choice_list="place"),
                question("note", "long_text", "Anything else", "其他"),
            ],
        }
    ],
    "choice_lists": [
        choices("colours", ("red", "Red", "红"), ("blue", "Blue", "蓝"), ("green", "Green", "绿")),
        choices("agree", ("a1", "Agree", "同意"), ("a2", "Neutral", "中立"), ("a3", "Disagree", "不同意")),
        choices("media", ("tv", "TV", "电视"), ("web", "Web", "网络"), ("paper", "Paper", "报纸")),
        choices("yn", ("yes", "Yes", "是"), ("no", "No", "否")),
        choices("place", ("city", "City", "城市"), ("village", "Village", "农村")),
    ],
}


def codebook():
    return codebook_from_specs(study="s", title="S", languages=["en", "zh"], specs=[(1, SPEC)])


def frame(n: int = 400, *, seed: int = 3, villagers: int | None = None) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    trait = rng.integers(0, 3, n)
    data = {
        schema.SAMPLE: rng.choice(["east", "west"], n),
        "colour": rng.choice(["red", "blue", "green"], n, p=[0.5, 0.3, 0.2]),
        **{
            f"t_{x}": np.array(["a1", "a2", "a3"])[np.clip(trait + rng.integers(-1, 2, n), 0, 2)]
            for x in "abc"
        },
        **{f"media__{m}": rng.integers(0, 2, n) for m in ("tv", "web", "paper")},
        "age": rng.integers(18, 80, n).astype(float),
        "le": rng.integers(0, 3, n).astype(float),
        "le__arm": rng.choice(["control", "treatment"], n),
        "approve": rng.choice(["yes", "no"], n),
        "place": rng.choice(["city", "village"], n, p=[0.7, 0.3]),
        "note": np.where(rng.random(n) < 0.2, "hello", None),
    }
    orders = np.array([rng.permutation(["tv", "web", "paper"]) for _ in range(n)])
    for r in range(3):
        data[f"rank__rank{r + 1}"] = orders[:, r]
    out = pd.DataFrame(data)
    out["colour"] = out["colour"].where(rng.random(n) > 0.1)  # some did not answer
    if villagers is not None:
        village = np.flatnonzero(out["place"] == "village")
        out.loc[village[villagers:], "place"] = "city"
    return out


def parameters():
    return parameters_by_question([(1, SPEC)])


def test_each_kind_of_question_gets_its_summary():
    kinds = {item.question: item.kind for item in plan(codebook(), parameters())}
    assert kinds == {
        "colour": "distribution",
        "trust": "battery",
        "media": "multiple",
        "rank": "ranking",
        "age": "number",
        "le": "list_experiment",
        "approve": "randomized_response",
        "place": "distribution",
        "note": "text",
    }


def test_figures_match_a_direct_computation():
    data = frame()
    results = build_results(SurveyDesign(data), codebook(), by=(), parameters=parameters())
    overall = results.table[results.table["group_variable"] == ""]

    shares = overall[(overall["variable"] == "colour")].set_index("level")["estimate"]
    expected = data["colour"].value_counts(normalize=True)
    for level in ("red", "blue", "green"):
        assert shares[level] == pytest.approx(round(expected[level], 3), abs=1e-9)
    colour_n = overall[overall["variable"] == "colour"]["n"].iat[0]
    assert colour_n == 5 * round(data["colour"].notna().sum() / 5)

    mean_age = overall[(overall["variable"] == "age") & (overall["statistic"] == "mean")]["estimate"].iat[0]
    assert mean_age == pytest.approx(round(data["age"].mean(), 2))
    median = overall[(overall["variable"] == "age") & (overall["statistic"] == "median")]["estimate"].iat[0]
    assert abs(median - data["age"].median()) <= 1

    web = overall[(overall["variable"] == "media__web") & (overall["level"] == "1")]["estimate"].iat[0]
    assert web == pytest.approx(round(data["media__web"].mean(), 3))

    mean_rank = overall[(overall["statistic"] == "mean_rank")].set_index("level")["estimate"]
    positions = {
        c: (data[[f"rank__rank{r}" for r in (1, 2, 3)]] == c).to_numpy().argmax(axis=1) + 1
        for c in ("tv", "web", "paper")
    }
    for choice, position in positions.items():
        assert mean_rank[choice] == pytest.approx(round(position.mean(), 2))
    first = overall[overall["statistic"] == "ranked_first"].set_index("level")["estimate"]
    assert first["tv"] == pytest.approx(round((data["rank__rank1"] == "tv").mean(), 3))

    alpha = overall[overall["statistic"] == "alpha"]["estimate"].iat[0]
    scores = data[["t_a", "t_b", "t_c"]].replace({"a1": 1.0, "a2": 2.0, "a3": 3.0})
    assert alpha == pytest.approx(round(cronbach_alpha(SurveyDesign(scores), ["t_a", "t_b", "t_c"]), 2))

    le = overall[overall["statistic"] == "list_experiment"]["estimate"].iat[0]
    means = data.groupby("le__arm")["le"].mean()
    assert le == pytest.approx(round(means["treatment"] - means["control"], 3))
    direct = overall[(overall["statistic"] == "direct") & (overall["level"] == "in")]["estimate"].iat[0]
    assert direct == pytest.approx(round((data["approve"] == "yes").mean(), 3))
    # The direct question's share is the list experiment's (shown with it), not the direct question's.
    assert set(results.rows("le", "direct")["variable"]) == {"approve"}
    gap = overall[overall["statistic"] == "difference"]["estimate"].iat[0]
    assert gap == pytest.approx(
        round(means["treatment"] - means["control"] - (data["approve"] == "yes").mean(), 3), abs=1e-3
    )

    forced = overall[overall["statistic"] == "randomized_response"]["estimate"].iat[0]
    assert forced == pytest.approx(round(((data["approve"] == "yes").mean() - 0.125) / 0.75, 3))
    answers = overall[overall["statistic"] == "answers"]["n"].iat[0]
    assert answers == 5 * round(data["note"].notna().sum() / 5)


def test_labels_are_in_the_chosen_language_never_codes():
    results = build_results(
        SurveyDesign(frame()), codebook(), by=("place",), language="zh", parameters=parameters()
    )
    colour = results.table[results.table["variable"] == "colour"]
    assert set(colour["level_label"]) == {"红", "蓝", "绿"}
    assert set(colour["group_label"]) == {"", "城市", "农村"}
    assert colour["label"].iat[0] == "最喜欢的颜色"
    trust = next(item for item in results.items if item.question == "trust")
    assert trust.label == "你有多信任"
    assert any(test["by"] == "place" for test in trust.tests)


def test_weighted_results_carry_the_design_effect():
    data = frame()
    data["w"] = np.where(data["place"] == "village", 3.0, 1.0)
    results = build_results(SurveyDesign(data, weights="w"), codebook(), by=())
    colour = results.table[(results.table["variable"] == "colour") & (results.table["level"] == "red")]
    answered = data["colour"].notna()
    weighted = (data["w"] * (data["colour"] == "red")).sum() / data.loc[answered, "w"].sum()
    assert colour["estimate"].iat[0] == pytest.approx(round(weighted, 3))
    assert colour["deff"].iat[0] > 1


def test_a_small_group_is_hidden_and_cannot_be_worked_out():
    data = frame(villagers=6)
    design = SurveyDesign(data)
    _, _, tables = results_tables(design, codebook(), by=("place", schema.SAMPLE), parameters=parameters())
    release = disclose(tables, k=10)
    village = pd.concat(release.tables.values())
    village = village[village["group"] == "village"]
    assert village["suppressed"].all() and village["estimate"].isna().all()
    assert attack(release.tables, tables, k=10) == []


def test_a_test_of_a_table_with_hidden_cells_is_withheld():
    """A Rao–Scott statistic is a function of every cell of its cross-tab, so it is released only
    beside all of them: by a place whose village group (6 people, k 10) is hidden, no test is; with
    120 villagers (every cell shown) each is."""

    def tests(villagers: int) -> list[dict[str, Any]]:
        results = build_results(
            SurveyDesign(frame(villagers=villagers)), codebook(), by=("place",), parameters=parameters()
        )
        return [test for item in results.items for test in item.tests]

    hidden = tests(6)
    assert {test["variable"] for test in hidden} == {"colour", "t_a", "t_b", "t_c", "approve"}
    assert all(test == {"variable": test["variable"], "by": "place", "withheld": True} for test in hidden)
    shown = tests(120)
    assert {test["variable"] for test in shown} == {"colour", "t_a", "t_b", "t_c", "approve"}
    assert all(not test.get("withheld") and np.isfinite(test["p_value"]) for test in shown)


def test_an_unknown_breakdown_is_refused():
    with pytest.raises(ValueError, match="not a variable of this study"):
        build_results(SurveyDesign(frame()), codebook(), by=("shoe_size",))


def test_categorised_answers_give_the_same_results_and_flags():
    """``categorised`` only changes how answers are held (factorised once, for speed): every table,
    test and flag is the same as from text columns, with a breakdown, weights and a missing level."""
    from analysis.quality import quality_flags
    from analysis.results import categorised

    data = frame(300).assign(w=lambda d: np.where(d["place"] == "city", 1.0, 2.5))
    data["rank__rank3"] = data["rank__rank3"].where(np.arange(len(data)) % 7 > 0)
    fast = categorised(data, codebook())
    assert isinstance(fast["colour"].dtype, pd.CategoricalDtype) and fast["age"].dtype == data["age"].dtype
    assert not isinstance(data["colour"].dtype, pd.CategoricalDtype)  # the input is left alone
    built = [
        build_results(
            SurveyDesign(d, weights="w"), codebook(), by=(schema.SAMPLE, "place"), parameters=parameters()
        )
        for d in (data, fast)
    ]
    pd.testing.assert_frame_equal(built[0].table, built[1].table)
    assert [i.tests for i in built[0].items] == [i.tests for i in built[1].items]
    flags = [quality_flags(d, codebook(), parameters={"approve": {"correct": "no"}}) for d in (data, fast)]
    pd.testing.assert_frame_equal(*flags)


def test_a_cross_tab_of_one_row_or_one_column_has_no_test():
    """A question only one sample answered, broken down by sample, is a table of one column; one
    every respondent answered alike is a table of one row. Neither has a test of independence (R's
    svychisq has none): "not applicable" with the reason, never "F = 0.00 ... p = 1.0000"."""
    data = frame()
    data["colour"] = data["colour"].where(data[schema.SAMPLE] == "east")  # west never asked
    data["approve"] = "yes"
    results = build_results(SurveyDesign(data), codebook(), by=(schema.SAMPLE,), parameters=parameters())
    tests = {test["variable"]: test for item in results.items for test in item.tests}
    assert tests["colour"] == {"variable": "colour", "by": schema.SAMPLE, "not_applicable": "one_column"}
    assert tests["approve"] == {"variable": "approve", "by": schema.SAMPLE, "not_applicable": "one_row"}
    assert np.isfinite(tests["t_a"]["p_value"]) and "not_applicable" not in tests["t_a"]


def test_a_figure_without_a_value_says_why():
    """An empty figure is never an unexplained blank marked shown: a median no width lets k answers
    share is suppressed (note "value"); an alpha of items everyone answered alike is not estimable
    (note "not_estimable", not suppressed); a figure with a value has no note."""
    data = frame()
    data["age"] = np.arange(len(data)) * 9000.0  # no two answers within 10,000 of each other's bin
    data[["t_a", "t_b", "t_c"]] = "a1"
    results = build_results(SurveyDesign(data), codebook(), by=(), parameters=parameters())
    median = results.rows("age", "median").iloc[0]
    assert bool(median["suppressed"]) and pd.isna(median["estimate"]) and median["note"] == "value"
    alpha = results.rows("trust", "alpha").iloc[0]
    assert not alpha["suppressed"] and pd.isna(alpha["estimate"]) and alpha["note"] == "not_estimable"
    assert results.rows("age", "mean").iloc[0]["note"] == ""


def test_an_indirect_figure_does_not_give_back_a_hidden_share():
    """A list experiment's difference is its estimate minus the direct question's share, and a
    randomised-response estimate is (share answering yes − p_forced_yes) / p_truth: beside what is
    shown, each gives a hidden share back (4 of 300 approve, under k). Each is shown only where the
    figures it is computed from are (as a test over hidden cells is withheld)."""
    data = frame(300)
    data["approve"] = np.where(np.arange(300) < 4, "yes", "no")
    results = build_results(SurveyDesign(data), codebook(), by=("place",), parameters=parameters())
    direct = results.rows("le", "direct")
    overall = direct[direct["group_variable"] == ""]
    assert overall["suppressed"].all()  # 4 approve: under k
    listed = results.rows("le", "list_experiment")
    assert not listed[listed["group_variable"] == ""]["suppressed"].any()
    gap = results.rows("le", "difference")
    # Shown, list − difference would be 4 / 300.
    assert gap["suppressed"].all() and gap["estimate"].isna().all() and set(gap["note"]) == {"complementary"}
    shares = results.rows("approve", "share")
    forced = results.rows("approve", "randomized_response")
    assert not forced.empty
    for (b, g), rows in forced.groupby(["group_variable", "group"]):
        cells = shares[(shares["group_variable"] == b) & (shares["group"] == g)]
        hidden = cells["suppressed"].any()
        assert rows["suppressed"].all() == hidden and rows["estimate"].isna().all() == hidden
    assert forced["suppressed"].any() and not forced["suppressed"].all()  # the village's 0 "yes" is shown


def forced_spec() -> dict[str, Any]:
    """SPEC with a randomised-response item ``rr`` that declares its direct question ``paid``."""
    declared = {"randomized_response": "forced", "p_truth": "0.75", "p_forced_yes": "0.125"}
    declared |= {"direct": "paid", "direct_levels": "yes"}
    extra = [
        question("paid", "single_choice", "Have you paid extra", "你多付过钱吗", choice_list="yn"),
        question("rr", "single_choice", "Toss a coin: paid extra?", "掷硬币：多付过钱吗", choice_list="yn")
        | {"parameters": declared},
    ]
    section = {**SPEC["sections"][0], "questions": [*SPEC["sections"][0]["questions"], *extra]}
    return {**SPEC, "sections": [section]}


def forced_results(data: pd.DataFrame, **options: Any):
    spec = forced_spec()
    book = codebook_from_specs(study="s", title="S", languages=["en", "zh"], specs=[(1, spec)])
    return build_results(SurveyDesign(data), book, parameters=parameters_by_question([(1, spec)]), **options)


def test_a_randomised_response_item_sits_beside_its_direct_question_with_their_difference():
    """Issue 16 review: ``rr_extra`` declared ``direct=paid_extra direct_levels=yes`` but had no
    difference row, and its direct share was listed under the direct question. Its rows now hold
    the direct share and the difference (overall), whose estimate and SE are those of one joint
    linearisation of the two estimates on the same respondents."""
    from analysis.sensitive import compare_randomized_with_direct

    data = frame(400)
    rng = np.random.default_rng(11)
    data["paid"] = rng.choice(["yes", "no"], 400, p=[0.3, 0.7])
    data["rr"] = np.where(rng.random(400) < 0.5, data["paid"], rng.choice(["yes", "no"], 400))
    results = forced_results(data, by=("place",))
    direct = results.rows("rr", "direct")
    assert set(direct["variable"]) == {"paid"} and not direct["suppressed"].any()
    gap = results.rows("rr", "difference")
    assert list(gap["group_variable"]) == [""] and not gap["suppressed"].any()
    expected = compare_randomized_with_direct(
        SurveyDesign(data), "rr", "paid", ["yes"], yes="yes", p_truth=0.75, p_forced_yes=0.125
    )
    row = gap.iloc[0]
    assert row["estimate"] == pytest.approx(expected["difference"]["estimate"], abs=1e-3)
    assert row["se"] == pytest.approx(expected["difference"]["se"], abs=1e-3)
    assert row["ci_low"] < row["estimate"] < row["ci_high"]
    # Not the independent-samples SE: the two estimates share respondents.
    apart = np.hypot(expected["randomized"]["se"], expected["direct"]["se"])
    assert expected["difference"]["se"] != pytest.approx(apart, rel=1e-3)
    assert row["n"] == 5 * round(len(data) / 5)


@pytest.mark.parametrize("hidden", ["paid", "rr"])
def test_a_randomised_response_difference_does_not_give_back_a_hidden_share(hidden):
    """The difference is the randomised-response estimate (from the share answering yes) minus the
    direct share: beside them, it would give either back where one is hidden (4 of 300, under k)."""
    data = frame(300)
    rng = np.random.default_rng(5)
    data["paid"] = rng.choice(["yes", "no"], 300)
    data["rr"] = rng.choice(["yes", "no"], 300)
    data[hidden] = np.where(np.arange(300) < 4, "yes", "no")
    results = forced_results(data, by=())
    own = results.rows("rr", "direct" if hidden == "paid" else "share")
    assert own["suppressed"].any()
    gap = results.rows("rr", "difference")
    assert gap["suppressed"].all() and gap["estimate"].isna().all() and set(gap["note"]) == {"complementary"}
    data[hidden] = rng.choice(["yes", "no"], 300)  # nothing under k: shown
    assert not forced_results(data, by=()).rows("rr", "difference")["suppressed"].any()


def test_a_cross_tab_the_breakdown_determines_has_no_test_and_no_design_effect():
    """Each sample (a stratum) answering one way: the design fixes every cell's share, so the
    Rao–Scott design effect is nought (floating point left 1e-17 on the shipped study: "F = 7e19
    ... p = 1e-186"; here, without strata, empty cells made it 2.5e-5: F = 1.6e7). The test is not
    applicable (the breakdown determines the answer), and the overall share, which has no variance
    under the strata (66.0 % (66.0 – 66.0)), has no design effect rather than "deff 0.00"."""
    data = frame()
    data["approve"] = np.where(data[schema.SAMPLE] == "east", "yes", "no")
    design = SurveyDesign(data, strata=schema.SAMPLE)
    for built in (SurveyDesign(data), design):
        results = build_results(built, codebook(), by=(schema.SAMPLE,), parameters=parameters())
        tests = {test["variable"]: test for item in results.items for test in item.tests}
        assert tests["approve"] == {
            "variable": "approve",
            "by": schema.SAMPLE,
            "not_applicable": "determined",
        }
        assert np.isfinite(tests["t_a"]["p_value"]) and "not_applicable" not in tests["t_a"]
    assert not _has_variance(crosstab(design, "approve", schema.SAMPLE))
    assert _has_variance(crosstab(design, "t_a", schema.SAMPLE))
    table = results.table
    share = table[(table["variable"] == "approve") & (table["level"] == "yes")]
    overall = share[share["group_variable"] == ""]
    assert len(overall) == 1 and overall["se"].iat[0] == 0 and np.isnan(overall["deff"].iat[0])
    spread = table[(table["statistic"] == "share") & (table["se"] > 0.01)]
    assert len(spread) and spread["deff"].notna().all()  # an estimate with variance keeps its deff


def test_a_rounded_median_says_its_width_and_stays_inside_the_questions_range():
    """A median of ages 18 to 79 at k = 150: no bin narrower than 50 holds 150 answers, so it is
    released as 50, its interval widened to (0 – 100), past the constraint's 18 to 80. The
    interval is cut to what the question allows, the width is released (``rounded_to``), and the
    tidy CSV's note says how the median was rounded."""
    from analysis.aggregates import tidy_rows
    from analysis.results import answer_bounds

    spec = copy.deepcopy(SPEC)
    age = next(q for q in spec["sections"][0]["questions"] if q["code"] == "age")
    age["constraint"] = ". >= 18 and . <= 80"
    book = codebook_from_specs(study="s", title="S", languages=["en", "zh"], specs=[(1, spec)])
    built = build_results(
        SurveyDesign(frame()), book, by=(), k=150, parameters=parameters_by_question([(1, spec)])
    )
    median = built.table[built.table["statistic"] == "median"].iloc[0]
    assert not median["suppressed"] and median["rounded_to"] == 50.0 and median["estimate"] == 50.0
    assert (median["ci_low"], median["ci_high"]) == (18.0, 80.0)
    mean = built.table[built.table["statistic"] == "mean"].iloc[0]
    assert np.isnan(mean["rounded_to"])
    payload = {"table": [median.to_dict()], "items": [], "k": 150}
    (row,) = tidy_rows(payload)
    assert row["rounded_to"] == 50.0 and "rounded to the nearest 50" in row["note"]
    assert "the answers of 150 respondents" in row["note"]
    # what a questionnaire states: a range's ends, the terms of a constraint joined by "and"
    assert answer_bounds({"type": "range", "parameters": {"start": "10", "end": "0"}}) == (0.0, 10.0)
    assert answer_bounds({"type": "integer", "constraint": "80 >= . and . > 3"}) == (3.0, 80.0)
    assert answer_bounds({"type": "integer", "constraint": ". < 0 or . > 10"}) == (None, None)


def test_a_small_figure_shown_before_says_so():
    """A figure of 1 to k - 1 respondents is shown only when a release made before gave it (the
    village's 12 people at k 10, then k 15); its note says so, so that a page or download that
    states "fewer than 15 are suppressed" is not contradicted by a figure without a word. Released
    fresh at k 15, the same figures are hidden (note "primary")."""
    from analysis.results import released_results

    data = frame(villagers=12)
    context, items, tables = results_tables(
        SurveyDesign(data), codebook(), by=("place",), parameters=parameters()
    )
    first = disclose(tables, k=10)
    again = released_results(context, items, list(tables), disclose(tables, k=15, fixed=first.tables))
    fresh = released_results(context, items, list(tables), disclose(tables, k=15))
    village = again.table["group"] == "village"
    shown = again.table[village & ~again.table["suppressed"].astype(bool)]
    assert len(shown) > 0 and set(shown["note"]) == {"shown_before"}
    assert set(fresh.table.loc[fresh.table["group"] == "village", "note"]) <= {"primary", "complementary"}
