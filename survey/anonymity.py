"""The anonymity audit: what a copy of the database, a dump and the logs reveal about arrival order.

The question (issue 10, item 4): someone holds the database files (write-ahead log included), a dump
and the logs, and knows when a person finished. How few responses can they narrow that person's
response down to? Candid's answer is its release batches (``services.releases``); this module
measures what the files actually say, without trusting that design:

- **Classes.** Released responses that share every value an outsider can order by time (the release
  batch, the completion date, PostgreSQL's ``xmin``) cannot be told apart by time: the smallest such
  class is the smallest set a known completion time narrows a response to, *unless* some physical
  order ranks the responses inside their classes by arrival.
- **Physical orders.** For responses whose arrival order is known (``arrivals``: receipt codes in the
  order their participants finished), Spearman's rank correlation between arrival and every order
  the files hold: the rowid, the position of the row in the database file and in the write-ahead log
  (SQLite), ``ctid`` and ``xmin`` (PostgreSQL), the order of rows in the dump, and the ids
  themselves; overall (batches are released in time order, so this may be high) and pooled within
  classes (which must be near zero). Spearman's rho is computed on ranks (average ranks for ties) as
  in ``scipy.stats.spearmanr`` (Spearman 1904; Zar, *Biostatistical Analysis*, 5th ed., ch. 19).
- **Traces.** Logs and dumps are searched for response ids and keyed hashes, participant URLs with a
  query string, SQL statements on participants' tables, and any probe value given (an IP address,
  user agent, referrer or panel id a test participant sent).

Responses still waiting for their batch are counted apart: a copy taken before their release
narrows them to the few waiting (the README says so).
"""

from __future__ import annotations

