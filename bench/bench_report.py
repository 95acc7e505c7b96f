"""The full claims report and the full results build on 1,000,000 responses of the shipped study,
each beside a plain pandas pass over the same frame (the floor), measured in one run.

The frame has the shipped study's columns (its codebook, from the shipped XLSForm) filled with random
valid codes from a seeded generator — SYNTHETIC data; the report says so. Candid's side is
``analysis.report.build_report`` with ``analysis/claims/margins_china_2020.csv`` (raking, every
claim's design-based estimate and verdict, subgroup and sample panels, small-cell suppression) and
``render_html``. The floor is one unweighted ``groupby(sample)[variable].value_counts(normalize=True)``
per categorical variable and ``groupby(sample).mean()`` of the numeric ones. The results build is
what the results page computes (``analysis.results.build_results`` by sample, unweighted, with
every question's estimates, CIs, design effects, Rao–Scott tests and the one disclosure step; the
data-quality flags; item non-response), then the aggregate download (tidy CSV and XLSX) from it.
Peak memory is read in a fresh child process.

Run: ``.venv/bin/python bench/bench_report.py [--n 1000000] [--repeats 3] [--cpu] [--no-memory]``
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

from analysis import schema  # noqa: E402
from analysis.codebook import Codebook, codebook_from_specs  # noqa: E402

SHIPPED = ROOT / "survey" / "fixtures" / "trust_and_rating_systems"
MARGINS = ROOT / "analysis" / "claims" / "margins_china_2020.csv"


def shipped_codebook() -> Codebook:
    import django

    django.setup()  # the XLSForm reader lives in the Django app; it needs no database
    from survey.xlsform import read_xlsform

    spec = read_xlsform((SHIPPED / "questionnaire.xlsx").read_bytes())
    return codebook_from_specs(
        study="trust-and-rating-systems",
        title="Trust and rating systems",
        languages=spec["languages"],
        specs=[(1, spec)],
        synthetic=True,
    )


def synthetic(codebook: Codebook, n: int, seed: int = 2017) -> pd.DataFrame:
    """Random valid values for every column (5% of answers missing, none of the weighting variables'); labelled synthetic."""
    from analysis.weighting import read_margins

    rng = np.random.default_rng(seed)
    complete = set(read_margins(MARGINS)["variable"])  # weighting needs these answered
    columns: dict[str, object] = {
        schema.RESPONSE_ID: pd.Series(rng.integers(0, 2**62, n)).map("{:016x}".format),
        schema.SAMPLE: rng.choice(["china", "west"], n, p=[0.6, 0.4]),
        schema.LANGUAGE: "en",
        schema.QUESTIONNAIRE_VERSION: 1,
        schema.CONSENT_VERSION: 1,
        schema.COMPLETED_ON: "2026-11-26",
        schema.DURATION: rng.integers(120, 1800, n),
        schema.SYNTHETIC: 1,
        schema.SEED: rng.integers(0, 2**31, n),
        schema.PAGE_ORDER: "",
    }
    for variable in codebook.variables:
        name = variable.name
        if name in columns:
            continue
        if variable.kind in {"binary", "flag"}:
            columns[name] = rng.integers(0, 2, n)
        elif variable.kind in {"count", "numeric"}:
            columns[name] = rng.integers(0, 5, n)
        elif variable.kind == "arm":
            columns[name] = rng.choice(["control", "treatment"], n)
        elif variable.value_labels:
            values = pd.Series(rng.choice(list(variable.value_labels), n), dtype="str")
            columns[name] = values if name in complete else values.mask(rng.random(n) < 0.05)
        else:
            columns[name] = pd.Series([None] * n, dtype="str")
    return pd.DataFrame(columns).reindex(columns=codebook.names)


def floor(frame: pd.DataFrame, codebook: Codebook) -> None:
    grouped = frame.groupby(schema.SAMPLE)
    for variable in codebook.variables:
        if variable.kind in {"categorical", "ordinal"}:
            grouped[variable.name].value_counts(normalize=True)
    grouped[[v.name for v in codebook.variables if v.kind in {"binary", "count", "numeric"}]].mean()


def candid(frame: pd.DataFrame, codebook: Codebook) -> int:
    from analysis.claims import load_registry
    from analysis.report import build_report, render_html
    from analysis.weighting import read_margins

    built = build_report(frame, codebook, registry=load_registry(), margins=read_margins(MARGINS))
    html = render_html(built)
    assert "SYNTHETIC" in html.upper()
    return len(built["claims"]) if "claims" in built else len(built)


def results(frame: pd.DataFrame, codebook: Codebook) -> dict:
    """What the results page builds (``survey.services.results.compute_results`` without the
    database): the tables, the number of responses, item non-response and the flag counts through
    one disclosure step, as a payload the downloads are written from."""
    from analysis.design import SurveyDesign
    from analysis.quality import quality_flags
    from analysis.release import (
        FLAG_COUNTS,
        NONRESPONSE,
        RESPONSES,
        flags_table,
        nonresponse_table,
        responses_table,
    )
    from analysis.results import categorised, released_results, results_tables
    from analysis.suppression import disclose, row_keys

    parameters = {"attention": {"correct": "somewhat_disagree"}}
    frame = categorised(frame, codebook)  # as survey.services.results does
    flags = quality_flags(frame, codebook, parameters=parameters)
    keys = row_keys(len(frame))
    design = SurveyDesign(frame, strata=schema.SAMPLE)
    context, items, tables = results_tables(design, codebook, by=(schema.SAMPLE,), keys=keys)
    extra = {
        RESPONSES: responses_table(keys),
        NONRESPONSE: nonresponse_table(frame, codebook, keys),
        FLAG_COUNTS: flags_table(flags, keys, frame=frame, parameters=parameters),
    }
    built = released_results(context, items, list(tables), disclose({**tables, **extra}, k=10))
    table = built.table.astype(object).where(built.table.notna(), None)
    return {
        "table": table.to_dict("records"),
        "data": "synthetic",
        "k": 10,
        "n": built.n,
        "flags": int(flags["flagged"].sum()),
        "weighting": {"method": "none"},
    }


def downloads(payload: dict) -> int:
    from analysis.aggregates import write_csv, write_xlsx

    notes = {"study": "trust-and-rating-systems", "title": "Trust and rating systems"}
    return len(write_csv(payload, notes)) + len(write_xlsx(payload, notes))


def timed(fn, *args, repeats: int) -> float:
    return timed_result(fn, *args, repeats=repeats)[0]


CLOCK = time.perf_counter  # --cpu: time.process_time, this process's CPU time (a shared machine)


def timed_result(fn, *args, repeats: int) -> tuple[float, object]:
    """The median time of ``repeats`` calls, and what the last call returned."""
    times, result = [], None
    for _ in range(repeats):
        start = CLOCK()
        result = fn(*args)
        times.append(CLOCK() - start)
    return sorted(times)[len(times) // 2], result


def child(n: int) -> None:
    """In a fresh process: the peak resident memory, and the peak the report itself allocates."""
    from memory import measure

    codebook = shipped_codebook()
    frame = synthetic(codebook, n)
    memory = measure(candid, frame, codebook)
    print(json.dumps({**memory, "frame_mb": frame.memory_usage(deep=True).sum() / 2**20}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--cpu",
        action="store_true",
        help="time CPU seconds of this process instead of wall-clock seconds (fairer when others load the machine)",
    )
    parser.add_argument(
        "--no-memory", action="store_true", help="skip the peak-memory run in a child process"
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.n)
        return
    global CLOCK
    if args.cpu:
        CLOCK = time.process_time
    codebook = shipped_codebook()
    frame = synthetic(codebook, args.n)
    floor_seconds = timed(floor, frame, codebook, repeats=args.repeats)
    candid_seconds = timed(candid, frame, codebook, repeats=args.repeats)
    results_seconds, payload = timed_result(results, frame, codebook, repeats=args.repeats)
    download_seconds = timed(downloads, payload, repeats=args.repeats)
    memory = (
        None
        if args.no_memory
        else json.loads(
            subprocess.run(
                [sys.executable, __file__, "--child", "--n", str(args.n)],
                capture_output=True,
                text=True,
                check=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
    )
    clock = "CPU seconds of this process" if args.cpu else "wall-clock seconds"
    print(
        f"\nThe claims report on {args.n:,} SYNTHETIC responses of the shipped study "
        f"({len(codebook.names)} columns), raked to the census margins; medians of {args.repeats}, {clock}"
    )
    print(f"{'plain pandas pass (value_counts, means by sample)':52} {floor_seconds:8.2f} s")
    print(
        f"{'Candid claims report (raking, SEs, verdicts, panels)':52} {candid_seconds:8.2f} s"
        f"   ratio {candid_seconds / floor_seconds:5.1f}x"
    )
    print(
        f"{'Candid results build (every question, flags, SDC)':52} {results_seconds:8.2f} s"
        f"   ratio {results_seconds / floor_seconds:5.1f}x"
    )
    print(
        f"{'aggregate download from it (tidy CSV + XLSX)':52} {download_seconds:8.2f} s"
        f"   ({len(payload['table']):,} rows)"
    )
    if memory is None:
        return
    print(
        f"{'peak resident memory, whole process':52} {memory['peak_mb']:8.0f} MB "
        f"(reached generating the data: {memory['data_mb']:.0f} MB; the frame itself {memory['frame_mb']:.0f} MB)"
    )
    print(f"{'peak memory allocated by the report itself':52} {memory['traced_mb']:8.0f} MB (tracemalloc)")


if __name__ == "__main__":
    main()
