"""BCP 47 tags and the RFC 4647 lookup that picks a participant's language from Accept-Language."""

import pytest

from survey.languages import chinese_script, django_locale, lookup, normalize_tag


@pytest.mark.parametrize(
    ("raw", "tag"),
    [
        ("zh-cn", "zh-CN"),
        ("ZH_HANS_cn", "zh-Hans-CN"),
        ("pt-br", "pt-BR"),
        ("es-419", "es-419"),
        ("EN", "en"),
    ],
)
def test_tags_take_BCP_47_case(raw, tag):
    assert normalize_tag(raw) == tag


@pytest.mark.parametrize("tag", ["zh", "zh-CN", "zh-SG", "zh-Hans", "zh-Hans-CN", "zh-cn"])
def test_every_simplified_chinese_tag_is_simplified_chinese(tag):
    assert chinese_script(tag) == "Hans" and django_locale(tag) == "zh-hans"


@pytest.mark.parametrize("tag", ["zh-TW", "zh-HK", "zh-Hant", "zh-Hant-TW"])
def test_traditional_chinese_tags(tag):
    assert chinese_script(tag) == "Hant"


@pytest.mark.parametrize(
    ("ranges", "available", "chosen"),
    [
        (["zh-CN"], ["en", "zh"], "zh"),  # zh-CN -> zh-Hans -> zh
        (["zh-Hans-CN"], ["en", "zh"], "zh"),
        (["zh"], ["en", "zh-CN"], "zh-CN"),
        (["zh-SG"], ["en", "zh-CN"], "zh-CN"),
        (["zh-Hans"], ["en", "zh-CN"], "zh-CN"),
        (["zh-TW", "en"], ["en", "zh", "zh-Hant"], "zh-Hant"),
        (["zh-TW"], ["en", "zh-CN", "zh-TW"], "zh-TW"),
        (["fr-CA", "en"], ["fr", "en"], "fr"),
        (["pt"], ["en", "pt-BR"], "pt-BR"),
        (["de", "en-GB"], ["en", "zh"], "en"),
        (["*", "ja"], ["en"], "en"),
        (["not a tag!"], ["en", "zh"], "en"),
    ],
)
def test_lookup(ranges, available, chosen):
    assert lookup(ranges, available, "en") == chosen


@pytest.mark.django_db
@pytest.mark.parametrize("accept", ["zh-CN,zh;q=0.9", "zh-SG", "zh-Hans-CN", "zh"])
def test_a_simplified_chinese_browser_gets_the_shipped_study_in_chinese(shipped_study, client, accept):
    from survey.models import Sample

    sample = Sample.objects.filter(study=shipped_study).first()
    url = f"/s/{shipped_study.slug}/" + (f"{sample.slug}/" if not sample.is_default else "")
    page = client.get(url, HTTP_ACCEPT_LANGUAGE=accept, follow=True).content.decode()
    assert 'lang="zh' in page and "我同意参加" in page


@pytest.mark.parametrize("accept", ["zh-CN,zh;q=0.9", "zh", "zh-Hans", "zh-SG"])
def test_a_study_written_in_zh_CN_is_chosen_for_every_simplified_chinese_browser(rf, accept):
    from survey.participant_text import text
    from survey.views.participant import choose_language

    request = rf.get("/", HTTP_ACCEPT_LANGUAGE=accept)
    chosen = choose_language(request, ["en", "zh-CN"], "en")
    assert chosen == "zh-CN" and text("closed_title", chosen) == "本调查已结束"


def _retag(value, old: str, new: str):
    """``value`` (a questionnaire spec) with every text keyed ``old`` keyed ``new`` instead."""
    if isinstance(value, dict):
        return {(new if key == old else key): _retag(item, old, new) for key, item in value.items()}
    if isinstance(value, list):
        return [new if item == old else _retag(item, old, new) for item in value]
    return value


@pytest.mark.parametrize(
    ("tag", "same"), [("zh-Hans", True), ("zh-CN", True), ("zh-Hant", False), ("en", False)]
)
def test_same_language_meets_every_simplified_chinese_tag(tag, same):
    from survey.languages import same_language

    assert same_language("zh", ["en" if tag != "en" else "fr", tag]) == (tag if same else None)


