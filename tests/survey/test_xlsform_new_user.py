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


def test_a_message_only_in_a_second_language_is_said_to_be_read_in_it():
    """A constraint message written only in zh-CN reaches English readers in Chinese (the page falls
    back to the language that has it, as for labels); the import's notices said they would see it in
    en, the default language, which has none."""
    from survey.forms import text_in
    from survey.instrument_files import untranslated_note
    from survey.xlsform.reader import untranslated_cells

    survey = [
        [
            "type",
            "name",
            "label::English (en)",
            "label::Chinese (zh-CN)",
            "constraint",
            "constraint_message::Chinese (zh-CN)",
            "hint::English (en)",
        ],
        ["integer", "age", "Age", "年龄", ". >= 18", "必须年满18岁", "Years"],
    ]
    spec = read_xlsform(workbook(survey))
    message = spec["sections"][0]["questions"][0]["constraint_message"]
    assert text_in(message, "en", spec["default_language"]) == "必须年满18岁"  # what the page shows
    note = untranslated_note(spec)
    assert "age (message when not accepted: en, read in zh-CN)" in note
    assert "age (hint: zh-CN)" in note  # a hint in the default language: read in it, as the note opens
    cells = [str(problem) for problem in untranslated_cells(spec, lambda *where: "here")]
    assert "here: no message when not accepted in en: readers of en see the zh-CN one" in cells
    assert "here: no hint in zh-CN: readers of zh-CN see the en one" in cells


@pytest.mark.django_db
def test_a_reader_of_a_language_the_form_has_no_title_in_sees_the_studys_title(admin_user_):
    from django.test import Client

    from survey.services.questionnaires import consent_create, questionnaire_import, questionnaire_publish
    from tests.specs import consent_details, tiny_spec
    from tests.survey.test_participant_flow import agree

    version = questionnaire_import(
        spec=tiny_spec(title={"en": "tiny-file"}), owner=admin_user_, study_slug="t"
    )
    study = version.study
    study.titles = {"en": "Study", "zh": "研究"}
    study.save()
    consent = consent_create(study=study, texts={"en": "C", "zh": "C"}, **consent_details())
    questionnaire_publish(version=version, consent=consent)
    for accept, title in (("zh-CN", "研究"), ("en", "tiny-file")):
        client = Client(HTTP_ACCEPT_LANGUAGE=accept)
        page = agree(client, "/s/t/")
        page = (
            client.get(page["Location"]).content.decode()
            if page.status_code == 302
            else page.content.decode()
        )
        heading = page[page.index("<main") :]
        assert title in heading and ("tiny-file" not in heading if accept == "zh-CN" else True)


def test_the_validators_refusals_are_in_the_researchers_language():
    """In the Chinese studio the refusals were half English ("relevance of 'q3' refers to ${q9}, which
    is not a question of this form", "'3.5' is not a whole number"): the validator's messages go
    through gettext, formatted in the language of the request."""
    from django.utils import translation

    survey = [
        ["type", "name", "label::English (en)", "label::Chinese (zh-CN)", "relevant", "default"],
        ["integer", "q1", "Q1", "问1", "", "3.5"],
        ["text", "q3", "Q3", "问3", "${q9} = 1", ""],
        ["select_one nolist", "q4", "Q4", "问4", "", ""],
    ]
    with translation.override("zh-hans"):
        problems = refused(survey, [["list_name", "name", "label"], ["colours", "red", "Red"]])
    messages = " ".join(problem.message for problem in problems)
    assert "'3.5' 不是整数" in messages
    assert "引用了 ${q9}，但它不是本问卷的问题" in messages
    assert "选项列表 'nolist' 未在 choices 工作表中定义" in messages
    for english in ("is not a", "refers to", "not defined"):
        assert english not in messages
    with translation.override("en"):
        problems = refused(survey, [["list_name", "name", "label"], ["colours", "red", "Red"]])
    assert "'3.5' is not a whole number" in " ".join(problem.message for problem in problems)
