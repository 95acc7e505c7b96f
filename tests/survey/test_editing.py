"""The editor's changes as pure functions, the version diff, and expressions read in words."""

from __future__ import annotations

import pytest
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st

from survey import editing
from survey.diff import diff_versions
from survey.instrument import iter_questions, normalize, validate
from survey.logic import ExpressionError
from survey.logic_text import Vocabulary, read
from tests.specs import tiny_spec


def codes(spec) -> list[str]:
    return [q["code"] for _s, q, _p in iter_questions(spec)]


def test_put_adds_replaces_and_moves_between_pages():
    spec = editing.page_put(tiny_spec(), original=None, section={"code": "p2", "label": {"en": "Two"}})
    spec = normalize(spec)
    question = {"code": "q3", "type": "text", "label": {"en": "Q3", "zh": "问3"}}
    spec = normalize(
        editing.question_put(spec, original=None, page_code="p2", parent_code=None, question=question)
    )
    assert [q["code"] for q in spec["sections"][1]["questions"]] == ["q3"]
    moved = normalize(
        editing.question_put(
            spec,
            original="q2",
            page_code="p2",
            parent_code=None,
            question=spec["sections"][0]["questions"][1],
        )
    )
    assert [q["code"] for q in moved["sections"][1]["questions"]] == ["q3", "q2"]
    assert tiny_spec()["sections"][0]["questions"][1]["code"] == "q2"  # inputs are never changed


def test_rename_follows_every_reference():
    spec = tiny_spec()
    spec["sections"][0]["questions"][1]["label"] = {"en": "You said ${q1}", "zh": "您说 ${ q1 }"}
    # q2 on a page of its own: an answer is piped into the pages after its own
    spec["sections"].append(
        {**spec["sections"][0], "code": "p2", "questions": [spec["sections"][0]["questions"].pop()]}
    )
    q1 = {**spec["sections"][0]["questions"][0], "code": "trust"}
    renamed = normalize(
        editing.question_put(spec, original="q1", page_code="p1", parent_code=None, question=q1)
    )
    q2 = renamed["sections"][1]["questions"][0]
    assert q2["relevance"] == "${trust} = 'yes'"
    assert q2["label"] == {"en": "You said ${trust}", "zh": "您说 ${trust}"}
    assert validate(renamed) == []


def test_move_crosses_page_edges_and_items_stay_in_their_group():
    spec = normalize(editing.page_put(tiny_spec(), original=None, section={"code": "p2"}))
    down = editing.question_move(spec, "q2", 1)
    assert [q["code"] for q in down["sections"][1]["questions"]] == ["q2"]
    assert editing.question_move(spec, "q1", -1) == spec  # already first: nothing moves


def test_refusals_name_the_reason():
    spec = tiny_spec()
    with pytest.raises(editing.EditError, match="used by q1"):
        editing.list_remove(spec, "yn")
    with pytest.raises(editing.EditError, match="still holds 2"):
        editing.page_remove(spec, "p1")
    with pytest.raises(editing.EditError, match="no question 'nope'"):
        editing.question_remove(spec, "nope")


def test_list_rename_follows_its_questions_and_choices_reorder():
    spec = tiny_spec()
    choices = [
        {"code": "no", "label": {"en": "No", "zh": "否"}},
        {"code": "yes", "label": {"en": "Yes", "zh": "是"}},
    ]
    changed = normalize(editing.list_put(spec, original="yn", name="yes_no", choices=choices))
    assert (
        changed["choice_lists"][0]["name"] == "yes_no"
        and changed["sections"][0]["questions"][0]["choice_list"] == "yes_no"
    )
    assert [c["code"] for c in changed["choice_lists"][0]["choices"]] == ["no", "yes"]
    assert validate(changed) == []


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["q1", "q2"]), st.sampled_from([-1, 1])), max_size=8))
def test_moves_keep_every_question_once(moves):
    spec = normalize(editing.page_put(tiny_spec(), original=None, section={"code": "p2"}))
    for code, step in moves:
        spec = editing.question_move(spec, code, step)
    assert sorted(codes(spec)) == ["q1", "q2"]


def test_diff_reports_rewording_recoding_and_comparability():
    old = tiny_spec()
    new = tiny_spec()
    new["sections"][0]["questions"][0]["label"] = {"en": "Q1 reworded", "zh": "问1"}
    new["choice_lists"][0]["choices"][1]["code"] = "nope"
    new["sections"][0]["questions"].append(
        normalize({"sections": [{"questions": [{"code": "q9", "type": "text", "label": {"en": "x"}}]}]})[
            "sections"
        ][0]["questions"][0]
    )
    diff = diff_versions(old, new, claim_variables=frozenset({"q1"}))
    assert diff.added == ["q9"] and not diff.removed
    assert diff.reworded == [
        {"code": "q1", "field": "label", "language": "en", "before": "Q1", "after": "Q1 reworded"}
    ]
    assert {"kind": "claim_wording", "code": "q1", "language": "en"} in diff.warnings
    assert {"kind": "choice_code", "code": "q1", "choices": ["no"]} in diff.warnings
    assert diff.choices[0]["added"] == ["nope"] and diff.choices[0]["removed"] == ["no"]


