"""``manage.py anonymity_audit``: what this deployment's database files, a dump and its logs reveal
about the order in which participants finished (see ``survey.anonymity`` for what is measured)."""

from __future__ import annotations

import json
import os
import re
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError
from django.db import connection

from survey.anonymity import (
    Report,
    Row,
    build_report,
    dump_findings,
    first_hash_offsets,
    first_offsets,
    read_arrivals,
    trace_findings,
)
from survey.models import PendingResponse, Response, ResponseStatus, Study
from survey.receipts import ReceiptCodeError, keyed_hash, parse_receipt_code
from survey.selectors import MIN_K
from survey.services.releases import release_k
from survey.storage import PENDING_TABLE, RELEASED_TABLE, WITHOUT_ROWID_TABLES, is_without_rowid

from ._base import CandidCommand

WAL_SEGMENT = re.compile(r"[0-9A-F]{24}")
PARTICIPANT_TABLES = (RELEASED_TABLE, PENDING_TABLE, "survey_releasebatch", "survey_studycounter")
RECOMMENDED_POSTGRESQL = {
    "log_min_error_statement": "panic",
    "log_statement": "none",
    "log_connections": "off",
    "track_commit_timestamp": "off",
    "wal_recycle": "off",
    "archive_mode": "off",
}


