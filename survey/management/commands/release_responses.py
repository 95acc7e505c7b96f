from django.core.management.base import CommandError

from survey.models import Study
from survey.services.releases import responses_release_closed

from ._base import CandidCommand


class Command(CandidCommand):
    help = (
        "Release to analysts the complete responses still waiting for a batch in every study (or sample) "
        "whose fieldwork is over: its end date has passed or it reached its target size. Full batches "
        "are released as responses complete; run this daily from cron so a study closed by its date "
        "does not wait for the next staff visit."
    )

    def add_arguments(self, parser):
        parser.add_argument("--study", help="only this study (slug)")

    def handle(self, *args, study: str | None = None, **options):
        studies = Study.objects.all() if study is None else Study.objects.filter(slug=study)
        if study is not None and not studies.exists():
            raise CommandError(f"No study {study!r}.")
        total = 0
        for each in studies:
            released = responses_release_closed(study=each)
            if released:
                self.stdout.write(f"{each.slug}: released {released} responses")
            total += released
        self.stdout.write(self.style.SUCCESS(f"Released {total} responses of closed fieldwork."))
