"""Fuzzing the XLSForm importer: any workbook either imports or is refused with located problems."""

import io

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from survey.instrument import QuestionnaireInvalid
from survey.xlsform import read_xlsform
from tests.helpers import FUZZ_EXAMPLES

HEADERS = [
    "type",
    "name",
    "label",
    "label::English (en)",
    "label::Chinese (zh)",
    "hint",
    "required",
    "relevant",
    "constraint",
    "constraint_message",
    "appearance",
    "parameters",
    "randomize",
    "calculation",
    "label:fr",
    "NAME",
]
TYPES = [
    "text",
    "integer",
    "decimal",
    "date",
    "note",
    "range",
    "select_one yn",
    "select_multiple yn",
    "rank yn",
    "select_one nolist",
    "begin_group",
    "end_group",
    "begin group",
    "end group",
    "geopoint",
    "start",
    "calculate",
    "select one from yn",
    "select_one yn or_other",
    "",
    "acknowledge",
]
CELL = st.one_of(
    st.none(),
    st.sampled_from(TYPES),
    st.text(alphabet=st.characters(exclude_categories=("Cc", "Cs")), max_size=15),
    st.integers(-5, 5),
    st.floats(allow_nan=False, width=32),
    st.sampled_from(
        [
            "yes",
            "no",
            "${q1}",
            "${a} > 1 and",
            "selected(${m}, 'x')",
            ". > 2",
            "start=1 end=5",
            "table-list",
            "likert",
        ]
    ),
)


@st.composite
def workbooks(draw) -> bytes:
    book = openpyxl.Workbook()
    survey = book.active
    survey.title = draw(st.sampled_from(["survey", "SURVEY", "Survey", "questions"]))
    headers = draw(st.lists(st.sampled_from(HEADERS), min_size=1, max_size=8))
    survey.append(headers)
    for _ in range(draw(st.integers(0, 8))):
        survey.append([draw(CELL) for _ in headers])
    if draw(st.booleans()):
        choices = book.create_sheet("choices")
        choices.append(["list_name", "name", "label"])
        for _ in range(draw(st.integers(0, 4))):
            choices.append([draw(st.sampled_from(["yn", "other", ""])), draw(CELL), draw(CELL)])
    if draw(st.booleans()):
        book.create_sheet("settings").append(["form_title", "default_language"])
        book["settings"].append([draw(CELL), draw(st.sampled_from(["English (en)", "Klingon", "", "zh"]))])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@pytest.mark.fuzz
@settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(workbooks())
def test_any_workbook_imports_or_is_refused_with_locations(data):
    try:
        spec = read_xlsform(data)
    except QuestionnaireInvalid as error:
        assert error.problems and all(problem.message for problem in error.problems)
    else:
        assert spec["sections"] and spec["languages"]


@pytest.mark.fuzz
@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
@given(st.binary(max_size=2000))
def test_any_bytes_are_refused_cleanly(data):
    try:
        read_xlsform(data)
    except QuestionnaireInvalid as error:
        assert error.problems
