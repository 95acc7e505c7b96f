"""The spreadsheet formula guard (``analysis.formulas``): safe in a spreadsheet, and undone exactly."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from analysis.formulas import DANGEROUS_START, neutralise, unneutralise

# Texts built from the characters that matter here, so apostrophes before a formula are common
TEXTS = st.text(alphabet=st.sampled_from(["'", *DANGEROUS_START, "a", "1", " ", "苹"]), max_size=6)


@given(TEXTS | st.text())
def test_guarded_text_is_never_a_formula_and_the_guard_is_undone_exactly(text):
    guarded = neutralise(text)
    assert not guarded.startswith(DANGEROUS_START)
    assert unneutralise(guarded) == text


def test_examples():
    assert neutralise("=1+1") == "'=1+1" and neutralise("-5 apples") == "'-5 apples"
    assert neutralise("'=x") == "''=x"  # typed with its apostrophe: it keeps it once undone
    assert neutralise("'tis") == "'tis" and neutralise("a=b") == "a=b" and neutralise(-3) == -3
