"""The synthetic respondent: a page shown again gets the same answers, as from a person."""

import pytest

from survey.simulation import Respondent, fill, read_form

PAGE = """<form>
<input type="hidden" name="shown" value="aware_local_app">
<input type="radio" name="aware_local_app" value="yes"><input type="radio" name="aware_local_app" value="no">
<input type="radio" name="aware_local_app" value="dont_know">
<input type="checkbox" name="aware_scores" value="sesame"><input type="checkbox" name="aware_scores" value="bike">
<input type="checkbox" name="aware_scores" value="none">
<input type="number" name="scs_comfort" min="0" max="10">
<select name="trust_priorities__laws"></select><select name="trust_priorities__press"></select>
<select name="trust_priorities__ratings"></select>
</form>"""


def test_a_page_shown_again_gets_the_same_answers():
    """Without JavaScript a question made relevant by an answer on the same page brings the page
    back; answering afresh would re-draw the first answer and bias every such filter (a 25% 'yes'
    to aware_local_app came out at 6% when each showing was a new draw)."""
    for seed in range(40):
        respondent = Respondent(seed, "china")
        first = fill(read_form(PAGE), respondent, {})
        assert fill(read_form(PAGE), respondent, {}) == first


def test_attention_checks_fail_at_the_documented_seeded_rate():
    """A check declared in the questionnaire (``correct=``) is answered from the model: a wrong
    option with probability ATTENTION_FAILURE, else the correct one — the same for the same seed,
    whatever the question is called (before, a question named "attention" got a fixed code and any
    other check a random option)."""
    from survey.simulation import ATTENTION_FAILURE, attention_checks

    checks = attention_checks({"reading": {"correct": "disagree"}, "other": {"min": "1"}})
    assert checks == {"reading": ("disagree",)}
    options = ["agree", "neutral", "disagree"]
    answers = [Respondent(seed, "west", checks=checks).single("reading", options) for seed in range(4000)]
    failed = sum(a != "disagree" for a in answers)
    assert abs(failed / len(answers) - ATTENTION_FAILURE) < 3 * (0.05 * 0.95 / 4000) ** 0.5
    assert {a for a in answers if a != "disagree"} == {"agree", "neutral"}  # failing means a wrong option
    again = [Respondent(seed, "west", checks=checks).single("reading", options) for seed in range(4000)]
    assert again == answers
    several = attention_checks({"attention": {"correct": "a,b"}})
    picked = {
        Respondent(seed, "china", checks=several).single("attention", ["a", "b", "c"]) for seed in range(200)
    }
    assert picked == {"a", "b", "c"}
    # Undeclared, a question named "attention" is an ordinary question: no code is fixed for it.
    plain = [Respondent(seed, "west").single("attention", options) for seed in range(200)]
    assert len(set(plain)) == 3 and plain.count("disagree") < 150


def test_respondents_take_the_modelled_time():
    """Each synthetic respondent takes a seeded time (log-normal around MEDIAN_SECONDS, a share
    of speeders): before, every duration was the milliseconds the pages took, stored as 0, and
    the speeding flag (under a third of the median) could find nothing in the demo."""
    from statistics import median

    from survey.simulation import MEDIAN_SECONDS, SPEEDER_PACE, SPEEDER_SHARE

    seconds = [Respondent(seed, "china").seconds for seed in range(4000)]
    assert seconds == [Respondent(seed, "china").seconds for seed in range(4000)]
    assert abs(median(seconds) / MEDIAN_SECONDS - 1) < 0.1
    fast = sum(s < MEDIAN_SECONDS / 3 for s in seconds) / len(seconds)
    assert abs(fast - SPEEDER_SHARE) < 0.02 and SPEEDER_PACE < 1 / 3


@pytest.mark.django_db
def test_simulated_responses_carry_their_durations(answered_study):
    """Through the real pages: the start is dated back by the respondent's time, and the server
    stores the duration rounded as for anyone."""
    from survey.models import Response
    from survey.simulation import MEDIAN_SECONDS

    durations = sorted(
        Response.objects.filter(study=answered_study).values_list("duration_seconds", flat=True)
    )
    assert len(durations) == 30 and all(d is not None and d % 30 == 0 for d in durations)
    assert MEDIAN_SECONDS / 2 < durations[15] < MEDIAN_SECONDS * 2
