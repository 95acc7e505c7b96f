"""Writing responses: consent, page saves, completion, withdrawal. Nothing here sees a request.

Each function owns its transaction and locks the response row, so a double click, a resubmitted
page or two tabs are applied once and in order.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import secrets
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from .. import flow
from ..instrument import iter_questions
from ..models import (
    ArmSequence,
    ConsentText,
    CounterKind,
    FieldworkKind,
    QuestionnaireVersion,
    Quota,
    RateBucket,
    Response,
    ResponseStatus,
    Sample,
    StudyCounter,
)
from ..selectors import cached_spec, spec_for
from .exports import export_files_forget
from .fieldwork import fieldwork_count, quota_claim, quota_full_cell, quota_release
from .reports import report_forget

RECEIPT_BYTES = 17  # 136 bits, shown as 27 base32 characters
DURATION_ROUNDING = 30
WITHDRAW_ATTEMPTS_PER_MINUTE = 60


class FlowError(Exception):
    """A request that cannot be applied (out of order, finished response); nothing was changed."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class ScreenedOut:
    """The participant fell in a quota cell with no place left (or one that does not qualify): the
    response is deleted, a count kept, and the sample's over-quota (or screen-out) URL applies."""

    sample: Sample
    quota: Quota

    @property
    def outcome(self) -> str:
        return "screenout" if self.quota.limit == 0 else "overquota"


def _screen_out(response: Response, quota: Quota) -> ScreenedOut:
    sample = response.sample
    response.delete()
    fieldwork_count(sample_id=sample.pk, kind=FieldworkKind.SCREENED_OUT, synthetic=response.is_synthetic)
    return ScreenedOut(sample, quota)


