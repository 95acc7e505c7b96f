"""Writing responses: consent, page saves, completion, withdrawal. Nothing here sees a request.

Each function owns its transaction and locks the participant's row, so a double click, a resubmitted
page or two tabs are applied once and in order, and every request of a double or triple click gets
the same outcome. No participant request causes a database error in the normal course: rows that two
requests may both create are inserted with ``ON CONFLICT DO NOTHING`` (``INSERT OR IGNORE`` on SQLite)
and then read, never created in a savepoint that fails (PostgreSQL logs every failed statement with
its values, by default).
"""

from __future__ import annotations

import math
import secrets
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from .. import flow
from ..instrument import iter_questions
from ..models import (
    ArmSequence,
    ConsentText,
    CounterKind,
    FieldworkKind,
    PendingResponse,
    QuestionnaireVersion,
    Quota,
    RateBucket,
    Response,
    ResponseStatus,
    Sample,
    Study,
    StudyCounter,
)
from ..receipts import ReceiptCodeError, keyed_hash, parse_receipt_code, receipt_code_for, receipt_hash
from ..selectors import cached_spec, closed_by_target, spec_for
from ..storage import PENDING_TABLE, RELEASED_TABLE
from .disclosure import disclosure_forget
from .exports import export_files_forget
from .fieldwork import fieldwork_count, quota_claim, quota_full_cell, quota_release
from .maintenance import scrub_after_commit
from .releases import (
    release_at_close_schedule,
    responses_rebatch_short,
    responses_release_closed,
    responses_release_due,
)
from .reports import report_forget

DURATION_ROUNDING = 30
# Codes that match no response, per minute, for the whole site. A code that matches a response is
# never limited: a stranger sending junk cannot stop anyone from withdrawing.
WITHDRAW_MISSES_PER_MINUTE = 60
MAX_DRAFT_VALUE = 5000  # characters kept of one field typed on a page left with Back


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


def _screen_out(response: PendingResponse, quota: Quota) -> ScreenedOut:
    sample = response.sample
    response.delete()
    fieldwork_count(sample_id=sample.pk, kind=FieldworkKind.SCREENED_OUT, synthetic=response.is_synthetic)
    scrub_after_commit(tables=[PENDING_TABLE])
    return ScreenedOut(sample, quota)


def new_seed() -> int:
    return secrets.randbits(31)


def resume_token_for(creation_key: str) -> str:
    """The resume token of the response a consent form opens: the same for every submission of it.

    Derived (HMAC under the receipt key) rather than drawn, so a double "I agree" gives both requests
    the same cookie; only its keyed hash is stored. The view accepts a consent form only from the
    browser it was shown to, so the key alone gives no one else the token.
    """
    return keyed_hash(creation_key, "resume-token")


def continue_code_for_token(*, study_id: int, token: str) -> str:
    """The code that continues the response of resume ``token`` on another device: written and
    checked like a receipt code (136 random bits, two check characters), derived from the token
    under the receipt key, so asking twice shows the same code; only its keyed hash is stored."""
    return receipt_code_for(study_id=study_id, secret=f"continue:{token}")


@transaction.atomic
def response_continue_code(*, study_id: int, token: str) -> str | None:
    """Give the response of resume ``token`` a code to continue it elsewhere (None if it is not in
    progress). The code works once, until the response is completed or the study closes."""
    code = continue_code_for_token(study_id=study_id, token=token)
    updated = PendingResponse.objects.filter(
        study_id=study_id, resume_hash=keyed_hash(token, "resume"), status=ResponseStatus.IN_PROGRESS
    ).update(continue_hash=keyed_hash(parse_receipt_code(code).text, "continue"))
    return code if updated else None


class ContinueOutcome:
    CONTINUED = "continued"
    NOT_FOUND = "not_found"
    RATE_LIMITED = "rate_limited"
    MALFORMED = "malformed"


@dataclass(frozen=True)
class Continued:
    outcome: str
    token: str = ""  # for CONTINUED: the new resume token, for this device's cookie
    position: int = 0
    problem: str = ""
    detail: dict[str, Any] = field(default_factory=dict)


