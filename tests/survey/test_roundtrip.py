"""import(export(x)) == x, for XLSForm and JSON, through files and through the database."""

import json

import pytest
from hypothesis import HealthCheck, given, settings

from survey.instrument import spec_from_json, validate
from survey.selectors import version_to_spec
from survey.services.questionnaires import questionnaire_import
from survey.xlsform import read_xlsform, write_xlsform
from tests.specs import specs, tiny_spec


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(specs())
def test_generated_questionnaires_are_valid(spec):
    assert validate(spec) == []


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(specs())
def test_xlsform_round_trip(spec):
    assert read_xlsform(write_xlsform(spec)) == spec


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(specs())
def test_json_round_trip(spec):
    assert spec_from_json(json.loads(json.dumps(spec))) == spec


@pytest.mark.django_db
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(spec=specs())
def test_database_round_trip(spec, admin_user_):
    from survey.models import Study

    Study.objects.filter(slug="roundtrip").delete()
    version = questionnaire_import(spec=spec, owner=admin_user_, study_slug="roundtrip")
    assert version_to_spec(version) == spec


def test_labels_that_look_like_formulas_stay_text():
    spec = tiny_spec()
    spec["sections"][0]["questions"][0]["label"]["en"] = "=1+1"
    assert read_xlsform(write_xlsform(spec))["sections"][0]["questions"][0]["label"]["en"] == "=1+1"
