"""The claims report of a study, built from its responses and its registry, kept until either changes.

The kept snapshot holds the report as data (figures, verdicts, every text in all its languages);
it is drawn in the reader's language when shown (``report_render``), as a page, an HTML file or a PDF.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from analysis import schema
from analysis.claims import Registry, RegistryError
from analysis.codebook import Codebook
from analysis.quality import FLAGS, QualityRules, exclude_flagged
from analysis.release import LEFT_OUT, left_out
from analysis.report import build_report, localise_report, report_tables
from analysis.report_text import ReportText
from analysis.suppression import DEFAULT_K, disclose
from analysis.weighting import GROUP_SEPARATOR, MarginsUnmet, read_margins

from ..bridge import responses_frame, study_parameters
from ..margins import SHIPPED
from ..middleware import InlineDeadlineExceeded, inline_deadline
from ..models import ClaimsRegistry, ReportSnapshot, ReportStatus, Study
from ..selectors import (
    claims_registry_current,
    may_export_raw,
    questionnaire_codebook,
    released_responses,
    study_revision,
)
from .claims import claims_registry_read
from .disclosure import (
    ExclusionRefused,
    ReleaseHeld,
    disclosure_release,
    exclusion_check,
    kept_message,
    released_exclusion,
    study_keys,
)
from .refusals import COMPUTATION_ERRORS, E_FAILED, problem_of

logger = logging.getLogger("candid.errors")
SHIPPED_MARGINS = SHIPPED["census-china-2020"].path
STALLED_AFTER = timedelta(minutes=30)  # a background build not finished by then is started again
REPORT_FORMAT = 3  # the shape of a kept report's data: raise it when build_report's output changes
E_NO_REGISTRY = gettext_noop("This study has no claims registry.")
E_MARGINS = gettext_noop("The responses cannot be weighted to the census margins: {error}.")
E_EXCLUDED = gettext_noop("Every response is excluded by the chosen data-quality flags.")
WITHOUT = "without exclusions:"  # names of the report without exclusions' tables, recorded beside
E_REGISTRY = gettext_noop("Version {version} of the study's claims registry cannot be used: {error}")


@lru_cache(maxsize=1)
def _shipped_margins() -> pd.DataFrame:
    return read_margins(SHIPPED_MARGINS)


def census_access(user: AbstractBaseUser, study: Study) -> tuple[bool, bool]:
    """``(fits, allowed)``: whether the shipped census margins fit ``study`` (:func:`margins_fit`),
    and whether ``user`` may have the claims report raked to them: only with the raw-data right
    (``selectors.may_export_raw``), since the weighted report's figures are not yet split by
    weighting class for disclosure control (README, "Known limits")."""
    fits = margins_fit(study)
    return fits, fits and may_export_raw(user, study)


def margins_fit(study: Study) -> bool:
    """Whether the census margins shipped with Candid apply to ``study``: every sample they weight is
    one of its samples, and every variable and category they rake is in its questionnaire. Studies
    they do not fit are never offered them."""
    margins = _shipped_margins()
    samples = set(margins["sample"]) if "sample" in margins.columns else set()
    if not samples or not samples <= set(study.samples.values_list("slug", flat=True)):
        return False
    codebook = questionnaire_codebook(study)
    if not set(margins["variable"]) <= set(codebook.names):
        return False
    return all(
        set(str(category).split(GROUP_SEPARATOR)) <= set(codebook.variable(variable).value_labels)
        for variable, category in zip(margins["variable"], margins["category"], strict=True)
    )


def report_revision(study: Study) -> str:
    """What the study's report is computed from: the data's revision, the registry version and
    the study's speeding fraction (named only when not the default third, so that reports kept
    before the setting existed stay current)."""
    registry = claims_registry_current(study)
    text = f"{study_revision(study)}|registry:{registry.pk if registry else 0}|format:{REPORT_FORMAT}"
    if study.speeding_fraction != QualityRules.speeding:
        text += f"|speeding:{study.speeding_fraction!r}"
    return hashlib.sha256(text.encode()).hexdigest()


def exclusion_key(exclude: tuple[str, ...] | list[str]) -> str:
    """The data-quality flags to leave out as a snapshot's key: known flags, in ``FLAGS`` order."""
    return ",".join(flag for flag in FLAGS if flag in exclude)


def report_current(study: Study, *, weighted: bool, exclude: tuple[str, ...] = ()) -> ReportSnapshot | None:
    """The snapshot for the data and registry as they are now (ready or being built), or None."""
    snapshot = ReportSnapshot.objects.filter(
        study=study, weighted=weighted, exclude=exclusion_key(exclude)
    ).first()
    if snapshot is None or snapshot.revision != report_revision(study):
        return None
    if snapshot.status == ReportStatus.BUILDING and timezone.now() - snapshot.updated_at > STALLED_AFTER:
        return None
    return snapshot


