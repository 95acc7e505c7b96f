"""Synthetic respondents answer within what the questionnaire states (constraints, a range's start and
end), say why when they cannot finish, and are counted as synthetic even when they stop half-way."""

from __future__ import annotations

import re
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse

from survey.models import PendingResponse, Response
from tests.helpers import close_fieldwork
from tests.survey.xlsform_studies import publish_xlsform

pytestmark = pytest.mark.django_db

HEADERS = ["type", "name", "label", "required", "constraint", "constraint_message", "parameters"]
CONSTRAINED = [
    HEADERS,
    ["integer", "hh_size", "People in your household", "yes", ". >= 1 and . <= 20", "From 1 to 20", ""],
    ["integer", "children", "Of which children", "yes", ". >= 0 and . < ${hh_size}", "Fewer than all", ""],
    ["decimal", "income_k", "Monthly income (thousands)", "yes", ". > 0.5 and . <= 80", "0.5 to 80", ""],
    ["integer", "year_born", "Year of birth", "yes", ". >= 1920 and . <= 2006", "1920 to 2006", ""],
    ["integer", "rooms", "Rooms", "yes", "", "", ""],
    ["decimal", "distance", "Distance to work", "yes", ". >= 0", "", ""],
    ["range", "comfort", "How comfortable", "yes", ". >= 20", "", "start=0 end=100 step=5"],
    ["text", "postcode", "Postcode", "yes", "regex(., '^[0-9]{6}$')", "Six digits", ""],
    ["text", "initials", "Initials", "yes", "regex(., '^[A-Z]{2,3}$')", "Two or three capitals", ""],
    ["text", "nickname", "Nickname", "no", "regex(., '^Q[0-9]{9}Z$')", "A code", ""],
    ["text", "remarks", "Remarks", "yes", "", "", ""],
]


def simulate(slug: str, n: int, *extra: str) -> str:
    out = StringIO()
    try:
        call_command("simulate_respondents", slug, "-n", str(n), "--workers", "1", *extra, stdout=out)
    except CommandError as error:
        out.write(f"\nCommandError: {error}")
    return out.getvalue()


def test_numbers_and_texts_are_drawn_within_the_stated_bounds(admin_user_):
    """Before, integers were drawn from the input's own limits (about ±1e12), which no constraint
    accepts ("0 completed … did not finish"), and without one gave a mean household of 15 billion;
    required text was left empty. Now every respondent finishes and every answer is one the
    constraint accepts, from the stated range or a sane default (0 to 100) when none is stated."""
    publish_xlsform(admin_user_, "household", CONSTRAINED)
    printed = simulate("household", 12)
    assert "12 synthetic respondents completed" in printed and "did not finish" not in printed, printed
    close_fieldwork(_study("household"))
    answers = [r.answers for r in Response.objects.filter(study__slug="household")]
    assert len(answers) == 12
    for a in answers:
        assert 1 <= a["hh_size"] <= 20 and 0 <= a["children"] < a["hh_size"]
        assert Decimal("0.5") < Decimal(str(a["income_k"])) <= 80
        assert 1920 <= a["year_born"] <= 2006
        assert 0 <= a["rooms"] <= 100 and 0 <= a["distance"] <= 100
        assert 20 <= a["comfort"] <= 100 and a["comfort"] % 5 == 0
        assert re.fullmatch(r"[0-9]{6}", a["postcode"]) and re.fullmatch(r"[A-Z]{2,3}", a["initials"])
        assert "nickname" not in a  # optional, and nothing the respondent types fits: left out
        assert a["remarks"].strip()
    # Drawn, not fixed: the answers vary between respondents, and the same seed gives the same ones.
    assert len({a["hh_size"] for a in answers}) > 3 and len({a["postcode"] for a in answers}) > 3


def _study(slug: str):
    from survey.models import Study

    return Study.objects.get(slug=slug)


def test_a_respondent_who_cannot_finish_is_reported_with_the_question_and_the_servers_message(admin_user_):
    """A constraint no answer can meet (here: contradictory) stops the respondent after a few tries,
    not after the page limit, and the command names the question and what the server said."""
    publish_xlsform(
        admin_user_,
        "impossible",
        [HEADERS, ["integer", "age", "Age", "yes", ". > 10 and . < 5", "Between 10 and 5, impossible", ""]],
    )
    printed = simulate("impossible", 2)
    assert "0 synthetic respondents completed" in printed and "2 did not finish" in printed
    assert "age" in printed and "Between 10 and 5, impossible" in printed, printed


