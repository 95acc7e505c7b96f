from pathlib import Path

from django.core.management.base import CommandError

from analysis.report import claims_report
from survey.bridge import responses_frame
from survey.models import Study

from ._base import CandidCommand


class Command(CandidCommand):
    help = "Judge the claims registry on a study's responses: writes DIR/claims.html and DIR/claims.json."

    def add_arguments(self, parser):
        parser.add_argument("study")
        parser.add_argument("-o", "--output", required=True, help="directory for claims.html and claims.json")
        parser.add_argument(
            "--weights", help="population margins CSV to rake to (variable, category, share|count[, sample])"
        )
        parser.add_argument("-k", type=int, default=10, help="minimum cell size (never below 5)")

    def handle(self, *args, study: str, output: str, weights: str | None, k: int, **options):
        target = Study.objects.filter(slug=study).first()
        if target is None:
            raise CommandError(f"No study {study!r}.")
        # Each step can take a while on a large study: say which one is running.
        self.stderr.write("Reading the responses...")
        frame, codebook = responses_frame(target)
        if frame.empty:
            raise CommandError(f"Study {study!r} has no complete responses yet.")
        self.stderr.write(f"Judging the claims on {len(frame)} responses and writing the report...")
        try:
            report = claims_report(
                frame, codebook, Path(output), margins_path=Path(weights) if weights else None, k=k
            )
        except (ValueError, OSError) as error:
            raise CommandError(str(error)) from error
        verdicts = ", ".join(f"{c['id']}: {c['verdict']}" for c in report["claims"])
        label = " [SYNTHETIC DATA]" if report["data"] == "synthetic" else ""
        self.stdout.write(
            self.style.SUCCESS(f"Wrote {output}/claims.html and claims.json{label} — {verdicts}")
        )
