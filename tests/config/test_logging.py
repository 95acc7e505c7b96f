"""No log line carries a participant's query string or address, and a stalled request ends on the
"please try again" page, under Django and under gunicorn (``config/gunicorn.py``)."""

from __future__ import annotations

import logging
import os
import socket
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.test import override_settings

from config.log_filters import NoParticipantTraces, scrub

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
PROBE = "PROLIFIC_PID=probe5f3e9a"


@pytest.mark.parametrize(
    ("line", "kept"),
    [
        ("Error handling request GET /s/trust/?PROLIFIC_PID=abc&SESSION_ID=9", "GET /s/trust/"),
        ("Invalid request from ip=203.0.113.9: Invalid HTTP Version", "Invalid HTTP Version"),
        ("connection from 2001:db8::7 closed", "connection from"),
        ('"GET /withdraw/?code=K7 HTTP/1.1" 200', "/withdraw/"),
        ("took 12:30:45 to finish", "12:30:45"),
    ],
)
def test_scrub_removes_query_strings_and_addresses(line, kept):
    scrubbed = scrub(line)
    assert kept in scrubbed
    for secret in ("abc", "203.0.113.9", "2001:db8::7", "code=K7", "SESSION_ID"):
        assert secret not in scrubbed


def test_the_filter_scrubs_tracebacks_too():
    try:
        raise ValueError("bad value in /s/x/?PROLIFIC_PID=abc from 198.51.100.4")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed %s", ("/p/?a=b",), sys.exc_info())
    NoParticipantTraces().filter(record)
    text = logging.Formatter().format(record)
    assert "Traceback" in text and "PROLIFIC_PID" not in text and "198.51.100.4" not in text
    assert "a=b" not in text


@pytest.mark.django_db
def test_a_stalled_participant_request_ends_on_the_try_again_page(client, shipped_study, monkeypatch):
    from survey.views.participant import consent

    def runaway(study):
        end = time.monotonic() + 60
        while time.monotonic() < end:
            pass

    client.get(f"/s/{shipped_study.slug}/")  # a first request, so the timed one is not slow to start
    monkeypatch.setattr(consent, "latest_published_version", runaway)
    client.raise_request_exception = False  # wherever the budget strikes, the answer is a page
    started = time.monotonic()
    with override_settings(CANDID_REQUEST_BUDGET_SECONDS=2):
        page = client.get(f"/s/{shipped_study.slug}/?{PROBE}")
    assert time.monotonic() - started < 30
    assert page.status_code == 503 and page["Retry-After"] == "5"
    assert "Please try again" in page.content.decode()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _gunicorn(tmp_path: Path, name: str, *, budget: str, timeout: str):
    from serving import start_gunicorn

    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CANDID_", "GUNICORN_"))},
        "DJANGO_SETTINGS_MODULE": "tests.stall_settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}",
        "CANDID_REQUEST_BUDGET_SECONDS": budget,
        "GUNICORN_CMD_ARGS": f"--workers 1 --timeout {timeout} --graceful-timeout 1",
    }
    log = tmp_path / f"{name}.log"
    port = _free_port()
    return start_gunicorn(env, port, log, probe="/ready/", access_log=True), port, log


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as answer:  # noqa: S310 (http to this machine)
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
    except (urllib.error.URLError, ConnectionError) as error:
        return 0, str(error)


def test_under_gunicorn_a_stall_gets_the_friendly_page_and_a_worker_timeout_logs_no_query(tmp_path):
    server, port, log = _gunicorn(tmp_path, "budget", budget="1", timeout="10")
    try:
        status, body = _get(f"http://127.0.0.1:{port}/s/stall/?{PROBE}")
    finally:
        server.terminate()
        server.wait(20)
    assert status == 503 and "Please try again" in body

    # Without the budget, gunicorn kills the worker and logs the request it was handling.
    server, port, killed_log = _gunicorn(tmp_path, "timeout", budget="0", timeout="2")
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=30) as raw:  # a malformed request
            raw.sendall(b"GET /s/x/?" + PROBE.encode() + b" HTTP/9.9\r\n\r\n")
            assert raw.recv(1024).startswith(b"HTTP/1.1 400")
        _get(f"http://127.0.0.1:{port}/s/stall/?{PROBE}")
    finally:
        server.terminate()
        server.wait(20)
    text = log.read_text() + killed_log.read_text()
    assert "WORKER TIMEOUT" in text and "Error handling request GET /s/stall/" in text
    assert "probe5f3e9a" not in text and "127.0.0.1" not in text


@pytest.mark.django_db
def test_the_budget_gives_back_an_alarm_set_before(client):
    import signal

    runner = signal.setitimer(signal.ITIMER_REAL, 250)  # as pytest-timeout does for each test
    try:
        with override_settings(CANDID_REQUEST_BUDGET_SECONDS=20):
            client.get("/")
        left, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 200 < left <= 250
    finally:
        signal.setitimer(signal.ITIMER_REAL, *runner)