def test_diff_sees_a_renamed_code():
    old = tiny_spec()
    new = tiny_spec()
    new["sections"][0]["questions"][1]["code"] = "q2_new"
    diff = diff_versions(old, new)
    assert diff.renamed == [("q2", "q2_new")] and not diff.added and not diff.removed
    assert diff.warnings == [{"kind": "code", "code": "q2", "new": "q2_new"}]
    assert diff_versions(old, tiny_spec()).empty


VOCABULARY = Vocabulary(
    labels={"age": "How old are you?", "scores": "Which scores do you use?"},
    choices={"scores": {"sesame": "Sesame Credit"}},
)


@pytest.mark.parametrize(
    ("source", "words"),
    [
        ("${age} >= 18", "“How old are you?” ≥ 18"),
        (
            "selected(${scores}, 'sesame') and ${age} < 30",
            "“Which scores do you use?” includes “Sesame Credit” and “How old are you?” < 30",
        ),
        ("${scores} = ''", "“Which scores do you use?” is not answered"),
        (
            "(${age} > 1 or ${age} < 0) and not(${scores} != '')",
            "(“How old are you?” > 1 or “How old are you?” < 0) and not (“Which scores do you use?” is answered)",
        ),
        (". >= 0 and . <= 120", "this answer ≥ 0 and this answer ≤ 120"),
        ("count-selected(${scores}) > 1", "the number of choices ticked in “Which scores do you use?” > 1"),
        ("${unknown} = 2", "${unknown} = 2"),
    ],
)
def test_expressions_read_in_words(source, words):
    with translation.override("en"):
        assert read(source, VOCABULARY) == words


def test_expressions_read_in_chinese():
    with translation.override("zh-hans"):
        assert (
            read("${age} >= 18 and ${scores} != ''", VOCABULARY)
            == "“How old are you?” ≥ 18 且 “Which scores do you use?” 已作答"
        )


def test_a_bad_expression_is_not_read():
    with pytest.raises(ExpressionError):
        read("${age} >= ", VOCABULARY)


def test_a_matrix_scale_change_follows_to_its_rows():
    spec = tiny_spec()
    spec["choice_lists"].append(
        {"name": "agree", "choices": [{"code": "a", "label": {"en": "A", "zh": "甲"}}]}
    )
    spec["sections"][0]["questions"].append(
        {
            "code": "battery",
            "type": "matrix",
            "label": {"en": "Battery", "zh": "组"},
            "choice_list": "yn",
            "items": [
                {"code": "row1", "type": "likert", "label": {"en": "R1", "zh": "行1"}, "choice_list": "yn"}
            ],
        }
    )
    spec = normalize(spec)
    matrix = {**spec["sections"][0]["questions"][2], "choice_list": "agree"}
    changed = normalize(
        editing.question_put(spec, original="battery", page_code="p1", parent_code=None, question=matrix)
    )
    assert changed["sections"][0]["questions"][2]["items"][0]["choice_list"] == "agree"
    assert validate(changed) == []


def test_place_puts_a_question_at_an_index_of_its_page():
    spec = tiny_spec()
    assert codes(editing.question_place(spec, "q2", 0)) == ["q2", "q1"]
    assert codes(editing.question_place(spec, "q1", 99)) == ["q2", "q1"]


def test_rename_reaches_calculations_choice_filters_and_choice_labels():
    """Every ``${reference}`` follows a rename (README), not only relevance, constraint and labels: a
    calculation, a choice filter and a piped choice label were left pointing at the old name, and the
    edit was refused ("calculation of 'dbl' refers to ${q1}, which is not a question")."""
    spec = tiny_spec()
    page_two = {
        "code": "p2",
        "label": {"en": "Two", "zh": "二"},
        "questions": [
            {"code": "dbl", "type": "calculate", "calculation": "if(${q1} = 'yes', 2, 1)"},
            {
                "code": "again",
                "type": "single_choice",
                "label": {"en": "Again", "zh": "再"},
                "choice_list": "yn2",
                "choice_filter": "name != ${q1}",
            },
        ],
    }
    spec["sections"].append(page_two)
    spec["choice_lists"].append(
        {
            "name": "yn2",
            "choices": [
                {"code": "yes", "label": {"en": "Yes after ${q1}", "zh": "${q1}后是"}},
                {"code": "no", "label": {"en": "No", "zh": "否"}},
            ],
        }
    )
    spec = normalize(spec)
    assert validate(spec) == []
    q1 = {**spec["sections"][0]["questions"][0], "code": "trust"}
    renamed = normalize(
        editing.question_put(spec, original="q1", page_code="p1", parent_code=None, question=q1)
    )
    dbl, again = renamed["sections"][1]["questions"]
    assert dbl["calculation"] == "if(${trust} = 'yes', 2, 1)"
    assert again["choice_filter"] == "name != ${trust}"
    assert renamed["choice_lists"][1]["choices"][0]["label"] == {
        "en": "Yes after ${trust}",
        "zh": "${trust}后是",
    }
    assert validate(renamed) == []
