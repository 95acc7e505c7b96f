"""Texts kept in fixed-width columns are checked at their cell; a long citation is kept whole.

A value longer than its column used to pass validation and fail only on PostgreSQL (SQLite does not
enforce ``max_length``) with a database error while saving: a 201-character ``source`` broke the
shipped study's import there.
"""

import io

import openpyxl
import pytest

from survey.instrument import TEXT_LIMITS, QuestionnaireInvalid
from survey.models import Question, QuestionnaireVersion
from survey.services.questionnaires import questionnaire_import
from survey.xlsform import read_xlsform


def workbook(appearance: str = "", source: str = "", form_id: str = "limits") -> bytes:
    book = openpyxl.Workbook()
    survey = book.active
    survey.title = "survey"
    survey.append(["type", "name", "label", "appearance", "source"])
    survey.append(["integer", "q1", "How many?", appearance, source])
    settings = book.create_sheet("settings")
    settings.append(["form_title", "form_id"])
    settings.append(["Limits", form_id])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_limits_are_the_columns_widths():
    assert TEXT_LIMITS["appearance"] == Question._meta.get_field("appearance").max_length
    assert TEXT_LIMITS["form_id"] == QuestionnaireVersion._meta.get_field("form_id").max_length


@pytest.mark.parametrize(
    ("cells", "location"),
    [
        ({"appearance": "x" * 101}, "sheet survey, row 2, column D (appearance)"),
        ({"form_id": "f" * 101}, "sheet settings, row 2, column B (form_id)"),
    ],
)
def test_a_text_longer_than_its_column_is_refused_at_its_cell(cells, location):
    with pytest.raises(QuestionnaireInvalid) as caught:
        read_xlsform(workbook(**cells), name="limits.xlsx")
    (problem,) = caught.value.problems
    assert location in problem.location
    assert "characters long; at most 100 are kept" in problem.message


@pytest.mark.django_db
def test_a_long_source_citation_is_kept_whole(admin_user_):
    citation = "Kostka, G. (2019). China's social credit systems and public opinion. " * 8
    spec = read_xlsform(workbook(source=citation), name="limits.xlsx")
    questionnaire_import(spec=spec, owner=admin_user_, study_slug="limits")
    assert Question.objects.get(code="q1").source == citation.strip()
