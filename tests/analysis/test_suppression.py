"""Disclosure control: small cells hidden, and no hidden cell recoverable from what is released.

The recovery attack here is written independently of ``analysis.suppression``: from the released
tables alone it writes down every equation a reader knows (levels sum to the group's n, groups sum
to the overall figure in each breakdown, group n's sum to the overall n, one respondent set is one
number in every table) and asks linear algebra — and a linear programme with the counts' lower
bound of zero — whether any hidden cell is determined.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from analysis import suppress, suppress_estimates
from analysis.suppression import disclose, fingerprints, pinned, response_keys, round_count, row_keys

from .attack import attack

# --- the table shapes --------------------------------------------------------------------------


def share_table(
    counts: np.ndarray, *, variable: str = "q", breakdown: str = "g", base: str | None = None
) -> pd.DataFrame:
    """Two-way table (rows = groups, columns = levels) with its overall row: the released shape."""
    rows = []
    for g, line in enumerate(counts):
        rows += [
            {
                "variable": variable,
                "group_variable": breakdown,
                "group": f"g{g}",
                "level": f"l{j}",
                "count": int(c),
                "n": int(line.sum()),
            }
            for j, c in enumerate(line)
        ]
    total = counts.sum(axis=0)
    rows += [
        {
            "variable": variable,
            "group_variable": "",
            "group": "",
            "level": f"l{j}",
            "count": int(c),
            "n": int(total.sum()),
        }
        for j, c in enumerate(total)
    ]
    frame = pd.DataFrame(rows)
    frame["estimate"] = frame["count"] / frame["n"].where(frame["n"] > 0)
    if base is not None:
        frame["base"] = [(base, gv, g) for gv, g in zip(frame["group_variable"], frame["group"], strict=True)]
    return frame


def assert_safe(tables: dict[str, pd.DataFrame], *, k: int = 10) -> dict[str, pd.DataFrame]:
    release = disclose(tables, k=k)
    for name, table in tables.items():
        out = release[name]
        small = (table["count"] > 0) & (table["count"] < k)
        assert out.loc[small, "suppressed"].all(), f"a cell under {k} was released in {name}"
        assert out.loc[out["suppressed"], "estimate"].isna().all()
    assert attack(release.tables, dict(tables), k=k) == []
    return release.tables


counts_2d = arrays(np.int64, st.tuples(st.integers(1, 4), st.integers(2, 4)), elements=st.integers(0, 40))


@settings(max_examples=40, deadline=None)
@given(counts_2d)
def test_two_way_table_with_margins(counts):
    assert_safe({"t": share_table(counts)})


def test_hidden_zeros_pin_no_figure():
    """A reader knows counts are never negative. Here the 1 was hidden with zero partners whose
    only way to move was below 0, so a linear programme pinned it although linear algebra left
    it free (found by the attack on draws of the shipped study's combined releases)."""
    counts = np.array([[0, 0, 25], [0, 1, 0], [0, 0, 0], [0, 25, 0]])
    assert_safe({"t": share_table(counts)}, k=5)


def test_a_count_pinned_by_the_lower_bound_alone():
    """``2x = y + u``, ``y + u + s = 3``, ``s + r = 2`` with every count 1: linear algebra leaves
    x free (it moves with s), but s in [0, 2] keeps x in [0.5, 1.5], so a reader who knows counts
    are whole numbers >= 0 knows x = 1. y can be 0 (u = 2) and is not pinned."""
    equations = [
        ({"x": 2.0, "y": -1.0, "u": -1.0}),
        ({"y": 1.0, "u": 1.0, "s": 1.0, "three": -1.0}),
        ({"s": 1.0, "r": 1.0, "two": -1.0}),
    ]
    block = [(list(terms), terms) for terms in equations]
    values = {"x": 1, "y": 1, "u": 1, "s": 1, "r": 1, "three": 3, "two": 2}
    unknowns = ["r", "s", "u", "x", "y"]
    assert pinned(block, unknowns, values, ["x", "y", "s", "r"]) == ["x"]
    # Without the last equation s may be 3 and x 0: nothing is pinned.
    assert pinned(block[:2], ["s", "u", "x", "y"], values, ["x"]) == []


zero_heavy_2d = arrays(
    np.int64,
    st.tuples(st.integers(2, 4), st.integers(2, 4)),
    elements=st.sampled_from([0, 0, 0, 1, 2, 15, 25]),
)


@settings(max_examples=40, deadline=None)
@given(zero_heavy_2d)
def test_sparse_two_way_tables(counts):
    assert_safe({"t": share_table(counts)}, k=5)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(0, 40), min_size=2, max_size=6))
