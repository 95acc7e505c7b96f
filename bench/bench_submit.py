"""Submission throughput: the shipped study answered end to end through gunicorn (2 workers), beside a
bare Django view that stores one whole response in one transaction (the floor of the stack).

For each database (SQLite in WAL mode, PostgreSQL) a scratch database is migrated and given the shipped
study, and ``make serve``'s server (gunicorn, 2 sync workers, ``DJANGO_DEBUG=0``) is started with
``bench.settings`` (the site plus ``bench/floor.py``). Then, in alternating phases of equal length and
concurrency, measured side by side in one run:

- **Candid**: synthetic participants (``survey.simulation`` over real HTTP: cookies, CSRF, every page
  from consent to the thank-you page) answer the study;
- **floor**: the same number of client threads post one response's answers (32 answers, as JSON) to
  the bare insert view.

Cost per page = phase seconds / pages served (the server's capacity, since the clients keep it busy);
the ratio of Candid's cost per page to the floor's cost per request is the figure the hardening issue
targets (within 3x). Afterwards the complete responses stored by the participants must equal the
thank-you pages the generator received. The generator shares the machine's 2 cores with the server in
both phases alike.

Run: ``.venv/bin/python bench/bench_submit.py [--databases sqlite postgres] [--seconds 15] [--rounds 3]``
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
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import psycopg
from serving import start_gunicorn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SERVER = os.environ.get("PG_SERVER", "postgres://postgres@127.0.0.1:5432")
PG_DB = "candid_bench_submit"
PORT = 8798
STUDY = "trust-and-rating-systems"


class PhaseOver(Exception):
    """Raised by a client when its phase's time is up (the page in flight is not counted)."""


def environment(url: str, var: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DJANGO_DEBUG": "0",
        "CANDID_VAR_DIR": str(var),
    }


def prepare(database: str, var: Path) -> str:
    if database == "postgres":
        with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
            admin.execute(f"CREATE DATABASE {PG_DB}")
        url = f"{SERVER}/{PG_DB}"
    else:
        url = f"sqlite:///{var / 'bench.sqlite3'}"
    env = environment(url, var)
    manage = [sys.executable, "manage.py"]
    create_owner = (
        "from django.contrib.auth import get_user_model; "
        "get_user_model().objects.create_superuser('bench', password=None)"
    )
    for command in (
        ["migrate", "-v0"],
        ["shell", "-c", create_owner],
        ["load_study", "--owner", "bench"],
        ["collectstatic", "--noinput", "-v0"],
    ):
        subprocess.run([*manage, *command], env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return url


def start_server(url: str, var: Path) -> subprocess.Popen:
    return start_gunicorn(environment(url, var), PORT, var / "server.log", probe=f"/s/{STUDY}/")


class Tally:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.errors = 0
        self.completed = 0


def candid_client(tally: Tally, seed: int, deadline: float) -> None:
    from survey.simulation import HttpClient, Respondent, walk

    class Timed(HttpClient):
        def _open(self, path, data):
            if time.perf_counter() >= deadline:
                raise PhaseOver
            start = time.perf_counter()
            page = super()._open(path, data)
            elapsed = time.perf_counter() - start
            if time.perf_counter() < deadline:
                with tally.lock:
                    tally.latencies.append(elapsed)
                    tally.errors += page.status_code >= 500
            return page

    rng = random.Random(seed)
    while time.perf_counter() < deadline:
        sample = rng.choice(["china", "west"])
        client = Timed(f"http://127.0.0.1:{PORT}", language="zh-CN" if sample == "china" else "en")
        try:
            outcome = walk(client, f"/s/{STUDY}/{sample}/", Respondent(rng.randrange(2**31), sample))
        except PhaseOver:
            return
        if outcome.completed:
            with tally.lock:
                tally.completed += 1


def floor_client(tally: Tally, seed: int, deadline: float) -> None:
    rng = random.Random(seed)
    while True:
        answers = {
            f"q{i:02d}": rng.choice(["agree", "disagree", "neutral", 3, ["a", "b"]]) for i in range(32)
        }
        request = urllib.request.Request(
            f"http://127.0.0.1:{PORT}/bench/bare-insert/{STUDY}/",
            data=json.dumps(answers).encode(),
            headers={"Content-Type": "application/json"},
        )
        if time.perf_counter() >= deadline:
            return
        start = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=30) as reply:  # noqa: S310 — http to our server
                reply.read()
                failed = reply.status >= 500
        except urllib.error.HTTPError as error:
            failed = error.code >= 500
        elapsed = time.perf_counter() - start
        if time.perf_counter() < deadline:
            with tally.lock:
                tally.latencies.append(elapsed)
                tally.errors += failed
                tally.completed += 1


def worker_cpu_seconds(server: subprocess.Popen) -> float:
    """User + system CPU time of the gunicorn workers so far (from /proc)."""
    pids = subprocess.run(["pgrep", "-P", str(server.pid)], capture_output=True, text=True).stdout.split()
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / os.sysconf("SC_CLK_TCK")


