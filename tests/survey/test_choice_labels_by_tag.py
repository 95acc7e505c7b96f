"""Choice labels read by the one RFC 4647 lookup (issue 11, new-user findings): a form written in
``zh-CN`` (or ``Chinese (zh-CN)``) inside a study whose languages are ``en`` + ``zh-Hans`` (the studio
default) pipes the chosen options into a later label in Chinese for a Chinese participant, as it
does with ``zh-Hans``; before, a piped choice was read by exact tag and came out blank."""

from __future__ import annotations

import copy

import pytest
from django.test import Client

from survey.instrument import normalize
from tests.specs import consent_details, tiny_spec


def _rename(texts: dict, tag: str) -> dict:
    return {(tag if lang == "zh" else lang): text for lang, text in texts.items()}


def piping_spec(tag: str) -> dict:
    """Page one: q1 (yes/no, single) and q3 (colours, multiple); page two pipes both."""
    spec = copy.deepcopy(tiny_spec())
    page = spec["sections"][0]
    page["questions"] = page["questions"][:1]
    page["questions"].append(
        {"code": "q3", "type": "multiple_choice", "choice_list": "colour", "label": {"en": "Q3", "zh": "问3"}}
    )
    spec["sections"].append(
        {
            "code": "p2",
            "label": {"en": "Two", "zh": "二"},
            "questions": [
                {"code": "n1", "type": "note", "label": {"en": "Said ${q1}: ${q3}", "zh": "说了${q1}：${q3}"}}
            ],
        }
    )
    spec["choice_lists"].append(
        {
            "name": "colour",
            "choices": [
                {"code": "red", "label": {"en": "Red", "zh": "红"}},
                {"code": "blue", "label": {"en": "Blue", "zh": "蓝"}},
            ],
        }
    )
    spec = normalize(spec)
    spec["languages"] = [tag if lang == "zh" else lang for lang in spec["languages"]]
    spec["language_names"] = _rename(spec["language_names"], tag)
    spec["title"] = _rename(spec["title"], tag)
    for section in spec["sections"]:
        section["label"] = _rename(section["label"], tag)
        for question in section["questions"]:
            for field in ("label", "hint", "constraint_message"):
                if isinstance(question.get(field), dict):
                    question[field] = _rename(question[field], tag)
    for choice_list in spec["choice_lists"]:
        for choice in choice_list["choices"]:
            choice["label"] = _rename(choice["label"], tag)
    return spec


@pytest.mark.django_db
@pytest.mark.parametrize("tag", ["zh-CN", "zh-Hans"])
def test_piped_choices_reach_a_chinese_participant_whatever_the_form_calls_chinese(admin_user_, tag):
    from survey.services.questionnaires import consent_create, questionnaire_import, questionnaire_publish
    from tests.survey.test_participant_flow import agree

    slug = f"pipe-{tag.lower()}"
    version = questionnaire_import(spec=piping_spec(tag), owner=admin_user_, study_slug=slug)
    study = version.study
    study.languages = ["en", "zh-Hans"]  # the studio's default languages
    study.titles = {"en": "Tiny", "zh-Hans": "小"}
    study.save()
    questionnaire_publish(
        version=version,
        consent=consent_create(study=study, texts={"en": "C", "zh-Hans": "C"}, **consent_details()),
    )
    for accept, expected in (("en", "Said Yes: Red, Blue"), ("zh-CN,zh;q=0.9", "说了是：红, 蓝")):
        client = Client(HTTP_ACCEPT_LANGUAGE=accept)
        agree(client, f"/s/{slug}/")
        client.post(
            f"/s/{slug}/p/0/", {"q1": "yes", "q3": ["red", "blue"], "shown": "q1 q3", "action": "next"}
        )
        page = client.get(f"/s/{slug}/p/1/").content.decode()
        assert expected in page, page[page.find("<main") :][:1500]


def test_codebook_and_report_texts_are_read_by_the_same_lookup():
    """A codebook built from a ``zh-CN`` form, read for a ``zh-Hans`` study (or Django's ``zh-hans``),
    gives the Chinese labels, not the first language's."""
    from analysis.codebook import Variable
    from analysis.translation import text_in

    variable = Variable(
        name="q1",
        kind="categorical",
        question="q1",
        label={"en": "Q1", "zh-CN": "问1"},
        value_labels={"yes": {"en": "Yes", "zh-CN": "是"}},
    )
    for language in ("zh-Hans", "zh-hans", "zh", "zh-CN"):
        assert variable.label_in(language) == "问1"
        assert variable.value_label_in("yes", language) == "是"
    assert variable.label_in("fr") == "Q1" and variable.value_label_in("no", "zh-Hans") == "no"
    assert text_in({"en": "A", "zh-CN": "甲"}, "zh-hans") == "甲"
    assert text_in({"en": "A", "zh-CN": ""}, "zh-hans") == "A"