def test_abandoned_synthetic_walks_are_counted_as_synthetic_in_monitoring(admin_user_):
    """A synthetic respondent who stops half-way is labelled synthetic like one who finishes: the
    analysts' monitoring counted it among the real "Started" with "of which synthetic 0"."""
    from survey.selectors import study_monitoring

    publish_xlsform(
        admin_user_,
        "stuck",
        [HEADERS, ["integer", "age", "Age", "yes", ". > 10 and . < 5", "Impossible", ""]],
    )
    simulate("stuck", 3)
    assert PendingResponse.objects.filter(study__slug="stuck", is_synthetic=True).count() == 3
    study = _study("stuck")
    (row,) = study_monitoring(study)["samples"]
    assert row["started"] == 3 and row["synthetic_started"] == 3 and row["synthetic"] == 0
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(admin_user_)
    html = client.get(reverse("survey:results", args=["stuck"])).content.decode()
    monitoring = re.search(r'<table id="monitoring".*?</table>', html, re.S).group(0)
    assert re.findall(r"<td>([^<]*)</td>", monitoring)[0] == "3"  # started
    assert (
        re.findall(r"<td>([^<]*)</td>", monitoring)[-1] == "3 / 0"
    )  # of which synthetic: started / completed
    html = client.get(reverse("survey:studio_monitor", args=["stuck"])).content.decode()
    by_sample = re.search(r'<table class="data" id="by-sample">.*?</table>', html, re.S).group(0)
    cells = re.findall(r'<td class="number">([^<]*)</td>', by_sample)
    assert cells[0] == "0" and cells[-1] == "3 / 0"  # no real participant started; 3 synthetic did


def test_a_range_with_a_step_accepts_an_answer_on_the_step_and_refuses_one_off_it(admin_user_):
    """A range's start was a float and the answer a decimal: Django's step check subtracts one from
    the other, so every answer to a range with a step other than 1 was a server error."""
    from tests.survey.xlsform_studies import start, stored_answers

    publish_xlsform(
        admin_user_,
        "stepped",
        [HEADERS, ["range", "comfort", "How comfortable", "yes", "", "", "start=0 end=100 step=5"]],
    )
    client = start("stepped")
    refused = client.post("/s/stepped/p/0/", {"comfort": "23"})
    assert refused.status_code == 200 and 'aria-invalid="true"' in refused.content.decode()
    for off in ("25.0000000001", "24.9999999999", "1e-15"):  # within Django's 1e-9, off the step
        page = client.post("/s/stepped/p/0/", {"comfort": off})
        assert page.status_code == 200 and 'aria-invalid="true"' in page.content.decode(), off
    assert client.post("/s/stepped/p/0/", {"comfort": "25"}).status_code in {302, 303}
    assert stored_answers() == {"comfort": 25}


def test_a_range_with_the_default_step_takes_whole_steps_only(admin_user_):
    from tests.survey.xlsform_studies import start, stored_answers

    publish_xlsform(
        admin_user_,
        "unit",
        [HEADERS, ["range", "comfort", "How comfortable", "yes", "", "", "start=0 end=10"]],
    )
    client = start("unit")
    page = client.post("/s/unit/p/0/", {"comfort": "2.5"})
    assert page.status_code == 200 and 'aria-invalid="true"' in page.content.decode()
    assert client.post("/s/unit/p/0/", {"comfort": "3"}).status_code in {302, 303}
    assert stored_answers() == {"comfort": 3}


def test_an_exclusive_option_is_chosen_alone():
    """Simulated respondents chose "None of these" with other options, which the page refuses (7 of
    300 walks failed after three tries): an option the page marks exclusive is chosen alone."""
    from survey import simulation

    page = (
        '<form><input type="checkbox" name="used" value="clinic"><input type="checkbox" name="used" '
        'value="park"><input type="checkbox" name="used" value="library"><input type="checkbox" '
        'name="used" value="none" data-exclusive></form>'
    )
    entry = simulation.read_form(page).fields["used"]
    assert entry.options == ["clinic", "park", "library", "none"] and entry.exclusive == ["none"]
    chosen = [
        simulation._answer(simulation.read_form(page), "used", entry, simulation.Respondent(seed, "west"))
        for seed in range(300)
    ]
    assert all("none" not in c or c == ["none"] for c in chosen)
    assert ["none"] in chosen and any(len(c) > 1 for c in chosen)  # still chosen, alone; others together


def test_walks_that_fail_beside_others_that_finish_are_counted_not_an_error(admin_user_, monkeypatch):
    """A few walks that cannot finish ended the command with a CommandError although the others
    finished: they are counted and explained, and only a run in which none finishes is an error."""
    from survey import simulation

    survey = [
        ["type", "name", "label", "required"],
        ["select_multiple services", "used", "Which services have you used?", "yes"],
    ]
    choices = [
        ["list_name", "name", "label", "exclusive"],
        *[["services", code, code.title(), ""] for code in ("clinic", "library", "park")],
        ["services", "none", "None of these", "yes"],
    ]
    publish_xlsform(admin_user_, "alone", survey, choices=choices)
    real = simulation.Respondent.multiple
    failing = {"seed": None}

    def once(self, code, options, *rest):
        if failing["seed"] in (None, self.seed):
            failing["seed"] = self.seed
            return list(options)  # every option, "None of these" too: refused each time
        return real(self, code, options, *rest)

    monkeypatch.setattr(simulation.Respondent, "multiple", once)
    printed = simulate("alone", 3, "--seed", "99")
    assert "CommandError" not in printed, printed
    assert "2 synthetic respondents completed" in printed and "1 did not finish" in printed
    assert "cannot be chosen together with other answers" in printed
