"""The researcher's studio through its real views: create a study, import, edit, consent, publish,
distribute — each write audited, each refusal leaving nothing behind."""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import reverse

from survey.instrument_files import questionnaire_bytes
from survey.models import (
    AuditEvent,
    ConsentText,
    Question,
    QuestionnaireVersion,
    Sample,
    Study,
    StudyMembership,
)
from survey.roles import ANALYST, RESEARCHER
from survey.selectors import version_to_spec
from survey.services.questionnaires import consent_create, questionnaire_import
from tests.specs import consent_details, tiny_spec

pytestmark = pytest.mark.django_db


@pytest.fixture
def researcher(make_user):
    user = make_user("rita", RESEARCHER)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return user, client


def create_payload(**overrides) -> dict[str, str]:
    data = {
        "languages": ["en", "zh-Hans"],
        "title__en": "Trust in neighbours",
        "title__zh-Hans": "邻里信任",
        "slug": "neighbours",
        "opens_on": "",
        "closes_on": "",
        "data_freeze_on": "",
        "target_size": "",
        "samples-TOTAL_FORMS": "1",
        "samples-INITIAL_FORMS": "0",
        "samples-MIN_NUM_FORMS": "1",
        "samples-MAX_NUM_FORMS": "1000",
        "samples-0-name": "Online panel",
        "samples-0-slug": "panel",
        "samples-0-default_language": "zh-Hans",
        "samples-0-target_size": "500",
        "samples-0-is_default": "on",
        "samples-0-completion_redirect_url": "https://panel.example.org/done?cc={code}",
        "samples-0-completion_code": "C0MPL3TE",
        "samples-0-screenout_redirect_url": "",
        "samples-0-screenout_code": "",
        "samples-0-overquota_redirect_url": "https://panel.example.org/full?cc={code}",
        "samples-0-overquota_code": "FULL",
        "members-TOTAL_FORMS": "1",
        "members-INITIAL_FORMS": "0",
        "members-MIN_NUM_FORMS": "0",
        "members-MAX_NUM_FORMS": "1000",
        "members-0-username": "",
        "members-0-role": "researcher",
        "save": "1",
    }
    data.update(overrides)
    return data


def xlsx_upload(spec, name="form.xlsx") -> io.BytesIO:
    upload = io.BytesIO(questionnaire_bytes(spec, "xlsx"))
    upload.name = name
    return upload


def test_home_lists_own_and_member_studies_only(researcher, make_user, shipped_study):
    user, client = researcher
    other = make_user("olga", RESEARCHER)
    Study.objects.create(owner=other, slug="not-yours", title="Not yours", languages=["en"])
    StudyMembership.objects.create(study=shipped_study, user=user, role="analyst")
    html = client.get(reverse("survey:studio")).content.decode()
    assert "Trust and rating systems" in html and "Not yours" not in html
    assert "analyst" in html and "Create study" in html


def test_create_study_with_samples_redirects_and_members(researcher, make_user):
    user, client = researcher
    colleague = make_user("carl", ANALYST)
    response = client.post(
        reverse("survey:studio_new"),
        create_payload(**{"members-0-username": "carl", "members-0-role": "analyst"}),
    )
    assert response.status_code == 302 and response["Location"] == reverse(
        "survey:studio_import", args=["neighbours"]
    )
    study = Study.objects.get(slug="neighbours")
    assert study.owner == user and study.languages == ["en", "zh-Hans"]
    assert (
        study.titles == {"en": "Trust in neighbours", "zh-Hans": "邻里信任"}
        and study.title == "Trust in neighbours"
    )
    sample = Sample.objects.get(study=study)
    assert sample.is_default and sample.default_language == "zh-Hans" and sample.target_size == 500
    assert sample.panel_link("completion") == "https://panel.example.org/done?cc=C0MPL3TE"
    assert sample.panel_link("overquota") == "https://panel.example.org/full?cc=FULL"
    assert sample.panel_link("screenout") is None
    assert StudyMembership.objects.get(study=study).user == colleague
    actions = set(AuditEvent.objects.filter(study=study).values_list("action", flat=True))
    assert {"study_created", "membership_set"} <= actions


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"title__zh-Hans": ""}, "Give the study a title in"),
        ({"slug": "not a slug!"}, "Enter a valid"),
        ({"members-0-username": "nobody-here"}, "No staff account has the username nobody-here"),
        ({"members-0-username": "rita"}, "The owner is already on the study"),
        ({"samples-0-default_language": "fr"}, "Choose one of the study&#x27;s languages"),
        ({"samples-0-completion_redirect_url": "javascript:alert(1)"}, "Enter a valid URL"),
        ({"closes_on": "2030-01-01", "opens_on": "2030-02-01"}, "cannot close before it opens"),
    ],
)
def test_create_study_refuses_bad_input_and_writes_nothing(researcher, overrides, message):
    _user, client = researcher
    response = client.post(reverse("survey:studio_new"), create_payload(**overrides))
    assert response.status_code == 400 and message in response.content.decode()
    assert not Study.objects.exists() and not AuditEvent.objects.exists()


