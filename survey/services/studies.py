"""Writing studies: create and change them, their samples and members; load a study bundle
(study.json + questionnaire + consent) and publish it. Every change is in the audit log."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy, gettext_noop

from analysis.claims import RegistryError

from ..instrument import Problem, QuestionnaireInvalid
from ..instrument_files import json_document, read_questionnaire_file
from ..models import Sample, Study
from ..uploads import read_at_most
from .claims import claims_registry_from_bundle
from .exports import audit_record
from .questionnaires import consent_create, questionnaire_import, questionnaire_publish

# What study.json holds: each key's type, and whether it must be given (not left out nor null).
BUNDLE_KEYS: dict[str, tuple[type, bool]] = {
    "slug": (str, True),
    "title": (str, True),
    "languages": (list, True),
    "samples": (list, True),
    "consent": (dict, True),
    "titles": (dict, False),
    "target_size": (int, False),
    "data_freeze_after_days": (int, False),
    "claims_registry": (str, False),
}
BUNDLE_MAX_BYTES = 1_000_000  # the study's settings and consent texts; anything larger is a mistake
E_BUNDLE_NOT_OBJECT = gettext_lazy("the file must hold one JSON object of the study's settings, not {kind}")
E_BUNDLE_TOO_LARGE = gettext_lazy("the file holds more than {limit:,} bytes, the limit")
E_BUNDLE_MISSING = gettext_lazy("{key!r} is missing")
E_BUNDLE_TYPE = gettext_lazy("{key!r} must be {expected}, not {value}")
E_BUNDLE_REFUSED = gettext_lazy("the samples or the consent cannot be used: {error}")
BUNDLE_TYPE_NAMES = {
    str: gettext_lazy("text"),
    list: gettext_lazy("a list"),
    dict: gettext_lazy("an object"),
    int: gettext_lazy("a whole number"),
}


class BundleInvalid(QuestionnaireInvalid):
    """A study bundle refused: every problem located at its file (``study.json``); nothing is written."""


def _bundle_settings(directory: Path) -> dict[str, Any]:
    """``study.json``'s settings once each key has its type; else :class:`BundleInvalid` with every
    problem. Read no further than ``BUNDLE_MAX_BYTES``, parsed as any JSON a person gives
    (:func:`survey.instrument_files.json_document`)."""
    content = read_at_most(directory / "study.json", BUNDLE_MAX_BYTES)
    if len(content) > BUNDLE_MAX_BYTES:
        problem = Problem("study.json", E_BUNDLE_TOO_LARGE.format(limit=BUNDLE_MAX_BYTES), "too_large")
        raise BundleInvalid([problem])
    meta = json_document("study.json", content)
    if not isinstance(meta, dict):
        kind = BUNDLE_TYPE_NAMES.get(type(meta), type(meta).__name__)
        raise BundleInvalid([Problem("study.json", E_BUNDLE_NOT_OBJECT.format(kind=kind), "bundle_shape")])
    problems = []
    for key, (expected, required) in BUNDLE_KEYS.items():
        value = meta.get(key)
        if value is None:
            if required:
                problems.append(Problem("study.json", E_BUNDLE_MISSING.format(key=key), "bundle_missing"))
        elif not isinstance(value, expected) or isinstance(value, bool):
            message = E_BUNDLE_TYPE.format(
                key=key, expected=BUNDLE_TYPE_NAMES[expected], value=json.dumps(value)
            )
            problems.append(Problem("study.json", message[:500], "bundle_type"))
    if problems:
        raise BundleInvalid(problems)
    return meta


@transaction.atomic
def study_load_bundle(*, directory: Path, owner: AbstractBaseUser) -> tuple[Study, bool]:
    """Create and publish the study described by ``directory`` (``study.json`` + ``questionnaire.xlsx``),
    with the claims registry ``study.json`` names (``"claims_registry"``) attached.

    Returns ``(study, created)``; an already loaded study is left as it is, except that a changed
    bundle registry is attached as its next version (``claims_registry_from_bundle``). A bundle that
    cannot be loaded raises :class:`BundleInvalid` (or :class:`QuestionnaireInvalid` for its
    questionnaire) and leaves nothing written.
    """
    meta = _bundle_settings(directory)
    existing = Study.objects.filter(slug=meta["slug"]).first()
    if existing is not None:
        if meta.get("claims_registry"):
            claims_registry_from_bundle(study=existing, directory=directory, name=meta["claims_registry"])
        return existing, False
    spec = read_questionnaire_file(directory / "questionnaire.xlsx")
    try:
        return _study_from_bundle(meta, spec, directory=directory, owner=owner), True
    except ValidationError as error:
        listed = (
            [f"{key}: {' '.join(texts)}" for key, texts in error.message_dict.items()]
            if hasattr(error, "error_dict")
            else error.messages
        )
        raise BundleInvalid([Problem("study.json", text, "bundle_invalid") for text in listed]) from error
    except (QuestionnaireInvalid, RegistryError):
        raise
    except (TypeError, ValueError, KeyError, AttributeError) as error:
        # A sample or the consent of the wrong shape (a key Candid does not know, a text not a string).
        message = E_BUNDLE_REFUSED.format(error=error)
        raise BundleInvalid([Problem("study.json", message, "bundle_invalid")]) from error


def _study_from_bundle(
    meta: dict[str, Any], spec: dict[str, Any], *, directory: Path, owner: AbstractBaseUser
) -> Study:
    freeze_days = meta.get("data_freeze_after_days")
    study = Study(
        owner=owner,
        slug=meta["slug"],
        title=meta["title"],
        titles=meta.get("titles") or {},
        languages=meta["languages"],
        target_size=meta.get("target_size"),
        data_freeze_on=timezone.localdate() + timedelta(days=freeze_days) if freeze_days else None,
    )
    study.full_clean()
    study.save()
    for sample_meta in meta["samples"]:
        sample = Sample(study=study, **sample_meta)
        sample.full_clean()
        sample.save()
    version = questionnaire_import(spec=spec, owner=owner, study=study)
    consent_meta = meta["consent"] if "texts" in meta["consent"] else {"texts": meta["consent"]}
    consent = consent_create(study=study, **consent_meta)
    questionnaire_publish(version=version, consent=consent)
    if meta.get("claims_registry"):
        claims_registry_from_bundle(study=study, directory=directory, name=meta["claims_registry"])
    return study


@dataclass(frozen=True)
class SampleData:
    """A sample as a researcher describes it; ``redirects`` maps ``completion``, ``screenout`` and
    ``overquota`` to ``(url, code)``."""

    slug: str
    name: str
    default_language: str
    target_size: int | None = None
    is_default: bool = False
    redirects: dict[str, tuple[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class StudyData:
    """A study's settings as a researcher describes them (titles are ``{language: title}``)."""

    slug: str
    titles: dict[str, str]
    languages: list[str]
    opens_on: date | None = None
    closes_on: date | None = None
    data_freeze_on: date | None = None
    target_size: int | None = None
    completed_marker: bool = False
    speeding_fraction: float | None = None  # None: as it is (a new study: a third)