def report_request(study: Study, *, weighted: bool, exclude: tuple[str, ...] = ()) -> ReportSnapshot:
    """Mark the report as being built for the current data (the caller enqueues the build)."""
    snapshot, _ = ReportSnapshot.objects.update_or_create(
        study=study,
        weighted=weighted,
        exclude=exclusion_key(exclude),
        defaults={
            "revision": report_revision(study),
            "status": ReportStatus.BUILDING,
            "data": {},
            "problem": "",
        },
    )
    return snapshot


def _plain(data: dict[str, Any]) -> dict[str, Any]:
    """The report as JSON values (numpy numbers made plain) for the snapshot's JSON field."""

    def default(value: Any) -> Any:
        if hasattr(value, "item"):
            return value.item()
        raise TypeError(f"not JSON serialisable: {type(value).__name__}")

    return json.loads(json.dumps(data, default=default))


def report_build(*, study_id: int, weighted: bool, exclude: tuple[str, ...] = ()) -> ReportSnapshot:
    """Build the report from the responses and the registry, kept with the revision read first;
    responses carrying any data-quality flag in ``exclude`` are left out, and the report says so."""
    study = Study.objects.get(pk=study_id)
    revision = report_revision(study)  # read first: a response arriving meanwhile makes it stale
    data_revision = study_revision(study)  # the state of the data, for the disclosure ledger
    registry = claims_registry_current(study)
    frame, codebook = responses_frame(study)
    values: dict[str, Any] = {
        "revision": revision,
        "status": ReportStatus.DONE,
        "responses": len(frame),
        "data": {},
        "problem": "",
    }
    if registry is None:
        values["problem"] = E_NO_REGISTRY
    elif not frame.empty:
        values |= _built(
            study, registry, frame, codebook, weighted=weighted, exclude=exclude, revision=data_revision
        )
    snapshot, _ = ReportSnapshot.objects.update_or_create(
        study=study, weighted=weighted, exclude=exclusion_key(exclude), defaults=values
    )
    return snapshot


def _built(
    study: Study,
    registry: ClaimsRegistry,
    frame: pd.DataFrame,
    codebook: Codebook,
    *,
    weighted: bool,
    exclude: tuple[str, ...] = (),
    revision: str,
) -> dict:
    """The report's data, or the problem that kept it from being built, in words."""
    try:
        claims = claims_registry_read(study=study, text=registry.text, codebook=codebook)
    except RegistryError as error:  # attached under older rules, or a questionnaire changed since
        return {
            "problem": kept_message(E_REGISTRY, brace=True, version=str(registry.version), error=str(error))
        }
    try:
        kept, quality, keys = report_exclusion(
            frame,
            codebook,
            exclude=[f for f in FLAGS if f in exclude],
            parameters=study_parameters(study),
            rules=QualityRules(speeding=study.speeding_fraction),
            study=study,
        )
    except ValueError:
        return {"problem": E_EXCLUDED}
    margins = _shipped_margins() if weighted else None
    try:
        disclosure = report_disclosure(
            study=study,
            revision=revision,
            frame=frame,
            codebook=codebook,
            registry=claims,
            quality=quality,
            margins=margins,
            k=DEFAULT_K,
        )
        report = build_report(
            kept,
            codebook,
            registry=claims,
            margins=margins,
            sample_names=dict(study.samples.values_list("slug", "name")),
            registry_version=registry.version,
            title={"": study.title, **study.titles},
            quality=quality,
            keys=keys,
            disclosure=disclosure,
        )
    except ReleaseHeld as error:  # its message (an id) says why, whole
        return {"problem": str(error)}
    except ExclusionRefused as error:  # kept in no language: each reader reads it in theirs
        return {"problem": error.kept}
    except MarginsUnmet as error:  # margins the sample cannot meet: say why, in Candid's words
        error_kept = {"message": error.message, "params": error.params, "brace": True}
        return {"problem": kept_message(E_MARGINS, brace=True, error=error_kept)}
    except COMPUTATION_ERRORS as error:  # a library's words are logged, never shown
        return {"problem": problem_of(error, doing="claims report build")}
    return {"data": _plain(report)}


def report_exclusion(
    frame: pd.DataFrame,
    codebook: Codebook,
    *,
    exclude: tuple[str, ...] | list[str],
    parameters: dict[str, dict[str, str]],
    rules: QualityRules | None = None,
    study: Study,
) -> tuple[pd.DataFrame, dict[str, Any], np.ndarray]:
    """``analysis.quality.exclude_flagged`` of every response of ``study`` (``frame``, as
    ``responses_frame`` gives it), and the kept rows' fingerprint numbers
    (``services.disclosure.study_keys``)."""
    kept, quality = exclude_flagged(frame, codebook, exclude=exclude, parameters=parameters, rules=rules)
    return kept, quality, study_keys(study, kept[schema.RESPONSE_ID].tolist())


