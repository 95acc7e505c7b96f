"""Starting ``make serve``'s production-style server (gunicorn, 2 workers) for the load scripts."""

from __future__ import annotations

import subprocess
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def start_gunicorn(
    env: dict[str, str], port: int, log: Path, *, probe: str = "/", access_log: bool = False
) -> subprocess.Popen:
    """gunicorn with ``make serve``'s settings (``config/gunicorn.py``: 2 workers, logs without query
    strings or addresses) on 127.0.0.1:``port``, once it answers ``probe``; output to ``log``.

    The access log (method, path and status only) is written when asked for."""
    command = [
        str(ROOT / ".venv" / "bin" / "gunicorn"),
        "config.wsgi",
        "-c",
        str(ROOT / "config" / "gunicorn.py"),
    ]
    logging = [] if access_log else ["--access-logfile", "/dev/null"]
    server = subprocess.Popen(
        [*command, "--bind", f"127.0.0.1:{port}", *logging],
        env=env,
        cwd=ROOT,
        stdout=open(log, "w"),  # noqa: SIM115 — the server keeps writing to it until it stops
        stderr=subprocess.STDOUT,
    )
    for _ in range(150):
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited (is port {port} taken?); see {log}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}{probe}", timeout=5).read()
            return server
        except OSError:  # refused, reset or timed out while the workers boot
            time.sleep(0.2)
    server.kill()
    raise RuntimeError("the server did not start")
