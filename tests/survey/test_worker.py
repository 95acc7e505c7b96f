"""The background worker outlives a database outage (``make faults`` restarts PostgreSQL): it must,
since it scrubs the participant tables after every release and withdrawal."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db.utils import OperationalError
from django_tasks_db.models import DBTaskResult, DBTaskResultQuerySet

from survey.management.commands import db_worker
from survey.storage import PENDING_TABLE
from survey.tasks import scrub_tables

pytestmark = pytest.mark.django_db(transaction=True)  # the worker closes its connection, as a real one does


def outage(monkeypatch, *, failures: int) -> list[int]:
    """The database refuses the worker's next ``failures`` polls, as PostgreSQL does while restarting."""
    polls = []
    real = DBTaskResultQuerySet.get_locked

    def get_locked(queryset):
        polls.append(1)
        if len(polls) <= failures:
            raise OperationalError("connection failed: FATAL:  the database system is shutting down")
        return real(queryset)

    monkeypatch.setattr(DBTaskResultQuerySet, "get_locked", get_locked)
    monkeypatch.setattr(db_worker, "RETRY_SECONDS", 0.01)
    return polls


def test_the_worker_carries_on_after_the_database_went_away(monkeypatch):
    queued = scrub_tables.enqueue([PENDING_TABLE])
    polls = outage(monkeypatch, failures=3)
    call_command("db_worker", "--batch", "--no-startup-delay", "--interval", "0", verbosity=0)
    assert len(polls) >= 4
    assert DBTaskResult.objects.get(pk=queued.id).status == "SUCCESSFUL"


def test_a_task_the_outage_interrupted_runs_again(monkeypatch):
    queued = scrub_tables.enqueue([PENDING_TABLE])
    real = DBTaskResult.set_successful
    calls = []

    def set_successful(result, value):
        calls.append(1)
        if len(calls) == 1:  # the task ran, but the database went away before its end was written
            raise OperationalError("server closed the connection unexpectedly")
        return real(result, value)

    def set_failed(result, error):
        raise OperationalError("server closed the connection unexpectedly")  # still gone

    monkeypatch.setattr(DBTaskResult, "set_successful", set_successful)
    monkeypatch.setattr(DBTaskResult, "set_failed", set_failed)
    monkeypatch.setattr(db_worker, "RETRY_SECONDS", 0.01)
    call_command("db_worker", "--batch", "--no-startup-delay", "--interval", "0", verbosity=0)
    assert len(calls) == 2
    assert DBTaskResult.objects.get(pk=queued.id).status == "SUCCESSFUL"
