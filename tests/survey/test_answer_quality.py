"""Answer quality (issue 14): anchored options stay in place when a list is shuffled or reversed,
exclusive options ("None of these") are chosen only alone — in the browser and on the server — and
both travel through XLSForm (columns pyxform passes through) and JSON."""

from __future__ import annotations

import io
import re

import pytest
from django.test import Client

from survey import flow
from survey.forms import PageForm
from survey.instrument import normalize, spec_from_json
from survey.models import PendingResponse
from survey.xlsform import read_xlsform, write_xlsform
from tests.specs import tiny_spec

pytestmark = pytest.mark.django_db

CODES = ["a", "b", "c", "d", "e", "f", "none", "dk"]


def quality_spec():
    choices = [{"code": c, "label": {"en": c.upper(), "zh": c}} for c in CODES]
    choices[-2]["exclusive"] = choices[-2]["anchor"] = True  # "None of these", second to last
    choices[-1]["anchor"] = True  # "Don't know", last
    spec = tiny_spec(
        choice_lists=[{"name": "people", "choices": choices}, *tiny_spec()["choice_lists"]],
    )
    spec["sections"][0]["questions"] = [
        {
            **spec["sections"][0]["questions"][0],
            "code": "turn_to",
            "type": "multiple_choice",
            "choice_list": "people",
            "randomize": True,
            "reverse_scale": True,
            "required": True,
        }
    ]
    return spec


def test_anchored_options_stay_in_place_whatever_the_seed():
    spec = quality_spec()
    orders = {tuple(flow.make_plan(spec, seed, {})["options"]["turn_to"]) for seed in range(40)}
    assert len(orders) > 10  # the others are shuffled (and sometimes reversed)
    assert all(order[-2:] == ("none", "dk") for order in orders)


def test_without_anchors_the_shuffle_is_the_one_stored_plans_were_made_with():
    import random

    spec = quality_spec()
    for choice in spec["choice_lists"][0]["choices"]:
        choice.pop("anchor", None)
    spec["sections"][0]["questions"][0]["reverse_scale"] = False
    rng = random.Random(5)
    expected = list(CODES)
    rng.shuffle(expected)
    assert flow.make_plan(spec, 5, {})["options"]["turn_to"] == expected


def form(data, spec=None):
    spec = spec or quality_spec()
    return PageForm(
        data,
        questions=spec["sections"][0]["questions"],
        choice_lists={cl["name"]: cl["choices"] for cl in spec["choice_lists"]},
        language="en",
        fallback_language="en",
    )


def test_an_exclusive_option_with_another_is_refused_on_the_server():
    from django.http import QueryDict

    alone = form(QueryDict("turn_to=none"))
    assert alone.is_valid()
    together = form(QueryDict("turn_to=a&turn_to=none"))
    assert not together.is_valid()
    assert together.errors["turn_to"] == [
        "“NONE” cannot be chosen together with other answers: choose it alone, or untick it."
    ]
    assert form(QueryDict("turn_to=a&turn_to=b")).is_valid()


def test_exclusive_options_are_marked_for_the_page_script():
    from django.template.loader import render_to_string

    html = render_to_string(
        "survey/questions.html#question", {"item": form(None).rendered[0], "form": form(None)}
    )
    assert html.count("data-exclusive") == 1
    assert 'value="none" id="id_turn_to_6" data-exclusive' in html


def test_anchor_and_exclusive_round_trip_through_xlsform_and_json():
    import json

    spec = normalize(quality_spec())
    workbook = write_xlsform(spec)
    again = read_xlsform(io.BytesIO(workbook))
    people = next(cl for cl in again["choice_lists"] if cl["name"] == "people")
    assert people["choices"][-2] == {
        "code": "none",
        "label": {"en": "NONE", "zh": "none"},
        "anchor": True,
        "exclusive": True,
    }
    assert people["choices"][-1]["anchor"] is True and "exclusive" not in people["choices"][-1]
    assert "anchor" not in people["choices"][0]
    assert spec_from_json(json.loads(json.dumps(spec))) == spec


def test_pyxform_accepts_the_exported_columns():
    import openpyxl
    from pyxform.xls2xform import convert

    spec = quality_spec()
    # Candid's own "reverse" parameter and the title per language are h11b's part of the round trip;
    # here only the choices sheet's anchor and exclusive columns are in question.
    spec["sections"][0]["questions"][0]["reverse_scale"] = False
    book = openpyxl.load_workbook(io.BytesIO(write_xlsform(spec)))
    book["settings"].delete_cols(1, 2)
    book["settings"].cell(1, book["settings"].max_column + 1, "form_title")
    book["settings"].cell(2, book["settings"].max_column, "Tiny")
    assert [c.value for c in book["choices"][1]][-2:] == ["anchor", "exclusive"]
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    result = convert(xlsform=buffer, file_type=".xlsx")
    assert "<h:title>Tiny</h:title>" in result.xform


