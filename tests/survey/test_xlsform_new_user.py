"""Findings of a new-user tester (issue 11): where an import refusal points, and what it names."""

import pytest

from survey.instrument import QuestionnaireInvalid
from survey.xlsform import read_xlsform
from tests.survey.xlsform_helpers import workbook

SURVEY = [["type", "name", "label"], ["select_one colours", "colour", "Colour"]]


def refused(survey, choices):
    with pytest.raises(QuestionnaireInvalid) as caught:
        read_xlsform(workbook(survey, choices=choices))
    return caught.value.problems


@pytest.mark.parametrize(
    ("header", "missing"),
    [
        (["list_name", "label"], "'name'"),
        (["name", "label"], "'list_name'"),
        (["label"], "'list_name', 'name'"),
    ],
)
def test_a_choices_sheet_without_a_needed_column_names_the_header(header, missing):
    rows = [
        header,
        *[
            [cell for cell, h in zip(row, ["list_name", "name", "label"], strict=True) if h in header]
            for row in (["colours", "red", "Red"], ["colours", "blue", "Blue"])
        ],
    ]
    problems = refused(SURVEY, rows)
    first = problems[0]
    assert first.code == "no_choices_column"
    assert str(first).startswith("sheet choices, row 1")
    assert missing in first.message and "header" in first.message


def test_a_choice_row_without_a_name_points_at_the_empty_cell():
    (problem,) = refused(
        SURVEY, [["list_name", "name", "label"], ["colours", "red", "Red"], ["colours", "", "Blue"]]
    )
    assert problem.code == "choice_incomplete"
    assert str(problem).startswith("sheet choices, row 3, column B")
