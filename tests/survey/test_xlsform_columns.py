"""XLSForm as ODK and Kobo users write it: optional settings, BCP 47 language headers, pyxform's header
aliases, and clear refusals (sheet, row, column, what is unsupported) for what Candid does not do."""

from datetime import datetime

import pytest

from survey.instrument import QuestionnaireInvalid
from survey.models import QuestionnaireVersion
from survey.xlsform import read_xlsform
from tests.survey.xlsform_helpers import CHOICES, workbook

ONE_QUESTION = [["type", "name", "label"], ["integer", "age", "How old are you?"]]


def refused(content: bytes, name: str = "") -> list:
    with pytest.raises(QuestionnaireInvalid) as caught:
        read_xlsform(content, name=name)
    return caught.value.problems


# --- settings: the sheet and each key optional -----------------------------------------------------


def test_a_form_without_a_settings_sheet_takes_its_title_from_the_file_name():
    spec = read_xlsform(workbook(ONE_QUESTION), name="household_2024.xlsx")
    assert spec["title"] == {"en": "household_2024"} and spec["form_id"] == ""


def test_a_form_without_form_title_takes_its_form_id():
    spec = read_xlsform(workbook(ONE_QUESTION, settings=[["form_id"], ["hh_survey"]]), name="x.xlsx")
    assert spec["title"] == {"en": "hh_survey"} and spec["form_id"] == "hh_survey"


def test_an_empty_settings_sheet_and_unused_ODK_settings_are_fine():
    settings = [
        ["form_title", "version", "instance_name", "allow_choice_duplicates"],
        ["T", "2024-01", "x", "yes"],
    ]
    assert read_xlsform(workbook(ONE_QUESTION, settings=settings))["title"] == {"en": "T"}
    assert read_xlsform(workbook(ONE_QUESTION, settings=[["form_title"]]), name="a.xlsx")["title"] == {
        "en": "a"
    }


def test_default_language_names_the_language_of_unmarked_columns():
    survey = [["type", "name", "label", "label::English (en)"], ["integer", "age", "Quel âge ?", "How old?"]]
    spec = read_xlsform(workbook(survey, settings=[["default_language"], ["French (fr)"]]))
    assert spec["default_language"] == "fr" and spec["languages"] == ["fr", "en"]
    assert spec["sections"][0]["questions"][0]["label"] == {"fr": "Quel âge ?", "en": "How old?"}


@pytest.mark.django_db
def test_the_command_line_imports_a_form_without_a_title(tmp_path, call_command_capture):
    path = tmp_path / "village_survey.xlsx"
    path.write_bytes(workbook(ONE_QUESTION))
    output = call_command_capture("import_questionnaire", str(path))
    assert "Imported" in output, output
    assert QuestionnaireVersion.objects.get().title == {"en": "village_survey"}


# --- languages -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "tag"),
    [
        ("label::Chinese (zh-CN)", "zh-CN"),
        ("label::简体中文 (zh-CN)", "zh-CN"),
        ("label::Chinese (zh-cn)", "zh-CN"),
        ("label::Chinese (zh-Hans)", "zh-Hans"),
        ("label::Chinese (zh_hans)", "zh-Hans"),
        ("label::繁體中文 (zh-TW)", "zh-TW"),
        ("label::Português (pt-BR)", "pt-BR"),
        ("label::zh-CN", "zh-CN"),
        ("label::zh-cn", "zh-CN"),
        ("label::English", "en"),
        ("label::Français", "fr"),
        ("label:English", "en"),
        ("label::English (en)\n", "en"),
    ],
)
def test_language_headers_are_read_as_BCP_47_tags(header, tag):
    spec = read_xlsform(workbook([["type", "name", header], ["integer", "age", "?"]]))
    assert spec["languages"] == [tag]
    assert spec["sections"][0]["questions"][0]["label"] == {tag: "?"}


def test_a_language_without_a_tag_is_a_private_use_tag_called_by_its_name():
    """pyxform takes any name; test_xlsform_language_names.py has the rest (export, participants)."""
    spec = read_xlsform(workbook([["type", "name", "label::Tetun"], ["integer", "age", "?"]]))
    assert spec["languages"] == ["x-tetun"] and spec["language_names"] == {"x-tetun": "Tetun"}