def test_create_study_adds_sample_rows_without_javascript(researcher):
    _user, client = researcher
    data = create_payload(add_sample="1")
    del data["save"]
    html = client.post(reverse("survey:studio_new"), data).content.decode()
    assert 'name="samples-1-name"' in html and not Study.objects.exists()


def test_analyst_cannot_create_studies_or_design(make_user, shipped_study):
    analyst = make_user("ana", ANALYST)
    StudyMembership.objects.create(study=shipped_study, user=analyst, role="analyst")
    client = Client()
    client.force_login(analyst)
    assert client.get(reverse("survey:studio_new")).status_code == 403
    assert client.get(reverse("survey:studio_import", args=[shipped_study.slug])).status_code == 403
    assert client.get(reverse("survey:studio_version", args=[shipped_study.slug, 1])).status_code == 200


def test_import_refused_spreadsheet_lists_problems_and_creates_nothing(researcher):
    user, client = researcher
    study = Study.objects.create(owner=user, slug="s", title="S", languages=["en", "zh"])
    spec = tiny_spec()
    spec["sections"][0]["questions"][1]["relevance"] = "${nope} = 'yes'"
    spec["choice_lists"][0]["choices"][1]["label"] = {}  # no label in any language (one missing: accepted)
    response = client.post(reverse("survey:studio_import", args=[study.slug]), {"file": xlsx_upload(spec)})
    html = response.content.decode()
    assert response.status_code == 400 and "was not imported: 3 problems" in html
    assert "<td>survey</td>" in html and "<td>choices</td>" in html  # the sheet of each problem
    assert re.search(r'<td class="number">\d+</td>', html)  # its row
    assert "refers to ${nope}" in html
    assert not QuestionnaireVersion.objects.exists()
    assert not AuditEvent.objects.filter(action="questionnaire_imported").exists()


def test_import_then_reimport_replaces_the_draft(researcher):
    user, client = researcher
    study = Study.objects.create(owner=user, slug="s", title="S", languages=["en", "zh"])
    url = reverse("survey:studio_import", args=[study.slug])
    response = client.post(url, {"file": xlsx_upload(tiny_spec())})
    assert response.status_code == 302
    spec = tiny_spec()
    spec["sections"][0]["questions"][0]["label"]["en"] = "Corrected Q1"
    client.post(url, {"file": xlsx_upload(spec)})
    version = QuestionnaireVersion.objects.get(study=study)  # the same draft, not a second one
    assert (
        version.number == 1 and Question.objects.get(version=version, code="q1").label["en"] == "Corrected Q1"
    )
    page = client.get(reverse("survey:studio_version", args=[study.slug, 1])).content.decode()
    assert "Corrected Q1" in page and "问1" in page
    assert AuditEvent.objects.filter(action="questionnaire_imported", study=study).count() == 2


def test_import_accepts_a_partial_translation_and_says_so(researcher):
    user, client = researcher
    study = Study.objects.create(owner=user, slug="s", title="S", languages=["en", "zh"])
    spec = tiny_spec()
    spec["sections"][0]["questions"][1]["constraint_message"] = {"en": "Not negative"}
    url = reverse("survey:studio_import", args=[study.slug])
    page = client.post(url, {"file": xlsx_upload(spec)}, follow=True).content.decode()
    assert "is imported as draft version 1" in page
    assert "participants reading those languages see them in en: q2 (message when not accepted: zh)" in page
    assert re.search(
        r"sheet survey, row \d+, column [A-Z]+ \(constraint_message::[^)]*\(zh\)\): no message", page
    )


def test_the_publish_page_says_which_texts_participants_read_in_the_default_language(researcher):
    """Not blocking (pyxform accepts such a form, the page falls back), but the researcher is told."""
    user, client = researcher
    study = Study.objects.create(owner=user, slug="s", title="S", languages=["en", "zh"])
    spec = tiny_spec()
    spec["choice_lists"][0]["choices"][1]["label"] = {"en": "No"}
    client.post(reverse("survey:studio_import", args=[study.slug]), {"file": xlsx_upload(spec)}, follow=True)
    page = client.get(reverse("survey:studio_publish", args=[study.slug, 1])).content.decode()
    assert re.search(r'id="untranslated">[^<]*see them in en: yn/no \(choice label: zh\)', page)
    assert "no label in zh" not in page  # not in the checklist of what blocks


def test_import_a_file_that_is_not_a_spreadsheet(researcher):
    user, client = researcher
    study = Study.objects.create(owner=user, slug="s", title="S", languages=["en"])
    junk = io.BytesIO(b"not a zip")
    junk.name = "form.xlsx"
    response = client.post(reverse("survey:studio_import", args=[study.slug]), {"file": junk})
    assert response.status_code == 400 and "was not imported" in response.content.decode()
    assert not QuestionnaireVersion.objects.exists()


