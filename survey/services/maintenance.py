"""Scrubbing the database files after a release or a withdrawal (see ``survey.storage``)."""

from __future__ import annotations

import logging

from django.db import connection, transaction

from ..storage import scrub

logger = logging.getLogger("candid.storage")


def scrub_after_commit(*, tables: list[str]) -> None:
    """Once the current transaction commits, wipe what its deletions left in the files of ``tables``.

    SQLite does it at once (a checkpoint takes milliseconds). PostgreSQL's ``VACUUM FULL`` locks the
    table while it rewrites it, so the background worker does it (``survey.tasks.scrub_tables``),
    one queued run at a time: a run already waiting covers this transaction too.
    """
    if connection.vendor == "sqlite":
        transaction.on_commit(_scrub_now)
    elif connection.vendor == "postgresql":
        transaction.on_commit(lambda: _enqueue(sorted(set(tables))))


def _scrub_now() -> None:
    for problem in scrub([]):
        logger.warning(problem)


def _enqueue(tables: list[str]) -> None:
    from django_tasks_db.models import DBTaskResult

    from ..tasks import scrub_tables

    waiting = DBTaskResult.objects.filter(
        task_path=scrub_tables.module_path, status="READY", args_kwargs__args=[tables]
    )
    if not waiting.exists():
        scrub_tables.enqueue(tables)
