"""Small helpers shared by tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Generated cases per fuzz test: 500 in `make test`; `make fuzz` (bench/fuzz.py) runs 10,000 each.
FUZZ_EXAMPLES = int(os.environ.get("CANDID_FUZZ_EXAMPLES", "500"))


def run_manage(*args: str, timeout: int = 300, **env: str) -> subprocess.CompletedProcess:
    """``manage.py`` in a fresh process, with no Django or Candid variables but those given."""
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CANDID_", "DATABASE_URL"))
    }
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def every_row() -> list[list[tuple]]:
    """Every Candid row and every account, in key order: equal before and after means nothing changed."""
    from django.apps import apps
    from django.contrib.auth import get_user_model

    models = [*apps.get_app_config("survey").get_models(), get_user_model()]
    return [list(model._default_manager.order_by("pk").values_list()) for model in models]


def close_fieldwork(study) -> int:
    """Release every complete response still waiting for its batch, as closing the study does
    (``services.releases.responses_release_closed``), and leave the study open again for the test."""
    from datetime import date, timedelta

    from survey.services.releases import responses_release_closed

    closes_on = study.closes_on
    study.closes_on = date.today() - timedelta(days=1)
    study.save(update_fields=["closes_on"])
    released = responses_release_closed(study=study)
    study.closes_on = closes_on
    study.save(update_fields=["closes_on"])
    return released