@pytest.fixture
def draft(researcher):
    from survey.services.questionnaires import questionnaire_import

    user, client = researcher
    version = questionnaire_import(spec=tiny_spec(), owner=user, study_slug="tiny")
    Study.objects.filter(pk=version.study_id).update(owner=user)
    return client, version


def question_payload(version, **overrides) -> dict[str, str]:
    spec = version_to_spec(version)
    question = next(q for q in spec["sections"][0]["questions"] if q["code"] == overrides.get("_code", "q2"))
    data = {
        "code": question["code"],
        "type": question["type"],
        "page": "p1",
        "relevance": question["relevance"],
        "constraint": question["constraint"],
        "choice_list": question["choice_list"] or "",
        "appearance": question["appearance"],
        "source": "",
        "slider_start": "",
        "slider_end": "",
        "slider_step": "",
    }
    for field in ("label", "hint", "constraint_message"):
        for language in ("en", "zh"):
            data[f"{field}__{language}"] = question[field].get(language, "")
    if question["required"]:
        data["required"] = "on"
    data.update({k: v for k, v in overrides.items() if not k.startswith("_")})
    return data


def test_edit_a_label_and_see_it_everywhere(draft):
    client, version = draft
    url = reverse("survey:studio_question", args=["tiny", 1, "q2"])
    response = client.post(url, question_payload(version, label__zh="第二题"))
    assert response.status_code == 302
    assert Question.objects.get(version=version, code="q2").label == {"en": "Q2", "zh": "第二题"}
    event = AuditEvent.objects.get(action="questionnaire_edited")
    assert event.detail["change"] == "question_changed" and event.detail["question"] == "q2"


def test_a_bad_expression_is_refused_at_its_field_and_nothing_changes(draft):
    client, version = draft
    url = reverse("survey:studio_question", args=["tiny", 1, "q2"])
    response = client.post(url, question_payload(version, relevance="${q1} = "))
    html = response.content.decode()
    assert response.status_code == 400 and "the expression ends too early" in html
    assert 'id="id_relevance_error"' in html  # shown at the field, linked by aria-describedby
    assert Question.objects.get(version=version, code="q2").relevance == "${q1} = 'yes'"
    assert not AuditEvent.objects.filter(action="questionnaire_edited").exists()


def test_the_editor_edits_calculation_choice_filter_default_and_read_only(draft):
    client, version = draft
    new = reverse("survey:studio_question_new", args=["tiny", 1]) + "?page=p1"
    calculate = {"code": "twice", "type": "calculate", "page": "p1", "calculation": "${q2} * 2"}
    page = client.get(new).content.decode()
    assert 'name="calculation"' in page and '<option value="calculate"' in page
    assert client.post(new, calculate).status_code == 302
    shown = {"code": "wave", "type": "text", "page": "p1", "label__en": "Wave", "label__zh": "波次"}
    assert client.post(new, {**shown, "default": "spring", "read_only": "on"}).status_code == 302
    payload = question_payload(version, _code="q1", choice_filter="name != 'no'", default="yes")
    assert client.post(reverse("survey:studio_question", args=["tiny", 1, "q1"]), payload).status_code == 302
    spec = version_to_spec(version)
    questions = {q["code"]: q for q in spec["sections"][0]["questions"]}
    assert questions["twice"]["type"] == "calculate" and questions["twice"]["calculation"] == "${q2} * 2"
    assert questions["wave"]["default"] == "spring" and questions["wave"]["read_only"]
    assert questions["q1"]["choice_filter"] == "name != 'no'" and questions["q1"]["default"] == "yes"
    edit = client.get(reverse("survey:studio_question", args=["tiny", 1, "twice"])).content.decode()
    assert "${q2} * 2" in edit  # shown for editing, not only kept


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"code": "c", "type": "calculate", "calculation": ""}, "calculation", "needs an expression"),
        (
            {"code": "c", "type": "calculate", "calculation": "${nope} + 1"},
            "calculation",
            "refers to ${nope}",
        ),
        ({"code": "c", "type": "calculate", "calculation": "${c} + 1"}, "calculation", "refers to itself"),
        ({"_code": "q1", "choice_filter": "name = "}, "choice_filter", "ends too early"),
        ({"_code": "q1", "choice_filter": "region = 'north'"}, "choice_filter", "reads region"),
        ({"_code": "q1", "default": "maybe"}, "default", "is not a choice of list"),
        ({"default": "${q1}"}, "default", "is an expression"),
        ({"default": "seven"}, "default", "is not a whole number"),
        (
            {"code": "d", "type": "date", "label__en": "D", "label__zh": "日", "default": "2024-02-30"},
            "default",
            "is not a date",
        ),
    ],
)
def test_the_editor_checks_the_xlsform_columns_as_an_import_does(draft, fields, field, message):
    client, version = draft
    before = version_to_spec(version)
    if fields.get("type") in {"calculate", "date"}:
        url = reverse("survey:studio_question_new", args=["tiny", 1]) + "?page=p1"
        data = {"page": "p1", **fields}
    else:
        url = reverse("survey:studio_question", args=["tiny", 1, fields.get("_code", "q2")])
        data = question_payload(version, **fields)
        if fields.get("_code") == "q1":
            data["choice_list"] = "yn"
    response = client.post(url, data)
    html = response.content.decode()
    assert response.status_code == 400 and message in html
    assert f'id="id_{field}_error"' in html  # at its field, re-shown with what was typed
    assert f'name="{field}"' in html
    assert version_to_spec(version) == before


