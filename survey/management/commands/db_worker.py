"""``manage.py db_worker``: django_tasks_db's background worker, kept alive when the database goes away.

Why: the worker scrubs the participant tables after each release and withdrawal (``survey.storage``),
deletes expired export files and releases what waits when a study closes. django_tasks_db's worker
exits on the first database error other than a locked SQLite file, so a PostgreSQL restart ended it
for good: in ``make faults`` no scrub ran after the restart, and pg_wal kept every later completion
beside its commit time. Here a lost database is logged, the connections are closed and the worker
tries again every :data:`RETRY_SECONDS`; a task the outage interrupted is queued again (every
Candid task can run twice: scrubs, expiry and releases find nothing left to do, builds start over).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.db import connections
from django.db.utils import DatabaseError, InterfaceError, OperationalError
from django_tasks_db.management.commands import db_worker
from django_tasks_db.models import DBTaskResult

logger = logging.getLogger("django_tasks_db")

RETRY_SECONDS = 1.0


class ResilientWorker(db_worker.Worker):
    """A worker whose loop starts again after the database was lost, instead of exiting."""

    interrupted: Any = None  # the id of a task whose end could not be recorded

    def run(self) -> None:
        while self.running:
            try:
                self._requeue_interrupted()
                super().run()
                return
            except (OperationalError, InterfaceError) as error:
                logger.warning(
                    "Database unavailable (%s); trying again in %s s", type(error).__name__, RETRY_SECONDS
                )
                _close_connections()
                time.sleep(RETRY_SECONDS)

    def run_task(self, db_task_result: DBTaskResult) -> None:
        self.interrupted = db_task_result.pk
        super().run_task(db_task_result)  # raises only when the outcome could not be written
        self.interrupted = None

    def _requeue_interrupted(self) -> None:
        if self.interrupted is None:
            return
        DBTaskResult.objects.filter(pk=self.interrupted, status="RUNNING").update(status="READY")
        self.interrupted = None


def _close_connections() -> None:
    for connection in connections.all(initialized_only=True):
        try:
            connection.close()
        except DatabaseError:  # already gone with the server
            connection.connection = None


class Command(db_worker.Command):
    help = db_worker.Command.help + " (that survives the database going away)"

    def handle(self, **options: Any) -> None:
        original = db_worker.Worker
        db_worker.Worker = ResilientWorker  # the worker class django_tasks_db's handle() builds
        try:
            super().handle(**options)
        finally:
            db_worker.Worker = original
