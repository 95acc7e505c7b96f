"""Bad input at the participant pages: a clear message or a 4xx, never a 5xx, and nothing changed."""

import re
import threading
from http.cookies import SimpleCookie
from urllib.parse import urlencode

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from survey.models import PendingResponse, Response
from tests.helpers import FUZZ_EXAMPLES

pytestmark = pytest.mark.django_db

CONSENT_KEY = re.compile(r'name="consent_key" value="([^"]+)"')


def started(study, language="en"):
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    url = f"/s/{study.slug}/"
    key = CONSENT_KEY.search(client.get(url).content.decode()).group(1)
    first = client.post(url, {"consent_key": key, "agree": "yes", "action": "agree"})
    return client, first["Location"]


def snapshot():
    pending = [(str(r.pk), r.answers, r.position, r.status) for r in PendingResponse.objects.order_by("pk")]
    return pending, list(Response.objects.order_by("pk").values_list("pk", "answers"))


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        ({"gen_trust": "most_trusted", "no_such_question": "x"}, 400, "not one this page expects"),
        ({"gen_trust": "definitely", "trust_family": "somewhat"}, 200, "Select a valid choice"),
        ({"gen_trust": ["most_trusted", "be_careful"]}, 400, "not one this page expects"),
    ],
)
def test_tampered_page_posts_change_nothing(shipped_study, data, status, message):
    client, page_url = started(shipped_study)
    before = snapshot()
    page = client.post(page_url, data)
    assert page.status_code == status and message in page.content.decode()
    assert snapshot() == before


def test_oversized_and_mistyped_answers_are_errors(shipped_study):
    from survey.simulation import Respondent, fill, read_form

    client, page_url = started(shipped_study)
    respondent = Respondent(5, "west")
    # Walk to the last page, then tamper with its text and number fields.
    for _ in range(10):
        html = client.get(page_url).content.decode()
        if 'name="comments"' in html:
            break
        data = fill(read_form(html), respondent, {})
        page_url = client.post(page_url, data)["Location"]
    data = fill(read_form(html), respondent, {})
    before = snapshot()
    too_long = client.post(page_url, {**data, "comments": "x" * 6000}).content.decode()
    assert "Ensure this value has at most 5000 characters" in too_long
    assert snapshot() == before


def test_page_out_of_order_is_refused(shipped_study):
    client, _page_url = started(shipped_study)
    before = snapshot()
    page = client.post(f"/s/{shipped_study.slug}/p/5/", {"approve_scs": "neutral"})
    assert page.status_code == 409 and "not available yet" in page.content.decode()
    assert client.get(f"/s/{shipped_study.slug}/p/5/").status_code == 302
    assert snapshot() == before


def test_missing_csrf_token_is_a_friendly_403(shipped_study):
    client = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en")
    page = client.post(f"/s/{shipped_study.slug}/", {"action": "agree", "agree": "yes"})
    assert page.status_code == 403 and "Reload the page" in page.content.decode()
    assert PendingResponse.objects.count() == 0


def test_forged_consent_key_is_refused(shipped_study):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    page = client.post(
        f"/s/{shipped_study.slug}/", {"consent_key": "forged", "agree": "yes", "action": "agree"}
    )
    assert page.status_code == 400 and PendingResponse.objects.count() == 0


def test_resume_token_of_another_study_is_refused(shipped_study, admin_user_):
    from survey.services.questionnaires import consent_create, questionnaire_import, questionnaire_publish
    from tests.specs import consent_details, tiny_spec

    other = questionnaire_import(spec=tiny_spec(), owner=admin_user_, study_slug="other")
    questionnaire_publish(
        version=other,
        consent=consent_create(study=other.study, texts={"en": "C", "zh": "C"}, **consent_details()),
    )
    client, _ = started(shipped_study)
    stolen = client.cookies[f"candid_{shipped_study.pk}"].value
    intruder = Client(HTTP_ACCEPT_LANGUAGE="en")
    intruder.cookies[f"candid_{other.study.pk}"] = stolen
    before = snapshot()
    page = intruder.post("/s/other/p/0/", {"q1": "yes"})
    assert page.status_code == 403 and snapshot() == before


