"""A decimal answer is stored and exported exactly as accepted; what cannot be kept is refused at entry.

The limits (``survey.exact_numbers``): at most 15 significant digits, below 10^15 in size, no digit
below 10^-15; whole numbers within ±10^12. Every accepted answer goes through the form, the JSON it is
stored as and every export format, and comes back as the same number."""

from __future__ import annotations

import json
from decimal import Decimal

import openpyxl
import pandas as pd
import pyarrow.parquet as pq
import pyreadstat
import pytest
from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis import schema
from analysis.exports import export
from analysis.varnames import legal_names
from survey import flow
from survey.computed import calculated
from survey.exact_numbers import MAX_DECIMAL_PLACES, MAX_MAGNITUDE, MAX_SIGNIFICANT_DIGITS
from survey.forms import PageForm
from survey.instrument import normalize, validate
from tests import exports_study

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


def _form(value: str, qtype: str = "decimal") -> PageForm:
    form = PageForm(
        {"amount": value},
        questions=[{**QUESTION, "type": qtype}],
        choice_lists={},
        language="en",
        fallback_language="en",
    )
    form.is_valid()
    return form


def _stored(typed: str) -> object:
    """What the database keeps for an accepted answer: ``flow.to_json`` through JSON."""
    form = _form(typed)
    assert form.is_valid(), (typed, form.errors)
    return json.loads(json.dumps(flow.to_json(form.cleaned_data["amount"])))


def test_more_digits_than_a_double_keeps_are_refused_with_the_limit():
    form = _form("99999999999999.999999")  # 20 significant digits: once stored as 100000000000000.0
    assert not form.is_valid()
    message = form.errors["amount"][0]
    assert "at most 15 significant digits" in message and "20" in message
    assert form.errors.as_data()["amount"][0].code == "too_precise"


@pytest.mark.parametrize(
    ("typed", "code", "words"),
    [
        ("1e400", "too_large", "between -999999999999999 and 999999999999999"),  # once a 500 on export
        ("1e20", "too_large", "between -999999999999999 and 999999999999999"),
        ("-1000000000000000", "too_large", "between -999999999999999 and 999999999999999"),
        ("1000000000000000000", "too_large", "between -999999999999999 and 999999999999999"),
        ("1e-400", "too_fine", "at most 15 digits after the decimal point"),  # once stored as 0
        ("0.0000000000000001", "too_fine", "at most 15 digits after the decimal point"),
        # 30 digits that Decimal.normalize (28 digits) would round to 1
        ("1.00000000000000000000000000001", "too_precise", "at most 15 significant digits"),
    ],
)
def test_numbers_beyond_what_exports_keep_are_refused_naming_the_limit(typed, code, words):
    form = _form(typed)
    assert not form.is_valid()
    assert form.errors.as_data()["amount"][0].code == code
    assert words in form.errors["amount"][0]


def test_the_limits_themselves_are_accepted_and_stored_as_typed():
    for typed in (
        "99999999999999.9",
        "999999999999999",
        "-999999999999999",
        "0.000000000000001",
        "0.123456789012345",
        "-123456789.123456",
        "1.50",
        "1e5",  # exponent notation: the number it writes
        "-0",
        "0e-400",
    ):
        stored = _stored(typed)
        assert Decimal(repr(stored)) == Decimal(typed)
    assert _stored("1e5") == 100000 and _stored("-0") == 0


def test_whole_numbers_are_limited_to_what_every_format_holds():
    assert _form("1000000000000", "integer").is_valid()
    for typed in ("1000000000001", "-1000000000001", "1" + "0" * 400):
        form = _form(typed, "integer")
        assert not form.is_valid()
        assert "1000000000000" in form.errors["amount"][0]


def _accepted() -> st.SearchStrategy[str]:
    """Decimal texts at and inside the limits, in every spelling a participant might type."""
    digits = st.integers(min_value=0, max_value=10**MAX_SIGNIFICANT_DIGITS - 1)
    exponent = st.integers(min_value=-MAX_DECIMAL_PLACES, max_value=MAX_MAGNITUDE - 1)

    def spelt(drawn: tuple[int, int, bool, bool]) -> str:
        number, power, negative, plain = drawn
        value = Decimal(f"{'-' if negative else ''}{number}E{power}")
        return format(value, "f") if plain else str(value)

    candidates = st.tuples(digits, exponent, st.booleans(), st.booleans()).map(spelt)
    return candidates.filter(lambda text: _form(text).is_valid())


@settings(max_examples=300, deadline=None)
@given(typed=_accepted())
def test_every_accepted_decimal_survives_json_and_a_double(typed):
    stored = _stored(typed)
    assert Decimal(repr(float(stored))) == Decimal(typed)  # what SPSS, Stata, Parquet and pandas hold


