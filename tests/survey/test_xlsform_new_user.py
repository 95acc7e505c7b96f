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


def test_the_readme_documents_every_reserved_name():
    """A question named ``shown`` is refused as reserved; the README's XLSForm section says which names
    are, so a researcher learns it before the refusal."""
    from pathlib import Path

    from survey.instrument import CODE_PATTERN, PAGE_FORM_NAMES

    readme = Path(__file__).resolve().parents[2].joinpath("README.md").read_text()
    section = readme[readme.index("## XLSForm support") :]
    section = section[: section.index("\n## ")]
    names = section[section.index("**Names**") :].split("\n\n")[0]
    assert all(f"`{name}`" in names for name in PAGE_FORM_NAMES)
    assert all(CODE_PATTERN.match(name) for name in PAGE_FORM_NAMES)  # each could otherwise be a name