ENDPOINTS = (
    "entry GET",
    "entry POST",
    "sample entry POST",
    "page GET",
    "page POST",
    "withdraw GET",
    "withdraw POST",
)
FIELDS = [
    "gen_trust",
    "trust_family",
    "le_scs",
    "turn_to",
    "scs_comfort",
    "trust_priorities__laws",
    "action",
    "agree",
    "consent_key",
    "code",
    "shown",
    "comments",
    "age_band",
]


@pytest.mark.fuzz
@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    endpoint=st.sampled_from(ENDPOINTS),
    begun=st.booleans(),
    page=st.integers(0, 60),
    sample=st.sampled_from(["china", "west", "nowhere"]),
    accept_language=st.text(max_size=30),
    query=st.dictionaries(
        st.sampled_from(["lang", "PROLIFIC_PID", "s", "page"]), st.text(max_size=20), max_size=3
    ),
    data=st.dictionaries(
        st.one_of(st.sampled_from(FIELDS), st.text(max_size=12)),
        st.one_of(
            st.sampled_from(["agree", "decline", "next", "back", "yes", "en", "zh"]),
            st.text(max_size=40),
            st.integers(-(10**12), 10**12).map(str),
            st.lists(st.text(max_size=8), max_size=3),
        ),
        max_size=6,
    ),
)
def test_every_participant_endpoint_survives_generated_garbage(
    shipped_study, endpoint, begun, page, sample, accept_language, query, data
):
    """Consent, pages, language switch and withdrawal, with or without a response under way.

    Each case runs in a transaction rolled back at its end, so cases do not pile up responses (and
    the 10,000-case run of ``make fuzz`` stays linear)."""
    with transaction.atomic():
        _poke(shipped_study, endpoint, begun, page, sample, accept_language, query, data)
        transaction.set_rollback(True)


def _poke(shipped_study, endpoint, begun, page, sample, accept_language, query, data):
    if begun:
        client, _ = started(shipped_study)
    else:
        client = Client()
    headers = {"HTTP_ACCEPT_LANGUAGE": accept_language}
    path = {
        "entry": f"/s/{shipped_study.slug}/",
        "sample entry": f"/s/{shipped_study.slug}/{sample}/",
        "page": f"/s/{shipped_study.slug}/p/{page}/",
        "withdraw": "/withdraw/",
    }[endpoint.rsplit(" ", 1)[0]]
    before = snapshot()
    if endpoint.endswith("GET"):
        response = client.get(path, query, **headers)
    else:
        response = client.post(path + "?" + urlencode(query), data, **headers)
    assert response.status_code < 500, (endpoint, response.status_code)
    if response.status_code != 302:  # anything not accepted as a valid step changed nothing
        assert snapshot() == before


database_errors: list[str] = []


def record_database_errors(execute, sql, params, many, context):
    """Every statement the database refused, even if the caller caught the error: PostgreSQL logs
    each one with its values (``log_min_error_statement``), so the normal course must have none."""
    try:
        return execute(sql, params, many, context)
    except DatabaseError as error:
        database_errors.append(f"{type(error).__name__}: {sql[:80]}")
        raise


