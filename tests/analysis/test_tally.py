"""One pass per answer gives the numbers of the row-level estimators: shares and their intervals,
fingerprints, Rao–Scott tests, and the whole results build."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import SurveyDesign, crosstab, poststratify, proportion, rake, schema, tally
from analysis.design import with_data
from analysis.results import build_results
from analysis.suppression import disclose, fingerprints, row_keys
from analysis.weighted_release import ATOM_COLUMNS

from . import test_results

COLUMNS = ["estimate", "se", "ci_low", "ci_high", "deff", "n", "n_eff"]


def data(n: int = 500, seed: int = 11) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "h": rng.choice(["north", "south", "west"], n),
            "a": rng.choice(["x", "y", "z"], n),
            "b": rng.choice(["p", "q"], n),
            "answer": rng.choice(["one", "two", "three", "four"], n, p=[0.4, 0.3, 0.25, 0.05]),
            "group": rng.choice(["g1", "g2", "g3"], n),
            "w": rng.uniform(0.5, 4, n),
        }
    )
    frame["answer"] = frame["answer"].where(rng.random(n) > 0.1)
    frame["group"] = frame["group"].where(rng.random(n) > 0.05)
    frame.loc[frame["group"] == "g3", "answer"] = frame["answer"].where(frame["answer"] != "four")
    frame["w0"] = np.where(rng.random(n) < 0.05, 0.0, frame["w"])
    return frame


def designs() -> dict[str, SurveyDesign]:
    frame = data()
    margins = pd.DataFrame(
        {
            "variable": ["a"] * 3 + ["b"] * 2,
            "category": ["x", "y", "z", "p", "q"],
            "share": [0.2, 0.3, 0.5, 0.6, 0.4],
        }
    )
    return {
        "simple random sample": SurveyDesign(frame),
        "strata": SurveyDesign(frame, strata="h"),
        "weights with zeros": SurveyDesign(frame, weights="w0", strata="h"),
        "raked": rake(SurveyDesign(frame, weights="w", strata="h"), margins)[0],
        "post-stratified": poststratify(
            SurveyDesign(frame, weights="w"), pd.DataFrame({"a": ["x", "y", "z"], "count": [100, 300, 600]})
        ),
    }


def tallied(design: SurveyDesign) -> tuple[tally.Tally, pd.Index, pd.Index]:
    answer, answers = pd.factorize(design.data["answer"])
    group, groups = pd.factorize(design.data["group"])
    found = tally.tally(design, answer, len(answers), [(group, len(groups))], row_keys(design.n))
    return found, pd.Index(answers), pd.Index(groups)


@pytest.mark.parametrize("name", list(designs()))
def test_shares_by_a_breakdown_are_those_of_proportion(name):
    design = designs()[name]
    found, answers, groups = tallied(design)
    # The caller's numbering: levels and groups sorted, as proportion() labels them.
    level_of = np.where(found.answer >= 0, np.argsort(np.argsort(answers))[found.answer], -1)
    group_of = np.where(found.breakdowns[0] >= 0, np.argsort(np.argsort(groups))[found.breakdowns[0]], -1)
    fast = tally.share_estimates(design, found, level_of, group_of)
    # Each domain's degrees of freedom count its rows with an answer, as build_results has them.
    answered = design.data["group"].where(design.data["answer"].notna())
    slow = proportion(with_data(design, design.data.assign(group=answered)), "answer", by="group")
    assert len(fast) == len(slow) == 12  # g3 never answers "four": a share of 0, with its interval
    assert fast["level"].map(dict(enumerate(sorted(answers)))).tolist() == slow["level"].tolist()
    assert fast["group"].map(dict(enumerate(sorted(groups)))).tolist() == slow["group"].tolist()
    for column in COLUMNS:
        np.testing.assert_allclose(fast[column], slow[column], rtol=1e-9, atol=1e-14, err_msg=column)

    overall = tally.share_estimates(design, found, level_of, None)
    whole = proportion(design, "answer")  # the same shares (its intervals use the design's df)
    np.testing.assert_allclose(overall["estimate"], whole["estimate"], rtol=1e-12)
    np.testing.assert_allclose(overall["se"], whole["se"], rtol=1e-9)
    np.testing.assert_allclose(overall["deff"], whole["deff"], rtol=1e-9)


@pytest.mark.parametrize("name", list(designs()))
def test_rao_scott_tests_are_those_of_crosstab(name):
    design = designs()[name]
    found, answers, groups = tallied(design)
    fast = tally.crosstab_of_tally(design, found, 0, answers, groups)
    slow = crosstab(design, "answer", "group")
    for field in ("statistic", "ndf", "ddf", "p_value", "pearson"):
        assert getattr(fast, field) == pytest.approx(getattr(slow, field), rel=1e-9), field
    pd.testing.assert_frame_equal(fast.counts, slow.counts, check_dtype=False)


def test_fingerprints_are_those_of_the_rows():
    design = designs()["strata"]
    found, answers, groups = tallied(design)
    level_of = np.where(found.answer >= 0, found.answer, -1)
    group_of = found.breakdowns[0]
    fast = tally.cell_fingerprints(found, level_of, len(answers), group_of, len(groups))
    answer, _ = pd.factorize(design.data["answer"])
    group, _ = pd.factorize(design.data["group"])
    cell = np.where((answer >= 0) & (group >= 0), group * len(answers) + answer, -1)
    assert fast == fingerprints(row_keys(design.n), cell, len(groups) * len(answers))


def test_many_groups_are_numbered_without_a_dense_table(monkeypatch):
    design = designs()["raked"]
    dense, _, _ = tallied(design)
    monkeypatch.setattr(tally, "DENSE_FACTOR", 0)
    sparse, _, _ = tallied(design)
    for name in dense.sums:
        np.testing.assert_array_equal(dense.sums[name], sparse.sums[name])
    np.testing.assert_array_equal(dense.answer, sparse.answer)
    np.testing.assert_array_equal(dense.breakdowns[0], sparse.breakdowns[0])


def test_a_design_with_clusters_is_refused():
    design = SurveyDesign(data().assign(psu=np.arange(500) // 5), clusters="psu")
    with pytest.raises(ValueError, match="without clusters"):
        tallied(design)


@pytest.mark.parametrize("weighting", ["weights", "raked"])
def test_the_results_build_is_the_same_from_the_rows(monkeypatch, weighting):
    """Every table and test of the study from tallies equals the row-by-row build (which designs
    with clusters still take)."""
    frame = test_results.frame(400, seed=8)
    frame["colour"] = frame["colour"].where(np.arange(400) % 9 > 0)
    frame.loc[np.arange(400) % 13 == 0, "place"] = None
    frame["w"] = np.random.default_rng(2).uniform(0.5, 3, 400)
    design = SurveyDesign(frame, weights="w", strata=schema.SAMPLE)
    if weighting == "raked":
        margins = pd.DataFrame(
            {"variable": ["approve", "approve"], "category": ["yes", "no"], "share": [0.4, 0.6]}
        )
        design = rake(design, margins)[0]
    by = (schema.SAMPLE, "place", "colour")

    def build():
        return build_results(design, test_results.codebook(), by=by, parameters=test_results.parameters())

    def unsplit(tables, k):
        """Disclosure control as for counts: what is compared is the two paths' computation, and
        split by weighting class (``analysis.weighted_release``) these weights, one per person,
        would hide every weighted figure and test."""
        return disclose(
            {n: t.drop(columns=list(ATOM_COLUMNS), errors="ignore") for n, t in tables.items()}, k=k
        )

    monkeypatch.setattr("analysis.results.disclose", unsplit)
    fast = build()
    monkeypatch.setattr("analysis.results.linearisation.applies", lambda design: False)
    slow = build()
    pd.testing.assert_frame_equal(fast.table, slow.table, check_exact=False, rtol=1e-9, atol=1e-12)
    assert [len(i.tests) for i in fast.items] == [len(i.tests) for i in slow.items]
    assert sum(len(i.tests) for i in fast.items) > 10
    published = []
    for a, b in zip(fast.items, slow.items, strict=True):
        for x, y in zip(a.tests, b.tests, strict=True):
            assert x["variable"] == y["variable"] and x["by"] == y["by"]
            # A test over a cross-tab with hidden cells is withheld (no statistic) on both paths.
            assert x.get("withheld", False) == y.get("withheld", False)
            if x.get("withheld", False):
                continue
            published.append(x)
            for field in ("f", "ndf", "ddf", "p_value"):
                assert x[field] == pytest.approx(y[field], rel=1e-9)
    assert len(published) >= 3, "too few tests published to compare the two paths"
