"""Replaying a fixture's database writes: the suite's slowest fixture, once per session.

``answered_study`` sends 30 synthetic respondents through the real participant pages (about 630
requests). About a hundred tests start from the same state, so the first test of a session that
needs it runs the pages, and the tables it left are captured; every later test that starts from the
same tables (the same row count in each) gets them written back inside its own transaction, rolled
back with it as any test write. The rows are copied as the database stores them — PostgreSQL's COPY
in text format, SQLite's values read without Django's type converters — so nothing is re-encoded.
A test that starts from other tables (an extra user, say) runs the pages itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection, transaction

# Tables written by migrations only; the fixtures never change them.
STATIC_TABLES = frozenset({"django_migrations", "django_content_type", "auth_permission"})


@dataclass(frozen=True)
class Snapshot:
    """The rows of every table after the fixture: ``{table: rows}``; rows are COPY text on
    PostgreSQL and a list of value tuples on SQLite."""

    tables: dict[str, object]


_snapshots: dict[tuple, Snapshot] = {}


def _tables() -> list[str]:
    return sorted(t for t in connection.introspection.table_names() if t not in STATIC_TABLES)


def _state() -> tuple:
    """The row count of every table: the key under which a snapshot is kept."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        counts = []
        for table in _tables():
            cursor.execute(f"SELECT COUNT(*) FROM {quote(table)}")  # noqa: S608
            counts.append((table, cursor.fetchone()[0]))
        # A transactional test's flush deletes the content types and permissions and creates them
        # again under new ids; rows written back must point at the ones of the day.
        for table in sorted(STATIC_TABLES - {"django_migrations"}):
            cursor.execute(f"SELECT COUNT(*), MIN(id), MAX(id) FROM {quote(table)}")  # noqa: S608
            counts.append((table, *cursor.fetchone()))
    return (connection.vendor, tuple(counts))


def _capture() -> Snapshot:
    quote = connection.ops.quote_name
    tables: dict[str, object] = {}
    with connection.cursor() as cursor:
        for table in _tables():
            if connection.vendor == "postgresql":
                data = bytearray()
                with cursor.cursor.copy(f"COPY {quote(table)} TO STDOUT") as copy:
                    for block in copy:
                        data += block
                tables[table] = bytes(data)
            else:
                columns = [c.name for c in connection.introspection.get_table_description(cursor, table)]
                # coalesce(x, NULL) has no declared type, so sqlite3 hands back the stored value as is.
                select = ", ".join(f"coalesce({quote(c)}, NULL)" for c in columns)
                raw = connection.connection.execute(f"SELECT {select} FROM {quote(table)}")  # noqa: S608
                tables[table] = (columns, raw.fetchall())
    return Snapshot(tables)


def _restore(snapshot: Snapshot) -> None:
    quote = connection.ops.quote_name
    # Foreign keys are checked when the block commits (deferred on both databases): by then every
    # table holds its rows again. Inside a test's transaction the block is a savepoint.
    with transaction.atomic(), connection.cursor() as cursor:
        for table in snapshot.tables:
            cursor.execute(f"DELETE FROM {quote(table)}")  # noqa: S608
        for table, rows in snapshot.tables.items():
            if connection.vendor == "postgresql":
                if rows:
                    with cursor.cursor.copy(f"COPY {quote(table)} FROM STDIN") as copy:
                        copy.write(rows)
            else:
                columns, values = rows
                if values:
                    names = ", ".join(quote(c) for c in columns)
                    marks = ", ".join("?" for _ in columns)
                    insert = f"INSERT INTO {quote(table)} ({names}) VALUES ({marks})"  # noqa: S608
                    connection.connection.executemany(insert, values)


def replay(build: Callable[[], None]) -> bool:
    """Run ``build`` (which writes to the database), or write back what it wrote the first time it
    ran from the same starting tables. Returns True when the rows were written back."""
    state = _state()
    snapshot = _snapshots.get(state)
    if snapshot is not None:
        _restore(snapshot)
        return True
    build()
    _snapshots[state] = _capture()
    return False
