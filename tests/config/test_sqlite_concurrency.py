"""SQLite mode: two writer processes through the real participant flow never fail with "database is locked"."""

import os

import pytest

from tests.helpers import run_manage


@pytest.mark.skipif(os.environ.get("DATABASE_URL", "").startswith("postgres"), reason="an SQLite-mode check")
def test_two_concurrent_writers_on_an_sqlite_file(tmp_path):
    settings = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'candid.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "CANDID_VAR_DIR": str(tmp_path),
    }

    def manage(*args: str):
        return run_manage(*args, **settings)

    assert manage("migrate", "-v0").returncode == 0
    assert manage("demo_accounts").returncode == 0
    assert manage("load_study", "--owner", "demo-admin").returncode == 0
    result = manage(
        "simulate_respondents", "trust-and-rating-systems", "-n", "30", "--workers", "2", "--seed", "3"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "60 synthetic respondents completed" in result.stdout
    assert "database is locked" not in result.stdout + result.stderr
