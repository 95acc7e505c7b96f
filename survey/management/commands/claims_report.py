from pathlib import Path

from django.conf import settings
from django.core.management.base import CommandError
from django.utils import translation

from analysis.claims import MAX_BYTES, RegistryError
from analysis.quality import FLAGS, QualityRules, fraction_parsed, fraction_text
from analysis.report import claims_report
from analysis.report_html import withheld_beside_exclusion
from analysis.report_text import ReportText
from analysis.weighting import read_margins
from survey.bridge import responses_frame, study_parameters
from survey.languages import site_language
from survey.models import Study
from survey.selectors import claims_registry_current, questionnaire_codebook, study_revision
from survey.services.claims import claims_registry_check, claims_registry_read
from survey.services.reports import report_disclosure, report_exclusion, report_text
from survey.services.studies import E_SPEEDING_FIXED
from survey.uploads import read_at_most

from ._base import CandidCommand


class Command(CandidCommand):
    help = (
        "Judge a study's claims registry on its responses: writes DIR/claims.html and DIR/claims.json "
        "(and DIR/claims.pdf with --pdf)."
    )

    def add_arguments(self, parser):
        parser.add_argument("study")
        parser.add_argument("-o", "--output", required=True, help="directory for claims.html and claims.json")
        parser.add_argument(
            "--registry",
            help="a claims registry (TOML) to judge instead of the one attached to the study; "
            "checked against the study's questionnaire",
        )
        parser.add_argument(
            "--weights", help="population margins CSV to rake to (variable, category, share|count[, sample])"
        )
        parser.add_argument("-k", type=int, default=10, help="minimum cell size (never below 5)")
        parser.add_argument(
            "--language",
            default="en",
            help="language of the report: en or zh (zh-Hans, zh-hans, zh_CN... alike)",
        )
        parser.add_argument("--pdf", action="store_true", help="also write claims.pdf")
        parser.add_argument(
            "--exclude",
            action="append",
            choices=FLAGS,
            default=[],
            help="leave out responses with this data-quality flag (repeat for several); the report says so",
        )
        parser.add_argument(
            "--speeding",
            metavar="FRACTION",
            help="speeding: a duration under this fraction of the sample's median (1/3 or 0.33); "
            "default and only value: the study's own setting (studio settings), which every release "
            "of the study uses",
        )

    def handle(
        self, *args, study: str, output: str, registry: str | None, weights: str | None, k: int, **options
    ):
        target = Study.objects.filter(slug=study).first()
        if target is None:
            raise CommandError(f"No study {study!r}.")
        language = site_language(options["language"])  # the site's code, as the page's ?language=
        if language is None:
            codes = ", ".join(code for code, _name in settings.LANGUAGES)
            raise CommandError(f"No report language {options['language']!r}; the languages are {codes}.")
        try:
            if registry:
                found = claims_registry_check(study=target, content=read_at_most(registry, MAX_BYTES))
                version = None
            else:
                attached = claims_registry_current(target)
                if attached is None:
                    raise CommandError(
                        f"Study {study!r} has no claims registry: attach one (manage.py attach_claims) "
                        "or pass --registry FILE."
                    )
                codebook = questionnaire_codebook(target)
                found = claims_registry_read(study=target, text=attached.text, codebook=codebook)
                version = attached.version
        except RegistryError as error:
            problems = "\n".join(f"  - {problem}" for problem in error.problems)
            raise CommandError(f"The registry cannot be used:\n{problems}") from error
        except OSError as error:
            raise CommandError(f"Cannot read {registry}: {error.strerror}.") from error
        speeding = self._speeding(target, options["speeding"])
        # Each step can take a while on a large study: say which one is running.
        self.stderr.write("Reading the responses...")
        revision = study_revision(target)  # read first: a release meanwhile makes a new state
        every, codebook = responses_frame(target)
        if every.empty:
            raise CommandError(f"Study {study!r} has no complete responses yet.")
        try:
            frame, quality, keys = report_exclusion(
                every,
                codebook,
                exclude=options["exclude"],
                parameters=study_parameters(target),
                rules=QualityRules(speeding=speeding),
                study=target,
            )
        except ValueError as error:
            raise CommandError(f"{str(error)[:1].upper()}{str(error)[1:]}.") from error
        if quality["flags"]:
            self.stderr.write(
                f"Left out {quality['excluded']} responses flagged for {', '.join(quality['flags'])}"
                + (
                    f" (speeding: under {fraction_text(speeding)} of the median)"
                    if "speeding" in quality["flags"]
                    else ""
                )
                + "."
            )
        self.stderr.write(f"Judging the claims on {len(frame)} responses and writing the report...")
        try:
            margins = read_margins(Path(weights)) if weights else None
            disclosure = report_disclosure(
                study=target,
                revision=revision,
                frame=every,
                codebook=codebook,
                registry=found,
                quality=quality,
                margins=margins,
                k=k,
            )
            with translation.override(language):
                report = claims_report(
                    frame,
                    codebook,
                    Path(output),
                    registry=found,
                    margins_path=Path(weights) if weights else None,
                    k=k,
                    language=language,
                    text=report_text(),
                    pdf=options["pdf"],
                    sample_names=dict(target.samples.values_list("slug", "name")),
                    registry_version=version,
                    title={"": target.title, **target.titles},
                    quality=quality,
                    keys=keys,
                    disclosure=disclosure,
                )
        except (ValueError, OSError) as error:
            raise CommandError(str(error)) from error
        withheld = withheld_beside_exclusion(report)
        if withheld is not None:
            self.stderr.write(
                ReportText().excluded_withholds.format(
                    withheld=withheld[0], measured=withheld[1], excluded=report["quality"]["excluded"]
                )
            )
        verdicts = ", ".join(f"{c['id']}: {c['verdict']}" for c in report["claims"])
        label = " [SYNTHETIC DATA]" if report["data"] == "synthetic" else ""
        files = "claims.html, claims.json" + (" and claims.pdf" if options["pdf"] else "")
        self.stdout.write(self.style.SUCCESS(f"Wrote {files} to {output}{label} — {verdicts}"))

    def _speeding(self, study: Study, asked: str | None) -> float:
        """The study's speeding fraction; ``--speeding`` may only repeat it. Releases at two
        fractions would differ by the few respondents between them: once the study released
        anything the ledger holds releases of one state of the data only, so nothing else would
        compare a report at another fraction with what was released before."""
        fraction = study.speeding_fraction
        if asked is None:
            return fraction
        try:
            value = fraction_parsed(asked)
        except ValueError as error:
            raise CommandError(f"--speeding: {error}.") from error
        if value == fraction:
            return fraction
        if study.speeding_fixed:
            raise CommandError(f"--speeding {asked}: {E_SPEEDING_FIXED} (It is {fraction_text(fraction)}.)")
        raise CommandError(
            f"--speeding {asked} is not the study's speeding fraction ({fraction_text(fraction)}): every "
            "release of a study is at its own fraction, fixed by its first release. Change it in the "
            "study's settings in the studio first."
        )
