from django.core.management.base import BaseCommand

from survey.services.exports import export_files_expire


class Command(BaseCommand):
    help = (
        "Delete every export file past its expiry (CANDID_EXPORT_RETENTION_HOURS after it was written). "
        "The background worker does this on time; run it from cron if the worker may be down."
    )

    def handle(self, *args, **options):
        deleted = export_files_expire()
        self.stdout.write(self.style.SUCCESS(f"Deleted the files of {deleted} expired exports."))
