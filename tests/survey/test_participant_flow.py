"""The participant's path: consent, pages, logic, resume, completion — through the real views."""

import re

import pytest
from django.test import Client

from survey.models import CounterKind, PendingResponse, StudyCounter

pytestmark = pytest.mark.django_db

CONSENT_KEY = re.compile(r'name="consent_key" value="([^"]+)"')


def agree(client: Client, url: str):
    key = CONSENT_KEY.search(client.get(url).content.decode()).group(1)
    return client.post(url, {"consent_key": key, "agree": "yes", "action": "agree"})


@pytest.mark.parametrize(("accept", "expected"), [("zh-CN,zh;q=0.9", "zh"), ("en-GB,en;q=0.8", "en")])
def test_complete_the_shipped_study(participant, accept, expected):
    _client, outcome = participant(language=accept)
    assert outcome.completed and len(outcome.receipt_code.replace("-", "")) >= 27  # >= 128 bits in base32
    response = PendingResponse.objects.get()
    assert response.status == "complete" and response.language == expected
    assert response.consent.version == 1
    assert {"gen_trust", "approve_scs", "le_scs", "age_band"} <= set(response.answers)
    assert response.display["arms"]["le_scs"] in {"control", "treatment"}
    assert response.receipt_hash
    assert response.duration_seconds is not None and response.duration_seconds % 30 == 0


def test_decline_keeps_nothing_but_a_count(shipped_study):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    url = f"/s/{shipped_study.slug}/"
    key = CONSENT_KEY.search(client.get(url).content.decode()).group(1)
    page = client.post(url, {"consent_key": key, "action": "decline"})
    assert page.status_code == 200 and "Nothing you entered has been kept" in page.content.decode()
    assert PendingResponse.objects.count() == 0
    assert StudyCounter.objects.get(kind=CounterKind.DECLINED).count == 1


@pytest.mark.parametrize(
    ("accept", "words"),
    [
        ("en-GB,en;q=0.8", ["Who is doing this research", "The Candid project", "Ethics approval", "DEMO"]),
        ("zh-CN,zh;q=0.9", ["谁在开展这项研究", "Candid 项目", "伦理审查批准", "信任与评分体系"]),
    ],
)
def test_consent_page_names_who_is_asking_in_the_participants_language(shipped_study, accept, words):
    html = Client(HTTP_ACCEPT_LANGUAGE=accept).get(f"/s/{shipped_study.slug}/").content.decode()
    for word in words:
        assert word in html


def test_consent_must_be_ticked_not_pre_ticked(shipped_study):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    url = f"/s/{shipped_study.slug}/"
    html = client.get(url).content.decode()
    assert 'type="checkbox" name="agree"' in html and "checked" not in html.split('name="agree"')[1][:80]
    key = CONSENT_KEY.search(html).group(1)
    page = client.post(url, {"consent_key": key, "action": "agree"})
    assert page.status_code == 200 and "tick the box" in page.content.decode()
    assert PendingResponse.objects.count() == 0


def test_resume_cookie_expires_with_the_study(shipped_study):
    from datetime import date, timedelta

    shipped_study.closes_on = date.today() + timedelta(days=2)
    shipped_study.save()
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    agree(client, f"/s/{shipped_study.slug}/")
    cookie = client.cookies[f"candid_{shipped_study.pk}"]
    assert int(cookie["max-age"]) == 3 * 24 * 60 * 60
    assert (
        cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["path"] == f"/s/{shipped_study.slug}/"
    )


def test_stop_and_resume_in_the_same_browser(shipped_study):

    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    first = agree(client, f"/s/{shipped_study.slug}/")
    page_one = first["Location"]
    returning = Client(HTTP_ACCEPT_LANGUAGE="en")
    returning.cookies = client.cookies  # the tab is closed; the browser keeps its cookies
    resumed = returning.get(f"/s/{shipped_study.slug}/")
    assert resumed.status_code == 302 and resumed["Location"] == page_one
    assert PendingResponse.objects.count() == 1


