"""Candid's expressions give the values the ODK XForms specification, XPath 1.0 and JavaRosa give.

The table is ``expression_conformance.txt`` beside this file: one expression a line with its value
and the source that establishes the value. Then: what is refused at parse time, with the function's
name and position; regular expressions on RE2; the time budget of a page's expressions.
"""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from survey import logic
from survey.logic import Context, ExpressionBudgetExceeded, ExpressionError, expression_budget, parse
from survey.logic import evaluator as evaluator_module
from tests.helpers import FUZZ_EXAMPLES

TABLE = Path(__file__).with_name("expression_conformance.txt")

ANSWERS = {
    "five": 5,
    "ten": 10,
    "dec": 2.5,
    "text": "abc",
    "num_text": "18",
    "fruit": ["apple", "baby", "crimson"],
    "dob_child": "2014-01-10",
    "dob_adult": "1990-03-01",
    "colour": "red",
}
LABELS = {("colour", "red"): {"en": "Red", "fr": "Rouge"}}
CONTEXT = Context(
    language="en",
    choice_label=lambda question, choice: LABELS.get((question, choice), {}).get("en", ""),
    today=lambda: date(2024, 6, 15),
)


def _rows() -> list[tuple[str, str, str]]:
    rows = []
    for line in TABLE.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        expression, value, source = (part.strip() for part in line.split(" | "))
        rows.append((expression, value, source))
    return rows


ROWS = _rows()


def _expected(text: str):
    if text in {"true", "false"}:
        return text == "true"
    if text.startswith("'") and text.endswith("'"):
        return text[1:-1]
    return {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}.get(text) or float(text)


def test_the_table_is_large_and_every_row_cites_a_source():
    assert len(ROWS) >= 150
    assert all(source for _expression, _value, source in ROWS)
    assert len({expression for expression, _value, _source in ROWS}) == len(ROWS)


@pytest.mark.parametrize(("expression", "value", "source"), ROWS, ids=[row[0] for row in ROWS])
def test_expression_has_the_specified_value(expression, value, source):
    expected = _expected(value)
    actual = parse(expression).evaluate(ANSWERS, "", CONTEXT)
    if isinstance(expected, bool):
        assert actual is expected, source
    elif isinstance(expected, str):
        assert actual == expected, source
    else:
        number = logic.to_number(actual)
        assert not isinstance(actual, str | bool), f"{actual!r} is not a number ({source})"
        if math.isnan(expected):
            assert math.isnan(number), source
        else:
            assert number == pytest.approx(expected, rel=1e-9, abs=1e-12), source
            if expected == 0:
                assert math.copysign(1, number) == math.copysign(1, expected), f"the sign of zero ({source})"


def test_relevance_with_a_blank_number_and_a_child_birth_date_behave_as_odk():
    """The issue's cases through ``is_true``, as relevance and constraints use it."""
    assert parse("${n} < 10").is_true({}) is False
    assert parse("${n} < 10").is_true({"n": 3}) is True
    assert (
        parse("int((today() - ${dob}) div 365.25) >= 18").is_true({"dob": "2014-01-10"}, context=CONTEXT)
        is False
    )
    assert parse(". >= 18").is_true({}, "abc") is False


def test_once_keeps_the_value_a_calculation_already_has():
    assert parse("once(${five} * 2)").evaluate(ANSWERS, "") == 10
    assert parse("once(${five} * 2)").evaluate(ANSWERS, "7") == "7"


def test_choice_filter_reads_the_candidate_choices_columns():
    expression = parse("state = ${state} or name = 'other'", choice_filter=True)
    choices = [{"name": "a", "state": "x"}, {"name": "b", "state": "y"}, {"name": "other", "state": ""}]
    kept = [c["name"] for c in choices if expression.is_true({"state": "x"}, context=Context(choice=c))]
    assert kept == ["a", "other"]
    with pytest.raises(ExpressionError) as caught:
        parse("state = ${state}")
    assert "${state}" in caught.value.message
    assert caught.value.position == 0