def test_one_way_table_with_total(groups):
    # a one-way frequency table: the levels of one variable, and the total n
    counts = np.array([groups])
    table = share_table(counts)
    table = table[table["group_variable"] == ""]
    assert_safe({"t": table})


@settings(max_examples=25, deadline=None)
@given(counts_2d, counts_2d)
def test_several_breakdowns_of_one_variable(first, second):
    # the same respondents broken down two ways: both breakdowns add up to the same overall row
    levels = min(first.shape[1], second.shape[1])
    first, second = first[:, :levels], second[:, :levels]
    total = first.sum(axis=0)
    second = second.copy()
    second[-1] = np.maximum(total - second[:-1].sum(axis=0), 0)
    first, second = first, second
    overall = share_table(first, breakdown="a")
    by_b = share_table(second, breakdown="b")
    by_b = by_b[by_b["group_variable"] == "b"]
    if not np.array_equal(second.sum(axis=0), total):
        return
    assert_safe({"t": pd.concat([overall, by_b], ignore_index=True)})


@settings(max_examples=25, deadline=None)
@given(
    arrays(np.int64, st.tuples(st.integers(2, 4), st.integers(2, 4)), elements=st.integers(0, 30)),
    st.lists(st.integers(12, 60), min_size=2, max_size=4),
)
def test_multiple_choice_options_share_their_base(selected, n_by_group):
    # each option is selected / not selected within the same respondents (one n per group)
    groups = min(len(n_by_group), selected.shape[0])
    selected, n = selected[:groups], np.array(n_by_group[:groups])
    selected = np.minimum(selected, n[:, None])
    tables = {}
    for option in range(selected.shape[1]):
        two_way = np.column_stack([selected[:, option], n - selected[:, option]])
        tables[f"o{option}"] = share_table(two_way, variable=f"q__{option}", base="q")
    assert_safe(tables)


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.integers(0, 40), min_size=2, max_size=6), st.lists(st.integers(0, 40), min_size=2, max_size=4)
)
def test_means_with_n_in_two_breakdowns(by_a, by_b):
    total = sum(by_a)
    by_b = [*by_b[:-1], total - sum(by_b[:-1])]
    if by_b[-1] < 0 or total == 0:
        return
    rows = [
        {"variable": "m", "group_variable": "a", "group": f"a{i}", "level": None, "count": c, "n": c}
        for i, c in enumerate(by_a)
    ]
    rows += [
        {"variable": "m", "group_variable": "b", "group": f"b{i}", "level": None, "count": c, "n": c}
        for i, c in enumerate(by_b)
    ]
    rows.append(
        {"variable": "m", "group_variable": "", "group": "", "level": None, "count": total, "n": total}
    )
    table = pd.DataFrame(rows).assign(estimate=3.2, se=0.1)
    assert_safe({"m": table})


def test_two_tables_of_the_same_respondents_hide_the_same_group():
    # two required questions: their group n's are the same numbers, so they are one cell each
    x = share_table(np.array([[30, 25, 12], [4, 2, 1]]), variable="x", base="everyone")
    y = share_table(np.array([[40, 27, 0], [3, 0, 4]]), variable="y", base="everyone")
    tables = assert_safe({"x": x, "y": y})
    assert tables["x"].loc[tables["x"]["group"] == "g0", "suppressed"].all()
    assert tables["y"].loc[tables["y"]["group"] == "g0", "suppressed"].all()


def test_the_urban_rural_report_bug_is_closed():
    # the finding: the small group hidden, the other group and the total printed with their n
    frame = pd.DataFrame({"group": ["rural", "urban"], "estimate": [0.8, 0.55], "n": [7, 120]})
    out = suppress_estimates(frame, k=10)
    assert out["suppressed"].tolist() == [True, True]


