"""The operator is warned at migrate time when PostgreSQL would log what participants sent."""

import pytest
from django.db import connection

from survey.checks import _problems, postgresql_logging

POSTGRESQL_DEFAULTS = {
    "log_min_error_statement": "error",
    "log_statement": "none",
    "log_min_duration_statement": "-1",
    "log_error_verbosity": "default",
}
RECOMMENDED = {**POSTGRESQL_DEFAULTS, "log_min_error_statement": "panic", "log_error_verbosity": "terse"}


def test_postgresql_defaults_are_reported_and_the_readme_settings_pass():
    problems = _problems(POSTGRESQL_DEFAULTS)
    assert any("log_min_error_statement" in p for p in problems)
    assert any("log_error_verbosity" in p for p in problems)
    assert _problems(RECOMMENDED) == []
    assert _problems({**RECOMMENDED, "log_statement": "all"}) and _problems(
        {**RECOMMENDED, "log_min_duration_statement": "0"}
    )


@pytest.mark.django_db
def test_the_check_reads_the_server(settings):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    with connection.cursor() as cursor:
        cursor.execute("SET log_min_error_statement = error")
        cursor.execute("SET log_error_verbosity = default")
    assert {w.id for w in postgresql_logging(databases=["default"])} == {"candid.W001"}
    with connection.cursor() as cursor:
        cursor.execute("SET log_min_error_statement = panic")
        cursor.execute("SET log_error_verbosity = terse")
    assert postgresql_logging(databases=["default"]) == []
