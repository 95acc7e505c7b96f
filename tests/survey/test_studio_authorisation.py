"""Every studio URL × every role × study ownership, in one table (the studio's part of the
authorisation matrix). Study A (the shipped study, published, with a new draft) belongs to
``owner_a``; study B to someone else. A signed-out visitor is sent to sign in; a role not in a URL's
row gets 403, 404 or 405 and, when it posts, changes nothing. ``test_every_studio_url_is_in_the_table``
fails when a studio URL is added without a row here."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from survey.models import (
    AuditEvent,
    Choice,
    ConsentText,
    Question,
    QuestionnaireVersion,
    Quota,
    Sample,
    Study,
    StudyMembership,
    TestRun,
)
from survey.roles import ANALYST, RESEARCHER
from survey.selectors import version_to_spec
from survey.services import testruns
from survey.services.questionnaires import consent_create, questionnaire_import, questionnaire_new_draft
from tests.specs import tiny_spec

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "superuser", "owner_a", "researcher_a", "analyst_a", "researcher_b", "analyst_b")
STAFF = set(ROLES) - {"anonymous"}
MEMBERS_A = {"superuser", "owner_a", "researcher_a", "analyst_a"}
EDITORS_A = {"superuser", "owner_a", "researcher_a"}
CREATORS = {"superuser", "owner_a", "researcher_a", "researcher_b"}

# URL name -> roles that may GET it. POST-only views answer a GET with 405 (for everyone signed in).
EXPECTED: dict[str, set[str]] = {
    "survey:studio": STAFF,
    "survey:studio_new": CREATORS,
    "survey:studio_template": STAFF,
    "survey:studio_study": MEMBERS_A,
    "survey:studio_settings": EDITORS_A,
    "survey:studio_sample_add": EDITORS_A,
    "survey:studio_sample": EDITORS_A,
    "survey:studio_questionnaire": MEMBERS_A,
    "survey:studio_import": EDITORS_A,
    "survey:studio_version": MEMBERS_A,
    "survey:studio_version_export": MEMBERS_A,
    "survey:studio_form_settings": EDITORS_A,
    "survey:studio_page_new": EDITORS_A,
    "survey:studio_page": EDITORS_A,
    "survey:studio_question_new": EDITORS_A,
    "survey:studio_question": EDITORS_A,
    "survey:studio_question_delete": EDITORS_A,
    "survey:studio_list_new": EDITORS_A,
    "survey:studio_list": EDITORS_A,
    "survey:studio_check": MEMBERS_A,
    "survey:studio_preview": MEMBERS_A,
    "survey:studio_test_start": MEMBERS_A,
    "survey:studio_test_run": {"owner_a"},  # a test run is its author's
    "survey:studio_logic": MEMBERS_A,
    "survey:studio_publish": EDITORS_A,
    "survey:studio_diff": MEMBERS_A,
    "survey:studio_consent": MEMBERS_A,
    "survey:studio_consent_new": EDITORS_A,
    "survey:studio_consent_version": MEMBERS_A,
    "survey:studio_distribute": MEMBERS_A,
    "survey:studio_qr": MEMBERS_A,
    "survey:studio_quotas": MEMBERS_A,
    "survey:studio_quota_new": EDITORS_A,
    "survey:studio_quota": EDITORS_A,
    "survey:studio_monitor": MEMBERS_A,
}
POST_ONLY = {
    "survey:studio_sample_remove": EDITORS_A,
    "survey:studio_member_add": EDITORS_A,
    "survey:studio_member_remove": EDITORS_A,
    "survey:studio_new_draft": EDITORS_A,
    "survey:studio_page_move": EDITORS_A,
    "survey:studio_page_delete": EDITORS_A,
    "survey:studio_question_move": EDITORS_A,
    "survey:studio_list_delete": EDITORS_A,
    "survey:studio_quota_grid": EDITORS_A,
    "survey:studio_quota_remove": EDITORS_A,
    "survey:studio_test_relevance": {"owner_a"},  # what a test run's page shows: its author's
}
GET_ONLY = {"survey:studio_check"}  # a POST is refused (405) before anything is looked up
MARKERS_A = (b"trust-and-rating-systems", b"Trust and rating systems")


@pytest.fixture
def world(make_user, shipped_study):
    users = {
        "superuser": make_user("root", superuser=True),
        "owner_a": make_user("owner_a", RESEARCHER),
        "researcher_a": make_user("researcher_a", RESEARCHER),
        "analyst_a": make_user("analyst_a", ANALYST),
        "researcher_b": make_user("researcher_b", RESEARCHER),
        "analyst_b": make_user("analyst_b", ANALYST),
    }
    Study.objects.filter(pk=shipped_study.pk).update(owner=users["owner_a"])
    StudyMembership.objects.create(study=shipped_study, user=users["researcher_a"], role="researcher")
    StudyMembership.objects.create(study=shipped_study, user=users["analyst_a"], role="analyst")
    StudyMembership.objects.create(study=shipped_study, user=make_user("member_a", ANALYST), role="analyst")
    published = QuestionnaireVersion.objects.get(study=shipped_study)
    draft = questionnaire_new_draft(version=published)
    version_b = questionnaire_import(spec=tiny_spec(), owner=users["researcher_b"], study_slug="study-b")
    consent_create(study=version_b.study, texts={"en": "C", "zh": "C"})
    StudyMembership.objects.create(study=version_b.study, user=users["analyst_b"], role="analyst")
    run = testruns.run_start(user=users["owner_a"], version=draft, language="en", spec=version_to_spec(draft))
    Quota.objects.create(study=shipped_study, name="women", conditions={"gender": ["female"]}, limit=5)
    return users, shipped_study, draft, run


def url_for(name: str, study, draft, run) -> str:
    slug, number = study.slug, draft.number
    spec = version_to_spec(draft)
    question = spec["sections"][0]["questions"][0]["code"]
    args = {
        "survey:studio": [],
        "survey:studio_new": [],
        "survey:studio_template": [],
        "survey:studio_sample": [slug, "west"],
        "survey:studio_sample_remove": [slug, "west"],
        "survey:studio_member_remove": [slug, "member_a"],
        "survey:studio_version_export": [slug, number, "xlsx"],
        "survey:studio_page": [slug, number, spec["sections"][0]["code"]],
        "survey:studio_page_move": [slug, number, spec["sections"][0]["code"]],
        "survey:studio_page_delete": [slug, number, spec["sections"][-1]["code"]],
        "survey:studio_question": [slug, number, question],
        "survey:studio_question_move": [slug, number, question],
        "survey:studio_question_delete": [slug, number, question],
        "survey:studio_list": [slug, number, spec["choice_lists"][0]["name"]],
        "survey:studio_list_delete": [slug, number, spec["choice_lists"][0]["name"]],
        "survey:studio_preview": [slug, number, "zh"],
        "survey:studio_test_run": [slug, run.pk],
        "survey:studio_test_relevance": [slug, run.pk, 0],
        "survey:studio_consent_version": [slug, 1],
        "survey:studio_qr": [slug, "west"],
        "survey:studio_quota": [slug, Quota.objects.get(study=study).pk],
        "survey:studio_quota_remove": [slug, Quota.objects.get(study=study).pk],
    }
    if name in args:
        return reverse(name, args=args[name])
    if name in {
        "survey:studio_study",
        "survey:studio_settings",
        "survey:studio_sample_add",
        "survey:studio_member_add",
        "survey:studio_questionnaire",
        "survey:studio_import",
        "survey:studio_consent",
        "survey:studio_consent_new",
        "survey:studio_distribute",
        "survey:studio_quotas",
        "survey:studio_quota_new",
        "survey:studio_quota_grid",
        "survey:studio_monitor",
    }:
        return reverse(name, args=[slug])
    return reverse(name, args=[slug, number])


def snapshot() -> tuple[int, ...]:
    models = (
        Study,
        Sample,
        StudyMembership,
        QuestionnaireVersion,
        Question,
        Choice,
        ConsentText,
        Quota,
        TestRun,
        AuditEvent,
    )
    return (
        *(m.objects.count() for m in models),
        QuestionnaireVersion.objects.filter(status="published").count(),
    )


def test_every_studio_url_is_in_the_table():
    names: set[str] = set()

    def collect(patterns, namespace: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                collect(pattern.url_patterns, pattern.namespace or namespace)
            elif isinstance(pattern, URLPattern) and pattern.name:
                names.add(f"{namespace}:{pattern.name}")

    collect(get_resolver().url_patterns, "")
    studio = {name for name in names if name.startswith("survey:studio")}
    missing = sorted(studio - set(EXPECTED) - set(POST_ONLY))
    assert not missing, f"studio URLs without a row in the table: {missing}"


def test_studio_authorisation_matrix(world):
    users, study, draft, run = world
    wrong = []
    for role in ROLES:
        client = Client()
        if role != "anonymous":
            client.force_login(users[role])
        for name in [*EXPECTED, *POST_ONLY]:
            url = url_for(name, study, draft, run)
            response = client.get(url)
            status = response.status_code
            allowed = EXPECTED.get(name) or POST_ONLY[name]
            if role == "anonymous":
                if not (status == 302 and "/admin/login/" in response["Location"]):
                    wrong.append(f"{role}: GET {url} -> {status}, not a redirect to sign in")
                continue
            if name in POST_ONLY:
                if status != 405:
                    wrong.append(f"{role}: GET {url} -> {status}, expected 405")
            elif role in allowed:
                if status not in (200, 302):
                    wrong.append(f"{role}: GET {url} -> {status}, expected the page")
            elif status not in (403, 404):
                wrong.append(f"{role}: GET {url} -> {status}, expected 403 or 404")
            if name in {"survey:studio", "survey:studio_new"} and role in {"researcher_b", "analyst_b"}:
                leaked = [m for m in MARKERS_A if m in response.content]
                if leaked:
                    wrong.append(f"{role}: GET {url} shows study A's {leaked}")
            if role not in allowed and name not in GET_ONLY:
                before = snapshot()
                status = client.post(url, {"step": "1", "confirm": "on", "username": "analyst_b"}).status_code
                if status not in (403, 404) or snapshot() != before:
                    wrong.append(f"{role}: POST {url} -> {status}; data changed: {snapshot() != before}")
    assert not wrong, "\n".join(wrong)