# --- rules -------------------------------------------------------------------------------------


def test_k_below_five_is_refused():
    with pytest.raises(ValueError, match="k must be at least 5"):
        suppress(pd.DataFrame([[1, 2]]), k=4)
    with pytest.raises(ValueError, match="k must be at least 5"):
        suppress_estimates(pd.DataFrame({"n": [3]}), k=3)
    with pytest.raises(ValueError, match="k must be at least 5"):
        disclose({"t": share_table(np.array([[1, 2]]))}, k=2)


def test_a_table_without_its_columns_is_refused():
    with pytest.raises(ValueError, match="lacks the columns count, n"):
        disclose(
            {"t": pd.DataFrame({"variable": ["q"], "group_variable": [""], "group": [""], "level": ["a"]})}
        )


def test_group_attribute_disclosure_is_flagged():
    table = pd.DataFrame([[0, 12, 0], [10, 11, 12]], index=["village", "city"], columns=["yes", "no", "dk"])
    assert suppress(table, k=10).attribute_disclosure == ["village"]
    released = disclose({"t": share_table(np.array([[0, 12, 0], [10, 11, 12]]))})["t"]
    assert released.loc[released["group"] == "g0", "attribute_disclosure"].all()
    assert not released.loc[released["group"] == "g1", "attribute_disclosure"].any()


def test_released_figures_are_rounded():
    table = share_table(np.array([[23, 31], [44, 12]]))
    table["estimate"] = [0.42593, 0.574, 0.7857, 0.2143, 0.5583, 0.4417]
    released = disclose({"t": table})["t"]
    assert released["count"].tolist() == [25.0, 30.0, 45.0, 10.0, 65.0, 45.0]
    assert released["estimate"].tolist() == [0.426, 0.574, 0.786, 0.214, 0.558, 0.442]
    assert round_count(12) == 10 and round_count(13) == 15 and round_count(2.5) == 5
    means = pd.DataFrame(
        [
            {
                "variable": "m",
                "group_variable": "",
                "group": "",
                "level": None,
                "count": 40,
                "n": 40,
                "estimate": 3.14159,
            }
        ]
    )
    assert disclose({"m": means})["m"]["estimate"].iat[0] == 3.14


def test_inputs_are_not_changed_and_hidden_values_are_masked():
    table = share_table(np.array([[25, 3, 40], [30, 22, 18], [12, 14, 50]]))
    before = table.copy()
    released = disclose({"t": table})["t"]
    pd.testing.assert_frame_equal(table, before)
    hidden = released[released["suppressed"]]
    assert len(hidden) >= 4 and hidden[["estimate", "count"]].isna().all().all()
    assert set(released["suppression"]) == {"", "primary", "complementary"}


def test_fingerprints_identify_equal_sets_of_respondents():
    keys = row_keys(1000)
    codes = np.arange(1000) % 7
    same = np.where(np.arange(1000) % 7 == 3, 0, -1)
    assert fingerprints(keys, codes, 7)[3] == fingerprints(keys, same, 1)[0]
    assert len(set(fingerprints(keys, codes, 7))) == 7


# --- the classic wrappers ----------------------------------------------------------------------


def test_primary_and_complementary_suppression():
    table = pd.DataFrame(
        [[25, 3, 40], [30, 22, 18], [12, 14, 50]], index=["a", "b", "c"], columns=["x", "y", "z"]
    )
    result = suppress(table, k=10)
    assert result.primary.loc["a", "y"] and result.hidden.sum().sum() >= 4
    assert pd.isna(result.counts.loc["a", "y"])


def test_companion_tables_are_masked_alike():
    table = pd.DataFrame([[25, 3], [30, 22]], index=["a", "b"], columns=["x", "y"])
    result = suppress(table, k=10)
    percent = table / table.sum() * 100
    assert result.apply(percent).isna().equals(result.hidden)


def test_small_domains_are_hidden_with_a_partner():
    frame = pd.DataFrame(
        {"variable": "q", "g": ["a", "b", "c", "d"], "estimate": [0.1, 0.2, 0.3, 0.4], "n": [4, 50, 30, 60]}
    )
    out = suppress_estimates(frame, k=10, group=["variable"])
    assert out["suppressed"].tolist() == [True, False, True, False]
    assert out["estimate"].isna().tolist() == [True, False, True, False]


