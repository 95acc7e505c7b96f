from pathlib import Path

from django.core.management.base import CommandError

from analysis.claims import MAX_BYTES, RegistryError
from survey.models import Study
from survey.services.claims import claims_registry_attach, claims_registry_check
from survey.uploads import read_at_most

from ._base import CandidCommand


class Command(CandidCommand):
    help = (
        "Check a claims registry (TOML) against a study's questionnaire and attach it as the study's "
        "next registry version; every problem is listed with its claim and field."
    )

    def add_arguments(self, parser):
        parser.add_argument("study")
        parser.add_argument(
            "registry", help="the registry file (TOML), e.g. analysis/claims/hawkins_2017.toml"
        )
        parser.add_argument("--check", action="store_true", help="only check the file; attach nothing")

    def handle(self, *args, study: str, registry: str, check: bool, **options):
        target = Study.objects.filter(slug=study).first()
        if target is None:
            raise CommandError(f"No study {study!r}.")
        path = Path(registry)
        try:
            content = read_at_most(path, MAX_BYTES)  # over the limit: refused by the registry check
        except OSError as error:
            raise CommandError(f"Cannot read {registry}: {error.strerror}.") from error
        try:
            if check:
                found = claims_registry_check(study=target, content=content)
                self.stdout.write(
                    self.style.SUCCESS(
                        f"{path.name} fits {target.slug}: {len(found)} claims. Nothing attached."
                    )
                )
                return
            attached, created = claims_registry_attach(study=target, content=content, file_name=path.name)
        except RegistryError as error:
            problems = "\n".join(f"  - {problem}" for problem in error.problems)
            raise CommandError(f"{path.name} was not attached:\n{problems}") from error
        if created:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Attached {path.name} to {target.slug} as claims registry version {attached.version} "
                    f"({attached.claims} claims)."
                )
            )
        else:
            self.stdout.write(f"{target.slug} already uses this registry (version {attached.version}).")
