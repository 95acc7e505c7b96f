"""Background tasks (Django's tasks framework; the database backend is worked by `manage.py db_worker`)."""

from django.tasks import task

from .services.exports import export_files_expire, export_job_run
from .services.reports import report_build, report_failed


@task()
def run_export(job_id: str) -> str:
    return export_job_run(job_id=job_id).status


@task()
def expire_exports() -> int:
    """Delete every export file past its expiry (enqueued to run when each export expires)."""
    return export_files_expire()


@task()
def build_report(study_id: int, weighted: bool) -> str:
    try:
        return report_build(study_id=study_id, weighted=weighted).status
    except Exception as error:
        report_failed(study_id=study_id, weighted=weighted, error=type(error).__name__)
        raise
