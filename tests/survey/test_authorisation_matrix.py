"""Every URL × every role × study ownership, in one table.

Study A (the shipped study, answered by synthetic participants) is owned by ``owner_a``; it has a
researcher member, an analyst member, and an analyst member allowed raw exports; ``analyst_a_raw``
has run an export of it (a background-task result with its files). Study B belongs to someone else.
``EXPECTED`` says, for each URL of study A's objects, which roles get the page ("ok"); everyone else
signed in must get 403 or 404 and change nothing, and a signed-out visitor is sent to sign in.
``test_every_url_is_in_the_table`` fails when a URL is added to the site without a row here.
"""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from survey.models import (
    AuditEvent,
    Choice,
    ChoiceList,
    ConsentText,
    ExportJob,
    Question,
    QuestionnaireVersion,
    Response,
    Study,
    StudyMembership,
)
from survey.roles import ANALYST, RESEARCHER
from survey.services.exports import export_job_create, export_job_run
from survey.services.questionnaires import consent_create, questionnaire_import
from tests.specs import tiny_spec

pytestmark = pytest.mark.django_db

ROLES = (
    "anonymous",
    "superuser",
    "owner_a",
    "researcher_a",
    "analyst_a",
    "analyst_a_raw",
    "researcher_b",
    "analyst_b",
)
MEMBERS_A = {"superuser", "owner_a", "researcher_a", "analyst_a", "analyst_a_raw"}
RAW_A = {"superuser", "owner_a", "researcher_a", "analyst_a_raw"}
EDITORS_A = {"superuser", "owner_a", "researcher_a"}
STAFF = set(ROLES) - {"anonymous"}
RESEARCHERS = {"superuser", "owner_a", "researcher_a", "researcher_b"}
POST_ONLY = {"admin:survey_question_process_import", "admin:survey_choice_process_import"}

# URL name -> roles that get it (GET). Object URLs are for study A's objects.
EXPECTED: dict[str, set[str]] = {
    # Analysts' pages and background-task results (only the person who asked sees an export).
    "survey:results": MEMBERS_A,
    "survey:report": MEMBERS_A,
    "survey:export": RAW_A,
    "survey:export_status": {"analyst_a_raw"},
    "survey:export_download": {"analyst_a_raw"},
    "survey:export_download codebook": {"analyst_a_raw"},
    # Admin: a study's objects are seen by its members, changed by its editors. Study A's
    # questionnaire is published, so its parts are read-only for everyone and cannot be deleted.
    "admin:survey_study_change": MEMBERS_A,
    "admin:survey_study_history": MEMBERS_A,
    "admin:survey_study_delete": {"superuser", "owner_a", "researcher_a"},
    "admin:survey_questionnaireversion_change": MEMBERS_A,
    "admin:survey_questionnaireversion_history": MEMBERS_A,
    "admin:survey_questionnaireversion_delete": set(),
    "admin:survey_questionnaireversion_preview": MEMBERS_A,
    "admin:survey_questionnaireversion_publish": EDITORS_A,
    "admin:survey_questionnaireversion_new_draft": EDITORS_A,
    "admin:survey_question_change": MEMBERS_A,
    "admin:survey_question_history": MEMBERS_A,
    "admin:survey_question_delete": set(),
    "admin:survey_choicelist_change": MEMBERS_A,
    "admin:survey_choicelist_history": MEMBERS_A,
    "admin:survey_choicelist_delete": set(),
    "admin:survey_choice_change": MEMBERS_A,
    "admin:survey_choice_history": MEMBERS_A,
    "admin:survey_choice_delete": set(),
    "admin:survey_consenttext_change": MEMBERS_A,
    "admin:survey_consenttext_history": MEMBERS_A,
    "admin:survey_consenttext_delete": set(),  # a consent text in use is kept
    "admin:survey_auditevent_change": {"superuser"},
    "admin:survey_auditevent_history": {"superuser"},
    "admin:survey_auditevent_delete": set(),
    # Lists and forms that are not about one object: every staff member may open them, and none
    # of them shows another study's objects (checked below by looking for study A's markers).
    "admin:survey_study_changelist": STAFF,
    "admin:survey_study_add": {"superuser", "owner_a", "researcher_a", "researcher_b"},
    "admin:survey_questionnaireversion_changelist": STAFF,
    "admin:survey_questionnaireversion_add": set(),  # versions come from an import or a new draft
    "admin:survey_question_changelist": STAFF,
    "admin:survey_question_export": STAFF,
    "admin:survey_choicelist_changelist": STAFF,
    "admin:survey_choice_changelist": STAFF,
    "admin:survey_choice_export": STAFF,
    "admin:survey_consenttext_changelist": STAFF,
    "admin:survey_consenttext_add": {"superuser", "owner_a", "researcher_a", "researcher_b"},
    "admin:survey_auditevent_changelist": {"superuser"},
    "admin:survey_auditevent_add": set(),
    "admin:survey_question_add": set(),
    "admin:survey_choicelist_add": set(),
    "admin:survey_choice_add": set(),
    "admin:survey_question_import": RESEARCHERS,
    "admin:survey_question_process_import": RESEARCHERS,  # POST only; each row is checked against the study
    "admin:survey_choice_import": RESEARCHERS,
    "admin:survey_choice_process_import": RESEARCHERS,  # POST only; each row is checked against the study
}
# Lists a role outside study A opens: study A's title, slug and question codes must not be on them.
LISTS = {name for name, allowed in EXPECTED.items() if allowed in (STAFF,)} | {
    "admin:survey_study_add",
    "admin:survey_questionnaireversion_add",
    "admin:survey_consenttext_add",
}
MARKERS_A = ("trust-and-rating-systems", "Trust and rating systems", "welcome_scs")


