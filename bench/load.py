"""Load, faults and the anonymity audit, against the production-style server on PostgreSQL.

``make load``   N concurrent synthetic participants (default 200) for T seconds (default 120) against
                gunicorn (2 workers) on a scratch database; then checks: no 5xx, every "thank you"
                served has exactly one committed response, and the anonymity audit.
``make faults`` the same, restarting PostgreSQL and SIGKILLing a gunicorn worker halfway; participants
                whose page failed retry (every write is one transaction and idempotent), and the same
                checks must hold.

The participants are ``survey.simulation`` respondents driven by ``HttpClient`` (real HTTP, cookies,
CSRF) from threads. The audit dumps the database (``pg_dump``) and reads the server and worker logs,
failing if a distinctive IP (sent as X-Forwarded-For), user agent, referrer or panel id appears, and
computes Spearman's rank correlation between response ids and arrival order (must be |rho| < 0.1).
Run by hand; not part of ``make test``.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
from pathlib import Path

import psycopg
from serving import start_gunicorn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SERVER = os.environ.get("PG_SERVER", "postgres://postgres@127.0.0.1:5432")
DB = "candid_load"
PORT = 8797
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


class Recorder:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.statuses: list[int] = []
        self.receipts: list[str] = []  # in arrival order
        self.retries = 0


def participant(recorder: Recorder, seed: int, deadline: float) -> None:
    from survey.simulation import HttpClient, Respondent, walk

    class Retrying(HttpClient):
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
                    return page
                with recorder.lock:
                    recorder.retries += 1
                time.sleep(0.3 * (attempt + 1))  # the "try again" page: try again, a little later
            raise RuntimeError("gave up after 30 attempts")

    rng = random.Random(seed)
    while time.monotonic() < deadline:
        sample = rng.choice(["china", "west"])
        client = Retrying(f"http://127.0.0.1:{PORT}", language="zh-CN" if sample == "china" else "en")
        client.opener.addheaders += [
            ("User-Agent", PROBE["agent"]),
            ("Referer", PROBE["referrer"]),
            ("X-Forwarded-For", PROBE["ip"]),
        ]
        outcome = walk(
            client,
            f"/s/{STUDY}/{sample}/?PROLIFIC_PID={PROBE['panel']}",
            Respondent(rng.randrange(2**31), sample),
        )
        if outcome.completed:
            with recorder.lock:
                recorder.receipts.append(outcome.receipt_code)


def inject_faults(server: subprocess.Popen, at: float, events: list[str]) -> None:
    time.sleep(at)
    cluster = sorted(os.listdir("/etc/postgresql"))[0]
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", cluster, "main", "restart"],
        check=True,
        capture_output=True,
    )
    events.append(f"PostgreSQL restarted at t={at:.0f}s")
    time.sleep(5)
    workers = subprocess.run(["pgrep", "-P", str(server.pid)], capture_output=True, text=True).stdout.split()
    if workers:
        os.kill(int(workers[0]), signal.SIGKILL)
        events.append(f"gunicorn worker {workers[0]} killed with SIGKILL at t={at + 5:.0f}s")


def spearman(a: list[float], b: list[float]) -> float:
    from scipy.stats import spearmanr

    return float(spearmanr(a, b).statistic)


TIME_OF_DAY = re.compile(r"\b\d{2}:\d{2}:\d{2}")
PARTICIPANT_TABLES = ("survey_response", "survey_studycounter", "survey_armsequence", "survey_ratebucket")


def participant_tables(dump: str) -> dict[str, list[str]]:
    """The data rows ``pg_dump --data-only`` wrote for each table that holds participants' traces."""
    tables: dict[str, list[str]] = {}
    current = None
    for line in dump.splitlines():
        if line.startswith("COPY public."):
            name = line.split()[1].removeprefix("public.")
            current = name if name in PARTICIPANT_TABLES else None
            if current:
                tables[current] = []
        elif line == "\\.":
            current = None
        elif current:
            tables[current].append(line)
    return tables


def audit(recorder: Recorder, logs: list[Path]) -> list[str]:
    """Failures of the anonymity audit (empty when it passes)."""
    import hashlib
    import hmac

    failures = []
    dump = subprocess.run(
        ["pg_dump", "--data-only", f"{SERVER}/{DB}"], capture_output=True, text=True, check=True
    ).stdout
    text = dump + "\n".join(log.read_text(errors="replace") for log in logs if log.exists())
    for name, value in PROBE.items():
        if value in text:
            failures.append(f"the {name} {value!r} was stored or logged")
    # Participants' tables hold dates only (durations rounded to 30 s): no time of day at all.
    for table, rows in participant_tables(dump).items():
        stamped = [row for row in rows if TIME_OF_DAY.search(row)]
        if stamped:
            failures.append(f"{len(stamped)} rows of {table} hold a time of day, e.g. {stamped[0][:120]!r}")
    hashes = [
        hmac.new(RECEIPT_KEY.encode(), f"receipt:{code}".encode(), hashlib.sha256).hexdigest()
        for code in recorder.receipts
    ]
    with psycopg.connect(f"{SERVER}/{DB}") as db:
        ids = dict(
            db.execute(
                "SELECT receipt_hash, id FROM survey_response WHERE receipt_hash IS NOT NULL"
            ).fetchall()
        )
    arrival = [
        float(ids[h].int >> 75) for h in hashes if h in ids
    ]  # top 53 bits: exact as a float, same ranks

    if len(arrival) >= 50:
        rho = spearman(list(range(len(arrival))), arrival)
        print(f"Spearman rho between arrival order and response id: {rho:+.3f} over {len(arrival)} responses")
        if abs(rho) >= 0.1:
            failures.append(f"response ids correlate with arrival order (rho = {rho:+.3f})")
    return failures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=120)
    parser.add_argument("--faults", action="store_true")
    args = parser.parse_args()
    log = ROOT / "var" / "load" / "server.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    prepare()
    server = start_server(log)
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

    with psycopg.connect(f"{SERVER}/{DB}") as db:
        stored = db.execute("SELECT count(*) FROM survey_response WHERE status = 'complete'").fetchone()[0]
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
    failures = []
    if served != stored:
        failures.append(f"{served} thank-you pages but {stored} complete responses stored")
    if len(set(recorder.receipts)) != served:
        failures.append("a receipt code was served twice")
    if five_xx and not args.faults:
        failures.append(f"{five_xx} server errors without any fault injected")
    failures += audit(recorder, [log])
    print("Anonymity audit and consistency: " + ("PASSED" if not failures else "FAILED"))
    for failure in failures:
        print(f"  - {failure}")
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
