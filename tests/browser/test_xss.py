"""Cross-site scripting: researcher-authored texts and free-text answers are shown as text everywhere."""

from __future__ import annotations

import pytest

from survey.models import PendingResponse, Study
from survey.services.questionnaires import consent_create, questionnaire_import, questionnaire_publish
from tests.browser.pages import submit
from tests.specs import consent_details, tiny_spec

pytestmark = pytest.mark.django_db(transaction=True)

PAYLOAD = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>"><svg onload="window.__xss=3">'


def hostile_study(owner) -> Study:
    spec = tiny_spec()
    spec["title"] = {"en": "Title " + PAYLOAD, "zh": "标题 " + PAYLOAD}
    first = spec["sections"][0]
    first["label"] = {"en": "Page " + PAYLOAD, "zh": "页 " + PAYLOAD}
    q1, q2 = first["questions"]
    q1["label"] = {"en": "Q1 " + PAYLOAD, "zh": "问1 " + PAYLOAD}
    q1["hint"] = {"en": "Hint " + PAYLOAD, "zh": "提示 " + PAYLOAD}
    q2["constraint_message"] = {"en": "Message " + PAYLOAD, "zh": "信息 " + PAYLOAD}
    spec["choice_lists"][0]["choices"][0]["label"] = {"en": "Yes " + PAYLOAD, "zh": "是 " + PAYLOAD}
    # A page of its own, so that the hostile choice label of q1 is piped into its title and label.
    note = {
        **q2,
        "code": "note_text",
        "type": "long_text",
        "relevance": "",
        "constraint": "",
        "constraint_message": {},
        "appearance": "multiline",
        "label": {"en": "Say ${q1}", "zh": "说 ${q1}"},
    }
    spec["sections"].append(
        {
            **first,
            "code": "p2",
            "label": {"en": "Page two for ${q1}", "zh": "第二页 ${q1}"},
            "questions": [note],
        }
    )
    version = questionnaire_import(spec=spec, owner=owner, study_slug="hostile")
    study = version.study
    study.title = "Study " + PAYLOAD
    study.save()
    questionnaire_publish(
        version=version,
        consent=consent_create(
            study=study, texts={"en": "Consent " + PAYLOAD, "zh": "同意 " + PAYLOAD}, **consent_details()
        ),
    )
    return study


def test_payloads_never_execute_in_participant_pages(live_server, admin_user_, context):
    hostile_study(admin_user_)
    page = context.new_page()
    page.add_init_script("window.__xss = 0")
    page.goto(f"{live_server.url}/s/hostile/")
    assert PAYLOAD in page.inner_text("main")  # shown as text
    page.get_by_role("checkbox").check()
    submit(page, "agree")
    assert "Q1 " + PAYLOAD in page.inner_text("main") and "Yes " + PAYLOAD in page.inner_text("main")
    page.locator('input[name="q1"][value="yes"]').check()
    # q2 now applies: the page asks the server, shows it and announces it (as text, never markup).
    page.locator('[data-question="q2"]').wait_for(state="visible")
    assert page.evaluate("window.__xss") == 0

    page.locator('input[name="q2"]').fill("-5")  # violates the constraint: its message is shown
    submit(page, "next")

    assert "Message " + PAYLOAD in page.inner_text("main")
    assert page.evaluate("window.__xss") == 0
    page.locator('input[name="q2"]').fill("5")
    submit(page, "next")
    # The answer's label piped into the next page's title and question, as text.
    assert "Page two for Yes " + PAYLOAD in page.inner_text("main")
    assert "Say Yes " + PAYLOAD in page.inner_text("main") and page.evaluate("window.__xss") == 0
    page.locator('textarea[name="note_text"]').fill(PAYLOAD)
    submit(page, "next")
    assert page.locator("#receipt-code").count() == 1 and page.evaluate("window.__xss") == 0
    assert PendingResponse.objects.get().answers["note_text"] == PAYLOAD


def test_payloads_are_escaped_in_admin_report_and_codebook(client, admin_user_, tmp_path):
    from django.test import Client

    from analysis.claims import load_registry
    from analysis.report import build_report, render_html
    from survey.bridge import responses_frame
    from survey.simulation import Respondent, walk
    from tests.helpers import close_fieldwork

    study = hostile_study(admin_user_)
    walk(Client(HTTP_ACCEPT_LANGUAGE="en"), "/s/hostile/", Respondent(1, "west"))
    close_fieldwork(study)  # released, so the exports and the report hold the payloads
    client.force_login(admin_user_)
    version = study.versions.get()
    pages = [
        f"/admin/survey/questionnaireversion/{version.pk}/change/",
        f"/admin/survey/study/{study.pk}/change/",
        f"/admin/survey/questionnaireversion/{version.pk}/preview/en/",
        f"/studies/{study.slug}/",
    ]
    for url in pages:
        html = client.get(url).content.decode()
        assert "<script>window.__xss" not in html and 'onerror="window.__xss' not in html, url
    frame, codebook = responses_frame(study)
    assert "<script>window.__xss" not in codebook.to_html("en")
    assert "<script>window.__xss" not in render_html(build_report(frame, codebook, registry=load_registry()))