def keyed_hash(value: str, purpose: str) -> str:
    """HMAC-SHA256 of ``value`` under the receipt key; tokens and codes are stored only like this."""
    key = (settings.CANDID_RECEIPT_KEY or settings.SECRET_KEY).encode()
    return hmac.new(key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def new_seed() -> int:
    return secrets.randbits(31)


def new_receipt_code(study_id: int) -> str:
    """``<study>-XXXXX-XXXXX-…``: the prefix lets the withdrawal page check the freeze date first."""
    body = base64.b32encode(secrets.token_bytes(RECEIPT_BYTES)).decode().rstrip("=")
    return f"{study_id}-" + "-".join(body[i : i + 5] for i in range(0, len(body), 5))


def normalise_receipt_code(code: str) -> str:
    return "".join(code.split()).upper()


def _assign_arm(version: QuestionnaireVersion, code: str) -> str:
    """Balanced assignment in randomly permuted blocks of four (two control, two treatment)."""
    sequence, _ = ArmSequence.objects.select_for_update().get_or_create(version=version, question_code=code)
    number = sequence.assigned
    ArmSequence.objects.filter(pk=sequence.pk).update(assigned=F("assigned") + 1)
    block = number // 4
    digest = keyed_hash(f"{version.pk}:{code}:{block}", "arm-block")
    permutations = [
        (flow.ARM_CONTROL, flow.ARM_CONTROL, flow.ARM_TREATMENT, flow.ARM_TREATMENT),
        (flow.ARM_CONTROL, flow.ARM_TREATMENT, flow.ARM_CONTROL, flow.ARM_TREATMENT),
        (flow.ARM_CONTROL, flow.ARM_TREATMENT, flow.ARM_TREATMENT, flow.ARM_CONTROL),
        (flow.ARM_TREATMENT, flow.ARM_CONTROL, flow.ARM_CONTROL, flow.ARM_TREATMENT),
        (flow.ARM_TREATMENT, flow.ARM_CONTROL, flow.ARM_TREATMENT, flow.ARM_CONTROL),
        (flow.ARM_TREATMENT, flow.ARM_TREATMENT, flow.ARM_CONTROL, flow.ARM_CONTROL),
    ]
    return permutations[int(digest, 16) % len(permutations)][number % 4]


@dataclass(frozen=True)
class Started:
    response: Response
    resume_token: str


@transaction.atomic
def response_start(
    *,
    sample: Sample,
    version: QuestionnaireVersion,
    consent: ConsentText,
    language: str,
    creation_key: str,
    seed: int | None = None,
    synthetic: bool = False,
) -> Started:
    """Record an agreed consent and open a response; the same ``creation_key`` never opens two."""
    existing = Response.objects.filter(creation_key=creation_key).first()
    if existing is not None:
        return Started(existing, _rotate_resume_token(existing))
    spec = cached_spec(version.pk)
    arms = {q["code"]: _assign_arm(version, q["code"]) for _, q, _ in _list_experiments(spec)}
    plan = flow.make_plan(spec, new_seed() if seed is None else seed, arms)
    token = new_token()
    all_pages = flow.pages(spec, plan)
    first = flow.first_page(all_pages, {}) or 0
    response = Response(
        study_id=sample.study_id,
        sample=sample,
        version=version,
        consent=consent,
        language=language,
        display=plan,
        position=first,
        furthest=first,
        creation_key=creation_key,
        resume_hash=keyed_hash(token, "resume"),
        started_on=timezone.localdate(),
        is_synthetic=synthetic,
    )
    try:
        with transaction.atomic():
            response.save(force_insert=True)
    except IntegrityError:
        # Two submissions of one consent form raced: the other one created the response.
        existing = Response.objects.get(creation_key=creation_key)
        return Started(existing, _rotate_resume_token(existing))
    fieldwork_count(sample_id=sample.pk, kind=FieldworkKind.STARTED, synthetic=synthetic)
    return Started(response, token)


def _rotate_resume_token(response: Response) -> str:
    token = new_token()
    Response.objects.filter(pk=response.pk).update(resume_hash=keyed_hash(token, "resume"))
    return token


def _list_experiments(spec: dict[str, Any]):
    return ((s, q, p) for s, q, p in iter_questions(spec) if q["type"] == "list_experiment")


@transaction.atomic
def consent_decline(*, sample: Sample) -> None:
    """A declined consent: one counter increment, nothing else."""
    counter, _ = StudyCounter.objects.select_for_update().get_or_create(
        sample=sample, kind=CounterKind.DECLINED
    )
    StudyCounter.objects.filter(pk=counter.pk).update(count=F("count") + 1)
    fieldwork_count(sample_id=sample.pk, kind=FieldworkKind.DECLINED)


def response_for_token(*, study_id: int, token: str | None) -> Response | None:
    if not token:
        return None
    return (
        Response.objects.filter(study_id=study_id, resume_hash=keyed_hash(token, "resume"))
        .select_related("version", "sample")
        .first()
    )


@transaction.atomic
def response_save_page(
    *, response_id: Any, page_index: int, answers: dict[str, Any], codes: list[str]
) -> int | ScreenedOut | None:
    """Store one validated page and move on; returns the next page index, or None at the end.

    ``codes`` are every variable the page can hold: answers of this page not in ``answers`` are
    removed (the participant cleared them, or they became irrelevant), and so are later answers
    an earlier change made stale. Answers that put the participant in a full quota cell screen
    them out at once (:class:`ScreenedOut`) rather than at the end.
    """
    response = (
        Response.objects.select_for_update(of=("self",))
        .select_related("version", "sample")
        .get(pk=response_id)
    )
    if response.status != ResponseStatus.IN_PROGRESS:
        raise FlowError("This response is already complete.", "complete")
    if page_index > response.furthest:
        raise FlowError("That page is not open yet.", "out_of_order")
    spec = spec_for(response.version)
    merged = {k: v for k, v in response.answers.items() if k not in codes}
    merged.update({k: flow.to_json(v) for k, v in answers.items() if k in codes and v not in (None, "", [])})
    merged = flow.clear_stale(spec, response.display, merged)
    full = quota_full_cell(study_id=response.study_id, sample_id=response.sample_id, answers=merged)
    if full is not None:
        return _screen_out(response, full)
    all_pages = flow.pages(spec, response.display)
    following = flow.next_page(all_pages, page_index, merged)
    response.answers = merged
    if following is not None:
        response.position = following
        response.furthest = max(response.furthest, following)
    response.save(update_fields=["answers", "position", "furthest"])
    return following


def response_set_language(*, response_id: Any, language: str) -> None:
    """The participant switched language; the rest of the visit follows it."""
    Response.objects.filter(pk=response_id).update(language=language)


@transaction.atomic
def response_move(*, response_id: Any, page_index: int) -> None:
    """Go back (or forward again) to a page already reached; nothing is saved."""
    response = Response.objects.select_for_update().get(pk=response_id)
    if response.status != ResponseStatus.IN_PROGRESS:
        raise FlowError("This response is already complete.", "complete")
    if page_index > response.furthest:
        raise FlowError("That page is not open yet.", "out_of_order")
    Response.objects.filter(pk=response.pk).update(position=page_index)


@dataclass(frozen=True)
class Completed:
    response: Response
    receipt_code: str
    newly_completed: bool


@transaction.atomic
def response_complete(
    *, response_id: Any, receipt_code: str, started_at: float | None
) -> Completed | ScreenedOut:
    """Close the response once. The receipt code was issued with the last page, so a repeated
    submission of that page returns the same code instead of a second completion. The completion
    claims its places in the quota cells its answers fall in; when one is full, the participant is
    screened out instead (:class:`ScreenedOut`), so no cell ever holds more than its limit."""
    response = Response.objects.select_for_update(of=("self",)).select_related("sample").get(pk=response_id)
    receipt_hash = keyed_hash(normalise_receipt_code(receipt_code), "receipt")
    if response.status == ResponseStatus.COMPLETE:
        if response.receipt_hash != receipt_hash:
            raise FlowError("This response is already complete.", "complete")
        return Completed(response, receipt_code, newly_completed=False)
    gap = flow.first_incomplete_page(cached_spec(response.version_id), response.display, response.answers)
    if gap is not None:
        Response.objects.filter(pk=response.pk).update(position=gap)
        raise FlowError("Some questions still need an answer.", "incomplete")
    full = quota_claim(study_id=response.study_id, sample_id=response.sample_id, answers=response.answers)
    if full is not None:
        return _screen_out(response, full)
    elapsed = max(0.0, time.time() - started_at) if started_at else None
    response.status = ResponseStatus.COMPLETE
    response.completed_on = timezone.localdate()
    response.duration_seconds = (
        None if elapsed is None else int(DURATION_ROUNDING * math.floor(elapsed / DURATION_ROUNDING + 0.5))
    )
    response.receipt_hash = receipt_hash
    # The resume hash stays: a double click sends its second request with the same cookie, and
    # must be answered with the same thank-you page (the browser shows the last response).
    response.position = response.furthest
    response.save(update_fields=["status", "completed_on", "duration_seconds", "receipt_hash", "position"])
    fieldwork_count(
        sample_id=response.sample_id, kind=FieldworkKind.COMPLETED, synthetic=response.is_synthetic
    )
    return Completed(response, receipt_code, newly_completed=True)


class WithdrawalOutcome:
    PROCESSED = "processed"  # the same for a right and a wrong code
    FROZEN = "frozen"
    RATE_LIMITED = "rate_limited"
    MALFORMED = "malformed"


def _rate_allows(name: str, limit: int) -> bool:
    minute = int(time.time() // 60)
    bucket, _ = RateBucket.objects.get_or_create(name=name, minute=minute)
    RateBucket.objects.filter(pk=bucket.pk).update(count=F("count") + 1)
    RateBucket.objects.filter(name=name, minute__lt=minute - 60).delete()
    bucket.refresh_from_db(fields=["count"])
    return bucket.count <= limit


@transaction.atomic
def response_withdraw(*, code: str) -> str:
    """Delete the answers of the response with this receipt code, until its study's freeze date.

    A wrong code takes the same path (hash, one indexed lookup) and gets the same outcome as a
    right one, so the page cannot be used to test codes; attempts are limited per minute for the
    whole site, keyed by nothing about the person.
    """
    normalised = normalise_receipt_code(code)
    prefix, _, _ = normalised.partition("-")
    if not prefix.isdigit() or len(normalised) < 20:
        return WithdrawalOutcome.MALFORMED
    if not _rate_allows("withdraw", WITHDRAW_ATTEMPTS_PER_MINUTE):
        return WithdrawalOutcome.RATE_LIMITED
    from ..models import Study

    study = Study.objects.filter(pk=int(prefix)).only("data_freeze_on").first()
    if study is not None and study.data_freeze_on is not None and timezone.localdate() > study.data_freeze_on:
        return WithdrawalOutcome.FROZEN
    response = (
        Response.objects.select_for_update().filter(receipt_hash=keyed_hash(normalised, "receipt")).first()
    )
    if response is not None and response.study_id == int(prefix):
        counter, _ = StudyCounter.objects.select_for_update().get_or_create(
            sample_id=response.sample_id, kind=CounterKind.WITHDRAWN
        )
        StudyCounter.objects.filter(pk=counter.pk).update(count=F("count") + 1)
        quota_release(study_id=response.study_id, sample_id=response.sample_id, answers=response.answers)
        fieldwork_count(
            sample_id=response.sample_id, kind=FieldworkKind.WITHDRAWN, synthetic=response.is_synthetic
        )
        response.delete()
        report_forget(study_id=response.study_id)
        export_files_forget(study_id=response.study_id)
    return WithdrawalOutcome.PROCESSED


def response_mark_synthetic(*, receipt_code: str) -> bool:
    """Label a response made by ``simulate_respondents`` (found by the receipt it was shown); its
    start and completion move to the synthetic counts of the day."""
    response = (
        Response.objects.filter(receipt_hash=keyed_hash(normalise_receipt_code(receipt_code), "receipt"))
        .only("pk", "sample_id", "is_synthetic")
        .first()
    )
    if response is None:
        return False
    if not response.is_synthetic:
        Response.objects.filter(pk=response.pk).update(is_synthetic=True)
        for kind in (FieldworkKind.STARTED, FieldworkKind.COMPLETED):
            fieldwork_count(sample_id=response.sample_id, kind=kind, by=-1)
            fieldwork_count(sample_id=response.sample_id, kind=kind, synthetic=True)
    return True