E_SLUG_TAKEN = gettext_lazy("a study with the link name {slug!r} already exists")
E_SLUG_FIXED = gettext_lazy(
    "the link name cannot change once a version is published: participants have its links"
)
E_SAMPLE_LANGUAGE_USED = gettext_lazy(
    "sample {sample!r} opens in {language}; give it another default language first"
)
E_NO_TITLE = gettext_lazy("give the study a title in {language}")
E_SPEEDING_FIXED = gettext_noop(
    "The speeding fraction is fixed: results from this study have been released with it, and a "
    "release at another fraction would differ from them by the few respondents between the two "
    "fractions, showing those respondents' answers by difference."
)


def _apply_study(study: Study, data: StudyData) -> None:
    study.slug = data.slug
    study.languages = list(data.languages)
    study.titles = {
        lang: data.titles[lang].strip() for lang in data.languages if data.titles.get(lang, "").strip()
    }
    study.title = study.titles.get(data.languages[0], "") if data.languages else ""
    study.opens_on, study.closes_on = data.opens_on, data.closes_on
    study.data_freeze_on, study.target_size = data.data_freeze_on, data.target_size
    study.completed_marker = data.completed_marker
    if data.speeding_fraction is not None:
        study.speeding_fraction = data.speeding_fraction
    if data.languages and not study.title:
        raise ValidationError({"titles": E_NO_TITLE.format(language=data.languages[0])}, code="no_title")
    study.full_clean()
    study.save()


