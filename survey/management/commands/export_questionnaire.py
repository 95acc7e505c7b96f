from pathlib import Path

from django.core.management.base import CommandError

from survey.instrument_files import FORMATS, questionnaire_bytes
from survey.models import QuestionnaireVersion
from survey.selectors import version_to_spec

from ._base import CandidCommand


class Command(CandidCommand):
    help = "Export a questionnaire version as XLSForm (.xlsx) or JSON."

    def add_arguments(self, parser):
        parser.add_argument("study")
        parser.add_argument("--format", choices=FORMATS, default="xlsx")
        parser.add_argument("-o", "--output", required=True)
        parser.add_argument("--number", dest="number", type=int, help="version number (default: the latest)")

    def handle(self, *args, study: str, format: str, output: str, number: int | None, **options):
        versions = QuestionnaireVersion.objects.filter(study__slug=study)
        chosen = versions.filter(number=number).first() if number else versions.order_by("-number").first()
        if chosen is None:
            raise CommandError(
                f"Study {study!r} has no version {number}."
                if number
                else f"Study {study!r} has no questionnaire."
            )
        try:
            Path(output).write_bytes(questionnaire_bytes(version_to_spec(chosen), format))
        except OSError as error:
            raise CommandError(f"Cannot write {output}: {error.strerror}") from error
        self.stdout.write(self.style.SUCCESS(f"Wrote version {chosen.number} of {study} to {output}."))
