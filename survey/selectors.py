"""Reads. Each selector makes a bounded number of queries, whatever the size of the study."""

from __future__ import annotations

from functools import cache, lru_cache
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, Model, Prefetch, Q, QuerySet
from django.utils import timezone

from analysis.codebook import Codebook, codebook_from_specs
from analysis.results import parameters_by_question

from .instrument import FORMAT, iter_questions, normalize
from .languages import lookup, text_in
from .models import (
    Choice,
    ChoiceList,
    ClaimsRegistry,
    ConsentText,
    PendingResponse,
    Question,
    QuestionnaireVersion,
    QuestionType,
    Response,
    ResponseStatus,
    Sample,
    Section,
    Study,
    StudyRole,
    VersionStatus,
)


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
            "calculation": question.calculation,
            "choice_filter": question.choice_filter,
            "default": question.default,
            "read_only": question.read_only,
            "items": [question_spec(item) for item in items_by_parent.get(question.pk, [])],
        }

    return normalize(
        {
            "format": FORMAT,
            "form_id": version.form_id,
            "form_version": version.form_version,
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
                    "choices": [
                        {
                            "code": c.code,
                            "label": c.label,
                            **({"anchor": True} if c.anchor else {}),
                            **({"exclusive": True} if c.exclusive else {}),
                            **({"columns": c.columns} if c.columns else {}),
                        }
                        for c in cl.choices.all()
                    ],
                }
                for cl in lists
            ],
        }
    )


def study_language_names(study: Study) -> dict[str, str]:
    """The names the study's published questionnaires give their languages (``{"x-tetun": "Tetun"}``),
    the latest version's first: what a language known by its name alone is called to participants."""
    names: dict[str, str] = {}
    published = study.versions.filter(status=VersionStatus.PUBLISHED).order_by("-number")
    for version_names in published.values_list("language_names", flat=True):
        for code, name in (version_names or {}).items():
            names.setdefault(code, name)
    return names


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


# What a staff member may link to. Every form that lets a user choose another object (a foreign-key
# or many-to-many choice, an import row naming a version) asks ``linkable``; the admin, the
# importer and the researcher's workbench share it, so a new page cannot forget a rule.


@cache
def path_to(model: type[Model], target: type[Model]) -> str | None:
    """The shortest lookup from ``model`` to ``target`` through forward foreign keys.

    ``""`` when ``model`` is ``target``; ``None`` when no chain of foreign keys leads there. A
    model added later is placed by its fields, e.g. ``path_to(Choice, Study)`` is
    ``"choice_list__version__study"``.
    """
    seen = {model}
    frontier: list[tuple[type[Model], str]] = [(model, "")]
    while frontier:
        following: list[tuple[type[Model], str]] = []
        for current, path in frontier:
            if current is target:
                return path
            for field in current._meta.concrete_fields:
                related = field.related_model
                if field.many_to_one and related is not None and related not in seen:
                    seen.add(related)
                    following.append((related, f"{path}__{field.name}" if path else field.name))
        frontier = following
    return None


def _lookup(path: str, rest: str) -> str:
    return f"{path}__{rest}" if path else rest


def _follow(obj: Model, path: str | None) -> Model | None:
    if path is None:
        return None
    for name in path.split("__") if path else ():
        obj = getattr(obj, name, None)
        if obj is None:
            return None
    return obj


def study_of(obj: Model) -> Study | None:
    """The study an object belongs to (itself for a study); ``None`` when it belongs to none."""
    return _follow(obj, path_to(type(obj), Study))  # type: ignore[return-value]


def staff_accounts() -> QuerySet:
    """Accounts that may be made members of a study: active staff, found by exact username only."""
    return get_user_model()._default_manager.filter(is_active=True, is_staff=True)


def linkable(model: type[Model], *, user: AbstractBaseUser, within: Model | None = None) -> QuerySet:
    """The objects of ``model`` that ``user`` may choose in a form that writes ``within``.

    ``within`` is the object being edited (or the parent of an inline row). Rules, for everyone
    including admins: a study-owned object must be of a study ``user`` may edit; a part of a
    questionnaire must be of a draft version (a published one never changes); and with
    ``within`` given, of ``within``'s own version, or else of its own study — objects never move
    between studies or versions. Accounts are :func:`staff_accounts`. A model with no way to a
    study offers nothing (fail closed), so a new kind of link needs a rule here first.
    """
    if model is get_user_model():
        return staff_accounts()
    to_study = path_to(model, Study)
    if to_study is None:
        return model._default_manager.none()
    queryset = model._default_manager.filter(
        **{_lookup(to_study, "pk__in"): studies_editable_by(user).values("pk")}
    )
    to_version = path_to(model, QuestionnaireVersion)
    if to_version is not None:
        queryset = queryset.filter(**{_lookup(to_version, "status"): VersionStatus.DRAFT})
    if within is not None:
        version = _follow(within, path_to(type(within), QuestionnaireVersion))
        study = study_of(within)
        if to_version is not None and version is not None:
            queryset = queryset.filter(**{_lookup(to_version, "pk"): version.pk})
        elif study is not None:
            queryset = queryset.filter(**{_lookup(to_study, "pk"): study.pk})
        else:
            return queryset.none()
    return queryset


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


