"""The researcher's editor: pages render, per-language fields, expression checks on save, preview, publish."""

import re

import pytest
from django import forms
from django.urls import reverse

from survey.models import Choice, ConsentText, Question
from survey.roles import RESEARCHER
from survey.services.questionnaires import consent_create, questionnaire_import, questionnaire_new_draft
from tests.helpers import every_row
from tests.html_forms import form_data
from tests.specs import consent_details, tiny_spec

pytestmark = pytest.mark.django_db


@pytest.fixture
def researcher_client(client, make_user):
    """A superuser's admin (the admin is for superusers; researchers edit in the studio)."""
    user = make_user("res", RESEARCHER, superuser=True)
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


def test_an_unchanged_draft_of_the_shipped_study_saves_unchanged(client, shipped_study, admin_user_):
    """Every admin page of a draft, posted back as the browser shows it, saves and changes nothing.

    The page must not check or store the fields it does not show as if they were blank (the
    version page's question rows show labels only, yet sliders have parameters and questions hints).
    """
    client.force_login(admin_user_)
    draft = questionnaire_new_draft(version=shipped_study.versions.get())
    one_per_type = {q.type: q for q in Question.objects.filter(version=draft).order_by("-pk")}
    pages = [
        ("questionnaireversion", draft.pk),
        ("study", shipped_study.pk),
        *[("choicelist", pk) for pk in draft.choice_lists.values_list("pk", flat=True)[:3]],
        *[("question", q.pk) for q in one_per_type.values()],
        ("choice", Choice.objects.filter(choice_list__version=draft).first().pk),
    ]
    assert "slider" in one_per_type
    for model, pk in pages:
        url = reverse(f"admin:survey_{model}_change", args=[pk])
        data = form_data(client.get(url).content.decode(), f"{model}_form")
        before = every_row()
        response = client.post(url, {**data, "_continue": "Save"})
        errors = re.findall(r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', response.content.decode(), re.S)
        assert response.status_code == 302, f"{url} refused its own values: {errors[:3]}"
        assert every_row() == before, f"{url} changed what it was given back unchanged"


def bad_values(field) -> tuple[str, ...]:
    """Values a hostile or careless user may type into ``field``, chosen by its kind."""
    if isinstance(field, forms.JSONField):
        return ("{", "[1, 2]", '{"a": "\\u0000"}', '{"start": {"x": 1}}')
    if isinstance(field, forms.ModelChoiceField):
        return ("999999999",)
    if isinstance(field, forms.IntegerField):
        return ("-1", "99999999999999999999")
    if isinstance(field, forms.DateField):
        return ("2025-02-30",)
    if isinstance(field, forms.ChoiceField):
        return ("no-such-choice",)
    if isinstance(field, forms.CharField):
        return ("x" * 5000, "a\x00b")
    return ()


def test_no_admin_page_answers_bad_input_with_a_server_error(researcher_client):
    """Each field of each editor page (the first row of each inline), given bad values in turn:
    a form error or a save, never a server error."""
    client, version = researcher_client
    client.raise_request_exception = False
    consent_create(study=version.study, texts={"en": "C", "zh": "C"}, **consent_details())
    pages = [
        ("questionnaireversion", version.pk),
        ("study", version.study.pk),
        ("question", Question.objects.get(version=version, code="q1").pk),
        ("choicelist", version.choice_lists.get().pk),
        ("choice", Choice.objects.filter(choice_list__version=version).first().pk),
        ("consenttext", ConsentText.objects.get(study=version.study).pk),
    ]
    wrong = []
    for model, pk in pages:
        url = reverse(f"admin:survey_{model}_change", args=[pk])
        page = client.get(url)
        data = form_data(page.content.decode(), f"{model}_form")
        forms_on_page = [page.context["adminform"].form]
        forms_on_page += [
            f for inline in page.context["inline_admin_formsets"] for f in inline.formset.forms[:1]
        ]
        for form in forms_on_page:
            for name, field in form.fields.items():
                for value in bad_values(field):
                    status = client.post(
                        url, {**data, form.add_prefix(name): value, "_continue": "Save"}
                    ).status_code
                    if status >= 500:
                        wrong.append(f"{url} {form.add_prefix(name)}={value[:20]!r}: {status}")
    assert not wrong, "\n".join(wrong)


def test_admin_tools_answer_bad_input_with_a_message(researcher_client):
    """The publish page, the previews and the spreadsheet import, given junk: a message, never a 500."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from import_export.formats.base_formats import DEFAULT_FORMATS

    client, version = researcher_client
    client.raise_request_exception = False
    publish = reverse("admin:survey_questionnaireversion_publish", args=[version.pk])
    for consent in ("x", "99999999999999999999", "-1"):
        assert client.post(publish, {"consent": consent}).status_code == 200
    assert (
        client.get(reverse("admin:survey_questionnaireversion_preview", args=[version.pk, "zz"])).status_code
        == 404
    )
    sheets = {
        "junk.csv": bytes(range(256)) * 4,
        "empty.csv": b"",
        "headers.csv": b"version,section,code,type,label\n",
        "huge.csv": b'version,section,code,type,label\ntiny:99999999999999999999,p1,q9,integer,"{}"\n',
        "badjson.csv": b"version,section,code,type,label\ntiny:1,p1,q9,integer,{not json\n",
        "nokey.csv": b"section,type\np1,integer\n",
        "table.html": b"<table><tr><th>code</th></tr><tr><td>aaa</td></tr></table>",
    }
    before = every_row()
    for name, content in sheets.items():
        for fmt in [str(i) for i in range(len(DEFAULT_FORMATS) + 1)]:  # whatever the page offers
            page = client.post(
                reverse("admin:survey_question_import"),
                {"format": fmt, "resource": "0", "import_file": SimpleUploadedFile(name, content)},
            )
            assert page.status_code == 200, (name, fmt, page.status_code)
            assert "Traceback" not in page.content.decode(), (name, fmt)
    assert every_row() == before


def test_admin_lists_answer_bad_query_parameters_without_a_server_error(researcher_client):
    from django.contrib import admin

    client, _ = researcher_client
    client.raise_request_exception = False
    junk = [
        "o=abc",
        "o=99",
        "p=99999999999999999999",
        "q=" + "x" * 3000,
        "study__id__exact=abc",
        "version__id__exact=99999999999999999999",
        "status__exact=%00",
        "all=&e=1",
        "_to_field=password",
    ]
    wrong = []
    for model in admin.site._registry:
        if model._meta.app_label != "survey":
            continue
        url = reverse(f"admin:survey_{model._meta.model_name}_changelist")
        for query in junk:
            status = client.get(f"{url}?{query}").status_code
            if status >= 500:
                wrong.append(f"{url}?{query[:40]}: {status}")
    assert not wrong, "\n".join(wrong)