def test_relevance_piping_back_and_stale_answers(logic_study):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    agree(client, "/s/logic/")
    assert client.post("/s/logic/p/0/", {"q1": "yes", "q2": "3"})["Location"] == "/s/logic/p/1/"
    page = client.get("/s/logic/p/1/").content.decode()
    assert "You said Yes. How many?" in page  # piped, as the choice label
    assert client.post("/s/logic/p/1/", {"q3": "5"})["Location"] == "/s/logic/p/2/"
    # Back to page one, change q1: q3 no longer applies and its stored answer is cleared.
    assert client.post("/s/logic/p/2/", {"action": "back"})["Location"] == "/s/logic/p/1/"
    client.get("/s/logic/p/0/")
    assert client.post("/s/logic/p/0/", {"q1": "no"})["Location"] == "/s/logic/p/2/"
    answers = PendingResponse.objects.get().answers
    assert answers == {"q1": "no"}
    # The skipped page cannot be opened by hand.
    assert client.get("/s/logic/p/1/")["Location"] == "/s/logic/p/2/"


def test_back_keeps_what_was_typed_on_the_page_unchecked(logic_study):
    """Issue 10, item 13: "Back" threw away what the participant had typed on the current page."""
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    agree(client, "/s/logic/")
    assert client.post("/s/logic/p/0/", {"q1": "yes", "q2": "3"})["Location"] == "/s/logic/p/1/"
    # On page 2, type an answer that is not even valid yet, then go back.
    back = client.post("/s/logic/p/1/", {"q3": "-12", "action": "back"})
    assert back["Location"] == "/s/logic/p/0/"
    assert PendingResponse.objects.get().answers == {"q1": "yes", "q2": 3}  # nothing unchecked is saved
    html = client.get("/s/logic/p/0/").content.decode()
    assert 'value="3"' in html  # page 1 shows its saved answers as before
    assert client.post("/s/logic/p/0/", {"q1": "yes", "q2": "3"})["Location"] == "/s/logic/p/1/"
    assert 'value="-12"' in client.get("/s/logic/p/1/").content.decode()  # as typed
    # Once the page is saved, the draft is gone and the saved answer is what shows.
    assert client.post("/s/logic/p/1/", {"q3": "4"})["Location"] == "/s/logic/p/2/"
    client.post("/s/logic/p/2/", {"action": "back"})
    html = client.get("/s/logic/p/1/").content.decode()
    assert 'value="4"' in html and 'value="-12"' not in html


def test_back_keeps_choices_cleared_on_the_page(logic_study):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    agree(client, "/s/logic/")
    client.post("/s/logic/p/0/", {"q1": "yes", "q2": "3"})
    client.post("/s/logic/p/1/", {"q3": "5"})
    client.post("/s/logic/p/2/", {"action": "back"})
    client.post("/s/logic/p/1/", {"action": "back"})  # q3 emptied, then Back
    client.post("/s/logic/p/0/", {"q1": "yes", "q2": "3"})
    html = client.get("/s/logic/p/1/").content.decode()
    assert 'value="5"' not in html  # what was typed (nothing) wins over the saved 5
    assert PendingResponse.objects.get().answers["q3"] == 5  # until the page is saved again


def test_same_page_relevance_is_judged_on_the_server(logic_study):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    agree(client, "/s/logic/")
    # q2 (same page) only applies when q1 = yes: with q1 = no its value is neither required nor kept.
    assert client.post("/s/logic/p/0/", {"q1": "no", "q2": "7"}).status_code == 302
    assert PendingResponse.objects.get().answers == {"q1": "no"}


def test_validation_errors_reshow_the_page_with_input_kept(logic_study):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    agree(client, "/s/logic/")
    page = client.post("/s/logic/p/0/", {"q1": "yes", "q2": "-4"})
    html = page.content.decode()
    assert page.status_code == 200
    assert 'class="error-summary"' in html and 'href="#id_q2"' in html
    assert "Not negative" in html  # the constraint message in the participant's language
    assert 'value="-4"' in html and 'value="yes"' in html.split('id="q-q1"')[1][:600]
    assert PendingResponse.objects.get().answers == {}
    required = client.post("/s/logic/p/0/", {"q2": "1"}).content.decode()
    assert "This field is required." in required


