"""A decimal answer is stored and exported exactly as accepted; what cannot be kept is refused at entry."""

from __future__ import annotations

import json
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from survey import flow
from survey.forms import MAX_SIGNIFICANT_DIGITS, PageForm

QUESTION = {
    "code": "amount",
    "type": "decimal",
    "label": {"en": "Amount"},
    "hint": {},
    "required": True,
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


def _form(value: str) -> PageForm:
    form = PageForm(
        {"amount": value}, questions=[QUESTION], choice_lists={}, language="en", fallback_language="en"
    )
    form.is_valid()
    return form


def test_more_digits_than_a_double_keeps_are_refused_with_the_limit():
    form = _form("99999999999999.999999")  # 20 significant digits: once stored as 100000000000000.0
    assert not form.is_valid()
    message = form.errors["amount"][0]
    assert "at most 15 significant digits" in message and "20" in message
    assert form.errors.as_data()["amount"][0].code == "too_precise"


def test_the_largest_precision_kept_is_accepted_and_stored_as_typed():
    for typed in (
        "99999999999999.9",
        "0.000000000000001",
        "-123456789.123456",
        "1.50",
        "1000000000000000000",
    ):
        form = _form(typed)
        assert form.is_valid(), (typed, form.errors)
        stored = json.loads(json.dumps(flow.to_json(form.cleaned_data["amount"])))
        assert Decimal(repr(stored)) == Decimal(typed)


@settings(max_examples=300, deadline=None)
@given(
    digits=st.integers(min_value=0, max_value=10**MAX_SIGNIFICANT_DIGITS - 1),
    exponent=st.integers(min_value=-20, max_value=20),
    negative=st.booleans(),
)
def test_every_accepted_decimal_survives_json_and_a_double(digits, exponent, negative):
    typed = Decimal(f"{'-' if negative else ''}{digits}E{exponent}")
    form = _form(str(typed))
    assert form.is_valid(), form.errors
    stored = json.loads(json.dumps(flow.to_json(form.cleaned_data["amount"])))
    assert Decimal(repr(float(stored))) == typed  # what SPSS, Stata, Parquet and pandas hold
