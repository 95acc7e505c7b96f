"""Translations as pyxform takes them: a label, hint or constraint message may be missing in a language
(pyxform warns, the page falls back to the default language), and texts written in a language that has no labels
survive an export."""

import io
import re
import warnings

import openpyxl
import pytest
from django.test import Client
from pyxform.xls2xform import convert

from survey.instrument import QuestionnaireInvalid, untranslated
from survey.xlsform import read_xlsform, write_xlsform
from tests.specs import consent_details, tiny_spec
from tests.survey.xlsform_helpers import CHOICES as CHOICES_EN
from tests.survey.xlsform_helpers import workbook

BILINGUAL = [
    [
        "type",
        "name",
        "label::English (en)",
        "label::中文 (zh)",
        "constraint",
        "constraint_message::English (en)",
    ],
    ["integer", "age", "Age", "年龄", ". >= 18", "Adults only"],
]


def pyxform(content: bytes):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return convert(xlsform=content, file_type=".xlsx")


def test_a_constraint_message_in_one_language_only_is_accepted_as_pyxform_accepts_it():
    content = workbook(BILINGUAL)
    converted = pyxform(content)  # pyxform converts it, with a warning about the missing translation
    assert any("missing" in warning for warning in converted.warnings)
    spec = read_xlsform(content)
    question = spec["sections"][0]["questions"][0]
    assert spec["languages"] == ["en", "zh"] and question["constraint_message"] == {"en": "Adults only"}
    assert untranslated(spec) == [("age", "constraint_message", ["zh"])]
    assert read_xlsform(write_xlsform(spec)) == spec


def test_a_hint_missing_in_the_default_language_is_accepted_too():
    survey = [
        ["type", "name", "label::en", "label::zh", "hint::zh"],
        ["text", "city", "City", "城市", "例如：北京"],
    ]
    spec = read_xlsform(workbook(survey))
    assert spec["sections"][0]["questions"][0]["hint"] == {"zh": "例如：北京"}
    assert untranslated(spec) == [("city", "hint", ["en"])]


FRENCH_GAPS = [
    ["type", "name", "label::English (en)", "label::Français (fr)"],
    ["select_one yn", "smoke", "Do you smoke?", "Fumez-vous ?"],
    ["integer", "cigarettes", "How many a day?", ""],
]
FRENCH_CHOICES = [
    ["list_name", "name", "label::English (en)", "label::Français (fr)"],
    ["yn", "yes", "Yes", "Oui"],
    ["yn", "no", "No", ""],
]


def test_a_label_missing_in_one_language_is_accepted_as_pyxform_accepts_it():
    """pyxform converts the form (it writes "-" there); Candid keeps the cell empty, lists it and
    shows the default language's label there. The export writes the empty cells back, nothing invented."""
    content = workbook(FRENCH_GAPS, choices=FRENCH_CHOICES)
    assert pyxform(content).xform.count("<value>-</value>") == 2  # pyxform's stand-in for the two cells
    spec = read_xlsform(content)
    question = spec["sections"][0]["questions"][1]
    assert spec["languages"] == ["en", "fr"] and question["label"] == {"en": "How many a day?"}
    assert spec["choice_lists"][0]["choices"][1]["label"] == {"en": "No"}
    assert untranslated(spec) == [("cigarettes", "label", ["fr"]), ("yn/no", "label", ["fr"])]
    exported = write_xlsform(spec)
    assert read_xlsform(exported) == spec
    survey = openpyxl.load_workbook(io.BytesIO(exported))["survey"]
    header, *rows = survey.iter_rows(values_only=True)
    row = next(row for row in rows if row[header.index("name")] == "cigarettes")
    assert row[header.index("label::Français (fr)")] in (None, "")


def test_each_cell_accepted_empty_is_a_notice_at_its_sheet_row_and_column():
    notices = []
    read_xlsform(workbook(FRENCH_GAPS, choices=FRENCH_CHOICES), notices=notices)
    assert [str(notice) for notice in notices] == [
        "sheet survey, row 3, column D (label::Français (fr)): no label in fr: readers of fr see the en one",
        "sheet choices, row 3, column D (label::Français (fr)): no label in fr: readers of fr see the en one",
    ]
    assert {notice.code for notice in notices} == {"untranslated"}


@pytest.mark.django_db
def test_import_questionnaire_lists_each_cell(tmp_path, admin_user_):
    from django.core.management import call_command

    path = tmp_path / "gaps.xlsx"
    path.write_bytes(workbook(FRENCH_GAPS, choices=FRENCH_CHOICES))
    out = io.StringIO()
    call_command("import_questionnaire", str(path), "--study", "gaps", stdout=out)
    text = out.getvalue()
    assert "cigarettes (label: fr); yn/no (choice label: fr)" in text
    assert "  - sheet choices, row 3, column D (label::Français (fr)): no label in fr" in text


