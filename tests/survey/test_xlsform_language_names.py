"""A language declared by its name alone, as pyxform takes any name: a name Django's table or Candid's
list knows is its BCP 47 tag (``Kiswahili`` → ``sw``); any other is a private-use tag (RFC 5646 §2.2.7:
``Tetun`` → ``x-tetun``), shown to participants by its name and written back as the form wrote it."""

import re
import warnings

import pytest
from django.test import Client
from pyxform.xls2xform import convert

from survey.languages import TAG_PATTERN, lookup, normalize_tag, private_use_tag
from survey.xlsform import read_xlsform, write_xlsform
from tests.specs import consent_details, tiny_spec
from tests.survey.xlsform_helpers import workbook

SURVEY = [
    ["type", "name", "label::English", "label::Kiswahili", "label::Tetun", "hint::Tetun"],
    ["select_one yn", "smoke", "Do you smoke?", "Unavuta sigara?", "Ó fuma?", "Hili ida"],
]
CHOICES = [
    ["list_name", "name", "label::English", "label::Kiswahili", "label::Tetun"],
    ["yn", "yes", "Yes", "Ndiyo", "Sin"],
    ["yn", "no", "No", "Hapana", "Lae"],
]


def pyxform(content: bytes):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return convert(xlsform=content, file_type=".xlsx")


def test_a_language_known_by_its_name_alone_is_accepted_as_pyxform_accepts_it():
    content = workbook(SURVEY, choices=CHOICES)
    assert 'lang="Tetun"' in pyxform(content).xform
    spec = read_xlsform(content)
    assert spec["languages"] == ["en", "sw", "x-tetun"]
    assert spec["language_names"] == {"en": "English", "sw": "Kiswahili", "x-tetun": "Tetun"}
    question = spec["sections"][0]["questions"][0]
    assert question["label"]["x-tetun"] == "Ó fuma?" and question["hint"] == {"x-tetun": "Hili ida"}


def test_the_export_writes_the_name_back_and_reads_back_equal():
    spec = read_xlsform(workbook(SURVEY, choices=CHOICES, settings=[["default_language"], ["Tetun"]]))
    assert spec["default_language"] == "x-tetun" and spec["languages"][0] == "x-tetun"
    exported = write_xlsform(spec)
    assert read_xlsform(exported) == spec
    xform = pyxform(exported).xform
    assert 'lang="Tetun"' in xform and "x-tetun" not in xform and "Ó fuma?" in xform


@pytest.mark.parametrize(
    ("name", "tag"),
    [
        ("Tetun", "x-tetun"),
        ("Tetun Dili", "x-tetun-dili"),
        ("  tetun ", "x-tetun"),
        ("Tiếng Mường", "x-tieng-muong"),
        ("Klingon", "x-klingon"),
    ],
)
def test_a_private_use_tag_is_made_of_the_names_words(name, tag):
    assert private_use_tag(name) == tag


def test_a_name_without_latin_letters_or_too_long_still_gets_a_tag_of_its_own():
    tags = {
        private_use_tag(name)
        for name in ("ትግርኛ", "ꆈꌠꉙ", "Kinyarwanda Rwandese Long", "Kinyarwanda Other Long")
    }
    assert len(tags) == 4
    for tag in tags:
        assert tag.startswith("x-") and len(tag) <= 16 and TAG_PATTERN.match(tag)
        assert normalize_tag(tag) == tag


def test_private_use_subtags_are_not_read_as_scripts_or_regions():
    assert normalize_tag("X-Tetun-Dili") == "x-tetun-dili" and normalize_tag("x-ab") == "x-ab"
    assert lookup(["x-tetun"], ["en", "x-tetun"], "en") == "x-tetun"
    assert lookup(["pt-TL"], ["en", "x-tetun"], "en") == "en"


@pytest.mark.django_db
def test_participants_see_the_language_by_its_name(admin_user_):
    from survey.services.questionnaires import consent_create, questionnaire_import, questionnaire_publish

    spec = tiny_spec()
    spec["languages"] = ["en", "x-tetun"]
    spec["language_names"] = {"en": "English", "x-tetun": "Tetun"}
    spec["title"] = {"en": "Tiny", "x-tetun": "Ki'ik"}
    for node in [spec["sections"][0], *spec["sections"][0]["questions"], *spec["choice_lists"][0]["choices"]]:
        node["label"]["x-tetun"] = node["label"].pop("zh")
        node.pop("constraint_message", None)
    version = questionnaire_import(spec=spec, owner=admin_user_, study_slug="tetun")
    assert version.study.languages == ["en", "x-tetun"]
    consent = consent_create(
        study=version.study, texts={"en": "C", "x-tetun": "C"}, **consent_details(("en", "x-tetun"))
    )
    questionnaire_publish(version=version, consent=consent)
    client = Client()
    page = client.get("/s/tetun/?lang=x-tetun").content.decode()
    assert re.search(r'<span aria-current="true" lang="x-tetun">Tetun</span>', page)
    key = re.search(r'name="consent_key" value="([^"]+)"', page).group(1)
    html = client.post("/s/tetun/", {"consent_key": key, "agree": "yes", "action": "agree"}, follow=True)
    html = html.content.decode()
    assert "问1" in html and ">Tetun<" in html and "x-tetun</" not in html