def test_choice_name_follows_the_language():
    context = Context(language="fr", choice_label=lambda q, c: LABELS.get((q, c), {}).get("fr", ""))
    assert parse("jr:choice-name(${colour}, '${colour}')").evaluate(ANSWERS, context=context) == "Rouge"
    assert parse("jr:choice-name(${colour}, '${colour}')").references == (("colour", 15), ("colour", 27))


def test_month_and_day_names_follow_the_language():
    for language in ("zh", "zh-CN", "zh-Hans"):
        context = Context(language=language)
        assert parse("format-date('2024-06-15', '%b %a')").evaluate({}, context=context) == "六月 星期六"


@pytest.mark.parametrize(
    ("source", "words", "position"),
    [
        ("pulldata('f', 'a', 'b', ${x})", "pulldata() is not supported", 0),
        ("${a} = 1 and instance('cities')", "instance() is not supported", 13),
        ("count(${a}) > 1", "count() is not supported", 0),
        ("random() < 0.5", "random() is not supported", 0),
        ("uuid()", "uuid() is not supported", 0),
        ("1 + distance(${g})", "distance() is not supported", 4),
        ("format-date-time(${d}, '%H')", "format-date-time() is not supported", 0),
        ("lower-case(${a})", "lower-case() is not supported", 0),
        ("foo(${a})", "unknown function foo()", 0),
        ("concat(1, frobnicate())", "unknown function frobnicate()", 10),
        ("substr('a')", "substr() takes 2 to 3 argument(s), not 1", 0),
        ("sum(1)", "sum() adds the values of a question", 0),
        ("format-date(., '%Y %H:%M')", "%H is a time", 19),
        ("/data/q = 1", "paths such as", 0),
        ("../q = 1", "paths such as", 1),
        ("${a} | ${b}", "union operator", 5),
        ("$var = 1", "refer to a question", 0),
        ("position(..) = 1", "position() is not supported", 0),
        ("instance('c')/root/item[name = ${q}]/label = 'x'", "instance() is not supported", 0),
        ("concat('was: ', ${last-saved#q})", "${last-saved#...}", 16),
    ],
)
def test_unsupported_is_refused_with_name_and_position(source, words, position):
    with pytest.raises(ExpressionError) as caught:
        parse(source)
    assert words in caught.value.message
    assert caught.value.position == position


@pytest.mark.parametrize(
    ("source", "position"),
    [
        ("regex(., '(a')", 10),
        ("regex(., 'x(?=y)')", 11),
        ("regex(., '^(a)\\1$')", 14),
    ],
)
def test_a_pattern_re2_cannot_run_is_refused_where_it_fails(source, position):
    with pytest.raises(ExpressionError) as caught:
        parse(source)
    assert "regular expression" in caught.value.message
    assert caught.value.position == position


def test_catastrophic_patterns_run_in_linear_time():
    """``^(a+)+$`` backtracks exponentially in Python's ``re``; 41 characters held a worker 30 s."""
    expression = parse("regex(., '^(a+)+$')")
    assert expression.is_true({}, "a" * 10_000 + "!") is False
    assert expression.is_true({}, "a" * 10_000) is True


def test_a_page_past_its_budget_stops_with_an_exception(monkeypatch):
    ticks = iter(range(1000))
    monkeypatch.setattr(evaluator_module, "_clock", lambda: float(next(ticks)))
    expression = parse("concat('a', 'b')")
    with expression_budget(2.5):
        assert expression.evaluate({}) == "ab"  # started at 0, the call at 1, ended at 2: 2 s spent
        with pytest.raises(ExpressionBudgetExceeded):
            expression.evaluate({})  # starts at 3 with 0.5 s left; the call at 4 is past it
    assert expression.evaluate({}) == "ab"  # outside the block: no budget


