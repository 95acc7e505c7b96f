"""Candid's exported XLSForm is standard XLSForm: pyxform converts it, ODK Validate accepts the XForm,
and it imports back into Candid equal to the questionnaire it came from (extensions included)."""

import json
import re
import shutil
import warnings

import pytest
from hypothesis import HealthCheck, Phase, assume, given, settings
from pyxform.xls2xform import convert

from survey.instrument_files import read_questionnaire_file
from survey.xlsform import read_xlsform, write_xlsform
from tests.conftest import SHIPPED_STUDY
from tests.specs import specs, tiny_spec

MALFORMED_REFERENCE = re.compile(r"\$\{(?![A-Za-z_][\w.-]*\})")


def to_xform(content: bytes, *, validate: bool) -> str:
    """pyxform's conversion (with ODK Validate when asked); raises on any error."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # openpyxl: unknown Excel extensions
        return convert(xlsform=content, validate=validate, file_type=".xlsx").xform


def every_extension() -> dict:
    """A bilingual form with Likert, matrix, list experiment, slider, reversed scale, shuffled pages,
    and the XLSForm columns Candid reads (calculate, choice_filter with a choices column, default,
    read_only, settings version)."""
    spec = tiny_spec()
    questions = spec["sections"][0]["questions"]
    questions[0].update(
        type="likert", reverse_scale=True, randomize=True, source="WVS Q57", parameters={"correct": "yes,no"}
    )
    texts = {"en": "Item", "zh": "项"}
    questions.append(
        {
            "code": "m1",
            "type": "matrix",
            "label": {"en": "Matrix", "zh": "矩阵"},
            "choice_list": "yn",
            "randomize": True,
            "items": [
                {"code": f"m1_{n}", "type": "single_choice", "label": texts, "choice_list": "yn"}
                for n in (1, 2)
            ],
        }
    )
    questions.append(
        {
            "code": "le",
            "type": "list_experiment",
            "label": {"en": "How many?", "zh": "几条？"},
            "items": [
                {"code": f"le_{n}", "type": "note", "label": texts, "parameters": {"role": role}}
                for n, role in enumerate(["control", "control", "sensitive"])
            ],
        }
    )
    questions.append(
        {
            "code": "sl",
            "type": "slider",
            "label": {"en": "Slider", "zh": "滑块"},
            "parameters": {"start": "0", "end": "10", "step": "1"},
        }
    )
    second = {"code": "p2", "label": {"en": "Two", "zh": "二"}, "shuffle": True, "randomize": True}
    second["questions"] = [
        {"code": "t1", "type": "long_text", "label": texts},
        {"code": "doubled", "type": "calculate", "calculation": "${sl} * 2"},
        {
            "code": "picked",
            "type": "multiple_choice",
            "label": texts,
            "choice_list": "yn",
            "choice_filter": "kind = 'a' or name != ${q1}",
        },
    ]
    spec["choice_lists"][0]["choices"][0]["columns"] = {"kind": "a"}
    questions[1]["default"] = "3"
    second["questions"].append(
        {"code": "wave", "type": "text", "label": texts, "read_only": True, "default": "spring"}
    )
    spec["form_version"] = "2024-05-01"
    spec["sections"][0]["shuffle"] = True
    spec["sections"].append(second)
    return spec


@pytest.fixture(scope="module")
def odk_validate():
    assert shutil.which("java"), "ODK Validate needs Java: run `make setup` (installs default-jre-headless)"


def test_a_form_with_every_extension_round_trips_through_pyxform_and_ODK_validate(odk_validate):
    from survey.instrument import normalize

    spec = normalize(every_extension())
    content = write_xlsform(spec)
    xform = to_xform(content, validate=True)
    assert (
        'candid:reverse="yes"' in xform
        and 'candid:shuffle="yes"' in xform
        and 'candid:correct="yes,no"' in xform
    )
    assert '<bind nodeset="/data/p2/doubled" type="string" calculate=" /data/p1/sl  * 2"/>' in xform
    assert 'version="2024-05-01"' in xform
    assert "instance('yn')/root/item[kind = 'a' or name !=  /data/p1/q1 ]" in xform
    assert "<q2>3</q2>" in xform and "<wave>spring</wave>" in xform
    assert '<bind nodeset="/data/p2/wave" type="string" readonly="true()"/>' in xform
    assert read_xlsform(content) == spec


@pytest.mark.django_db
def test_the_shipped_questionnaire_exported_converts_and_passes_ODK_validate(odk_validate):
    spec = read_questionnaire_file(SHIPPED_STUDY / "questionnaire.xlsx")
    content = write_xlsform(spec)
    to_xform(content, validate=True)
    assert read_xlsform(content) == spec


def test_a_candid_export_before_this_format_still_imports():
    """Older exports wrote reverse/shuffle as parameters and randomize/source as plain columns."""
    from tests.survey.xlsform_helpers import workbook

    survey = [
        ["type", "name", "label", "parameters", "randomize", "source"],
        ["begin_group", "p1", "Page", "shuffle=yes", "yes", ""],
        ["select_one yn", "q1", "Q1", "reverse=yes", "yes", "WVS"],
        ["end_group", "", "", "", "", ""],
    ]
    choices = [["list_name", "name", "label"], ["yn", "y", "Yes"], ["yn", "n", "No"]]
    section = read_xlsform(workbook(survey, choices=choices))["sections"][0]
    assert section["shuffle"] and section["randomize"]
    question = section["questions"][0]
    assert question["reverse_scale"] and question["randomize"] and question["source"] == "WVS"
    assert question["parameters"] == {}


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # shrinking a pyxform run takes minutes
)
@given(specs())
def test_generated_questionnaires_convert_with_pyxform_and_import_back_equal(spec):
    # XLSForm has no escape for a literal "${" that is not a reference; pyxform refuses such a text.
    assume(not MALFORMED_REFERENCE.search(json.dumps(spec, ensure_ascii=False)))
    content = write_xlsform(spec)
    to_xform(content, validate=False)
    assert read_xlsform(content) == spec


@pytest.mark.django_db
def test_export_questionnaire_writes_what_pyxform_converts(shipped_study, tmp_path, call_command_capture):
    output = tmp_path / "shipped.xlsx"
    assert "Wrote version" in call_command_capture(
        "export_questionnaire", shipped_study.slug, "-o", str(output)
    )
    assert "<h:title>" in to_xform(output.read_bytes(), validate=False)
    assert read_xlsform(output) == read_questionnaire_file(SHIPPED_STUDY / "questionnaire.xlsx")


@pytest.mark.django_db
def test_export_questionnaire_to_a_folder_that_does_not_exist_says_so(
    shipped_study, tmp_path, call_command_capture
):
    output = call_command_capture(
        "export_questionnaire", shipped_study.slug, "-o", str(tmp_path / "no" / "x.xlsx")
    )
    assert "Cannot write" in output and "No such file or directory" in output


def test_a_calculation_between_groups_exports_as_pyxform_reads_it(odk_validate):
    """A calculate row between two groups is a page of its own in Candid; exported inside a group it
    was an empty group, which ODK Validate refuses ("Group has no children")."""
    from tests.survey.xlsform_helpers import workbook

    form = workbook(
        [
            ["type", "name", "label", "calculation"],
            ["begin_group", "g1", "G1", ""],
            ["integer", "a", "A", ""],
            ["end_group", "", "", ""],
            ["calculate", "c", "", "${a} + 1"],
            ["begin_group", "g2", "G2", ""],
            ["note", "n", "c is ${c}", ""],
            ["end_group", "", "", ""],
        ]
    )
    to_xform(form, validate=True)  # the form itself is standard
    spec = read_xlsform(form)
    assert [section["code"] for section in spec["sections"]] == ["g1", "page_2", "g2"]
    exported = write_xlsform(spec)
    xform = to_xform(exported, validate=True)
    assert 'calculate=" /data/g1/a  + 1"' in xform
    assert read_xlsform(exported) == spec