@transaction.atomic
def response_continue(*, study_id: int, code: str) -> Continued:
    """Move the response a continue code belongs to onto this device: a new resume token replaces
    the old one (the first device's cookie no longer opens it) and the code is spent.

    A mistyped code is caught by its check characters before anything is looked up; a code that
    matches nothing is a miss, limited per minute like withdrawal misses (keyed by nothing about
    the person; a matching code is never limited).
    """
    try:
        parsed = parse_receipt_code(code)
    except ReceiptCodeError as error:
        return Continued(ContinueOutcome.MALFORMED, problem=error.code, detail=error.detail)
    response = (
        PendingResponse.objects.select_for_update()
        .filter(
            study_id=study_id,
            continue_hash=keyed_hash(parsed.text, "continue"),
            status=ResponseStatus.IN_PROGRESS,
        )
        .first()
        if parsed.study_id == study_id
        else None
    )
    if response is None:
        if not _miss_allowed("continue", WITHDRAW_MISSES_PER_MINUTE):
            return Continued(ContinueOutcome.RATE_LIMITED)
        return Continued(ContinueOutcome.NOT_FOUND)
    token = secrets.token_urlsafe(32)
    response.resume_hash = keyed_hash(token, "resume")
    response.continue_hash = None
    response.save(update_fields=["resume_hash", "continue_hash"])
    return Continued(ContinueOutcome.CONTINUED, token=token, position=response.position)


def receipt_code_for_token(*, study_id: int, token: str) -> str:
    """The withdrawal receipt code of the response this browser's resume token belongs to."""
    return receipt_code_for(study_id=study_id, secret=token)


def _ensure_rows(model: type, rows: list[Any]) -> None:
    """Insert rows that may already exist (a unique constraint says so), without an error."""
    model.objects.bulk_create(rows, ignore_conflicts=True)


def _counter_increment(*, sample_id: int, kind: str) -> None:
    _ensure_rows(StudyCounter, [StudyCounter(sample_id=sample_id, kind=kind, count=0)])
    StudyCounter.objects.filter(sample_id=sample_id, kind=kind).update(count=F("count") + 1)


PERMUTATIONS = (
    (flow.ARM_CONTROL, flow.ARM_CONTROL, flow.ARM_TREATMENT, flow.ARM_TREATMENT),
    (flow.ARM_CONTROL, flow.ARM_TREATMENT, flow.ARM_CONTROL, flow.ARM_TREATMENT),
    (flow.ARM_CONTROL, flow.ARM_TREATMENT, flow.ARM_TREATMENT, flow.ARM_CONTROL),
    (flow.ARM_TREATMENT, flow.ARM_CONTROL, flow.ARM_CONTROL, flow.ARM_TREATMENT),
    (flow.ARM_TREATMENT, flow.ARM_CONTROL, flow.ARM_TREATMENT, flow.ARM_CONTROL),
    (flow.ARM_TREATMENT, flow.ARM_TREATMENT, flow.ARM_CONTROL, flow.ARM_CONTROL),
)


def _lock_arm_sequences(version: QuestionnaireVersion, codes: list[str]) -> dict[str, ArmSequence]:
    _ensure_rows(ArmSequence, [ArmSequence(version=version, question_code=code) for code in codes])
    locked = ArmSequence.objects.select_for_update().filter(version=version, question_code__in=codes)
    return {sequence.question_code: sequence for sequence in locked.order_by("question_code")}


def _assign_arm(sequence: ArmSequence) -> str:
    """Balanced assignment in randomly permuted blocks of four (two control, two treatment)."""
    number = sequence.assigned
    ArmSequence.objects.filter(pk=sequence.pk).update(assigned=F("assigned") + 1)
    digest = keyed_hash(f"{sequence.version_id}:{sequence.question_code}:{number // 4}", "arm-block")
    return PERMUTATIONS[int(digest, 16) % len(PERMUTATIONS)][number % 4]