def report_disclosure(
    *,
    study: Study,
    revision: str,
    frame: pd.DataFrame,
    codebook: Codebook,
    registry: Registry,
    quality: dict[str, Any],
    margins: pd.DataFrame | None,
    k: int,
) -> Callable[[dict[str, pd.DataFrame]], dict[str, pd.DataFrame]]:
    """The claims report's disclosure decision (``build_report(disclosure=...)``): its tables
    decided beside every release made before from the same data (``services.disclosure``), and
    recorded. ``frame`` holds every response; leaving flagged ones out (``quality``), the report
    that keeps them is held beside it (``analysis.release.left_out``), as on the results page."""
    flags = list(quality.get("flags") or [])
    exclusion = released_exclusion(flags, quality.get("speeding")) if flags else ""
    recorded = {"k": k, "exclude": flags, "weighted": margins is not None}
    exclusion_check(study=study, revision=revision, exclusion=exclusion, origin="report", options=recorded)
    full = (
        report_tables(
            frame,
            codebook,
            registry=registry,
            keys=study_keys(study, frame[schema.RESPONSE_ID].tolist()),
            margins=margins,
        )
        if flags
        else None
    )

    def disclosure(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
        def decide(
            before: dict[str, pd.DataFrame],
        ) -> tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame]]:
            fixed, implied, record = dict(before), {}, {}
            if full:
                decided = disclose(full, k=k, rounding=False, fixed=before)
                without, implied = left_out(full, decided, tables)
                fixed |= {f"{WITHOUT}{name}": t for name, t in without.items()}
                record |= {f"{WITHOUT}{name}": t for name, t in without.items()}
            links = {f"{WITHOUT}{name}": [name, f"{LEFT_OUT}{name}"] for name in full or {}}
            decision = disclose({**tables, **implied}, k=k, rounding=False, fixed=fixed, fixed_links=links)
            for name, table in {**tables, **implied}.items():
                decided = decision[name]
                published = ~decided["withheld"].to_numpy(dtype=bool)
                record[name] = table[published].assign(
                    suppressed=decided["suppressed"].to_numpy(dtype=bool)[published]
                )
            return {name: decision[name] for name in tables}, record

        return disclosure_release(
            study=study,
            revision=revision,
            origin="report",
            exclusion=exclusion,
            decide=decide,
            options=recorded,
            speeding=quality.get("speeding"),
        )

    return disclosure


def report_prepared(study: Study, *, weighted: bool, exclude: tuple[str, ...] = ()) -> ReportSnapshot:
    """The kept report while current; else built now (up to ``CANDID_REPORT_INLINE_MAX`` responses,
    and within ``middleware.inline_deadline``) or marked as being built and queued for the
    background worker (larger studies, and a build the deadline stopped)."""
    snapshot = report_current(study, weighted=weighted, exclude=exclude)
    if snapshot is not None:
        return snapshot
    total = released_responses(study).count()
    if total <= settings.CANDID_REPORT_INLINE_MAX:
        try:
            with inline_deadline(settings.CANDID_INLINE_BUILD_SECONDS):
                return report_build(study_id=study.pk, weighted=weighted, exclude=exclude)
        except InlineDeadlineExceeded:
            logger.warning("claims report build handed to the background worker at its inline deadline")
    from ..tasks import build_report as build_report_task  # the tasks module imports this one

    snapshot = report_request(study, weighted=weighted, exclude=exclude)
    build_report_task.enqueue(study.pk, weighted, list(exclude))
    return snapshot


def report_failed(*, study_id: int, weighted: bool, exclude: tuple[str, ...] = ()) -> None:
    """Mark a build the background worker could not finish (the worker logs why): its page says so in
    general words (``refusals.E_FAILED``), read in the reader's language."""
    ReportSnapshot.objects.filter(
        study_id=study_id, weighted=weighted, exclude=exclusion_key(exclude)
    ).update(status=ReportStatus.FAILED, problem=E_FAILED)


def report_forget(*, study_id: int) -> None:
    """Drop a study's kept reports (after a withdrawal: aggregates keep nothing of that person)."""
    ReportSnapshot.objects.filter(study_id=study_id).delete()


def report_text(*, census: str = "") -> ReportText:
    """The report's words in the active language (Django's translation catalogue).

    ``census`` says why an unweighted report is unweighted when the shipped census margins fit the
    study (:func:`census_access`): ``"reserved"`` (the raked report is for members with the raw-data
    right) or ``"offered"`` (the reader may have it, as another report). Without it the report says
    that no population margins were given, which is true only when none fit.
    """
    text = ReportText().translated(gettext)
    if census == "reserved":
        return replace(text, unweighted=text.unweighted_reserved)
    if census == "offered":
        return replace(text, unweighted=text.unweighted_offered)
    return text


def report_localised(snapshot: ReportSnapshot, *, language: str) -> dict[str, Any]:
    """A kept report in ``language`` (a Django language code such as ``zh-hans``), words included."""
    return localise_report(snapshot.data, language=language, text=report_text())
