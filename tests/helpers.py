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
