from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from survey.instrument import QuestionnaireInvalid
from survey.services.studies import study_load_bundle

from ._owners import resolve_owner

SHIPPED = Path(__file__).resolve().parents[2] / "fixtures" / "trust_and_rating_systems"


class Command(BaseCommand):
    help = "Load and publish a study bundle (study.json + questionnaire.xlsx); default: the shipped study."

    def add_arguments(self, parser):
        parser.add_argument("directory", nargs="?", default=str(SHIPPED))
        parser.add_argument("--owner", help="username of the owner (default: the first superuser)")

    def handle(self, *args, directory: str, owner: str | None, **options):
        try:
            study, created = study_load_bundle(directory=Path(directory), owner=resolve_owner(owner))
        except QuestionnaireInvalid as error:
            raise CommandError(
                "The study was not loaded:\n" + "\n".join(f"  - {p}" for p in error.problems)
            ) from error
        state = "Loaded and published" if created else "Already loaded:"
        self.stdout.write(self.style.SUCCESS(f"{state} {study.title} ({study.slug})."))
