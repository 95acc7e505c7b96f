"""Background tasks (Django's tasks framework; the database backend is worked by `manage.py db_worker`)."""

from django.tasks import task

from .models import Study
from .services.exports import export_files_expire, export_job_run
from .services.releases import responses_release_closed
from .services.reports import report_build, report_failed
from .services.results import results_build, results_failed
from .storage import scrub


@task()
def run_export(job_id: str) -> str:
    return export_job_run(job_id=job_id).status


@task()
def expire_exports() -> int:
    """Delete every export file past its expiry (enqueued to run when each export expires)."""
    return export_files_expire()


@task()
def build_report(study_id: int, weighted: bool, exclude: list[str] | None = None) -> str:
    flags = tuple(exclude or ())
    try:
        return report_build(study_id=study_id, weighted=weighted, exclude=flags).status
    except Exception:
        report_failed(study_id=study_id, weighted=weighted, exclude=flags)
        raise


@task()
def scrub_tables(tables: list[str]) -> list[str]:
    """``VACUUM FULL`` the participant tables a release or withdrawal changed, or truncate SQLite's
    write-ahead log when a request could not (``survey.storage``); what could not be done is logged."""
    return scrub(tables)


@task()
def release_closed(study_id: int) -> int:
    """Release what waits for a batch once the study's fieldwork is over (``services.releases``)."""
    study = Study.objects.filter(pk=study_id).first()
    return responses_release_closed(study=study) if study is not None else 0


@task()
def build_results(study_id: int, options: dict) -> str:
    try:
        return results_build(study_id=study_id, options=options).status
    except Exception:
        results_failed(study_id=study_id, options=options)
        raise
