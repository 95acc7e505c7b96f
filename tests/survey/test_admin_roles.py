"""The admin is for superusers: no researcher or analyst reaches any study's objects through an admin URL."""

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


ADMIN_LISTS = ("study", "questionnaireversion", "question", "choicelist", "choice", "consenttext")


@pytest.mark.parametrize("role", ["researcher_a", "analyst_a", "researcher_b", "analyst_b"])
def test_the_admin_is_for_superusers_only(client, world, role):
    """Researchers and analysts work in the studio: every admin page of their own study and of
    another is refused, the admin's front page sends them to the studio, and they keep the
    sign-out and password pages the studio borrows from the admin."""
    users, version_a, version_b = world
    client.force_login(users[role])
    urls = [*urls_for(version_a), *urls_for(version_b)]
    urls += [reverse(f"admin:survey_{model}_changelist") for model in ADMIN_LISTS]
    urls += [reverse("admin:survey_study_add"), reverse("admin:survey_consenttext_add"), "/admin/auth/user/"]
    for url in urls:
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            assert response.status_code == 403, f"{role} {method.upper()} {url} -> {response.status_code}"
    front = client.get(reverse("admin:index"))
    assert front.status_code == 302 and front["Location"] == reverse("survey:studio")
    assert client.get(reverse("admin:login")).status_code == 302  # signed in already: on to the studio
    assert client.get(reverse("admin:password_change")).status_code == 200
    studio = client.get(reverse("survey:studio")).content.decode()
    assert reverse("admin:index") + '"' not in studio and "/admin/survey/" not in studio
    assert client.post(reverse("admin:logout")).status_code == 200
    assert client.get(reverse("survey:studio")).status_code == 302  # signed out


def test_superusers_keep_the_admin(client, world, admin_user_):
    _users, version_a, version_b = world
    client.force_login(admin_user_)
    assert client.get(reverse("admin:index")).status_code == 200
    for model in ADMIN_LISTS:
        listed = client.get(reverse(f"admin:survey_{model}_changelist"))
        assert listed.status_code == 200
        pks = set(listed.context["cl"].queryset.values_list("pk", flat=True))
        assert {objects_of(version_a)[model].pk, objects_of(version_b)[model].pk} <= pks
    for url in urls_for(version_a)[:6]:
        assert client.get(url).status_code == 200, url


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


def test_new_study_is_owned_by_its_creator(client, world, admin_user_):
    client.force_login(admin_user_)
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
    assert Study.objects.get(slug="new").owner == admin_user_