# --- pyxform's header aliases ----------------------------------------------------------------------


def test_pyxform_namespaced_and_aliased_headers_are_read():
    survey = [
        [
            "type",
            "name",
            "caption",
            "hint",
            "guidance_hint",
            "bind::required",
            "bind::relevant",
            "bind::constraint",
            "bind::jr:constraintMsg",
            "required_message",
            "body::appearance",
        ],
        [
            "select_one yn",
            "q1",
            "Q1",
            "",
            "for the interviewer",
            "yes",
            "",
            "",
            "",
            "Please answer",
            "likert",
        ],
        ["integer", "q2", "Q2", "A hint", "", "", "${q1} = 'yes'", ". > 0", "More than 0", "", ""],
    ]
    spec = read_xlsform(workbook(survey, choices=CHOICES))
    q1, q2 = spec["sections"][0]["questions"]
    assert q1["type"] == "likert" and q1["required"] is True
    assert q2["relevance"] == "${q1} = 'yes'" and q2["constraint"] == ". > 0"
    assert q2["constraint_message"] == {"en": "More than 0"} and q2["hint"] == {"en": "A hint"}


def test_relevance_and_constraining_message_aliases():
    survey = [
        ["type", "name", "label", "relevance"],
        ["integer", "a", "A", ""],
        ["integer", "b", "B", "${a} > 1"],
    ]
    assert read_xlsform(workbook(survey))["sections"][0]["questions"][1]["relevance"] == "${a} > 1"


# --- refusals that say what is unsupported ---------------------------------------------------------


@pytest.mark.parametrize("type_", ["begin repeat", "begin_repeat", "end repeat"])
def test_repeats_are_refused_as_repeats_not_as_metadata(type_):
    survey = [["type", "name", "label"], [type_, "members", "Members"], ["integer", "age", "Age"]]
    problems = refused(workbook(survey))
    assert problems[0].location == "sheet survey, row 2, column A (type)"
    assert "repeats are not supported for anonymous surveys" in problems[0].message
    assert not any("metadata" in problem.message for problem in problems)


@pytest.mark.parametrize("header", ["media::image", "image", "audio", "video", "media::audio::English (en)"])
def test_media_columns_are_refused_at_the_first_row_using_them(header):
    survey = [
        ["type", "name", "label", header],
        ["integer", "age", "Age", ""],
        ["integer", "height", "Height", "height.png"],
        ["integer", "weight", "Weight", "weight.png"],
    ]
    (problem,) = refused(workbook(survey))
    assert problem.location == f"sheet survey, row 3, column D ({header})"
    assert "attaches images, audio or video" in problem.message


def test_a_media_column_left_empty_is_fine():
    survey = [["type", "name", "label", "media::image"], ["integer", "age", "Age", ""]]
    assert read_xlsform(workbook(survey))["sections"][0]["questions"][0]["code"] == "age"


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ("repeat_count", "repeats are not supported"),
    ],
)
def test_columns_real_forms_use_are_refused_naming_what_they_do(header, reason):
    survey = [["type", "name", "label", header], ["integer", "age", "Age", "1"]]
    (problem,) = refused(workbook(survey))
    assert problem.location == f"sheet survey, row 2, column D ({header})"
    assert reason in problem.message


@pytest.mark.parametrize(
    "type_", ["geopoint", "image", "barcode", "acknowledge", "select_one_from_file a.csv"]
)
def test_a_type_pyxform_knows_but_candid_does_not_is_named_with_its_place(type_):
    (problem,) = refused(workbook([["type", "name", "label"], [type_, "x", "X"]]))
    assert problem.location == "sheet survey, row 2, column A (type)"
    assert f"question type {type_!r} is not supported" in problem.message


def test_calculate_without_its_expression_is_refused_naming_the_column():
    survey = [["type", "name", "label", "calculation"], ["calculate", "total", "", ""]]
    (problem,) = refused(workbook(survey))
    assert problem.location == "sheet survey, row 2, column D (calculation)"
    assert "calculate 'total' needs an expression in the calculation column" in problem.message


