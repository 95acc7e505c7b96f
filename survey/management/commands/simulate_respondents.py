"""Synthetic participants through the real participant pages (see ``survey.simulation`` for the model)."""

import argparse
import multiprocessing
import sys
import time
from collections import Counter

from django.core.management.base import CommandError
from django.db import connections
from django.utils.translation import gettext
from tqdm import tqdm

from survey.models import Study

from ._base import CandidCommand

CHUNK = 10  # respondents per task handed to a worker process


def _run(args: tuple[str, str, list[int], str, str]) -> tuple[int, int, list[str]]:
    slug, sample, seeds, host, language = args
    import random

    from django.test import Client

    from survey import simulation
    from survey.services import responses

    # The server's own randomisation (page and option order) replays from the same seeds too.
    server = random.Random(seeds[0] if seeds else 0)
    responses.new_seed = lambda: server.randrange(2**31)
    connection = connections["default"]
    if connection.vendor == "sqlite" and not connection.in_atomic_block:
        # Synthetic data only: commit without waiting for the disk (WAL keeps the file consistent).
        # Real participants' commits stay synchronous=FULL, as configured in settings.
        connection.ensure_connection()
        connection.cursor().execute("PRAGMA synchronous=NORMAL")

    from django.http import HttpResponse

    from survey.bridge import study_parameters
    from survey.selectors import latest_published_version, spec_for
    from survey.views.participant import cookie_name, read_resume_cookie
    from survey.views.participant.resume import set_resume_cookie

    study = Study.objects.get(slug=slug)
    checks = simulation.attention_checks(study_parameters(study))
    version = latest_published_version(study)
    # What the questionnaire states about typed answers: respondents answer within it.
    rules = simulation.answer_rules(spec_for(version)) if version is not None else {}
    marked: list[bool] = []

    def label_synthetic(client: Client, respondent: simulation.Respondent) -> None:
        # Before any answer is saved, so the response is never released unlabelled.
        name = cookie_name(study)
        cookie = client.cookies.get(name)
        token, started = read_resume_cookie(study, cookie.value if cookie else None)
        marked.append(bool(token) and responses.response_mark_synthetic(study_id=study.pk, token=token))
        if token and started is not None:
            # Its start dated back by the time the model says it takes (the pages take milliseconds).
            dated = HttpResponse()
            set_resume_cookie(dated, study, token, started=int(started) - respondent.seconds)
            client.cookies[name] = dated.cookies[name].value

    completed = 0
    reasons: list[str] = []  # one per respondent who did not finish
    for seed in seeds:
        client = Client(HTTP_HOST=host, HTTP_ACCEPT_LANGUAGE=language)
        marked.clear()
        respondent = simulation.Respondent(seed, sample, checks=checks, rules=rules)
        outcome = simulation.walk(
            client,
            f"/s/{slug}/{sample}/",
            respondent,
            after_consent=lambda client, respondent=respondent: label_synthetic(client, respondent),
        )
        if outcome.completed and marked == [True]:
            completed += 1
        elif marked != [True]:
            reasons.append(gettext("its response could not be labelled synthetic"))
        else:
            reasons.append(outcome.reason or gettext("no reason given"))
    return completed, len(reasons), reasons


def _run_in_worker(args: tuple[str, str, list[int], str, str]) -> tuple[int, int, list[str]]:
    """``_run`` in a forked process, which opens and closes its own database connection."""
    try:
        return _run(args)
    finally:
        connections.close_all()


class Command(CandidCommand):
    help = "Send N synthetic respondents through the real participant flow; their responses are labelled synthetic."

    def add_arguments(self, parser):
        parser.add_argument("study")
        parser.add_argument("--sample", help="sample slug (default: every sample of the study)")
        parser.add_argument("-n", type=int, required=True, help="respondents per sample")
        parser.add_argument("--seed", type=int, default=2017)
        parser.add_argument("--workers", type=int, default=2, help="processes (one per core)")
        parser.add_argument(
            "--progress",
            action=argparse.BooleanOptionalAction,
            default=None,
            help="a progress bar on standard error (default: when it is a terminal)",
        )
        parser.add_argument(
            "--top-up",
            action="store_true",
            help="only add what each sample lacks to reach N synthetic responses",
        )

    def handle(
        self, *args, study: str, sample: str | None, n: int, seed: int, workers: int, top_up: bool, **options
    ):
        if n < 1 or workers < 1:
            raise CommandError("-n and --workers must be at least 1.")
        target = Study.objects.filter(slug=study).first()
        if target is None:
            raise CommandError(f"No study {study!r}.")
        samples = list(target.samples.filter(**({"slug": sample} if sample else {})))
        if not samples:
            raise CommandError(f"Study {study!r} has no sample {sample!r}.")
        from survey.selectors import completions_by_sample
        from survey.simulation import seeds as make_seeds

        jobs = []
        synthetic = completions_by_sample(target, synthetic_only=True) if top_up else {}
        for offset, each in enumerate(samples):
            have = synthetic.get(each.pk, 0)
            seeds = make_seeds(seed + 1000 * offset, n)[have:]

            language = {"zh": "zh-CN,zh;q=0.9", "en": "en-GB,en;q=0.9"}.get(
                each.default_language, each.default_language
            )
            # Small chunks, so that the progress bar moves as respondents finish.
            jobs += [
                (target.slug, each.slug, seeds[i : i + CHUNK], "127.0.0.1", language)
                for i in range(0, len(seeds), CHUNK)
            ]
        total = sum(len(job[2]) for job in jobs)
        started = time.monotonic()
        results = []
        with tqdm(
            total=total,
            desc="Synthetic respondents",
            unit="resp",
            # --progress / --no-progress decide; by default the bar shows on a terminal only.
            disable=None if options.get("progress") is None else not options["progress"],
            file=sys.stderr,
            dynamic_ncols=True,
        ) as bar:
            if workers > 1 and len(jobs) > 1:
                connections.close_all()  # forked workers must not share this process's connection
                with multiprocessing.get_context("fork").Pool(workers) as pool:
                    for result in pool.imap_unordered(_run_in_worker, jobs):
                        results.append(result)
                        bar.update(result[0] + result[1])
            else:
                for job in jobs:
                    results.append(_run(job))
                    bar.update(results[-1][0] + results[-1][1])
        completed = sum(r[0] for r in results)
        failed = sum(r[1] for r in results)
        seconds = time.monotonic() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"{completed} synthetic {_respondents(completed)} completed {target.slug} ({', '.join(s.slug for s in samples)}) in {seconds:.1f} s"
                + (f"; {failed} did not finish" if failed else "")
            )
        )
        if failed:
            # Why, most frequent first: the question and what the server said, as each walk ended.
            self.stdout.write(gettext("Why they did not finish:"))
            for reason, times in Counter(r for result in results for r in result[2]).most_common():
                self.stdout.write(f"  {times} × {reason}")
            if not completed:  # nothing to show for it: an error; else the count and why, as above
                raise CommandError(
                    f"{failed} synthetic {_respondents(failed)} did not finish the questionnaire."
                )


def _respondents(n: int) -> str:
    return "respondent" if n == 1 else "respondents"
