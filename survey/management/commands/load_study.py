from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from analysis.claims import RegistryError
from survey.instrument import QuestionnaireInvalid
from survey.models import StudyRole
from survey.services.studies import study_load_bundle, study_member_set

from ._base import CandidCommand
from ._owners import resolve_owner

SHIPPED = Path(__file__).resolve().parents[2] / "fixtures" / "trust_and_rating_systems"


class Command(CandidCommand):
    help = (
        "Load and publish a study bundle (study.json + questionnaire.xlsx, and the claims registry "
        "study.json names); default: the shipped study."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory", nargs="?", default=str(SHIPPED))
        parser.add_argument("--owner", help="username of the owner (default: the first superuser)")
        parser.add_argument(
            "--member",
            action="append",
            default=[],
            metavar="USER:ROLE",
            help="also make USER a member in ROLE (researcher or analyst); repeatable",
        )

    def handle(self, *args, directory: str, owner: str | None, member: list[str], **options):
        users = get_user_model().objects
        members = []
        for entry in member:
            username, _, role = entry.partition(":")
            user = users.filter(username=username).first()
            if role not in StudyRole.values or user is None:
                raise CommandError(
                    f"--member {entry!r}: give an existing username and researcher or analyst."
                )
            members.append((user, role))
        try:
            study, created = study_load_bundle(directory=Path(directory), owner=resolve_owner(owner))
        except QuestionnaireInvalid as error:
            raise CommandError(
                "The study was not loaded:\n" + "\n".join(f"  - {p}" for p in error.problems)
            ) from error
        except RegistryError as error:
            raise CommandError(
                "The study was not loaded: its claims registry does not fit it:\n"
                + "\n".join(f"  - {p}" for p in error.problems)
            ) from error
        except FileNotFoundError as error:
            raise CommandError(f"The study was not loaded: {error}") from error
        for user, role in members:
            study_member_set(study=study, user=user, role=role)
            self.stdout.write(f"{user.get_username()} is a member of {study.slug} as {role}.")
        state = "Loaded and published" if created else "Already loaded:"
        self.stdout.write(self.style.SUCCESS(f"{state} {study.title} ({study.slug})."))