MIN_K = 10


def release_k() -> int:
    """k, the smallest release batch: ``CANDID_RELEASE_K``, and never fewer than 10."""
    from django.conf import settings

    return max(MIN_K, int(settings.CANDID_RELEASE_K))


def released_responses(study: Study, *, include_synthetic: bool = True) -> QuerySet[Response]:
    """The responses analysts may read: the one definition every export, report, count and page uses.

    These are the complete responses of the study's release batches (``services.releases``), minus
    withdrawals. Responses in progress, and complete ones still waiting for their batch, are not
    among them, so no figure shown to staff moves with a single completion. ``bridge_copy.query``
    is the same selection written in SQL (tests keep the two equal).
    """
    responses = Response.objects.filter(study=study)
    return responses if include_synthetic else responses.filter(is_synthetic=False)


def in_progress_responses(study: Study, *, include_synthetic: bool = True) -> QuerySet[PendingResponse]:
    """Responses not finished (still answering, or abandoned: Candid keeps no time of last activity
    to tell them apart), for partial exports only; never in a figure or a default export."""
    pending = PendingResponse.objects.filter(study=study, status=ResponseStatus.IN_PROGRESS)
    return pending if include_synthetic else pending.filter(is_synthetic=False)


def completions_by_sample(study: Study, *, synthetic_only: bool = False) -> dict[int, int]:
    """Complete responses per sample id, released or waiting for their batch (two grouped queries).

    For fieldwork rules (target sizes), never for figures shown to staff.
    """
    counts: dict[int, int] = {}
    only = Q(is_synthetic=True) if synthetic_only else Q()
    for queryset in (
        Response.objects.filter(only, study=study),
        PendingResponse.objects.filter(only, study=study, status=ResponseStatus.COMPLETE),
    ):
        for sample_id, n in (
            queryset.values("sample_id").annotate(n=Count("pk")).values_list("sample_id", "n")
        ):
            counts[sample_id] = counts.get(sample_id, 0) + n
    return counts


def study_closed_reason(study: Study, sample: Sample) -> str | None:
    """Why the study takes no new participant through ``sample`` today: ``"not_open"`` (before its
    opening date), ``"closed"`` (after its closing date, or the study's or the sample's target of
    complete responses is met), or None when it is open. Dates are the site's local dates."""
    today = timezone.localdate()
    if study.opens_on and today < study.opens_on:
        return "not_open"
    if study.closes_on and today > study.closes_on:
        return "closed"
    if study.target_size or sample.target_size:
        done = completions_by_sample(study)
        if (study.target_size and sum(done.values()) >= study.target_size) or (
            sample.target_size and done.get(sample.pk, 0) >= sample.target_size
        ):
            return "closed"
    return None


def pending_position(*, response_id: Any) -> int:
    """The page a response in progress is at (0 if it is gone)."""
    return PendingResponse.objects.filter(pk=response_id).values_list("position", flat=True).first() or 0


def closed_by_target(*, study_id: int, sample_id: int) -> bool:
    """Whether the study, or this sample of it, has as many complete responses as its target size."""
    study = Study.objects.get(pk=study_id)
    target = study.samples.filter(pk=sample_id).values_list("target_size", flat=True).first()
    if not study.target_size and not target:
        return False
    done = completions_by_sample(study)
    return bool(
        (study.target_size and sum(done.values()) >= study.target_size)
        or (target and done.get(sample_id, 0) >= target)
    )


