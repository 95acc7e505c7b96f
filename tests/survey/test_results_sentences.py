"""What the results page and ``aggregate_tables`` say when figures are hidden: the same counts in
every sentence, a plural form for every count, and a withheld question said to be withheld (why),
not unanswered (issue 16 review, item 6)."""

from __future__ import annotations

import html

import pytest
from django.utils import translation

from survey.management.commands.aggregate_tables import _responses
from survey.models import ResultsSnapshot
from survey.views.results_page import page_context
from tests.survey.test_results_pages import analyst, page, signed_in  # noqa: F401


def _payload(**changes):
    item = {
        "question": "district",
        "kind": "distribution",
        "label": "Which district?",
        "variables": ["district"],
    }
    payload = {
        "n": None,
        "language": "en",
        "data": "synthetic",
        "k": 10,
        "by": ["sample"],
        "weighting": {"method": "none"},
        "excluded": None,
        "exclude": ["speeding"],
        "notes": [],
        "items": [{**item, "tests": [], "withheld": True}],
        "table": [],
        "quality": [],
        "nonresponse": [],
        "dropoff": [],
        "release": {"primary": 1, "complementary": 0, "withheld": 234, "figures": 235},
        "withheld_why": "exclusion",
    }
    return {**payload, **changes}


def test_a_question_whose_figures_are_all_withheld_is_said_to_be_withheld_and_why():
    with translation.override("en"):
        context = page_context(_payload())
        note = context["sections"][0].panels[0].note
        assert note.startswith("Withheld: every figure of this question is withheld")
        assert "responses left out" in note and "nobody" not in note
        unasked = _payload(items=[{**_payload()["items"][0], "withheld": False}])
        assert "nobody in the responses used here" in page_context(unasked)["sections"][0].panels[0].note
    with translation.override("zh-hans"):
        assert "Withheld" not in page_context(_payload())["sections"][0].panels[0].note


def test_every_count_of_the_disclosure_sentence_has_its_plural_form():
    with translation.override("en"):
        said = page_context(_payload())["disclosure"]
        assert "1 figure is suppressed because fewer than 10 respondents give it" in said
        assert "0 more are suppressed" in said and "234 are withheld" in said
        assert "1 figures" not in said
        one = page_context(_payload(release={"primary": 2, "complementary": 1, "withheld": 1, "figures": 9}))
        assert "1 more is suppressed" in one["disclosure"] and "1 is withheld" in one["disclosure"]
    with translation.override("zh-hans"):
        said = page_context(_payload())["disclosure"]
        assert said.startswith("本页的披露控制：1 个数字因受访者少于 10 人而隐藏") and "234 个数字" in said


@pytest.mark.django_db
def test_the_note_on_hidden_figures_counts_as_the_disclosure_sentence_does(
    signed_in,  # noqa: F811
    answered_study,
    settings,
):
    settings.CANDID_RESULTS_K = 5
    body = html.unescape(page(signed_in, answered_study, "?k=5&exclude=straightlining"))
    payload = ResultsSnapshot.objects.get().payload
    (note,) = [n for n in payload["notes"] if "Figures hidden" in n["message"]]
    release = payload["release"]
    assert note["params"] == {
        "hidden": release["primary"] + release["complementary"] + release["withheld"],
        "rows": release["figures"],
    }
    assert f"Figures hidden on this page by disclosure control: {note['params']['hidden']} of" in body
    assert f"{release['primary']} figures are suppressed because fewer than 5" in body


def test_aggregate_tables_says_the_number_of_responses_is_withheld_not_none():
    said = _responses({"n": None, "exclude": ["speeding"], "excluded": None})
    assert "None" not in said and "withheld" in said
    assert _responses({"n": 1, "exclude": [], "excluded": 0}) == "1 response used (rounded to 5)"
    assert _responses({"n": 30, "exclude": ["speeding"], "excluded": 5}) == (
        "30 responses used (rounded to 5); 5 responses left out for the chosen flags"
    )
