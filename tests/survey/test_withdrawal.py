"""Withdrawal with the receipt code: asks before it deletes, says what it did, deletes the answers until
the freeze date, catches typos by the check characters, cannot be blocked by a stranger, and reads any
code a person may type (older codes without check characters too)."""

import re
from datetime import date, timedelta

import pytest
from django.test import Client

from survey.models import CounterKind, PendingResponse, RateBucket, ReleaseBatch, Response, StudyCounter
from survey.receipts import ReceiptCodeError, parse_receipt_code
from survey.services import responses as response_services
from tests.helpers import close_fieldwork

pytestmark = pytest.mark.django_db

WELL_FORMED_MISS = "-AAAAA-BBBBB-CCCCC-DDDDD-EEEEE-FFA"  # the older form of a code, matching nothing
DELETED = "Your answers have been deleted for good"
NOT_FOUND = "No answers are kept under this code"


def withdraw(client: Client, code: str):
    """The code, then the confirmation."""
    return client.post("/withdraw/", {"code": code, "action": "confirm"})


def strip(html: str) -> str:  # the CSRF token is masked afresh on every page
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)


def test_right_code_asks_first_then_deletes_and_counts(participant, shipped_study):
    _, outcome = participant()
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    asked = client.post(
        "/withdraw/", {"code": outcome.receipt_code.lower(), "action": "check"}
    ).content.decode()
    assert "Delete these answers?" in asked and f"“{shipped_study.title_in('en')}”" in asked
    answers = len(PendingResponse.objects.get().answers)
    assert f"({answers} answers)" in asked and 'value="confirm"' in asked
    assert PendingResponse.objects.count() == 1  # nothing deleted before the confirmation
    page = withdraw(client, outcome.receipt_code.lower())
    assert page.status_code == 200 and DELETED in page.content.decode()
    assert PendingResponse.objects.count() == 0
    assert StudyCounter.objects.get(kind=CounterKind.WITHDRAWN).count == 1


def test_a_released_response_is_withdrawn_too(participant, shipped_study):
    _, outcome = participant()
    close_fieldwork(shipped_study)
    assert Response.objects.count() == 1 and PendingResponse.objects.count() == 0
    page = withdraw(Client(HTTP_ACCEPT_LANGUAGE="en"), outcome.receipt_code)
    assert DELETED in page.content.decode()
    assert Response.objects.count() == 0
    assert StudyCounter.objects.get(kind=CounterKind.WITHDRAWN).count == 1


def test_wrong_code_and_the_same_code_again_say_nothing_is_kept(participant):
    """Issue 14: a mistyped code, the right code and the same code again all got the same reply."""
    _, outcome = participant()
    wrong = outcome.receipt_code.split("-")[0] + WELL_FORMED_MISS
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert NOT_FOUND in withdraw(client, wrong).content.decode()
    assert PendingResponse.objects.count() == 1
    assert DELETED in withdraw(client, outcome.receipt_code).content.decode()
    again = withdraw(client, outcome.receipt_code).content.decode()
    assert NOT_FOUND in again and DELETED not in again


WHOLE_CODE = "This code has a typo. Please check the whole code"


def test_a_typo_is_caught_before_lookup_and_its_group_named(participant):
    _, outcome = participant()
    code = outcome.receipt_code
    assert re.fullmatch(r"\d+(-[A-Z2-7]{5}){6}", code)  # the check characters fill the last group
    prefix, groups = code.split("-")[0], code.split("-")[1:]
    for group in range(6):
        letters = list(groups[group])
        letters[2] = "A" if letters[2] != "A" else "B"
        typed = "-".join([prefix, *groups[:group], "".join(letters), *groups[group + 1 :]])
        page = Client(HTTP_ACCEPT_LANGUAGE="en").post("/withdraw/", {"code": typed, "action": "confirm"})
        html = page.content.decode()
        # The right group, or (when a swap elsewhere explains the typo as well) the whole code.
        assert page.status_code == 400 and (f"typo in group {group + 1}" in html or WHOLE_CODE in html)
    body = "".join(groups)
    for position in range(29):  # every swap of two neighbours: the group cannot be known
        swapped = body[:position] + body[position + 1] + body[position] + body[position + 2 :]
        if swapped != body:
            html = withdraw(Client(HTTP_ACCEPT_LANGUAGE="en"), f"{prefix}-{swapped}").content.decode()
            assert WHOLE_CODE in html and "typo in group" not in html
    assert PendingResponse.objects.count() == 1
    assert not RateBucket.objects.exists()  # a typo is not a guess: nothing was looked up


def test_an_older_code_without_check_characters_still_withdraws(participant):
    _, outcome = participant()
    older = outcome.receipt_code[:-2]  # the code as it was written before the check characters
    assert parse_receipt_code(older) == parse_receipt_code(outcome.receipt_code)
    assert DELETED in withdraw(Client(HTTP_ACCEPT_LANGUAGE="en"), older).content.decode()
    assert PendingResponse.objects.count() == 0


def test_after_the_freeze_date_answers_stay(participant, shipped_study):
    _, outcome = participant()
    shipped_study.data_freeze_on = date.today() - timedelta(days=1)
    shipped_study.save()
    page = withdraw(Client(HTTP_ACCEPT_LANGUAGE="en"), outcome.receipt_code)
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
    assert outcomes == {"not_found", "rate_limited"}  # the flood itself is slowed down
    page = withdraw(Client(HTTP_ACCEPT_LANGUAGE="en"), outcome.receipt_code)
    assert page.status_code == 200 and DELETED in page.content.decode()
    assert PendingResponse.objects.count() == 0


