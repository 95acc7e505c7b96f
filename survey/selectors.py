"""Reads. Each selector makes a bounded number of queries, whatever the size of the study."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Prefetch, Q, QuerySet

from .instrument import FORMAT, normalize
from .models import Choice, ChoiceList, Question, QuestionnaireVersion, Section, Study, StudyRole


def version_to_spec(version: QuestionnaireVersion) -> dict[str, Any]:
    """The version as a normalised spec (four queries: sections, questions, lists, choices)."""
    sections = list(Section.objects.filter(version=version).order_by("position"))
    questions = list(
        Question.objects.filter(version=version).select_related("choice_list").order_by("position", "pk")
    )
    lists = list(
        ChoiceList.objects.filter(version=version)
        .prefetch_related(Prefetch("choices", queryset=Choice.objects.order_by("position")))
        .order_by("pk")
    )
    items_by_parent: dict[int, list[Question]] = {}
    top_by_section: dict[int, list[Question]] = {}
    for question in questions:
        if question.parent_id:
            items_by_parent.setdefault(question.parent_id, []).append(question)
        else:
            top_by_section.setdefault(question.section_id, []).append(question)

    def question_spec(question: Question) -> dict[str, Any]:
        return {
            "code": question.code,
            "type": question.type,
            "label": question.label,
            "hint": question.hint,
            "required": question.required,
            "relevance": question.relevance,
            "constraint": question.constraint,
            "constraint_message": question.constraint_message,
            "appearance": question.appearance,
            "parameters": question.parameters,
            "choice_list": question.choice_list.name if question.choice_list else None,
            "randomize": question.randomize,
            "reverse_scale": question.reverse_scale,
            "source": question.source,
            "items": [question_spec(item) for item in items_by_parent.get(question.pk, [])],
        }

    return normalize(
        {
            "format": FORMAT,
            "form_id": version.form_id,
            "title": version.title,
            "languages": version.languages,
            "language_names": version.language_names,
            "default_language": version.default_language,
            "sections": [
                {
                    "code": section.code,
                    "label": section.label,
                    "relevance": section.relevance,
                    "randomize": section.randomize,
                    "shuffle": section.shuffle,
                    "questions": [question_spec(q) for q in top_by_section.get(section.pk, [])],
                }
                for section in sections
            ],
            "choice_lists": [
                {
                    "name": cl.name,
                    "choices": [{"code": c.code, "label": c.label} for c in cl.choices.all()],
                }
                for cl in lists
            ],
        }
    )


def spec_for(version: QuestionnaireVersion) -> dict[str, Any]:
    """``cached_spec`` for a version already loaded (no query when it is cached)."""
    if version.status != "published":
        raise QuestionnaireVersion.DoesNotExist("only published versions are cached")
    return _published_spec(version.pk, version.study_id, version.number, version.created_on)


def cached_spec(version_id: int) -> dict[str, Any]:
    """The spec of a published version, read once per process: published versions never change.

    The cache key carries the study, number and creation date besides the primary key, so a key
    reused after a deletion can never serve another version's questionnaire.
    """
    identity = (
        QuestionnaireVersion.objects.filter(pk=version_id, status="published")
        .values_list("study_id", "number", "created_on")
        .get()
    )
    return _published_spec(version_id, *identity)


@lru_cache(maxsize=64)
def _published_spec(version_id: int, study_id: int, number: int, created_on: Any) -> dict[str, Any]:
    return version_to_spec(QuestionnaireVersion.objects.get(pk=version_id))


def studies_visible_to(user: AbstractBaseUser) -> QuerySet[Study]:
    """Admins see every study; researchers and analysts those they own or are members of."""
    if not user.is_active:
        return Study.objects.none()
    if user.is_superuser:
        return Study.objects.all()
    return Study.objects.filter(Q(owner=user) | Q(memberships__user=user)).distinct()


def studies_editable_by(user: AbstractBaseUser) -> QuerySet[Study]:
    if not user.is_active:
        return Study.objects.none()
    if user.is_superuser:
        return Study.objects.all()
    return Study.objects.filter(
        Q(owner=user) | Q(memberships__user=user, memberships__role=StudyRole.RESEARCHER)
    ).distinct()


def latest_published_version(study: Study) -> QuestionnaireVersion | None:
    return study.versions.filter(status="published").order_by("-number").first()


def may_see_results(user: AbstractBaseUser, study: Study) -> bool:
    """Aggregates and reports: admins, the owner, and every researcher or analyst of the study."""
    return bool(user.is_active and user.is_staff) and studies_visible_to(user).filter(pk=study.pk).exists()


def may_export_raw(user: AbstractBaseUser, study: Study) -> bool:
    """Microdata: admins, the owner, researchers of the study, and analysts given the permission."""
    if not (user.is_active and user.is_staff):
        return False
    if user.is_superuser or study.owner_id == user.pk:
        return True
    return (
        study.memberships.filter(user=user)
        .filter(Q(role=StudyRole.RESEARCHER) | Q(may_export_raw=True))
        .exists()
    )


def study_monitoring(study: Study) -> dict[str, Any]:
    """Started, completed, declined and withdrawn counts per sample, and the median duration.

    Three queries whatever the number of samples: grouped counts, the counters, the durations.
    """
    from django.db.models import Count

    from .models import CounterKind, Response, StudyCounter

    complete = Q(status="complete")
    counts = {
        row["sample_id"]: row
        for row in Response.objects.filter(study=study)
        .values("sample_id")
        .annotate(
            started=Count("pk"),
            completed=Count("pk", filter=complete),
            synthetic=Count("pk", filter=complete & Q(is_synthetic=True)),
        )
    }
    counters: dict[tuple[int, str], int] = {
        (sample_id, kind): count
        for sample_id, kind, count in StudyCounter.objects.filter(sample__study=study).values_list(
            "sample_id", "kind", "count"
        )
    }
    # Durations are rounded to 30 s, so a histogram is short whatever the number of responses.
    durations: dict[int, list[tuple[int, int]]] = {}
    for sample_id, seconds, times in (
        Response.objects.filter(study=study, status="complete", duration_seconds__isnull=False)
        .values("sample_id", "duration_seconds")
        .annotate(times=Count("pk"))
        .order_by("sample_id", "duration_seconds")
        .values_list("sample_id", "duration_seconds", "times")
    ):
        durations.setdefault(sample_id, []).append((seconds, times))
    rows = []
    for sample in study.samples.all():
        row = counts.get(sample.pk, {"started": 0, "completed": 0, "synthetic": 0})
        median = _median_of_histogram(durations.get(sample.pk, []))
        rows.append(
            {
                "sample": sample,
                "started": row["started"],
                "completed": row["completed"],
                "synthetic": row["synthetic"],
                "declined": counters.get((sample.pk, CounterKind.DECLINED), 0),
                "withdrawn": counters.get((sample.pk, CounterKind.WITHDRAWN), 0),
                "completion_rate": row["completed"] / row["started"] if row["started"] else None,
                "median_minutes": median / 60 if median is not None else None,
            }
        )
    return {"samples": rows, "completed": sum(r["completed"] for r in rows)}


def _median_of_histogram(histogram: list[tuple[int, int]]) -> int | None:
    """The middle value (the upper one of an even count) of ``(value, times)`` pairs in order."""
    middle = sum(times for _, times in histogram) // 2
    seen = 0
    for value, times in histogram:
        seen += times
        if seen > middle:
            return value
    return None


def study_revision(study: Study) -> str:
    """A digest of everything a study's report is computed from: the complete responses (how many,
    how many synthetic), the withdrawals, and the published versions. Complete responses never
    change in place, so any completion, withdrawal, relabelling as synthetic or new version changes it."""
    import hashlib

    from django.db.models import Count, Sum

    from .models import Response, ResponseStatus, StudyCounter

    counts = Response.objects.filter(study=study, status=ResponseStatus.COMPLETE).aggregate(
        complete=Count("pk"), synthetic=Count("pk", filter=Q(is_synthetic=True))
    )
    withdrawn = StudyCounter.objects.filter(sample__study=study, kind="withdrawn").aggregate(n=Sum("count"))
    versions = list(
        QuestionnaireVersion.objects.filter(study=study, status="published")
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    text = f"{counts['complete']}|{counts['synthetic']}|{withdrawn['n'] or 0}|{versions}"
    return hashlib.sha256(text.encode()).hexdigest()
