"""The results build of the shipped study, unweighted beside raked and post-stratified: what weighting
adds to the one disclosure step (every weighted row split by weighting class, ``analysis.weighted_release``).

SYNTHETIC data (``bench_report.synthetic``: the shipped codebook, random valid codes). Each variant
builds the results tables by sample (``analysis.results.results_tables``) and decides them with the
number of responses, item non-response and the flag counts in one ``disclose`` call, with the class
sizes known (``classes_table`` as ``fixed``); printed: classes, seconds (median of ``--repeats``) and
the hidden rows.

Run: ``.venv/bin/python bench/bench_weighted.py [--n 1000] [--repeats 3]``
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_report import MARGINS, shipped_codebook, synthetic  # noqa: E402


def variants(frame: pd.DataFrame) -> dict:
    from analysis import schema
    from analysis.design import SurveyDesign
    from analysis.weighting import poststratify, rake_samples, read_margins

    design = SurveyDesign(frame, strata=schema.SAMPLE)
    margins = read_margins(MARGINS)
    raked, _reports = rake_samples(design, margins, sample=schema.SAMPLE)
    # What the results page's "rake to" choice gives (``ResultsOptions.rake_on``): fewer classes.
    chosen = margins[margins["variable"].isin(["gender", "age_band"])]
    raked_two, _reports = rake_samples(design, chosen, sample=schema.SAMPLE)

    def cells(*variables: str) -> pd.DataFrame:
        found = frame.groupby(list(variables), observed=True).size().reset_index(name="count")
        found["count"] = found["count"] * np.linspace(0.5, 2.0, len(found)) * 1000  # other shares
        return found.astype(dict.fromkeys(variables, str))

    return {
        "unweighted": design,
        "raked (shipped margins)": raked,
        "raked to gender and age_band": raked_two,
        "post-stratified (sample x gender)": poststratify(design, cells(schema.SAMPLE, "gender")),
        "post-stratified (sample x gender x education)": poststratify(
            design, cells(schema.SAMPLE, "gender", "education")
        ),
    }


def decided(design, codebook, keys) -> tuple[int, int, int]:
    from analysis import schema
    from analysis.release import NONRESPONSE, RESPONSES, nonresponse_table, responses_table
    from analysis.results import results_tables
    from analysis.suppression import disclose
    from analysis.weighted_release import CLASSES, classes_table, weighting_classes

    _context, _items, tables = results_tables(design, codebook, by=(schema.SAMPLE,), keys=keys)
    extra = {RESPONSES: responses_table(keys), NONRESPONSE: nonresponse_table(design.data, codebook, keys)}
    classes = weighting_classes(design.w)
    fixed = {f"{CLASSES}{classes.identity}": classes_table(keys, classes)} if classes.size > 1 else {}
    release = disclose({**tables, **extra}, k=10, fixed=fixed)
    rows = sum(len(release[name]) for name in tables)
    hidden = sum(int(release[name]["suppressed"].sum()) for name in tables)
    return classes.size, rows, hidden


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    from analysis.results import categorised
    from analysis.suppression import WeightedReleaseTooLarge, row_keys

    codebook = shipped_codebook()
    frame = categorised(synthetic(codebook, args.n), codebook)
    keys = row_keys(len(frame))
    for name, design in variants(frame).items():
        times, found = [], (0, 0, 0)
        for _ in range(args.repeats):
            start = time.perf_counter()
            try:
                found = decided(design, codebook, keys)
            except WeightedReleaseTooLarge as error:
                print(f"{name:36s} refused after {time.perf_counter() - start:.2f} s: {error}")
                break
            times.append(time.perf_counter() - start)
        if not times:
            continue
        classes, rows, hidden = found
        print(
            f"{name:36s} classes {classes:4d}  {sorted(times)[len(times) // 2]:6.2f} s  hidden {hidden}/{rows} rows"
        )


if __name__ == "__main__":
    main()