def test_renaming_a_question_renames_its_references(draft):
    client, version = draft
    payload = question_payload(version, _code="q1", code="trust")
    payload["choice_list"] = "yn"
    assert client.post(reverse("survey:studio_question", args=["tiny", 1, "q1"]), payload).status_code == 302
    assert Question.objects.get(version=version, code="q2").relevance == "${trust} = 'yes'"


def test_add_move_and_delete_questions_without_javascript(draft):
    client, version = draft
    new = reverse("survey:studio_question_new", args=["tiny", 1]) + "?page=p1"
    data = {
        "code": "age",
        "type": "integer",
        "page": "p1",
        "label__en": "How old are you?",
        "label__zh": "您多大年纪？",
        "constraint": ". >= 18",
        "required": "on",
    }
    assert client.post(new, data).status_code == 302
    codes = lambda: list(  # noqa: E731
        Question.objects.filter(version=version).order_by("position").values_list("code", flat=True)
    )
    assert codes() == ["q1", "q2", "age"]
    client.post(reverse("survey:studio_question_move", args=["tiny", 1, "age"]), {"step": "-1"})
    assert codes() == ["q1", "age", "q2"]
    # q2 refers to q1: deleting q1 is refused with the reason, and nothing changes.
    client.post(reverse("survey:studio_question_delete", args=["tiny", 1, "q1"]))
    assert codes() == ["q1", "age", "q2"]
    client.post(reverse("survey:studio_question_delete", args=["tiny", 1, "age"]))
    assert codes() == ["q1", "q2"]


def test_choice_list_edited_in_place(draft):
    client, version = draft
    url = reverse("survey:studio_list", args=["tiny", 1, "yn"])
    data = {
        "name": "yn",
        "choices-TOTAL_FORMS": "3",
        "choices-INITIAL_FORMS": "2",
        "choices-MIN_NUM_FORMS": "0",
        "choices-MAX_NUM_FORMS": "1000",
        "choices-0-code": "yes",
        "choices-0-label__en": "Yes",
        "choices-0-label__zh": "是",
        "choices-0-ORDER": "2",
        "choices-1-code": "no",
        "choices-1-label__en": "No",
        "choices-1-label__zh": "否",
        "choices-1-ORDER": "1",
        "choices-2-code": "dk",
        "choices-2-label__en": "Don't know",
        "choices-2-label__zh": "不知道",
        "choices-2-ORDER": "3",
        "save": "1",
    }
    assert client.post(url, data).status_code == 302
    spec = version_to_spec(version)
    assert [c["code"] for c in spec["choice_lists"][0]["choices"]] == ["no", "yes", "dk"]


def test_live_check_says_where_and_reads_in_words(draft):
    client, _version = draft
    url = reverse("survey:studio_check", args=["tiny", 1])
    bad = client.get(url, {"expression": "${q1} = ", "field": "relevance", "question": "q2"}).content.decode()
    assert "the expression ends too early (at character 9)" in bad
    later = client.get(
        url, {"expression": "${q2} = 1", "field": "relevance", "question": "q1"}
    ).content.decode()
    assert "comes later in the form" in later
    good = client.get(
        url, {"expression": "${q1} = 'yes'", "field": "relevance", "question": "q2"}
    ).content.decode()
    assert "“Q1” = “Yes”" in good
    new = client.get(
        url, {"expression": "${q2} >= 18", "field": "relevance", "question": "", "page": "p1"}
    ).content.decode()
    assert "“Q2” ≥ 18" in new


def test_live_check_reads_calculations_and_choice_filters_too(draft):
    client, _version = draft
    url = reverse("survey:studio_check", args=["tiny", 1])

    def check(field: str, expression: str, question: str = "q1") -> str:
        return client.get(
            url, {"expression": expression, "field": field, "question": question}
        ).content.decode()

    assert "refers to ${nope}" in check("calculation", "${nope} * 2", "q2")
    assert "“Q1”" in check("calculation", "concat(${q1}, '!')", "q2")
    assert "ends too early" in check("choice_filter", "name = ")
    filtered = check("choice_filter", "region = 'north' or name != 'no'")  # a bare word is a column
    assert "unexpected" not in filtered and "ends too early" not in filtered
    page = client.get(reverse("survey:studio_question", args=["tiny", 1, "q1"])).content.decode()
    assert 'data-check-field="choice_filter"' in page and 'data-check-field="calculation"' in page


