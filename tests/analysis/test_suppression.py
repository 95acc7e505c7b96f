"""Disclosure control: small cells hidden, and no hidden cell recoverable from what is released."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from analysis import suppress, suppress_estimates
from analysis.suppression import recoverable_cells


def test_primary_and_complementary_suppression():
    table = pd.DataFrame(
        [[25, 3, 40], [30, 22, 18], [12, 14, 50]], index=["a", "b", "c"], columns=["x", "y", "z"]
    )
    result = suppress(table, k=10)
    assert result.primary.loc["a", "y"] and result.hidden.sum().sum() >= 4
    assert pd.isna(result.counts.loc["a", "y"])
    assert recoverable_cells(table.to_numpy(), result.hidden.to_numpy()) == []


def test_k_below_five_is_refused():
    with pytest.raises(ValueError, match="k must be at least 5"):
        suppress(pd.DataFrame([[1, 2]]), k=4)
    with pytest.raises(ValueError, match="k must be at least 5"):
        suppress_estimates(pd.DataFrame({"n": [3]}), k=3)


def test_group_attribute_disclosure_is_flagged():
    table = pd.DataFrame([[0, 12, 0], [10, 11, 12]], index=["village", "city"], columns=["yes", "no", "dk"])
    assert suppress(table, k=10).attribute_disclosure == ["village"]


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


@settings(max_examples=150, deadline=None)
@given(arrays(np.int64, st.tuples(st.integers(2, 5), st.integers(2, 5)), elements=st.integers(0, 40)))
def test_no_hidden_cell_can_be_recovered_from_released_cells_and_totals(counts):
    # The attack: every row, column and grand total is published with the released cells; solve
    # the linear system for the hidden cells and check that none is determined.
    table = pd.DataFrame(counts)
    result = suppress(table, k=10)
    hidden = result.hidden.to_numpy()
    assert not (((counts > 0) & (counts < 10)) & ~hidden).any(), "a small cell was released"
    assert recoverable_cells(counts, hidden) == []