class Command(CandidCommand):
    help = (
        "Measure how far a copy of the database (files and write-ahead log), a dump and the logs narrow "
        "down a response whose completion time is known: the smallest release class, and Spearman's rho "
        "between arrival and every physical order (rowid, file position, ctid, xmin, dump order). "
        "Exits with status 1 when a response can be narrowed to fewer than k or a trace is found."
    )

    def add_arguments(self, parser):
        parser.add_argument("--study", help="only this study (slug)")
        parser.add_argument(
            "--dump", type=Path, help="a plain dump of the database (pg_dump, or sqlite3 .dump)"
        )
        parser.add_argument("--log", type=Path, action="append", default=[], help="a log file (repeatable)")
        parser.add_argument(
            "--arrivals",
            type=Path,
            help="receipt codes, one a line, in the order their participants finished (test participants of yours)",
        )
        parser.add_argument(
            "--probe",
            action="append",
            default=[],
            help="a value a test participant sent (IP, user agent, panel id)",
        )
        parser.add_argument("-k", type=int, help="the smallest set required (default CANDID_RELEASE_K)")
        parser.add_argument("--json", type=Path, help="also write the measurements as JSON here")

    def handle(self, *args, **options) -> None:
        k = release_k() if options["k"] is None else options["k"]
        if k < MIN_K:
            raise CommandError(f"-k must be at least {MIN_K} (release batches are never smaller).")
        studies = Study.objects.all()
        if options["study"]:
            studies = studies.filter(slug=options["study"])
            if not studies.exists():
                raise CommandError(f"No study {options['study']!r}.")
        for path in [options["dump"], options["arrivals"], *options["log"]]:
            if path is not None and not path.is_file():
                raise CommandError(f"{path} is not a readable file.")
        report = self.audit(
            studies,
            k=k,
            dump=options["dump"],
            log=options["log"],
            arrivals=options["arrivals"],
            probe=options["probe"],
        )
        self.print_report(report)
        if options["json"]:
            options["json"].write_text(json.dumps(report.as_dict(), indent=2, default=str), encoding="utf-8")
        if not report.passed:
            raise CommandError("The anonymity audit FAILED (see above).")

    def audit(
        self,
        studies,
        *,
        k: int,
        dump: Path | None,
        log: list[Path],
        arrivals: Path | None,
        probe: list[str],
        **_: Any,
    ) -> Report:
        released = list(
            Response.objects.filter(study__in=studies).values_list(
                "id", "receipt_hash", "batch_id", "completed_on", "sample_id", "version_id"
            )
        )
        system = self.system_columns({row[0] for row in released})
        rows = []
        for rid, receipt_hash, batch_id, completed_on, _sample, _version in released:
            extra = system.get(rid, {})
            klass = (batch_id, completed_on.isoformat(), extra.pop("xmin_class", None))
            row = Row(rid, receipt_hash, klass, {"response id": float(rid.int >> 75), **extra})
            rows.append(row)
        totals = Counter((row[4], row[5]) for row in released)
        key_of = {row.klass: (r[4], r[5]) for row, r in zip(rows, released, strict=True)}
        small_keys = {klass for klass, key in key_of.items() if totals[key] < k}
        ids = {row.id for row in rows}
        findings: list[str] = []
        notes: list[str] = []
        self.file_orders(rows, ids, findings, notes)
        by_id = {row.id: row for row in rows}
        if dump is not None:
            data = dump.read_bytes()
            for rid, offset in first_offsets(data, ids).items():
                by_id[rid].orders["position in the dump"] = float(offset)
            findings += trace_findings(dump.name, data, ids=set(), hashes=set(), probes=probe)
            findings += dump_findings(dump.name, data.decode(errors="replace"), PARTICIPANT_TABLES)
        pending = PendingResponse.objects.filter(study__in=studies)
        every_id = ids | set(pending.values_list("id", flat=True))
        hashes = {h for h in Response.objects.values_list("receipt_hash", flat=True) if h}
        for columns in pending.values_list("receipt_hash", "resume_hash", "creation_hash", "continue_hash"):
            hashes |= {h for h in columns if h}
        for path in log:
            findings += trace_findings(
                path.name, path.read_bytes(), ids=every_id, hashes=hashes, probes=probe
            )
        arrival, known_pending = self.arrivals(arrivals)
        notes += self.settings_notes(findings)
        return build_report(
            k=k,
            rows=rows,
            small_keys=small_keys,
            pending=pending.filter(status=ResponseStatus.COMPLETE).count(),
            arrival=arrival,
            known_pending=known_pending,
            findings=findings,
            notes=notes,
        )

    def system_columns(self, ids: set) -> dict:
        """PostgreSQL's xmin (a class: rows of one transaction) and ctid; SQLite's rowid if any."""
        found: dict = {}
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(f"SELECT id, xmin::text::bigint, ctid::text FROM {RELEASED_TABLE}")  # noqa: S608
                for rid, xmin, ctid in cursor.fetchall():
                    block, offset = (int(part) for part in ctid.strip("()").split(","))
                    found[rid] = {
                        "xmin": float(xmin),
                        "ctid": float(block * 65536 + offset),
                        "xmin_class": xmin,
                    }
            elif connection.vendor == "sqlite" and not is_without_rowid(connection, RELEASED_TABLE):
                cursor.execute(f"SELECT id, rowid FROM {RELEASED_TABLE}")  # noqa: S608
                for rid, rowid in cursor.fetchall():
                    found[rid if isinstance(rid, uuid.UUID) else uuid.UUID(rid)] = {"rowid": float(rowid)}
        return {rid: values for rid, values in found.items() if rid in ids}

    def file_orders(self, rows: list[Row], ids: set, findings: list[str], notes: list[str]) -> None:
        """Where each released row lies in the files, and copies of released responses left elsewhere."""
        receipts = {row.receipt_hash.encode(): row for row in rows if row.receipt_hash}
        if connection.vendor == "sqlite":
            name = Path(connection.settings_dict["NAME"])
            for table in WITHOUT_ROWID_TABLES:
                if not is_without_rowid(connection, table):
                    findings.append(
                        f"{table} has a rowid, which counts insertions (it must be WITHOUT ROWID)"
                    )
            by_id = {row.id: row for row in rows}
            for path, order in (
                (name, "position in the database file"),
                (Path(f"{name}-wal"), "position in the write-ahead log"),
            ):
                if not path.exists() or not path.stat().st_size:
                    continue
                data = path.read_bytes()
                for rid, offset in first_offsets(data, ids).items():
                    by_id[rid].orders[order] = float(offset)
                if path.name.endswith("-wal"):
                    notes.append(
                        f"the write-ahead log holds {path.stat().st_size} bytes of changes not yet checkpointed"
                    )
            return
        files = self.relation_files(PENDING_TABLE)
        if files is None:
            notes.append(
                "PostgreSQL's data files could not be read by this user: run as the postgres user to search them"
            )
            return
        left = sum(1 for path in files for receipt in receipts if receipt in path.read_bytes())
        if left:
            findings.append(
                f"{PENDING_TABLE}'s files still hold old rows of {left} released responses (with their xmin):"
                " the background worker's VACUUM FULL has not run since their release"
            )
        self.wal_orders(rows, findings)

    def wal_orders(self, rows: list[Row], findings: list[str]) -> None:
        """PostgreSQL: where each released response's completion record lies in ``pg_wal``. The log
        holds changes in commit order, each commit with its time: a response found there is narrowed
        to itself, whatever its batch."""
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('data_directory')")
            folder = Path(cursor.fetchone()[0]) / "pg_wal"
        if not os.access(folder, os.R_OK | os.X_OK):
            return  # the note above about the data files covers it
        by_hash = {row.receipt_hash: row for row in rows if row.receipt_hash}
        segments = sorted(path for path in folder.iterdir() if WAL_SEGMENT.fullmatch(path.name))
        found: dict[str, int] = {}
        start = 0
        for path in segments:
            data = path.read_bytes()
            for value, offset in first_hash_offsets(data, set(by_hash) - set(found)).items():
                found[value] = start + offset
            start += len(data)
        for value, offset in found.items():
            by_hash[value].orders["position in the write-ahead log"] = float(offset)
        if found:
            findings.append(
                f"pg_wal holds the completion records of {len(found)} released responses, each beside its"
                " commit time: the worker's scrub (pg_switch_wal, CHECKPOINT) has not run since their"
                " release, or wal_recycle is on (removed segments are kept for reuse with their contents)"
            )

    def relation_files(self, table: str) -> list[Path] | None:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT current_setting('data_directory'), pg_relation_filepath(%s),"
                " pg_relation_filepath(reltoastrelid) FROM pg_class WHERE oid = %s::regclass",
                [table, table],
            )
            directory, main, toast = cursor.fetchone()
        paths = []
        for relative in (main, toast):
            if relative is None:
                continue
            base = Path(directory) / relative
            if not os.access(base.parent, os.R_OK | os.X_OK):
                return None
            paths += sorted(base.parent.glob(base.name)) + sorted(base.parent.glob(f"{base.name}.*"))
        return [path for path in paths if not path.name.endswith(("_fsm", "_vm"))]

    def arrivals(self, path: Path | None) -> tuple[dict[str, int], int]:
        if path is None:
            return {}, 0
        arrival: dict[str, int] = {}
        for rank, code in enumerate(read_arrivals(path)):
            try:
                arrival[keyed_hash(parse_receipt_code(code).text, "receipt")] = rank
            except ReceiptCodeError:
                raise CommandError(f"{path}: line {rank + 1} is not a receipt code.") from None
        known_pending = PendingResponse.objects.filter(receipt_hash__in=list(arrival)).count()
        return arrival, known_pending

    def settings_notes(self, findings: list[str]) -> list[str]:
        notes = []
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                cursor.execute("PRAGMA secure_delete")
                if not cursor.fetchone()[0]:
                    findings.append("SQLite's secure_delete is off: deleted rows stay readable in the file")
                return notes
            if connection.vendor != "postgresql":
                return notes
            for name, wanted in RECOMMENDED_POSTGRESQL.items():
                cursor.execute("SELECT setting FROM pg_settings WHERE name = %s", [name])
                row = cursor.fetchone()
                if row is not None and row[0] != wanted:
                    notes.append(f"PostgreSQL {name} is {row[0]!r}; the README asks for {wanted!r}")
            cursor.execute(
                "SELECT relname, n_dead_tup FROM pg_stat_user_tables WHERE relname = ANY(%s) AND n_dead_tup > 0",
                [list(PARTICIPANT_TABLES)],
            )
            for table, dead in cursor.fetchall():
                notes.append(f"{table} has about {dead} dead row versions awaiting the worker's VACUUM FULL")
        return notes

    def print_report(self, report: Report) -> None:
        write = self.stdout.write
        write(f"Anonymity audit (k = {report.k})")
        write(
            f"  released responses: {report.released} in {len(report.classes)} classes (batch, date, transaction)"
        )
        write(f"  smallest set a known completion time narrows a released response to: {report.smallest_set}")
        if report.small_by_count:
            sizes = ", ".join(str(size) for _, size in report.small_by_count)
            write(f"  batches below k because their sample and version never had k responses: {sizes}")
        write(
            f"  complete responses waiting for their batch: {report.pending} (a copy taken now narrows each to these)"
        )
        if report.known_arrivals or report.known_pending:
            write(f"  known arrivals: {report.known_arrivals} released, {report.known_pending} still waiting")
        for order in report.orders:
            overall = "n/a" if order.rho_overall is None else f"{order.rho_overall:+.3f}"
            within = "n/a" if order.rho_within is None else f"{order.rho_within:+.3f}"
            flag = "  <-- follows arrival inside classes" if order.follows_arrival else ""
            write(
                f"  Spearman rho with arrival, {order.name}: overall {overall} ({order.pairs} responses),"
                f" within classes {within} ({order.within_pairs}){flag}"
            )
        for note in report.notes:
            write(f"  note: {note}")
        for finding in report.findings:
            write(self.style.ERROR(f"  FOUND: {finding}"))
        write(self.style.SUCCESS("PASSED") if report.passed else self.style.ERROR("FAILED"))
