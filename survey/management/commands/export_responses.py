import sys
from pathlib import Path

from django.core.management.base import CommandError
from tqdm import tqdm

from analysis.exports import FORMATS
from survey.bridge import study_codebook
from survey.models import Study
from survey.selectors import released_responses
from survey.services.exports import export_write

from ._base import CandidCommand


class Command(CandidCommand):
    help = "Export a study's complete responses (with a codebook beside the file: .codebook.json and .codebook.html)."

    def add_arguments(self, parser):
        parser.add_argument("study")
        parser.add_argument("--format", choices=FORMATS, required=True)
        parser.add_argument("-o", "--output", required=True)
        parser.add_argument(
            "--language", default=None, help="language of labels (default: the study's first)"
        )
        parser.add_argument(
            "--values",
            choices=["codes", "labels"],
            default="codes",
            help="CSV/XLSX cells: choice codes or labels",
        )
        parser.add_argument(
            "--bom", action="store_true", help="CSV: start with a byte-order mark (for Excel)"
        )
        parser.add_argument("--exclude-synthetic", action="store_true")

    def handle(
        self,
        *args,
        study: str,
        format: str,
        output: str,
        language: str | None,
        values: str,
        bom: bool,
        exclude_synthetic: bool,
        **options,
    ):
        target = Study.objects.filter(slug=study).first()
        if target is None:
            raise CommandError(f"No study {study!r}.")
        language = language or target.languages[0]
        if language not in target.languages:
            raise CommandError(
                f"Study {study!r} has no language {language!r}; it has {', '.join(target.languages)}."
            )
        codebook = study_codebook(target, include_synthetic=not exclude_synthetic)
        extra = {
            k: v
            for k, v in {"values": values, "bom": bom}.items()
            if (k == "bom" and format == "csv") or (k == "values" and format in {"csv", "xlsx"})
        }
        total = released_responses(target, include_synthetic=not exclude_synthetic).count()
        # A bar on a terminal (counts, rate, time left); nothing in logs or pipes.
        with tqdm(total=total, desc=f"Exporting {format}", unit="resp", file=sys.stderr, disable=None) as bar:
            rows = export_write(
                target,
                codebook,
                Path(output),
                format,
                language=language,
                include_synthetic=not exclude_synthetic,
                progress=lambda done: bar.update(done - bar.n),
                **extra,
            )
        label = " (SYNTHETIC data)" if codebook.synthetic else ""
        self.stdout.write(
            self.style.SUCCESS(f"Wrote {rows} responses to {output}{label}, codebook beside it.")
        )
