"""Live relevance (issue 14): the page's script asks the server which questions apply; the server's
evaluator is the only one, the endpoint stores nothing, and without the script the round trip works."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from survey.models import PendingResponse
from tests.survey.test_participant_flow import agree

pytestmark = pytest.mark.django_db


def page_token(client: Client, path: str) -> str:
    html = client.get(path).content.decode()
    return html.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]


def test_every_question_is_on_the_page_and_those_that_do_not_apply_are_hidden(logic_study):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    agree(client, "/s/logic/")
    html = client.get("/s/logic/p/0/").content.decode()
    assert '<div class="question-slot" data-question="q1">' in html
    assert '<div class="question-slot" data-question="q2" hidden>' in html  # q1 is not "yes" yet
    assert 'name="shown" value="q1 "' in html
    assert 'data-relevance="/s/logic/p/0/relevance/"' in html and 'id="relevance-status"' in html


def test_the_server_says_which_questions_apply_and_stores_nothing(logic_study):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    agree(client, "/s/logic/")
    client.get("/s/logic/p/0/")
    before = PendingResponse.objects.values().get()
    with CaptureQueriesContext(connection) as queries:
        yes = client.post("/s/logic/p/0/relevance/", {"q1": "yes", "q2": "", "shown": "q1"})
    assert yes.status_code == 200 and yes.json() == {"relevant": ["q1", "q2"], "choices": {}}
    assert yes["Cache-Control"].startswith("max-age=0") or "no-store" in yes["Cache-Control"]
    assert not [q for q in queries.captured_queries if not q["sql"].lstrip().upper().startswith("SELECT")]
    assert client.post("/s/logic/p/0/relevance/", {"q1": "no"}).json() == {"relevant": ["q1"], "choices": {}}
    assert PendingResponse.objects.values().get() == before


def test_the_endpoint_refuses_what_is_not_a_page_of_this_browser(logic_study):
    assert Client().post("/s/logic/p/0/relevance/", {"q1": "yes"}).status_code == 409  # no response
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    agree(client, "/s/logic/")
    assert client.post("/s/logic/p/2/relevance/", {"q1": "yes"}).status_code == 409  # not reached
    assert client.post("/s/logic/p/0/relevance/", {"intruder": "1"}).status_code == 400
    assert client.get("/s/logic/p/0/relevance/").status_code == 405


def test_the_endpoint_needs_the_page_csrf_token(logic_study):
    client = Client(HTTP_ACCEPT_LANGUAGE="en", enforce_csrf_checks=True)
    key = client.get("/s/logic/").content.decode().split('name="consent_key" value="')[1].split('"')[0]
    token = page_token(client, "/s/logic/")
    client.post(
        "/s/logic/", {"consent_key": key, "agree": "yes", "action": "agree", "csrfmiddlewaretoken": token}
    )
    assert client.post("/s/logic/p/0/relevance/", {"q1": "yes"}).status_code == 403
    token = page_token(client, "/s/logic/p/0/")
    reply = client.post("/s/logic/p/0/relevance/", {"q1": "yes", "csrfmiddlewaretoken": token})
    assert reply.json() == {"relevant": ["q1", "q2"], "choices": {}}


def test_without_the_script_a_question_brought_in_is_shown_before_it_is_skipped(logic_study):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    agree(client, "/s/logic/")
    page = client.post("/s/logic/p/0/", {"q1": "yes", "shown": "q1"})
    html = page.content.decode()
    assert page.status_code == 200 and "make more questions apply" in html
    assert '<div class="question-slot" data-question="q2">' in html


def test_without_the_script_a_required_question_brought_in_is_not_marked_wrong(admin_user_):
    import copy

    from survey.services.questionnaires import consent_create, questionnaire_import, questionnaire_publish
    from tests.specs import consent_details, tiny_spec

    spec = copy.deepcopy(tiny_spec())
    spec["sections"][0]["questions"][1]["required"] = True  # q2, brought in by q1 = yes
    version = questionnaire_import(spec=spec, owner=admin_user_, study_slug="required-follow-up")
    questionnaire_publish(
        version=version,
        consent=consent_create(study=version.study, texts={"en": "C", "zh": "C"}, **consent_details()),
    )
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    agree(client, "/s/required-follow-up/")
    html = client.post("/s/required-follow-up/p/0/", {"q1": "yes", "shown": "q1"}).content.decode()
    assert "make more questions apply" in html and '<div class="question-slot" data-question="q2">' in html
    assert "This field is required" not in html and "aria-invalid" not in html
    # Sent again blank, now that it has been seen, it is required as usual.
    again = client.post("/s/required-follow-up/p/0/", {"q1": "yes", "shown": "q1 q2"}).content.decode()
    assert "make more questions apply" not in again and 'aria-invalid="true"' in again
    assert PendingResponse.objects.get().answers == {}