def phase(
    kind: str, seconds: float, concurrency: int, seed: int, server: subprocess.Popen
) -> dict[str, float]:
    tally = Tally()
    cpu_before = worker_cpu_seconds(server)
    target = candid_client if kind == "candid" else floor_client
    start = time.perf_counter()
    deadline = start + seconds
    threads = [
        threading.Thread(target=target, args=(tally, seed * 1000 + i, deadline), daemon=True)
        for i in range(concurrency)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    cpu = worker_cpu_seconds(server) - cpu_before
    latencies = sorted(tally.latencies)
    return {
        "cpu_per_page_ms": 1000 * cpu / max(len(latencies), 1),
        "pages": len(latencies),
        "completed": tally.completed,
        "errors": tally.errors,
        "per_page_ms": 1000 * seconds / max(len(latencies), 1),
        "completed_per_s": tally.completed / seconds,
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))],
    }


# Complete responses, released or waiting for their release batch.
STORED_COMPLETE = (
    "SELECT (SELECT count(*) FROM survey_response WHERE NOT is_synthetic)"
    " + (SELECT count(*) FROM survey_pendingresponse WHERE status = 'complete' AND NOT is_synthetic)"
)


def stored_complete(database: str, url: str, var: Path) -> int:
    if database == "postgres":
        with psycopg.connect(url) as db:
            return db.execute(STORED_COMPLETE).fetchone()[0]
    import sqlite3

    with sqlite3.connect(var / "bench.sqlite3") as db:
        return db.execute(STORED_COMPLETE).fetchone()[0]


def run(database: str, seconds: float, rounds: int, concurrency: int) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        var = Path(folder)
        url = prepare(database, var)
        server = start_server(url, var)
        try:
            phase("candid", 3, concurrency, 999, server)  # warm both workers up
            phase("floor", 2, concurrency, 998, server)
            before = stored_complete(database, url, var)
            results: dict[str, list[dict]] = {"candid": [], "floor": []}
            for index in range(rounds):
                for kind in ("candid", "floor") if index % 2 == 0 else ("floor", "candid"):
                    results[kind].append(phase(kind, seconds, concurrency, index, server))
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
        stored = stored_complete(database, url, var) - before
    if database == "postgres":
        with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
    served = sum(r["completed"] for r in results["candid"])
    return {"results": results, "served": served, "stored": stored}


def median_of(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--databases", nargs="+", default=["sqlite", "postgres"])
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    failures = []
    lines = []
    for database in args.databases:
        outcome = run(database, args.seconds, args.rounds, args.concurrency)
        candid, floor = outcome["results"]["candid"], outcome["results"]["floor"]
        ratio = median_of(candid, "per_page_ms") / median_of(floor, "per_page_ms")
        cpu_ratio = median_of(candid, "cpu_per_page_ms") / median_of(floor, "cpu_per_page_ms")
        pages_per_response = sum(r["pages"] for r in candid) / max(outcome["served"], 1)
        lines.append(
            f"{database:>9} {'Candid':>7} {median_of(candid, 'completed_per_s'):>9.1f} "
            f"{pages_per_response:>7.1f} {median_of(candid, 'per_page_ms'):>9.1f} ms "
            f"{median_of(candid, 'p50_ms'):>7.0f} ms {median_of(candid, 'p99_ms'):>7.0f} ms "
            f"{sum(r['errors'] for r in candid):>4} {ratio:>6.2f} "
            f"{median_of(candid, 'cpu_per_page_ms'):>8.1f} ms {cpu_ratio:>6.2f}"
        )
        lines.append(
            f"{database:>9} {'floor':>7} {median_of(floor, 'completed_per_s'):>9.1f} {1:>7.1f} "
            f"{median_of(floor, 'per_page_ms'):>9.1f} ms {median_of(floor, 'p50_ms'):>7.0f} ms "
            f"{median_of(floor, 'p99_ms'):>7.0f} ms {sum(r['errors'] for r in floor):>4} {'1':>6} "
            f"{median_of(floor, 'cpu_per_page_ms'):>8.1f} ms {'1':>6}"
        )
        lines.append(
            f"{'':>9} thank-you pages served {outcome['served']}, complete responses stored {outcome['stored']}"
        )
        if outcome["served"] != outcome["stored"]:
            failures.append(f"{database}: {outcome['served']} thank-you pages but {outcome['stored']} stored")
        if any(r["errors"] for r in candid + floor):
            failures.append(f"{database}: server errors during the run")
    print(
        f"\nSubmission throughput: gunicorn with 2 workers, {args.concurrency} clients, "
        f"{args.rounds} x {args.seconds:.0f} s per side, medians"
    )
    print(
        f"{'database':>9} {'side':>7} {'resp./s':>9} {'pages':>7} {'per page':>12} {'p50':>10} {'p99':>10} "
        f"{'5xx':>4} {'ratio':>6} {'CPU/page':>11} {'ratio':>6}"
    )
    print("\n".join(lines))
    print(
        "per page = phase seconds / pages served (wall clock; the load generator shares the 2 cores);\n"
        "CPU/page = the gunicorn workers' CPU time / pages served (the server's own cost);\n"
        "ratio = Candid's figure per page / the bare insert's per request (target: within 3)"
    )
    for failure in failures:
        print(f"FAILED: {failure}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