def test_chinese_participants_get_chinese_messages(logic_study):
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-CN")
    agree(client, "/s/logic/")
    html = client.post("/s/logic/p/0/", {"q1": "yes", "q2": "-1"}).content.decode()
    assert "不能为负" in html and "有问题需要处理" in html
    assert "这个字段是必填项。" in client.post("/s/logic/p/0/", {}).content.decode()


def test_language_can_be_switched_on_any_page(logic_study):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    agree(client, "/s/logic/")
    assert client.get("/s/logic/p/0/?lang=zh").status_code == 302
    assert PendingResponse.objects.get().language == "zh"
    assert "问1" in client.get("/s/logic/p/0/").content.decode()


def test_randomisation_is_stored_and_list_arms_are_balanced(participant):
    for seed in range(8):
        participant(seed=seed)
    arms = [r.display["arms"]["le_scs"] for r in PendingResponse.objects.all()]
    assert sorted(arms) == ["control"] * 4 + ["treatment"] * 4
    displays = [r.display for r in PendingResponse.objects.all()]
    assert all({"seed", "sections", "items", "options", "reversed", "arms"} <= set(d) for d in displays)
    assert len({tuple(d["options"]["turn_to"]) for d in displays}) > 1  # option order randomised
    # "Nobody" is anchored: randomisation never moves it from the end of the list.
    assert {d["options"]["turn_to"][-1] for d in displays} == {"nobody"}
    treated = [r for r in PendingResponse.objects.all() if r.display["arms"]["le_scs"] == "treatment"]
    assert all(0 <= r.answers["le_scs"] <= 4 for r in treated)


def test_closed_and_unopened_studies_say_so(shipped_study):
    from datetime import date, timedelta

    shipped_study.closes_on = date.today() - timedelta(days=1)
    shipped_study.save()
    page = Client(HTTP_ACCEPT_LANGUAGE="en").get(f"/s/{shipped_study.slug}/")
    assert page.status_code == 200 and "This survey is closed" in page.content.decode()
    shipped_study.closes_on, shipped_study.opens_on = None, date.today() + timedelta(days=3)
    shipped_study.save()
    assert (
        "has not opened yet"
        in Client(HTTP_ACCEPT_LANGUAGE="en").get(f"/s/{shipped_study.slug}/").content.decode()
    )


def test_target_size_closes_the_study(participant, shipped_study):
    shipped_study.target_size = 1
    shipped_study.save()
    participant()
    assert (
        "This survey is closed"
        in Client(HTTP_ACCEPT_LANGUAGE="en").get(f"/s/{shipped_study.slug}/").content.decode()
    )


def test_panel_completion_link_and_the_panel_id_is_never_stored(participant, shipped_study):
    sample = shipped_study.samples.get(slug="west")
    sample.completion_redirect_url = "https://panel.example/done?cc={code}"
    sample.completion_code = "C0MPL3T3"
    sample.save()
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    from survey.simulation import Respondent, walk

    outcome = walk(
        client, f"/s/{shipped_study.slug}/west/?PROLIFIC_PID=panel-id-5f2b9c", Respondent(3, "west")
    )
    assert outcome.completed
    response = PendingResponse.objects.get()
    assert response.sample == sample
    assert "panel-id-5f2b9c" not in str(response.__dict__)


def test_participant_pages_send_strict_headers(participant, shipped_study):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    first = agree(client, f"/s/{shipped_study.slug}/")
    page = client.get(first["Location"])
    policy = page["Content-Security-Policy"]
    for directive in ("object-src 'none'", "base-uri 'none'", "default-src 'self'", "frame-ancestors 'none'"):
        assert directive in policy
    assert page["X-Frame-Options"] == "DENY"
    assert "no-store" in page["Cache-Control"]
    assert "https://" not in page.content.decode().split("<main")[0]  # no third-party assets in the head