def test_a_label_missing_in_every_language_is_still_refused():
    survey = [
        ["type", "name", "label::en", "label::zh"],
        ["text", "name", "Name", "名字"],
        ["text", "city", "", ""],
    ]
    with pytest.raises(QuestionnaireInvalid, match=r"no label in en \(city\)") as caught:
        read_xlsform(workbook(survey))
    assert {p.location for p in caught.value.problems} == {
        "sheet survey, row 3, column C (label::en)",
        "sheet survey, row 3, column D (label::zh)",
    }


def test_a_label_column_left_empty_is_no_language_of_the_form_as_pyxform_reads_it():
    """pyxform reads cells: a template's label::zh with nothing in it is no language of the form. A hint
    written in it is kept, as texts in a language without labels are."""
    survey = [
        ["type", "name", "label::en", "label::zh", "hint::zh", "label::fr"],
        ["text", "city", "City", "", "例如：北京", ""],
        ["select_one yn or_other", "town", "Town", "", "", ""],
    ]
    spec = read_xlsform(workbook(survey, choices=CHOICES_EN))
    assert spec["languages"] == ["en"] and untranslated(spec) == [("city", "hint", ["en"])]
    assert spec["sections"][0]["questions"][0]["hint"] == {"zh": "例如：北京"}
    assert spec["sections"][0]["questions"][2]["label"] == {"en": "Specify other."}
    assert read_xlsform(write_xlsform(spec)) == spec


@pytest.mark.django_db
def test_a_participant_reading_a_language_without_a_label_gets_the_default_languages(admin_user_):
    from survey.services.questionnaires import consent_create, questionnaire_import, questionnaire_publish

    spec = tiny_spec()
    spec["sections"][0]["questions"][0]["label"] = {"en": "Q1 in English"}
    spec["choice_lists"][0]["choices"][1]["label"] = {"en": "No in English"}
    version = questionnaire_import(spec=spec, owner=admin_user_, study_slug="gaps")
    consent = consent_create(study=version.study, texts={"en": "C", "zh": "C"}, **consent_details())
    questionnaire_publish(version=version, consent=consent)
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-CN")
    page = client.get("/s/gaps/").content.decode()
    key = re.search(r'name="consent_key" value="([^"]+)"', page).group(1)
    html = client.post("/s/gaps/", {"consent_key": key, "agree": "yes", "action": "agree"}, follow=True)
    html = html.content.decode()
    assert "Q1 in English" in html and "No in English" in html and "是" in html and "问2" in html


def test_the_import_note_lists_each_text_left_untranslated():
    from survey.instrument_files import untranslated_note

    spec = read_xlsform(workbook(FRENCH_GAPS, choices=FRENCH_CHOICES))
    note = untranslated_note(spec)
    assert "cigarettes (label: fr)" in note and "yn/no (choice label: fr)" in note and " en:" in note


def test_texts_in_a_language_without_labels_are_written_back():
    """pyxform reads ``hint::fr`` on a form labelled in English only; the export used to drop it."""
    survey = [
        [
            "type",
            "name",
            "label::English (en)",
            "hint::Français (fr)",
            "constraint",
            "constraint_message::fr",
        ],
        ["integer", "age", "Age", "En années", ". >= 0", "Pas négatif"],
    ]
    settings = [["form_title", "form_title::fr"], ["Ages", "Âges"]]
    spec = read_xlsform(workbook(survey, settings=settings))
    question = spec["sections"][0]["questions"][0]
    assert spec["languages"] == ["en"] and spec["title"] == {"en": "Ages", "fr": "Âges"}
    assert question["hint"] == {"fr": "En années"} and question["constraint_message"] == {"fr": "Pas négatif"}
    exported = write_xlsform(spec)
    xform = pyxform(exported).xform
    assert "En années" in xform and "Pas négatif" in xform
    assert read_xlsform(exported) == spec


@pytest.mark.django_db
def test_a_participant_reading_a_language_without_the_message_gets_the_default_languages(admin_user_):
    from survey.services.questionnaires import consent_create, questionnaire_import, questionnaire_publish

    spec = tiny_spec()
    spec["sections"][0]["questions"][1]["constraint_message"] = {"en": "Not negative"}
    version = questionnaire_import(spec=spec, owner=admin_user_, study_slug="partial")
    consent = consent_create(study=version.study, texts={"en": "C", "zh": "C"}, **consent_details())
    questionnaire_publish(version=version, consent=consent)
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-CN")
    page = client.get("/s/partial/").content.decode()
    key = re.search(r'name="consent_key" value="([^"]+)"', page).group(1)
    client.post("/s/partial/", {"consent_key": key, "agree": "yes", "action": "agree"})
    html = client.post("/s/partial/p/0/", {"q1": "yes", "q2": "-4"}).content.decode()
    assert "问2" in html and "Not negative" in html


def test_a_spec_with_a_partial_translation_is_valid_and_round_trips():
    spec = tiny_spec()
    spec["sections"][0]["questions"][1]["constraint_message"] = {"zh": "不能为负"}
    spec["sections"][0]["questions"][0]["hint"] = {"en": "Pick one", "fr": "Choisissez"}
    assert read_xlsform(write_xlsform(spec)) == spec
