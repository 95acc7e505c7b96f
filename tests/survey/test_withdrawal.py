"""Withdrawal with the receipt code: deletes the answers until the freeze date, is no oracle, cannot be
blocked by a stranger, and reads any code a person may type."""

import re
from datetime import date, timedelta

import pytest
from django.test import Client

from survey.models import CounterKind, PendingResponse, RateBucket, ReleaseBatch, Response, StudyCounter
from survey.receipts import ReceiptCodeError, parse_receipt_code
from survey.services import responses as response_services
from tests.helpers import close_fieldwork

pytestmark = pytest.mark.django_db

WELL_FORMED_MISS = "-AAAAA-BBBBB-CCCCC-DDDDD-EEEEE-FFA"  # the form of a code, matching nothing


def strip(html: str) -> str:  # the CSRF token is masked afresh on every page
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)


def test_right_code_deletes_and_counts(participant):
    _, outcome = participant()
    page = Client(HTTP_ACCEPT_LANGUAGE="en").post("/withdraw/", {"code": outcome.receipt_code.lower()})
    assert page.status_code == 200 and "its answers have now been deleted" in page.content.decode()
    assert PendingResponse.objects.count() == 0
    assert StudyCounter.objects.get(kind=CounterKind.WITHDRAWN).count == 1


def test_a_released_response_is_withdrawn_too(participant, shipped_study):
    _, outcome = participant()
    close_fieldwork(shipped_study)
    assert Response.objects.count() == 1 and PendingResponse.objects.count() == 0
    page = Client(HTTP_ACCEPT_LANGUAGE="en").post("/withdraw/", {"code": outcome.receipt_code})
    assert "its answers have now been deleted" in page.content.decode()
    assert Response.objects.count() == 0
    assert StudyCounter.objects.get(kind=CounterKind.WITHDRAWN).count == 1


def test_wrong_code_gets_the_same_answer_and_changes_nothing(participant):
    _, outcome = participant()
    wrong = outcome.receipt_code.split("-")[0] + WELL_FORMED_MISS
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    wrong_page = client.post("/withdraw/", {"code": wrong})
    assert PendingResponse.objects.count() == 1
    right_page = client.post("/withdraw/", {"code": outcome.receipt_code})
    assert wrong_page.status_code == right_page.status_code == 200
    assert strip(wrong_page.content.decode()) == strip(right_page.content.decode())


def test_after_the_freeze_date_answers_stay(participant, shipped_study):
    _, outcome = participant()
    shipped_study.data_freeze_on = date.today() - timedelta(days=1)
    shipped_study.save()
    page = Client(HTTP_ACCEPT_LANGUAGE="en").post("/withdraw/", {"code": outcome.receipt_code})
    assert "can no longer be withdrawn" in page.content.decode()
    assert PendingResponse.objects.count() == 1


