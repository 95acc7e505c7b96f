"""Scrubbing the database files after a release or a withdrawal (see ``survey.storage``)."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone

from ..storage import scrub

SCRUB_DELAY = timedelta(seconds=10)  # PostgreSQL: one VACUUM FULL covers the releases of 10 s
QUICK_ATTEMPTS = 3  # SQLite, in the participant's request: at most about 0.5 s


def scrub_after_commit(*, tables: list[str]) -> None:
    """Once the current transaction commits, wipe what its deletions left in the files of ``tables``.

    SQLite: a checkpoint at once (milliseconds), tried briefly; if readers keep the log busy the
    background worker tries again. PostgreSQL: ``VACUUM FULL`` locks the table while it rewrites it,
    so the background worker does it (``survey.tasks.scrub_tables``) 10 s later, one queued run at a
    time: a run already waiting covers this transaction too.
    """
    tables = sorted(set(tables))
    if connection.vendor == "sqlite":
        transaction.on_commit(lambda: _scrub_now(tables))
    elif connection.vendor == "postgresql":
        transaction.on_commit(lambda: _enqueue(tables))


def _scrub_now(tables: list[str]) -> None:
    if scrub(tables, attempts=QUICK_ATTEMPTS):
        _enqueue(tables)


def _enqueue(tables: list[str]) -> None:
    from django_tasks_db.models import DBTaskResult

    from ..tasks import scrub_tables

    waiting = DBTaskResult.objects.filter(
        task_path=scrub_tables.module_path, status="READY", args_kwargs__args=[tables]
    )
    if not waiting.exists():
        scrub_tables.using(run_after=timezone.now() + SCRUB_DELAY).enqueue(tables)
