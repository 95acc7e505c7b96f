"""Translations as pyxform takes them: a hint or constraint message may be missing in a language (pyxform
warns, the page falls back to the default language), and texts written in a language that has no labels
survive an export."""

import re
import warnings

import pytest
from django.test import Client
from pyxform.xls2xform import convert

from survey.instrument import untranslated
from survey.xlsform import read_xlsform, write_xlsform
from tests.specs import consent_details, tiny_spec
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


def test_labels_are_still_needed_in_every_language():
    survey = [["type", "name", "label::en", "label::zh"], ["text", "city", "City", ""]]
    with pytest.raises(Exception, match=r"no label in zh \(city\)"):
        read_xlsform(workbook(survey))


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