import re
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# An order follows arrival inside classes when |rho| reaches 0.2 and is that far from zero with
# p < 0.00001. An audit measures about six orders, so a copy whose batches are shuffled is flagged
# by chance about once in 20,000 audits (at p < 0.001 it was once in some 170: a random uuid4 order
# was once flagged at rho -0.24, p 0.0006, over 200 responses). A real leak is far below either:
# rho 0.9 over 20 responses has p < 1e-7, rho 0.5 over 200 has p < 1e-12.
WITHIN_LIMIT = 0.2
WITHIN_P = 0.00001
MIN_PAIRS = 20
HEX_ID = re.compile(rb"[0-9a-f]{32}")
DASHED_ID = re.compile(rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
HASH = re.compile(rb"\b[0-9a-f]{64}\b")
# A keyed hash as a database file stores it: between the length byte and the next column's bytes.
STORED_HASH = re.compile(rb"[0-9a-f]{64}")
PARTICIPANT_QUERY = re.compile(rb"/(?:s|withdraw)/[^\s\"']*\?[^\s\"']+")
PARTICIPANT_SQL = re.compile(rb"(?:STATEMENT|DETAIL|ERROR)[^\n]*survey_(?:pending)?response", re.IGNORECASE)
TIME_OF_DAY = re.compile(r"\b\d{2}:\d{2}:\d{2}")


@dataclass
class Row:
    """One released response as the files show it."""

    id: uuid.UUID
    receipt_hash: str | None
    klass: tuple[Any, ...]  # the values an outsider can order by time
    orders: dict[str, float] = field(default_factory=dict)  # physical position by order name


@dataclass
class OrderResult:
    name: str
    pairs: int
    rho_overall: float | None
    rho_within: float | None
    within_pairs: int
    p_within: float | None = None

    @property
    def follows_arrival(self) -> bool:
        return (
            self.rho_within is not None
            and self.within_pairs >= MIN_PAIRS
            and abs(self.rho_within) >= WITHIN_LIMIT
            and (self.p_within is None or self.p_within < WITHIN_P)
        )


@dataclass
class Report:
    k: int
    released: int
    classes: Counter  # class key -> size
    small_by_count: list[tuple[Any, int]]  # classes below k whose sample and version never had k
    pending: int
    known_arrivals: int
    known_pending: int
    orders: list[OrderResult]
    findings: list[str]  # traces in logs and dumps: each one fails the audit
    notes: list[str]  # settings and state worth an operator's attention

    @property
    def smallest_class(self) -> int | None:
        sizes = [size for key, size in self.classes.items() if (key, size) not in self.small_by_count]
        return min(sizes) if sizes else None

    @property
    def smallest_set(self) -> int | None:
        """The smallest set a known completion time narrows a released response to (1 when an order
        ranks responses by arrival inside their classes)."""
        if any(order.follows_arrival for order in self.orders):
            return 1
        return self.smallest_class

    @property
    def passed(self) -> bool:
        smallest = self.smallest_set
        return not self.findings and (smallest is None or smallest >= self.k)

    def as_dict(self) -> dict[str, Any]:
        return {
            "k": self.k,
            "released": self.released,
            "smallest_set": self.smallest_set,
            "smallest_class": self.smallest_class,
            "classes": len(self.classes),
            "small_samples": [size for _, size in self.small_by_count],
            "pending": self.pending,
            "known_arrivals": self.known_arrivals,
            "known_pending": self.known_pending,
            "orders": [
                {
                    "order": o.name,
                    "pairs": o.pairs,
                    "rho_overall": o.rho_overall,
                    "rho_within_classes": o.rho_within,
                    "pairs_within_classes": o.within_pairs,
                    "p_within_classes": o.p_within,
                    "follows_arrival": o.follows_arrival,
                }
                for o in self.orders
            ],
            "findings": self.findings,
            "notes": self.notes,
            "passed": self.passed,
        }


def spearman(x: list[float], y: list[float]) -> tuple[float | None, float | None]:
    """Spearman's rho of two equally long samples and its two-sided p-value (t approximation);
    (None, None) when either sample is constant or shorter than three."""
    from scipy.stats import spearmanr

    if len(x) < 3 or len(set(x)) < 2 or len(set(y)) < 2:
        return None, None
    result = spearmanr(x, y)
    return float(result.statistic), float(result.pvalue)


def _ranks(values: list[float]) -> list[float]:
    """Ranks scaled to [0, 1] within one class (average ranks for ties)."""
    from scipy.stats import rankdata

    if len(values) < 2:
        return [0.5] * len(values)
    ranks = rankdata(values)
    return [(r - 1) / (len(values) - 1) for r in ranks]


def measure_orders(rows: list[Row], arrival: dict[str, int]) -> list[OrderResult]:
    """Rank correlation of every physical order with arrival, overall and pooled within classes.

    ``arrival`` maps a receipt hash to its rank among the known arrivals.
    """
    known = [row for row in rows if row.receipt_hash in arrival]
    names = sorted({name for row in known for name in row.orders})
    results = []
    for name in names:
        pairs = [
            (arrival[row.receipt_hash], row.orders[name], row.klass) for row in known if name in row.orders
        ]
        overall, _ = spearman([p[0] for p in pairs], [p[1] for p in pairs])
        by_class: dict[Any, list[tuple[float, float]]] = defaultdict(list)
        for when, where, klass in pairs:
            by_class[klass].append((when, where))
        xs: list[float] = []
        ys: list[float] = []
        for members in by_class.values():
            if len(members) < 2:
                continue
            xs += _ranks([m[0] for m in members])
            ys += _ranks([m[1] for m in members])
        within, p_within = spearman(xs, ys)
        results.append(OrderResult(name, len(pairs), overall, within, len(xs), p_within))
    return results


def first_offsets(data: bytes, ids: set[uuid.UUID]) -> dict[uuid.UUID, int]:
    """Where each id first appears in ``data`` (as 32 hex digits, SQLite's form, or dashed, a dump's)."""
    found: dict[uuid.UUID, int] = {}
    for pattern in (HEX_ID, DASHED_ID):
        for match in pattern.finditer(data):
            value = uuid.UUID(match.group().decode())
            if value in ids and value not in found:
                found[value] = match.start()
    return found


def first_hash_offsets(data: bytes, hashes: set[str]) -> dict[str, int]:
    """Where each keyed hash of ``hashes`` (64 hex digits) first appears in ``data``."""
    found: dict[str, int] = {}
    for match in STORED_HASH.finditer(data):
        value = match.group().decode()
        if value in hashes and value not in found:
            found[value] = match.start()
    return found


def trace_findings(
    name: str, data: bytes, *, ids: set[uuid.UUID], hashes: set[str], probes: Iterable[str]
) -> list[str]:
    """What a log (or dump, with ``ids`` empty) must not hold, each as a sentence."""
    findings = []
    for probe in probes:
        if probe and probe.encode() in data:
            findings.append(f"{name} holds the probe value {probe!r}")
    leaked_ids = first_offsets(data, ids) if ids else {}
    if leaked_ids:
        findings.append(f"{name} holds {len(leaked_ids)} response ids")
    leaked_hashes = {m.group().decode() for m in HASH.finditer(data)} & hashes
    if leaked_hashes:
        findings.append(f"{name} holds {len(leaked_hashes)} keyed hashes of participants' codes")
    queries = PARTICIPANT_QUERY.findall(data)
    if queries:
        findings.append(
            f"{name} holds {len(queries)} participant URLs with a query string, e.g. {queries[0][:60]!r}"
        )
    statements = PARTICIPANT_SQL.findall(data)
    if statements:
        findings.append(f"{name} holds {len(statements)} SQL statements or errors on participants' tables")
    return findings


def dump_findings(name: str, text: str, tables: Iterable[str]) -> list[str]:
    """Rows of participants' tables in a plain dump that hold a time of day (dates only are allowed)."""
    findings = []
    for table in tables:
        stamped = [line for line in _dump_rows(text, table) if TIME_OF_DAY.search(line)]
        if stamped:
            findings.append(f"{name}: {len(stamped)} rows of {table} hold a time of day")
    return findings


def _dump_rows(text: str, table: str) -> list[str]:
    """Data lines of ``table`` in a pg_dump (COPY blocks) or SQLite ``.dump`` (INSERT statements)."""
    rows: list[str] = []
    inside = False
    for line in text.splitlines():
        if line.startswith("COPY "):
            inside = line.split()[1].split(".")[-1].strip('"') == table
        elif line == "\\.":
            inside = False
        elif inside or line.startswith((f'INSERT INTO "{table}"', f"INSERT INTO {table} ")):
            rows.append(line)
    return rows


def build_report(
    *,
    k: int,
    rows: list[Row],
    small_keys: set[Any],
    pending: int,
    arrival: dict[str, int],
    known_pending: int,
    findings: list[str],
    notes: list[str],
) -> Report:
    classes = Counter(row.klass for row in rows)
    small = [(key, size) for key, size in classes.items() if size < k and key in small_keys]
    return Report(
        k=k,
        released=len(rows),
        classes=classes,
        small_by_count=small,
        pending=pending,
        known_arrivals=sum(1 for row in rows if row.receipt_hash in arrival),
        known_pending=known_pending,
        orders=measure_orders(rows, arrival),
        findings=findings,
        notes=notes,
    )


def read_arrivals(path: Path) -> list[str]:
    """Receipt codes, one a line, in the order their participants finished (blank lines skipped)."""
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
