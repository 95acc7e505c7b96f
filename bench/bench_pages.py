"""Page render times: every participant page type and the analyst pages, with 1,000 and with 100,000
responses stored, measured in one run (the ratio shows whether a page slows down as data grows).

A scratch PostgreSQL database is given the shipped study and bulk-loaded with synthetic responses
(``bench_export.load``). Pages are requested in-process through Django's full stack (middleware,
sessions, CSRF, templates; ``DJANGO_DEBUG=0``) with its test client, so the times are the server's
own, without a network or a load generator. Synthetic participants (``survey.simulation``) walk the
study; every request is timed and classed by what it served.

The claims report is timed twice: built from the responses (what the first view after any change,
or the background worker for a large study, does) and kept (every later view until the data changes).

Run: ``.venv/bin/python bench/bench_pages.py [--small 1000] [--large 100000] [--participants 40]``
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import bench_export  # noqa: E402 — the scratch database and its bulk loader

STUDY = bench_export.STUDY
ORDER = [
    "consent page",
    "consent given (redirect)",
    "consent declined",
    "question page",
    "page saved (redirect)",
    "page re-shown with errors",
    "thank-you page",
    "withdrawal form",
    "withdrawal done",
    "analyst: monitoring",
    "analyst: claims report (built)",
    "analyst: claims report (kept)",
    "analyst: claims report, raked (built)",
    "analyst: claims report, raked (kept)",
    "analyst: export form",
]


def classify(method: str, path: str, status: int, content: bytes) -> str:
    if path == "/withdraw/":
        return "withdrawal form" if method == "GET" else "withdrawal done"
    if path.startswith("/studies/"):
        return "analyst"
    if b'id="receipt-code"' in content:
        return "thank-you page"
    if "/p/" not in path:
        if method == "GET":
            return "consent page"
        return "consent given (redirect)" if status == 302 else "consent declined"
    if method == "POST":
        return "page saved (redirect)" if status == 302 else "page re-shown with errors"
    return "question page"


def measure(participants: int, reports: int) -> dict[str, list[float]]:
    from django.contrib.auth import get_user_model
    from django.test import Client

    from survey.simulation import CONSENT_KEY, Respondent, hidden_fields, walk

    times: dict[str, list[float]] = defaultdict(list)
    weights: dict[str, list[int]] = defaultdict(list)

    class Timed(Client):
        label: str | None = None

        def request(self, **request):
            start = time.perf_counter()
            response = super().request(**request)
            elapsed = time.perf_counter() - start
            label = self.label or classify(
                request["REQUEST_METHOD"], request["PATH_INFO"], response.status_code, response.content
            )
            if response.status_code >= 500:
                raise RuntimeError(f"{request['PATH_INFO']} answered {response.status_code}")
            times[label].append(elapsed)
            if response.status_code != 302 and not label.startswith("analyst"):
                weights[label].append(page_weight(response.content))
            return response

    receipts = []
    for seed in range(participants):
        sample = ("china", "west")[seed % 2]
        client = Timed(HTTP_ACCEPT_LANGUAGE="zh-CN" if sample == "china" else "en")
        outcome = walk(client, f"/s/{STUDY}/{sample}/", Respondent(seed, sample))
        receipts.append(outcome.receipt_code)
        # A participant who sends a page with nothing filled in: the page comes back with errors.
        client = Timed(HTTP_ACCEPT_LANGUAGE="en")
        page = client.get(f"/s/{STUDY}/west/")
        if CONSENT_KEY.search(page.content.decode()):
            consent = {**hidden_fields(page.content.decode()), "agree": "yes", "action": "agree"}
            page = client.post(f"/s/{STUDY}/west/", consent, follow=True)
            client.post(page.wsgi_request.path, {**hidden_fields(page.content.decode()), "action": "next"})
        # And one who declines.
        client = Timed(HTTP_ACCEPT_LANGUAGE="en")
        page = client.get(f"/s/{STUDY}/west/")
        client.post(f"/s/{STUDY}/west/", {**hidden_fields(page.content.decode()), "action": "decline"})
    for receipt in receipts[: min(len(receipts), 40)]:  # the withdrawal rate limit allows 60 a minute
        client = Timed(HTTP_ACCEPT_LANGUAGE="en", enforce_csrf_checks=False)
        client.get("/withdraw/")
        client.post("/withdraw/", {"code": receipt, "action": "confirm"})

    analyst = Timed()
    analyst.force_login(get_user_model().objects.get(username="bench"))
    for _ in range(reports * 4):
        analyst.label = "analyst: monitoring"
        analyst.get(f"/studies/{STUDY}/")
        analyst.label = "analyst: export form"
        analyst.get(f"/studies/{STUDY}/export/")
    from django.test import override_settings

    from survey.models import ReportSnapshot

    with override_settings(CANDID_REPORT_INLINE_MAX=10**9):  # build in the request, to time the build
        for _ in range(reports):
            for weights, label in (("", "claims report"), ("?weights=census", "claims report, raked")):
                ReportSnapshot.objects.all().delete()
                analyst.label = f"analyst: {label} (built)"
                analyst.get(f"/studies/{STUDY}/report/{weights}")
                analyst.label = f"analyst: {label} (kept)"
                analyst.get(f"/studies/{STUDY}/report/{weights}")
    return {"times": times, "weights": weights}


STATIC = ROOT / "survey" / "static"
ASSET = re.compile(rb'(?:href|src)="/static/([^"?]+)"')


def page_weight(html: bytes) -> int:
    """Bytes a first visit downloads: the HTML and every stylesheet and script it names (uncompressed)."""
    return len(html) + sum((STATIC / name.decode()).stat().st_size for name in ASSET.findall(html))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * (len(ordered) - 1) + 0.5))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--participants", type=int, default=40)
    parser.add_argument("--reports", type=int, default=5)
    args = parser.parse_args()
    url = bench_export.prepare(args.small)
    os.environ.update(bench_export.env(url))
    os.environ["DJANGO_ALLOWED_HOSTS"] = "testserver"
    os.environ["CANDID_VAR_DIR"] = str(ROOT / "var" / "bench")
    import django

    django.setup()
    from django.db import connections

    results = {}
    try:
        results["small"] = measure(args.participants, args.reports)
        connections.close_all()
        bench_export.load(url, args.large - args.small)
        results["large"] = measure(args.participants, args.reports)
    finally:
        connections.close_all()
        import psycopg

        with psycopg.connect(f"{bench_export.SERVER}/postgres", autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {bench_export.BENCH_DB} WITH (FORCE)")

    print(
        f"\nPage render times (in-process, Django's full stack, PostgreSQL), with {args.small:,} and "
        f"{args.large:,} complete responses stored"
    )
    print(
        f"{'page':<40} {'n':>5} {'p50 small':>10} {'p50':>9} {'p99':>9} {'p50 ratio':>10}   (p50/p99 at {args.large:,})"
    )
    for label in ORDER:
        small, large = results["small"]["times"].get(label), results["large"]["times"].get(label)
        if not small or not large:
            print(f"{label:<40} (not reached)")
            continue
        print(
            f"{label:<40} {len(large):>5} {1000 * statistics.median(small):>7.1f} ms "
            f"{1000 * statistics.median(large):>6.1f} ms {1000 * percentile(large, 0.99):>6.1f} ms "
            f"{statistics.median(large) / statistics.median(small):>10.2f}"
        )
    print("p50 ratio = median at the large size / median at the small size (1 = flat in the data)")
    print("\nParticipant page weight (HTML + the stylesheets and scripts it names, uncompressed bytes)")
    print(f"{'page':<40} {'median':>8} {'largest':>8}")
    for label in ORDER:
        sizes = results["large"]["weights"].get(label)
        if sizes:
            print(f"{label:<40} {int(statistics.median(sizes)):>8,} {max(sizes):>8,}")


if __name__ == "__main__":
    main()
