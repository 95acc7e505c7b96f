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
from django.core.files.uploadedfile import SimpleUploadedFile
from django.forms import ModelChoiceField, ModelMultipleChoiceField
from django.test import Client, RequestFactory
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
from tests.helpers import every_row
from tests.html_forms import form_data
from tests.specs import consent_details, tiny_spec

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
POST_ONLY = {
    "admin:survey_question_process_import",
    "admin:survey_choice_process_import",
    "survey:weighting_upload",
}

# URL name -> roles that get it (GET). Object URLs are for study A's objects. The admin is for
# superusers (survey.admin_site): researchers and analysts work in the studio and are refused it.
EXPECTED: dict[str, set[str]] = {
    # Analysts' pages and background-task results (only the person who asked sees an export).
    "survey:results": MEMBERS_A,
    "survey:report": MEMBERS_A,
    "survey:study_results": MEMBERS_A,
    "survey:study_results_download": MEMBERS_A,
    "survey:weighting_upload": MEMBERS_A,
    "survey:report_download": MEMBERS_A,
    # Claims registries: members read them (uploading is checked in test_claims_pages).
    "survey:claims_registry": MEMBERS_A,
    "survey:claims_registry_download": MEMBERS_A,
    "survey:claims_registry_example": MEMBERS_A,
    "survey:export": RAW_A,
    "survey:export_status": {"analyst_a_raw"},
    "survey:export_download": {"analyst_a_raw"},
    "survey:export_download codebook": {"analyst_a_raw"},
    # Admin: a study's objects are seen by its members, changed by its editors. Study A's
    # questionnaire is published, so its parts are read-only for everyone and cannot be deleted.
    "admin:survey_study_change": {"superuser"},
    "admin:survey_study_history": {"superuser"},
    "admin:survey_study_delete": {"superuser"},
    "admin:survey_questionnaireversion_change": {"superuser"},
    "admin:survey_questionnaireversion_history": {"superuser"},
    "admin:survey_questionnaireversion_delete": set(),
    "admin:survey_questionnaireversion_preview": {"superuser"},
    "admin:survey_questionnaireversion_publish": {"superuser"},
    "admin:survey_questionnaireversion_new_draft": {"superuser"},
    "admin:survey_question_change": {"superuser"},
    "admin:survey_question_history": {"superuser"},
    "admin:survey_question_delete": set(),
    "admin:survey_choicelist_change": {"superuser"},
    "admin:survey_choicelist_history": {"superuser"},
    "admin:survey_choicelist_delete": set(),
    "admin:survey_choice_change": {"superuser"},
    "admin:survey_choice_history": {"superuser"},
    "admin:survey_choice_delete": set(),
    "admin:survey_consenttext_change": {"superuser"},
    "admin:survey_consenttext_history": {"superuser"},
    "admin:survey_consenttext_delete": set(),  # a consent text in use is kept
    "admin:survey_auditevent_change": {"superuser"},
    "admin:survey_auditevent_history": {"superuser"},
    "admin:survey_auditevent_delete": set(),
    # Lists and forms that are not about one object: every staff member may open them, and none
    # of them shows another study's objects (checked below by looking for study A's markers).
    "admin:survey_study_changelist": {"superuser"},
    "admin:survey_study_add": {"superuser"},
    "admin:survey_questionnaireversion_changelist": {"superuser"},
    "admin:survey_questionnaireversion_add": set(),  # versions come from an import or a new draft
    "admin:survey_question_changelist": {"superuser"},
    "admin:survey_question_export": {"superuser"},
    "admin:survey_choicelist_changelist": {"superuser"},
    "admin:survey_choice_changelist": {"superuser"},
    "admin:survey_choice_export": {"superuser"},
    "admin:survey_consenttext_changelist": {"superuser"},
    "admin:survey_consenttext_add": {"superuser"},
    "admin:survey_auditevent_changelist": {"superuser"},
    "admin:survey_auditevent_add": set(),
    "admin:survey_question_add": set(),
    "admin:survey_choicelist_add": set(),
    "admin:survey_choice_add": set(),
    "admin:survey_question_import": {"superuser"},
    "admin:survey_question_process_import": {"superuser"},  # POST only; each row is checked against the study
    "admin:survey_choice_import": {"superuser"},
    "admin:survey_choice_process_import": {"superuser"},  # POST only; each row is checked against the study
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
    if name in {
        "survey:results",
        "survey:report",
        "survey:export",
        "survey:study_results",
        "survey:weighting_upload",
        "survey:claims_registry",
        "survey:claims_registry_example",
    }:
        return reverse(name, args=[study_a.slug])
    if name == "survey:report_download":
        return reverse(name, args=[study_a.slug, "json"])
    if name == "survey:claims_registry_download":
        return reverse(name, args=[study_a.slug, 1])
    if name == "survey:study_results_download":
        return reverse(name, args=[study_a.slug, "csv"])
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
    ours |= {n for n in names if n.startswith(("survey:study_results", "survey:weighting"))}
    ours |= {n for n in names if n.startswith(("survey:report", "survey:claims"))}
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
        if "no-store" not in response.get("Cache-Control", ""):
            wrong.append(f"GET {url} -> {status} without Cache-Control: no-store")
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


# --- Every choice of every admin form, pointed at what the user may not use --------------------------
#
# Two studies, each with a published version 1, a draft version 2 and two consent texts. Signed in as
# study B's owner (and as an admin), every add and change page of every Candid model in the admin
# registry is opened for study B's objects; every foreign-key or many-to-many choice on it (inline
# rows included) must not offer study A's objects, nor parts of B's published version, nor accounts
# that are not active staff; and posting the page with one choice pointed at such an object must be
# refused with an error on that field, changing nothing. A model or field added later is covered
# without a change here; a choice whose model has no rule below fails the test until it gets one.


def linked_spec() -> dict:
    """``tiny_spec`` with a second page holding a matrix (items with a parent) and a slider."""
    label = {"en": "L", "zh": "标"}
    spec = tiny_spec()
    spec["sections"].append(
        {
            "code": "p2",
            "label": {"en": "Page 2", "zh": "页2"},
            "questions": [
                {
                    "code": "grid",
                    "type": "matrix",
                    "label": label,
                    "choice_list": "yn",
                    "items": [
                        {"code": f"grid_{n}", "type": "single_choice", "label": label, "choice_list": "yn"}
                        for n in (1, 2)
                    ],
                },
                {
                    "code": "dial",
                    "type": "slider",
                    "label": label,
                    "hint": {"en": "Slide", "zh": "滑"},
                    "parameters": {"start": 0, "end": 10, "step": 1},
                },
            ],
        }
    )
    return tiny_spec(sections=spec["sections"])


def _path_to(model, target) -> str | None:
    """The test's own walk from ``model`` to ``target`` along foreign keys (not the code under test's)."""
    frontier, seen = [(model, "")], {model}
    while frontier:
        following = []
        for current, path in frontier:
            if current is target:
                return path or "pk"
            for field in current._meta.concrete_fields:
                if field.many_to_one and field.related_model not in seen:
                    seen.add(field.related_model)
                    following.append((field.related_model, f"{path}__{field.name}".strip("_")))
        frontier = following
    return None


@pytest.fixture
def two_drafts(make_user, django_user_model):
    from survey.services.questionnaires import questionnaire_new_draft, questionnaire_publish

    users = {
        "owner_a": make_user("owner_a", RESEARCHER),
        "owner_b": make_user("owner_b", RESEARCHER),
        "analyst_b": make_user("analyst_b", ANALYST),
        "superuser": make_user("root", superuser=True),
        "gone": make_user("gone", RESEARCHER),
        "outsider": django_user_model.objects.create_user("outsider", password="pw-outsider"),
    }
    django_user_model.objects.filter(username="gone").update(is_active=False)
    studies = {}
    for key in ("a", "b"):
        owner = users[f"owner_{key}"]
        first = questionnaire_import(spec=linked_spec(), owner=owner, study_slug=f"study-{key}")
        consent = consent_create(study=first.study, texts={"en": "C", "zh": "C"}, **consent_details())
        questionnaire_publish(version=first, consent=consent)
        consent_create(study=first.study, texts={"en": "C2", "zh": "C2"}, **consent_details())
        draft = questionnaire_new_draft(version=QuestionnaireVersion.objects.get(pk=first.pk))
        studies[key] = (first.study, first, draft)
    StudyMembership.objects.create(study=studies["b"][0], user=users["analyst_b"], role="analyst")
    StudyMembership.objects.create(study=studies["a"][0], user=users["gone"], role="researcher")
    return users, studies


def forbidden_for(model, studies, django_user_model, *, everything_foreign: bool) -> list:
    """Objects of ``model`` that a form writing study B must never accept: study A's; and, with
    ``everything_foreign``, a part of B's published version and accounts that are not active staff."""
    if model is django_user_model:
        return list(django_user_model.objects.filter(username__in=["gone", "outsider"]))
    to_study = _path_to(model, Study)
    assert to_study is not None, (
        f"no rule for choices of {model.__name__}: say which of its objects are foreign"
    )
    queryset = model._default_manager.order_by("pk")
    others = [queryset.filter(**{to_study: studies["a"][0].pk}).first()]
    to_version = _path_to(model, QuestionnaireVersion)
    if to_version is not None and everything_foreign:
        others.append(queryset.filter(**{to_version: studies["b"][1].pk}).first())  # B's published version
    return [obj for obj in others if obj is not None]


def own_object(model, studies):
    """Study B's object of ``model`` to open, a part of the draft where there is one."""
    to_study = _path_to(model, Study)
    queryset = model._default_manager.filter(**{to_study: studies["b"][0].pk})
    to_version = _path_to(model, QuestionnaireVersion)
    if to_version is not None:
        queryset = queryset.filter(**{to_version: studies["b"][2].pk})
    return queryset.order_by("pk").first()


def admin_pages(studies) -> list[tuple[type, str]]:
    """``(model, url)`` of the add page and of study B's change page, for every Candid model admin."""
    pages = []
    for model in admin.site._registry:
        if model._meta.app_label != "survey":
            continue
        name = model._meta.model_name
        pages.append((model, reverse(f"admin:survey_{name}_add")))
        obj = own_object(model, studies)
        if obj is not None:
            pages.append((model, reverse(f"admin:survey_{name}_change", args=[obj.pk])))
    return pages


def choice_fields(context) -> list[tuple[object, str, object]]:
    """``(form, field name, field)`` for every model choice on the page, the first row of each inline."""
    forms = [context["adminform"].form]
    for inline in context["inline_admin_formsets"]:
        forms += inline.formset.forms[:1]
    return [
        (form, name, field)
        for form in forms
        for name, field in form.fields.items()
        if isinstance(field, ModelChoiceField)
    ]


def errors_of(context, prefixed_name: str) -> list[str]:
    forms = [context["adminform"].form]
    for inline in context.get("inline_admin_formsets", []):
        forms += inline.formset.forms
    return [
        message
        for form in forms
        for name, messages in form.errors.items()
        if form.add_prefix(name) == prefixed_name
        for message in messages
    ]


@pytest.mark.parametrize("who", ["superuser"])  # the admin is theirs alone (test_admin_roles)
def test_no_admin_choice_reaches_what_the_user_may_not_use(who, two_drafts, django_user_model):
    users, studies = two_drafts
    client = Client()
    client.force_login(users[who])
    wrong: list[str] = []
    tried = 0
    for model, url in admin_pages(studies):
        page = client.get(url)
        if page.status_code != 200:
            continue
        html = page.content.decode()
        base = form_data(html, f"{model._meta.model_name}_form")
        for form, name, field in choice_fields(page.context):
            if who == "superuser" and "/change/" not in url:
                continue  # an admin may use any study's objects where no study is fixed yet
            # The admin's run checks only that objects never move between studies; the rest is
            # the same code as for B's owner.
            foreign = forbidden_for(
                field.queryset.model, studies, django_user_model, everything_foreign=who != "superuser"
            )
            if not foreign:
                wrong.append(f"{url} {name}: the fixture has no foreign {field.queryset.model.__name__}")
                continue
            offered = field.queryset.filter(pk__in=[obj.pk for obj in foreign])
            if offered.exists():
                wrong.append(f"{url} {name} offers {[str(obj) for obj in offered]}")
            for obj in foreign:
                posted = form.add_prefix(name)
                value = getattr(obj, field.to_field_name or "pk")
                data = {
                    **base,
                    posted: [str(value)] if isinstance(field, ModelMultipleChoiceField) else str(value),
                }
                before = every_row()
                answer = client.post(url, {**data, "_save": "Save"})
                tried += 1
                if every_row() != before:
                    wrong.append(f"POST {url} {posted}={obj!r} changed data ({answer.status_code})")
                elif answer.status_code != 200 or not errors_of(answer.context, posted):
                    wrong.append(f"POST {url} {posted}={obj!r}: {answer.status_code}, no error on the field")
    assert tried >= 10, "the registry gave too few choices to try"
    assert not wrong, "\n".join(wrong)


def test_admin_actions_reach_no_other_study(two_drafts):
    """Every action of every Candid admin, posted with study A's objects selected by B's owner."""
    users, studies = two_drafts
    client = Client()
    client.force_login(users["owner_b"])
    request = RequestFactory().get("/")
    request.user = users["owner_b"]
    wrong = []
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label != "survey":
            continue
        to_study = _path_to(model, Study)
        targets = list(
            model._default_manager.filter(**{to_study: studies["a"][0].pk}).values_list("pk", flat=True)
        )
        url = reverse(f"admin:survey_{model._meta.model_name}_changelist")
        for action in model_admin.get_actions(request):
            before = every_row()
            answer = client.post(url, {"action": action, "_selected_action": targets, "post": "yes"})
            if answer.status_code >= 500 or every_row() != before:
                wrong.append(
                    f"{action} on {model.__name__}: {answer.status_code}, changed: {every_row() != before}"
                )
    assert not wrong, "\n".join(wrong)


def test_importer_tells_nothing_about_other_studies(two_drafts):
    """The admin's importer is for superusers: another study's owner is refused before any row is
    read, whichever study the rows name, and nothing is written."""
    users, _ = two_drafts
    client = Client()
    client.force_login(users["owner_b"])
    replies = set()
    for reference in ("study-a:2", "no-such-study:2", "study-b:1"):  # another's draft, nothing, B's published
        sheet = f'version,section,code,type,label\n{reference},p1,q2,integer,"{{""en"": ""x""}}"\n'
        before = every_row()
        page = client.post(
            reverse("admin:survey_question_import"),
            {"format": "0", "resource": "0", "import_file": SimpleUploadedFile("q.csv", sheet.encode())},
        )
        assert page.status_code == 403 and every_row() == before
        replies.add(page.content)
    assert len(replies) == 1


def test_a_member_is_added_by_exact_username_without_a_list(two_drafts):
    users, studies = two_drafts
    client = Client()
    client.force_login(users["superuser"])
    url = reverse("admin:survey_study_change", args=[studies["b"][0].pk])
    page = client.get(url)
    html = page.content.decode()
    for name in ("owner_a", "gone", "outsider"):
        assert name not in html, f"the study page names the account {name}"
    data = form_data(html, "study_form")
    data.update(
        {
            "memberships-TOTAL_FORMS": "2",
            "memberships-1-user": "Owner_A",  # the right account, but not its exact username
            "memberships-1-role": "analyst",
            "_save": "Save",
        }
    )
    before = every_row()
    refused = client.post(url, data)
    assert refused.status_code == 200 and every_row() == before
    assert "No active staff account has exactly this username" in refused.content.decode()
    data["memberships-1-user"] = "owner_a"
    assert client.post(url, data).status_code == 302
    assert StudyMembership.objects.filter(
        study=studies["b"][0], user=users["owner_a"], role="analyst"
    ).exists()


def test_a_choice_list_moves_neither_to_another_study_nor_to_a_published_version(two_drafts):
    """The two findings behind the generic test above, by name: refused with a form error, not moved."""
    users, studies = two_drafts
    client = Client()
    client.force_login(users["superuser"])
    choice_list = ChoiceList.objects.get(version=studies["b"][2], name="yn")
    url = reverse("admin:survey_choicelist_change", args=[choice_list.pk])
    data = form_data(client.get(url).content.decode(), "choicelist_form")
    for target in (studies["a"][2], studies["b"][1]):  # study A's draft; B's own published version
        before = every_row()
        page = client.post(url, {**data, "version": str(target.pk), "_save": "Save"})
        assert page.status_code == 200 and errors_of(page.context, "version")
        assert every_row() == before
    assert client.post(url, {**data, "_save": "Save"}).status_code == 302  # its own version: saved