@dataclass(frozen=True)
class Started:
    response: PendingResponse
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
    """Record an agreed consent and open a response; the same ``creation_key`` never opens two.

    Every submission of one consent form gets the same response and the same resume token.
    """
    creation_hash = keyed_hash(creation_key, "creation")
    token = resume_token_for(creation_key)
    existing = PendingResponse.objects.filter(creation_hash=creation_hash).first()
    if existing is not None:
        return Started(existing, token)
    spec = cached_spec(version.pk)
    codes = [q["code"] for _, q, _ in iter_questions(spec) if q["type"] == "list_experiment"]
    sequences = _lock_arm_sequences(version, codes) if codes else {}
    if sequences:  # a twin submission may have finished while this one waited for the lock
        existing = PendingResponse.objects.filter(creation_hash=creation_hash).first()
        if existing is not None:
            return Started(existing, token)
    arms = {code: _assign_arm(sequences[code]) for code in codes}
    plan = flow.make_plan(spec, new_seed() if seed is None else seed, arms)
    first = flow.first_page(flow.pages(spec, plan), {}) or 0
    new_id = uuid.uuid4()
    _ensure_rows(
        PendingResponse,
        [
            PendingResponse(
                id=new_id,
                study_id=sample.study_id,
                sample=sample,
                version=version,
                consent=consent,
                language=language,
                display=plan,
                position=first,
                furthest=first,
                creation_hash=creation_hash,
                resume_hash=keyed_hash(token, "resume"),
                started_on=timezone.localdate(),
                is_synthetic=synthetic,
            )
        ],
    )
    response = PendingResponse.objects.get(creation_hash=creation_hash)
    if response.pk == new_id:  # this request opened it (a twin's insert was ignored)
        fieldwork_count(sample_id=sample.pk, kind=FieldworkKind.STARTED, synthetic=synthetic)
    return Started(response, token)


@transaction.atomic
def consent_decline(*, sample: Sample) -> None:
    """A declined consent: counter increments, nothing else."""
    _counter_increment(sample_id=sample.pk, kind=CounterKind.DECLINED)
    fieldwork_count(sample_id=sample.pk, kind=FieldworkKind.DECLINED)


def response_for_token(*, study_id: int, token: str | None) -> PendingResponse | None:
    if not token:
        return None
    return (
        PendingResponse.objects.filter(study_id=study_id, resume_hash=keyed_hash(token, "resume"))
        .select_related("version", "sample")
        .first()
    )


@dataclass(frozen=True)
class Completed:
    """The outcome of "Finish", the same for every request of a double click."""

    receipt_code: str
    sample: Sample
    synthetic: bool
    newly_completed: bool


@dataclass(frozen=True)
class Finish:
    """What completing needs besides the answers: the browser's receipt code and when it started."""

    receipt_code: str
    started_at: float | None = None


@transaction.atomic
def response_save_page(
    *,
    response_id: Any,
    page_index: int,
    answers: dict[str, Any],
    codes: list[str],
    finish: Finish | None = None,
) -> int | Completed | ScreenedOut | None:
    """Store one validated page and move on: the next page index; after the last page, the completion
    when ``finish`` is given (``FlowError("incomplete")`` if a page still lacks answers), else None.
    Answers that put the participant in a full quota cell screen them out at once (:class:`ScreenedOut`).

    ``codes`` are every variable the page can hold: answers of this page not in ``answers`` are
    removed (the participant cleared them, or they became irrelevant), and so are later answers
    an earlier change made stale. A repeat of the last page after completion (a double click) returns
    the same completion; a response already released is found by its receipt.
    """
    response = (
        PendingResponse.objects.select_for_update(of=("self",))
        .select_related("version", "sample")
        .filter(pk=response_id)
        .first()
    )
    if response is None or response.status == ResponseStatus.COMPLETE:
        if finish is None:
            raise FlowError("This response is already complete.", "complete")
        return _repeat_completion(response, finish.receipt_code)
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
    response.drafts = {k: v for k, v in response.drafts.items() if k != str(page_index)}
    if following is not None:
        response.position = following
        response.furthest = max(response.furthest, following)
    response.save(update_fields=["answers", "drafts", "position", "furthest"])
    if following is not None or finish is None:
        return following
    return _complete(response, spec, finish)


def response_set_language(*, response_id: Any, language: str) -> None:
    """The participant switched language; the rest of the visit follows it."""
    PendingResponse.objects.filter(pk=response_id).update(language=language)


@transaction.atomic
def response_move(*, response_id: Any, page_index: int, typed: dict[str, Any] | None = None) -> None:
    """Go back (or forward again) to a page already reached, keeping what was ``typed`` on the page
    being left (unchecked; by field name) to show again when the participant comes back to it."""
    response = PendingResponse.objects.select_for_update().filter(pk=response_id).first()
    if response is None or response.status != ResponseStatus.IN_PROGRESS:
        raise FlowError("This response is already complete.", "complete")
    if page_index > response.furthest:
        raise FlowError("That page is not open yet.", "out_of_order")
    drafts = dict(response.drafts)
    if typed is not None:
        kept = {
            name: [str(v)[:MAX_DRAFT_VALUE] for v in value]
            if isinstance(value, list)
            else str(value)[:MAX_DRAFT_VALUE]
            for name, value in typed.items()
        }
        drafts[str(response.position)] = kept
    PendingResponse.objects.filter(pk=response.pk).update(position=page_index, drafts=drafts)


