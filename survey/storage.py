"""Where participants' rows sit in the database files, and wiping what a release or a withdrawal leaves.

A database keeps more than its rows: the order they were written in, and copies of rows already
deleted. Candid promises that a copy of the files narrows a response no further than its release
batch, and that a withdrawn response leaves no trace in them. What each database needs for that:

SQLite
    - ``PendingResponse`` and ``Response`` are ``WITHOUT ROWID`` tables: rows are stored in the order
      of their random primary key, with no hidden rowid counting insertions. Django's SQLite schema
      editor rebuilds a table for most changes and would silently drop the clause, so every
      ``migrate`` ends with :func:`ensure_without_rowid` (connected to ``post_migrate``), and a test
      checks the tables.
    - ``PRAGMA secure_delete`` (set on every connection in ``config.settings.base``) overwrites
      deleted content with zeros.
    - The write-ahead log keeps every changed page in commit order until a checkpoint; after each
      release and each withdrawal :func:`scrub` copies it into the database and truncates it to zero
      bytes (``wal_checkpoint(TRUNCATE)``).

PostgreSQL
    - Rows written by one transaction share its ``xmin``, and a release batch is one transaction
      whose rows are inserted in a shuffled order, so ``xmin`` and ``ctid`` say no more than the batch.
    - An UPDATE or DELETE leaves the old row version in the table file, with its ``xmin``, until a
      vacuum; plain VACUUM frees the space but leaves the bytes. :func:`scrub` runs ``VACUUM FULL``
      on the tables a release or withdrawal touched (rewriting them into new files; the old ones are
      removed), from the background worker, then asks for a ``CHECKPOINT``.
    - ``pg_wal`` holds every change in commit order until its segment is removed: :func:`scrub`
      ends the current segment (``pg_switch_wal``) before its ``CHECKPOINT``, so the checkpoint
      removes every segment written before the scrub; the operator's settings for that
      (``wal_recycle = off``) are in the README ("Operating Candid").
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable

from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

logger = logging.getLogger("candid.storage")

PENDING_TABLE = "survey_pendingresponse"
RELEASED_TABLE = "survey_response"
WITHOUT_ROWID_TABLES = (PENDING_TABLE, RELEASED_TABLE)
CHECKPOINT_ATTEMPTS = 20


def is_without_rowid(connection: BaseDatabaseWrapper, table: str) -> bool:
    """Whether the SQLite table is stored ``WITHOUT ROWID`` (False for a missing table)."""
    create = _create_statement(connection, table)
    return bool(create) and re.search(r"\)\s*WITHOUT\s+ROWID\s*$", create, re.IGNORECASE) is not None


def ensure_without_rowid(
    connection: BaseDatabaseWrapper,
    tables: Iterable[str] = WITHOUT_ROWID_TABLES,
    *,
    editor: BaseDatabaseSchemaEditor | None = None,
) -> list[str]:
    """Rebuild each SQLite table of ``tables`` that has a rowid as ``WITHOUT ROWID``; the names rebuilt.

    The table is created again from its own ``CREATE TABLE`` statement plus ``WITHOUT ROWID``, its
    rows copied in key order, and its indexes recreated: the steps Django's schema editor takes to
    alter a table, in ``editor``'s transaction (a migration's) or a new one. A no-op elsewhere.
    """
    if connection.vendor != "sqlite":
        return []
    missing = [
        table
        for table in tables
        if _create_statement(connection, table) and not is_without_rowid(connection, table)
    ]
    if not missing:
        return []
    if editor is None:
        with connection.schema_editor(atomic=True) as own:  # foreign key checks off, as Django does
            for table in missing:
                _rebuild_without_rowid(connection, own, table)
    else:
        for table in missing:
            _rebuild_without_rowid(connection, editor, table)
    return missing


def _create_statement(connection: BaseDatabaseWrapper, table: str) -> str | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = %s", [table])
        row = cursor.fetchone()
    return row[0] if row else None


def _rebuild_without_rowid(
    connection: BaseDatabaseWrapper, editor: BaseDatabaseSchemaEditor, table: str
) -> None:
    create = _create_statement(connection, table) or ""
    quoted, temporary = f'"{table}"', f'"{table}__without_rowid"'
    head = re.match(r'\s*CREATE\s+TABLE\s+("[^"]+"|\S+)', create, re.IGNORECASE)
    if head is None:
        raise ValueError(f"cannot read the definition of {table}")
    new_create = create[: head.start(1)] + temporary + create[head.end(1) :] + " WITHOUT ROWID"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s AND sql IS NOT NULL",
            [table],
        )
        indexes = [sql for (sql,) in cursor.fetchall()]
        cursor.execute(f"PRAGMA table_info({quoted})")
        primary_key = [row[1] for row in cursor.fetchall() if row[5]]
    order = ", ".join(f'"{column}"' for column in primary_key)
    editor.execute(new_create)
    # Names from sqlite_master of Candid's own tables, never from input.
    editor.execute(f"INSERT INTO {temporary} SELECT * FROM {quoted} ORDER BY {order}")  # noqa: S608
    editor.execute(f"DROP TABLE {quoted}")
    editor.execute(f"ALTER TABLE {temporary} RENAME TO {quoted}")
    for index in indexes:
        editor.execute(index)


def scrub(tables: Iterable[str], *, using: str = "default", attempts: int = CHECKPOINT_ATTEMPTS) -> list[str]:
    """Remove from the database files what deleted or rewritten rows of ``tables`` left behind.

    Must run outside a transaction (``VACUUM`` cannot run inside one). Returns what could not be done
    (an empty list when everything was), each as a sentence for the log; never raises for a database
    that is merely busy. ``attempts``: how many times SQLite's checkpoint is tried while readers
    keep the write-ahead log busy.
    """
    connection = connections[using]
    if connection.in_atomic_block:
        raise RuntimeError("scrub() runs after the transaction that deleted the rows has committed")
    problems: list[str] = []
    if connection.vendor == "sqlite":
        problems = _scrub_sqlite(connection, attempts)
    elif connection.vendor == "postgresql":
        problems = _scrub_postgresql(connection, sorted(set(tables)))
    for problem in problems:
        logger.warning(problem)
    return problems


def _scrub_sqlite(connection: BaseDatabaseWrapper, attempts: int) -> list[str]:
    """``wal_checkpoint(TRUNCATE)``: the log's frames go into the database file, the log to zero bytes.

    A reader still on an older snapshot makes the checkpoint report "busy"; it is tried again a few
    times, briefly, each try waiting at most 50 ms for locks (not the connection's 20 s)."""
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA busy_timeout")
        previous = int(cursor.fetchone()[0])
        cursor.execute("PRAGMA busy_timeout = 50")
        try:
            for attempt in range(attempts):
                cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                busy, _log, _done = cursor.fetchone()
                if not busy:
                    return []
                time.sleep(0.05 * (attempt + 1))
        finally:
            cursor.execute(f"PRAGMA busy_timeout = {previous}")
    return ["the SQLite write-ahead log could not be truncated (a reader kept it busy)"]


def _scrub_postgresql(connection: BaseDatabaseWrapper, tables: list[str]) -> list[str]:
    from psycopg import errors, sql

    problems = []
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(sql.SQL("VACUUM (FULL) {}").format(sql.Identifier(table)))
        # A checkpoint removes only the segments before the one it starts in, and a 16 MB segment
        # holds hours of a quiet study's changes: its completions in commit order, each with its
        # commit time. Ending the segment first lets this checkpoint remove all of them.
        try:
            cursor.execute("SELECT pg_switch_wal()")
        except errors.InsufficientPrivilege:
            problems.append(
                "pg_switch_wal() needs GRANT EXECUTE ON FUNCTION pg_switch_wal() or a superuser;"
                " the current write-ahead log segment keeps the rows until it fills"
            )
        try:
            cursor.execute("CHECKPOINT")
        except errors.InsufficientPrivilege:
            problems.append(
                "CHECKPOINT needs the pg_checkpoint role (PostgreSQL 15+) or a superuser;"
                " the write-ahead log keeps the rows until PostgreSQL's next checkpoint"
            )
    return problems
