"""Export speed and memory: Candid's exports beside PostgreSQL's own COPY of the same rows (the floor).

A scratch database ``candid_bench`` is created on the PostgreSQL server, migrated, given the shipped
study, and bulk-loaded (COPY) with N synthetic responses of the shipped questionnaire (random valid
answers; labelled synthetic). Each export then runs in a fresh process (``manage.py
export_responses``, timed once its modules are imported) so its peak resident memory can be read;
beside it, in the same run,
``COPY (SELECT id, answers FROM survey_response) TO STDOUT (FORMAT csv)`` writes the same rows.

Run: ``.venv/bin/python bench/bench_export.py [--sizes 100000 1000000] [--formats csv parquet sav]``
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
SERVER = os.environ.get("PG_SERVER", "postgres://postgres@127.0.0.1:5432")
BENCH_DB = os.environ.get("CANDID_BENCH_DB", "candid_bench")  # one per helper on a shared server
STUDY = "trust-and-rating-systems"

CHILD = """
import json, resource, sys, time, os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
import django
django.setup()
from django.core.management import call_command, load_command_class
from io import StringIO
load_command_class("survey", "export_responses")  # imports (pandas, pyarrow...) are not the export
start = time.perf_counter()
call_command("export_responses", sys.argv[1], "--format", sys.argv[2], "-o", sys.argv[3], stdout=StringIO())
print(json.dumps({"seconds": time.perf_counter() - start, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def env(url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DJANGO_DEBUG": "0",
    }


def prepare(n: int) -> str:
    url = f"{SERVER}/{BENCH_DB}"
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {BENCH_DB}")
        admin.execute(f"CREATE DATABASE {BENCH_DB}")
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], env=env(url), check=True, cwd=ROOT)
    subprocess.run(
        [
            *manage,
            "shell",
            "-c",
            "from django.contrib.auth import get_user_model; get_user_model().objects.create_superuser('bench', password=None)",
        ],
        env=env(url),
        check=True,
        cwd=ROOT,
    )
    subprocess.run(
        [*manage, "load_study", "--owner", "bench"],
        env=env(url),
        check=True,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    load(url, n)
    return url


def load(url: str, n: int) -> None:
    with psycopg.connect(url) as db:
        study_id, version_id, consent_id = db.execute(
            "SELECT s.id, v.id, v.consent_id FROM survey_study s JOIN survey_questionnaireversion v ON v.study_id = s.id WHERE s.slug = %s",
            (STUDY,),
        ).fetchone()
        samples = db.execute("SELECT id, slug FROM survey_sample WHERE study_id = %s", (study_id,)).fetchall()
        questions = db.execute(
            "SELECT q.code, q.type, array_agg(c.code ORDER BY c.position) FROM survey_question q LEFT JOIN survey_choice c ON c.choice_list_id = q.choice_list_id "
            "WHERE q.version_id = %s AND q.type NOT IN ('note', 'matrix') GROUP BY q.code, q.type, q.position ORDER BY q.position",
            (version_id,),
        ).fetchall()
        rng = random.Random(5)
        today = date.today()
        # One release batch per sample holds the bulk-loaded responses (sizes are fixed up below).
        batches = {
            sample_id: db.execute(
                "INSERT INTO survey_releasebatch (study_id, sample_id, version_id, released_on, size, at_close)"
                " VALUES (%s, %s, %s, %s, 0, false) RETURNING id",
                (study_id, sample_id, version_id, today),
            ).fetchone()[0]
            for sample_id, _ in samples
        }
        with db.cursor().copy(
            "COPY survey_response (id, study_id, sample_id, version_id, consent_id, batch_id, language, answers,"
            " display, completed_on, duration_seconds, is_synthetic) FROM STDIN"
        ) as copy:
            for _ in range(n):
                answers = {}
                for code, qtype, choices in questions:
                    if qtype in {"single_choice", "likert"}:
                        answers[code] = rng.choice(choices)
                    elif qtype == "multiple_choice":
                        answers[code] = rng.sample(choices, rng.randint(1, 3))
                    elif qtype == "ranking":
                        answers[code] = rng.sample(choices, len(choices))
                    elif qtype in {"integer", "slider", "list_experiment"}:
                        answers[code] = rng.randint(0, 4)
                display = {
                    "seed": rng.randrange(2**31),
                    "sections": [],
                    "items": {},
                    "options": {},
                    "reversed": [],
                    "arms": {"le_scs": rng.choice(["control", "treatment"])},
                    "not_shown": [],  # stored at completion (issue 12): no relevance judged at export
                }
                sample_id, sample_slug = rng.choice(samples)
                copy.write_row(
                    (
                        uuid.uuid4(),
                        study_id,
                        sample_id,
                        version_id,
                        consent_id,
                        batches[sample_id],
                        "zh" if sample_slug == "china" else "en",
                        json.dumps(answers),
                        json.dumps(display),
                        today,
                        480,
                        True,
                    )
                )
        db.execute(
            "UPDATE survey_releasebatch b SET size = (SELECT count(*) FROM survey_response r WHERE r.batch_id = b.id)"
            " WHERE b.id = ANY(%s)",
            (list(batches.values()),),
        )
        db.commit()


def copy_floor(url: str, path: Path) -> float:
    start = time.perf_counter()
    query = "COPY (SELECT id, answers FROM survey_response) TO STDOUT (FORMAT csv)"
    with psycopg.connect(url) as db, open(path, "wb") as handle, db.cursor().copy(query) as copy:
        for block in copy:
            handle.write(block)
    return time.perf_counter() - start


def run_export(url: str, fmt: str, path: Path) -> dict[str, float]:
    result = subprocess.run(
        [sys.executable, "-c", CHILD, STUDY, fmt, str(path)],
        env=env(url),
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--formats", nargs="+", default=["csv", "parquet", "xlsx", "sav", "dta"])
    args = parser.parse_args()
    rows = []
    numeric = {}
    with tempfile.TemporaryDirectory() as folder:
        for n in args.sizes:
            url = prepare(n)
            floor = copy_floor(url, Path(folder) / "copy.csv")
            for fmt in args.formats:
                measured = run_export(url, fmt, Path(folder) / f"export.{fmt}")
                rows.append((n, fmt, measured["seconds"], floor, measured["peak_mb"]))
            numeric[n] = numeric_size(Path(folder) / "export.sav") if "sav" in args.formats else None
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {BENCH_DB}")
    print("\nExports of the shipped study (63 columns) from PostgreSQL; each export in a fresh process")
    print(f"{'responses':>10} {'format':>8} {'export':>10} {'COPY floor':>11} {'ratio':>6} {'peak RSS':>10}")
    csv_peak = {n: peak for n, fmt, _s, _f, peak in rows if fmt == "csv"}
    for n, fmt, seconds, floor, peak in rows:
        versus = f" {peak / csv_peak[n]:>5.1f}x CSV" if n in csv_peak and fmt in {"sav", "dta"} else ""
        print(
            f"{n:>10,} {fmt:>8} {seconds:>8.2f} s {floor:>9.2f} s {seconds / floor:>6.1f} {peak:>7.0f} MB{versus}"
        )
    for n, size in numeric.items():
        if size:
            print(
                f"{n:>10,} responses: the numeric data (8 bytes per numeric cell of the .sav) is {size:.0f} MB"
            )


def numeric_size(path: Path) -> float:
    """MB of the .sav's numeric cells held as doubles: the floor of any whole-frame writer."""
    import pyreadstat

    _, meta = pyreadstat.read_sav(str(path), metadataonly=True)
    numeric = sum(1 for kind in meta.original_variable_types.values() if not kind.startswith("A"))
    return meta.number_rows * numeric * 8 / 2**20


if __name__ == "__main__":
    main()