def test_live_check_knows_the_odk_functions_and_says_what_is_refused(draft):
    client, _version = draft
    url = reverse("survey:studio_check", args=["tiny", 1])

    def check(expression: str) -> str:
        return client.get(
            url, {"expression": expression, "field": "relevance", "question": "q2"}
        ).content.decode()

    assert "not supported" not in check("concat(${q1}, 'x') != 'x' and round(2.5) = 3")
    refused = check("pulldata('f', 'a', 'b', ${q1}) = 1")
    assert "pulldata() is not supported" in refused and "(at character 1)" in refused
    pattern = check("regex(${q1}, 'a(?=b)')")
    assert "regular expression" in pattern and "(at character 16)" in pattern


def test_published_version_shows_every_text_read_only(client, admin_user_, shipped_study):
    client.force_login(admin_user_)
    html = client.get(reverse("survey:studio_version", args=[shipped_study.slug, 1])).content.decode()
    assert not re.search(r">\s*None\s*<", html)  # no text shown as "None"
    assert "您对以下机构有多大信心" in html and "Add a question" not in html
    spec = version_to_spec(shipped_study.versions.get())
    question = spec["sections"][0]["questions"][0]
    assert question["label"]["en"] in html and question["label"]["zh"] in html
    assert (
        client.post(
            reverse("survey:studio_question_move", args=[shipped_study.slug, 1, question["code"]]),
            {"step": "1"},
        ).status_code
        == 404
    )


def test_consent_publish_and_new_draft_through_the_studio(draft):
    client, version = draft
    study = version.study
    publish = reverse("survey:studio_publish", args=["tiny", 1])
    html = client.get(publish).content.decode()
    assert "a consent text must be chosen" in html
    consent_data = {
        "texts__en": "Please take part.",
        "texts__zh": "请参加。",
        "research_team__en": "Team",
        "research_team__zh": "团队",
        "contact__en": "team@example.org",
        "contact__zh": "team@example.org",
        "ethics_committee__en": "Board",
        "ethics_committee__zh": "委员会",
        "ethics_reference": "",
    }
    client.post(reverse("survey:studio_consent_new", args=["tiny"]), consent_data)
    consent = ConsentText.objects.get(study=study)
    html = client.get(publish).content.decode()
    assert "has no ethics approval number" in html
    refused = client.post(publish, {"consent": consent.pk, "confirm": "on"})
    assert refused.status_code == 400 and QuestionnaireVersion.objects.get(pk=version.pk).status == "draft"
    consent_data["ethics_reference"] = "EC-1"
    client.post(reverse("survey:studio_consent_version", args=["tiny", 1]), consent_data)
    assert client.post(publish, {"consent": consent.pk}).status_code == 400  # not confirmed
    response = client.post(publish, {"consent": consent.pk, "confirm": "on"})
    assert response.status_code == 302 and response["Location"] == reverse(
        "survey:studio_distribute", args=["tiny"]
    )
    version.refresh_from_db()
    assert version.status == "published" and version.consent == consent
    # The consent in use is now read-only; a change is a new version.
    client.post(
        reverse("survey:studio_consent_version", args=["tiny", 1]), {**consent_data, "texts__en": "Changed"}
    )
    assert ConsentText.objects.get(pk=consent.pk).texts["en"] == "Please take part."
    client.post(reverse("survey:studio_new_draft", args=["tiny", 1]))
    draft2 = QuestionnaireVersion.objects.get(study=study, number=2)
    assert draft2.status == "draft"
    actions = list(AuditEvent.objects.filter(study=study).values_list("action", flat=True))
    assert {
        "consent_created",
        "consent_changed",
        "questionnaire_published",
        "questionnaire_new_draft",
    } <= set(actions)


def test_distribute_shows_links_and_a_server_drawn_qr_code(client, admin_user_, shipped_study):
    client.force_login(admin_user_)
    html = client.get(reverse("survey:studio_distribute", args=[shipped_study.slug])).content.decode()
    assert "http://testserver/s/trust-and-rating-systems/" in html
    assert "http://testserver/s/trust-and-rating-systems/west/" in html
    svg = client.get(reverse("survey:studio_qr", args=[shipped_study.slug, "west"]))
    assert svg["Content-Type"] == "image/svg+xml" and b"<svg" in svg.content
    assert b"http://testserver/s/trust-and-rating-systems/west/" in svg.content  # its title names the link


def test_studio_pages_in_chinese(researcher, shipped_study):
    user, client = researcher
    StudyMembership.objects.create(study=shipped_study, user=user, role="researcher")
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/studio/"})
    html = client.get(reverse("survey:studio")).content.decode()
    assert "我的研究" in html and "创建研究" in html and "信任与评分体系" in html  # the study's Chinese title
    html = client.get(reverse("survey:studio_version", args=[shipped_study.slug, 1])).content.decode()
    assert "问卷" in html


