"""The long fuzz run: every fuzz test of the suite (``-m fuzz``) with 10,000 generated cases each.

The same tests run with 500 cases in ``make test``. Targets: the expression parser and evaluator
(random text, and sequences of the language's own tokens), the XLSForm importer (generated workbooks
and random bytes) and every participant endpoint (consent, pages, language switch, withdrawal, with
and without a response under way, with garbage headers, query strings and form fields). A target
passes when no generated case raised an unhandled exception or broke its test's promise (a clear
refusal, no 5xx, nothing changed). Prints one row per target from Hypothesis' own statistics.

Run: ``.venv/bin/python bench/fuzz.py [--examples 10000]`` (or ``make fuzz``); SQLite, in memory.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STATS = re.compile(r"(\d+) passing, (\d+) failing, and (\d+) invalid")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=10_000)
    args = parser.parse_args()
    # The suite's own settings (pyproject.toml), not the demo settings that make exports.
    environment = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}}
    environment["CANDID_FUZZ_EXAMPLES"] = str(args.examples)
    start = time.perf_counter()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-m",
            "fuzz",
            "-q",
            "--hypothesis-show-statistics",
            # 10,000 cases a target take minutes: no per-test limits here
            "--timeout=0",
            "-o",
            "faulthandler_timeout=0",
        ],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - start
    rows, test = [], None
    for line in result.stdout.splitlines():
        if line.startswith("tests/") and line.rstrip().endswith(":"):
            test = line.rstrip(":").split("::")[-1]
        match = STATS.search(line)
        if match and test:
            rows.append((test, *map(int, match.groups())))
            test = None
    print(f"\nFuzz run: {args.examples:,} generated cases per target ({elapsed:.0f} s in all)")
    print(f"{'target':<70} {'passing':>8} {'failing':>8} {'invalid':>8}")
    for name, passing, failing, invalid in rows:
        print(f"{name:<70} {passing:>8,} {failing:>8} {invalid:>8}")
    short = [r for r in rows if r[1] < args.examples]
    if result.returncode != 0 or not rows or short:
        print(result.stdout[-6000:])
        print(result.stderr[-2000:])
        print("FAILED: " + ("a target ran fewer cases than asked" if short else "see the output above"))
        sys.exit(1)
    print("Every target: zero unhandled exceptions.")


if __name__ == "__main__":
    main()