@transaction.atomic
def response_complete(*, response_id: Any, finish: Finish) -> Completed | ScreenedOut:
    """Close the response once; a repeat (the second request of a double click, from the same
    browser and so with the same receipt code) gets the same completion. The completion claims its
    places in the quota cells its answers fall in; when one is full the participant is screened out
    instead (:class:`ScreenedOut`), so no cell ever holds more than its limit."""
    response = (
        PendingResponse.objects.select_for_update(of=("self",))
        .select_related("version", "sample")
        .filter(pk=response_id)
        .first()
    )
    if response is None or response.status == ResponseStatus.COMPLETE:
        return _repeat_completion(response, finish.receipt_code)
    return _complete(response, spec_for(response.version), finish)


def _repeat_completion(response: PendingResponse | None, receipt_code: str) -> Completed:
    hashed = receipt_hash(receipt_code)
    if response is not None and response.receipt_hash == hashed:
        return Completed(receipt_code, response.sample, response.is_synthetic, newly_completed=False)
    released = Response.objects.filter(receipt_hash=hashed).select_related("sample").first()
    if released is not None:
        return Completed(receipt_code, released.sample, released.is_synthetic, newly_completed=False)
    if response is None:  # ended by another request of the same click: screened out, or withdrawn
        raise FlowError("This visit has ended.", "ended")
    raise FlowError("This response is already complete.", "complete")


def _complete(response: PendingResponse, spec: dict[str, Any], finish: Finish) -> Completed | ScreenedOut:
    gap = flow.first_incomplete_page(spec, response.display, response.answers)
    if gap is not None:
        PendingResponse.objects.filter(pk=response.pk).update(position=gap)
        raise FlowError("Some questions still need an answer.", "incomplete")
    full = quota_claim(study_id=response.study_id, sample_id=response.sample_id, answers=response.answers)
    if full is not None:
        return _screen_out(response, full)
    elapsed = max(0.0, time.time() - finish.started_at) if finish.started_at else None
    response.status = ResponseStatus.COMPLETE
    response.continue_hash = None
    response.duration_seconds = (
        None if elapsed is None else int(DURATION_ROUNDING * math.floor(elapsed / DURATION_ROUNDING + 0.5))
    )
    response.receipt_hash = receipt_hash(finish.receipt_code)
    # The resume hash stays until the release: a double click sends its second request with the
    # same cookie, and must be answered with the same thank-you page.
    response.position = response.furthest
    # What relevance hid, so that exports tell "not shown" from "shown, left blank" (issue 12).
    response.display = {
        **response.display,
        "not_shown": flow.not_shown(spec, response.display, response.answers),
    }
    response.save(
        update_fields=["status", "duration_seconds", "receipt_hash", "position", "continue_hash", "display"]
    )
    responses_release_due(sample_id=response.sample_id, version_id=response.version_id)
    study = Study.objects.get(pk=response.study_id)
    if closed_by_target(study_id=study.pk, sample_id=response.sample_id):
        responses_release_closed(study=study)
    else:
        release_at_close_schedule(study=study)
    return Completed(finish.receipt_code, response.sample, response.is_synthetic, newly_completed=True)


class WithdrawalOutcome:
    CONFIRM = "confirm"  # the code's answers exist; nothing is deleted until the participant confirms
    DELETED = "deleted"
    NOT_FOUND = "not_found"  # a code with the right check characters, but no answers kept under it
    FROZEN = "frozen"
    RATE_LIMITED = "rate_limited"
    MALFORMED = "malformed"


@dataclass(frozen=True)
class Withdrawal:
    outcome: str
    problem: str = ""  # for a malformed code: ``ReceiptCodeError.code``
    detail: dict[str, Any] = field(default_factory=dict)
    study: Study | None = None  # for CONFIRM and DELETED: whose answers they are
    answers: int = 0  # for CONFIRM: how many answers would be deleted