def _frame(values: list[object]) -> pd.DataFrame:
    """The export study's first respondent once per value, with the value as its decimal answer."""
    row = exports_study.frames(chunk=100)[0].iloc[[0]]
    frame = pd.concat([row] * len(values), ignore_index=True)
    frame[schema.RESPONSE_ID] = [f"r{i}" for i in range(len(values))]
    frame["WITH"] = pd.DataFrame.from_records([{"WITH": v} for v in values])["WITH"]  # as the bridge
    return frame


def _read_back(path, fmt: str) -> list[Decimal]:
    if fmt == "csv":
        texts = pd.read_csv(path, dtype=str, keep_default_na=False)["WITH"]
        return [Decimal(text) for text in texts]
    if fmt in {"sav", "dta"}:
        reader = pyreadstat.read_sav if fmt == "sav" else pyreadstat.read_dta
        data, _meta = reader(str(path))
        name = legal_names(exports_study.codebook().names, fmt)["WITH"]  # WITH is reserved in SPSS
        return [Decimal(repr(float(v))) for v in data[name]]
    if fmt == "parquet":
        return [Decimal(repr(float(v))) for v in pq.read_table(path).column("WITH").to_pylist()]
    if fmt == "xlsx":
        rows = openpyxl.load_workbook(path, read_only=True)["responses"].iter_rows(values_only=True)
        header = next(rows)
        column = header.index("WITH")
        return [Decimal(repr(row[column])) for row in rows]
    responses = json.loads(path.read_text(encoding="utf-8"))["responses"]
    return [Decimal(repr(response["WITH"])) for response in responses]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(typed=st.lists(_accepted(), min_size=1, max_size=30))
@pytest.mark.parametrize("fmt", ["csv", "xlsx", "sav", "dta", "parquet", "json"])
def test_every_accepted_decimal_comes_back_from_every_export_format(tmp_path, fmt, typed):
    path = tmp_path / f"out.{fmt}"
    frame = _frame([_stored(text) for text in typed])
    assert export([frame], exports_study.codebook(), path, fmt) == len(typed)
    assert _read_back(path, fmt) == [Decimal(text) for text in typed]


def _with_default(qtype: str, default: str) -> list[str]:
    question = {"code": "amount", "type": qtype, "label": {"en": "Amount"}, "default": default}
    spec = normalize(
        {
            "form_id": "defaults",
            "title": {"en": "Defaults"},
            "languages": ["en"],
            "sections": [{"code": "p1", "label": {"en": "Page"}, "questions": [question]}],
            "choice_lists": [],
        }
    )
    return [str(problem.message) for problem in validate(spec)]


@pytest.mark.parametrize(
    ("qtype", "default", "words"),
    [
        ("decimal", "1" + "0" * 400, "between -999999999999999 and 999999999999999"),
        ("decimal", "0." + "0" * 20 + "1", "at most 15 digits after the decimal point"),
        ("decimal", "1.00000000000000001", "at most 15 significant digits"),
        ("integer", "1" + "0" * 5000, "a whole number between -1000000000000 and 1000000000000"),
        ("integer", "-1000000000001", "a whole number between -1000000000000 and 1000000000000"),
    ],
)
def test_a_default_no_export_keeps_is_refused_at_import(qtype, default, words):
    problems = _with_default(qtype, default)
    assert any(words in problem for problem in problems), problems


def test_a_default_at_the_limits_is_accepted():
    assert _with_default("decimal", "-999999999999999") == []
    assert _with_default("integer", "1000000000000") == []


def test_the_limit_is_said_in_the_participants_language():
    with translation.override("zh-hans"):
        form = _form("1e20")
        assert "请输入介于 -999999999999999 和 999999999999999 之间的数值" in form.errors["amount"][0]


@pytest.mark.parametrize("calculation", ["1 div 0", "-1 div 0", "pow(10, 308)", "pow(10, 15)"])
@pytest.mark.parametrize("qtype", ["decimal", "integer"])
def test_a_calculated_number_no_export_keeps_is_stored_as_missing(qtype, calculation):
    """``1 div 0`` once stored "Infinity" in a decimal question, and the Stata export stopped."""
    question = {**QUESTION, "type": qtype, "calculation": calculation}
    assert calculated(question, {}) is None
    assert calculated({**question, "type": "calculate"}, {}) is not None  # text, as ODK stores it
    assert calculated({**question, "calculation": "pow(10, 14)"}, {}) == "100000000000000"


def test_a_calculated_decimal_within_the_limits_exports_as_computed(tmp_path):
    stored = calculated({**QUESTION, "calculation": "0.1 + 0.2"}, {})
    path = tmp_path / "out.dta"
    export([_frame([stored])], exports_study.codebook(), path, "dta")
    assert _read_back(path, "dta") == [Decimal(stored)]