def test_a_median_is_released_only_as_precisely_as_k_answers_share():
    """A group of 12 whose answers are all different: its median (one respondent's answer) was
    released as it is; now it is rounded to the finest width whose bin holds k answers."""
    from analysis.suppression import value_bins

    spread = np.array([3, 11, 18, 24, 31, 38, 44, 52, 57, 63, 71, 96], dtype=float)
    median = float(np.median(spread))  # 41.0, which nobody answered
    clustered = np.array([40, 40, 41, 41, 41, 41, 42, 42, 42, 43, 43, 44, 44], dtype=float)
    rows = [
        {
            "variable": "age",
            "group_variable": "",
            "group": "",
            "level": None,
            "count": len(a),
            "n": len(a),
            "estimate": m,
            "se": 1.0,
            "ci_low": m - 7.3,
            "ci_high": m + 6.2,
            "value_bins": value_bins(a, m),
            "cell": ("age", name),
            "base": ("age", name),
        }
        for name, a, m in (
            ("spread", spread, median),
            ("clustered", clustered, 42.0),
        )
    ]
    table = pd.DataFrame(rows)
    out = disclose({"t": table}, k=5, rounding=False)["t"].set_index(table["cell"].map(lambda c: c[1]))
    # three answered 42, seven 41 to 42: the width of 2 is the finest that k = 5 answers share
    assert out.at["clustered", "value_width"] == 2.0 and out.at["clustered", "estimate"] == 42.0
    width = out.at["spread", "value_width"]
    assert width >= 20 and out.at["spread", "estimate"] % width == 0
    inside = np.abs(spread - out.at["spread", "estimate"]) <= width / 2
    assert inside.sum() >= 5 and np.isnan(out.at["spread", "se"])
    assert out.at["spread", "ci_low"] <= median - 7.3 and out.at["spread", "ci_high"] >= median + 6.2
    assert "value_bins" not in out.columns


def test_attribute_disclosure_is_judged_on_a_groups_own_levels():
    """Overall rows shared by several tables (one answer split 50/50, the same respondents in a
    one-group breakdown and in the non-response count, where everyone 'answered') are not a group
    that gave one answer; a group whose own levels are all in one level still is."""
    everyone = ("set", 1, 2, 20)
    split = share_table(np.array([[10, 10]]), variable="gender", base="x")
    # the one group is everyone: its rows and the overall rows share a base
    split["base"] = [everyone] * len(split)
    answered = pd.DataFrame(
        {
            "variable": ["gender", "gender"],
            "group_variable": ["", ""],
            "group": ["", ""],
            "level": ["missing", "answered"],
            "count": [0, 20],
            "n": [20, 20],
            "base": [everyone, everyone],
        }
    )
    released = disclose({"gender:share": split, "release:nonresponse": answered}, k=5)
    assert not released["gender:share"]["attribute_disclosure"].any()
    assert not released["release:nonresponse"]["attribute_disclosure"].any()
    uniform = disclose({"t": share_table(np.array([[0, 12], [10, 11]]))})["t"]
    assert uniform.loc[uniform["group"] == "g0", "attribute_disclosure"].all()
    assert not uniform.loc[uniform["group"] != "g0", "attribute_disclosure"].any()


def test_response_keys_follow_the_response_not_its_position():
    """A set of responses has one fingerprint whatever stands beside it: before, the numbers were
    drawn by position (``row_keys``), so a release batch arriving (new ids among the old, in the
    order of the random ids) gave the same respondents other identities in the next state."""
    before = [f"id-{i}" for i in range(30)]
    after = sorted([*before, *(f"new-{i}" for i in range(12))])
    keys_before = response_keys(before, salt="s")
    keys_after = response_keys(after, salt="s")
    chosen = {"id-3", "id-17", "id-29"}
    codes_before = np.array([0 if i in chosen else -1 for i in before])
    codes_after = np.array([0 if i in chosen else -1 for i in after])
    assert fingerprints(keys_before, codes_before, 1) == fingerprints(keys_after, codes_after, 1)
    assert keys_before.shape == (30, 2) and (keys_before < 2**26).all() and (keys_before >= 0).all()
    assert not np.array_equal(response_keys(before, salt="t"), keys_before)
    with pytest.raises(ValueError):
        response_keys(before, salt="")