def _miss_allowed(name: str, limit: int) -> bool:
    """Count one miss in this minute's bucket; False once the bucket holds more than ``limit``."""
    minute = int(time.time() // 60)
    _ensure_rows(RateBucket, [RateBucket(name=name, minute=minute, count=0)])
    RateBucket.objects.filter(name=name, minute=minute).update(count=F("count") + 1)
    RateBucket.objects.filter(name=name, minute__lt=minute - 60).delete()
    return RateBucket.objects.filter(name=name, minute=minute).values_list("count", flat=True).get() <= limit


@transaction.atomic
def response_withdraw(*, code: str, confirmed: bool = True) -> Withdrawal:
    """Delete the answers of the response with this receipt code, until its study's freeze date.

    Unless ``confirmed``, nothing is deleted: a code whose answers exist gets ``CONFIRM`` with the
    study and the number of answers, for the page that asks "delete these?". A malformed code (or
    one whose check characters say it was mistyped) gets a message saying what is wrong with it
    before anything is looked up. A well-formed code that matches nothing is ``NOT_FOUND``: the
    136 random bits make guessing hopeless, and the consent text says that a code proves
    participation; such misses are still limited per minute (keyed by nothing about the person),
    and a code that matches a response is never limited.
    """
    try:
        parsed = parse_receipt_code(code)
    except ReceiptCodeError as error:
        return Withdrawal(WithdrawalOutcome.MALFORMED, error.code, error.detail)
    study = (
        Study.objects.filter(pk=parsed.study_id)
        .only("data_freeze_on", "title", "titles", "languages")
        .first()
    )
    if study is not None and study.data_freeze_on is not None and timezone.localdate() > study.data_freeze_on:
        return Withdrawal(WithdrawalOutcome.FROZEN)
    hashed = keyed_hash(parsed.text, "receipt")
    pending = (
        PendingResponse.objects.select_for_update()
        .filter(receipt_hash=hashed, study_id=parsed.study_id)
        .first()
    )
    released = (
        None
        if pending is not None
        else Response.objects.select_for_update()
        .filter(receipt_hash=hashed, study_id=parsed.study_id)
        .first()
    )
    found = pending or released
    if found is None:
        if not _miss_allowed("withdraw", WITHDRAW_MISSES_PER_MINUTE):
            return Withdrawal(WithdrawalOutcome.RATE_LIMITED)
        return Withdrawal(WithdrawalOutcome.NOT_FOUND)
    if not confirmed:
        return Withdrawal(WithdrawalOutcome.CONFIRM, study=study, answers=len(found.answers))
    _counter_increment(sample_id=found.sample_id, kind=CounterKind.WITHDRAWN)
    quota_release(study_id=found.study_id, sample_id=found.sample_id, answers=found.answers)
    fieldwork_count(sample_id=found.sample_id, kind=FieldworkKind.WITHDRAWN, synthetic=found.is_synthetic)
    found.delete()
    if released is not None:
        responses_rebatch_short(batch_id=released.batch_id)
    withdrawal_followups(
        study_id=found.study_id, batch_id=released.batch_id if released is not None else None
    )
    scrub_after_commit(tables=[PENDING_TABLE if pending is not None else RELEASED_TABLE])
    return Withdrawal(WithdrawalOutcome.DELETED, study=study)


def withdrawal_followups(*, study_id: int, batch_id: int | None) -> None:
    """Forget everything derived from withdrawn answers, in the withdrawal's transaction.

    ``batch_id`` is the release batch the response was in, or None if it was never released (then
    no report or export can hold it). Kept reports and the disclosure ledger are dropped, and export files deleted.
    """
    report_forget(study_id=study_id)
    disclosure_forget(study_id=study_id, released=batch_id is not None)
    # Every export of the study, whether or not it could hold this response: which ones could would
    # say when the person answered (``export_files_forget``).
    export_files_forget(study_id=study_id)


def response_mark_synthetic(*, study_id: int, token: str) -> bool:
    """Label the response whose browser holds resume ``token`` as made by ``simulate_respondents``
    (before it completes); its start moves to the synthetic counts of the day."""
    response = (
        PendingResponse.objects.filter(study_id=study_id, resume_hash=keyed_hash(token, "resume"))
        .only("pk", "sample_id", "is_synthetic")
        .first()
    )
    if response is None:
        return False
    if not response.is_synthetic:
        PendingResponse.objects.filter(pk=response.pk).update(is_synthetic=True)
        fieldwork_count(sample_id=response.sample_id, kind=FieldworkKind.STARTED, by=-1)
        fieldwork_count(sample_id=response.sample_id, kind=FieldworkKind.STARTED, synthetic=True)
    return True
