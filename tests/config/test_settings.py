"""Settings come from the environment; production refuses to start without its secrets."""

import os

from tests.helpers import run_manage


def test_production_without_secret_key_refuses_to_start():
    result = run_manage("check", DJANGO_SETTINGS_MODULE="config.settings.production")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in result.stderr
    assert "Production settings have no default" in result.stderr


def test_production_deploy_check_passes_with_real_secrets():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY="a-real-secret-" + "k3y" * 20,
        CANDID_RECEIPT_KEY="a-real-receipt-key",
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_sqlite_is_tuned_for_durable_concurrent_writes(settings):
    from config.settings.base import database_from_env

    os.environ.pop("DATABASE_URL", None)
    config = database_from_env()
    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert "journal_mode=WAL" in config["OPTIONS"]["init_command"]
    assert "synchronous=FULL" in config["OPTIONS"]["init_command"]
    assert config["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


def test_database_url_selects_postgres(monkeypatch):
    from config.settings.base import database_from_env

    monkeypatch.setenv("DATABASE_URL", "postgres://u@127.0.0.1:5432/x")
    assert database_from_env()["ENGINE"] == "django.db.backends.postgresql"