@pytest.mark.django_db
@pytest.mark.parametrize("tag", ["zh-Hans", "zh-CN"])
def test_a_form_written_in_zh_Hans_serves_a_study_in_zh(admin_user_, tag):
    """An XLSForm with ``label::zh-Hans`` columns is not "without texts in zh", and its Chinese is shown."""
    from survey.forms import text_in
    from survey.services.questionnaires import consent_create, publish_problems, questionnaire_import
    from tests.specs import consent_details, tiny_spec

    first = questionnaire_import(spec=tiny_spec(), owner=admin_user_, study_slug="tagged")
    assert first.study.languages == ["en", "zh"]
    consent = consent_create(study=first.study, texts={"en": "C", "zh": "C"}, **consent_details())
    retagged = _retag(tiny_spec(), "zh", tag)
    assert tag in retagged["languages"] and "zh" not in retagged["languages"]
    first.delete()
    version = questionnaire_import(spec=retagged, owner=admin_user_, study_slug="tagged")
    assert not [p for p in publish_problems(version, consent) if p.code == "languages_missing"]
    title = retagged["title"]
    assert text_in(title, "zh", "en") == title[tag] != title["en"]


def test_choice_labels_read_the_same_language_under_another_tag():
    """``jr:choice-name()`` and piping read a zh study's choice labels from a form written in zh-Hans."""
    from survey import flow
    from tests.specs import tiny_spec

    spec = _retag(tiny_spec(), "zh", "zh-Hans")
    assert flow.expression_context(spec, "zh").choice_label("q1", "yes") == "是"


def test_the_create_study_form_offers_simplified_chinese_as_zh_Hans():
    from survey.views.studio.forms import StudyForm

    codes = [code for code, _name in StudyForm().fields["languages"].choices]
    assert "zh-Hans" in codes and "zh" not in codes


def test_a_study_in_zh_keeps_its_zh_and_is_not_offered_a_second_chinese():
    from survey.languages import language_choices, language_name

    choices = dict(language_choices(["en", "zh"]))
    assert (
        "zh" in choices
        and "zh-Hans" not in choices
        and choices["zh"] == language_name("zh") == "简体中文 (zh)"
    )


@pytest.mark.parametrize(("written", "reader"), [("zh", "zh-Hans"), ("zh-Hans", "zh"), ("zh-CN", "zh-hans")])
def test_the_study_title_is_read_by_lookup_not_by_exact_tag(written, reader):
    from survey.models import Study

    study = Study(slug="s", title="Trust", titles={"en": "Trust", written: "信任"}, languages=["en", written])
    assert study.title_in(reader) == "信任"


@pytest.mark.parametrize(("languages", "staff"), [(["en", "zh-Hans"], "zh-hans"), (["en", "zh"], "zh-hans")])
def test_the_staff_pages_read_the_questionnaire_language_of_the_same_script(languages, staff):
    from survey.selectors import questionnaire_language

    assert questionnaire_language(languages, staff) == languages[1]


def test_quota_labels_are_read_by_lookup():
    from survey.views.studio.forms import QuotaForm

    question = {
        "code": "q1",
        "label": {"en": "Gender", "zh": "性别"},
        "choices": [{"code": "f", "label": {"en": "Female", "zh": "女"}}],
    }
    form = QuotaForm(samples=[], questions=[question], language="zh-Hans")
    field = form.fields["cell__q1"]
    assert field.label == "q1: 性别" and field.choices == [("f", "女")]


@pytest.mark.django_db
def test_a_consent_written_in_zh_Hans_completes_a_questionnaire_in_zh(admin_user_):
    from survey.models import ConsentText
    from tests.specs import consent_details

    consent = ConsentText(texts={"en": "C", "zh-Hans": "同意"}, ethics_reference="EC-1")
    for name, texts in consent_details(("en", "zh-Hans")).items():
        setattr(consent, name, texts)
    assert consent.missing(["en", "zh"]) == {}
