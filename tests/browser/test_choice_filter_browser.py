"""A choice_filter reading an answer on the same page, in a real Chromium: the options the filter
offers appear as soon as the earlier answer is chosen, and those it does not stay hidden."""

from __future__ import annotations

import pytest

from tests.browser.pages import submit
from tests.survey.xlsform_studies import publish_xlsform

pytestmark = pytest.mark.django_db(transaction=True)

CHOICES = [
    ["list_name", "name", "label", "state"],
    ["states", "north", "North", ""],
    ["states", "south", "South", ""],
    ["cities", "alpha", "Alpha", "north"],
    ["cities", "beta", "Beta", "south"],
    ["cities", "gamma", "Gamma", "south"],
]
SURVEY = [
    ["type", "name", "label", "choice_filter"],
    ["begin_group", "p1", "", ""],
    ["select_one states", "state", "State", ""],
    ["select_one cities", "city", "City", "state = ${state}"],
    ["end_group", "", "", ""],
]


def test_choosing_the_state_shows_its_cities_live(live_server, context, admin_user_):
    publish_xlsform(admin_user_, "cities", SURVEY, choices=CHOICES)
    page = context.new_page()
    page.goto(f"{live_server.url}/s/cities/")
    page.get_by_role("checkbox").check()
    submit(page, "agree")
    city = page.locator('input[name="city"]')
    assert city.count() == 3
    assert not any(city.nth(i).is_visible() for i in range(3))  # no state yet: no city offered
    page.get_by_label("South").check()
    page.get_by_label("Gamma").wait_for(state="visible", timeout=5000)
    assert page.get_by_label("Beta").is_visible()
    assert not page.get_by_label("Alpha").is_visible()
    page.get_by_label("North").check()
    page.get_by_label("Alpha").wait_for(state="visible", timeout=5000)
    assert not page.get_by_label("Beta").is_visible()