def test_test_run_is_kept_apart_from_responses(draft):
    from survey.models import PendingResponse, Response, TestRun

    client, _version = draft
    response = client.post(
        reverse("survey:studio_test_start", args=["tiny", 1]), {"language": "zh", "sample": "", "seed": "7"}
    )
    run = TestRun.objects.get()
    assert response["Location"] == reverse("survey:studio_test_run", args=["tiny", run.pk])
    page = client.get(response["Location"]).content.decode()
    assert "问1" in page and "Test run of version 1" in page
    answer = client.post(response["Location"], {"q1": "no", "shown": "q1", "action": "next"})
    assert answer.status_code == 302
    done = client.get(response["Location"]).content.decode()
    assert "Test run finished" in done and "否" in done
    run.refresh_from_db()
    assert run.finished and run.answers == {"q1": "no"} and run.seed == 7
    assert not Response.objects.exists() and not PendingResponse.objects.exists()


def test_a_list_chosen_for_a_text_question_is_not_kept(draft):
    client, version = draft
    url = reverse("survey:studio_question", args=["tiny", 1, "q2"])
    assert (
        client.post(url, question_payload(version, type="text", choice_list="yn", constraint="")).status_code
        == 302
    )
    question = Question.objects.get(version=version, code="q2")
    assert question.type == "text" and question.choice_list is None


def test_a_dragged_question_lands_where_it_was_dropped(draft):
    client, version = draft
    new = reverse("survey:studio_question_new", args=["tiny", 1]) + "?page=p1"
    client.post(new, {"code": "q3", "type": "text", "page": "p1", "label__en": "Q3", "label__zh": "问3"})
    move = reverse("survey:studio_question_move", args=["tiny", 1, "q3"])
    client.post(move, {"to": "0"})
    order = lambda: list(  # noqa: E731
        Question.objects.filter(version=version).order_by("position").values_list("code", flat=True)
    )
    assert order() == ["q3", "q1", "q2"]
    # q2 reads q1: dropping it before q1 is refused with the reason, and nothing moves.
    response = client.post(
        reverse("survey:studio_question_move", args=["tiny", 1, "q2"]), {"to": "0"}, follow=True
    )
    assert "comes later in the form" in response.content.decode()
    assert order() == ["q3", "q1", "q2"]
    assert "data-move-url" in response.content.decode()


class _FormValues(HTMLParser):
    """What a browser would send back from a form untouched: values, ticked boxes, selected options."""

    def __init__(self, form_id: str) -> None:
        super().__init__(convert_charrefs=True)
        self.form_id, self.inside, self.data = form_id, False, []
        self.select: str | None = None
        self.textarea: str | None = None
        self.options: list[tuple[str, bool]] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.inside = a.get("id") == self.form_id
        if not self.inside:
            return
        if tag == "input" and a.get("name") and a.get("type") not in {"submit", "button", "file"}:
            if a.get("type") in {"checkbox", "radio"}:
                if "checked" in a:
                    self.data.append((a["name"], a.get("value", "on")))
            else:
                self.data.append((a["name"], a.get("value", "")))
        elif tag == "select":
            self.select, self.options = a["name"], []
        elif tag == "option" and self.select:
            self.options.append((a.get("value", ""), "selected" in a))
        elif tag == "textarea":
            self.textarea = a["name"]
            self.data.append((self.textarea, ""))

    def handle_data(self, data):
        if self.inside and self.textarea:
            name, value = self.data[-1]
            self.data[-1] = (name, value + data)

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select" and self.select:
            chosen = [v for v, selected in self.options if selected] or [self.options[0][0]]
            self.data.append((self.select, chosen[0]))
            self.select = None
        elif tag == "textarea":
            self.textarea = None


def untouched(html: str, form_id: str) -> dict[str, list[str]]:
    parser = _FormValues(form_id)
    parser.feed(html)
    values: dict[str, list[str]] = {}
    for name, value in parser.data:
        # A textarea's first newline is not part of its value (HTML's parsing rule).
        values.setdefault(name, []).append(value[1:] if value.startswith("\n") else value)
    return values


@pytest.mark.one_database  # long, nothing database-specific: the PostgreSQL pass only
def test_every_question_of_the_shipped_study_saves_unchanged(client, admin_user_, shipped_study):
    """Opening each question's form and saving it as it is changes nothing and is never refused."""
    from survey.services.questionnaires import questionnaire_new_draft

    draft = questionnaire_new_draft(version=shipped_study.versions.get())
    before = version_to_spec(draft)
    client.force_login(admin_user_)
    from survey.instrument import iter_questions

    for _section, question, _parent in iter_questions(before):
        url = reverse("survey:studio_question", args=[shipped_study.slug, draft.number, question["code"]])
        response = client.post(url, untouched(client.get(url).content.decode(), "question-form"))
        assert response.status_code == 302, (question["code"], response.content.decode()[-3000:])
    for section in before["sections"]:
        url = reverse("survey:studio_page", args=[shipped_study.slug, draft.number, section["code"]])
        assert client.post(url, untouched(client.get(url).content.decode(), "page-form")).status_code == 302
    for choice_list in before["choice_lists"]:
        url = reverse("survey:studio_list", args=[shipped_study.slug, draft.number, choice_list["name"]])
        data = {**untouched(client.get(url).content.decode(), "list-form"), "save": ["1"]}
        assert client.post(url, data).status_code == 302, choice_list["name"]
    assert version_to_spec(draft) == before


