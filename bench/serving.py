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
    """gunicorn with 2 workers on 127.0.0.1:``port``, once it answers ``probe``; output to ``log``.

    The access log, when asked for, has method, path and status only (as ``make serve``)."""
    logging = ["--access-logfile", "-", "--access-logformat", "%(m)s %(U)s %(s)s"] if access_log else []
    command = [str(ROOT / ".venv" / "bin" / "gunicorn"), "config.wsgi", "--bind", f"127.0.0.1:{port}"]
    server = subprocess.Popen(
        [*command, "--workers", "2", *logging, "--error-logfile", "-"],
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
