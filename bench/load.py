"""Load, faults and the anonymity audit, against the production-style server on PostgreSQL.

``make load``   N concurrent synthetic participants (default 200) for T seconds (default 120) against
                gunicorn (2 workers) and the background worker on a scratch database; then checks:
                no 5xx, no participant ended on an error page, every "thank you" served has exactly
                one committed response, and the anonymity audit.
``make faults`` the same, restarting PostgreSQL and SIGKILLing a gunicorn worker halfway; participants
                whose page failed retry (every write is one transaction and idempotent), and the same
                checks must hold.

The participants are ``survey.simulation`` respondents driven by ``HttpClient`` (real HTTP, cookies,
CSRF) from threads; one in four double-clicks every button (two requests with the same cookies at
once, the page shown being whichever answer came last), as people do. The audit is
``manage.py anonymity_audit`` over the database, a ``pg_dump``, the server and worker logs and
PostgreSQL's own log lines for the scratch database, with the receipt codes in the order they were
shown as the known arrivals and a distinctive IP (sent as X-Forwarded-For), user agent, referrer and
panel id as probes: it must find no trace and no response narrowed to fewer than k.
Run by hand; not part of ``make test``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
from pathlib import Path

import psycopg
from serving import start_gunicorn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SERVER = os.environ.get("PG_SERVER", "postgres://postgres@127.0.0.1:5432")
DB = "candid_load"  # --database
PORT = 8797  # --port
STUDY = "trust-and-rating-systems"
RECEIPT_KEY = "load-test-receipt-key"
PROBE = {
    "ip": "198.51.100.73",
    "agent": "CandidLoadProbe/7.3",
    "referrer": "https://ref.example/secret-path",
    "panel": "pid-8c1f2e9a",
}


def environment() -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": f"{SERVER}/{DB}",
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DJANGO_DEBUG": "0",
        "CANDID_RECEIPT_KEY": RECEIPT_KEY,
        "CANDID_VAR_DIR": str(ROOT / "var" / "load"),
    }


def prepare() -> None:
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {DB}")
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "-v0"], env=environment(), cwd=ROOT, check=True)
    subprocess.run(
        [
            *manage,
            "shell",
            "-c",
            "from django.contrib.auth import get_user_model; get_user_model().objects.create_superuser('load', password=None)",
        ],
        env=environment(),
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    subprocess.run(
        [*manage, "load_study", "--owner", "load"],
        env=environment(),
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    subprocess.run([*manage, "collectstatic", "--noinput", "-v0"], env=environment(), cwd=ROOT, check=True)


def start_server(log: Path) -> subprocess.Popen:
    return start_gunicorn(environment(), PORT, log, access_log=True)


def start_worker(log: Path) -> subprocess.Popen:
    """The background worker ``make serve`` runs beside gunicorn (it scrubs the tables after releases)."""
    return subprocess.Popen(
        [sys.executable, "manage.py", "db_worker", "--no-startup-delay", "--interval", "0.5"],
        env=environment(),
        cwd=ROOT,
        stdout=open(log, "w"),  # the worker writes to it until it stops
        stderr=subprocess.STDOUT,
    )


def drain_worker(seconds: float = 120) -> None:
    """Wait until the worker has run every queued task (the scrubs after the last releases)."""
    with psycopg.connect(f"{SERVER}/{DB}") as db:
        for _ in range(int(seconds * 2)):
            waiting = db.execute(  # the scrubs run 10 s after the last release
                "SELECT count(*) FROM django_tasks_database_dbtaskresult WHERE status IN ('READY', 'RUNNING')"
                " AND run_after <= now() + interval '1 minute'"
            ).fetchone()[0]
            if not waiting:
                return
            time.sleep(0.5)


class Recorder:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.statuses: list[int] = []
        self.receipts: list[str] = []  # in the order the thank-you pages were shown
        self.retries = 0
        self.double_clickers = 0
        self.error_endings: list[int] = []  # the status of the last page of participants who did not finish
        self.gave_up: list[str] = []  # why participants stopped trying (an exception in their thread)


def participant(recorder: Recorder, seed: int, deadline: float) -> None:
    from survey.simulation import HttpClient, Respondent, walk

    class Retrying(HttpClient):
        last_status = 0

        def _open(self, path, data):
            for attempt in range(30):
                start = time.perf_counter()
                try:
                    page = super()._open(path, data)
                except (urllib.error.URLError, ConnectionError, TimeoutError):
                    page = None
                with recorder.lock:
                    if page is not None:
                        recorder.latencies.append(time.perf_counter() - start)
                        recorder.statuses.append(page.status_code)
                if page is not None and page.status_code < 500:
                    self.last_status = page.status_code
                    return page
                with recorder.lock:
                    recorder.retries += 1
                time.sleep(0.3 * (attempt + 1))  # the "try again" page: try again, a little later
            raise RuntimeError("gave up after 30 attempts")

    class DoubleClicking(Retrying):
        """Every button pressed twice at once; the browser shows the answer that arrives last."""

        def post(self, path, data, **_):
            shown, failed = [], []

            def click() -> None:
                try:
                    shown.append(self._open(path, data))
                except Exception as error:  # gave up: counted below, not lost with the thread
                    failed.append(error)

            clicks = [threading.Thread(target=click) for _ in range(2)]
            for thread in clicks:
                thread.start()
            for thread in clicks:
                thread.join()
            if not shown:
                raise failed[0]
            return shown[-1]

    rng = random.Random(seed)
    while time.monotonic() < deadline:
        sample = rng.choice(["china", "west"])
        kind = DoubleClicking if rng.random() < 0.25 else Retrying
        client = kind(f"http://127.0.0.1:{PORT}", language="zh-CN" if sample == "china" else "en")
        client.opener.addheaders += [
            ("User-Agent", PROBE["agent"]),
            ("Referer", PROBE["referrer"]),
            ("X-Forwarded-For", PROBE["ip"]),
        ]
        try:
            outcome = walk(
                client,
                f"/s/{STUDY}/{sample}/?PROLIFIC_PID={PROBE['panel']}",
                Respondent(rng.randrange(2**31), sample),
            )
        except Exception as error:  # a participant who gave up is an error ending, not a lost thread
            with recorder.lock:
                recorder.double_clickers += kind is DoubleClicking
                recorder.error_endings.append(client.last_status)
                recorder.gave_up.append(f"{type(error).__name__}: {error}"[:200])
            continue
        with recorder.lock:
            recorder.double_clickers += kind is DoubleClicking
            if outcome.completed:
                recorder.receipts.append(outcome.receipt_code)
            else:
                recorder.error_endings.append(client.last_status)


def inject_faults(server: subprocess.Popen, at: float, events: list[str]) -> None:
    time.sleep(at)
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", *serving_cluster(), "restart"],
        check=True,
        capture_output=True,
    )
    events.append(f"PostgreSQL restarted at t={at:.0f}s")
    time.sleep(5)
    workers = subprocess.run(["pgrep", "-P", str(server.pid)], capture_output=True, text=True).stdout.split()
    if workers:
        os.kill(int(workers[0]), signal.SIGKILL)
        events.append(f"gunicorn worker {workers[0]} killed with SIGKILL at t={at + 5:.0f}s")


def serving_cluster() -> tuple[str, str]:
    """The version and name of the local PostgreSQL cluster listening on ``SERVER``'s port."""
    port = urllib.parse.urlsplit(SERVER).port or 5432
    for line in subprocess.run(
        ["pg_lsclusters", "-h"], capture_output=True, text=True, check=True
    ).stdout.splitlines():
        version, name, listening = line.split()[:3]
        if listening == str(port):
            return version, name
    raise RuntimeError(f"no local PostgreSQL cluster listens on port {port} (pg_lsclusters)")


