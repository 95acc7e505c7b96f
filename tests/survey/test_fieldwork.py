"""Quotas and the fieldwork monitor: cells screen out politely, count on completion, never overfill
under concurrency (both databases), give places back on withdrawal; the monitor counts real
participants per sample and per day, shows drop-off and quota fill, and keeps synthetic and test apart."""

from __future__ import annotations

import re
import threading

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from survey.models import AuditEvent, FieldworkCount, PendingResponse, Quota, Sample
from survey.receipts import receipt_code_for
from survey.services.fieldwork import QuotaData, quota_grid_create, quota_save
from survey.services.questionnaires import consent_create, questionnaire_import, questionnaire_publish
from survey.services.responses import Completed, Finish, ScreenedOut, response_complete
from tests.specs import consent_details, tiny_spec

CONSENT_KEY = re.compile(r'name="consent_key" value="([^"]+)"')


@pytest.fixture
def quota_study(admin_user_):
    version = questionnaire_import(spec=tiny_spec(), owner=admin_user_, study_slug="quota")
    study = version.study
    questionnaire_publish(
        version=version,
        consent=consent_create(study=study, texts={"en": "C", "zh": "C"}, **consent_details()),
    )
    Sample.objects.filter(study=study).update(
        overquota_redirect_url="https://panel.example.org/full?cc={code}",
        overquota_code="OQ1",
        screenout_redirect_url="https://panel.example.org/out?cc={code}",
        screenout_code="SO1",
    )
    return study


def start(client: Client, study) -> None:
    url = f"/s/{study.slug}/"
    key = CONSENT_KEY.search(client.get(url).content.decode()).group(1)
    assert client.post(url, {"consent_key": key, "agree": "yes", "action": "agree"}).status_code == 302


def answer(client: Client, study, data: dict[str, str], **kwargs):
    return client.post(
        f"/s/{study.slug}/p/0/", {**data, "shown": " ".join(k for k in data), "action": "next"}, **kwargs
    )


def yes_cell(study, limit: int) -> Quota:
    return Quota.objects.create(study=study, name="yes-sayers", conditions={"q1": ["yes"]}, limit=limit)


@pytest.mark.django_db
def test_a_full_cell_screens_out_politely_and_keeps_nothing(quota_study):
    cell = yes_cell(quota_study, 1)
    first = Client(HTTP_ACCEPT_LANGUAGE="en")
    start(first, quota_study)
    assert (
        "receipt-code" in answer(first, quota_study, {"q1": "yes", "q2": "3"}, follow=True).content.decode()
    )
    cell.refresh_from_db()
    assert cell.filled == 1
    second = Client(HTTP_ACCEPT_LANGUAGE="en")
    start(second, quota_study)
    page = answer(second, quota_study, {"q1": "yes", "q2": "4"})
    html = page.content.decode()
    assert (
        page.status_code == 200
        and 'id="screened-out"' in html
        and "Nothing you answered has been kept" in html
    )
    assert "https://panel.example.org/full?cc=OQ1" in html
    assert PendingResponse.objects.filter(status="complete").count() == 1 == PendingResponse.objects.count()
    assert FieldworkCount.objects.get(kind="screened_out").count == 1
    # Someone outside the cell still completes.
    third = Client(HTTP_ACCEPT_LANGUAGE="en")
    start(third, quota_study)
    assert "receipt-code" in answer(third, quota_study, {"q1": "no"}, follow=True).content.decode()


@pytest.mark.django_db
def test_a_cell_with_limit_zero_screens_out_to_the_screen_out_url(quota_study):
    yes_cell(quota_study, 0)
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-CN")
    start(client, quota_study)
    html = answer(client, quota_study, {"q1": "yes", "q2": "3"}).content.decode()
    assert "https://panel.example.org/out?cc=SO1" in html and "感谢您抽出时间" in html
    assert not PendingResponse.objects.exists()


@pytest.mark.django_db
def test_withdrawal_gives_the_place_back(quota_study):
    cell = yes_cell(quota_study, 1)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    start(client, quota_study)
    html = answer(client, quota_study, {"q1": "yes", "q2": "3"}, follow=True).content.decode()
    code = re.search(r'id="receipt-code">([^<]+)<', html).group(1)
    Client().post("/withdraw/", {"code": code, "action": "confirm"})
    cell.refresh_from_db()
    assert cell.filled == 0 and FieldworkCount.objects.get(kind="withdrawn").count == 1


def _ready_responses(study, how_many: int) -> list:
    """Responses in progress with every answer given, each with its receipt code, ready to complete."""
    ready = []
    for _ in range(how_many):
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        start(client, study)
        ready.append(PendingResponse.objects.exclude(pk__in=[r.pk for r in ready]).get())
    PendingResponse.objects.update(answers={"q1": "yes", "q2": 3})
    return ready