def test_extra_choice_columns_are_left_aside():
    choices = [
        ["list_name", "name", "label", "region"],
        ["yn", "yes", "Yes", "north"],
        ["yn", "no", "No", "south"],
    ]
    spec = read_xlsform(workbook([["type", "name", "label"], ["select_one yn", "q", "Q"]], choices=choices))
    assert [c["code"] for c in spec["choice_lists"][0]["choices"]] == ["yes", "no"]


def test_refusals_are_translated():
    from django.utils import translation

    with translation.override("zh-hans"):
        problems = refused(workbook([["type", "name", "label"], ["end repeat", "", ""]]))
    assert "匿名" in problems[0].message


def test_media_columns_on_the_choices_sheet_are_refused_too():
    choices = [
        ["list_name", "name", "label", "image"],
        ["yn", "no", "No", ""],
        ["yn", "yes", "Yes", "yes.png"],
    ]
    (problem,) = refused(workbook([["type", "name", "label"], ["select_one yn", "q", "Q"]], choices=choices))
    assert problem.location == "sheet choices, row 3, column D (image)" and problem.code == "media_column"


def test_loops_are_repeats():
    survey = [
        ["type", "name", "label"],
        ["begin loop over yn", "l", "L"],
        ["integer", "a", "A"],
        ["end loop", "", ""],
    ]
    problems = refused(workbook(survey, choices=CHOICES))
    assert [p.code for p in problems] == ["repeat", "repeat"]


def test_display_hints_and_instance_attributes_change_no_answer_and_are_left_aside():
    survey = [
        ["type", "name", "label", "body::rows", "instance::hxl"],
        ["text", "note_text", "Notes", "5", "#notes"],
    ]
    assert read_xlsform(workbook(survey))["sections"][0]["questions"][0]["code"] == "note_text"


def test_curly_quotes_in_expressions_are_straightened_as_pyxform_does():
    """A spreadsheet's autocorrect turns ' and " into ‘ ’ “ ”; pyxform straightens them, so must we.
    Labels keep theirs (they are typography, not syntax)."""
    survey = [
        ["type", "name", "label", "relevant", "constraint"],
        ["select_one yn", "q1", "“Quoted” label", "", ""],
        ["text", "q2", "Why?", "${q1} = ‘yes’", "string-length(.) > 0 or . != “x”"],
    ]
    spec = read_xlsform(workbook(survey, choices=CHOICES))
    q1, q2 = spec["sections"][0]["questions"]
    assert q2["relevance"] == "${q1} = 'yes'"
    assert q2["constraint"] == 'string-length(.) > 0 or . != "x"'
    assert q1["label"] == {"en": "“Quoted” label"}


def test_the_settings_version_is_kept_and_written_back():
    spec = read_xlsform(workbook(ONE_QUESTION, settings=[["form_id", "version"], ["hh", "2024-05-01"]]))
    assert spec["form_version"] == "2024-05-01"
    from survey.xlsform import write_xlsform

    assert read_xlsform(write_xlsform(spec)) == spec


