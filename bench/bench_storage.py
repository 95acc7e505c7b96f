"""Answer storage layouts, measured side by side: one JSON column per response vs one row per answer.

For each database (SQLite file, and PostgreSQL when it answers) both layouts are loaded with the
same N synthetic responses of 32 answers, then timed on the two operations that matter:

- page write: store one page (6 answers) of a random response, as a participant's "Next" does;
- read-all: every response of the study into one wide table (what export and analysis need).

Run: ``.venv/bin/python bench/bench_storage.py [--n 100000] [--pages 2000]``. Prints medians and
the ratio EAV / JSON (above 1: the JSON layout is faster).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import statistics
import tempfile
import time
import uuid
from pathlib import Path

CODES = [f"q{i:02d}" for i in range(32)]
PAGE = CODES[6:12]
PG_URL = os.environ.get("PG_URL", "postgres://postgres@127.0.0.1:5432/test")


def answers(rng: random.Random) -> dict[str, object]:
    return {
        code: (rng.choice(["a", "b", "c", "d"]) if i % 3 else rng.randint(0, 10))
        for i, code in enumerate(CODES)
    }


def timed(fn, repeats: int = 3) -> float:
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


class Layouts:
    """The two layouts on one DB-API connection; ``param`` is the driver's placeholder."""

    def __init__(self, connection, param: str, json_type: str) -> None:
        self.db, self.p, self.json_type = connection, param, json_type

    def setup(self, n: int, seed: int) -> list[str]:
        cur = self.db.cursor()
        for table in ("bench_json", "bench_eav", "bench_resp"):
            cur.execute(f"DROP TABLE IF EXISTS {table}")
        cur.execute(
            f"CREATE TABLE bench_json (id VARCHAR(36) PRIMARY KEY, answers {self.json_type} NOT NULL)"
        )
        cur.execute("CREATE TABLE bench_resp (id VARCHAR(36) PRIMARY KEY)")
        cur.execute(
            "CREATE TABLE bench_eav (response_id VARCHAR(36) NOT NULL, code VARCHAR(64) NOT NULL, value TEXT NOT NULL, PRIMARY KEY (response_id, code))"
        )
        rng = random.Random(seed)
        ids = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(n)]
        rows = [(rid, answers(rng)) for rid in ids]
        p = self.p
        cur.executemany(
            f"INSERT INTO bench_json VALUES ({p}, {p})", [(rid, json.dumps(a)) for rid, a in rows]
        )
        cur.executemany(f"INSERT INTO bench_resp VALUES ({p})", [(rid,) for rid, _ in rows])
        cur.executemany(
            f"INSERT INTO bench_eav VALUES ({p}, {p}, {p})",
            [(rid, c, json.dumps(v)) for rid, a in rows for c, v in a.items()],
        )
        self.db.commit()
        return ids

    def write_json(self, rid: str, page: dict[str, object]) -> None:
        cur = self.db.cursor()
        cur.execute(f"SELECT answers FROM bench_json WHERE id = {self.p}", (rid,))
        stored = cur.fetchone()[0]
        stored = json.loads(stored) if isinstance(stored, str) else stored
        stored.update(page)
        cur.execute(
            f"UPDATE bench_json SET answers = {self.p} WHERE id = {self.p}", (json.dumps(stored), rid)
        )
        self.db.commit()

    def write_eav(self, rid: str, page: dict[str, object]) -> None:
        cur = self.db.cursor()
        marks = ", ".join([self.p] * len(page))
        cur.execute(f"DELETE FROM bench_eav WHERE response_id = {self.p} AND code IN ({marks})", (rid, *page))
        cur.executemany(
            f"INSERT INTO bench_eav VALUES ({self.p}, {self.p}, {self.p})",
            [(rid, c, json.dumps(v)) for c, v in page.items()],
        )
        self.db.commit()

    def read_json(self) -> int:
        cur = self.db.cursor()
        cur.execute("SELECT id, answers FROM bench_json")
        rows = [(rid, json.loads(a) if isinstance(a, str) else a) for rid, a in cur.fetchall()]
        return len(rows)

    def read_eav(self) -> int:
        cur = self.db.cursor()
        cur.execute("SELECT response_id, code, value FROM bench_eav ORDER BY response_id, code")
        wide: dict[str, dict[str, object]] = {}
        for rid, code, value in cur.fetchall():
            wide.setdefault(rid, {})[code] = json.loads(value)
        return len(wide)

    def drop(self) -> None:
        cur = self.db.cursor()
        for table in ("bench_json", "bench_eav", "bench_resp"):
            cur.execute(f"DROP TABLE IF EXISTS {table}")
        self.db.commit()


def measure(name: str, layouts: Layouts, n: int, pages: int) -> dict[str, float]:
    ids = layouts.setup(n, seed=7)
    rng = random.Random(11)
    targets = [(rng.choice(ids), {c: rng.choice(["a", "b", "c"]) for c in PAGE}) for _ in range(pages)]
    write_json = timed(lambda: [layouts.write_json(rid, page) for rid, page in targets]) / pages
    write_eav = timed(lambda: [layouts.write_eav(rid, page) for rid, page in targets]) / pages
    read_json = timed(layouts.read_json)
    read_eav = timed(layouts.read_eav)
    layouts.drop()
    return {
        "db": name,
        "write_json_ms": write_json * 1000,
        "write_eav_ms": write_eav * 1000,
        "read_json_s": read_json,
        "read_eav_s": read_eav,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--pages", type=int, default=2000)
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as folder:
        db = sqlite3.connect(Path(folder) / "bench.sqlite3")
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        results.append(
            measure("SQLite (WAL, synchronous=FULL)", Layouts(db, "?", "TEXT"), args.n, args.pages)
        )
        db.close()
    try:
        import psycopg

        pg = psycopg.connect(PG_URL)
        results.append(measure("PostgreSQL", Layouts(pg, "%s", "JSONB"), args.n, args.pages))
        pg.close()
    except Exception as error:
        print(f"PostgreSQL skipped: {error}")
    print(
        f"\nAnswer storage, {args.n:,} responses x {len(CODES)} answers; page write = {len(PAGE)} answers, median of 3 runs"
    )
    print(
        f"{'database':34} {'page write JSON':>16} {'page write EAV':>15} {'ratio':>6} {'read-all JSON':>14} {'read-all EAV':>13} {'ratio':>6}"
    )
    for r in results:
        print(
            f"{r['db']:34} {r['write_json_ms']:>13.3f} ms {r['write_eav_ms']:>12.3f} ms {r['write_eav_ms'] / r['write_json_ms']:>6.2f}"
            f" {r['read_json_s']:>12.3f} s {r['read_eav_s']:>11.3f} s {r['read_eav_s'] / r['read_json_s']:>6.2f}"
        )
    print("ratio = EAV / JSON: above 1 means one JSON column per response is faster.")


if __name__ == "__main__":
    main()