@pytest.mark.django_db(transaction=True)
def test_concurrent_completions_never_overfill_a_cell(quota_study):
    if connection.vendor == "sqlite" and connection.settings_dict["NAME"].startswith(
        ("file:memorydb", ":memory:")
    ):
        pytest.skip("concurrent writers need a file or server database")
    cell = yes_cell(quota_study, 2)
    ready = _ready_responses(quota_study, 6)
    barrier = threading.Barrier(len(ready))
    outcomes: list[object] = []

    def complete(response) -> None:
        try:
            barrier.wait(timeout=30)
            outcomes.append(
                response_complete(
                    response_id=response.pk,
                    finish=Finish(receipt_code_for(study_id=quota_study.pk, secret=f"test-{response.pk}")),
                )
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=complete, args=(response,)) for response in ready]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    cell.refresh_from_db()
    assert cell.filled == 2
    assert sum(isinstance(o, Completed) for o in outcomes) == 2
    assert sum(isinstance(o, ScreenedOut) for o in outcomes) == 4
    assert PendingResponse.objects.filter(status="complete").count() == 2 == PendingResponse.objects.count()


@pytest.mark.django_db
def test_quota_changes_are_audited_and_checked(quota_study, admin_user_):
    sample = quota_study.samples.get()
    cell = quota_save(
        user=admin_user_,
        study=quota_study,
        quota=None,
        data=QuotaData(name="yes", sample=sample, conditions={"q1": ["yes"]}, limit=5),
    )
    Quota.objects.filter(pk=cell.pk).update(filled=3)
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="3 completions are already counted"):
        quota_save(
            user=admin_user_,
            study=quota_study,
            quota=cell,
            data=QuotaData(name="yes", sample=sample, conditions={"q1": ["yes"]}, limit=2),
        )
    cells = quota_grid_create(
        user=admin_user_,
        study=quota_study,
        sample=None,
        dimensions=[("q1", [("yes", "Yes"), ("no", "No")])],
        limit=10,
    )
    assert sorted(c.name for c in cells) == ["No", "Yes"]
    assert AuditEvent.objects.filter(action="quota_added").count() == 2


@pytest.mark.django_db
def test_monitor_counts_real_participants_per_day_with_synthetic_and_tests_apart(quota_study, admin_user_):
    from django.core.management import call_command

    from tests.helpers import close_fieldwork

    yes_cell(quota_study, 100)
    real = Client(HTTP_ACCEPT_LANGUAGE="en")
    start(real, quota_study)
    answer(real, quota_study, {"q1": "no"})
    stopped = Client(HTTP_ACCEPT_LANGUAGE="en")
    start(stopped, quota_study)  # started, never answered
    declining = Client(HTTP_ACCEPT_LANGUAGE="en")
    key = CONSENT_KEY.search(declining.get("/s/quota/").content.decode()).group(1)
    declining.post("/s/quota/", {"consent_key": key, "action": "decline"})
    call_command(
        "simulate_respondents", "quota", "-n", "3", "--workers", "1", stdout=__import__("io").StringIO()
    )
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(admin_user_)
    client.post(reverse("survey:studio_test_start", args=["quota", 1]), {"language": "en", "seed": "1"})
    html = client.get(reverse("survey:studio_monitor", args=["quota"])).content.decode()
    # Fewer than k completions: none is released yet, so none is counted, and the page says why.
    by_sample = re.search(r'<table class="data" id="by-sample">.*?</table>', html, re.S).group(0)
    assert re.findall(r'<td class="number">([^<]*)</td>', by_sample)[:2] == ["2", "0"]
    assert "4 more completed responses are waiting for their release batch" in html
    close_fieldwork(quota_study)
    html = client.get(reverse("survey:studio_monitor", args=["quota"])).content.decode()
    by_sample = re.search(r'<table class="data" id="by-sample">.*?</table>', html, re.S).group(0)
    cells = re.findall(r'<td class="number">([^<]*)</td>', by_sample)
    assert cells[:5] == ["2", "1", "1", "0", "0"]  # started, completed, declined, withdrawn, screened out
    assert cells[-1] == "3 / 3"  # synthetic, apart: started / completed
    by_day = re.search(r'<table class="data" id="by-day">.*?</table>', html, re.S).group(0)
    assert re.findall(r'<td class="number">([^<]*)</td>', by_day) == ["2", "1", "1", "0", "0", "3 / 3", "1"]
    dropoff = re.search(r'<table class="data" id="dropoff">.*?</table>', html, re.S).group(0)
    assert re.findall(r'<td class="number">([^<]*)</td>', dropoff) == ["2", "1", "1"]
    assert "yes-sayers" in html and re.search(r">\d+ / 100<", html)  # the cell and its fill