def test_links_stay_as_given_once_published_and_languages_in_use_stay(client, admin_user_, shipped_study):
    client.force_login(admin_user_)
    url = reverse("survey:studio_settings", args=[shipped_study.slug])
    data = untouched(client.get(url).content.decode(), "study-form")
    data["save"] = ["1"]
    assert client.post(url, data).status_code == 302  # unchanged: saved
    renamed = {**data, "slug": ["another-name"]}
    response = client.post(url, renamed)
    assert (
        response.status_code == 400
        and "cannot change once a version is published" in response.content.decode()
    )
    english_only = {**data, "languages": ["en"]}
    response = client.post(url, english_only)
    assert "sample &#x27;china&#x27; opens in zh" in response.content.decode()
    sample_url = reverse("survey:studio_sample", args=[shipped_study.slug, "west"])
    sample_data = untouched(client.get(sample_url).content.decode(), "sample-form")
    assert client.post(sample_url, {**sample_data, "sample-slug": ["elsewhere"]}).status_code == 400
    assert Study.objects.get(pk=shipped_study.pk).slug == "trust-and-rating-systems"
    assert Sample.objects.filter(study=shipped_study, slug="west").exists()


def test_another_studys_consent_cannot_be_chosen_when_publishing(draft, make_user):
    client, version = draft
    other = questionnaire_import(spec=tiny_spec(), owner=make_user("ola", RESEARCHER), study_slug="other")
    foreign = consent_create(study=other.study, texts={"en": "C", "zh": "C"}, **consent_details())
    response = client.post(
        reverse("survey:studio_publish", args=["tiny", 1]), {"consent": foreign.pk, "confirm": "on"}
    )
    assert response.status_code == 400 and "Select a valid choice" in response.content.decode()
    version.refresh_from_db()
    assert version.status == "draft" and version.consent is None