@pytest.fixture
def world(make_user, answered_study):
    users = {
        "superuser": make_user("root", superuser=True),
        "owner_a": make_user("owner_a", RESEARCHER),
        "researcher_a": make_user("researcher_a", RESEARCHER),
        "analyst_a": make_user("analyst_a", ANALYST),
        "analyst_a_raw": make_user("analyst_a_raw", ANALYST),
        "researcher_b": make_user("researcher_b", RESEARCHER),
        "analyst_b": make_user("analyst_b", ANALYST),
    }
    study_a = answered_study
    Study.objects.filter(pk=study_a.pk).update(owner=users["owner_a"])
    StudyMembership.objects.create(study=study_a, user=users["researcher_a"], role="researcher")
    StudyMembership.objects.create(study=study_a, user=users["analyst_a"], role="analyst")
    StudyMembership.objects.create(
        study=study_a, user=users["analyst_a_raw"], role="analyst", may_export_raw=True
    )
    version_b = questionnaire_import(spec=tiny_spec(), owner=users["researcher_b"], study_slug="study-b")
    consent_create(study=version_b.study, texts={"en": "C", "zh": "C"})
    StudyMembership.objects.create(study=version_b.study, user=users["analyst_b"], role="analyst")
    job = export_job_create(user=users["analyst_a_raw"], study=study_a, fmt="csv", language="en")
    job = export_job_run(job_id=str(job.pk))
    version_a = QuestionnaireVersion.objects.get(study=study_a)
    objects = {
        "study": study_a,
        "questionnaireversion": version_a,
        "question": Question.objects.filter(version=version_a).first(),
        "choicelist": ChoiceList.objects.filter(version=version_a).first(),
        "choice": Choice.objects.filter(choice_list__version=version_a).first(),
        "consenttext": ConsentText.objects.filter(study=study_a).first(),
        "auditevent": AuditEvent.objects.filter(study=study_a).first(),
    }
    return users, study_a, version_a, job, objects


