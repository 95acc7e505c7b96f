"""The researcher's editor: pages render, per-language fields, expression checks on save, preview, publish."""

import pytest
from django.urls import reverse

from survey.models import ConsentText, Question
from survey.roles import RESEARCHER
from survey.services.questionnaires import consent_create, questionnaire_import
from tests.specs import consent_details, tiny_spec

pytestmark = pytest.mark.django_db


@pytest.fixture
def researcher_client(client, make_user):
    user = make_user("res", RESEARCHER)
    client.force_login(user)
    version = questionnaire_import(spec=tiny_spec(), owner=user, study_slug="tiny")
    return client, version


def question_post_data(question, **changes):
    data = {
        "section": question.section_id,
        "parent": "",
        "position": question.position,
        "code": question.code,
        "type": question.type,
        "required": "on" if question.required else "",
        "relevance": question.relevance,
        "constraint": question.constraint,
        "appearance": question.appearance,
        "parameters": "{}",
        "choice_list": question.choice_list_id or "",
        "source": "",
        **{f"label__{lang}": text for lang, text in question.label.items()},
        **{f"constraint_message__{lang}": text for lang, text in question.constraint_message.items()},
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value != ""}


def test_every_editor_page_renders(researcher_client):
    client, version = researcher_client
    question = Question.objects.get(version=version, code="q2")
    pages = [
        reverse("admin:survey_questionnaireversion_change", args=[version.pk]),
        reverse("admin:survey_question_change", args=[question.pk]),
        reverse("admin:survey_choicelist_change", args=[version.choice_lists.get().pk]),
        reverse("admin:survey_study_change", args=[version.study.pk]),
        reverse("admin:survey_consenttext_add") + f"?study={version.study.pk}",
        reverse("admin:survey_question_import"),
        reverse("admin:survey_question_export"),
    ]
    for url in pages:
        assert client.get(url).status_code == 200, url


def test_languages_stand_side_by_side(researcher_client):
    client, version = researcher_client
    question = Question.objects.get(version=version, code="q1")
    html = client.get(reverse("admin:survey_question_change", args=[question.pk])).content.decode()
    assert 'name="label__en"' in html and 'name="label__zh"' in html
    assert 'value="问1"' in html


def test_saving_a_question_checks_its_expressions(researcher_client):
    client, version = researcher_client
    question = Question.objects.get(version=version, code="q1")
    url = reverse("admin:survey_question_change", args=[question.pk])
    response = client.post(url, question_post_data(question, relevance="${q2} = 1"))
    assert response.status_code == 200
    assert "refers to ${q2}, which comes later in the form (at character 1)" in response.content.decode()
    response = client.post(url, question_post_data(question, relevance="${ghost} = 1"))
    assert "refers to ${ghost}, which is not a question of this form" in response.content.decode()
    question.refresh_from_db()
    assert question.relevance == ""
    response = client.post(url, question_post_data(question, label__zh="新问题"))
    assert response.status_code == 302
    question.refresh_from_db()
    assert question.label == {"en": "Q1", "zh": "新问题"}


def test_preview_shows_the_participant_page_in_each_language(researcher_client):
    client, version = researcher_client
    zh = client.get(reverse("admin:survey_questionnaireversion_preview", args=[version.pk, "zh"]))
    assert zh.status_code == 200 and "no-store" in zh["Cache-Control"]
    html = zh.content.decode()
    assert "问1" in html and 'type="radio"' in html and "<fieldset" in html
    assert (
        client.get(reverse("admin:survey_questionnaireversion_preview", args=[version.pk, "fr"])).status_code
        == 404
    )


def test_publish_page_lists_reasons_then_publishes(researcher_client):
    client, version = researcher_client
    url = reverse("admin:survey_questionnaireversion_publish", args=[version.pk])
    assert "a consent text must be chosen" in client.get(url).content.decode()
    consent = consent_create(study=version.study, texts={"en": "Consent", "zh": "同意"}, **consent_details())
    response = client.post(url, {"consent": consent.pk})
    assert response.status_code == 302
    version.refresh_from_db()
    assert version.status == "published" and version.consent == consent
    # Now read-only, and a new draft can be made.
    assert (
        client.post(
            reverse("admin:survey_question_change", args=[version.questions.first().pk]), {}
        ).status_code
        == 403
    )
    response = client.post(reverse("admin:survey_questionnaireversion_new_draft", args=[version.pk]))
    assert response.status_code == 302
    assert version.study.versions.filter(number=2, status="draft").exists()
    assert ConsentText.objects.get().is_in_use()


def test_shipped_study_previews_in_chinese(client, shipped_study, admin_user_):
    client.force_login(admin_user_)
    version = shipped_study.versions.get()
    html = client.get(
        reverse("admin:survey_questionnaireversion_preview", args=[version.pk, "zh"])
    ).content.decode()
    assert "您对以下机构有多大信心" in html and "以下说法中，您同意几条" in html
