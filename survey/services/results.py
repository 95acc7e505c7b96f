"""A study's results (aggregates only), built from its responses and kept until the data change.

Everything shown or downloaded is the ``payload`` of a :class:`ResultsSnapshot`: tables after the one
disclosure step (``analysis.suppression.disclose``). Studies over ``CANDID_RESULTS_INLINE_MAX``
responses, and builds that would not finish within the page's time (``CANDID_INLINE_BUILD_SECONDS``
or the request budget), are built by the background worker while the page says so.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import math
from dataclasses import asdict, dataclass, field, replace
from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from analysis import schema
from analysis.design import SurveyDesign
from analysis.quality import FLAGS, QualityRules, quality_flags
from analysis.release import (
    DROPOFF,
    EXCLUDED,
    FLAG_COUNTS,
    LEFT_OUT,
    MISSING,
    NONRESPONSE,
    RESPONSES,
    USED,
    dropoff_table,
    flags_table,
    left_out,
    nonresponse_table,
    responses_table,
)
from analysis.results import (
    NOTE_SHOWN_BEFORE,
    RANDOMIZED_RESPONSE,
    categorised,
    released_results,
    results_tables,
)
from analysis.results import shown as visible
from analysis.suppression import DEFAULT_K, VALUE, Release, WeightedReleaseTooLarge, check_k, disclose
from analysis.weighted_release import CLASSES, MAX_CLASSES, classes_table, weighting_classes
from analysis.weighting import GROUP_SEPARATOR, poststratify, rake_samples

from ..bridge import responses_frame, study_codebook, study_parameters
from ..languages import django_locale, text_in
from ..margins import SHIPPED, margins_title
from ..middleware import InlineDeadlineExceeded, inline_deadline
from ..models import ReportStatus, ResultsSnapshot, Study, WeightingTargets
from ..selectors import (
    latest_published_version,
    logic_vocabulary,
    reading_of,
    released_responses,
    spec_for,
    study_dropoff,
    study_revision,
)
from .disclosure import (
    ExclusionRefused,
    disclosure_release,
    exclusion_check,
    released_exclusion,
    said,
    study_keys,
)
from .exports import audit_record
from .refusals import COMPUTATION_ERRORS, E_FAILED, Refused, problem_of

logger = logging.getLogger("candid.errors")
STALLED_AFTER = timedelta(minutes=30)
WITHOUT = "without exclusions:"  # names of the page without exclusions' tables, recorded beside
SHIPPED_TARGETS = {name: shipped.path for name, shipped in SHIPPED.items()}
MAX_TARGETS_BYTES = 200_000
E_TARGETS_TOO_BIG = gettext_noop("The file is larger than 200 KB; population figures fit in far less.")
E_TARGETS_FORMAT = gettext_noop(
    "The file must be a CSV with the columns variable, category and share (or count) — raking "
    "margins — or one column per variable and a count column — a post-stratification table."
)
E_TARGETS_ENCODING = gettext_noop("The file must be UTF-8 text.")
E_TARGETS_SAMPLE = gettext_noop("“%(sample)s” is not a sample of this study (its samples: %(samples)s).")
E_TARGETS_VARIABLE = gettext_noop("“%(variable)s” is not a single-choice question of this study.")
E_TARGETS_CATEGORY = gettext_noop(
    "“%(category)s” is not a choice of %(variable)s (its choices: %(choices)s)."
)
E_TARGETS_SHARE = gettext_noop(
    "The share given for %(variable)s = %(category)s is %(value)s; a share must be above 0 and at most 1."
)
E_TARGETS_COUNT = gettext_noop(
    "The count given for %(variable)s = %(category)s is %(value)s; a count must be above 0."
)
E_TARGETS_SUM = gettext_noop("The shares of %(variable)s%(sample)s sum to %(total)s, not 1.")
E_TOO_MANY_CLASSES = gettext_noop(
    "This weighting gives more different weights than can be checked (at most %(limit)s): each "
    "weighted figure is a sum over the groups of one weight, and so many groups cannot be protected "
    "in the time a release has. Weight by fewer variables or merge their categories."
)
E_WEIGHTING_UNMET = gettext_noop(
    "These population figures cannot weight these responses. Every group of respondents a weighting "
    "gives one weight (each combination of its variables, in each sample) must hold at least %(k)s "
    "respondents, and every combination the responses hold needs a population figure. Which group "
    "falls short is not said: that would show the answers of fewer than %(k)s respondents. Weight by "
    "fewer variables or merge their categories."
)
E_WEIGHTING_TOO_FINE = gettext_noop(
    "This weighting splits the respondents into groups of one weight so small and so many that its "
    "weighted figures cannot be checked for disclosure in the time a release has: it makes "
    "%(classes)s groups of one weight, the smallest of %(smallest)s respondents. Rake to fewer of the "
    "file's variables (tick only some under “Rake to”), weight by fewer variables or merge their "
    "categories, or show unweighted results."
)
E_RAKE_ON_UNKNOWN = gettext_noop(
    "“%(variable)s” is not a variable of the chosen raking margins (their variables: %(variables)s)."
)
E_TOO_FEW_EXCLUDED = gettext_noop(
    "Fewer than %(k)s responses carry the chosen data-quality flags, so none are left out: beside the "
    "results that keep them, leaving them out would show their own answers."
)

E_EXCLUSION_WITHHOLDS = gettext_noop(
    "Figures hidden on this page by disclosure control: %(hidden)s of %(rows)s. Beside the results "
    "that keep every response, leaving out so few responses would show their own answers by "
    "difference. Leave no responses out to see them."
)


@dataclass(frozen=True)
class ResultsOptions:
    """What the analyst chose on the page: breakdowns, weighting, k, language and exclusions.

    ``weighting`` is ``"none"``, ``"shipped:<name>"`` (a file of :data:`SHIPPED_TARGETS`) or
    ``"upload:<digest>"`` (a :class:`WeightingTargets` of the study); ``exclude`` names quality
    flags whose responses are left out; ``speeding`` is the fraction of the median duration,
    the study's (``Study.speeding_fraction``), never the request's — a third by default, so that
    results kept before the setting existed keep their key;
    ``rake_on`` names the variables of raking margins to rake to (empty: all of them; R's
    ``rake(sample.margins=...)`` given a chosen list), ignored by post-stratification.
    """

    by: tuple[str, ...] = (schema.SAMPLE,)
    weighting: str = "none"
    k: int = DEFAULT_K
    language: str = "en"
    exclude: tuple[str, ...] = ()
    speeding: float = 1 / 3
    rake_on: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def key(self) -> str:
        values = asdict(self)
        values.pop("extra")
        if not values["rake_on"]:  # results kept before the choice existed keep their key
            values.pop("rake_on")
        return hashlib.sha256(json.dumps(values, sort_keys=True, default=list).encode()).hexdigest()

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> ResultsOptions:
        return cls(
            by=tuple(values.get("by", (schema.SAMPLE,))),
            weighting=values.get("weighting", "none"),
            k=int(values.get("k", DEFAULT_K)),
            language=values.get("language", "en"),
            exclude=tuple(values.get("exclude", ())),
            speeding=float(values.get("speeding", 1 / 3)),
            rake_on=tuple(values.get("rake_on", ())),
        )


def breakdown_choices(study: Study, language: str) -> list[tuple[str, str]]:
    """What results may be broken down by: the sample and every single-choice question (not an item
    of a battery), as ``[(variable, label in language)]``; the page and ``aggregate_tables`` offer these.
    Not a question declared an attention check (``correct=``) or a randomised-response item (its
    answers are not the respondent's attitude but a coin's); a list experiment's count and arm are
    no single choice."""
    codebook = study_codebook(study)
    parameters = study_parameters(study)
    choices = [(schema.SAMPLE, _("Sample"))]
    for variable in codebook.variables:
        declared = parameters.get(variable.question, {})
        if "correct" in declared or RANDOMIZED_RESPONSE in declared:
            continue
        if variable.kind in {"categorical", "ordinal"} and variable.question == variable.name:
            choices.append((variable.name, variable.label_in(language)))
    return choices


def rake_choices(study: Study, weighting: str, language: str) -> list[tuple[str, str]]:
    """What raking to the population figures ``weighting`` (as ``ResultsOptions.weighting``) may be
    narrowed to: their variables, as ``[(variable, question label in language)]`` (the variable's
    name when the study has no such question); empty for no weighting, a post-stratification table
    or figures no longer kept."""
    try:
        chosen = chosen_targets(study, ResultsOptions(weighting=weighting))
    except ValueError:
        return []
    if chosen is None or chosen[2] != WeightingTargets.Kind.RAKE:
        return []
    codebook = study_codebook(study)
    names = set(codebook.names)
    return [
        (variable, codebook.variable(variable).label_in(language) if variable in names else variable)
        for variable in rake_variables(chosen[0])
    ]


def shipped_targets(study: Study) -> list[str]:
    """The shipped margins (:data:`SHIPPED_TARGETS`) that fit ``study``: every sample they weight is
    one of its samples, and every variable and category they name is in its questionnaire. Only
    these are offered; others would end in an error (a sample without respondents, an unknown
    variable) after being chosen."""
    samples = set(study.samples.values_list("slug", flat=True))
    codebook = study_codebook(study)
    names = set(codebook.names)
    fitting = []
    for name, path in SHIPPED_TARGETS.items():
        table = pd.read_csv(path, comment="#", dtype=str)
        if "sample" in table.columns and not set(table["sample"]) <= samples:
            continue
        if not set(table["variable"]) <= names:
            continue
        if all(
            set(str(category).split(GROUP_SEPARATOR)) <= set(codebook.variable(variable).value_labels)
            for variable, category in zip(table["variable"], table["category"], strict=True)
        ):
            fitting.append(name)
    return fitting


def results_current(study: Study, options: ResultsOptions) -> ResultsSnapshot | None:
    """The snapshot for the data as they are now (ready or being built), or None."""
    snapshot = ResultsSnapshot.objects.filter(study=study, key=options.key()).first()
    if snapshot is None or snapshot.revision != study_revision(study):
        return None
    if snapshot.status == ReportStatus.BUILDING and timezone.now() - snapshot.updated_at > STALLED_AFTER:
        return None
    return snapshot


def results_prepared(study: Study, options: ResultsOptions) -> ResultsSnapshot:
    """The kept results while current; else built now (up to ``CANDID_RESULTS_INLINE_MAX``
    responses, and within ``middleware.inline_deadline``) or marked as being built and queued for
    the background worker (larger studies, and a build the deadline stopped)."""
    check_k(options.k)
    snapshot = results_current(study, options)
    if snapshot is not None:
        return snapshot
    total = released_responses(study).count()
    if total <= settings.CANDID_RESULTS_INLINE_MAX:
        try:
            with inline_deadline(settings.CANDID_INLINE_BUILD_SECONDS):
                return results_build(study_id=study.pk, options=asdict(options))
        except InlineDeadlineExceeded:
            logger.warning("results build handed to the background worker at its inline deadline")
    from ..tasks import build_results as build_results_task  # the tasks module imports this one

    snapshot, _created = ResultsSnapshot.objects.update_or_create(
        study=study,
        key=options.key(),
        defaults={
            "options": _options_json(options),
            "revision": study_revision(study),
            "status": ReportStatus.BUILDING,
            "payload": {},
            "problem": "",
        },
    )
    build_results_task.enqueue(study.pk, _options_json(options))
    return snapshot


def _options_json(options: ResultsOptions) -> dict[str, Any]:
    values = asdict(options)
    values.pop("extra")
    return json.loads(json.dumps(values, default=list))


def results_build(*, study_id: int, options: dict[str, Any]) -> ResultsSnapshot:
    """Build the results from the responses and keep them with the revision read before the data."""
    study = Study.objects.get(pk=study_id)
    chosen = ResultsOptions.from_dict(options)
    revision = study_revision(study)  # read first: a response arriving meanwhile makes it stale
    frame, codebook = responses_frame(study)
    values: dict[str, Any] = {
        "options": _options_json(chosen),
        "revision": revision,
        "status": ReportStatus.DONE,
        "responses": len(frame),
        "payload": {},
        "problem": "",
    }
    if not frame.empty:
        try:
            values["payload"] = compute_results(study, frame, codebook, chosen, revision=revision)
        except ExclusionRefused as error:  # kept in no language: each reader reads it in theirs
            values["problem"] = error.kept
        except COMPUTATION_ERRORS as error:  # weighting the sample cannot meet, or a library's failure
            values["problem"] = problem_of(error, doing="results build")
    snapshot, _created = ResultsSnapshot.objects.update_or_create(
        study=study, key=chosen.key(), defaults=values
    )
    return snapshot


def results_failed(*, study_id: int, options: dict[str, Any]) -> None:
    """Mark a build the background worker could not finish (the worker logs why): its page says so in
    general words (``refusals.E_FAILED``), read in the reader's language."""
    key = ResultsOptions.from_dict(options).key()
    ResultsSnapshot.objects.filter(study_id=study_id, key=key).update(
        status=ReportStatus.FAILED, problem=E_FAILED
    )


