"""The role matrix: no researcher or analyst reaches another study's objects through any admin URL."""

import pytest
from django.urls import reverse

from survey.models import Choice, ChoiceList, ConsentText, Question, Study, StudyMembership
from survey.roles import ANALYST, RESEARCHER
from survey.services.questionnaires import consent_create, questionnaire_import
from tests.specs import tiny_spec

pytestmark = pytest.mark.django_db

OBJECT_VIEWS = ("change", "delete", "history")


@pytest.fixture
def world(make_user):
    """Study A (owner researcher_a, analyst_a assigned) and study B (owner researcher_b, analyst_b assigned)."""
    users = {
        name: make_user(name, role)
        for name, role in [
            ("researcher_a", RESEARCHER),
            ("analyst_a", ANALYST),
            ("researcher_b", RESEARCHER),
            ("analyst_b", ANALYST),
        ]
    }
    version_a = questionnaire_import(spec=tiny_spec(), owner=users["researcher_a"], study_slug="study-a")
    version_b = questionnaire_import(spec=tiny_spec(), owner=users["researcher_b"], study_slug="study-b")
    for study, analyst in [(version_a.study, "analyst_a"), (version_b.study, "analyst_b")]:
        StudyMembership.objects.create(study=study, user=users[analyst], role="analyst")
        consent_create(study=study, texts={"en": "C", "zh": "C"})
    return users, version_a, version_b


def objects_of(version):
    return {
        "study": version.study,
        "questionnaireversion": version,
        "question": Question.objects.filter(version=version).first(),
        "choicelist": ChoiceList.objects.filter(version=version).first(),
        "choice": Choice.objects.filter(choice_list__version=version).first(),
        "consenttext": ConsentText.objects.get(study=version.study),
    }


def urls_for(version):
    urls = [
        reverse(f"admin:survey_{model}_{view}", args=[obj.pk])
        for model, obj in objects_of(version).items()
        for view in OBJECT_VIEWS
    ]
    urls += [
        reverse("admin:survey_questionnaireversion_preview", args=[version.pk, lang]) for lang in ("en", "zh")
    ]
    urls += [
        reverse("admin:survey_questionnaireversion_publish", args=[version.pk]),
        reverse("admin:survey_questionnaireversion_new_draft", args=[version.pk]),
    ]
    return urls


@pytest.mark.parametrize("role", ["researcher_b", "analyst_b"])
def test_other_study_is_unreachable_by_every_url(client, world, role):
    users, version_a, _ = world
    client.force_login(users[role])
    for url in urls_for(version_a):
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            assert response.status_code in (403, 404), (
                f"{role} {method.upper()} {url} -> {response.status_code}"
            )


@pytest.mark.parametrize("role", ["researcher_b", "analyst_b"])
def test_changelists_do_not_list_other_studies(client, world, role):
    users, version_a, version_b = world
    client.force_login(users[role])
    for model in ("study", "questionnaireversion", "question", "choicelist", "choice", "consenttext"):
        response = client.get(reverse(f"admin:survey_{model}_changelist"))
        assert response.status_code == 200
        listed = set(response.context["cl"].queryset.values_list("pk", flat=True))
        assert objects_of(version_a)[model].pk not in listed, f"{role} sees study A's {model}"
        assert objects_of(version_b)[model].pk in listed


def test_owner_edits_and_assigned_analyst_only_reads(client, world):
    users, version_a, _ = world
    change = reverse("admin:survey_questionnaireversion_change", args=[version_a.pk])
    preview = reverse("admin:survey_questionnaireversion_preview", args=[version_a.pk, "zh"])
    client.force_login(users["researcher_a"])
    assert client.get(change).status_code == 200
    assert client.get(preview).status_code == 200
    assert (
        client.get(reverse("admin:survey_questionnaireversion_publish", args=[version_a.pk])).status_code
        == 200
    )
    client.force_login(users["analyst_a"])
    assert client.get(change).status_code == 200  # read-only view
    assert client.get(preview).status_code == 200
    assert (
        client.post(reverse("admin:survey_questionnaireversion_publish", args=[version_a.pk])).status_code
        == 403
    )
    assert (
        client.post(
            reverse("admin:survey_question_change", args=[objects_of(version_a)["question"].pk]), {}
        ).status_code
        == 403
    )


def test_researcher_cannot_import_into_another_study(client, world):
    users, version_a, _ = world
    client.force_login(users["researcher_b"])
    from survey.resources import QuestionResource

    resource = QuestionResource(user=users["researcher_b"])
    import tablib

    dataset = tablib.Dataset(headers=["version", "section", "code", "type", "label"])
    dataset.append(["study-a:1", "p1", "q1", "integer", '{"en": "hacked", "zh": "hacked"}'])
    result = resource.import_data(dataset, dry_run=False)
    assert result.has_validation_errors() and not result.has_errors()
    assert Question.objects.get(version=version_a, code="q1").label["en"] == "Q1"


def test_new_study_is_owned_by_its_creator(client, world):
    users, *_ = world
    client.force_login(users["researcher_b"])
    response = client.post(
        reverse("admin:survey_study_add"),
        {
            "title": "New",
            "slug": "new",
            "languages": '["en"]',
            "samples-TOTAL_FORMS": "0",
            "samples-INITIAL_FORMS": "0",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    assert Study.objects.get(slug="new").owner == users["researcher_b"]