def _split(variable, gv, group, counts, *, cells, base, sum_of=None) -> list[dict]:
    n = sum(counts.values())
    return [
        {
            "variable": variable,
            "group_variable": gv,
            "group": group,
            "level": level,
            "count": count,
            "n": n,
            "cell": cells[level],
            "base": base,
            "sum_of": (sum_of or {}).get(level),
        }
        for level, count in counts.items()
    ]


def test_a_figure_the_releases_before_give_is_shown_again_not_withheld():
    """A results page showed the china sample's answers to q: level a (103) and the n (140), its
    levels b and c and every gender group hidden. A claims report's share "a" of the china sample
    is that same level (yes) and the rest (no = b + c = 140 - 103, known from the page). Before,
    "no" — a new figure, though the page gives it — was hidden as a partner of the hidden gender
    groups, found recoverable from the page's figures with nothing left to hide, and the whole
    share withheld: every direct figure of the Hawkins report was withheld after ordinary use of
    the results page, though what was shown stays known. Now a figure one equation away from
    figures shown before is known, shown, and never a partner; the hidden ones stay unrecoverable."""
    page = pd.DataFrame(
        _split(
            "q", "", "", {"a": 103, "b": 30, "c": 7}, cells={v: ("china", v) for v in "abc"}, base=("china",)
        )
        + _split(
            "q", "gender", "f", {"a": 60, "b": 26, "c": 7}, cells={v: ("f", v) for v in "abc"}, base=("f",)
        )
        + _split(
            "q", "gender", "m", {"a": 43, "b": 4, "c": 0}, cells={v: ("m", v) for v in "abc"}, base=("m",)
        )
    )
    shown = disclose({"page": page}, k=10, rounding=False)["page"]
    assert shown["suppressed"].tolist() == [False, True, True] + [True] * 5 + [False]
    fixed = {"page": page.assign(suppressed=shown["suppressed"].to_numpy())}
    rows = []
    for group, gv, base in (("china", "", ("china",)), ("f", "gender", ("f",)), ("m", "gender", ("m",))):
        yes, n = (page.loc[page["base"] == base, c].iat[0] for c in ("count", "n"))
        rows += _split(
            "q",
            gv,
            "" if not gv else group,
            {"yes": yes, "no": n - yes},
            cells={"yes": (group, "a"), "no": (group, "bc")},
            base=base,
            sum_of={"no": [(group, "b"), (group, "c")]},
        )
    report = pd.DataFrame(rows)
    decided = disclose({"report": report}, k=10, rounding=False, fixed=fixed)["report"]
    overall = decided["group_variable"] == ""
    assert not decided.loc[overall, "suppressed"].any()  # 103 and 37 of 140, as the page gave them
    assert decided.loc[overall, "count"].tolist() == [103, 37]
    kept = ~decided["withheld"].to_numpy(dtype=bool)
    released = {"page": shown, "report": decided[kept]}
    truth = {"page": page, "report": report[kept]}
    assert attack(released, truth, k=10) == []


def test_a_median_no_width_lets_k_answers_share_is_marked_suppressed():
    """Twelve answers thousands apart: no released width holds five of them around the median, so
    its value is hidden; it is marked suppressed (by the value rule), not an empty row marked shown."""
    from analysis.suppression import VALUE, value_bins

    spread = np.arange(12, dtype=float) * 9000.0
    median = float(np.median(spread))
    row = {"variable": "income", "group_variable": "", "group": "", "level": None, "count": 12, "n": 12}
    row |= {"estimate": median, "se": 900.0, "ci_low": median - 9000, "ci_high": median + 9000}
    row |= {"value_bins": value_bins(spread, median), "cell": ("income", "m"), "base": ("income", "m")}
    out = disclose({"t": pd.DataFrame([row])}, k=5, rounding=False)["t"].iloc[0]
    assert np.isnan(out["estimate"]) and np.isnan(out["value_width"])
    assert bool(out["suppressed"]) and out["suppression"] == VALUE
