"""Piping (issue 14): ``${code}`` in page titles, question labels, hints, constraint messages and
choice labels shows an answer from an earlier page, in the participant's language; whatever cannot
be piped (an answer on the same page, a later or unknown question, a malformed ``${``, any ``${`` in
the study title, the form title or the consent texts) is refused when saved, with where and why,
instead of reaching a participant as typed. So is a question named like a field of the page form."""

from __future__ import annotations

import copy

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from survey.instrument import normalize, validate
from tests.specs import consent_details, tiny_spec


def two_pages(**page_two: object) -> dict:
    """Page one asks q1 (yes/no); page two (``p2``) asks q3, a single choice of list ``again``."""
    spec = copy.deepcopy(tiny_spec())
    spec["sections"][0]["questions"] = spec["sections"][0]["questions"][:1]
    spec["sections"].append(
        {
            "code": "p2",
            "label": page_two.get("title", {"en": "About ${q1}", "zh": "关于${q1}"}),
            "questions": [
                {
                    "code": "q3",
                    "type": "single_choice",
                    "choice_list": "again",
                    "label": page_two.get("label", {"en": "Q3", "zh": "问3"}),
                    "hint": {"en": "You said ${q1}", "zh": "你说${q1}"},
                    "constraint": ". != 'other'",
                    "constraint_message": {"en": "Not after ${q1}", "zh": "${q1}之后不行"},
                },
                {"code": "q4", "type": "text", "label": page_two.get("q4", {"en": "Q4", "zh": "问4"})},
            ],
        }
    )
    spec["choice_lists"].append(
        {
            "name": "again",
            "choices": [
                {"code": "same", "label": page_two.get("choice", {"en": "${q1} again", "zh": "又是${q1}"})},
                {"code": "other", "label": {"en": "Other", "zh": "其他"}},
            ],
        }
    )
    return normalize(spec)


def codes(spec: dict) -> list[tuple[str, str]]:
    return [(problem.code, problem.message) for problem in validate(spec)]


def test_piping_from_an_earlier_page_is_accepted_everywhere_it_is_documented():
    assert validate(two_pages()) == []


@pytest.mark.parametrize(
    ("where", "value", "expected"),
    [
        ("q4", {"en": "You chose ${q3}", "zh": "你选了${q3}"}, "same_page_reference"),
        ("title", {"en": "About ${q3}", "zh": "关于${q3}"}, "same_page_reference"),
        ("choice", {"en": "${q4} again", "zh": "又是${q1}"}, "same_page_reference"),
        ("label", {"en": "Q3 ${nope}", "zh": "问3"}, "unknown_reference"),
        ("label", {"en": "Q3 ${q1", "zh": "问3"}, "pipe_syntax"),
        ("title", {"en": "About ${ q1 }", "zh": "关于"}, "pipe_syntax"),
        ("choice", {"en": "${p1} again", "zh": "又是"}, "unknown_reference"),
    ],
)
def test_what_cannot_be_piped_is_refused_with_the_reason(where, value, expected):
    problems = validate(two_pages(**{where: value}))
    assert problems and {problem.code for problem in problems} == {expected}, problems
    if expected == "same_page_reference":
        assert "answered on the same page" in problems[0].message


def test_a_later_question_in_a_page_title_is_refused():
    spec = two_pages()
    spec["sections"][0]["label"] = {"en": "Before ${q3}", "zh": "在${q3}之前"}
    assert {problem.code for problem in validate(spec)} == {"later_reference"}


def test_the_form_title_cannot_pipe():
    spec = two_pages()
    spec["title"] = {"en": "Survey for ${q1}", "zh": "调查"}
    assert [(p.code, "form title (en)" in p.message) for p in validate(spec)] == [("pipe_in_title", True)]