def _apply_sample(sample: Sample, data: SampleData) -> Sample:
    sample.slug, sample.name = data.slug, data.name
    sample.default_language, sample.target_size = data.default_language, data.target_size
    sample.is_default = data.is_default
    for outcome in SAMPLE_OUTCOMES:
        url, code = data.redirects.get(outcome, ("", ""))
        setattr(sample, f"{outcome}_redirect_url", url)
        setattr(sample, f"{outcome}_code", code)
    sample.full_clean()
    sample.save()
    return sample


SAMPLE_OUTCOMES = ("completion", "screenout", "overquota")


@transaction.atomic
def study_create(
    *,
    user: AbstractBaseUser,
    data: StudyData,
    samples: list[SampleData],
    members: list[tuple[AbstractBaseUser, str, bool]] = (),
) -> Study:
    """A new study owned by ``user``, with its samples (the first is the default unless one says so)
    and members ``(user, role, may_export_raw)``; audited. Raises ``ValidationError`` and writes nothing
    when any part is invalid."""
    if Study.objects.filter(slug=data.slug).exists():
        raise ValidationError({"slug": E_SLUG_TAKEN.format(slug=data.slug)}, code="slug_taken")
    study = Study(owner=user)
    _apply_study(study, data)
    if samples and not any(sample.is_default for sample in samples):
        samples = [replace(samples[0], is_default=True), *samples[1:]]
    for sample in samples:
        _apply_sample(Sample(study=study), sample)
    audit_record(
        user=user,
        action="study_created",
        study=study,
        slug=study.slug,
        languages=study.languages,
        samples=[sample.slug for sample in samples],
    )
    for member, role, raw in members:
        study_member_set(study=study, user=member, role=role, may_export_raw=raw, by=user)
    return study


@transaction.atomic
def study_update(*, user: AbstractBaseUser, study: Study, data: StudyData) -> Study:
    """Change a study's titles, link name, languages, dates, target and speeding fraction; audited
    with what changed. The speeding fraction is refused (:data:`E_SPEEDING_FIXED`) once something
    was released at it: the row is locked, and ``services.disclosure`` locks it too to record a
    release, so a release and a change never cross."""
    study = Study.objects.select_for_update().get(pk=study.pk)
    if (
        data.speeding_fraction is not None
        and data.speeding_fraction != study.speeding_fraction
        and study.speeding_fixed
    ):
        raise ValidationError({"speeding_fraction": gettext(E_SPEEDING_FIXED)}, code="speeding_fixed")
    if data.slug != study.slug and Study.objects.filter(slug=data.slug).exists():
        raise ValidationError({"slug": E_SLUG_TAKEN.format(slug=data.slug)}, code="slug_taken")
    if data.slug != study.slug and study.versions.filter(status="published").exists():
        raise ValidationError({"slug": str(E_SLUG_FIXED)}, code="slug_fixed")
    stranded = study.samples.exclude(default_language__in=data.languages).first()
    if stranded is not None:
        raise ValidationError(
            {
                "languages": E_SAMPLE_LANGUAGE_USED.format(
                    sample=stranded.slug, language=stranded.default_language
                )
            },
            code="sample_language_used",
        )
    before = _study_values(study)
    _apply_study(study, data)
    after = _study_values(study)
    changed = {name: after[name] for name in after if after[name] != before[name]}
    if changed:
        audit_record(user=user, action="study_changed", study=study, **changed)
    return study