def postgresql_log_lines(since: int) -> Path | None:
    """PostgreSQL's own log lines about the scratch database written since byte ``since``."""
    path = postgresql_log()
    if path is None:
        return None
    extract = ROOT / "var" / "load" / "postgresql.log"
    with open(path, "rb") as log:
        log.seek(since)
        extract.write_bytes(b"".join(line for line in log if f"@{DB} ".encode() in line))
    return extract


def postgresql_log() -> Path | None:
    with psycopg.connect(f"{SERVER}/postgres") as db:
        current = db.execute("SELECT pg_current_logfile()").fetchone()[0]
        directory = db.execute("SHOW data_directory").fetchone()[0]
        version = db.execute("SHOW server_version_num").fetchone()[0][:2]
    candidates = [Path(directory) / current] if current else []
    try:
        name = serving_cluster()[1]
    except (OSError, RuntimeError, subprocess.CalledProcessError):  # not a local Debian cluster
        name = "main"
    candidates.append(Path(f"/var/log/postgresql/postgresql-{version}-{name}.log"))
    return next((path for path in candidates if path.exists() and os.access(path, os.R_OK)), None)


def audit(recorder: Recorder, logs: list[Path]) -> tuple[list[str], dict]:
    """The anonymity audit (``manage.py anonymity_audit``): its failures and its measurements."""
    folder = ROOT / "var" / "load"
    dump = folder / "dump.sql"
    with open(dump, "wb") as handle:  # (pg_dump's warning about circular keys is of no concern here)
        subprocess.run(
            ["pg_dump", "--data-only", f"{SERVER}/{DB}"], stdout=handle, stderr=subprocess.DEVNULL, check=True
        )
    arrivals = folder / "arrivals.txt"
    arrivals.write_text("\n".join(recorder.receipts), encoding="utf-8")
    measured = folder / "audit.json"
    command = [
        sys.executable,
        "manage.py",
        "anonymity_audit",
        "--dump",
        str(dump),
        "--arrivals",
        str(arrivals),
    ]
    command += [f"--log={log}" for log in logs if log.exists()]
    command += [f"--probe={value}" for value in PROBE.values()]
    result = subprocess.run(
        [*command, "--json", str(measured)], env=environment(), cwd=ROOT, capture_output=True, text=True
    )
    print(result.stdout.rstrip())
    if not measured.exists():
        return [f"the anonymity audit did not run: {result.stderr.strip()[-400:]}"], {}
    report = json.loads(measured.read_text())
    return ([] if report["passed"] else ["the anonymity audit failed (above)"]), report


