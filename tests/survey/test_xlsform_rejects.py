"""The bad-spreadsheet corpus: each file is refused with the sheet, row, column and reason, and nothing is written."""

from pathlib import Path

import pytest

from survey.instrument import QuestionnaireInvalid
from survey.models import Question, QuestionnaireVersion, Study
from survey.services.questionnaires import questionnaire_import
from survey.xlsform import read_xlsform

CORPUS = Path(__file__).parent / "bad_xlsforms"

# file -> (location, message) of the first problem reported
EXPECTED = {
    "attention_unknown_code": (
        "sheet survey, row 2, column H (parameters)",
        "attention check 'check': correct='yes,maybe' names 'maybe', not a choice of list 'yn' "
        "(its choices: yes, no)",
    ),
    "attention_wrong_type": (
        "sheet survey, row 2, column H (parameters)",
        "attention check 'check': correct= names choice codes, so it needs a single-choice or "
        "Likert question (or a matrix item), not a question of type 'integer'",
    ),
    "bad_expression": (
        "sheet survey, row 3, column F (relevant)",
        "relevance of 'q2': the expression ends too early (at character 9)",
    ),
    "bad_name": (
        "sheet survey, row 2, column B (name)",
        "name 'my question' is not a valid variable name",
    ),
    "bad_required": (
        "sheet survey, row 2, column E (required)",
        "required must be yes or no, not 'maybe'",
    ),
    "duplicate_choice": (
        "sheet choices, row 4, column B (name)",
        "choice 'yes' appears twice in list 'yn' (also in row 2)",
    ),
    "duplicate_column": (
        "sheet survey, row 1, column C",
        "column header 'name' appears twice (also in column B)",
    ),
    "duplicate_name": (
        "sheet survey, row 3, column B (name)",
        "name 'age' is used twice (also in row 2)",
    ),
    "later_reference": (
        "sheet survey, row 2, column F (relevant)",
        "refers to ${q2}, which comes later in the form",
    ),
    "matrix_mixed_lists": (
        "sheet survey, row 3, column A (type)",
        "matrix 'm1' must contain single-choice or Likert items that all use list 'yn'",
    ),
    "metadata_type": (
        "sheet survey, row 2, column A (type)",
        "question type 'start' records device or time metadata",
    ),
    "missing_label": (
        "sheet survey, row 3, column C (label::English (en))",
        "no label in en (q2)",
    ),
    "no_survey_sheet": ("", "the workbook has no 'survey' sheet"),
    "not_a_workbook": ("", "the file is not an .xlsx workbook"),
    "or_other": (
        "sheet survey, row 2, column A (type)",
        "'integer' or_other: only select_one and select_multiple can have an 'other' choice",
    ),
    "plain_nested_group": (
        "sheet survey, row 3, column A (type)",
        "group 'inner': a group inside a page must have appearance 'table-list'",
    ),
    "slider_without_range": (
        "sheet survey, row 2, column H (parameters)",
        "slider 'score' needs numeric parameters start and end",
    ),
    "unclosed_group": (
        "sheet survey, row 2, column A (type)",
        "group 'page1' is never closed with end_group",
    ),
    "unknown_function": ("sheet survey, row 3, column F (relevant)", "unknown function foo()"),
    "refused_function": (
        "sheet survey, row 3, column F (relevant)",
        "pulldata() is not supported: it reads secondary instances or external files",
    ),
    "regex_lookahead": (
        "sheet survey, row 2, column G (constraint)",
        "the regular expression cannot be used (invalid perl operator: (?=)",
    ),
    "unknown_list": (
        "sheet survey, row 2, column A (type)",
        "choice list 'nolist' is not defined in the choices sheet",
    ),
    "unknown_reference": (
        "sheet survey, row 2, column F (relevant)",
        "refers to ${nope}, which is not a question of this form",
    ),
    "unmatched_end": (
        "sheet survey, row 3, column A (type)",
        "end_group without a matching begin_group",
    ),
    "unsupported_column": (
        "sheet survey, row 2, column D (body::accuracyThreshold)",
        "column 'body::accuracyThreshold' is not supported by Candid; supported columns:",
    ),
    "unsupported_type": (
        "sheet survey, row 2, column A (type)",
        "question type 'geopoint' is not supported; supported types: select_one LIST",
    ),
}


def test_corpus_is_complete():
    on_disk = {path.stem for path in CORPUS.glob("*.xlsx")}
    assert on_disk == set(EXPECTED), (
        "every bad spreadsheet needs an expected message, and every message a file"
    )
    assert len(on_disk) >= 15


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bad_spreadsheet_is_refused_with_location(name):
    location, message = EXPECTED[name]
    with pytest.raises(QuestionnaireInvalid) as caught:
        read_xlsform((CORPUS / f"{name}.xlsx").read_bytes())
    first = caught.value.problems[0]
    assert first.location == location
    assert message in first.message


def test_unsupported_type_lists_the_supported_ones():
    with pytest.raises(QuestionnaireInvalid) as caught:
        read_xlsform((CORPUS / "unsupported_type.xlsx").read_bytes())
    for supported in (
        "select_one LIST",
        "select_multiple LIST",
        "rank LIST",
        "integer",
        "range",
        "date",
    ):
        assert supported in caught.value.problems[0].message


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_nothing_is_written_on_any_error(name, call_command_capture):
    before = (Study.objects.count(), QuestionnaireVersion.objects.count(), Question.objects.count())
    output = call_command_capture("import_questionnaire", str(CORPUS / f"{name}.xlsx"), "--study", "bad")
    assert "was not imported" in output
    assert EXPECTED[name][1] in output
    assert (
        Study.objects.count(),
        QuestionnaireVersion.objects.count(),
        Question.objects.count(),
    ) == before


@pytest.mark.django_db
def test_a_failure_while_writing_rolls_everything_back(admin_user_, monkeypatch):
    from tests.specs import tiny_spec

    def explode(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(Question.objects, "bulk_create", explode)
    with pytest.raises(RuntimeError):
        questionnaire_import(spec=tiny_spec(), owner=admin_user_, study_slug="atomic")
    assert not Study.objects.filter(slug="atomic").exists()
    assert QuestionnaireVersion.objects.count() == 0


def test_parameters_take_lists_of_codes_after_an_equals_sign():
    """``correct=a,b`` (an attention check with two right answers) and ``direct_levels=a,b`` keep
    their commas; pairs are still separated by spaces, semicolons or commas, as pyxform reads them."""
    import io

    import openpyxl

    book = openpyxl.Workbook()
    survey = book.active
    survey.title = "survey"
    survey.append(["type", "name", "label", "parameters"])
    survey.append(["select_one yn", "check", "Pick yes or no", "correct=yes, no"])
    survey.append(["range", "score", "Score", "start=0,end=10, step=1"])
    survey.append(["range", "other", "Other", "start=1; end=5"])
    choices = book.create_sheet("choices")
    choices.append(["list_name", "name", "label"])
    choices.append(["yn", "yes", "Yes"])
    choices.append(["yn", "no", "No"])
    buffer = io.BytesIO()
    book.save(buffer)
    spec = read_xlsform(buffer.getvalue())
    questions = {q["code"]: q for section in spec["sections"] for q in section["questions"]}
    assert questions["check"]["parameters"] == {"correct": "yes,no"}
    assert questions["score"]["parameters"] == {"start": "0", "end": "10", "step": "1"}
    assert questions["other"]["parameters"] == {"start": "1", "end": "5"}
