"""System checks an operator meets at ``manage.py migrate`` and ``check``: settings under which a
participant could be picked out.

- ``candid.E001``: ``CANDID_RELEASE_K`` below 10 (release batches must hold at least 10 responses).
- ``candid.W001`` (``check --database default``): PostgreSQL settings under which the server's own log
  would keep what participants sent. With PostgreSQL's defaults a statement that fails
  (``log_min_error_statement = error``) is written to the log in full, with its values, at the time it
  ran, and an error's DETAIL line repeats the values of a unique key (``log_error_verbosity =
  default``). Candid's participant requests are written not to fail, but a log must not depend on
  that. The README's "Operating Candid" gives the settings.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings as django_settings
from django.core.checks import Error, Tags, Warning, register
from django.db import connections

from .selectors import MIN_K

# Severity order of PostgreSQL's message levels; a failing statement is logged when its level
# (ERROR for a constraint violation) is at or above log_min_error_statement.
LEVELS = [
    "debug5",
    "debug4",
    "debug3",
    "debug2",
    "debug1",
    "info",
    "notice",
    "warning",
    "error",
    "log",
    "fatal",
    "panic",
]
ADVICE = "set it in postgresql.conf (see the README, Operating Candid) and reload PostgreSQL"


def _problems(settings: dict[str, str]) -> list[str]:
    problems = []
    level = settings.get("log_min_error_statement", "panic")
    if level in LEVELS and LEVELS.index(level) <= LEVELS.index("error"):
        problems.append(
            f"log_min_error_statement = {level} writes failing statements with their values: use panic"
        )
    if settings.get("log_statement", "none") not in {"none", "ddl"}:
        problems.append(
            f"log_statement = {settings['log_statement']} writes statements with their values: use none"
        )
    if settings.get("log_min_duration_statement", "-1") != "-1":
        problems.append("log_min_duration_statement writes slow statements with their values: use -1")
    if settings.get("log_error_verbosity", "terse") != "terse":
        problems.append(
            f"log_error_verbosity = {settings['log_error_verbosity']} writes an error's DETAIL (a key's values): use terse"
        )
    return problems


@register(Tags.database)
def postgresql_logging(app_configs: Any = None, databases: Any = None, **kwargs: Any) -> list[Warning]:
    warnings = []
    for alias in databases or []:
        connection = connections[alias]
        if connection.vendor != "postgresql":
            continue
        names = [
            "log_min_error_statement",
            "log_statement",
            "log_min_duration_statement",
            "log_error_verbosity",
        ]
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT name, setting FROM pg_settings WHERE name = ANY(%s)",
                [names],
            )
            settings = dict(cursor.fetchall())
        warnings += [
            Warning(
                f"PostgreSQL ({alias}): {problem}.",
                hint=ADVICE,
                id="candid.W001",
            )
            for problem in _problems(settings)
        ]
    return warnings


@register()
def release_batch_size(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """``CANDID_RELEASE_K`` below 10 would let a known completion time narrow a response to fewer."""
    k = django_settings.CANDID_RELEASE_K
    if not isinstance(k, int) or k < MIN_K:
        return [
            Error(
                f"CANDID_RELEASE_K is {k!r}; release batches must hold at least {MIN_K} responses.",
                hint=f"Set CANDID_RELEASE_K to {MIN_K} or more (the default is 20).",
                id="candid.E001",
            )
        ]
    return []