def url_for(name: str, study_a, version_a, job, objects) -> str:
    if name == "survey:export_download codebook":
        return reverse("survey:export_download", args=[job.pk]) + f"?file={job.file_name}.codebook.json"
    if name in {"survey:results", "survey:report", "survey:export"}:
        return reverse(name, args=[study_a.slug])
    if name.startswith("survey:export_"):
        return reverse(name, args=[job.pk])
    if name == "admin:survey_questionnaireversion_preview":
        return reverse(name, args=[version_a.pk, "zh"])
    model, _, view = name.removeprefix("admin:survey_").partition("_")
    if view in {"changelist", "add", "export", "import", "process_import"}:
        return reverse(name)
    return reverse(name, args=[objects[model].pk])


def snapshot() -> tuple[int, ...]:
    models = (
        Study,
        QuestionnaireVersion,
        Question,
        Choice,
        ConsentText,
        ExportJob,
        Response,
        StudyMembership,
    )
    published = QuestionnaireVersion.objects.filter(status="published").count()
    return (*(m.objects.count() for m in models), published)


def client_for(role: str, users) -> Client:
    client = Client()
    if role != "anonymous":
        client.force_login(users[role])
    return client


def test_every_url_is_in_the_table():
    """Every named URL of the analysts' pages and of Candid's admin has a row in ``EXPECTED``."""
    names: set[str] = set()

    def collect(patterns, namespace: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                collect(pattern.url_patterns, pattern.namespace or namespace)
            elif isinstance(pattern, URLPattern) and pattern.name:
                names.add(f"{namespace}:{pattern.name}")

    collect(get_resolver().url_patterns, "")
    ours = {n for n in names if n.startswith("admin:survey_")}
    ours |= {n for n in names if n.startswith("survey:") and n.split(":")[1] in {"results", "report"}}
    ours |= {n for n in names if n.startswith("survey:export")}
    # Object-level views of every model registered in Candid's admin are in the table too.
    for model in admin.site._registry:
        if model._meta.app_label == "survey":
            assert f"admin:survey_{model._meta.model_name}_change" in EXPECTED
    missing = sorted(ours - set(EXPECTED))
    assert not missing, f"URLs without a row in the authorisation table: {missing}"


def test_authorisation_matrix(world):
    """One setting-up, every role in turn (the failures of all roles are listed together)."""
    users, study_a, version_a, job, objects = world
    wrong = []
    for role in ROLES:
        wrong += check_role(role, client_for(role, users), study_a, version_a, job, objects)
    assert not wrong, "\n".join(wrong)


def check_role(role, client, study_a, version_a, job, objects) -> list[str]:
    wrong = []
    for name, allowed in EXPECTED.items():
        url = url_for(name, study_a, version_a, job, objects)
        response = client.get(url)
        status = response.status_code
        if role == "anonymous":
            if not (status == 302 and "/admin/login/" in response["Location"]):
                wrong.append(f"GET {url} -> {status}, not a redirect to sign in")
            continue
        if name in POST_ONLY:
            if status not in (403, 405):
                wrong.append(f"GET {url} -> {status}, expected 403 or 405")
        elif role in allowed:
            redirect = status == 302 and "/admin/login/" not in response["Location"]
            if status != 200 and not redirect:  # an action page (new draft) answers a GET with a redirect
                wrong.append(f"GET {url} -> {status}, expected the page")
        elif status not in (403, 404):
            wrong.append(f"GET {url} -> {status}, expected 403 or 404")
        if name in LISTS and role in {"researcher_b", "analyst_b"} and status == 200:
            body = b"".join(response) if response.streaming else response.content
            leaked = [m for m in MARKERS_A if m.encode() in body]
            if leaked:
                wrong.append(f"GET {url} shows study A's {leaked}")
        if role not in allowed:  # a refused POST changes nothing either
            before = snapshot()
            status = client.post(
                url, {"format": "csv", "language": "en", "confirm": "yes", "post": "yes"}
            ).status_code
            if status not in (403, 404) or snapshot() != before:
                wrong.append(f"POST {url} -> {status}; data changed: {snapshot() != before}")
    return [f"{role}: {line}" for line in wrong]