def study_monitoring(study: Study) -> dict[str, Any]:
    """Started, completed, declined and withdrawn counts per sample, and the median duration.

    "Completed" counts released responses only (``released_responses``), like every export and
    report; complete responses still waiting for their release batch are counted apart
    (``awaiting_release``). "Started" counts every response ever begun and not withdrawn; of them,
    ``synthetic_started`` were made by ``simulate_respondents`` (those that stopped half-way too)
    and ``synthetic`` of those completed. A fixed number of queries whatever the number of samples.
    """
    from .models import CounterKind, StudyCounter

    released = {
        row["sample_id"]: row
        for row in released_responses(study)
        .values("sample_id")
        .annotate(completed=Count("pk"), synthetic=Count("pk", filter=Q(is_synthetic=True)))
    }
    pending = {
        row["sample_id"]: row
        for row in PendingResponse.objects.filter(study=study)
        .values("sample_id")
        .annotate(
            begun=Count("pk"),
            waiting=Count("pk", filter=Q(status=ResponseStatus.COMPLETE)),
            synthetic=Count("pk", filter=Q(is_synthetic=True)),
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
        released_responses(study)
        .filter(duration_seconds__isnull=False)
        .values("sample_id", "duration_seconds")
        .annotate(times=Count("pk"))
        .order_by("sample_id", "duration_seconds")
        .values_list("sample_id", "duration_seconds", "times")
    ):
        durations.setdefault(sample_id, []).append((seconds, times))
    rows = []
    for sample in study.samples.all():
        done = released.get(sample.pk, {"completed": 0, "synthetic": 0})
        open_ = pending.get(sample.pk, {"begun": 0, "waiting": 0, "synthetic": 0})
        started = done["completed"] + open_["begun"]
        median = _median_of_histogram(durations.get(sample.pk, []))
        rows.append(
            {
                "sample": sample,
                "started": started,
                "completed": done["completed"],
                "awaiting_release": open_["waiting"],
                "synthetic": done["synthetic"],
                "synthetic_started": done["synthetic"] + open_["synthetic"],
                "declined": counters.get((sample.pk, CounterKind.DECLINED), 0),
                "withdrawn": counters.get((sample.pk, CounterKind.WITHDRAWN), 0),
                "completion_rate": (done["completed"] + open_["waiting"]) / started if started else None,
                "median_minutes": median / 60 if median is not None else None,
            }
        )
    return {
        "samples": rows,
        "completed": sum(r["completed"] for r in rows),
        "awaiting_release": sum(r["awaiting_release"] for r in rows),
        "release_k": release_k(),
    }


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
    """A digest of everything a study's report is computed from: the released responses (how many,
    how many synthetic, in which batches), the withdrawals, and the published versions. Released
    responses never change in place, so any release, withdrawal or new version changes it."""
    import hashlib

    from django.db.models import Max, Sum

    from .models import StudyCounter

    counts = released_responses(study).aggregate(
        batch=Max("batch_id"), complete=Count("pk"), synthetic=Count("pk", filter=Q(is_synthetic=True))
    )
    withdrawn = StudyCounter.objects.filter(sample__study=study, kind="withdrawn").aggregate(n=Sum("count"))
    versions = list(
        QuestionnaireVersion.objects.filter(study=study, status="published")
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    text = f"{counts['complete']}|{counts['synthetic']}|{counts['batch']}|{withdrawn['n'] or 0}|{versions}"
    return hashlib.sha256(text.encode()).hexdigest()


# --- the researcher's studio ------------------------------------------------------------------


def study_role(user: AbstractBaseUser, study: Study) -> str | None:
    """``admin``, ``owner``, ``researcher`` or ``analyst``: what ``user`` is on ``study`` (None: nothing)."""
    if not (user.is_active and user.is_staff):
        return None
    if user.is_superuser:
        return "admin"
    if study.owner_id == user.pk:
        return "owner"
    return study.memberships.filter(user=user).values_list("role", flat=True).first()


def may_edit_study(user: AbstractBaseUser, study: Study) -> bool:
    """Design rights (questionnaire, consent, samples, members, quotas): admins, the owner, researchers."""
    return study_role(user, study) in {"admin", "owner", "researcher"}


def studio_studies(user: AbstractBaseUser) -> list[dict[str, Any]]:
    """The studies ``user`` owns or is a member of (every study for an admin), newest first, each with
    its status, the user's role, real completed responses so far and the next thing to do.

    One query whatever the number of studies (every figure is a subquery).
    """
    return studio_studies_for(user, studies_visible_to(user))


def studio_studies_for(user: AbstractBaseUser, queryset: QuerySet[Study]) -> list[dict[str, Any]]:
    """:func:`studio_studies` for the studies of ``queryset`` (already limited to what ``user`` sees)."""
    from django.db.models import Count, IntegerField, OuterRef, Subquery
    from django.db.models.functions import Coalesce
    from django.utils import timezone

    from .models import StudyMembership

    def count(queryset) -> Coalesce:
        return Coalesce(
            Subquery(
                queryset.values("study").annotate(n=Count("pk")).values("n"), output_field=IntegerField()
            ),
            0,
        )

    versions = QuestionnaireVersion.objects.filter(study=OuterRef("pk"))
    studies = queryset.annotate(
        # Released responses (``released_responses``), real and synthetic, as every staff figure.
        completed=count(Response.objects.filter(study=OuterRef("pk"), is_synthetic=False)),
        synthetic=count(Response.objects.filter(study=OuterRef("pk"), is_synthetic=True)),
        published=Subquery(versions.filter(status="published").order_by("-number").values("number")[:1]),
        draft=Subquery(versions.filter(status="draft").values("number")[:1]),
        consents=count(ConsentText.objects.filter(study=OuterRef("pk"))),
        member_role=Subquery(
            StudyMembership.objects.filter(study=OuterRef("pk"), user=user).values("role")[:1]
        ),
    ).order_by("-pk")
    today = timezone.localdate()
    rows = []
    for study in studies:
        status = study_status(study, today=today, published=study.published, completed=study.completed)
        role = (
            "admin"
            if user.is_superuser and study.owner_id != user.pk
            else "owner"
            if study.owner_id == user.pk
            else study.member_role
        )
        rows.append(
            {
                "study": study,
                "status": status,
                "role": role,
                "completed": study.completed,
                "synthetic": study.synthetic,
                "published": study.published,
                "draft": study.draft,
                "next": next_step(
                    status=status,
                    draft=study.draft,
                    published=study.published,
                    consents=study.consents,
                    completed=study.completed,
                    may_edit=role in {"admin", "owner", "researcher"},
                ),
            }
        )
    return rows


def study_status(study: Study, *, today: Any, published: int | None, completed: int) -> str:
    """``draft`` (never published), ``scheduled`` (opens later), ``live`` or ``closed`` (past its
    closing date or its target of completed responses)."""
    if published is None:
        return "draft"
    if study.closes_on and today > study.closes_on:
        return "closed"
    if study.target_size and completed >= study.target_size:
        return "closed"
    if study.opens_on and today < study.opens_on:
        return "scheduled"
    return "live"


def next_step(
    *, status: str, draft: int | None, published: int | None, consents: int, completed: int, may_edit: bool
) -> str:
    """The one thing to do next on a study, as a key the templates word (see ``studio/next_step.html``)."""
    if not may_edit:
        return "results" if completed else "monitor"
    if draft is None and published is None:
        return "import"
    if published is None:
        return "consent" if not consents else "publish"
    if draft is not None:
        return "publish_draft"
    if status in {"live", "scheduled"}:
        return "distribute" if not completed else "monitor"
    return "results"


def study_overview(user: AbstractBaseUser, study: Study) -> dict[str, Any]:
    """A study at a glance for its overview page: status, next step, versions, consents, samples and
    (for those who may design it) the latest entries of its audit trail. A bounded number of queries."""
    from django.db.models import Count

    from .models import AuditEvent

    row = next(r for r in studio_studies_for(user, Study.objects.filter(pk=study.pk)))
    versions = list(study.versions.annotate(questions_count=Count("questions")).order_by("-number"))
    per_sample = {
        item["sample_id"]: item["n"]
        for item in released_responses(study, include_synthetic=False)
        .values("sample_id")
        .annotate(n=Count("pk"))
    }
    samples = [{"sample": s, "completed": per_sample.get(s.pk, 0)} for s in study.samples.all()]
    audit = (
        list(AuditEvent.objects.filter(study=study).select_related("user")[:20])
        if row["role"] in {"admin", "owner", "researcher"}
        else []
    )
    return {
        **row,
        "versions": versions,
        "consents": list(study.consent_texts.all()),
        "samples": samples,
        "audit": audit,
    }


def study_title(study: Study, staff_language: str | None = None) -> str:
    """The study's title in the staff page's language (``zh-hans`` reads the ``zh`` title), by
    default the active one."""
    from django.utils.translation import get_language

    return study.title_in(questionnaire_language(study.languages, staff_language or get_language() or "en"))


def questionnaire_language(languages: list[str], staff_language: str) -> str:
    """The questionnaire language closest to the staff page's, by RFC 4647 lookup (``zh-hans`` reads
    ``zh`` or ``zh-Hans`` texts), else the first."""
    return lookup([staff_language], list(languages), languages[0] if languages else "")


def logic_vocabulary(spec: dict[str, Any], language: str) -> Any:
    """Question and choice labels in ``language`` (the default language where one is missing), for
    reading expressions in words."""
    from .instrument import iter_questions
    from .logic_text import Vocabulary

    def pick(texts: dict[str, str]) -> str:
        return text_in(texts, language, spec["default_language"])

    lists = {cl["name"]: {c["code"]: pick(c["label"]) for c in cl["choices"]} for cl in spec["choice_lists"]}
    labels, choices = {}, {}
    for _section, question, _parent in iter_questions(spec):
        labels[question["code"]] = pick(question["label"]) or question["code"]
        if question["choice_list"]:
            choices[question["code"]] = lists.get(question["choice_list"], {})
    return Vocabulary(labels=labels, choices=choices)


def reading_of(source: str, vocabulary: Any) -> str | None:
    """``source`` in words, or None when it does not parse (the problem list says why)."""
    from .logic import ExpressionError
    from .logic_text import read

    if not source:
        return None
    try:
        return read(source, vocabulary)
    except ExpressionError:
        return None


VERSION_PART_ROWS = 100  # question rows on one screen of the version page and the preview


def version_parts(spec: dict[str, Any], rows: int = VERSION_PART_ROWS) -> list[list[tuple[int, int, int]]]:
    """The version page's screens: each a list of ``(page index, first question, end)`` slices with
    at most ``rows`` question rows (a matrix's or list experiment's items count). Pages stay whole
    unless one alone holds more; a form within ``rows`` is one screen."""
    parts: list[list[tuple[int, int, int]]] = []
    current: list[tuple[int, int, int]] = []
    size = 0
    for index, section in enumerate(spec["sections"]):
        weights = [1 + len(q["items"]) for q in section["questions"]]
        if current and size + max(sum(weights), 1) > rows:
            parts.append(current)
            current, size = [], 0
        first = 0
        for position, weight in enumerate(weights):
            if size + weight > rows and position > first:
                current.append((index, first, position))
                parts.append(current)
                current, size, first = [], 0, position
            size += weight
        current.append((index, first, len(weights)))
        size += 0 if weights else 1
    if current or not parts:
        parts.append(current)
    return parts


def _part_holding(spec: dict[str, Any], parts: list[list[tuple[int, int, int]]], anchor: str) -> int:
    """The screen (1-based) that shows ``anchor`` (``q-<code>``, ``page-block-<code>``; choice lists are
    on the last screen); 1 when nothing matches."""
    if anchor == "choice-lists" or anchor.startswith("list-block-"):
        return len(parts)
    for number, part in enumerate(parts, start=1):
        for index, first, end in part:
            section = spec["sections"][index]
            if anchor == f"page-block-{section['code']}" and first == 0:
                return number
            for question in section["questions"][first:end]:
                if anchor in {f"q-{q['code']}" for q in (question, *question["items"])}:
                    return number
    return 1


def version_outline(
    version: QuestionnaireVersion, staff_language: str, *, part: int = 1, anchor: str = ""
) -> dict[str, Any]:
    """A version as the studio shows it: pages in order, each question with its texts in every language,
    its choices, its logic in words, and the problems still attached to it. Four queries.

    A long form is shown a screen at a time (:func:`version_parts`): ``part`` (1-based; out of range
    gives the nearest) or the screen holding ``anchor``; ``parts`` describes every screen for the
    navigation (its pages and the problems it holds). Choice lists are on the last screen.
    """
    from .services.drafts import draft_problems, problem_place

    spec = version_to_spec(version)
    language = questionnaire_language(spec["languages"], staff_language)
    vocabulary = logic_vocabulary(spec, language)
    problems: dict[tuple[str, str], list[str]] = {}
    general: list[Any] = []
    for problem in draft_problems(spec):
        kind, key, _field = problem_place(problem)
        if kind in {"question", "section", "list"} and key:
            problems.setdefault((kind, key), []).append(problem.message)
        elif kind == "choice" and key:
            problems.setdefault(("list", key.split("/", 1)[0]), []).append(problem.message)
        else:
            general.append(problem.message)
    lists = {cl["name"]: cl for cl in spec["choice_lists"]}
    used_by: dict[str, list[str]] = {}
    for _section, question, _parent in iter_questions(spec):
        if question["choice_list"]:
            used_by.setdefault(question["choice_list"], []).append(question["code"])

    def outline(question: dict[str, Any]) -> dict[str, Any]:
        return {
            **question,
            "type_label": QuestionType(question["type"]).label
            if question["type"] in QuestionType.values
            else question["type"],
            # A calculate is never shown: it has no label to write (said once, not "no text yet" per language).
            "labels": []
            if question["type"] == "calculate" and not any(question["label"].values())
            else [(lang, question["label"].get(lang, "")) for lang in spec["languages"]],
            "hints": [(lang, question["hint"].get(lang, "")) for lang in spec["languages"]]
            if any(question["hint"].values())
            else [],
            "calculation_text": reading_of(question["calculation"], vocabulary),
            "choices": [
                vocabulary.choices.get(question["code"], {}).get(c["code"]) or c["code"]
                for c in lists.get(question["choice_list"], {}).get("choices", [])
            ],
            "relevance_text": reading_of(question["relevance"], vocabulary),
            "constraint_text": reading_of(question["constraint"], vocabulary),
            "problems": problems.get(("question", question["code"]), []),
            "item_rows": [outline(item) for item in question["items"]],
        }

    parts = version_parts(spec)
    part = _part_holding(spec, parts, anchor) if anchor else min(max(part, 1), len(parts))
    pages = [
        {
            **section,
            "number": index + 1,
            "continued": first > 0,
            "labels": [(lang, section["label"].get(lang, "")) for lang in spec["languages"]],
            "relevance_text": reading_of(section["relevance"], vocabulary),
            "problems": problems.get(("section", section["code"]), []) if first == 0 else [],
            "rows": [outline(q) for q in section["questions"][first:end]],
            "last": end == len(section["questions"]),
        }
        for index, first, end in parts[part - 1]
        for section in [spec["sections"][index]]
    ]
    choice_lists = [
        {
            **cl,
            "rows": [
                {
                    "code": c["code"],
                    "labels": [(lang, c["label"].get(lang, "")) for lang in spec["languages"]],
                }
                for c in cl["choices"]
            ],
            "used_by": used_by.get(cl["name"], []),
            "problems": problems.get(("list", cl["name"]), []),
        }
        for cl in (spec["choice_lists"] if part == len(parts) else [])
    ]
    return {
        "spec": spec,
        "language": language,
        "languages": spec["languages"],
        "titles": [(lang, spec["title"].get(lang, "")) for lang in spec["languages"]],
        "pages": pages,
        "choice_lists": choice_lists,
        "problems": general,
        "problem_count": sum(len(v) for v in problems.values()) + len(general),
        "part": part,
        "parts": version_parts_navigation(spec, parts, problems) if len(parts) > 1 else [],
    }


def version_parts_navigation(
    spec: dict[str, Any],
    parts: list[list[tuple[int, int, int]]],
    problems: dict[tuple[str, str], list[str]] | None = None,
) -> list[dict[str, Any]]:
    """Each screen's number, first and last page (numbers), question range when it shows part of one
    page, and how many of ``problems`` (``{(kind, code): messages}``, as :func:`version_outline`
    sorts them) it holds (the choice lists' on the last screen)."""
    problems = problems or {}
    described = []
    for number, part in enumerate(parts, start=1):
        count = 0
        for index, first, end in part:
            section = spec["sections"][index]
            count += len(problems.get(("section", section["code"]), [])) if first == 0 else 0
            for question in section["questions"][first:end]:
                count += sum(
                    len(problems.get(("question", q["code"]), [])) for q in (question, *question["items"])
                )
        if number == len(parts):
            count += sum(len(v) for (kind, _key), v in problems.items() if kind == "list")
        (index, first, _), (last, _, end) = part[0], part[-1]
        whole = len(part) > 1 or (first == 0 and end == len(spec["sections"][index]["questions"]))
        described.append(
            {
                "number": number,
                "first_page": index + 1,
                "last_page": last + 1,
                "questions": None if whole else (first + 1, end),
                "problems": count,
            }
        )
    return described


def claim_variables(study: Study) -> frozenset[str]:
    """The questionnaire variables the study's claims registry reads (a reworded one breaks the
    comparison with the registry's published figures); none when the study has no registry."""
    from analysis import schema
    from analysis.claims import RegistryError, parse_registry

    attached = claims_registry_current(study)
    if attached is None:
        return frozenset()
    try:
        registry = parse_registry(attached.text)
    except RegistryError:
        return frozenset()
    names: set[str] = {breakdown.variable for breakdown in registry.breakdowns}
    for claim in registry:
        for statistic in (claim.statistic, *claim.supplementary):
            if statistic is not None:
                names.add(statistic.variable)
                names.update(statistic.population)
        if claim.indirect is not None:
            names.add(claim.indirect.variable)
            names.update(claim.indirect.population)
    return frozenset(names - {schema.SAMPLE})


PUBLISH_GROUPS = {
    "translations": {"missing_label", "languages_missing", "study_title_missing"},
    "consent": {
        "no_consent",
        "consent_other_study",
        "consent_incomplete",
        "consent_no_research_team",
        "consent_no_contact",
        "consent_no_ethics_committee",
        "consent_no_ethics_reference",
    },
    "dates": {"study_closed"},
}


def publish_checklist(version: QuestionnaireVersion, consent: ConsentText | None) -> dict[str, list[str]]:
    """What blocks publishing ``version`` with ``consent``, by group: ``translations``, ``questions``
    (codes, expressions, lists and settings), ``consent`` and ``dates``. Empty lists everywhere: ready."""
    from .services.questionnaires import publish_problems

    groups: dict[str, list[str]] = {"translations": [], "questions": [], "consent": [], "dates": []}
    for problem in publish_problems(version, consent):
        group = next((name for name, codes in PUBLISH_GROUPS.items() if problem.code in codes), "questions")
        groups[group].append(str(problem))
    return groups


def logic_map(version: QuestionnaireVersion, staff_language: str) -> dict[str, Any]:
    """For every question: the questions its relevance, constraint, piped texts, calculation and choice
    filter read, and the
    questions that read it; each page's condition. Expressions are given as written and in words."""
    from .logic import ExpressionError, parse, piped_codes

    spec = version_to_spec(version)
    language = questionnaire_language(spec["languages"], staff_language)
    vocabulary = logic_vocabulary(spec, language)

    def refs(source: str, *, choice_filter: bool = False) -> list[str]:
        try:
            return (
                [ref for ref, _position in parse(source, choice_filter=choice_filter).references]
                if source
                else []
            )
        except ExpressionError:
            return []

    rows, readers = [], {}
    from .instrument import iter_questions

    for section, question, _parent in iter_questions(spec):
        piped = sorted(
            {
                ref
                for field in ("label", "hint")
                for text in question[field].values()
                for ref, _p in piped_codes(text)
            }
        )
        depends = {
            "relevance": sorted(set(refs(question["relevance"]))),
            "constraint": sorted(set(refs(question["constraint"])) - {question["code"]}),
            "piping": piped,
            "calculation": sorted(set(refs(question["calculation"]))),
            "choice_filter": sorted(set(refs(question["choice_filter"], choice_filter=True))),
        }
        for kind, codes in depends.items():
            for code in codes:
                readers.setdefault(code, []).append((question["code"], kind))
        rows.append(
            {
                "code": question["code"],
                "page": section["code"],
                "label": vocabulary.labels.get(question["code"], question["code"]),
                "relevance": question["relevance"],
                "relevance_text": reading_of(question["relevance"], vocabulary),
                "constraint": question["constraint"],
                "constraint_text": reading_of(question["constraint"], vocabulary),
                "depends": depends,
            }
        )
    for row in rows:
        row["read_by"] = readers.get(row["code"], [])
    pages = [
        {
            "code": s["code"],
            "relevance": s["relevance"],
            "relevance_text": reading_of(s["relevance"], vocabulary),
            "depends": sorted(set(refs(s["relevance"]))),
        }
        for s in spec["sections"]
        if s["relevance"]
    ]
    return {
        "rows": [row for row in rows if any(row["depends"].values()) or row["read_by"]],
        "independent": [
            row["code"] for row in rows if not any(row["depends"].values()) and not row["read_by"]
        ],
        "pages": pages,
    }


def quota_questions(study: Study) -> list[dict[str, Any]]:
    """The questions a cell quota can be set on (single choice, Likert, multiple choice) with their
    choices in ``language`` order, from the version participants answer (else the draft)."""
    version = latest_published_version(study) or study.versions.order_by("-number").first()
    if version is None:
        return []
    spec = version_to_spec(version)
    from .instrument import iter_questions

    lists = {cl["name"]: cl["choices"] for cl in spec["choice_lists"]}
    return [
        {
            "code": q["code"],
            "label": q["label"],
            "choices": [{"code": c["code"], "label": c["label"]} for c in lists.get(q["choice_list"], [])],
        }
        for _s, q, _p in iter_questions(spec)
        if q["type"] in {"single_choice", "likert", "multiple_choice"} and q["choice_list"]
    ]


def fieldwork_monitor(study: Study) -> dict[str, Any]:
    """Fieldwork at a glance: per sample (``study_monitoring``'s counts, plus screened out), per day
    (dates only: started, completed, declined, withdrawn, screened out; synthetic apart), drop-off by
    the furthest page reached, quota fill, and the team's test runs (never in any other figure).

    A fixed number of queries whatever the size of the study.
    """
    from django.db.models import Count, Sum

    from .models import FieldworkCount, FieldworkKind, Quota, TestRun

    monitoring = study_monitoring(study)
    counts = FieldworkCount.objects.filter(sample__study=study)
    screened = {
        row["sample_id"]: row["n"]
        for row in counts.filter(kind=FieldworkKind.SCREENED_OUT, synthetic=False)
        .values("sample_id")
        .annotate(n=Sum("count"))
    }
    # Where the real responses in progress stopped (the furthest page reached), in one grouped query.
    stopped: dict[int, int] = {
        furthest: n
        for furthest, n in PendingResponse.objects.filter(
            study=study, is_synthetic=False, status=ResponseStatus.IN_PROGRESS
        )
        .values("furthest")
        .annotate(n=Count("pk"))
        .values_list("furthest", "n")
    }
    durations: dict[int, list[tuple[int, int]]] = {}
    for sample_id, seconds, times in (
        released_responses(study, include_synthetic=False)
        .filter(duration_seconds__isnull=False)
        .values("sample_id", "duration_seconds")
        .annotate(times=Count("pk"))
        .order_by("sample_id", "duration_seconds")
        .values_list("sample_id", "duration_seconds", "times")
    ):
        durations.setdefault(sample_id, []).append((seconds, times))
    for row in monitoring["samples"]:
        pk = row["sample"].pk
        row["screened_out"] = screened.get(pk, 0)
        row["started_real"] = row["started"] - row["synthetic_started"]
        row["completed_real"] = row["completed"] - row["synthetic"]
        median = _median_of_histogram(durations.get(pk, []))
        row["median_minutes_real"] = median / 60 if median is not None else None
    days: dict[Any, dict[str, int]] = {}
    for day, kind, synthetic, n in (
        counts.values("day", "kind", "synthetic")
        .annotate(n=Sum("count"))
        .values_list("day", "kind", "synthetic", "n")
    ):
        key = f"synthetic_{kind}" if synthetic else kind
        days.setdefault(day, {})[key] = days.setdefault(day, {}).get(key, 0) + n
    runs_by_day = (
        TestRun.objects.filter(version__study=study).values_list("started_at__date").annotate(n=Count("pk"))
    )
    for day, n in runs_by_day:
        days.setdefault(day, {})["test_runs"] = n
    kinds = [*FieldworkKind.values, "synthetic_started", "synthetic_completed", "test_runs"]
    per_day = [
        {"day": day, **{kind: days[day].get(kind, 0) for kind in kinds}} for day in sorted(days, reverse=True)
    ]
    version = latest_published_version(study)
    page_count = len(version_to_spec(version)["sections"]) if version else 0
    completed = sum(row["completed_real"] for row in monitoring["samples"])
    # Complete responses still waiting for their release batch reached every page too.
    dropoff, reached = [], completed + monitoring["awaiting_release"] + sum(stopped.values())
    for index in range(max(page_count, max(stopped, default=-1) + 1)):
        dropoff.append({"page": index + 1, "reached": reached, "stopped": stopped.get(index, 0)})
        reached -= stopped.get(index, 0)
    quotas = list(Quota.objects.filter(study=study).select_related("sample").order_by("sample__slug", "name"))
    runs = TestRun.objects.filter(version__study=study).aggregate(
        total=Count("pk"), finished=Count("pk", filter=Q(finished=True))
    )
    return {
        **monitoring,
        "per_day": per_day,
        "dropoff": dropoff,
        "completed_real": completed,
        "quotas": quotas,
        "test_runs": runs,
    }


def study_dropoff(study: Study, *, include_synthetic: bool = False) -> list[dict[str, Any]]:
    """Responses started and left unfinished, by the last page they reached (its code, in the order
    that participant was shown), most-reached pages first: ``[{"page", "count"}]``. Synthetic ones
    too with ``include_synthetic`` (results whose complete responses include synthetic ones, and
    say so), so that drop-off counts the responses the rest of the page counts.

    Two queries whatever the number of responses: the grouped (page order, furthest) pairs are
    counted by the database, and most studies have few distinct page orders.
    """
    from django.db.models import Count

    counts: dict[str, int] = {}
    for display, furthest, times in (
        in_progress_responses(study, include_synthetic=include_synthetic)
        .values("display__sections", "furthest")
        .annotate(times=Count("pk"))
        .values_list("display__sections", "furthest", "times")
    ):
        sections = display or []
        page = sections[furthest] if 0 <= furthest < len(sections) else str(furthest + 1)
        counts[page] = counts.get(page, 0) + times
    return [{"page": page, "count": count} for page, count in sorted(counts.items(), key=lambda kv: -kv[1])]


def claims_registry_current(study: Study) -> ClaimsRegistry | None:
    """The registry version the study's report uses (the highest), or None when it has none."""
    return ClaimsRegistry.objects.filter(study=study).order_by("-version").first()


def claims_registry_versions(study: Study) -> QuerySet[ClaimsRegistry]:
    """Every registry version of the study, newest first, without their texts."""
    return (
        ClaimsRegistry.objects.filter(study=study)
        .select_related("attached_by")
        .defer("text")
        .order_by("-version")
    )


def _questionnaire_specs(study: Study) -> list[tuple[int, dict[str, Any]]]:
    """Every published version's spec and the draft's being edited, in version order."""
    versions = list(QuestionnaireVersion.objects.filter(study=study).order_by("number"))
    specs = [(v.number, spec_for(v)) for v in versions if v.status == "published"]
    drafts = [v for v in versions if v.status != "published"]
    if drafts:
        specs.append((drafts[-1].number, version_to_spec(drafts[-1])))
    return specs


def questionnaire_codebook(study: Study) -> Codebook:
    """The variables a claims registry may name: those of every published version and of the draft
    being edited (a registry can be prepared before the draft is published)."""
    specs = _questionnaire_specs(study)
    return codebook_from_specs(study=study.slug, title=study.title, languages=study.languages, specs=specs)


def questionnaire_parameters(study: Study) -> dict[str, dict[str, str]]:
    """Each question's XLSForm ``parameters`` as a claims registry is checked against them: the
    latest version's of those :func:`questionnaire_codebook` reads (the draft's, if any)."""
    return parameters_by_question(_questionnaire_specs(study))
