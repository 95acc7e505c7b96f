"""Anonymity as a feature: a full completion leaves no IP, user agent, referrer, panel id or exact time."""

import logging
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import models
from django.test import Client

from survey.models import PendingResponse, ReleaseBatch, Response, StudyCounter

pytestmark = pytest.mark.django_db

IP = "203.0.113.197"
AGENT = "DistinctiveAgent/9.81 (Candid anonymity probe)"
REFERRER = "https://referrer.example/private-page"
PANEL_ID = "5f2b9c0d1e3a7pid"


def test_a_full_completion_leaves_nothing_that_identifies(participant, shipped_study, caplog):
    caplog.set_level(logging.DEBUG)
    client = Client(
        HTTP_ACCEPT_LANGUAGE="zh-CN",
        REMOTE_ADDR=IP,
        HTTP_USER_AGENT=AGENT,
        HTTP_REFERER=REFERRER,
        HTTP_X_FORWARDED_FOR=IP,
    )
    _, outcome = participant(client=client, url=f"/s/{shipped_study.slug}/?PROLIFIC_PID={PANEL_ID}")
    assert outcome.completed
    dump = StringIO()
    call_command("dumpdata", stdout=dump)
    everything = dump.getvalue() + "\n".join(record.getMessage() for record in caplog.records)
    for secret in (IP, AGENT, REFERRER, PANEL_ID, "DistinctiveAgent"):
        assert secret not in everything, f"{secret!r} was stored or logged"


def test_participant_tables_hold_no_exact_time():
    for model in (PendingResponse, Response, ReleaseBatch, StudyCounter):
        for field in model._meta.get_fields():
            assert not isinstance(field, models.DateTimeField | models.TimeField), (
                f"{model.__name__}.{field.name} is exact time"
            )


def test_response_ids_are_random(participant):
    for seed in range(6):
        participant(seed=seed)
    ids = [r.pk for r in PendingResponse.objects.all()]
    assert all(pk.version == 4 for pk in ids)
