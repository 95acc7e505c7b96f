from django.core.management.base import CommandError

from survey.instrument import Problem, QuestionnaireInvalid
from survey.instrument_files import read_questionnaire_file, untranslated_note
from survey.models import Study
from survey.services.questionnaires import questionnaire_import

from ._base import CandidCommand
from ._owners import resolve_owner


class Command(CandidCommand):
    help = "Import an XLSForm (.xlsx) or JSON questionnaire as a new draft version; nothing is written on any error."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--study", help="slug of the study (created when it does not exist)")
        parser.add_argument(
            "--owner", help="username of the new study's owner (default: the first superuser)"
        )

    def handle(self, *args, file: str, study: str | None, owner: str | None, **options):
        try:
            notices: list[Problem] = []
            spec = read_questionnaire_file(file, notices=notices)
            existing = Study.objects.filter(slug=study).first() if study else None
            version = questionnaire_import(
                spec=spec, owner=resolve_owner(owner), study=existing, study_slug=study or ""
            )
        except QuestionnaireInvalid as error:
            raise CommandError(
                f"{file} was not imported:\n" + "\n".join(f"  - {p}" for p in error.problems)
            ) from error
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror}") from error
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {file} as draft version {version.number} of study {version.study.slug}."
            )
        )
        note = untranslated_note(spec)
        if note:
            self.stdout.write(self.style.WARNING(note))
            for notice in notices:  # each cell, for an XLSForm
                self.stdout.write(self.style.WARNING(f"  - {notice}"))
