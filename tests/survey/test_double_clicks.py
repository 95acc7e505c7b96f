"""Double and triple clicks over real HTTP (issue 10, item 6): every request of one browser's burst
lands on the same outcome, the same receipt code on "Finish", one response on "I agree".

A browser that is clicked twice sends the second request with the cookies it had before the first
answer arrived, and shows whichever answer comes last; so each request of a burst must be a
complete, correct answer on its own. Runs against the live server on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import re
import threading

import pytest
import requests
from django.db import connection

from survey.models import PendingResponse, Response
from survey.services.releases import release_k
from survey.simulation import Respondent, fill, hidden_fields, read_form
from tests.survey.test_fieldwork import quota_study  # noqa: F401  (the fixture, shared)

pytestmark = pytest.mark.django_db(transaction=True)

RECEIPT = re.compile(r'id="receipt-code">([^<]+)<')


def receipt_shown(base: str, reply: requests.Response) -> str:
    """The receipt code on the thank-you page a "Finish" reply redirects to (POST/redirect/GET)."""
    assert reply.status_code == 303
    page = requests.get(base + reply.headers["Location"], cookies=reply.cookies.get_dict(), timeout=60)
    return RECEIPT.search(page.text).group(1).strip()


def burst(url: str, data: dict, cookies: dict, times: int) -> list[requests.Response]:
    """``times`` near-simultaneous POSTs of one form with one set of cookies."""
    replies: list[requests.Response] = []
    start = threading.Barrier(times)

    def click() -> None:
        session = requests.Session()
        session.cookies.update(cookies)
        start.wait()
        replies.append(session.post(url, data=data, allow_redirects=False, timeout=60))
        connection.close()

    threads = [threading.Thread(target=click) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return replies


def to_last_page(base: str, study) -> tuple[requests.Session, str, dict]:
    """A browser at the last page of the shipped study, with that page's form filled in."""
    browser = requests.Session()
    browser.headers["Accept-Language"] = "en"
    entry = f"{base}/s/{study.slug}/west/"
    consent = browser.get(entry, timeout=60).text
    page = browser.post(entry, data={**hidden_fields(consent), "agree": "yes", "action": "agree"}, timeout=60)
    respondent = Respondent(4, "west")
    for _ in range(30):
        data = {**fill(read_form(page.text), respondent, {}), "action": "next"}
        if "Finish and submit" in page.text:
            return browser, page.url, data
        page = browser.post(page.url, data=data, timeout=60)
    raise AssertionError("never reached the last page")


@pytest.mark.parametrize("clicks", [2, 3])
def test_a_double_or_triple_finish_shows_one_receipt(live_server, shipped_study, clicks):
    browser, url, data = to_last_page(live_server.url, shipped_study)
    replies = burst(url, data, browser.cookies.get_dict(), clicks)
    codes = {receipt_shown(live_server.url, r) for r in replies}
    assert len(codes) == 1
    assert PendingResponse.objects.filter(status="complete").count() == 1


def test_a_late_click_after_the_release_still_shows_the_receipt(live_server, shipped_study):
    """The first "Finish" makes k and releases the batch in its transaction; the other clicks find
    the participant's row gone and are answered from the released response."""
    from tests.survey.test_releases import complete_many

    browser, url, data = to_last_page(live_server.url, shipped_study)
    complete_many(shipped_study, release_k() - 1, sample="west")
    replies = burst(url, data, browser.cookies.get_dict(), 3)
    codes = {receipt_shown(live_server.url, r) for r in replies}
    assert len(codes) == 1
    assert Response.objects.count() == release_k() and not PendingResponse.objects.exists()
    late = requests.Session()
    late.cookies.update(browser.cookies.get_dict())
    again = late.post(url, data=data, allow_redirects=False, timeout=60)
    assert {receipt_shown(live_server.url, again)} == codes


def test_a_double_i_agree_opens_one_response_that_either_cookie_resumes(live_server, shipped_study):
    browser = requests.Session()
    browser.headers["Accept-Language"] = "en"
    entry = f"{live_server.url}/s/{shipped_study.slug}/"
    consent = browser.get(entry, timeout=60).text
    form = {**hidden_fields(consent), "agree": "yes", "action": "agree"}
    replies = burst(entry, form, browser.cookies.get_dict(), 2)
    assert [r.status_code for r in replies] == [302, 302]
    assert len({r.headers["Location"] for r in replies}) == 1
    assert PendingResponse.objects.count() == 1
    for reply in replies:  # whichever answer the browser keeps, its cookie works
        kept = requests.Session()
        kept.cookies.update({**browser.cookies.get_dict(), **reply.cookies.get_dict()})
        page = kept.get(live_server.url + reply.headers["Location"], allow_redirects=False, timeout=60)
        assert page.status_code == 200 and 'name="action"' in page.text


def test_a_second_click_after_a_screen_out_ends_politely(quota_study):  # noqa: F811
    """The first request of the click screens the participant out (a full quota cell) and deletes
    their answers; the second finds nothing and says the visit has ended, not "page not available"."""
    from django.test import Client

    from survey.models import Quota
    from tests.survey.test_fieldwork import answer, start

    study = quota_study
    Quota.objects.create(study=study, name="nobody", conditions={"q1": ["yes"]}, limit=0)
    browser = Client(HTTP_ACCEPT_LANGUAGE="en")
    start(browser, study)
    cookies = {key: morsel.value for key, morsel in browser.cookies.items()}
    assert 'id="screened-out"' in answer(browser, study, {"q1": "yes", "q2": "3"}).content.decode()
    second = Client(HTTP_ACCEPT_LANGUAGE="en")
    for key, value in cookies.items():
        second.cookies[key] = value
    repeat = answer(second, study, {"q1": "yes", "q2": "3"})
    assert repeat.status_code == 200 and "nothing more is needed from you" in repeat.content.decode()
    assert not PendingResponse.objects.exists()
