"""The disclosure ledger: every release from one state of a study's data, held beside the next one.

A results page, an aggregate download and a claims report are each made safe on their own by
``analysis.suppression.disclose``; two of them side by side (by sample and by urban, k = 10 and
k = 5, with and without flagged responses) could still give a hidden cell by difference. So every
release made from one state of the data (``selectors.study_revision``) is recorded here, and every
later release from that state is decided with all of them as ``fixed`` tables: what they showed is
known (and so is a figure they give: shown again, never hidden), what they hid stays hidden, and
only the new release's own cells are hidden further or, where that cannot protect them, withheld
(which always gives a solution). Their size is never a reason to refuse a later release: a block of
their equations too large to check was checked when the last of them was decided, and the new
figures that would join it are withheld (``analysis.suppression``). The options recorded with a
release (compared by :func:`exclusion_check`) name its weighting, also for figures given directly
(``aggregate_tables --weights``). Cells are identified by the fingerprints of their respondent sets
(``analysis.suppression.response_keys`` of every response's id, :func:`fingerprint_salt`), so the
same figure is one unknown whichever release showed it, and a set of responses keeps its identity
when a release batch adds others (Hundepool et al. 2012, *Statistical Disclosure Control*, §5.3,
linked tables).

Responses may be left out by data-quality flags in one release per state of the data (asked for
again with the same options, it is the same release). A second release leaving responses out —
other flags, or the same flags by another breakdown — is refused with a message: beside the first
and the releases that keep every response, it would give figures of the responses left out by
difference that no release shows, and deciding them all together is beyond what the ledger does
in the time a page has.

The decision and the record are one step under a lock on the ledger row (and SQLite's write lock):
a release decided while another was recorded is decided again, so two builds never both decide
alone. A new state of the data starts a new ledger; the old one is dropped.

A withdrawal is the one change that makes two states differ by one person: a release before it
and one after would give that person's answers by difference. So when something was released
from the state a withdrawal changes (its ledger has records), the ledger is dropped (it holds the
withdrawn answers) and a *hold* takes its place: the number of released responses after the withdrawal. Every
release (results page, aggregate tables, claims report) is refused with :data:`E_HELD` until
release batches have added k (``selectors.release_k``) responses to that number — then the
difference of the two states mixes k or more new respondents with the withdrawn one. (The
remainder released when a study closes can be fewer: then releases stay held.) A further
withdrawal while held starts the count again. Withdrawals from a state nothing was released
from, or of responses never released, hold nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from analysis.quality import FLAGS, fraction_text
from analysis.report_text import ReportText
from analysis.suppression import response_keys

from ..models import DisclosureLedger, DisclosureRecord, ResultsSnapshot, Study
from .refusals import Refused

RETRIES = 5
COLUMNS = (
    "variable",
    "group_variable",
    "group",
    "level",
    "count",
    "n",
    "cell",
    "base",
    "suppressed",
    "implied",
    "threshold",
    "sum_of",
    "base_sum_of",
    "atoms",  # a weighted row's class parts (analysis.weighted_release): identities as lists
    "base_atoms",
    "weighting",
)
E_OTHER_EXCLUSION = gettext_noop(
    "Results leaving out flagged responses (%(earlier)s) were already released from these data. "
    "Leaving responses out in another release (%(chosen)s) would show, by difference, figures of "
    "the responses left out that neither release shows. Use the same choices as before, or leave "
    "no responses out; a new release of responses starts afresh."
)
E_SAME_EXCLUSION = gettext_noop(
    "Results leaving out the same flagged responses (%(earlier)s) were already released from these "
    "data with other choices (another page, breakdown or threshold). A second release leaving them "
    "out would show, by difference, figures of the responses left out that neither release shows. "
    "Ask for the release made before, or leave no responses out; a new release of responses starts "
    "afresh."
)
E_HELD = gettext_noop(
    "Results are held: since results were last released, the data changed only by a withdrawal, so "
    "new figures set beside the earlier ones would show that person's answers by difference. They "
    "resume when the next release batch of new responses arrives; the earlier figures are not shown "
    "again, since they hold the withdrawn answers."
)
E_SPEEDING_CHANGED = gettext_noop(
    "The study's speeding fraction was changed while these results were being made; ask for them "
    "again to have them at the new fraction."
)
HELD = "held:"  # the revision of a hold: this prefix and the released responses when it began
E_BUSY = "the disclosure ledger kept changing while this release was decided; try again"


def released_exclusion(flags: tuple[str, ...] | list[str], speeding: float | None = None) -> str:
    """The responses a release leaves out, as the ledger compares them: the flags in ``FLAGS``
    order, and the speeding fraction when speeding is one of them ("" for none)."""
    chosen = [flag for flag in FLAGS if flag in flags]
    key = ",".join(chosen)
    if "speeding" in chosen and speeding is not None:
        key += f"@{speeding:.6g}"
    return key


def _words(key: str) -> str:
    """A ledger's exclusion key (:func:`released_exclusion`) in the reader's words: the flags'
    names, and the speeding threshold as a fraction of the median ("1/3", not "0.333333")."""
    flags, _sep, fraction = key.partition("@")
    text = ReportText().translated(_)

    def named(flag: str) -> str:
        if flag == "speeding" and fraction:
            share = fraction_text(float(fraction))
            return _("speeding (under %(fraction)s of the median duration)") % {"fraction": share}
        return text.flag(flag)

    return ", ".join(named(flag) for flag in flags.split(",") if flag)


KEPT = "candid-message:"  # a kept problem written by :func:`kept_message`: its message id and values as JSON


def kept_message(
    message: str, *, brace: bool = False, exclusions: tuple[str, ...] = (), **params: Any
) -> str:
    """A problem to keep in a snapshot, in no language yet: ``message`` (a ``gettext_noop`` id)
    and its values, put into each reader's words by :func:`in_words`. ``brace``: the message takes
    its values by ``str.format`` rather than ``%``; ``exclusions`` names the values that are
    exclusion keys (:func:`released_exclusion`), said in words by :func:`_words`."""
    return KEPT + json.dumps(
        {"message": message, "params": params, "brace": brace, "exclusions": list(exclusions)},
        ensure_ascii=False,
        sort_keys=True,
    )


def in_words(problem: str) -> str:
    """A kept problem in the active language: a :func:`kept_message` message translated with its values;
    any other text is taken as a message id (``gettext`` returns text it does not know as it is)."""
    if not problem.startswith(KEPT):
        return _(problem)
    try:
        return said(json.loads(problem[len(KEPT) :]))
    except (ValueError, KeyError, TypeError, AttributeError):
        return problem


def said(note: Mapping[str, Any]) -> str:
    """A message kept as ``{"message", "params"}`` (and, from :func:`kept_message`, ``brace`` and
    ``exclusions``) in the active language; a value kept as such a message itself (a library's
    message in Candid's words, ``analysis.weighting.MarginsUnmet``) is said in it too."""
    exclusions = note.get("exclusions", ())
    params = {
        str(k): _words(str(v)) if k in exclusions else said(v) if isinstance(v, Mapping) else v
        for k, v in note["params"].items()
    }
    return _(note["message"]).format(**params) if note.get("brace") else _(note["message"]) % params


class ExclusionRefused(Refused):
    """A release leaving responses out, refused because another release from the same data left
    responses out already (:func:`exclusion_check`); its message says why, in the reader's words,
    and ``kept`` holds it for a snapshot in no language yet (:func:`in_words`)."""

    def __init__(self, message: str, **exclusions: str) -> None:
        self.kept = kept_message(message, exclusions=tuple(exclusions), **exclusions)
        super().__init__(in_words(self.kept))


def exclusion_check(
    *, study: Study, revision: str, exclusion: str, origin: str, options: dict[str, Any]
) -> None:
    """``ValueError`` (with a message) when this release leaves responses out and another release
    from the same data already did (the same release asked for again is allowed)."""
    if not exclusion:
        return
    earlier = (
        DisclosureRecord.objects.filter(ledger__study=study, ledger__revision=revision)
        .exclude(exclusion="")
        .values("origin", "options", "exclusion")
    )
    for record in earlier:
        if record["origin"] == origin and record["options"] == options and record["exclusion"] == exclusion:
            return
    first = next(iter(earlier), None)
    if first is not None and first["exclusion"] == exclusion:
        raise ExclusionRefused(E_SAME_EXCLUSION, earlier=exclusion)
    if first is not None:
        raise ExclusionRefused(E_OTHER_EXCLUSION, earlier=first["exclusion"], chosen=exclusion)


def fingerprint_salt(study: Study) -> str:
    """The salt of the study's fingerprint numbers (``analysis.suppression.response_keys``).

    Not a secret: fingerprints never leave the database, which holds the answers themselves, and
    a secret that could be rotated (``SECRET_KEY``) would silently change every identity recorded
    in a ledger. Per study, so two studies' figures never share an identity."""
    return f"candid-fingerprint:{study.pk}"


def study_keys(study: Study, ids: Sequence[str]) -> np.ndarray:
    """The fingerprint numbers (``analysis.suppression.response_keys``) of the responses whose ids
    are ``ids`` (n strings) in ``study``: an int64 array of n, the same for a response in every
    release from the study, whatever its position in a frame."""
    return response_keys([str(i) for i in ids], salt=fingerprint_salt(study))


class ReleaseHeld(Refused):
    """A release asked for while releases are held after a withdrawal. Its message is
    :data:`E_HELD` untranslated: a kept snapshot holds it and each reader's page translates it
    (``gettext``) into the reader's language, not the language of the request that built it."""


def _released_count(study: Study) -> int:
    from ..selectors import released_responses

    return released_responses(study).count()


def release_held(study: Study) -> bool:
    """Whether releases are held: a withdrawal changed data something was released from, and
    fewer than k (``selectors.release_k``) responses have been released since."""
    from ..selectors import release_k

    holds = DisclosureLedger.objects.filter(study=study, revision__startswith=HELD).values_list(
        "revision", flat=True
    )
    if not holds:
        return False
    count = _released_count(study)
    return any(count < int(hold.removeprefix(HELD)) + release_k() for hold in holds)


def disclosure_release[T](
    *,
    study: Study,
    revision: str,
    origin: str,
    exclusion: str,
    decide: Callable[[dict[str, pd.DataFrame]], tuple[T, Mapping[str, pd.DataFrame]]],
    options: dict[str, Any] | None = None,
    speeding: float | None = None,
) -> T:
    """Decide a release beside every release recorded for ``revision`` and record it.

    ``decide(fixed)`` gets the recorded tables (``disclose``'s ``fixed``) and returns its result
    and the tables to record (exact ``count``/``n``, ``cell``/``base``, ``suppressed`` as decided,
    ``implied`` and ``sum_of`` where present). ``exclusion`` is :func:`released_exclusion` of the
    responses left out. Raises ``ValueError`` for a second, different exclusion set.

    ``speeding`` is the speeding fraction the release's flags were computed with. The first
    release recorded fixes the study's fraction (``Study.first_released_at``); recording takes the
    study's row lock, as ``services.studies.study_update`` does to change the fraction, and a
    release computed at a fraction no longer the study's is refused (:data:`E_SPEEDING_CHANGED`,
    a message id each reader translates), so every release of a study is at one fraction.
    """
    options = json.loads(json.dumps(options or {}, default=list))
    for _attempt in range(RETRIES):
        if release_held(study):
            raise ReleaseHeld(E_HELD)
        exclusion_check(study=study, revision=revision, exclusion=exclusion, origin=origin, options=options)
        seen = list(
            DisclosureRecord.objects.filter(ledger__study=study, ledger__revision=revision)
            .order_by("pk")
            .values_list("pk", "tables")
        )
        fixed = {f"{pk}:{name}": frame for pk, tables in seen for name, frame in tables_read(tables).items()}
        result, tables = decide(fixed)
        with transaction.atomic():
            current = (
                Study.objects.select_for_update()
                .filter(pk=study.pk)
                .values_list("speeding_fraction", flat=True)
            ).get()
            if speeding is not None and speeding != current:
                raise Refused(E_SPEEDING_CHANGED)
            if release_held(study):  # a withdrawal meanwhile
                raise ReleaseHeld(E_HELD)
            ledger = _locked(study, revision)
            latest = ledger.records.order_by("-pk").values_list("pk", flat=True).first()
            if latest != (seen[-1][0] if seen else None):
                continue  # another release was recorded meanwhile: decide again beside it
            DisclosureRecord.objects.create(
                ledger=ledger,
                origin=origin,
                options=options,
                exclusion=exclusion,
                tables=tables_written(tables),
            )
            Study.objects.filter(pk=study.pk, first_released_at__isnull=True).update(
                first_released_at=timezone.now()
            )
        return result
    raise RuntimeError(E_BUSY)


def _locked(study: Study, revision: str) -> DisclosureLedger:
    """The ledger of ``revision``, locked for this transaction (older states' ledgers dropped)."""
    DisclosureLedger.objects.filter(study=study).exclude(revision=revision).delete()
    ledger, _created = DisclosureLedger.objects.get_or_create(study=study, revision=revision)
    return DisclosureLedger.objects.select_for_update().get(pk=ledger.pk)


def disclosure_forget(*, study_id: int, released: bool = True) -> None:
    """After a withdrawal: drop the study's ledgers (nothing derived from that person is kept) and,
    when the withdrawn response was released (``released``) and something had been released from
    that state (or releases were held already), hold releases until the next release batch."""
    ResultsSnapshot.objects.filter(study_id=study_id).delete()  # they hold the withdrawn answers
    ledgers = DisclosureLedger.objects.filter(study_id=study_id)
    hold = released and (
        DisclosureRecord.objects.filter(ledger__study_id=study_id).exists()
        or ledgers.filter(revision__startswith=HELD).exists()
    )
    if not released:  # the released data did not change: a hold stays as it is
        ledgers = ledgers.exclude(revision__startswith=HELD)
    ledgers.delete()
    if hold:
        study = Study.objects.get(pk=study_id)
        DisclosureLedger.objects.create(study=study, revision=f"{HELD}{_released_count(study)}")


# --- tables as JSON -----------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, tuple | list | frozenset | set):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and value != value:
        return None
    return value


def _identity(value: Any) -> Hashable:
    return tuple(_identity(v) for v in value) if isinstance(value, list) else value


def tables_written(tables: Mapping[str, pd.DataFrame]) -> dict[str, dict[str, list]]:
    """Tables as JSON: each a dict of the columns ``disclose`` reads (identities as lists)."""
    out = {}
    for name, frame in tables.items():
        present = [c for c in COLUMNS if c in frame.columns]
        out[name] = {c: [_plain(v) for v in frame[c].astype(object)] for c in present}
    return out


def tables_read(stored: Mapping[str, Mapping[str, list]]) -> dict[str, pd.DataFrame]:
    """:func:`tables_written`'s tables back as frames, identities as tuples again."""
    out = {}
    for name, columns in stored.items():
        values: dict[str, list] = {}
        for column, cells in columns.items():
            if column in {"cell", "base"}:
                values[column] = [_identity(v) for v in cells]
            elif column in {"sum_of", "base_sum_of"}:
                values[column] = [[_identity(p) for p in v] if v else None for v in cells]
            else:
                values[column] = cells
        out[name] = pd.DataFrame(values)
    return out