def test_a_text_that_doubles_past_the_limit_is_stopped():
    answers = {"x": "a" * (logic.MAX_TEXT // 2 + 1)}
    with pytest.raises(ExpressionBudgetExceeded):
        parse("concat(${x}, ${x})").evaluate(answers)


def test_every_expression_of_the_table_reads_in_words():
    """The editor's plain-language reading follows the same tree, so every new construct reads."""
    from survey.logic_text import Vocabulary, read

    vocabulary = Vocabulary(labels={"blank": "How many?"}, choices={"colour": {"red": "Red"}})
    for expression, _value, _source in ROWS:
        assert read(expression, vocabulary)
    assert read("${blank} < 10", vocabulary) == "“How many?” < 10"
    assert read("3 < 4 < 5", vocabulary) == "(3 < 4) < 5"
    assert read("int((today() - ${blank}) div 365.25) >= 18", vocabulary) == (
        "the whole part of ((today - “How many?”) ÷ 365.25) ≥ 18"
    )
    assert read("if(${blank} > 2, 'a', 'b') = 'a'", vocabulary) == "(“a” if “How many?” > 2, else “b”) = “a”"


def test_messages_are_translated():
    from django.utils import translation

    with translation.override("zh-hans"):
        with pytest.raises(ExpressionError) as caught:
            parse("pulldata('f', 'a', 'b', ${x})")
        message = str(caught.value)
    assert message.startswith("不支持 pulldata()：它读取次级实例或外部文件")
    assert message.endswith("（在第 1 个字符处）")


def test_a_skipped_count_does_not_open_the_fewer_than_ten_branch():
    """Issue 11: the participant who skipped "how many?" was sent down the "fewer than 10" branch."""
    from survey import flow

    section = {"code": "p", "relevance": "", "questions": []}
    questions = [
        {"code": "n", "relevance": "", "type": "integer"},
        {"code": "few", "relevance": "${n} < 10", "type": "text"},
        {"code": "many", "relevance": "${n} >= 10", "type": "text"},
        {"code": "adult", "relevance": "int((today() - ${dob}) div 365.25) >= 18", "type": "text"},
    ]
    page = flow.Page(0, section, questions)
    assert [q["code"] for q in flow.relevant_questions(page, {})] == ["n"]
    assert [q["code"] for q in flow.relevant_questions(page, {"n": 3})] == ["n", "few"]
    child = {"n": 12, "dob": date(date.today().year - 10, 1, 1).isoformat()}
    assert [q["code"] for q in flow.relevant_questions(page, child)] == ["n", "many"]


def test_a_date_constraint_compares_days():
    assert parse(". <= today()").is_true({}, "2020-02-29", CONTEXT) is True
    assert parse(". <= today()").is_true({}, "2030-01-01", CONTEXT) is False
    assert parse(". >= date('2000-01-01')").is_true({}, "1999-12-31") is False


def test_bare_true_asks_for_the_function():
    with pytest.raises(ExpressionError) as caught:
        parse("${a} = true")
    assert "write true()" in caught.value.message


@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
@given(
    st.one_of(
        st.just(""),
        st.floats(allow_nan=True, allow_infinity=True),
        st.integers(-(10**6), 10**6),
        st.text(max_size=6),
        st.lists(st.sampled_from(["a", "b"]), max_size=2),
    ),
    st.sampled_from(["10", "0", "-3.5", "'10'", "'abc'", "''", "true()", "today()"]),
)
def test_comparison_laws(value, literal):
    """For any answer: != is the negation of =; a value that is not a number is neither below, at nor
    above any number (XPath 1.0 §3.4)."""
    answers = {"x": value}
    assert parse(f"${{x}} != {literal}").is_true(answers) is not parse(f"${{x}} = {literal}").is_true(answers)
    if math.isnan(logic.to_number(value)):
        for op in ("<", "<=", ">", ">="):
            assert parse(f"${{x}} {op} {literal}").is_true(answers) is False
