"""Analysis speed: every claim-relevant estimate on 1,000,000 synthetic responses with raked weights,
beside a plain pandas ``groupby().mean()`` pass over the same frame (the floor), measured in one run.

The estimate set: raking to four census-style margins, then 30 statistics (shares of categorical
answers and means of numeric ones), each overall and by a five-level domain, with design-based SEs
that account for the raking. Peak memory is measured in a fresh child process (``ru_maxrss``) so
the data generation does not count twice.

Run: ``.venv/bin/python bench/bench_analysis.py [--n 1000000]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

CATEGORICAL = [f"c{i:02d}" for i in range(20)]
NUMERIC = [f"x{i:02d}" for i in range(10)]
MARGINS = pd.DataFrame(
    {
        "variable": ["age_band"] * 5 + ["gender"] * 2 + ["education"] * 3 + ["urban"] * 2,
        "category": [
            "18_29",
            "30_39",
            "40_49",
            "50_59",
            "60_plus",
            "f",
            "m",
            "primary",
            "secondary",
            "college",
            "urban",
            "rural",
        ],
        "share": [0.19, 0.19, 0.20, 0.19, 0.23, 0.49, 0.51, 0.21, 0.60, 0.19, 0.64, 0.36],
    }
)


def synthetic(n: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    data = {
        "age_band": rng.choice(
            ["18_29", "30_39", "40_49", "50_59", "60_plus"], n, p=[0.34, 0.28, 0.19, 0.12, 0.07]
        ),
        "gender": rng.choice(["f", "m"], n),
        "education": rng.choice(["primary", "secondary", "college"], n, p=[0.1, 0.45, 0.45]),
        "urban": rng.choice(["urban", "rural"], n, p=[0.78, 0.22]),
    }
    for name in CATEGORICAL:
        data[name] = rng.choice(["a", "b", "c", "d", "e"], n)
    for name in NUMERIC:
        data[name] = rng.normal(5, 2, n)
    return pd.DataFrame(data)


def floor(frame: pd.DataFrame) -> None:
    """The floor: unweighted means of every variable overall and by the domain, no SEs."""
    indicators = pd.DataFrame(
        {f"{c}_a": frame[c].eq("a") for c in CATEGORICAL} | {x: frame[x] for x in NUMERIC}
    )
    indicators.mean()
    indicators.groupby(frame["age_band"]).mean()


def candid(frame: pd.DataFrame) -> int:
    from analysis import SurveyDesign, mean, proportion, rake

    design, _report = rake(SurveyDesign(frame), MARGINS)
    count = 0
    for name in CATEGORICAL:
        count += len(proportion(design, name)) + len(proportion(design, name, by="age_band"))
    for name in NUMERIC:
        count += len(mean(design, name)) + len(mean(design, name, by="age_band"))
    return count


def timed(fn, *args, repeats: int = 3) -> float:
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(*args)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def child(n: int) -> None:
    """Run once in a fresh process and report the peak resident memory of the estimation."""
    from memory import measure

    print(json.dumps(measure(candid, synthetic(n))))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.n)
        return
    frame = synthetic(args.n)
    floor_seconds = timed(floor, frame)
    candid_seconds = timed(candid, frame, repeats=1 if args.n >= 500_000 else 3)
    memory = json.loads(
        subprocess.run(
            [sys.executable, __file__, "--child", "--n", str(args.n)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    estimates = candid(frame.head(1000))
    print(
        f"\nAnalysis, {args.n:,} responses; raked to 4 margins; {len(CATEGORICAL)} shares + {len(NUMERIC)} means, overall and by a 5-level domain ({estimates} estimate rows)"
    )
    print(f"{'pandas groupby().mean() floor':42} {floor_seconds:8.2f} s")
    print(
        f"{'Candid (weights, SEs, CIs, deff)':42} {candid_seconds:8.2f} s   ratio {candid_seconds / floor_seconds:5.1f}x"
    )
    print(
        f"{'peak resident memory, whole process':42} {memory['peak_mb']:8.0f} MB (after generating the data: {memory['data_mb']:.0f} MB)"
    )
    print(f"{'peak memory allocated by the estimation':42} {memory['traced_mb']:8.0f} MB (tracemalloc)")


if __name__ == "__main__":
    main()
