"""Resume on any device (issue 14): a code to continue, shown on request, entered on the study's link
in another browser; stored only as a keyed hash, used once, checked for typos before lookup, its
misses limited without a site-wide lock, gone when the response completes or the study closes."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.test import Client

from survey.models import PendingResponse, RateBucket
from survey.receipts import keyed_hash, parse_receipt_code
from survey.services import responses as response_services
from tests.survey.test_participant_flow import agree

pytestmark = pytest.mark.django_db

CODE = re.compile(r'id="continue-code">([^<]+)<')


def ask_code(client: Client, slug: str = "logic") -> str:
    page = client.post(f"/s/{slug}/continue/")
    assert page.status_code == 200
    return CODE.search(page.content.decode()).group(1).strip()


def enter_code(client: Client, code: str, slug: str = "logic"):
    html = client.get(f"/s/{slug}/").content.decode()
    assert 'id="continue-code"' in html  # the consent page offers it
    return client.post(f"/s/{slug}/", {"action": "continue", "code": code})


def test_a_phone_starts_and_a_laptop_finishes(logic_study):
    phone = Client(HTTP_ACCEPT_LANGUAGE="en")
    agree(phone, "/s/logic/")
    assert phone.post("/s/logic/p/0/", {"q1": "yes", "q2": "3"})["Location"] == "/s/logic/p/1/"
    code = ask_code(phone)
    assert re.fullmatch(r"\d+(-[A-Z2-7]{5}){6}", code)
    assert ask_code(phone) == code  # asking again (a double click) shows the same code
    response = PendingResponse.objects.get()
    assert response.continue_hash == keyed_hash(parse_receipt_code(code).text, "continue")
    assert code not in str(PendingResponse.objects.values().get())

    laptop = Client(HTTP_ACCEPT_LANGUAGE="en")
    moved = enter_code(laptop, code.lower().replace("-", " "))
    assert moved.status_code == 302 and moved["Location"] == "/s/logic/p/1/"
    assert "You said Yes" in laptop.get("/s/logic/p/1/").content.decode()  # the answers came along
    assert laptop.post("/s/logic/p/1/", {"q3": "5"})["Location"] == "/s/logic/p/2/"
    # The phone's cookie no longer opens the response, and the code is spent.
    assert phone.get("/s/logic/p/1/").status_code == 302
    late = phone.post("/s/logic/p/1/", {"q3": "6"})
    assert "This visit to the survey has ended" in late.content.decode()
    assert PendingResponse.objects.get().answers["q3"] == 5
    again = enter_code(Client(HTTP_ACCEPT_LANGUAGE="en"), code)
    assert again.status_code == 400 and "A code works once" in again.content.decode()
    assert PendingResponse.objects.get().continue_hash is None
    assert PendingResponse.objects.count() == 1


def typo_detail(code: str) -> dict:
    from survey.receipts import ReceiptCodeError, parse_receipt_code

    try:
        parse_receipt_code(code)
    except ReceiptCodeError as error:
        return error.detail
    return {}


def test_a_typo_is_named_before_lookup_and_misses_are_limited_without_blocking_a_real_code(
    logic_study, monkeypatch
):
    phone = Client(HTTP_ACCEPT_LANGUAGE="en")
    agree(phone, "/s/logic/")
    code = ask_code(phone)
    groups = code.split("-")
    swapped = [*groups[:3], groups[3][1] + groups[3][0] + groups[3][2:], *groups[4:]]
    # One wrong character in group 2 (one of the ~97% that no swap of neighbours explains as well).
    for letter in "ABCDEFGH":
        candidate = [*groups[:2], letter + groups[2][1:], *groups[3:]]
        if candidate != groups and typo_detail("-".join(candidate)) == {"group": 2}:
            groups = candidate
            break
    if swapped[3] != groups[3]:  # two swapped neighbours: the whole code, no group
        whole = enter_code(Client(HTTP_ACCEPT_LANGUAGE="en"), "-".join(swapped)).content.decode()
        assert "check the whole code" in whole and "typo in group" not in whole
    typo = enter_code(Client(HTTP_ACCEPT_LANGUAGE="en"), "-".join(groups))
    assert typo.status_code == 400 and "typo in group 2" in typo.content.decode()
    # In Chinese too, and about "this code", not a receipt code (the words are shared with withdrawal).
    chinese = enter_code(Client(HTTP_ACCEPT_LANGUAGE="zh-CN"), "-".join(groups)).content.decode()
    assert "此代码的第 2 组有输入错误" in chinese and "回执码" not in chinese
    assert not RateBucket.objects.exists()
    monkeypatch.setattr(response_services, "WITHDRAW_MISSES_PER_MINUTE", 2)
    stranger = Client(HTTP_ACCEPT_LANGUAGE="en")
    other = response_services.continue_code_for_token(study_id=logic_study.pk, token="nobody")
    statuses = [enter_code(stranger, other).status_code for _ in range(4)]
    assert statuses == [400, 400, 429, 429]
    assert enter_code(Client(HTTP_ACCEPT_LANGUAGE="en"), code).status_code == 302  # never limited


def test_the_code_is_forgotten_on_completion_and_refused_once_the_study_closes(logic_study):
    phone = Client(HTTP_ACCEPT_LANGUAGE="en")
    agree(phone, "/s/logic/")
    code = ask_code(phone)
    logic_study.closes_on = date.today() - timedelta(days=1)
    logic_study.save()
    closed = Client(HTTP_ACCEPT_LANGUAGE="en").post("/s/logic/", {"action": "continue", "code": code})
    assert "This survey is closed" in closed.content.decode() and PendingResponse.objects.get().continue_hash
    logic_study.closes_on = None
    logic_study.save()
    phone.post("/s/logic/p/0/", {"q1": "no"})
    phone.post("/s/logic/p/2/", {"q4": "1"})
    assert PendingResponse.objects.get().status == "complete"
    assert PendingResponse.objects.get().continue_hash is None


def test_asking_for_a_code_needs_a_response_in_progress(logic_study):
    assert Client().post("/s/logic/continue/").status_code == 403
    assert Client().get("/s/logic/continue/").status_code == 405


def test_continue_on_another_device_keeps_what_was_typed_on_the_page(logic_study):
    """The button sends the page form: what was typed (unchecked, as Back keeps it) comes along."""
    phone = Client(HTTP_ACCEPT_LANGUAGE="en")
    agree(phone, "/s/logic/")
    phone.post("/s/logic/p/0/", {"q1": "yes", "q2": "3"})
    html = phone.get("/s/logic/p/1/").content.decode()
    assert re.search(r'<button type="submit" form="page-form" name="action" value="continue"', html)
    shown = phone.post("/s/logic/p/1/", {"q3": "7", "action": "continue"})
    assert shown.status_code == 200
    code = CODE.search(shown.content.decode()).group(1).strip()
    laptop = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert enter_code(laptop, code)["Location"] == "/s/logic/p/1/"
    page = laptop.get("/s/logic/p/1/").content.decode()
    assert re.search(r'name="q3"[^>]*value="7"|value="7"[^>]*name="q3"', page)
    assert "q3" not in PendingResponse.objects.get().answers  # kept as typed, not yet an answer