def test_misses_are_rate_limited_without_any_personal_key(monkeypatch):
    monkeypatch.setattr(response_services, "WITHDRAW_MISSES_PER_MINUTE", 3)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    statuses = [client.post("/withdraw/", {"code": "1" + WELL_FORMED_MISS}).status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    assert set(RateBucket.objects.values_list("name", flat=True)) == {"withdraw"}


def test_a_thousand_junk_attempts_do_not_stop_a_real_withdrawal(participant):
    """Issue 10, item 7: the limit was for the whole site, so 61 junk codes blocked everyone."""
    _, outcome = participant()
    prefix = outcome.receipt_code.split("-")[0]
    outcomes = {
        response_services.response_withdraw(code=prefix + WELL_FORMED_MISS).outcome for _ in range(1000)
    }
    assert outcomes == {"processed", "rate_limited"}  # the flood itself is slowed down
    page = Client(HTTP_ACCEPT_LANGUAGE="en").post("/withdraw/", {"code": outcome.receipt_code})
    assert page.status_code == 200 and "its answers have now been deleted" in page.content.decode()
    assert PendingResponse.objects.count() == 0


@pytest.mark.parametrize(
    ("typed", "status", "message"),
    [
        ("²" + WELL_FORMED_MISS, 200, "If this code belongs to a response"),  # was a 500
        ("", 400, "Please enter the receipt code"),
        ("12-ABCDE-0BCDE-ABCDE-ABCDE-ABCDE-ABA", 400, "“0” cannot be part of it"),
        ("12-ÄBCDE-ABCDE-ABCDE-ABCDE-ABCDE-ABA", 400, "“Ä” cannot be part of it"),
        ("12-ABCDE-ABCDE", 400, "has 28 letters and digits after the study number; this one has 10"),
        ("ABCDE-ABCDE-ABCDE-ABCDE-ABCDE-ABA", 400, "starts with the study number"),
        ("12-ABCDE-ABCDE-ABCDE-ABCDE-ABCDE-ABC", 400, "No receipt code ends like this one"),
        ("9" * 300 + WELL_FORMED_MISS, 400, "starts with the study number"),
    ],
)
def test_malformed_codes_get_a_clear_message(typed, status, message):
    page = Client(HTTP_ACCEPT_LANGUAGE="en").post("/withdraw/", {"code": typed})
    html = page.content.decode()
    assert page.status_code == status and message in html
    if status == 400:  # shown again, in the field, to be corrected
        assert 'aria-invalid="true"' in html and 'class="error-summary"' in html


def test_chinese_participants_get_the_message_in_chinese():
    page = Client(HTTP_ACCEPT_LANGUAGE="zh-CN").post("/withdraw/", {"code": "12-ABCDE"})
    assert "回执码在研究编号之后有 28 个字母和数字" in page.content.decode()


def test_a_code_typed_in_full_width_or_with_other_dashes_still_withdraws(participant):
    _, outcome = participant()
    full_width = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in outcome.receipt_code)
    typed = full_width.replace("－", " – ").lower()
    page = Client(HTTP_ACCEPT_LANGUAGE="en").post("/withdraw/", {"code": typed})
    assert "its answers have now been deleted" in page.content.decode()
    assert PendingResponse.objects.count() == 0


def test_the_code_format_is_read_back_exactly():
    code = response_services.receipt_code_for_token(study_id=7, token="a-browser-token")
    assert code == response_services.receipt_code_for_token(study_id=7, token="a-browser-token")
    assert re.fullmatch(r"7(-[A-Z2-7]{5}){5}-[A-Z2-7]{3}", code)
    assert parse_receipt_code(code).text == code
    assert parse_receipt_code(code.replace("-", "")).text == code  # typed without hyphens
    with pytest.raises(ReceiptCodeError) as error:
        parse_receipt_code("7-" + "A" * 27)
    assert error.value.code == "length" and error.value.detail == {"found": 27, "expected": 28}


def test_receipt_is_stored_only_as_a_keyed_hash(participant):
    _, outcome = participant()
    response = PendingResponse.objects.get()
    assert outcome.receipt_code not in str(response.__dict__)
    assert response.receipt_hash == response_services.keyed_hash(outcome.receipt_code, "receipt")


def test_a_withdrawal_that_leaves_a_batch_short_merges_it_with_its_neighbour(shipped_study, settings):
    from tests.survey.test_releases import complete_many

    settings.CANDID_RELEASE_K = 10
    codes = complete_many(shipped_study, 20)  # two batches of 10
    assert list(ReleaseBatch.objects.values_list("size", flat=True)) == [10, 10]
    first_batch = ReleaseBatch.objects.order_by("pk").first()
    in_first = Response.objects.filter(batch=first_batch).values_list("receipt_hash", flat=True)
    code = next(c for c in codes if response_services.keyed_hash(c, "receipt") in set(in_first))
    assert response_services.response_withdraw(code=code).outcome == "processed"
    merged = ReleaseBatch.objects.get()
    assert merged.size == 19 == Response.objects.filter(batch=merged).count()
