"""Pages are never stored by browsers or proxies, and participants carry no long-lived CSRF cookie."""

import pytest

pytestmark = pytest.mark.django_db


def test_participant_pages_and_error_pages_are_not_stored(shipped_study, client):
    for url in (f"/s/{shipped_study.slug}/", "/withdraw/", "/no-such-page/", "/"):
        response = client.get(url)
        assert "no-store" in response["Cache-Control"], url


def test_participants_get_no_long_lived_csrf_cookie(participant):
    browser, outcome = participant()
    assert outcome.completed
    token = browser.cookies.get("csrftoken")
    assert token is not None, "participant forms are still protected against cross-site posts"
    assert token["max-age"] == "" and token["expires"] == "", (
        "the CSRF cookie must end with the browser session"
    )
    # After the thank-you page nothing outlives the browser session (the resume cookie is deleted).
    lasting = [name for name, c in browser.cookies.items() if c["max-age"] not in ("", 0, "0")]
    assert not lasting


def test_a_nul_character_in_any_parameter_is_a_bad_request(client, shipped_study):
    for url in (f"/s/{shipped_study.slug}/?lang=%00", "/withdraw/?x=a%00b", "/admin/login/?next=/%00"):
        response = client.get(url)
        assert response.status_code == 400, url
    form = "application/x-www-form-urlencoded"  # what a browser sends for Candid's forms
    assert client.post("/withdraw/", "code=AB%00CD", content_type=form).status_code == 400


def test_a_page_whose_expressions_overrun_their_budget_asks_to_try_again(
    shipped_study, monkeypatch, settings
):
    """Issue 10 item 9: expressions past ``CANDID_EXPRESSION_BUDGET_SECONDS`` end on the friendly page
    (503), never a 500 or a held worker. After consent the clock is faked: every reading 10 s later."""
    from django.test import Client

    from survey.logic import evaluator
    from survey.simulation import Respondent, walk

    class Recording(Client):
        statuses: list[int] = []

        def post(self, *args, **kwargs):
            response = super().post(*args, **kwargs)
            self.statuses.append(response.status_code)
            return response

    def slow_clock(client) -> None:
        ticks = iter(range(0, 10**6, 10))
        monkeypatch.setattr(evaluator, "_clock", lambda: float(next(ticks)))

    settings.CANDID_EXPRESSION_BUDGET_SECONDS = 2
    browser = Recording(HTTP_ACCEPT_LANGUAGE="en")
    outcome = walk(browser, f"/s/{shipped_study.slug}/", Respondent(1, "china"), after_consent=slow_clock)
    assert not outcome.completed
    assert browser.statuses[-1] == 503
    assert 500 not in browser.statuses
    monkeypatch.undo()
    settings.CANDID_EXPRESSION_BUDGET_SECONDS = 2
    assert walk(
        Client(HTTP_ACCEPT_LANGUAGE="en"), f"/s/{shipped_study.slug}/", Respondent(2, "china")
    ).completed


def test_an_inline_deadline_stops_its_block_and_gives_back_the_alarm_before_it():
    """``inline_deadline`` stops work at its own limit, or short of an enclosing request budget,
    and leaves the alarm that was set before (the budget's, or a test runner's) as it found it."""
    import signal
    import time

    from survey.middleware import InlineDeadlineExceeded, _expired, inline_deadline

    before = signal.signal(signal.SIGALRM, _expired)  # as the request budget sets it
    outer = signal.getitimer(signal.ITIMER_REAL)
    try:
        signal.setitimer(signal.ITIMER_REAL, 2.0)  # a 2 s budget: the block stops at 1 s
        started = time.monotonic()
        with pytest.raises(InlineDeadlineExceeded), inline_deadline(0):
            time.sleep(5)
        assert 0.8 < time.monotonic() - started < 1.6
        assert signal.getsignal(signal.SIGALRM) is _expired
        assert 0 < signal.getitimer(signal.ITIMER_REAL)[0] <= 1.0  # the budget's rest
        signal.setitimer(signal.ITIMER_REAL, 0)
        with inline_deadline(0.3):  # a block that ends in time is left alone
            time.sleep(0.05)
        with pytest.raises(InlineDeadlineExceeded), inline_deadline(0.3):
            time.sleep(5)
        assert signal.getitimer(signal.ITIMER_REAL)[0] == 0
    finally:
        signal.signal(signal.SIGALRM, before)
        signal.setitimer(signal.ITIMER_REAL, *outer)
