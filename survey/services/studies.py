"""Writing studies: load a study bundle (study.json + questionnaire + consent) and publish it."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from ..instrument_files import read_questionnaire_file
from ..models import Sample, Study
from .questionnaires import consent_create, questionnaire_import, questionnaire_publish


@transaction.atomic
def study_load_bundle(*, directory: Path, owner: AbstractBaseUser) -> tuple[Study, bool]:
    """Create and publish the study described by ``directory`` (``study.json`` + ``questionnaire.xlsx``).

    Returns ``(study, created)``; an already loaded study is left exactly as it is.
    """
    meta = json.loads((directory / "study.json").read_text(encoding="utf-8"))
    existing = Study.objects.filter(slug=meta["slug"]).first()
    if existing is not None:
        return existing, False
    spec = read_questionnaire_file(directory / "questionnaire.xlsx")
    freeze_days = meta.get("data_freeze_after_days")
    study = Study(
        owner=owner,
        slug=meta["slug"],
        title=meta["title"],
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
    consent = consent_create(study=study, texts=meta["consent"])
    questionnaire_publish(version=version, consent=consent)
    return study, True


def study_member_set(
    *, study: Study, user: AbstractBaseUser, role: str, may_export_raw: bool = False
) -> None:
    """Make ``user`` a member of ``study`` in ``role`` (researcher or analyst), recorded in the audit log."""
    from ..models import StudyMembership, StudyRole
    from .exports import audit_record

    if role not in StudyRole.values:
        raise ValueError(f"unknown role {role!r}; choose one of {', '.join(StudyRole.values)}")
    StudyMembership.objects.update_or_create(
        study=study, user=user, defaults={"role": role, "may_export_raw": may_export_raw}
    )
    audit_record(
        user=None,
        action="membership_set",
        study=study,
        member=user.get_username(),
        role=role,
        raw=may_export_raw,
    )
