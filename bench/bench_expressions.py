"""Expression evaluation per page: what one participant request evaluates, timed in-process.

Two workloads: the shipped questionnaire (every page's relevance, as the participant page computes
its progress bar, and every constraint), and a heavy synthetic page of 60 questions whose relevance
and constraints use the functions real forms use (``selected``, ``count-selected``, date arithmetic,
``regex``, ``concat``, ``if``, ``coalesce``, ``round``). Printed: microseconds per page, and the ratio
of ``CANDID_EXPRESSION_BUDGET_SECONDS`` to that time (how many such pages fit in the budget).

``--old PATH`` also times an older evaluator, given as the path of its ``logic.py`` (for instance
``git show d03e715:survey/logic.py > /tmp/logic_old.py``), side by side on the expressions it can
parse, and prints the ratio.

Run: ``.venv/bin/python bench/bench_expressions.py [--repeat 2000] [--old /tmp/logic_old.py]``
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402

from survey.logic import ExpressionError, parse  # noqa: E402

HEAVY = [
    ("${q{i}} >= 4 and selected(${m{i}}, 'x')", "regex(., '^[A-Z][0-9]{{3}}$')"),
    ("count-selected(${m{i}}) > 1 or ${q{i}} = ''", ". <= ${cap} and . >= 0"),
    ("int((today() - ${dob}) div 365.25) >= 18", "string-length(.) <= 40"),
    ("if(${q{i}} > 2, 'a', 'b') = 'a'", "not(selected(., 'none') and count-selected(.) > 1)"),
    ("coalesce(${t{i}}, 'none') != 'none'", "round(. * 100, 2) < 1000"),
    ("concat(${t{i}}, '-', ${q{i}}) != '-'", "contains(., '@') and ends-with(., '.org')"),
]


def heavy_page(size: int = 60) -> list[tuple[str, str, Any]]:
    page = []
    for i in range(size):
        relevance, constraint = HEAVY[i % len(HEAVY)]
        page.append((relevance.replace("{i}", str(i % 7)), constraint.replace("{i}", str(i % 7)), "A123"))
    return page


HEAVY_ANSWERS = {
    **{f"q{i}": i for i in range(7)},
    **{f"m{i}": ["x", "y"] for i in range(7)},
    **{f"t{i}": "text" for i in range(7)},
    "dob": "1990-03-01",
    "cap": 50,
}


def shipped_page() -> tuple[list[tuple[str, str, Any]], dict[str, Any]]:
    from survey.instrument_files import read_questionnaire_file

    spec = read_questionnaire_file(
        ROOT / "survey" / "fixtures" / "trust_and_rating_systems" / "questionnaire.xlsx"
    )
    page = []
    for section in spec["sections"]:
        page.append((section["relevance"], "", ""))
        for question in section["questions"]:
            page.append((question["relevance"], question.get("constraint", ""), ["nobody"]))
    return page, {"aware_scores": ["sesame"], "turn_to": ["nobody"]}


def time_page(parse_function, page, answers, repeat: int) -> float:
    """Microseconds per evaluation of every expression on ``page`` (parsed once, as the server caches)."""
    parsed = []
    for relevance, constraint, value in page:
        for source, current in ((relevance, ""), (constraint, value)):
            if source:
                try:
                    parsed.append((parse_function(source), current))
                except (ExpressionError, ValueError):
                    continue
    started = time.perf_counter()
    for _ in range(repeat):
        for expression, current in parsed:
            expression.is_true(answers, current)
    return (time.perf_counter() - started) / repeat * 1e6


def load_old(path: str):
    spec = importlib.util.spec_from_file_location("old_logic", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["old_logic"] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module.parse


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2000)
    parser.add_argument("--old", help="path of an older survey/logic.py to time side by side")
    args = parser.parse_args()
    budget = settings.CANDID_EXPRESSION_BUDGET_SECONDS or 2.0
    shipped, shipped_answers = shipped_page()
    workloads = [
        ("shipped questionnaire, all pages", shipped, shipped_answers),
        ("heavy page, 60 questions", heavy_page(), HEAVY_ANSWERS),
    ]
    old_parse = load_old(args.old) if args.old else None
    print(f"{'workload':36} {'µs/page':>10} {'pages/budget':>13} {'old µs':>9} {'old/new':>8}")
    for name, page, answers in workloads:
        new = time_page(parse, page, answers, args.repeat)
        line = f"{name:36} {new:10.1f} {budget / (new / 1e6):13.0f}"
        if old_parse is not None:
            old = time_page(old_parse, page, answers, args.repeat)
            line += f" {old:9.1f} {old / new:8.2f}"
        print(line)
    print("(old: only the expressions the old grammar parses; its regex() ran on Python's re)")


if __name__ == "__main__":
    main()
