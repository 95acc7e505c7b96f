"""The expression language: parsing, positions of errors, evaluation with ODK's value rules."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from survey.logic import ExpressionError, parse, pipe, piped_codes
from tests.helpers import FUZZ_EXAMPLES


@pytest.mark.parametrize(
    ("source", "answers", "current", "expected"),
    [
        ("${q} >= 4 and selected(${m}, 'x')", {"q": 5, "m": ["x", "y"]}, "", True),
        ("${q} >= 4 and selected(${m}, 'z')", {"q": 5, "m": ["x", "y"]}, "", False),
        ("not(${a} = 1) or count-selected(${m}) > 1", {"a": 1, "m": ["x"]}, "", False),
        ("count-selected(${m}) = 2", {"m": ["x", "y"]}, "", True),
        (". <= ${cap}", {"cap": 3}, 2, True),
        (". <= ${cap}", {"cap": 3}, 4, False),
        ("${unanswered} = ''", {}, "", True),
        ("${t} = 'yes'", {"t": "yes"}, "", True),
        ("${n} = 10", {"n": "10"}, "", True),  # numeric when both sides are numbers
        ("${s} < 'b'", {"s": "a"}, "", False),  # XPath: < compares numbers only, 'a' is NaN
        ("5 div 2 = 2.5", {}, "", True),
        ("7 mod 3 = 1", {}, "", True),
        ("-${q} + 3 * 2 = 4", {"q": 2}, "", True),
        ("string-length(.) <= 3", {}, "abcd", False),
        ("regex(., '^[0-9]+$')", {}, "123", True),
        ("if(${a} = 1, 'one', 'other') = 'other'", {"a": 2}, "", True),
        ("true() and not(false())", {}, "", True),
    ],
)
def test_evaluates_like_xlsform(source, answers, current, expected):
    assert parse(source).is_true(answers, current) is expected


@pytest.mark.parametrize(
    ("source", "message", "position"),
    [
        ("${a} >= ", "ends too early", 8),
        ("${q1} = ‘other’", "use straight quotes", 8),
        ("foo(${a})", "unknown function foo()", 0),
        ("not(1, 2)", "not() takes 1 argument(s), not 2", 0),
        ("${} = 1", "unexpected '}'", 2),
        ("a = 1", "unexpected 'a'", 0),
        ("", "empty", 0),
    ],
)
def test_errors_carry_message_and_position(source, message, position):
    with pytest.raises(ExpressionError) as caught:
        parse(source)
    assert message in caught.value.message
    assert caught.value.position == position


def test_references_are_listed_with_positions():
    expression = parse("${a} = 1 and selected(${b}, 'x')")
    assert expression.references == (("a", 0), ("b", 22))


def test_piping_replaces_codes_with_displayed_answers():
    assert piped_codes("You said ${age}.") == [("age", 9)]
    assert pipe("You said ${age}.", {"age": 42}, lambda code, value: f"<{value}>") == "You said <42>."


@pytest.mark.fuzz
@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
@given(st.text(alphabet="${}()'\"., <>=!+-*/|[]:%abcdinotrsel0123456789 ", max_size=40))
def test_any_input_parses_or_fails_cleanly(source):
    try:
        expression = parse(source)
    except ExpressionError as error:
        assert 0 <= error.position <= len(source)
    else:
        expression.evaluate({}, "")


TOKENS = [
    "${a}",
    "${b}",
    "${c}",
    ".",
    "1",
    "2.5",
    "'x'",
    "'y'",
    "''",
    "(",
    ")",
    "=",
    "!=",
    "<",
    ">=",
    "+",
    "-",
    "*",
    "div",
    "mod",
    "and",
    "or",
    "not(",
    "selected(",
    "count-selected(",
    ",",
    "string-length(",
    "if(",
    "today()",
    "true()",
    "false()",
    "regex(",
    "'^[a-z]+$'",
    "concat(",
    "substr(",
    "round(",
    "pow(",
    "date(",
    "format-date(",
    "'%Y %b %a'",
    "'2020-02-29'",
    "selected-at(",
    "jr:choice-name(",
    "coalesce(",
    "translate(",
    "max(",
    "sum(",
    "once(",
    "decimal-date-time(",
    "int(",
    "number(",
    "<=",
    "1e309",
]


@pytest.mark.fuzz
@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
@given(
    st.lists(st.sampled_from(TOKENS), max_size=14).map(" ".join),
    st.dictionaries(
        st.sampled_from(["a", "b", "c"]),
        st.one_of(st.integers(-5, 5), st.text(max_size=4), st.lists(st.sampled_from(["x", "y"]), max_size=2)),
    ),
)
def test_token_soup_parses_and_evaluates_or_fails_cleanly(source, answers):
    """Sequences of the language's own tokens reach the evaluator far more often than random text."""
    try:
        expression = parse(source)
    except ExpressionError as error:
        assert 0 <= error.position <= len(source)
    else:
        expression.is_true(answers, answers.get("a", ""))  # ODK's rules give every input a value
