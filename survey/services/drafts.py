"""Editing a draft questionnaire in the studio: every change is applied to the version's spec, checked
by the same validator as an import, written back and audited.

A change may leave the draft unfinished (a text not yet translated: publishing refuses it and says
so), but never less sound than it was: a change that brings any other problem — a bad or duplicate
code, an expression that does not parse or refers to an unknown or later question, a missing choice
list, broken slider or group settings — is refused with those problems, and nothing is written.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy

from ..editing import EditError
from ..instrument import Problem, QuestionnaireInvalid, normalize, validate
from ..models import QuestionnaireVersion, VersionStatus
from ..selectors import version_to_spec
from .exports import audit_record
from .questionnaires import E_NOT_DRAFT, rewrite_parts

E_NOT_STORED = gettext_lazy("the change could not be stored as it is; nothing was changed")

# Problems a draft may keep while it is being written; publishing refuses them.
UNFINISHED = frozenset({"missing_label", "no_questions"})


def locate_field(kind: str, key: Any, field: str) -> str:
    """A location the studio can map back to a form field: ``kind|key|field``."""
    key_text = "/".join(key) if isinstance(key, tuple) else ("" if key is None else str(key))
    return f"{kind}|{key_text}|{field}"


def problem_place(problem: Problem) -> tuple[str, str, str]:
    """``(kind, key, field)`` of a problem located by :func:`locate_field` (empty parts when unlocated)."""
    kind, key, field = [*problem.location.split("|", 2), "", ""][:3]
    return kind, key, field


def draft_problems(spec: dict[str, Any]) -> list[Problem]:
    """Every problem of ``spec``, located as ``kind|key|field``."""
    return validate(spec, locate_field)


@transaction.atomic
def draft_change(
    *,
    user: AbstractBaseUser,
    version: QuestionnaireVersion,
    change: Callable[[dict[str, Any]], dict[str, Any]],
    action: str,
    **detail: Any,
) -> list[Problem]:
    """Apply ``change`` (a function of :mod:`survey.editing`) to the draft ``version``.

    Returns the problems the draft still has (unfinished translations, say). Raises
    :class:`QuestionnaireInvalid` with the problems the change would bring, or when the version is
    not a draft; nothing is written then. The version row is locked, so concurrent edits apply one
    after the other, each to the result of the last.
    """
    version = QuestionnaireVersion.objects.select_for_update().select_related("study").get(pk=version.pk)
    if version.status != VersionStatus.DRAFT:
        raise QuestionnaireInvalid([Problem("", E_NOT_DRAFT.format(number=version.number), "not_draft")])
    before = version_to_spec(version)
    try:
        after = normalize(change(copy.deepcopy(before)))
    except EditError as error:
        raise QuestionnaireInvalid([Problem("", error.message, error.code)]) from error
    known = set(draft_problems(before))
    remaining = draft_problems(after)
    brought = [p for p in remaining if p not in known and p.code not in UNFINISHED]
    if brought:
        raise QuestionnaireInvalid(brought)
    try:
        with transaction.atomic():
            rewrite_parts(version, after)
    except IntegrityError as error:  # a rule of the database the validator does not know: refuse
        raise QuestionnaireInvalid([Problem("", str(E_NOT_STORED), "not_stored")]) from error
    audit_record(
        user=user,
        action="questionnaire_edited",
        study=version.study,
        version=version.number,
        change=action,
        **detail,
    )
    return remaining