@pytest.mark.parametrize(
    ("typed", "status", "message"),
    [
        ("²" + WELL_FORMED_MISS, 200, NOT_FOUND),  # was a 500
        ("", 400, "Please enter the receipt code"),
        ("12-ABCDE-0BCDE-ABCDE-ABCDE-ABCDE-ABA", 400, "“0” cannot be part of it"),
        ("12-ÄBCDE-ABCDE-ABCDE-ABCDE-ABCDE-ABA", 400, "“Ä” cannot be part of it"),
        ("12-ABCDE-ABCDE", 400, "has 30 letters and digits after the study number; this one has 10"),
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
    assert "回执码在研究编号之后有 30 个字母和数字" in page.content.decode()


def test_a_code_typed_in_full_width_or_with_other_dashes_still_withdraws(participant):
    _, outcome = participant()
    full_width = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in outcome.receipt_code)
    typed = full_width.replace("－", " – ").lower()
    page = withdraw(Client(HTTP_ACCEPT_LANGUAGE="en"), typed)
    assert DELETED in page.content.decode()
    assert PendingResponse.objects.count() == 0


def test_the_code_format_is_read_back_exactly():
    code = response_services.receipt_code_for_token(study_id=7, token="a-browser-token")
    assert code == response_services.receipt_code_for_token(study_id=7, token="a-browser-token")
    assert re.fullmatch(r"7(-[A-Z2-7]{5}){6}", code)
    canonical = code[:-2]  # what is hashed: the study number and the 28 random characters
    assert parse_receipt_code(code).text == canonical
    assert parse_receipt_code(code.replace("-", "")).text == canonical  # typed without hyphens
    with pytest.raises(ReceiptCodeError) as error:
        parse_receipt_code("7-" + "A" * 27)
    assert error.value.code == "length" and error.value.detail == {"found": 27, "expected": 30}


@pytest.mark.parametrize("token", ["another-token", "a-third-token", "a-fourth-token"])
def test_a_group_is_named_only_when_certain_and_every_double_typo_caught(token):
    """A single wrong character is located (its group named) unless a swap of neighbours explains
    the typed code as well; a group is never named wrongly; two swapped neighbours never name one."""
    from survey.receipts import ALPHABET

    code = response_services.receipt_code_for_token(study_id=31, token=token)
    prefix, body = code.split("-", 1)[0], code.split("-", 1)[1].replace("-", "")
    located = unlocated = 0
    for position in range(30):
        for letter in ALPHABET.replace(body[position], ""):
            with pytest.raises(ReceiptCodeError) as error:
                parse_receipt_code(prefix + "-" + body[:position] + letter + body[position + 1 :])
            assert error.value.code == "typo" and error.value.detail in ({"group": position // 5 + 1}, {})
            located += bool(error.value.detail)
            unlocated += not error.value.detail
    assert located > 9 * unlocated  # ambiguity is the exception (about 3 in 100)
    for position in range(29):  # neighbours swapped: caught, and no group named
        swapped = body[:position] + body[position + 1] + body[position] + body[position + 2 :]
        if swapped != body:
            with pytest.raises(ReceiptCodeError) as error:
                parse_receipt_code(f"{prefix}-{swapped}")
            assert error.value.code == "typo" and error.value.detail == {}
    with pytest.raises(ReceiptCodeError) as error:
        parse_receipt_code("32-" + body)  # a typo in the study number: named unless a swap explains it
    assert error.value.detail == ({} if token == "another-token" else {"group": 0})


def test_receipt_is_stored_only_as_a_keyed_hash(participant):
    _, outcome = participant()
    response = PendingResponse.objects.get()
    assert outcome.receipt_code not in str(response.__dict__)
    assert response.receipt_hash == response_services.keyed_hash(outcome.receipt_code[:-2], "receipt")


def test_a_withdrawal_that_leaves_a_batch_short_merges_it_with_its_neighbour(shipped_study, settings):
    from tests.survey.test_releases import complete_many

    settings.CANDID_RELEASE_K = 10
    codes = complete_many(shipped_study, 20)  # two batches of 10
    assert list(ReleaseBatch.objects.values_list("size", flat=True)) == [10, 10]
    first_batch = ReleaseBatch.objects.order_by("pk").first()
    in_first = Response.objects.filter(batch=first_batch).values_list("receipt_hash", flat=True)
    code = next(c for c in codes if response_services.receipt_hash(c) in set(in_first))
    assert response_services.response_withdraw(code=code).outcome == "deleted"
    merged = ReleaseBatch.objects.get()
    assert merged.size == 19 == Response.objects.filter(batch=merged).count()


def test_the_thank_you_page_offers_the_code_as_a_file_and_never_says_until_at_any_time(shipped_study):
    from urllib.parse import unquote

    from survey.simulation import Respondent, walk
    from tests.survey.test_participant_language import Recorder

    shipped_study.data_freeze_on = None
    shipped_study.save()
    client = Recorder(HTTP_ACCEPT_LANGUAGE="en")
    outcome = walk(client, f"/s/{shipped_study.slug}/west/", Respondent(5, "west"))
    thanks = client.pages[-1][1]
    assert "at any time" not in thanks and "while the study keeps them" in thanks
    saved = re.search(r'href="data:text/plain;charset=utf-8,([^"]+)" download="receipt-\d+\.txt"', thanks)
    assert saved and outcome.receipt_code in unquote(saved.group(1))
    assert "http://testserver/withdraw/" in unquote(saved.group(1))
    assert 'id="copy-receipt"' in thanks and "hidden" in thanks.split('id="copy-receipt"')[1].split(">")[0]
