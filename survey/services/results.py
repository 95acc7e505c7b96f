"""A study's results (aggregates only), built from its responses and kept until the data change.

Everything shown or downloaded is the ``payload`` of a :class:`ResultsSnapshot`: tables after the one
disclosure step (``analysis.suppression.disclose``). Studies over ``CANDID_RESULTS_INLINE_MAX``
responses are built by the background worker while the page says so.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from analysis import schema
from analysis.design import SurveyDesign
from analysis.quality import FLAGS, QualityRules, item_nonresponse, quality_flags
from analysis.results import build_results, categorised
from analysis.suppression import DEFAULT_K, check_k, disclose, round_count
from analysis.weighting import poststratify, rake_samples

from ..bridge import responses_frame, study_parameters
from ..models import ReportStatus, ResultsSnapshot, Study, WeightingTargets
from ..selectors import released_responses, study_dropoff, study_revision
from .exports import audit_record

STALLED_AFTER = timedelta(minutes=30)
SHIPPED_TARGETS = {
    "census-china-2020": settings.BASE_DIR / "analysis" / "claims" / "margins_china_2020.csv",
}
MAX_TARGETS_BYTES = 200_000
E_TARGETS_TOO_BIG = gettext_noop("The file is larger than 200 KB; population figures fit in far less.")
E_TARGETS_FORMAT = gettext_noop(
    "The file must be a CSV with the columns variable, category and share (or count) — raking "
    "margins — or one column per variable and a count column — a post-stratification table."
)
E_TARGETS_ENCODING = gettext_noop("The file must be UTF-8 text.")


@dataclass(frozen=True)
class ResultsOptions:
    """What the analyst chose on the page: breakdowns, weighting, k, language and exclusions.

    ``weighting`` is ``"none"``, ``"shipped:<name>"`` (a file of :data:`SHIPPED_TARGETS`) or
    ``"upload:<digest>"`` (a :class:`WeightingTargets` of the study); ``exclude`` names quality
    flags whose responses are left out; ``speeding`` is the fraction of the median duration.
    """

    by: tuple[str, ...] = (schema.SAMPLE,)
    weighting: str = "none"
    k: int = DEFAULT_K
    language: str = "en"
    exclude: tuple[str, ...] = ()
    speeding: float = 1 / 3
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def key(self) -> str:
        values = asdict(self)
        values.pop("extra")
        return hashlib.sha256(json.dumps(values, sort_keys=True, default=list).encode()).hexdigest()

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> ResultsOptions:
        return cls(
            by=tuple(values.get("by", (schema.SAMPLE,))),
            weighting=values.get("weighting", "none"),
            k=int(values.get("k", DEFAULT_K)),
            language=values.get("language", "en"),
            exclude=tuple(values.get("exclude", ())),
            speeding=float(values.get("speeding", 1 / 3)),
        )


def results_current(study: Study, options: ResultsOptions) -> ResultsSnapshot | None:
    """The snapshot for the data as they are now (ready or being built), or None."""
    snapshot = ResultsSnapshot.objects.filter(study=study, key=options.key()).first()
    if snapshot is None or snapshot.revision != study_revision(study):
        return None
    if snapshot.status == ReportStatus.BUILDING and timezone.now() - snapshot.updated_at > STALLED_AFTER:
        return None
    return snapshot


def results_prepared(study: Study, options: ResultsOptions) -> ResultsSnapshot:
    """The kept results while current; else built now (up to ``CANDID_RESULTS_INLINE_MAX``
    responses) or marked as being built and queued for the background worker."""
    check_k(options.k)
    snapshot = results_current(study, options)
    if snapshot is not None:
        return snapshot
    total = released_responses(study).count()
    if total <= settings.CANDID_RESULTS_INLINE_MAX:
        return results_build(study_id=study.pk, options=asdict(options))
    from ..tasks import build_results as build_results_task  # the tasks module imports this one

    snapshot, _created = ResultsSnapshot.objects.update_or_create(
        study=study,
        key=options.key(),
        defaults={
            "options": _options_json(options),
            "revision": study_revision(study),
            "status": ReportStatus.BUILDING,
            "payload": {},
            "problem": "",
        },
    )
    build_results_task.enqueue(study.pk, _options_json(options))
    return snapshot


def _options_json(options: ResultsOptions) -> dict[str, Any]:
    values = asdict(options)
    values.pop("extra")
    return json.loads(json.dumps(values, default=list))


def results_build(*, study_id: int, options: dict[str, Any]) -> ResultsSnapshot:
    """Build the results from the responses and keep them with the revision read before the data."""
    study = Study.objects.get(pk=study_id)
    chosen = ResultsOptions.from_dict(options)
    revision = study_revision(study)  # read first: a response arriving meanwhile makes it stale
    frame, codebook = responses_frame(study)
    values: dict[str, Any] = {
        "options": _options_json(chosen),
        "revision": revision,
        "status": ReportStatus.DONE,
        "responses": len(frame),
        "payload": {},
        "problem": "",
    }
    if not frame.empty:
        try:
            values["payload"] = compute_results(study, frame, codebook, chosen)
        except ValueError as error:  # weighting the sample cannot meet, a breakdown that is gone
            values["problem"] = str(error)
    snapshot, _created = ResultsSnapshot.objects.update_or_create(
        study=study, key=chosen.key(), defaults=values
    )
    return snapshot


def results_failed(*, study_id: int, options: dict[str, Any], error: str) -> None:
    key = ResultsOptions.from_dict(options).key()
    ResultsSnapshot.objects.filter(study_id=study_id, key=key).update(
        status=ReportStatus.FAILED,
        problem=_("The results could not be built (%(error)s).") % {"error": error},
    )


def compute_results(
    study: Study,
    frame: pd.DataFrame,
    codebook: Any,
    options: ResultsOptions,
    *,
    targets: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """The released payload: results tables, quality, non-response and drop-off, all disclosed.

    ``targets`` (the CSV text and its name) weights by population figures given directly (the
    command line's ``--weights``) instead of ``options.weighting``. Raises ``ValueError`` with a
    message for weights the sample cannot meet, or when every response is excluded.
    """
    parameters = study_parameters(study)
    language = options.language if options.language in codebook.languages else codebook.languages[0]
    frame = categorised(frame, codebook)  # every answer factorised once for all that follows
    flags = quality_flags(
        frame, codebook, parameters=parameters, rules=QualityRules(speeding=options.speeding)
    )
    keep = ~flags[[f for f in options.exclude if f in FLAGS]].any(axis=1) if options.exclude else None
    used = frame.loc[keep].reset_index(drop=True) if keep is not None else frame
    if used.empty:
        raise ValueError(_("Every response is excluded by the chosen data-quality flags."))
    design, weighting = _weighted(study, used, options, targets)
    samples = {sample.slug: sample.name for sample in study.samples.all()}
    results = build_results(
        design,
        codebook,
        by=tuple(b for b in options.by if b in used.columns),
        k=options.k,
        language=language,
        parameters=parameters,
        group_labels={schema.SAMPLE: samples},
        variable_labels={schema.SAMPLE: _("Sample")},
    )
    quality = _released_counts(
        {flag: int(flags[flag].sum()) for flag in FLAGS}, total=len(frame), k=options.k
    )
    nonresponse = item_nonresponse(used, codebook)
    dropoff = study_dropoff(study)
    synthetic = bool(codebook.synthetic)
    return {
        "n": results.n,
        "language": language,
        "data": "synthetic" if synthetic else "real",
        "k": options.k,
        "by": list(results.by),
        "weighting": weighting,
        "excluded": round_count(len(frame) - len(used)) if keep is not None else 0,
        "exclude": list(options.exclude),
        "speeding": options.speeding,
        "items": [
            {
                "question": i.question,
                "kind": i.kind,
                "label": i.label,
                "variables": list(i.variables),
                "tests": list(i.tests),
            }
            for i in results.items
        ],
        "table": _records(results.table),
        "quality": quality,
        "nonresponse": _records(_released_shares(nonresponse, k=options.k)),
        "dropoff": _records(_released_dropoff(dropoff, k=options.k)),
        "release": {"primary": results.release.primary, "complementary": results.release.complementary},
    }


def _weighted(
    study: Study, frame: pd.DataFrame, options: ResultsOptions, targets: tuple[str, str] | None = None
) -> tuple[SurveyDesign, dict[str, Any]]:
    """The design (samples as strata) with the chosen weighting, and what the page says about it."""
    strata = schema.SAMPLE if frame[schema.SAMPLE].nunique() > 1 else None
    design = SurveyDesign(frame, strata=strata)
    if targets is None and options.weighting == "none":
        return design, {"method": "none"}
    kind, _sep, name = options.weighting.partition(":")
    if targets is not None:
        text, label = targets
        method = _targets_kind(text)
    elif kind == "shipped" and name in SHIPPED_TARGETS:
        text, label, method = (
            SHIPPED_TARGETS[name].read_text(encoding="utf-8"),
            name,
            WeightingTargets.Kind.RAKE,
        )
    elif kind == "upload":
        stored = WeightingTargets.objects.filter(study=study, digest=name).first()
        if stored is None:
            raise ValueError(_("The chosen population figures are no longer available."))
        text, label, method = stored.content, stored.name, stored.kind
    else:
        raise ValueError(_("Unknown weighting."))
    table = pd.read_csv(io.StringIO(text), comment="#", dtype=str)
    if method == WeightingTargets.Kind.RAKE:
        table["share" if "share" in table.columns else "count"] = pd.to_numeric(
            table["share" if "share" in table.columns else "count"]
        )
        weighted, reports = rake_samples(design, table, sample=schema.SAMPLE)
        return weighted, {"method": "rake", "source": label, "reports": _clean(reports)}
    count = "count" if "count" in table.columns else "Freq"
    table[count] = pd.to_numeric(table[count])
    weighted = poststratify(design, table)
    kish = float(len(weighted.w) * np.sum(weighted.w**2) / np.sum(weighted.w) ** 2)
    return weighted, {"method": "poststratify", "source": label, "deff_weighting": kish}


def _released_counts(counts: dict[str, int], *, total: int, k: int) -> list[dict[str, Any]]:
    """Flag counts as one-way tables (flagged / not flagged of all responses), disclosed together."""
    tables = {
        flag: pd.DataFrame(
            [
                {
                    "variable": flag,
                    "group_variable": "",
                    "group": "",
                    "level": "yes",
                    "count": count,
                    "n": total,
                },
                {
                    "variable": flag,
                    "group_variable": "",
                    "group": "",
                    "level": "no",
                    "count": total - count,
                    "n": total,
                },
            ]
        ).assign(
            base=[("all",), ("all",)], estimate=[count / total, 1 - count / total] if total else [0.0, 0.0]
        )
        for flag, count in counts.items()
    }
    release = disclose(tables, k=k)
    return [
        {"flag": flag, **_clean(release[flag].iloc[0][["count", "estimate", "suppressed"]].to_dict())}
        for flag in counts
    ]


def _released_shares(frame: pd.DataFrame, *, k: int) -> pd.DataFrame:
    """Item non-response (missing / answered of all responses) through the disclosure step."""
    if frame.empty:
        return frame
    rows = []
    for record in frame.to_dict("records"):
        for level, count in (("missing", record["missing"]), ("answered", record["n"] - record["missing"])):
            rows.append(
                {
                    "variable": record["variable"],
                    "question": record["question"],
                    "relevance": record["relevance"],
                    "group_variable": "",
                    "group": "",
                    "level": level,
                    "count": count,
                    "n": record["n"],
                    "estimate": count / record["n"] if record["n"] else np.nan,
                    "base": ("all",),
                }
            )
    table = disclose({"nonresponse": pd.DataFrame(rows)}, k=k)["nonresponse"]
    return table[table["level"] == "missing"].drop(columns=["base", "cell", "scale"], errors="ignore")


def _released_dropoff(rows: list[dict[str, Any]], *, k: int) -> pd.DataFrame:
    """Responses left unfinished, by the last page reached, as one disclosed one-way table."""
    total = sum(row["count"] for row in rows)
    if not total:
        return pd.DataFrame(columns=["page", "count", "estimate", "suppressed"])
    table = pd.DataFrame(
        [
            {
                "variable": "dropoff",
                "group_variable": "",
                "group": "",
                "level": row["page"],
                "count": row["count"],
                "n": total,
                "estimate": row["count"] / total,
            }
            for row in rows
        ]
    )
    released = disclose({"dropoff": table}, k=k)["dropoff"]
    return released.rename(columns={"level": "page"})[["page", "count", "n", "estimate", "suppressed"]]


def _clean(value: Any) -> Any:
    """JSON-safe: NaN and infinities as None, numpy numbers as Python numbers, tuples as lists."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return _clean(frame.astype(object).where(frame.notna(), None).to_dict("records"))


@transaction.atomic
def weighting_targets_upload(
    *, user: AbstractBaseUser, study: Study, name: str, content: bytes
) -> WeightingTargets:
    """Keep population figures uploaded for a study (refused with a message when malformed)."""
    if len(content) > MAX_TARGETS_BYTES:
        raise ValueError(_(E_TARGETS_TOO_BIG))
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValueError(_(E_TARGETS_ENCODING)) from error
    kind = _targets_kind(text)
    digest = hashlib.sha256(text.encode()).hexdigest()
    targets, _created = WeightingTargets.objects.get_or_create(
        study=study,
        digest=digest,
        defaults={"name": name[:200] or "population.csv", "kind": kind, "content": text, "uploaded_by": user},
    )
    audit_record(user=user, action="weighting_uploaded", study=study, name=targets.name, kind=kind)
    return targets


def _targets_kind(text: str) -> str:
    try:
        table = pd.read_csv(io.StringIO(text), comment="#", dtype=str)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error) as error:
        raise ValueError(_(E_TARGETS_FORMAT)) from error
    columns = set(table.columns)
    value = "share" if "share" in columns else "count" if "count" in columns else None
    if {"variable", "category"} <= columns and value:
        if pd.to_numeric(table[value], errors="coerce").isna().any():
            raise ValueError(_(E_TARGETS_FORMAT))
        return WeightingTargets.Kind.RAKE
    count = "count" if "count" in columns else "Freq" if "Freq" in columns else None
    if count and len(columns) > 1 and pd.to_numeric(table[count], errors="coerce").notna().all():
        return WeightingTargets.Kind.POSTSTRATIFY
    raise ValueError(_(E_TARGETS_FORMAT))