@pytest.mark.parametrize(
    "value", [datetime(2024, 5, 1, 13, 45), datetime(2024, 5, 1), datetime(2024, 5, 1, 0, 0, 30)]
)
def test_a_date_cell_as_settings_version_is_read_as_pyxform_reads_it(value):
    """An Excel date cell (time included, midnight too) is the text pyxform gives the XForm's version,
    which ODK tools compare as text; a date-only version lost its time."""
    import re
    import warnings

    from pyxform.xls2xform import convert

    from survey.xlsform import write_xlsform

    content = workbook(ONE_QUESTION, settings=[["form_id", "version"], ["hh", value]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        xform = convert(xlsform=content, file_type=".xlsx").xform
    pyxform_version = re.search(r'<data id="hh" version="([^"]*)"', xform).group(1)
    spec = read_xlsform(content)
    assert spec["form_version"] == pyxform_version == str(value)
    assert read_xlsform(write_xlsform(spec)) == spec


def test_a_date_cell_elsewhere_keeps_its_time_only_when_it_has_one():
    survey = [["type", "name", "label", "default"], ["text", "wave", datetime(2024, 5, 1, 13, 45), "x"]]
    survey.append(["text", "day", datetime(2024, 5, 1), "y"])
    first, second = read_xlsform(workbook(survey))["sections"][0]["questions"]
    assert first["label"] == {"en": "2024-05-01 13:45:00"} and second["label"] == {"en": "2024-05-01"}


def test_a_workbook_of_one_sheet_not_named_survey_is_the_survey_as_pyxform_reads_it():
    import io

    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(workbook(ONE_QUESTION)))
    book.active.title = "Sheet1"
    buffer = io.BytesIO()
    book.save(buffer)
    spec = read_xlsform(buffer.getvalue(), name="ages.xlsx")
    assert spec["title"] == {"en": "ages"} and spec["sections"][0]["questions"][0]["code"] == "age"


def test_two_sheets_without_a_survey_sheet_are_still_refused():
    content = workbook(ONE_QUESTION, choices=CHOICES)
    import io

    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(content))
    book["survey"].title = "questions"
    buffer = io.BytesIO()
    book.save(buffer)
    (problem,) = refused(buffer.getvalue())
    assert problem.code == "no_survey_sheet"


@pytest.mark.parametrize("value", ["FALSE", "yes"])
def test_add_none_option_is_accepted_as_pyxform_4_applies_it_with_no_option_shown(value):
    """pyxform 4 adds to a select_multiple the constraint (.='none' or not(selected(., 'none'))) and no
    option named none, so its participants see the same choices; Candid accepts the setting alike."""
    import warnings

    from pyxform.xls2xform import convert

    survey = [["type", "name", "label"], ["select_multiple yn", "used", "Used"]]
    content = workbook(survey, choices=CHOICES, settings=[["add_none_option"], [value]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        xform = convert(xlsform=content, file_type=".xlsx").xform
    assert "<name>none</name>" not in xform
    spec = read_xlsform(content)
    assert [c["code"] for c in spec["choice_lists"][0]["choices"]] == ["yes", "no"]


def test_the_flat_setting_of_odk_tables_changes_no_answer_and_is_accepted():
    spec = read_xlsform(workbook(ONE_QUESTION, settings=[["form_title", "flat"], ["T", "TRUE"]]))
    assert spec["title"] == {"en": "T"}


def test_a_settings_version_longer_than_its_column_is_refused_at_its_cell():
    (problem,) = refused(workbook(ONE_QUESTION, settings=[["version"], ["9" * 101]]))
    assert problem.location == "sheet settings, row 2, column A (version)"
    assert "form_version is 101 characters long" in problem.message


def test_the_settings_version_is_named_in_the_codebook():
    from analysis.codebook import codebook_from_specs

    spec = read_xlsform(workbook(ONE_QUESTION, settings=[["version"], ["2024-05-01"]]))
    book = codebook_from_specs(
        study="s", title="S", languages=["en"], specs=[(1, spec), (2, {**spec, "form_version": ""})]
    )
    assert book.form_versions == {1: "2024-05-01"}
    assert book.to_dict()["form_versions"] == {"1": "2024-05-01"}
    assert "Version 1: XLSForm settings version 2024-05-01" in book.to_html("en")


@pytest.mark.django_db
def test_the_settings_version_is_stored_and_shown_beside_candids_version_number(admin_user_):
    from django.test import Client

    from survey.selectors import version_to_spec
    from survey.services.questionnaires import questionnaire_import

    spec = read_xlsform(workbook(ONE_QUESTION, settings=[["form_id", "version"], ["hh", "2024-05-01"]]))
    version = questionnaire_import(spec=spec, owner=admin_user_, study_slug="hh")
    version.refresh_from_db()
    assert version.form_version == "2024-05-01" and version_to_spec(version) == spec
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(admin_user_)
    page = client.get("/studio/hh/").content.decode()
    assert 'Version 1</a> <span class="form-version">(XLSForm version 2024-05-01)</span>' in page
