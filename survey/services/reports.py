"""The claims report of a study, built from its responses and kept until the data changes."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from analysis.report import build_report, render_html
from analysis.weighting import read_margins

from ..bridge import responses_frame
from ..models import ReportSnapshot, ReportStatus, Study
from ..selectors import released_responses, study_revision

SHIPPED_MARGINS = settings.BASE_DIR / "analysis" / "claims" / "margins_china_2020.csv"
STALLED_AFTER = timedelta(minutes=30)  # a background build not finished by then is started again


def report_current(study: Study, *, weighted: bool) -> ReportSnapshot | None:
    """The snapshot for the data as it is now (ready or being built), or None."""
    snapshot = ReportSnapshot.objects.filter(study=study, weighted=weighted).first()
    if snapshot is None or snapshot.revision != study_revision(study):
        return None
    if snapshot.status == ReportStatus.BUILDING and timezone.now() - snapshot.updated_at > STALLED_AFTER:
        return None
    return snapshot


def report_request(study: Study, *, weighted: bool) -> ReportSnapshot:
    """Mark the report as being built for the current data (the caller enqueues the build)."""
    snapshot, _ = ReportSnapshot.objects.update_or_create(
        study=study,
        weighted=weighted,
        defaults={
            "revision": study_revision(study),
            "status": ReportStatus.BUILDING,
            "html": "",
            "problem": "",
        },
    )
    return snapshot


def report_build(*, study_id: int, weighted: bool) -> ReportSnapshot:
    """Build the report from the responses and keep it with the revision read before the data."""
    study = Study.objects.get(pk=study_id)
    revision = study_revision(study)  # read first: a response arriving meanwhile makes it stale
    frame, codebook = responses_frame(study)
    values = {
        "revision": revision,
        "status": ReportStatus.DONE,
        "responses": len(frame),
        "html": "",
        "problem": "",
    }
    if not frame.empty:
        try:
            margins = read_margins(SHIPPED_MARGINS) if weighted else None
            values["html"] = render_html(build_report(frame, codebook, margins=margins))
        except ValueError as error:  # margins the sample cannot meet: say why
            values["problem"] = f"The responses cannot be weighted to the census margins: {error}."
    snapshot, _ = ReportSnapshot.objects.update_or_create(study=study, weighted=weighted, defaults=values)
    return snapshot


def report_prepared(study: Study, *, weighted: bool) -> ReportSnapshot:
    """The kept report while current; else built now (up to ``CANDID_REPORT_INLINE_MAX`` responses)
    or marked as being built and queued for the background worker."""
    snapshot = report_current(study, weighted=weighted)
    if snapshot is not None:
        return snapshot
    total = released_responses(study).count()
    if total <= settings.CANDID_REPORT_INLINE_MAX:
        return report_build(study_id=study.pk, weighted=weighted)
    from ..tasks import build_report as build_report_task  # the tasks module imports this one

    snapshot = report_request(study, weighted=weighted)
    build_report_task.enqueue(study.pk, weighted)
    return snapshot


def report_failed(*, study_id: int, weighted: bool, error: str) -> None:
    ReportSnapshot.objects.filter(study_id=study_id, weighted=weighted).update(
        status=ReportStatus.FAILED, problem=f"The report could not be built ({error})."
    )


def report_forget(*, study_id: int) -> None:
    """Drop a study's kept reports (after a withdrawal: aggregates keep nothing of that person)."""
    ReportSnapshot.objects.filter(study_id=study_id).delete()