def test_a_new_zh_Hans_study_takes_the_shipped_zh_questionnaire_to_a_chinese_participant(researcher):
    """The create form's zh-Hans, the shipped questionnaire's zh and a consent written in zh-Hans meet:
    nothing blocks publishing, and a zh-CN browser answers in Chinese."""
    from survey.services.questionnaires import publish_problems, questionnaire_publish
    from tests.conftest import SHIPPED_STUDY

    _user, client = researcher
    assert client.post(reverse("survey:studio_new"), create_payload()).status_code == 302
    study = Study.objects.get(slug="neighbours")
    upload = io.BytesIO((SHIPPED_STUDY / "questionnaire.xlsx").read_bytes())
    upload.name = "questionnaire.xlsx"
    assert (
        client.post(reverse("survey:studio_import", args=[study.slug]), {"file": upload}).status_code == 302
    )
    version = QuestionnaireVersion.objects.get(study=study)
    assert study.languages == ["en", "zh-Hans"] and version.languages == ["en", "zh"]
    consent = consent_create(
        study=study, texts={"en": "C", "zh-Hans": "同意书"}, **consent_details(("en", "zh-Hans"))
    )
    assert publish_problems(version, consent) == []
    questionnaire_publish(version=version, consent=consent)
    participant = Client(HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")
    page = participant.get("/s/neighbours/").content.decode()
    assert "同意书" in page and "邻里信任" in page
    key = re.search(r'name="consent_key" value="([^"]+)"', page).group(1)
    first = participant.post(
        "/s/neighbours/", {"consent_key": key, "agree": "yes", "action": "agree"}, follow=True
    )
    html = first.content.decode()
    spec = version_to_spec(version)
    assert spec["sections"][0]["label"]["zh"] in html and spec["sections"][0]["label"]["en"] not in html


def test_texts_in_a_language_without_labels_survive_the_editor(researcher):
    """A hint and a title imported in a language the form has no labels in (hint::fr, form_title::fr)
    have no field in the editor; saving the question or the title keeps them."""
    from survey.services.questionnaires import questionnaire_import

    user, client = researcher
    spec = tiny_spec(title={"en": "Tiny", "zh": "小", "fr": "Petit"})
    spec["sections"][0]["questions"][1]["hint"] = {"fr": "En chiffres"}
    version = questionnaire_import(spec=spec, owner=user, study_slug="tiny")
    Study.objects.filter(pk=version.study_id).update(owner=user)
    question_url = reverse("survey:studio_question", args=["tiny", 1, "q2"])
    assert client.post(question_url, question_payload(version, label__en="Q2!")).status_code == 302
    settings = {"languages": ["en", "zh"], "default_language": "en", "title__en": "Tiny!", "title__zh": "小"}
    assert client.post(reverse("survey:studio_form_settings", args=["tiny", 1]), settings).status_code == 302
    version.refresh_from_db()
    after = version_to_spec(version)
    assert after["sections"][0]["questions"][1]["hint"] == {"fr": "En chiffres"}
    assert after["sections"][0]["questions"][1]["label"]["en"] == "Q2!"
    assert after["title"] == {"en": "Tiny!", "zh": "小", "fr": "Petit"}


def test_the_publish_page_says_what_readers_of_a_language_without_a_form_title_see(researcher):
    """A form titled in English only (or by its file name) is published, with a notice: Chinese
    readers see the study's Chinese title there (before, nothing was said and they saw the English)."""
    user, client = researcher
    study = Study.objects.create(
        owner=user, slug="s", title="S", languages=["en", "zh"], titles={"en": "Study", "zh": "研究"}
    )
    spec = tiny_spec(title={"en": "tiny-file"})
    client.post(reverse("survey:studio_import", args=[study.slug]), {"file": xlsx_upload(spec)}, follow=True)
    page = client.get(reverse("survey:studio_publish", args=[study.slug, 1])).content.decode()
    assert re.search(r'id="untranslated">[^<]*The form has no title in zh: readers of zh see “研究”', page)
    assert "title in en" not in page


def test_the_overview_and_the_logic_map_show_calculations_choice_filters_defaults(researcher):
    """The draft overview left out a question's calculation, choice filter, default and read-only, and
    showed "no text yet" in each language for a calculate (which has no label); the logic map left out
    what calculations and choice filters read."""
    from survey.services.questionnaires import questionnaire_import

    user, client = researcher
    spec = tiny_spec()
    spec["sections"][0]["questions"][1]["default"] = "4"
    spec["sections"].append(
        {
            "code": "p2",
            "label": {"en": "Two", "zh": "二"},
            "questions": [
                {"code": "twice", "type": "calculate", "calculation": "${q2} * 2"},
                {
                    "code": "again",
                    "type": "single_choice",
                    "label": {"en": "Again", "zh": "再"},
                    "choice_list": "yn",
                    "choice_filter": "name != ${q1}",
                },
                {
                    "code": "shownq",
                    "type": "integer",
                    "label": {"en": "S", "zh": "S"},
                    "calculation": "${q2} + 1",
                    "read_only": True,
                },
            ],
        }
    )
    version = questionnaire_import(spec=spec, owner=user, study_slug="calc")
    Study.objects.filter(pk=version.study_id).update(owner=user)
    page = client.get(reverse("survey:studio_version", args=["calc", 1]) + "?part=1").content.decode()
    twice = page[page.index('id="q-twice"') : page.index('id="q-again"')]
    assert "no text yet" not in twice and "A calculation has no label" in twice and "${q2} * 2" in twice
    again = page[page.index('id="q-again"') : page.index('id="q-shownq"')]
    assert "Choice filter" in again and "name != ${q1}" in again
    assert "Read only" in page[page.index('id="q-shownq"') :]
    q2 = page[page.index('id="q-q2"') : page.index('id="q-twice"')]
    assert "Default answer" in q2 and "<code>4</code>" in q2
    logic = client.get(reverse("survey:studio_logic", args=["calc", 1])).content.decode()
    twice_row = logic[logic.index('id="logic-twice"') :][:1500]
    assert "computed from" in twice_row and 'href="#logic-q2"' in twice_row
    again_row = logic[logic.index('id="logic-again"') :][:1500]
    assert "options filtered by" in again_row and 'href="#logic-q1"' in again_row


def test_a_test_run_page_has_the_participant_pages_live_relevance(draft):
    """The test run renders the participant page with the same attributes: its form asks the server
    what applies as answers are typed (relevance, choice filters, an or_other's specify box), as the
    participant link does; before, the form had no data-relevance and nothing changed until Next."""
    from survey.models import TestRun

    client, _version = draft
    start = client.post(
        reverse("survey:studio_test_start", args=["tiny", 1]), {"language": "en", "sample": "", "seed": "7"}
    )
    run = TestRun.objects.get()
    page = client.get(start["Location"]).content.decode()
    url = reverse("survey:studio_test_relevance", args=["tiny", run.pk, 0])
    assert f'data-relevance="{url}"' in page and 'id="relevance-status"' in page
    # A follow-up on the same page is in the HTML, hidden until it applies, as on the participant
    # page (before, only the questions applying when the page was drawn were there to show).
    assert '<div class="question-slot" data-question="q2" hidden>' in page
    assert '<input type="hidden" name="shown" value="q1 ">' in page
    assert client.post(url, {"q1": "yes", "q2": "", "shown": "q1"}).json() == {
        "relevant": ["q1", "q2"],
        "choices": {},
    }
    assert client.post(url, {"q1": "no"}).json() == {"relevant": ["q1"], "choices": {}}
    later = reverse("survey:studio_test_relevance", args=["tiny", run.pk, 1])
    assert client.post(later, {"q1": "yes"}).status_code == 409  # not the page the run is on
    run.refresh_from_db()
    assert run.answers == {}  # nothing stored
