"""Aggregate tables of a study (what its results page shows) as a tidy CSV and a formatted XLSX."""

import csv
import io
from pathlib import Path

from django.core.management.base import CommandError
from django.utils import translation
from django.utils.translation import gettext

from analysis import schema
from analysis.aggregates import write_csv, write_xlsx
from analysis.quality import FLAGS
from survey.bridge import responses_frame
from survey.languages import django_locale, study_language
from survey.models import Study
from survey.selectors import study_revision, study_title
from survey.services.results import (
    MAX_TARGETS_BYTES,
    ResultsOptions,
    TargetsRefused,
    breakdown_choices,
    compute_results,
    payload_in_words,
    weighting_targets_checked,
)
from survey.uploads import read_at_most

from ._base import CandidCommand


class Command(CandidCommand):
    help = (
        "Write a study's aggregate tables (every question, overall and by the breakdowns asked for, "
        "after disclosure control) to DIR/<study>-results.csv and DIR/<study>-results.xlsx."
    )

    def add_arguments(self, parser):
        parser.add_argument("study")
        parser.add_argument("-o", "--output", required=True, help="directory for the two files")
        parser.add_argument(
            "--by",
            action="append",
            default=None,
            help="break down by this variable (the sample or a single-choice question); repeat for more",
        )
        parser.add_argument(
            "--weights",
            help="population figures: raking margins (variable, category, share|count[, sample]) or a "
            "post-stratification table (one column per variable and count)",
        )
        parser.add_argument(
            "--rake-on",
            action="append",
            default=[],
            metavar="VAR",
            help="rake to this variable of the --weights margins only (repeat for more; default: all of "
            "them); fewer variables make fewer groups of one weight, so fewer figures are hidden",
        )
        parser.add_argument("-k", type=int, default=10, help="smallest cell released (never below 5)")
        parser.add_argument("--language", help="language of the labels (one of the study's)")
        parser.add_argument(
            "--exclude",
            action="append",
            default=[],
            choices=FLAGS,
            help="leave out responses with this data-quality flag",
        )

    def handle(
        self, *args, study: str, output: str, by, weights, rake_on, k: int, language, exclude, **options
    ):
        target = Study.objects.filter(slug=study).first()
        if target is None:
            raise CommandError(f"No study {study!r}.")
        if k < 5:
            raise CommandError("k must be at least 5; smaller thresholds do not protect respondents.")
        if language:  # zh, zh-Hans, zh_CN alike
            asked, language = language, study_language(language, target.languages)
            if language is None:
                raise CommandError(f"The study's languages are {', '.join(target.languages)}; not {asked!r}.")
        revision = study_revision(target)  # read first: a release meanwhile makes a new state
        frame, codebook = responses_frame(target)
        if frame.empty:
            raise CommandError(f"Study {study!r} has no complete responses yet.")
        allowed = [name for name, _label in breakdown_choices(target, language or target.languages[0])]
        unknown = [b for b in by or [] if b not in allowed or b not in frame.columns]
        if unknown:
            raise CommandError(
                f"Cannot break down by {', '.join(unknown)}: the breakdowns of this study are the sample and "
                f"its single-choice questions ({', '.join(allowed)})."
            )
        chosen = ResultsOptions(
            by=tuple(by) if by is not None else (schema.SAMPLE,),
            k=k,
            language=language or target.languages[0],
            exclude=tuple(exclude),
            speeding=target.speeding_fraction,
            rake_on=tuple(dict.fromkeys(rake_on)),
        )
        if rake_on and not weights:
            raise CommandError("--rake-on chooses variables of the raking margins given by --weights.")
        text = self._targets(target, Path(weights)) if weights else None
        try:
            payload = compute_results(
                target,
                frame,
                codebook,
                chosen,
                targets=(text, Path(weights).name) if text is not None else None,
                revision=revision,
            )
        except ValueError as error:
            raise CommandError(str(error)) from error
        folder = Path(output)
        folder.mkdir(parents=True, exist_ok=True)
        with translation.override(django_locale(chosen.language)):  # notes in the labels' language
            source = gettext("Candid, study %(slug)s") % {"slug": target.slug}
            notes = {"study": target.slug, "title": study_title(target), "source": source}
            payload = payload_in_words(payload)
            text = write_csv(payload, notes, translate=gettext)
            workbook = write_xlsx(payload, notes, translate=gettext)
        (folder / f"{target.slug}-results.csv").write_text(text, encoding="utf-8-sig")
        (folder / f"{target.slug}-results.xlsx").write_bytes(workbook)
        label = " [SYNTHETIC DATA]" if payload["data"] == "synthetic" else ""
        # What the file holds (the release's cell counts include figures never written as rows).
        rows = list(csv.DictReader(io.StringIO(text)))
        hidden = sum(row.get("suppressed") == "True" for row in rows)
        self.stdout.write(
            self.style.SUCCESS(
                f"Wrote {folder}/{target.slug}-results.csv and .xlsx{label}: {_counted(len(rows), 'row')}, "
                f"{hidden} of them suppressed (k = {k}), {_responses(payload)}"
            )
        )
        for note in payload["notes"]:
            self.stdout.write(f"  {note}")

    def _targets(self, study: Study, path: Path) -> str:
        """The population figures of ``path`` once they pass the checks the page's upload runs;
        else every problem printed and a ``CommandError`` (nothing computed or written)."""
        try:
            content = read_at_most(path, MAX_TARGETS_BYTES)  # over it: refused as too large
            text, _kind = weighting_targets_checked(study=study, content=content)
        except TargetsRefused as refused:
            for problem in refused.problems:
                self.stderr.write(f"  - {problem}")
            count = len(refused.problems)
            raise CommandError(
                f"{path.name} does not fit study {study.slug!r}: {count} problem{'s' if count > 1 else ''} "
                "(listed above); nothing was written."
            ) from refused
        except ValueError as error:
            raise CommandError(f"{path.name}: {error}") from error
        return text


def _counted(n: int, noun: str) -> str:
    """``1 row``, ``2 rows``."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _responses(payload: dict) -> str:
    """How many responses the tables use and leave out, or that disclosure control withholds it."""
    used = (
        "the number of responses used withheld by disclosure control"
        if payload["n"] is None
        else f"{_counted(payload['n'], 'response')} used (rounded to 5)"
    )
    if not payload["exclude"]:
        return used
    excluded = payload.get("excluded")
    left_out = (
        "how many were left out for the chosen flags withheld too"
        if excluded is None
        else f"{_counted(excluded, 'response')} left out for the chosen flags"
    )
    return f"{used}; {left_out}"
