"""The spreadsheet formula guard (``analysis.formulas``): safe in a spreadsheet, and undone exactly."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from analysis.formulas import DANGEROUS_START, neutralise, unneutralise

# Texts built from the characters that matter here, so apostrophes before a formula are common
TEXTS = st.text(alphabet=st.sampled_from(["'", *DANGEROUS_START, "a", "1", ".", "e", " ", "苹"]), max_size=6)
# Numbers as text, as a calculation or a text answer holds them
NUMBERS = st.one_of(st.integers(), st.floats(allow_nan=False, allow_infinity=False)).map(str) | st.from_regex(
    r"\A[+-]?[0-9]{1,4}(\.[0-9]{0,3})?([eE][+-]?[0-9]{1,2})?\Z"
)


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return text.strip() == text and text.lower().lstrip("+-") not in {"inf", "infinity", "nan"}


@given(TEXTS | NUMBERS | st.text())
def test_guarded_text_is_never_a_formula_and_the_guard_is_undone_exactly(text):
    guarded = neutralise(text)
    assert not guarded.startswith(DANGEROUS_START) or (guarded == text and _number(text))
    assert unneutralise(guarded) == text


@given(NUMBERS)
def test_a_number_is_never_altered(text):
    assert neutralise(text) == text and unneutralise(text) == text


def test_examples():
    assert neutralise("=1+1") == "'=1+1" and neutralise("-5 apples") == "'-5 apples"
    assert neutralise("'=x") == "''=x"  # typed with its apostrophe: it keeps it once undone
    assert neutralise("'tis") == "'tis" and neutralise("a=b") == "a=b" and neutralise(-3) == -3
    # numbers are no formulas (round(-2.5) is -2; a text answer "-5"), but a typed "'-5" keeps its apostrophe
    assert [neutralise(t) for t in ("-2", "-5", "-2.5", "+3", "-1e-3", ".5")] == [
        "-2",
        "-5",
        "-2.5",
        "+3",
        "-1e-3",
        ".5",
    ]
    assert neutralise("'-5") == "''-5" and unneutralise("''-5") == "'-5"
    assert neutralise("-2+3") == "'-2+3" and neutralise("-inf") == "'-inf" and neutralise("-5\n") == "'-5\n"