def compute_results(
    study: Study,
    frame: pd.DataFrame,
    codebook: Any,
    options: ResultsOptions,
    *,
    targets: tuple[str, str] | None = None,
    revision: str | None = None,
) -> dict[str, Any]:
    """The released payload: results tables, quality, non-response and drop-off, all disclosed
    beside every release made before from the same data (``services.disclosure``).

    ``targets`` (the CSV text and its name) weights by population figures given directly (the
    command line's ``--weights``) instead of ``options.weighting``. ``revision`` is the data's
    ``study_revision`` read before ``frame`` (read now by default). Raises ``ValueError`` with a
    message for weights the sample cannot meet, when every response is excluded, or when
    responses are left out by other flags than a release from the same data left out.
    """
    weights = chosen_targets(study, options, targets)  # a wrong choice refused before any work
    parameters = study_parameters(study)
    language = options.language if options.language in codebook.languages else codebook.languages[0]
    frame = categorised(frame, codebook)  # every answer factorised once for all that follows
    flags = quality_flags(
        frame, codebook, parameters=parameters, rules=QualityRules(speeding=options.speeding)
    )
    chosen = [f for f in options.exclude if f in FLAGS]
    keep = ~flags[chosen].any(axis=1).to_numpy() if chosen else np.ones(len(frame), dtype=bool)
    notes = []
    too_few = 0 < int((~keep).sum()) < options.k
    if too_few:
        # Fewer than k left out: the difference from the results that keep them would be their own
        # answers, which no amount of suppression in this release can hide usefully.
        notes.append({"message": E_TOO_FEW_EXCLUDED, "params": {"k": options.k}})
        keep[:] = True
    leaving_out = not keep.all()
    revision = revision or study_revision(study)
    recorded = {key: value for key, value in _options_json(options).items() if key != "language"}
    if targets is not None:
        # Weighted by figures given directly (``aggregate_tables --weights``): recorded as the
        # weighting it is, never as "none", so that the ledger's comparison of options
        # (``services.disclosure.exclusion_check``) never takes it for the unweighted release.
        digest = hashlib.sha256(targets[0].encode()).hexdigest()[:16]
        recorded["weighting"] = f"file:{targets[1]}:{digest}"
    if leaving_out:
        exclusion_check(
            study=study,
            revision=revision,
            exclusion=released_exclusion(chosen, options.speeding),
            origin="results",
            options=recorded,
        )
    used = frame.loc[keep].reset_index(drop=True) if leaving_out else frame
    if used.empty:
        raise Refused(_("Every response is excluded by the chosen data-quality flags."))
    keys = study_keys(study, frame[schema.RESPONSE_ID].tolist())
    by = tuple(b for b in options.by if b in used.columns)
    with translation.override(django_locale(language)):  # the labels' language, not the builder's
        sample = _("Sample")
    labels = {
        "by": by,
        "language": language,
        "parameters": parameters,
        "group_labels": {schema.SAMPLE: {sample.slug: sample.name for sample in study.samples.all()}},
        "variable_labels": {schema.SAMPLE: sample},
    }
    # Unfinished responses of the kind this page counts: synthetic too when its data are (labelled so).
    dropoff = dropoff_table(study_dropoff(study, include_synthetic=bool(codebook.synthetic)))
    shared = {FLAG_COUNTS: flags_table(flags, keys, frame=frame, parameters=parameters)}
    if not dropoff.empty:
        shared[DROPOFF] = dropoff
    design, weighting = _weighted(used, options, weights)
    if weighting["method"] == "rake":
        names = set(codebook.names)
        weighting["variable_labels"] = [
            codebook.variable(v).label_in(language) if v in names else v for v in weighting["variables"]
        ]
    known = known_classes(design, keys[keep], k=options.k)
    context, items, tables = results_tables(design, codebook, keys=keys[keep], **labels)
    extra = {
        RESPONSES: responses_table(keys, keep if leaving_out else None),
        NONRESPONSE: nonresponse_table(used, codebook, keys[keep]),
        **shared,
    }
    released = {**tables, **{name: t for name, t in extra.items() if not t.empty}}
    full = None
    if leaving_out:
        # The page without exclusions, as it would be released: recorded beside this release.
        full_design, _weighting = _weighted(frame, replace(options, exclude=()), weights)
        known |= known_classes(full_design, keys, k=options.k)
        _context, _items, full_tables = results_tables(full_design, codebook, keys=keys, **labels)
        full = {
            **full_tables,
            RESPONSES: responses_table(keys),
            NONRESPONSE: nonresponse_table(frame, codebook, keys),
            **shared,
        }
        full = {name: t for name, t in full.items() if not t.empty}

    def decide(before: dict[str, pd.DataFrame]) -> tuple[Release, dict[str, pd.DataFrame]]:
        """This release beside every one recorded before (and, leaving responses out, beside the
        page without exclusions, whose decisions are made first and stand)."""
        fixed, implied, record = {**before, **known}, {}, dict(known)
        if full is not None:
            decided = disclose(full, k=options.k, rounding=False, fixed=fixed)
            without, implied = left_out(full, decided, released)
            fixed |= {f"{WITHOUT}{name}": t for name, t in without.items()}
            record |= {f"{WITHOUT}{name}": t for name, t in without.items()}
        links = {f"{WITHOUT}{name}": [name, f"{LEFT_OUT}{name}"] for name in full or {}}
        decision = disclose({**released, **implied}, k=options.k, fixed=fixed, fixed_links=links)
        for name, table in {**released, **implied}.items():
            decided = decision[name]
            published = ~decided["withheld"].to_numpy(dtype=bool)
            record[name] = table[published].assign(
                suppressed=decided["suppressed"].to_numpy(dtype=bool)[published]
            )
        return decision, record

    try:
        release = disclosure_release(
            study=study,
            revision=revision,
            origin="results",
            exclusion=released_exclusion(chosen, options.speeding) if leaving_out else "",
            decide=decide,
            options=recorded,
            speeding=options.speeding,
        )
    except WeightedReleaseTooLarge as error:
        raise Refused(_(E_WEIGHTING_TOO_FINE) % fineness(design)) from error
    results = released_results(context, items, list(tables), release)
    on_page = [*tables, *(name for name in extra if name in release.tables)]
    figures = page_figures(release, on_page)
    if leaving_out:
        # Counted as the page's disclosure sentence counts (``page_figures``), so that they agree.
        hidden = figures["primary"] + figures["complementary"] + figures["withheld"]
        # Most figures gone: say why, not only figure by figure.
        if figures["figures"] and 2 * hidden >= figures["figures"]:
            notes.append(
                {"message": E_EXCLUSION_WITHHOLDS, "params": {"hidden": hidden, "rows": figures["figures"]}}
            )
    # A question with figures that disclosure control withheld every one of (not one nobody answered).
    answered = {name.split(":", 1)[0] for name in tables}
    shown_questions = set(results.table["question"])
    counts = release[RESPONSES].set_index("level")
    synthetic = bool(codebook.synthetic)
    version = latest_published_version(study)
    spec = spec_for(version) if version is not None else None
    statements = _sensitive_statements(spec, language)
    return {
        "n": _count(counts.at[USED, "count"]),
        "language": language,
        "data": "synthetic" if synthetic else "real",
        "k": options.k,
        "by": list(results.by),
        "weighting": weighting,
        "excluded": _count(counts.at[EXCLUDED, "count"]) if EXCLUDED in counts.index else 0,
        "exclude": [] if too_few else list(options.exclude),
        "notes": notes,
        "speeding": options.speeding,
        "items": [
            {
                "question": i.question,
                "kind": i.kind,
                "label": i.label,
                "variables": list(i.variables),
                "tests": list(i.tests),
                **({"sensitive": statements[i.question]} if i.question in statements else {}),
                "withheld": i.question in answered and i.question not in shown_questions,
            }
            for i in results.items
        ],
        "table": _records(results.table),
        "quality": _released_flags(release[FLAG_COUNTS]),
        "nonresponse": _worded(
            spec, codebook, language, _records(_released_nonresponse(release.tables.get(NONRESPONSE)))
        ),
        "dropoff": _records(_released_dropoff(release.tables.get(DROPOFF), _page_labels(spec, language))),
        "release": figures,
        # Figures of fewer than k respondents a release made before gave: shown, and said so.
        "shown_before": int((results.table["note"] == NOTE_SHOWN_BEFORE).sum()),
        "withheld_why": "exclusion" if leaving_out else "protection",
    }


