"""Test runs: a researcher walks a version as a participant would; the answers stay in ``TestRun``.

Nothing here touches ``Response``, the counters, the arm sequences or the quotas, so a test run can
never reach monitoring, exports or reports. The display plan is rebuilt from the run's seed and arms
on every page (``flow.make_plan`` is deterministic), so a run follows a draft being edited.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from .. import flow
from ..instrument import iter_questions
from ..models import QuestionnaireVersion, Sample, TestRun


def run_plan(spec: dict[str, Any], run: TestRun) -> dict[str, Any]:
    """The run's display plan: its seed, its chosen arms (control where none was chosen)."""
    arms = {
        q["code"]: run.arms.get(q["code"], flow.ARM_CONTROL)
        for _s, q, _p in iter_questions(spec)
        if q["type"] == "list_experiment"
    }
    return flow.make_plan(spec, run.seed, arms)


@transaction.atomic
def run_start(
    *,
    user: AbstractBaseUser,
    version: QuestionnaireVersion,
    language: str,
    spec: dict[str, Any],
    seed: int | None = None,
    arms: dict[str, str] | None = None,
    sample: Sample | None = None,
) -> TestRun:
    """A new test run; a list experiment without a chosen arm gets one at random, as a participant would."""
    if language not in version.languages:
        raise ValueError(f"version {version.number} has no language {language!r}")
    chosen = dict(arms or {})
    for _s, question, _p in iter_questions(spec):
        if question["type"] == "list_experiment" and chosen.get(question["code"]) not in (
            flow.ARM_CONTROL,
            flow.ARM_TREATMENT,
        ):
            chosen[question["code"]] = secrets.choice([flow.ARM_CONTROL, flow.ARM_TREATMENT])
    run = TestRun(
        version=version,
        user=user,
        sample=sample,
        language=language,
        seed=secrets.randbits(31) if seed is None else seed,
        arms=chosen,
    )
    plan = run_plan(spec, run)
    run.position = run.furthest = flow.first_page(flow.pages(spec, plan), {}) or 0
    run.full_clean()
    run.save()
    return run


@transaction.atomic
def run_save_page(
    *, run: TestRun, spec: dict[str, Any], page_index: int, answers: dict[str, Any], codes: list[str]
) -> int | None:
    """Keep one validated page of a test run; returns the next page, or None when the run is finished."""
    run = TestRun.objects.select_for_update().get(pk=run.pk)
    plan = run_plan(spec, run)
    merged = {k: v for k, v in run.answers.items() if k not in codes}
    merged.update({k: flow.to_json(v) for k, v in answers.items() if k in codes and v not in (None, "", [])})
    merged = flow.clear_stale(spec, plan, merged)
    following = flow.next_page(flow.pages(spec, plan), page_index, merged)
    run.answers = merged
    if following is None:
        run.finished = True
        run.position = page_index
    else:
        run.position = following
        run.furthest = max(run.furthest, following)
    run.save(update_fields=["answers", "finished", "position", "furthest"])
    return following


def run_move(*, run: TestRun, page_index: int, language: str | None = None) -> None:
    """Go back to a page already reached (or switch the run's language); nothing is saved."""
    fields: dict[str, Any] = {"position": min(page_index, run.furthest), "finished": False}
    if language:
        fields["language"] = language
    TestRun.objects.filter(pk=run.pk).update(**fields)