def _study_values(study: Study) -> dict[str, Any]:
    return {
        "slug": study.slug,
        "titles": study.titles,
        "languages": study.languages,
        "opens_on": study.opens_on.isoformat() if study.opens_on else None,
        "closes_on": study.closes_on.isoformat() if study.closes_on else None,
        "data_freeze_on": study.data_freeze_on.isoformat() if study.data_freeze_on else None,
        "target_size": study.target_size,
        "completed_marker": study.completed_marker,
        "speeding_fraction": study.speeding_fraction,
    }


@transaction.atomic
def sample_save(*, user: AbstractBaseUser, study: Study, sample: Sample | None, data: SampleData) -> Sample:
    """Add a sample to ``study`` or change one; making it the default takes that from the others.
    A sample's link name is fixed once a version is published (participants have its link)."""
    if sample is not None and data.slug != sample.slug and study.versions.filter(status="published").exists():
        raise ValidationError({"slug": str(E_SLUG_FIXED)}, code="slug_fixed")
    if data.is_default:
        Sample.objects.filter(study=study, is_default=True).exclude(pk=sample.pk if sample else None).update(
            is_default=False
        )
    saved = _apply_sample(sample or Sample(study=study), data)
    audit_record(
        user=user,
        action="sample_changed" if sample else "sample_added",
        study=study,
        sample=saved.slug,
        target_size=saved.target_size,
        redirects={outcome: bool(url) for outcome, (url, _code) in data.redirects.items()},
    )
    return saved


E_SAMPLE_HAS_RESPONSES = gettext_lazy("sample {slug!r} has responses and cannot be removed")
E_LAST_SAMPLE = gettext_lazy("a study needs at least one sample")


@transaction.atomic
def sample_delete(*, user: AbstractBaseUser, sample: Sample) -> None:
    """Remove a sample nobody has answered in yet (the default passes to another sample)."""
    study = Study.objects.select_for_update().get(pk=sample.study_id)
    if sample.responses.exists() or sample.pending_responses.exists():
        raise ValidationError(E_SAMPLE_HAS_RESPONSES.format(slug=sample.slug), code="sample_has_responses")
    others = study.samples.exclude(pk=sample.pk)
    if not others.exists():
        raise ValidationError(str(E_LAST_SAMPLE), code="last_sample")
    sample.delete()
    if sample.is_default:
        Sample.objects.filter(pk=others.order_by("slug").first().pk).update(is_default=True)
    audit_record(user=user, action="sample_removed", study=study, sample=sample.slug)


def study_member_set(
    *,
    study: Study,
    user: AbstractBaseUser,
    role: str,
    may_export_raw: bool = False,
    by: AbstractBaseUser | None = None,
) -> None:
    """Make ``user`` a member of ``study`` in ``role`` (researcher or analyst), recorded in the audit log
    as done ``by`` that staff member (None: a command)."""
    from ..models import StudyMembership, StudyRole

    if role not in StudyRole.values:
        raise ValueError(f"unknown role {role!r}; choose one of {', '.join(StudyRole.values)}")
    StudyMembership.objects.update_or_create(
        study=study, user=user, defaults={"role": role, "may_export_raw": may_export_raw}
    )
    audit_record(
        user=by,
        action="membership_set",
        study=study,
        member=user.get_username(),
        role=role,
        raw=may_export_raw,
    )


@transaction.atomic
def study_member_remove(*, study: Study, user: AbstractBaseUser, by: AbstractBaseUser) -> None:
    """Take ``user`` off ``study``'s members (the owner is not a membership and stays)."""
    from ..models import StudyMembership

    deleted, _ = StudyMembership.objects.filter(study=study, user=user).delete()
    if deleted:
        audit_record(user=by, action="membership_removed", study=study, member=user.get_username())