def notes_in_words(payload: dict[str, Any]) -> list[str]:
    """The payload's notes in the active language. They are kept as message ids and values
    (``{"message", "params"}``), so that a kept snapshot is read by each reader in their own
    language, not in the language of the request or worker that built it; a note kept as text
    (snapshots made before) is shown as it is."""
    return [note if isinstance(note, str) else said(note) for note in payload.get("notes", [])]


def payload_in_words(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload as a download writes it, in the active language: its notes in words
    (:func:`notes_in_words`) and its weighting's source by its title (``margins.margins_title``)."""
    weighting = dict(payload.get("weighting") or {})
    if weighting.get("source"):
        weighting["source"] = margins_title(weighting["source"])
    return {**payload, "notes": notes_in_words(payload), "weighting": weighting}


def page_figures(release: Release, names: list[str]) -> dict[str, int]:
    """How many figures of the tables ``names`` (what the page and its downloads show) disclosure
    control hid, by why: ``primary`` (fewer than k respondents, a quantile no width lets k share),
    ``complementary`` (so that those cannot be worked out) and ``withheld`` (left out whole). Only
    this release's own rows: ``Release.primary`` and ``complementary`` also count cells of the
    tables held beside it (earlier releases, weighting classes), which the page does not show."""
    counts = {"primary": 0, "complementary": 0, "withheld": 0, "figures": 0}
    for name in names:
        table = release[name]
        own = ~table["implied"].fillna(False).to_numpy(dtype=bool) if "implied" in table else None
        rules = table["suppression"] if own is None else table["suppression"][own]
        counts["figures"] += len(rules)
        for rule, count in rules.value_counts().items():
            key = "primary" if rule == VALUE else rule
            if key in counts:
                counts[key] += int(count)
    return counts


def known_classes(design: SurveyDesign, keys: np.ndarray, *, k: int = DEFAULT_K) -> dict[str, pd.DataFrame]:
    """The weighting classes of a weighted design as a table a reader knows (``disclose``'s
    ``fixed``: whoever has the weights has the class sizes), none for an unweighted one. Raises
    ``ValueError``: :data:`E_TOO_MANY_CLASSES` beyond ``weighted_release.MAX_CLASSES``;
    :data:`E_WEIGHTING_UNMET` when a class holds fewer than ``k`` respondents. A class that small is
    a group whose answers the class-by-class figures give away by its size less what is shown (a
    tester weighted a class of 2 heavily: the levels shown at zero left its members' answers), the
    group attribute disclosure of Hundepool et al. 2012, *Statistical Disclosure Control*, §5.2;
    the threshold rule applied to the weighting's groups keeps each at k or more."""
    classes = weighting_classes(design.w)
    if classes.size > MAX_CLASSES:
        raise Refused(_(E_TOO_MANY_CLASSES) % {"limit": MAX_CLASSES})
    if classes.size == 1:
        return {}
    if int(np.bincount(classes.codes, minlength=classes.size).min()) < k:
        raise Refused(_(E_WEIGHTING_UNMET) % {"k": k})
    return {f"{CLASSES}{classes.identity}": classes_table(keys, classes)}


def rake_variables(text: str) -> list[str]:
    """The variables raking margins (CSV text of ``variable, category, share|count[, sample]``)
    weight by, in the file's order: what ``ResultsOptions.rake_on`` chooses from."""
    table = pd.read_csv(io.StringIO(text), comment="#", dtype=str)
    return list(dict.fromkeys(table["variable"])) if "variable" in table.columns else []


def chosen_targets(
    study: Study, options: ResultsOptions, targets: tuple[str, str] | None = None
) -> tuple[str, str, str] | None:
    """The population figures chosen, as ``(CSV text, name, WeightingTargets.Kind)``; None when
    unweighted. ``targets`` (text and name) is figures given directly (``aggregate_tables
    --weights``), else ``options.weighting`` says which.

    Raises ``ValueError``: an unknown weighting, an upload no longer kept, and a variable of
    ``options.rake_on`` that raking margins lack (:data:`E_RAKE_ON_UNKNOWN`, naming it). Cheap, so
    that a wrong choice is refused before anything is computed or recorded."""
    if targets is None and options.weighting == "none":
        return None
    kind, _sep, name = options.weighting.partition(":")
    if targets is not None:
        text, label = targets
        method = _targets_kind(text)
    elif kind == "shipped" and name in SHIPPED_TARGETS:
        text, label = SHIPPED_TARGETS[name].read_text(encoding="utf-8"), name
        method = WeightingTargets.Kind.RAKE
    elif kind == "upload":
        stored = WeightingTargets.objects.filter(study=study, digest=name).first()
        if stored is None:
            raise Refused(_("The chosen population figures are no longer available."))
        text, label, method = stored.content, stored.name, stored.kind
    else:
        raise Refused(_("Unknown weighting."))
    if method == WeightingTargets.Kind.RAKE:
        variables = rake_variables(text)
        for variable in options.rake_on:
            if variable not in variables:
                raise Refused(
                    _(E_RAKE_ON_UNKNOWN) % {"variable": variable, "variables": ", ".join(variables)}
                )
    return text, label, method


def fineness(design: SurveyDesign) -> dict[str, int]:
    """How finely a weighting splits the respondents, for :data:`E_WEIGHTING_TOO_FINE`: ``classes``
    (groups of one weight, ``weighted_release.weighting_classes``) and ``smallest`` (the respondents
    of the smallest). One pass over the weights, no disclosure check. Class sizes are figures the
    reader of a weighted release is taken to know (:func:`known_classes`), and a weighting reaching
    the check has no class under k (refused before with :data:`E_WEIGHTING_UNMET`), so saying them
    gives nothing away."""
    classes = weighting_classes(design.w)
    sizes = np.bincount(classes.codes, minlength=classes.size)
    return {"classes": int(classes.size), "smallest": int(sizes.min())}


def _weighted(
    frame: pd.DataFrame, options: ResultsOptions, chosen: tuple[str, str, str] | None
) -> tuple[SurveyDesign, dict[str, Any]]:
    """The design (samples as strata) with the chosen weighting (:func:`chosen_targets`), and what
    the page says about it: method, source and, raking, the variables raked to and one convergence
    report per sample."""
    strata = schema.SAMPLE if frame[schema.SAMPLE].nunique() > 1 else None
    design = SurveyDesign(frame, strata=strata)
    if chosen is None:
        return design, {"method": "none"}
    text, label, method = chosen
    table = pd.read_csv(io.StringIO(text), comment="#", dtype=str)
    if method == WeightingTargets.Kind.RAKE:
        if options.rake_on:
            table = table[table["variable"].isin(options.rake_on)].reset_index(drop=True)
        table["share" if "share" in table.columns else "count"] = pd.to_numeric(
            table["share" if "share" in table.columns else "count"]
        )
        try:
            weighted, reports = rake_samples(design, table, sample=schema.SAMPLE)
        except ValueError as error:  # its words name a group and whether it has respondents
            raise Refused(_(E_WEIGHTING_UNMET) % {"k": options.k}) from error
        variables = list(dict.fromkeys(table["variable"]))
        return weighted, {
            "method": "rake",
            "source": label,
            "variables": variables,
            "reports": _clean(reports),
        }
    count = "count" if "count" in table.columns else "Freq"
    table[count] = pd.to_numeric(table[count])
    try:
        weighted = poststratify(design, table)
    except ValueError as error:
        raise Refused(_(E_WEIGHTING_UNMET) % {"k": options.k}) from error
    kish = float(len(weighted.w) * np.sum(weighted.w**2) / np.sum(weighted.w) ** 2)
    return weighted, {"method": "poststratify", "source": label, "deff_weighting": kish}


def _released_flags(table: pd.DataFrame) -> list[dict[str, Any]]:
    """Flag counts as shown: flagged responses (count, share of every response, suppressed)."""
    shown = visible(table)
    shown = shown[shown["level"] == "yes"]
    return [
        {"flag": record["variable"], **_clean({c: record[c] for c in ("count", "estimate", "suppressed")})}
        for record in shown.to_dict("records")
    ]


def _released_nonresponse(table: pd.DataFrame | None) -> pd.DataFrame:
    """Item non-response as shown: the missing rows of the released table."""
    if table is None or table.empty:
        return pd.DataFrame()
    table = visible(table)
    missing = table[table["level"] == MISSING]
    return missing[["variable", "question", "relevance", "level", "count", "n", "estimate", "suppressed"]]


def _worded(
    spec: dict[str, Any] | None, codebook: Any, language: str, rows: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Non-response rows with the question's label and when it is shown in words (labels for codes,
    as the questionnaire editor reads them), in the results' language. A question is shown only
    when its page's and its matrix's conditions hold as well as its own (``flow``): ``relevance``
    is all of them, so a question hidden by its group's condition is noted as one hidden by its own."""
    vocabulary = logic_vocabulary(spec, language) if spec is not None else None
    enclosing = enclosing_conditions(spec) if spec is not None else {}
    names = set(codebook.names)
    out = []
    for row in rows:
        variable = row["variable"]
        label = codebook.variable(variable).label_in(language) if variable in names else variable
        relevance = both(*enclosing.get(row.get("question") or variable, []), row.get("relevance") or "")
        condition = reading_of(relevance, vocabulary) if vocabulary is not None else None
        out.append({**row, "relevance": relevance, "label": label, "relevance_text": condition or relevance})
    return out


def enclosing_conditions(spec: dict[str, Any]) -> dict[str, list[str]]:
    """Each question's groups' display conditions (``relevance``): its page's, and a matrix's for
    its items (keyed by the matrix, the ``question`` of the items' variables), outermost first."""
    found: dict[str, list[str]] = {}
    for section in spec["sections"]:
        for question in section["questions"]:
            group = [question["relevance"]] if question["type"] == "matrix" else []
            found[question["code"]] = [c for c in (section.get("relevance", ""), *group) if c]
    return found


def both(*conditions: str) -> str:
    """One condition holding when every one of ``conditions`` holds (the empty ones hold always)."""
    present = [c for c in conditions if c]
    return present[0] if len(present) == 1 else " and ".join(f"({c})" for c in present)


def _sensitive_statements(spec: dict[str, Any] | None, language: str) -> dict[str, str]:
    """Each list experiment's sensitive statement (its item of ``role`` ``sensitive``) in
    ``language``, by the list experiment's code: what its indirect estimate is the share of."""
    if spec is None:
        return {}
    found = {}
    for section in spec["sections"]:
        for question in section["questions"]:
            for node in question.get("items", []):
                if (
                    question["type"] == "list_experiment"
                    and (node.get("parameters") or {}).get("role") == "sensitive"
                ):
                    text = text_in(node.get("label") or {}, language, spec["default_language"])
                    found[question["code"]] = text or node["code"]
    return found


def _page_labels(spec: dict[str, Any] | None, language: str) -> dict[str, str]:
    """Each page's (group's) label in ``language``, by its code."""
    if spec is None:
        return {}
    return {
        section["code"]: text_in(section.get("label") or {}, language, spec["default_language"])
        or section["code"]
        for section in spec["sections"]
    }


def _released_dropoff(table: pd.DataFrame | None, labels: dict[str, str]) -> pd.DataFrame:
    """Unfinished responses by the last page reached, as shown, each page by its label."""
    columns = ["page", "label", "count", "n", "estimate", "suppressed"]
    if table is None or table.empty:
        return pd.DataFrame(columns=columns)
    shown = visible(table).rename(columns={"level": "page"})
    return shown.assign(label=[labels.get(page, page) for page in shown["page"]])[columns]


def _count(value: Any) -> int | None:
    """A released count as a whole number (None when hidden)."""
    return None if value is None or pd.isna(value) else int(value)


def _clean(value: Any) -> Any:
    """JSON-safe: NaN and infinities as None, numpy numbers as Python numbers, tuples as lists."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return _clean(frame.astype(object).where(frame.notna(), None).to_dict("records"))


@transaction.atomic
def weighting_targets_upload(
    *, user: AbstractBaseUser, study: Study, name: str, content: bytes
) -> WeightingTargets:
    """Keep population figures uploaded for a study (refused as :func:`weighting_targets_checked`)."""
    text, kind = weighting_targets_checked(study=study, content=content)
    digest = hashlib.sha256(text.encode()).hexdigest()
    targets, _created = WeightingTargets.objects.get_or_create(
        study=study,
        digest=digest,
        defaults={"name": name[:200] or "population.csv", "kind": kind, "content": text, "uploaded_by": user},
    )
    audit_record(user=user, action="weighting_uploaded", study=study, name=targets.name, kind=kind)
    return targets


def weighting_targets_checked(*, study: Study, content: bytes) -> tuple[str, str]:
    """Population figures as text and their kind (``WeightingTargets.Kind``), once every check
    passes: size, encoding and form (``ValueError`` with the message), then the figures against the
    study (:class:`TargetsRefused` with every problem, :func:`targets_problems`). The page's upload
    and ``aggregate_tables --weights`` both take figures through here."""
    if len(content) > MAX_TARGETS_BYTES:
        raise Refused(_(E_TARGETS_TOO_BIG))
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise Refused(_(E_TARGETS_ENCODING)) from error
    kind = _targets_kind(text)
    problems = targets_problems(study, text, kind)
    if problems:
        raise TargetsRefused(problems)
    return text, kind


class TargetsRefused(Refused):
    """Population figures that do not fit the study: every problem, each a sentence."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(" ".join(problems))
        self.problems = problems


def targets_problems(study: Study, text: str, kind: str) -> list[str]:
    """Every way well-formed population figures (``kind`` as :func:`_targets_kind` reads them) do not
    fit ``study``: samples, questions and choices it lacks, figures out of range, shares not summing
    to 1. Empty when they fit; whether each choice has respondents is checked when weighting."""
    table = pd.read_csv(io.StringIO(text), comment="#", dtype=str).fillna("")
    codebook = study_codebook(study)
    samples = list(study.samples.values_list("slug", flat=True))
    choices = {v.name: list(v.value_labels) for v in codebook.variables if v.value_labels}
    choices[schema.SAMPLE] = samples
    problems: list[str] = []

    def known(variable: str, categories: list[str]) -> bool:
        if variable not in choices:
            message = _(E_TARGETS_VARIABLE) % {"variable": variable}
            if message not in problems:
                problems.append(message)
            return False
        fine = True
        for category in categories:
            if category not in choices[variable]:
                message = _(E_TARGETS_CATEGORY) % {
                    "category": category,
                    "variable": variable,
                    "choices": ", ".join(choices[variable]),
                }
                if message not in problems:
                    problems.append(message)
                fine = False
        return fine

    if kind == WeightingTargets.Kind.RAKE:
        value = "share" if "share" in table.columns else "count"
        if "sample" in table.columns:
            for sample in dict.fromkeys(table["sample"]):
                if sample not in samples:
                    problems.append(_(E_TARGETS_SAMPLE) % {"sample": sample, "samples": ", ".join(samples)})
        for record in table.to_dict("records"):
            variable, category = record["variable"], record["category"]
            known(variable, category.split(GROUP_SEPARATOR))
            figure = float(record[value])
            if not (figure > 0 and (figure <= 1 or value == "count") and math.isfinite(figure)):
                message = E_TARGETS_SHARE if value == "share" else E_TARGETS_COUNT
                problems.append(
                    _(message) % {"variable": variable, "category": category, "value": record[value]}
                )
        if value == "share":
            keys = ["sample", "variable"] if "sample" in table.columns else ["variable"]
            shares = table.assign(share=pd.to_numeric(table["share"]))
            for key, group in shares.groupby(keys, sort=False):
                key = key if isinstance(key, tuple) else (key,)
                total = float(group["share"].sum())
                if abs(total - 1) > 1e-6:
                    problems.append(
                        _(E_TARGETS_SUM)
                        % {
                            "variable": key[-1],
                            "sample": f" ({key[0]})" if len(key) == 2 else "",
                            "total": f"{total:.6g}",
                        }
                    )
        return problems
    count = "count" if "count" in table.columns else "Freq"
    for variable in [c for c in table.columns if c != count]:
        known(variable, list(dict.fromkeys(table[variable])))
    for record in table.to_dict("records"):
        figure = float(record[count])
        if not (figure > 0 and math.isfinite(figure)):
            cell = "/".join(record[c] for c in table.columns if c != count)
            problems.append(
                _(E_TARGETS_COUNT)
                % {
                    "variable": "/".join(c for c in table.columns if c != count),
                    "category": cell,
                    "value": record[count],
                }
            )
    return problems


def _targets_kind(text: str) -> str:
    try:
        table = pd.read_csv(io.StringIO(text), comment="#", dtype=str)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error) as error:
        raise Refused(_(E_TARGETS_FORMAT)) from error
    columns = set(table.columns)
    value = "share" if "share" in columns else "count" if "count" in columns else None
    if {"variable", "category"} <= columns and value:
        if pd.to_numeric(table[value], errors="coerce").isna().any():
            raise Refused(_(E_TARGETS_FORMAT))
        return WeightingTargets.Kind.RAKE
    count = "count" if "count" in columns else "Freq" if "Freq" in columns else None
    if count and len(columns) > 1 and pd.to_numeric(table[count], errors="coerce").notna().all():
        return WeightingTargets.Kind.POSTSTRATIFY
    raise Refused(_(E_TARGETS_FORMAT))
