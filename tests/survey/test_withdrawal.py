"""Withdrawal with the receipt code: deletes the answers until the freeze date, and is no oracle."""

import re
from datetime import date, timedelta

import pytest
from django.test import Client

from survey.models import CounterKind, Response, StudyCounter
from survey.services import responses as response_services

pytestmark = pytest.mark.django_db


def test_right_code_deletes_and_counts(participant):
    _, outcome = participant()
    page = Client(HTTP_ACCEPT_LANGUAGE="en").post("/withdraw/", {"code": outcome.receipt_code.lower()})
    assert page.status_code == 200 and "its answers have now been deleted" in page.content.decode()
    assert Response.objects.count() == 0
    assert StudyCounter.objects.get(kind=CounterKind.WITHDRAWN).count == 1


def test_wrong_code_gets_the_same_answer_and_changes_nothing(participant):
    _, outcome = participant()
    right_prefix = outcome.receipt_code.split("-")[0]
    wrong = right_prefix + "-AAAAA-BBBBB-CCCCC-DDDDD-EEEEE-FFF"
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    wrong_page = client.post("/withdraw/", {"code": wrong})
    assert Response.objects.count() == 1
    right_page = client.post("/withdraw/", {"code": outcome.receipt_code})

    def strip(html: str) -> str:  # the CSRF token is masked afresh on every page
        return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)

    assert wrong_page.status_code == right_page.status_code == 200
    assert strip(wrong_page.content.decode()) == strip(right_page.content.decode())


def test_after_the_freeze_date_answers_stay(participant, shipped_study):
    _, outcome = participant()
    shipped_study.data_freeze_on = date.today() - timedelta(days=1)
    shipped_study.save()
    page = Client(HTTP_ACCEPT_LANGUAGE="en").post("/withdraw/", {"code": outcome.receipt_code})
    assert "can no longer be withdrawn" in page.content.decode()
    assert Response.objects.count() == 1


def test_attempts_are_rate_limited_without_any_personal_key(participant, monkeypatch):
    monkeypatch.setattr(response_services, "WITHDRAW_ATTEMPTS_PER_MINUTE", 3)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    statuses = [
        client.post("/withdraw/", {"code": "1-AAAAA-BBBBB-CCCCC-DDDDD-EEEEE"}).status_code for _ in range(5)
    ]
    assert statuses == [200, 200, 200, 429, 429]
    from survey.models import RateBucket

    assert set(RateBucket.objects.values_list("name", flat=True)) == {"withdraw"}


def test_receipt_is_stored_only_as_a_keyed_hash(participant):
    _, outcome = participant()
    response = Response.objects.get()
    assert outcome.receipt_code not in str(response.__dict__)
    assert response.receipt_hash == response_services.keyed_hash(outcome.receipt_code, "receipt")