@pytest.mark.django_db(transaction=True)
def test_raced_declines_and_misses_make_no_database_error(shipped_study):
    if connection.vendor == "sqlite" and connection.settings_dict["NAME"].startswith(
        ("file:memorydb", ":memory:")
    ):
        pytest.skip("concurrent writers need a file or server database")
    from survey.models import CounterKind, RateBucket, StudyCounter

    url = f"/s/{shipped_study.slug}/west/"
    browser = Client(HTTP_ACCEPT_LANGUAGE="en")
    key = CONSENT_KEY.search(browser.get(url).content.decode()).group(1)
    database_errors.clear()
    statuses = []

    def decline_and_miss(number: int) -> None:
        with connection.execute_wrapper(record_database_errors):
            statuses.append(Client().post(url, {"consent_key": key, "action": "decline"}).status_code)
            statuses.append(
                Client().post("/withdraw/", {"code": "1-AAAAA-BBBBB-CCCCC-DDDDD-EEEEE-FFA"}).status_code
            )
        connection.close()

    threads = [threading.Thread(target=decline_and_miss, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 12 and not database_errors
    assert StudyCounter.objects.get(kind=CounterKind.DECLINED).count == 6
    assert RateBucket.objects.get().count == 6


def test_a_consent_form_replayed_in_another_browser_takes_nothing_over(shipped_study):
    """Issue 10, item 12: the same consent key posted from another browser within 24 hours took
    over the participant's response. The key is accepted only from the browser it was shown to."""
    url = f"/s/{shipped_study.slug}/"
    owner = Client(HTTP_ACCEPT_LANGUAGE="en")
    key = CONSENT_KEY.search(owner.get(url).content.decode()).group(1)
    page_url = owner.post(url, {"consent_key": key, "agree": "yes", "action": "agree"})["Location"]
    before = snapshot()
    visited = Client(HTTP_ACCEPT_LANGUAGE="en")
    visited.get(url)  # a browser that opened the consent page itself: its own cookies and CSRF token
    for intruder in (visited, Client(HTTP_ACCEPT_LANGUAGE="en")):
        replay = intruder.post(url, {"consent_key": key, "agree": "yes", "action": "agree"})
        assert replay.status_code == 400 and "opened in another browser" in replay.content.decode()
        assert f"candid_{shipped_study.pk}" not in replay.cookies
        assert intruder.get(page_url).status_code == 302  # no way in
    assert snapshot() == before
    assert owner.get(page_url).status_code == 200  # the participant carries on


@pytest.mark.django_db(transaction=True)
def test_double_submission_of_consent_creates_one_response(shipped_study):
    if connection.vendor == "sqlite" and connection.settings_dict["NAME"].startswith(
        ("file:memorydb", ":memory:")
    ):
        pytest.skip("concurrent writers need a file or server database; this runs in the PostgreSQL pass")
    url = f"/s/{shipped_study.slug}/"
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    key = CONSENT_KEY.search(client.get(url).content.decode()).group(1)
    statuses, cookies = [], []
    database_errors.clear()

    def submit():  # six clicks of one browser: its cookies, its form
        clicking = Client(HTTP_ACCEPT_LANGUAGE="en")
        clicking.cookies = SimpleCookie(client.cookies.output(header="", sep=";"))
        with connection.execute_wrapper(record_database_errors):
            reply = clicking.post(url, {"consent_key": key, "agree": "yes", "action": "agree"})
        statuses.append(reply.status_code)
        cookies.append(reply.cookies[f"candid_{shipped_study.pk}"].value)
        connection.close()

    threads = [threading.Thread(target=submit) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [302] * 6
    assert PendingResponse.objects.count() == 1
    assert not database_errors, "a raced consent must not make the database refuse a statement"
    # Whichever answer the browser keeps, its cookie opens the one response.
    for cookie in cookies:
        browser = Client(HTTP_ACCEPT_LANGUAGE="en")
        browser.cookies[f"candid_{shipped_study.pk}"] = cookie
        assert browser.get(f"/s/{shipped_study.slug}/p/0/").status_code == 200


def test_double_submit_of_the_last_page_completes_once_and_repeats_the_code(shipped_study):
    from survey.simulation import Respondent, fill, read_form

    client, page_url = started(shipped_study)
    respondent = Respondent(9, "china")
    while True:
        html = client.get(page_url).content.decode()
        data = fill(read_form(html), respondent, {})
        cookies_before = {key: morsel.value for key, morsel in client.cookies.items()}
        result = client.post(page_url, data)
        if result.status_code == 303:  # "Finish" redirects to the thank-you page
            result = client.get(result["Location"])
            break
        page_url = result["Location"]
    first = re.search(r'id="receipt-code">([^<]+)<', result.content.decode()).group(1)
    # The second click of a double click: sent with the cookies the browser had before the first answer.
    second_click = Client(HTTP_ACCEPT_LANGUAGE="en")
    for key, value in cookies_before.items():
        second_click.cookies[key] = value
    repeat = second_click.post(page_url, data, follow=True)
    assert repeat.status_code == 200 and first in repeat.content.decode()
    assert PendingResponse.objects.count() == 1 and PendingResponse.objects.get().status == "complete"