def main() -> None:
    global DB, PORT
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=120)
    parser.add_argument("--faults", action="store_true")
    parser.add_argument("--database", default=DB, help=f"the scratch database (default {DB}; dropped first)")
    parser.add_argument("--port", type=int, default=PORT, help=f"gunicorn's port (default {PORT})")
    parser.add_argument(
        "--keep", action="store_true", help="keep the scratch database afterwards (to audit it again)"
    )
    args = parser.parse_args()
    DB, PORT = args.database, args.port
    folder = ROOT / "var" / "load"
    folder.mkdir(parents=True, exist_ok=True)
    log, worker_log = folder / "server.log", folder / "worker.log"
    prepare()
    pg_log = postgresql_log()
    pg_log_start = pg_log.stat().st_size if pg_log else 0
    server = start_server(log)
    worker = start_worker(worker_log)
    recorder, events = Recorder(), []
    started = time.monotonic()
    deadline = started + args.seconds
    threads = [
        threading.Thread(target=participant, args=(recorder, seed, deadline), daemon=True)
        for seed in range(args.participants)
    ]
    if args.faults:
        threads.append(
            threading.Thread(target=inject_faults, args=(server, args.seconds / 2, events), daemon=True)
        )
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=args.seconds + 600)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    elapsed = time.monotonic() - started
    drain_worker()
    worker.send_signal(signal.SIGTERM)
    worker.wait(timeout=30)

    with psycopg.connect(f"{SERVER}/{DB}") as db:
        stored = db.execute(
            "SELECT (SELECT count(*) FROM survey_response)"
            " + (SELECT count(*) FROM survey_pendingresponse WHERE status = 'complete')"
        ).fetchone()[0]
    served = len(recorder.receipts)
    five_xx = sum(1 for s in recorder.statuses if s >= 500)
    latencies = sorted(recorder.latencies)
    print(
        f"\nLoad: {args.participants} concurrent participants for {args.seconds} s against gunicorn (2 workers) on PostgreSQL"
        + (" with faults" if args.faults else "")
    )
    for event in events:
        print(f"  fault: {event}")
    print(f"  completed responses: {served} ({served / elapsed:.1f} per second); stored complete: {stored}")
    print(
        f"  pages: {len(latencies)}; p50 {1000 * statistics.median(latencies):.0f} ms, p99 {1000 * latencies[int(0.99 * (len(latencies) - 1))]:.0f} ms"
    )
    print(f"  responses >= 500 seen: {five_xx}; retries after a failed page: {recorder.retries}")
    print(
        f"  participants who double-clicked every button: {recorder.double_clickers};"
        f" participants who ended on an error page: {len(recorder.error_endings)}"
        + (f" (last statuses {sorted(set(recorder.error_endings))})" if recorder.error_endings else "")
    )
    for reason in sorted(set(recorder.gave_up)):
        print(f"  gave up: {reason}")
    failures = []
    if served != stored:
        failures.append(f"{served} thank-you pages but {stored} complete responses stored")
    if len(set(recorder.receipts)) != served:
        failures.append("a receipt code was served twice")
    if five_xx and not args.faults:
        failures.append(f"{five_xx} server errors without any fault injected")
    if recorder.error_endings:
        failures.append(f"{len(recorder.error_endings)} participants ended on an error page")
    logs = [log, worker_log]
    extract = postgresql_log_lines(pg_log_start)
    if extract is not None:
        logs.append(extract)
    audit_failures, report = audit(recorder, logs)
    failures += audit_failures
    if report:
        print(
            f"  anonymity audit: smallest set a known completion time narrows a response to: {report['smallest_set']}"
            f" (k = {report['k']}); released {report['released']}, waiting for their batch {report['pending']}"
        )
    print("Consistency and anonymity: " + ("PASSED" if not failures else "FAILED"))
    for failure in failures:
        print(f"  - {failure}")
    if not args.keep:
        with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
