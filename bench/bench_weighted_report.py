"""The claims report of the shipped study, unweighted beside raked to the shipped census margins: what
splitting its weighted figures by weighting class (``analysis.weighted_release``) costs.

SYNTHETIC data (``bench_report.synthetic``: the shipped codebook, random valid codes). Each variant
builds the report (``analysis.report.build_report``) with its one disclosure step given the class sizes
as known (``classes_table`` as ``fixed``, as ``survey.services.reports.report_classes`` does); printed:
weighting classes, seconds and the hidden figures' rows, or the refusal.

Run: ``.venv/bin/python bench/bench_weighted_report.py [--n 200 1000]``
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_report import MARGINS, shipped_codebook, synthetic  # noqa: E402


def built(frame, codebook, margins) -> tuple[int, int, int]:
    """The report built with the class sizes known: (classes, rows, hidden rows)."""
    from analysis.claims import load_registry
    from analysis.report import build_report, weight
    from analysis.suppression import disclose, row_keys
    from analysis.verdicts import design_classes
    from analysis.weighted_release import CLASSES, classes_table

    keys = row_keys(len(frame))
    classes = design_classes(weight(frame, margins)[0]) if margins is not None else None
    fixed = {f"{CLASSES}{classes.identity}": classes_table(keys, classes)} if classes is not None else {}
    counted: dict[str, int] = {}

    def decide(tables):
        decided = dict(disclose(tables, k=10, rounding=False, fixed=fixed).tables)
        counted["rows"] = sum(len(t) for t in decided.values())
        counted["hidden"] = sum(int(t["suppressed"].sum()) for t in decided.values())
        return decided

    build_report(frame, codebook, registry=load_registry(), margins=margins, keys=keys, disclosure=decide)
    return (classes.size if classes is not None else 1), counted["rows"], counted["hidden"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, nargs="+", default=[200, 1000])
    args = parser.parse_args()
    from analysis.suppression import WeightedReleaseTooLarge
    from analysis.weighting import read_margins

    codebook = shipped_codebook()
    for n in args.n:
        frame = synthetic(codebook, n)
        for name, margins in (("unweighted", None), ("census raking", read_margins(MARGINS))):
            start = time.perf_counter()
            try:
                classes, rows, hidden = built(frame, codebook, margins)
            except WeightedReleaseTooLarge as error:
                print(f"n {n:5d}  {name:14s} refused after {time.perf_counter() - start:.1f} s: {error}")
                continue
            seconds = time.perf_counter() - start
            print(f"n {n:5d}  {name:14s} classes {classes:3d}  {seconds:6.1f} s  hidden {hidden}/{rows} rows")


if __name__ == "__main__":
    main()
