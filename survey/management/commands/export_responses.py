import sys
from pathlib import Path

from django.core.management.base import CommandError
from django.utils import translation
from django.utils.translation import gettext
from tqdm import tqdm

from analysis.exports import FORMATS
from survey.bridge import study_codebook
from survey.languages import study_language
from survey.models import Study
from survey.selectors import in_progress_responses, released_responses
from survey.services.exports import django_language, export_write

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
        parser.add_argument(
            "--missing-codes",
            action="store_true",
            help="CSV/XLSX/Parquet/JSON: write each missing answer's kind as its code (-97 shown not "
            "answered, -98 not shown, -99 not in the version, -96 not reached) instead of an empty cell",
        )
        parser.add_argument(
            "--syntax",
            action="store_true",
            help="CSV: also write SPSS .sps and Stata .do files (implies --missing-codes)",
        )
        parser.add_argument(
            "--quality-flags",
            action="store_true",
            help="add the four data-quality flags as 0/1 columns (complete responses only)",
        )
        parser.add_argument(
            "--partial",
            action="store_true",
            help="also export responses in progress (response_status, furthest_page); never by default",
        )

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
        missing_codes: bool = False,
        syntax: bool = False,
        partial: bool = False,
        quality_flags: bool = False,
        **options,
    ):
        target = Study.objects.filter(slug=study).first()
        if target is None:
            raise CommandError(f"No study {study!r}.")
        asked = language or target.languages[0]
        language = study_language(asked, target.languages)  # zh, zh-Hans, zh_CN alike
        if language is None:
            raise CommandError(
                f"Study {study!r} has no language {asked!r}; it has {', '.join(target.languages)}."
            )
        if syntax and format != "csv":
            raise CommandError("--syntax goes with --format csv (the .sav and .dta files carry it all).")
        if syntax and values != "codes":
            raise CommandError(
                gettext(
                    "--syntax reads a CSV of codes: leave out --values labels (the syntax applies the labels)."
                )
            )
        codebook = study_codebook(target, include_synthetic=not exclude_synthetic, partial=partial)
        extra = {
            k: v
            for k, v in {"values": values, "bom": bom}.items()
            if (k == "bom" and format == "csv") or (k == "values" and format in {"csv", "xlsx"})
        }
        if missing_codes and format in {"csv", "xlsx", "parquet", "json"}:
            extra["missing_codes"] = True
        if syntax:
            extra["syntax"] = True
        if quality_flags:
            if partial:
                raise CommandError("--quality-flags goes with complete responses only (not with --partial).")
            extra["quality_flags"] = True
        total = released_responses(target, include_synthetic=not exclude_synthetic).count()
        if partial:
            total += in_progress_responses(target, include_synthetic=not exclude_synthetic).count()
        # A bar on a terminal (counts, rate, time left); nothing in logs or pipes.
        with (
            tqdm(total=total, desc=f"Exporting {format}", unit="resp", file=sys.stderr, disable=None) as bar,
            translation.override(django_language(language)),
        ):
            rows = export_write(
                target,
                codebook,
                Path(output),
                format,
                language=language,
                include_synthetic=not exclude_synthetic,
                progress=lambda done: bar.update(done - bar.n),
                partial=partial,
                **extra,
            )
        label = " (SYNTHETIC data)" if codebook.synthetic else ""
        label += " including responses in progress" if partial else ""
        self.stdout.write(
            self.style.SUCCESS(f"Wrote {rows} responses to {output}{label}, codebook beside it.")
        )
