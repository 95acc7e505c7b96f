"""Data-quality flags: each rule on a frame where the answer is known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import schema
from analysis.quality import (
    FLAGS,
    QualityRules,
    exclude_flagged,
    fraction_parsed,
    fraction_text,
    item_nonresponse,
    quality_flags,
    with_flag_columns,
)

from .test_results import codebook, frame, parameters


def flagged(data: pd.DataFrame, **params) -> pd.DataFrame:
    return quality_flags(data, codebook(), parameters={**parameters(), **params})


def test_speeding_is_relative_to_the_median_of_the_sample():
    data = frame(60).assign(**{schema.DURATION: 600.0})
    data.loc[0, schema.DURATION] = 150  # under a third of 600
    data.loc[1, schema.DURATION] = 210  # above it
    flags = flagged(data)
    assert flags["speeding"].tolist()[:2] == [True, False] and flags["speeding"].sum() == 1
    lenient = quality_flags(data, codebook(), rules=QualityRules(speeding=0.4))
    assert lenient["speeding"].sum() == 2


def test_straight_lining_needs_every_item_of_the_battery_alike():
    data = frame(60)
    data.loc[:, ["t_a", "t_b", "t_c"]] = [["a1", "a2", "a3"]] * len(data)
    data.loc[3, ["t_a", "t_b", "t_c"]] = ["a2", "a2", "a2"]
    data.loc[4, ["t_a", "t_b", "t_c"]] = ["a2", "a2", None]  # incomplete: not judged
    assert flagged(data)["straightlining"].tolist()[2:5] == [False, True, False]


def test_attention_checks_are_declared_in_the_questionnaire():
    data = frame(40)
    flags = flagged(data, approve={"correct": "no"})
    assert flags["attention_failed"].tolist() == (data["approve"] != "no").tolist()
    assert not flagged(data)["attention_failed"].any()  # nothing declared: nothing flagged


def test_near_duplicates_match_on_most_answers():
    data = frame(300, seed=11)
    data.loc[7] = data.loc[3]
    data.loc[7, "approve"] = "no" if data.loc[3, "approve"] == "yes" else "yes"  # one answer differs
    flags = quality_flags(data, codebook(), rules=QualityRules(threshold=0.9))  # 14 answers, one differs
    assert flags.loc[[3, 7], "near_duplicate"].all()
    assert flags["near_duplicate"].sum() <= 4  # random answers rarely match so closely


def test_rules_out_of_range_are_refused():
    with pytest.raises(ValueError, match="between 0 and 1"):
        quality_flags(frame(10), codebook(), rules=QualityRules(speeding=1.5))
    with pytest.raises(ValueError, match="above 50%"):
        quality_flags(frame(10), codebook(), rules=QualityRules(threshold=0.3))


def test_item_nonresponse_counts_unanswered_questions():
    data = frame(100)
    table = item_nonresponse(data, codebook()).set_index("variable")
    assert table.loc["colour", "missing"] == data["colour"].isna().sum()
    assert table.loc["note", "share"] == pytest.approx(data["note"].isna().mean())
    assert np.isclose(table.loc["age", "share"], 0.0)


def test_flag_columns_for_exports_match_the_flags_and_are_described():
    data = frame(60).assign(**{schema.DURATION: 600.0})
    data.loc[0, schema.DURATION] = 150
    before = data.copy()
    book = codebook()
    exported, described = with_flag_columns(data, book, parameters={"approve": {"correct": "no"}})
    flags = quality_flags(data, book, parameters={"approve": {"correct": "no"}})
    pd.testing.assert_frame_equal(data, before)  # the input is left alone
    assert book.names == codebook().names
    for flag in (*FLAGS, "flagged"):
        column = schema.quality_column(flag)
        assert exported[column].dtype == np.int8
        assert exported[column].tolist() == flags[flag].astype(int).tolist()
        variable = described.variable(column)
        assert variable.kind == "flag" and set(variable.value_labels) == {"0", "1"}
    assert exported.loc[0, "quality_speeding"] == 1 and exported["quality_speeding"].sum() == 1
    assert described.names == [*book.names, *(schema.quality_column(f) for f in (*FLAGS, "flagged"))]


@pytest.mark.parametrize(
    ("text", "value"), [("1/3", 1 / 3), (" 1 / 4 ", 0.25), ("0.25", 0.25), (".5", 0.5), ("2/3", 2 / 3)]
)
def test_a_speeding_fraction_is_read_as_a_fraction_or_a_decimal(text, value):
    assert fraction_parsed(text) == value


@pytest.mark.parametrize("text", ["0", "1", "1.5", "4/3", "-0.2", "abc", "1/0", "nan", "inf", ""])
def test_a_speeding_fraction_outside_0_and_1_or_not_a_number_is_refused(text):
    with pytest.raises(ValueError):
        fraction_parsed(text)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1 / 3, "1/3"),
        (0.333333, "1/3"),  # as an exclusion key keeps it (six digits)
        (0.5, "1/2"),
        (0.25, "1/4"),
        (1 / 6, "1/6"),
        (0.33, "0.33"),
        (0.3, "0.3"),
        (0.35, "0.35"),
        (0.123456789, "0.123457"),
    ],
)
def test_a_speeding_fraction_reads_as_a_fraction_where_it_is_one(value, text):
    assert fraction_text(value) == text


def test_the_codebook_of_the_flag_columns_says_the_speeding_fraction():
    data = frame(60).assign(**{schema.DURATION: 600.0})
    _exported, described = with_flag_columns(data, codebook(), rules=QualityRules(speeding=0.5))
    label = described.variable("quality_speeding").label_in("en")
    assert "duration under 1/2 of the sample's median" in label
    _exported, default = with_flag_columns(data, codebook())
    assert "duration under 1/3 of the sample's median" in default.variable("quality_speeding").label_in("en")


def test_exclude_flagged_leaves_out_the_chosen_flags_and_says_how_many():
    data = frame(60).assign(**{schema.DURATION: 600.0})
    data.loc[[0, 1], schema.DURATION] = 100
    book = codebook()
    kept, done = exclude_flagged(
        data, book, exclude=["speeding", "attention_failed"], parameters={"approve": {"correct": "no"}}
    )
    out = (data[schema.DURATION] < 200) | (data["approve"] != "no")
    assert done == {"flags": ["speeding", "attention_failed"], "excluded": int(out.sum()), "speeding": 1 / 3}
    assert len(kept) == len(data) - out.sum() and kept.index.tolist() == list(range(len(kept)))
    pd.testing.assert_frame_equal(kept, data.loc[~out].reset_index(drop=True))
    same, nothing = exclude_flagged(data, book, exclude=[])
    assert same is data and nothing["excluded"] == 0 and nothing["flags"] == []
    with pytest.raises(ValueError, match="unknown data-quality flag fast"):
        exclude_flagged(data, book, exclude=["fast"])
    with pytest.raises(ValueError, match="every response"):
        exclude_flagged(data, book, exclude=["attention_failed"], parameters={"approve": {"correct": "none"}})


def test_near_duplicates_are_found_in_a_large_study_with_few_chance_pairs(monkeypatch):
    """Bands widen with the number of responses, so chance agreements of unrelated responses stay
    rare (the pairs compared grow with n, not n^2), while a copied response with two answers
    changed (93% equal) is still met."""
    import analysis.quality as quality
    from analysis.codebook import codebook_from_specs

    from .test_results import choices, question

    spec = {
        "sections": [
            {
                "code": "p1",
                "randomize": False,
                "questions": [
                    question(f"q{i}", "single_choice", "Q", "问", choice_list="abcd") for i in range(30)
                ],
            }
        ],
        "choice_lists": [choices("abcd", *[(c, c, c) for c in "abcd"])],
    }
    book = codebook_from_specs(study="s", title="S", languages=["en", "zh"], specs=[(1, spec)])
    rng = np.random.default_rng(8)
    data = pd.DataFrame({f"q{i}": rng.choice(list("abcd"), 30_000) for i in range(30)})
    data.loc[7] = data.loc[3]
    data.loc[7, ["q0", "q1"]] = [
        "a" if data.loc[3, "q0"] != "a" else "b",
        "a" if data.loc[3, "q1"] != "a" else "b",
    ]
    match, chance_used = quality._percent_match, quality.CHANCE

    def pairs(chance: float) -> tuple[int, pd.DataFrame]:
        compared: list[int] = []
        monkeypatch.setattr(quality, "CHANCE", chance)
        monkeypatch.setattr(
            quality, "_percent_match", lambda m, a, b: compared.append(len(a)) or match(m, a, b)
        )
        flags = quality_flags(data, book, rules=QualityRules(threshold=0.9))
        return sum(compared), flags

    fixed, _ = pairs(1e-9)  # bands of BAND_WIDTH questions whatever the number of responses
    compared, flags = pairs(chance_used)
    assert flags.loc[[3, 7], "near_duplicate"].all() and flags["near_duplicate"].sum() == 2
    assert compared < fixed / 3