def test_the_published_study_enforces_exclusive_options(admin_user_):
    from survey.services.questionnaires import consent_create, questionnaire_import, questionnaire_publish
    from tests.specs import consent_details
    from tests.survey.test_participant_flow import agree

    version = questionnaire_import(spec=quality_spec(), owner=admin_user_, study_slug="quality")
    questionnaire_publish(
        version=version,
        consent=consent_create(study=version.study, texts={"en": "C", "zh": "C"}, **consent_details()),
    )
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    agree(client, "/s/quality/")
    page = client.post("/s/quality/p/0/", {"turn_to": ["a", "none"], "shown": "turn_to"})
    assert page.status_code == 200 and "cannot be chosen together" in page.content.decode()
    assert PendingResponse.objects.get().answers == {}
    html = client.get("/s/quality/p/0/").content.decode()
    assert html.index('value="none"') < html.index('value="dk"')  # anchored, from the stored plan
    again = client.post("/s/quality/p/0/", {"turn_to": ["none"], "shown": "turn_to"}, follow=True)
    assert 'id="receipt-code"' in again.content.decode()  # the only page: finished
    assert PendingResponse.objects.get().answers == {"turn_to": ["none"]}


def test_switching_language_keeps_what_was_typed_on_the_page(logic_study):
    from tests.survey.test_participant_flow import agree

    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    agree(client, "/s/logic/")
    english = client.get("/s/logic/p/0/").content.decode()
    # The switch is a button of the page form that comes after "Next", so Enter still moves forward.
    buttons = re.findall(r'<button type="submit"[^>]*value="(next|language:zh)"', english)
    assert buttons == ["next", "language:zh"]
    assert 'form="page-form" name="action" value="language:zh"' in english
    switched = client.post("/s/logic/p/0/", {"q1": "yes", "q2": "-3", "action": "language:zh"})
    assert switched.status_code == 302 and switched["Location"] == "/s/logic/p/0/"
    response = PendingResponse.objects.get()
    assert response.language == "zh" and response.answers == {}  # kept as typed, not saved
    html = client.get("/s/logic/p/0/").content.decode()
    assert '<html lang="zh">' in html and 'value="-3"' in html and "Not negative" not in html
    assert re.search(r'value="yes" id="id_q1_0" checked', html)
    assert re.search(r'<div class="question-slot" data-question="q2">', html)  # q1 = yes brings it in
    assert 'name="shown" value="q1 q2 "' in html
    # A language the study does not offer keeps what was typed and changes nothing else.
    client.post("/s/logic/p/0/", {"q1": "no", "action": "language:fr"})
    response.refresh_from_db()
    assert response.language == "zh" and response.drafts["0"]["q1"] == "no"
    # The link of other pages (and of a bookmark) still switches by GET.
    assert client.get("/s/logic/p/0/?lang=en")["Location"] == "/s/logic/p/0/"
    assert '<html lang="en">' in client.get("/s/logic/p/0/").content.decode()


@pytest.mark.parametrize("marker", [False, True])
def test_already_completed_in_this_browser_only_when_the_study_asks(shipped_study, marker):
    from survey.simulation import Respondent, walk

    shipped_study.completed_marker = marker
    shipped_study.save()
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert walk(client, f"/s/{shipped_study.slug}/west/", Respondent(2, "west")).completed
    cookie = client.cookies.get(f"candid_done_{shipped_study.pk}")
    again = client.get(f"/s/{shipped_study.slug}/west/").content.decode()
    if marker:
        assert cookie.value == "1" and cookie["path"] == f"/s/{shipped_study.slug}/"  # no identifier
        assert "You have already completed this survey" in again and 'name="consent_key"' not in again
    else:
        assert cookie is None and 'name="consent_key"' in again  # off by default: shared devices
    assert PendingResponse.objects.count() == 1


def test_the_studio_setting_is_off_by_default_and_saved(shipped_study, admin_user_):
    from survey.views.studio.forms import StudyForm

    assert StudyForm.base_fields["completed_marker"].initial in (None, False)
    assert shipped_study.completed_marker is False