def test_an_xlsform_with_a_same_page_pipe_says_where(tmp_path):
    import openpyxl

    from survey.instrument import QuestionnaireInvalid
    from survey.xlsform import read_xlsform

    book = openpyxl.Workbook()
    survey = book.active
    survey.title = "survey"
    survey.append(["type", "name", "label::English (en)"])
    survey.append(["integer", "age", "Age"])
    survey.append(["text", "why", "Why ${age}?"])
    choices = book.create_sheet("choices")
    choices.append(["list_name", "name", "label::English (en)"])
    path = tmp_path / "same_page.xlsx"
    book.save(path)
    with pytest.raises(QuestionnaireInvalid) as refused:
        read_xlsform(path)
    problem = refused.value.problems[0]
    assert problem.code == "same_page_reference"
    assert str(problem).startswith("sheet survey, row 3, column C")


@pytest.mark.django_db
def test_piped_texts_reach_the_participant_in_their_language(admin_user_):
    from survey.services.questionnaires import consent_create, questionnaire_import, questionnaire_publish
    from tests.survey.test_participant_flow import agree

    version = questionnaire_import(spec=two_pages(), owner=admin_user_, study_slug="piping")
    questionnaire_publish(
        version=version,
        consent=consent_create(study=version.study, texts={"en": "C", "zh": "C"}, **consent_details()),
    )
    for accept, expected in (
        ("en", ["About Yes", "You said Yes", "Yes again"]),
        ("zh", ["关于是", "你说是", "又是是"]),
    ):
        client = Client(HTTP_ACCEPT_LANGUAGE=accept)
        agree(client, "/s/piping/")
        client.post("/s/piping/p/0/", {"q1": "yes", "shown": "q1", "action": "next"})
        page = client.get("/s/piping/p/1/").content.decode()
        assert all(text in page for text in expected) and "${" not in page
        refused = client.post("/s/piping/p/1/", {"q3": "other", "shown": "q3 q4", "action": "next"})
        assert ("Not after Yes" if accept == "en" else "是之后不行") in refused.content.decode()


@pytest.mark.django_db
def test_consent_texts_and_the_study_title_refuse_piping(admin_user_):
    from survey.models import ConsentText
    from survey.services.questionnaires import consent_create, questionnaire_import

    study = questionnaire_import(spec=two_pages(), owner=admin_user_, study_slug="piping").study
    details = consent_details()
    with pytest.raises(ValidationError) as refused:
        consent_create(study=study, texts={"en": "Hello ${q1}", "zh": "你好"}, **details)
    assert set(refused.value.message_dict) == {"texts"}
    assert "read before any answer" in refused.value.message_dict["texts"][0]
    with pytest.raises(ValidationError) as refused:
        consent_create(study=study, texts={"en": "C", "zh": "C"}, **{**details, "contact": {"en": "${x}"}})
    assert set(refused.value.message_dict) == {"contact"}
    assert not ConsentText.objects.filter(study=study).exists()
    study.titles = {"en": "Hi ${q1}", "zh": "调查"}
    with pytest.raises(ValidationError) as refused:
        study.full_clean()
    assert set(refused.value.message_dict) == {"titles"}


@pytest.mark.django_db
def test_the_studio_consent_form_says_why_and_saves_nothing(admin_user_):
    from survey.models import ConsentText
    from survey.services.questionnaires import questionnaire_import

    study = questionnaire_import(spec=two_pages(), owner=admin_user_, study_slug="piping").study
    client = Client()
    client.force_login(admin_user_)
    url = f"/studio/{study.slug}/consent/new/"
    fields = {"texts__en": "Thanks ${q1}", "texts__zh": "谢谢", "ethics_reference": "X-1"}
    page = client.post(url, fields)
    assert page.status_code == 400 and "read before any answer" in page.content.decode()
    assert not ConsentText.objects.filter(study=study).exists()


@pytest.mark.parametrize("name", ["action", "shown", "csrfmiddlewaretoken"])
def test_a_question_cannot_take_a_name_the_page_form_uses(name):
    # A radio named "action" would send a second "action" beside the Next button's: no page of the
    # study could ever be sent. The importer says so instead.
    spec = copy.deepcopy(two_pages())
    spec["sections"][1]["questions"][1]["code"] = name
    assert [p.code for p in validate(normalize(spec))] == ["reserved_code"]
