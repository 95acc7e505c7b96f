"""Background tasks (Django's tasks framework; the database backend is worked by `manage.py db_worker`)."""

from django.tasks import task

from .services.exports import export_job_run


@task()
def run_export(job_id: str) -> str:
    return export_job_run(job_id=job_id).status
