"""Publishing, new drafts, and the guarantee that a published version never changes by any path."""

import pytest
from django.core.exceptions import ValidationError

from survey.instrument import QuestionnaireInvalid
from survey.models import Choice, ChoiceList, Question, QuestionnaireVersion, Section, Study
from survey.selectors import version_to_spec
from survey.services.questionnaires import (
    consent_create,
    questionnaire_import,
    questionnaire_new_draft,
    questionnaire_publish,
    version_changes,
)
from tests.specs import consent_details, tiny_spec

pytestmark = pytest.mark.django_db


@pytest.fixture
def published(admin_user_):
    version = questionnaire_import(spec=tiny_spec(), owner=admin_user_, study_slug="tiny")
    consent = consent_create(study=version.study, texts={"en": "Consent", "zh": "同意"}, **consent_details())
    return questionnaire_publish(version=version, consent=consent)


def test_publish_refuses_a_translation_not_begun_and_missing_consent(admin_user_):
    """A language with no label at all is unfinished; a few labels missing in one (pyxform accepts them, the
    page shows the default language's) do not block publishing: test_xlsform_translations.py."""
    version = questionnaire_import(spec=tiny_spec(), owner=admin_user_, study_slug="tiny")
    Question.objects.filter(version=version).update(label={"en": "Only English"})
    Section.objects.filter(version=version).update(label={"en": "Only English"})
    Choice.objects.filter(choice_list__version=version).update(label={"en": "Only English"})
    with pytest.raises(QuestionnaireInvalid) as caught:
        questionnaire_publish(version=version)
    codes = {p.code for p in caught.value.problems}
    assert {"missing_label", "no_consent"} <= codes
    assert any("no label in zh (q2)" in p.message for p in caught.value.problems)
    version.refresh_from_db()
    assert version.status == "draft"


def test_publish_refuses_incomplete_consent(admin_user_):
    version = questionnaire_import(spec=tiny_spec(), owner=admin_user_, study_slug="tiny")
    consent = consent_create(study=version.study, texts={"en": "Consent only in English"})
    with pytest.raises(QuestionnaireInvalid, match="consent text version 1 has no text in zh"):
        questionnaire_publish(version=version, consent=consent)


def test_publish_refuses_invalid_expression(admin_user_):
    version = questionnaire_import(spec=tiny_spec(), owner=admin_user_, study_slug="tiny")
    Question.objects.filter(version=version, code="q2").update(relevance="${q1} = ")
    consent = consent_create(study=version.study, texts={"en": "C", "zh": "C"}, **consent_details())
    with pytest.raises(QuestionnaireInvalid, match="relevance of 'q2': the expression ends too early"):
        questionnaire_publish(version=version, consent=consent)


def test_published_version_is_immutable_through_every_path(published):
    question = Question.objects.get(version=published, code="q1")
    section = Section.objects.get(version=published)
    choice = Choice.objects.filter(choice_list__version=published).first()
    choice_list = ChoiceList.objects.get(version=published)
    attempts = [
        lambda: (setattr(published, "form_id", "changed"), published.save()),
        lambda: published.delete(),
        lambda: (setattr(question, "label", {"en": "x", "zh": "x"}), question.save()),
        lambda: question.delete(),
        lambda: section.save(),
        lambda: choice.save(),
        lambda: choice_list.delete(),
        lambda: Question.objects.filter(version=published).update(required=False),
        lambda: Question.objects.filter(version=published).delete(),
        lambda: QuestionnaireVersion.objects.filter(pk=published.pk).update(form_id="x"),
        lambda: Choice.objects.filter(choice_list__version=published).update(code="z"),
        lambda: Section.objects.create(version=published, code="new", position=9),
    ]
    before = version_to_spec(published)
    for attempt in attempts:
        with pytest.raises(ValidationError):
            attempt()
    assert version_to_spec(QuestionnaireVersion.objects.get(pk=published.pk)) == before


def test_import_never_changes_a_published_version(published, admin_user_):
    changed = tiny_spec()
    changed["sections"][0]["questions"][0]["label"]["en"] = "Changed"
    draft = questionnaire_import(spec=changed, owner=admin_user_, study=published.study)
    assert draft.number == 2 and draft.status == "draft"
    assert version_to_spec(published)["sections"][0]["questions"][0]["label"]["en"] == "Q1"


def test_new_draft_copies_and_lists_changes(published):
    draft = questionnaire_new_draft(version=published)
    assert draft.number == 2
    assert version_to_spec(draft) == version_to_spec(published)
    Question.objects.filter(version=draft, code="q1").update(required=False)
    assert version_changes(published, draft) == ["changed q1: required"]
    with pytest.raises(QuestionnaireInvalid, match="already has a draft"):
        questionnaire_new_draft(version=published)


def test_shipped_study_loads_published_with_two_samples(shipped_study):
    version = shipped_study.versions.get()
    assert version.status == "published" and version.consent.version == 1
    assert version.languages == ["en", "zh"]
    samples = {s.slug: (s.default_language, s.is_default) for s in shipped_study.samples.all()}
    assert samples == {"china": ("zh", True), "west": ("en", False)}


def test_publish_refuses_consent_without_team_contact_or_ethics_approval(admin_user_):
    version = questionnaire_import(spec=tiny_spec(), owner=admin_user_, study_slug="tiny")
    details = consent_details(("en",))  # nothing in Chinese, and no approval number
    details["ethics_reference"] = " "
    consent = consent_create(study=version.study, texts={"en": "C", "zh": "C"}, **details)
    with pytest.raises(QuestionnaireInvalid) as caught:
        questionnaire_publish(version=version, consent=consent)
    codes = {p.code for p in caught.value.problems}
    assert codes == {
        "consent_no_research_team",
        "consent_no_contact",
        "consent_no_ethics_committee",
        "consent_no_ethics_reference",
    }
    assert "consent text version 1 has no research team in zh" in str(caught.value)
    version.refresh_from_db()
    assert version.status == "draft"


def test_publish_refuses_a_study_that_has_closed(admin_user_):
    import datetime

    version = questionnaire_import(spec=tiny_spec(), owner=admin_user_, study_slug="tiny")
    Study.objects.filter(pk=version.study_id).update(closes_on=datetime.date(2020, 1, 31))
    version.refresh_from_db()
    consent = consent_create(study=version.study, texts={"en": "C", "zh": "C"}, **consent_details())
    with pytest.raises(QuestionnaireInvalid, match="the study closed on 2020-01-31"):
        questionnaire_publish(version=version, consent=consent)
