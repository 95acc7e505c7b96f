"""Analysis speed: every claim-relevant estimate on 1,000,000 synthetic responses with raked weights,
beside a plain pandas ``groupby().mean()`` pass over the same frame (the floor), measured in one run.

The estimate set: raking to four census-style margins, then 30 statistics (shares of categorical
answers and means of numeric ones), each overall and by a five-level domain, with design-based SEs
that account for the raking. The same set on a bootstrap design with 80 replicates (created from
the frame, raked replicate by replicate) is measured against the same floor, and a logistic
``glm`` with 10 predictors on the raked design against a plain statsmodels fit of the same model
(formula, weights, IRLS) and against statsmodels' IRLS alone on a prebuilt matrix. Peak memory is measured in a fresh child process (``ru_maxrss``) so the
data generation does not count twice.

Run: ``.venv/bin/python bench/bench_analysis.py [--n 1000000] [--replicates 80]``
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


def estimate_set(design) -> int:
    from analysis import mean, proportion

    count = 0
    for name in CATEGORICAL:
        count += len(proportion(design, name)) + len(proportion(design, name, by="age_band"))
    for name in NUMERIC:
        count += len(mean(design, name)) + len(mean(design, name, by="age_band"))
    return count


def candid(frame: pd.DataFrame) -> int:
    from analysis import SurveyDesign, rake

    design, _report = rake(SurveyDesign(frame), MARGINS)
    return estimate_set(design)


def replicate_design(frame: pd.DataFrame, replicates: int):
    """80 bootstrap replicates of the frame's rows, raked (every replicate) to the margins."""
    from analysis import SurveyDesign, as_replicate, rake

    design = as_replicate(SurveyDesign(frame), "bootstrap", replicates=replicates, seed=1)
    return rake(design, MARGINS)[0]


def candid_replicates(frame: pd.DataFrame, replicates: int) -> int:
    return estimate_set(replicate_design(frame, replicates))


GLM_FORMULA = (
    "agree ~ " + " + ".join(NUMERIC[:6]) + " + gender + education + urban"
)  # 10 coefficients besides the intercept


def with_outcome(frame: pd.DataFrame) -> pd.DataFrame:
    rng = np.random.default_rng(2)
    score = 0.2 * (frame["x00"] - 5) - 0.1 * (frame["x01"] - 5) + 0.3 * (frame["urban"] == "urban")
    return frame.assign(agree=(rng.random(len(frame)) < 1 / (1 + np.exp(-score))).astype(float))


def candid_glm(frame: pd.DataFrame) -> int:
    from analysis import SurveyDesign, glm, rake

    design, _report = rake(SurveyDesign(frame), MARGINS)
    return len(glm(design, GLM_FORMULA, "quasibinomial").coefficients)


def statsmodels_glm(frame: pd.DataFrame, weights: np.ndarray) -> int:
    import statsmodels.api as sm
    import statsmodels.formula.api as smf

    fit = smf.glm(GLM_FORMULA, data=frame, family=sm.families.Binomial(), var_weights=weights).fit()
    return len(fit.params)


def model_matrix(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The same model's outcome and design matrix, built once outside the timer (patsy)."""
    import patsy

    y, x = patsy.dmatrices(GLM_FORMULA, frame, return_type="matrix")
    return np.asarray(y).ravel(), np.asarray(x)


def statsmodels_glm_matrix(y: np.ndarray, x: np.ndarray, weights: np.ndarray) -> int:
    """The strictest floor: statsmodels' IRLS alone, on a prebuilt matrix."""
    import statsmodels.api as sm

    return len(sm.GLM(y, x, family=sm.families.Binomial(), var_weights=weights).fit().params)


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
    parser.add_argument("--replicates", type=int, default=80)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.n)
        return
    frame = with_outcome(synthetic(args.n))
    repeats = 1 if args.n >= 500_000 else 3
    floor_seconds = timed(floor, frame, repeats=5)  # cheap: the median of five steadies the ratio
    candid_seconds = timed(candid, frame, repeats=repeats)
    create_seconds = timed(replicate_design, frame, args.replicates, repeats=repeats)
    replicated = replicate_design(frame, args.replicates)
    replicate_seconds = timed(estimate_set, replicated, repeats=repeats)
    del replicated
    from analysis import SurveyDesign, rake

    raked_weights = rake(SurveyDesign(frame), MARGINS)[0].w
    statsmodels_seconds = timed(statsmodels_glm, frame, raked_weights, repeats=repeats)
    y, x = model_matrix(frame)
    matrix_seconds = timed(statsmodels_glm_matrix, y, x, raked_weights, repeats=repeats)
    del y, x
    glm_seconds = timed(candid_glm, frame, repeats=repeats)
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
        f"{f'bootstrap, {args.replicates} replicates: create + rake':42} {create_seconds:8.2f} s   ratio {create_seconds / floor_seconds:5.1f}x"
    )
    print(
        f"{f'bootstrap, {args.replicates} replicates: the estimates':42} {replicate_seconds:8.2f} s   ratio {replicate_seconds / floor_seconds:5.1f}x"
    )
    total_replicates = create_seconds + replicate_seconds
    print(
        f"{'bootstrap, all of it':42} {total_replicates:8.2f} s   ratio {total_replicates / floor_seconds:5.1f}x"
    )
    print(f"\nLogistic regression, 10 predictors ({GLM_FORMULA})")
    print(f"{'statsmodels smf.glm(...).fit(), weighted':42} {statsmodels_seconds:8.2f} s")
    print(f"{'statsmodels sm.GLM(...).fit(), prebuilt matrix':42} {matrix_seconds:8.2f} s")
    print(
        f"{'Candid glm on the raked design (rake + fit + design SEs)':42} {glm_seconds:8.2f} s   ratio {glm_seconds / statsmodels_seconds:5.1f}x"
        f" (to the prebuilt-matrix fit {glm_seconds / matrix_seconds:5.1f}x)"
    )
    print(
        f"{'peak resident memory, whole process':42} {memory['peak_mb']:8.0f} MB (after generating the data: {memory['data_mb']:.0f} MB)"
    )
    print(f"{'peak memory allocated by the estimation':42} {memory['traced_mb']:8.0f} MB (tracemalloc)")


if __name__ == "__main__":
    main()
