"""Reloading the thank-you page (phones reload tabs): "Finish" redirects (POST/redirect/GET) to a page
that shows the receipt code again in the same browser for a short time, then a neutral "finished"
page; never an error, and the code is never kept on the server."""

from __future__ import annotations

import re

import pytest
from django.contrib.sessions.models import Session
from django.test import Client

from survey.models import PendingResponse
from survey.views.participant import finish
from tests.survey import test_fieldwork
from tests.survey.test_fieldwork import answer, start

quota_study = test_fieldwork.quota_study  # the fixture, shared

RECEIPT = re.compile(r'id="receipt-code">([^<]+)<')
FINISHED = "You have finished this survey."


def finished(study) -> tuple[Client, str]:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    start(client, study)
    reply = answer(client, study, {"q1": "no"})
    assert reply.status_code == 303 and reply["Location"] == f"/s/{study.slug}/thanks/"
    return client, reply["Location"]


@pytest.mark.django_db
def test_the_thank_you_page_can_be_reloaded_and_shows_the_same_receipt(quota_study):
    client, url = finished(quota_study)
    first = client.get(url)
    reload = client.get(url)
    assert first.status_code == reload.status_code == 200
    code = RECEIPT.search(first.content.decode()).group(1).strip()
    assert RECEIPT.search(reload.content.decode()).group(1).strip() == code
    assert PendingResponse.objects.get().status == "complete"
    # Held only in the browser: no session row, no response field holds the code.
    assert not any(code in str(s.get_decoded()) for s in Session.objects.all())
    assert code not in str(PendingResponse.objects.get().__dict__)


@pytest.mark.django_db
def test_finish_sent_again_after_the_thank_you_page_gets_that_page_again(quota_study):
    """The other request of a double click, or one sent again after a failed one, can leave the
    browser after the first "Finish" answered and removed the resume cookie: it gets the same
    thank-you page, not "session invalid" (in make faults six participants lost their receipt so)."""
    client, url = finished(quota_study)
    code = RECEIPT.search(client.get(url).content.decode()).group(1).strip()
    again = answer(client, quota_study, {"q1": "no"})
    assert again.status_code == 303 and again["Location"] == url
    assert RECEIPT.search(client.get(url).content.decode()).group(1).strip() == code
    assert PendingResponse.objects.count() == 1
    # A browser that never finished here still gets "session invalid", and no receipt.
    stranger = answer(Client(HTTP_ACCEPT_LANGUAGE="en"), quota_study, {"q1": "no"})
    assert stranger.status_code == 403 and not RECEIPT.search(stranger.content.decode())


@pytest.mark.django_db
def test_after_the_short_time_or_in_another_browser_the_page_says_finished(quota_study, monkeypatch):
    client, url = finished(quota_study)
    monkeypatch.setattr(finish, "RECEIPT_COOKIE_SECONDS", -1)  # the cookie's time is up
    late = client.get(url)
    assert late.status_code == 200
    html = late.content.decode()
    assert FINISHED in html and not RECEIPT.search(html) and "went wrong" not in html
    other = Client(HTTP_ACCEPT_LANGUAGE="zh-CN").get(url)
    assert other.status_code == 200 and "您已完成本调查" in other.content.decode()


@pytest.mark.django_db
def test_a_forged_receipt_cookie_is_not_shown(quota_study):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.cookies[finish.receipt_cookie_name(quota_study)] = "1-AAAAA|en|1|0"
    page = client.get(f"/s/{quota_study.slug}/thanks/")
    assert (
        page.status_code == 200 and FINISHED in page.content.decode() and "AAAAA" not in page.content.decode()
    )


@pytest.mark.django_db
def test_after_a_withdrawal_in_this_browser_the_link_says_withdrawn_not_saved(quota_study):
    quota_study.completed_marker = True
    quota_study.save()
    client, url = finished(quota_study)
    code = RECEIPT.search(client.get(url).content.decode()).group(1).strip()
    before = client.get(f"/s/{quota_study.slug}/").content.decode()
    assert "You have already completed this survey" in before and "answers are saved" not in before
    done = client.post("/withdraw/", {"code": code, "action": "confirm"})
    assert "deleted for good" in done.content.decode()
    after = client.get(f"/s/{quota_study.slug}/").content.decode()
    assert "were withdrawn and deleted" in after
    assert "answers are saved" not in after and "already completed" not in after
    # The thank-you page no longer shows the (now void) receipt either.
    assert not RECEIPT.search(client.get(url).content.decode())
    assert not PendingResponse.objects.exists()
