"""Writing questionnaires: import a spec as a draft, publish it, copy it into a new draft."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext_lazy

from ..instrument import Problem, QuestionnaireInvalid, iter_questions, normalize, validate
from ..languages import same_language
from ..models import (
    Choice,
    ChoiceList,
    ConsentText,
    Question,
    QuestionnaireVersion,
    Sample,
    Section,
    Study,
    VersionStatus,
)
from ..selectors import version_to_spec
from .exports import audit_record

E_DRAFT_EXISTS = gettext_lazy(
    "study {study!r} already has a draft (version {number}); publish or delete it first"
)
E_LANGUAGES_MISSING = gettext_lazy(
    "the questionnaire has no texts in {languages}, which the study is published in"
)
E_NO_CONSENT = gettext_lazy("a consent text must be chosen before publishing")
E_CONSENT_INCOMPLETE = gettext_lazy("consent text version {version} has no text in {languages}")
E_CONSENT_DETAIL_MISSING = gettext_lazy("consent text version {version} has no {detail} in {languages}")
E_CONSENT_NO_REFERENCE = gettext_lazy("consent text version {version} has no ethics approval number")
E_STUDY_CLOSED = gettext_lazy("the study closed on {date}; move its closing date before publishing")
E_STUDY_TITLE_MISSING = gettext_lazy(
    "the study's title has no text in {languages} (see the study's settings)"
)
CONSENT_DETAILS = {
    "research_team": gettext_lazy("research team"),
    "contact": gettext_lazy("contact"),
    "ethics_committee": gettext_lazy("ethics committee"),
}
E_CONSENT_OTHER_STUDY = gettext_lazy("consent text version {version} belongs to another study")
E_NOT_DRAFT = gettext_lazy("version {number} is not a draft")


def _write_parts(version: QuestionnaireVersion, spec: dict[str, Any]) -> None:
    """Insert the sections, lists, choices and questions of ``spec`` into an empty draft.

    Five bulk inserts whatever the size of the questionnaire (parents before their items).
    """
    sections = Section.objects.bulk_create(
        [
            Section(
                version=version,
                code=s["code"],
                position=i,
                label=s["label"],
                relevance=s["relevance"],
                randomize=s["randomize"],
                shuffle=s["shuffle"],
            )
            for i, s in enumerate(spec["sections"])
        ]
    )
    lists = ChoiceList.objects.bulk_create(
        [ChoiceList(version=version, name=cl["name"]) for cl in spec["choice_lists"]]
    )
    list_by_name = {cl.name: cl for cl in lists}
    Choice.objects.bulk_create(
        [
            Choice(
                choice_list=list_by_name[cl["name"]],
                code=c["code"],
                position=i,
                label=c["label"],
                anchor=c.get("anchor", False),
                exclusive=c.get("exclusive", False),
                columns=c.get("columns", {}),
            )
            for cl in spec["choice_lists"]
            for i, c in enumerate(cl["choices"])
        ]
    )
    section_by_code = {s.code: s for s in sections}

    def build(q: dict[str, Any], section: Section, position: int, parent: Question | None = None) -> Question:
        return Question(
            version=version,
            section=section,
            parent=parent,
            position=position,
            code=q["code"],
            type=q["type"],
            label=q["label"],
            hint=q["hint"],
            required=q["required"],
            relevance=q["relevance"],
            constraint=q["constraint"],
            constraint_message=q["constraint_message"],
            appearance=q["appearance"],
            parameters=q["parameters"],
            choice_list=list_by_name.get(q["choice_list"]) if q["choice_list"] else None,
            randomize=q["randomize"],
            reverse_scale=q["reverse_scale"],
            source=q["source"],
            calculation=q["calculation"],
            choice_filter=q["choice_filter"],
            default=q["default"],
            read_only=q["read_only"],
        )

    tops: list[tuple[dict[str, Any], Question]] = []
    position = 0
    for s in spec["sections"]:
        for q in s["questions"]:
            tops.append((q, build(q, section_by_code[s["code"]], position)))
            position += 1 + len(q["items"])
    Question.objects.bulk_create([question for _, question in tops])
    items = []
    for q, parent in tops:
        items += [
            build(item, parent.section, parent.position + 1 + i, parent) for i, item in enumerate(q["items"])
        ]
    Question.objects.bulk_create(items)


def rewrite_parts(version: QuestionnaireVersion, spec: dict[str, Any]) -> None:
    """Replace a draft's title, languages, pages, questions and lists by those of ``spec``."""
    version.assert_editable()
    Question.objects.filter(version=version, parent__isnull=False).delete()
    Question.objects.filter(version=version).delete()
    Section.objects.filter(version=version).delete()
    ChoiceList.objects.filter(version=version).delete()
    version.form_id = spec["form_id"]
    version.form_version = spec["form_version"]
    version.title = spec["title"]
    version.languages = spec["languages"]
    version.language_names = spec["language_names"]
    version.default_language = spec["default_language"]
    version.full_clean()
    version.save()
    _write_parts(version, spec)


def spec_summary(spec: dict[str, Any]) -> dict[str, Any]:
    """What a questionnaire holds, for the message after an import: pages, questions, languages, lists."""
    return {
        "pages": len(spec["sections"]),
        "questions": sum(1 for _s, q, _p in iter_questions(spec) if q["type"] != "note"),
        "notes": sum(1 for _s, q, _p in iter_questions(spec) if q["type"] == "note"),
        "languages": list(spec["languages"]),
        "lists": len(spec["choice_lists"]),
        "choices": sum(len(cl["choices"]) for cl in spec["choice_lists"]),
    }


@transaction.atomic
def questionnaire_import(
    *,
    spec: dict[str, Any],
    owner: AbstractBaseUser,
    study: Study | None = None,
    study_slug: str = "",
    replace_draft: bool = False,
    source: str = "",
) -> QuestionnaireVersion:
    """Store ``spec`` as a new draft version, creating the study (with one sample) when needed.

    With ``replace_draft``, a study's existing draft is replaced (same version number) instead of
    refused. Raises :class:`QuestionnaireInvalid` and writes nothing when the spec has any problem.
    The import is in the audit log (``source`` names the file), as done by ``owner``.
    """
    spec = normalize(spec)
    problems = validate(spec)
    if problems:
        raise QuestionnaireInvalid(problems)
    if study is None:
        slug = slugify(study_slug or spec["form_id"] or "study")[:64]
        study = Study.objects.filter(slug=slug).first()
    if study is None:
        default = spec["default_language"]
        study = Study(
            owner=owner,
            slug=slug,
            title=spec["title"].get(default) or slug,
            titles=spec["title"],
            languages=spec["languages"],
        )
        study.full_clean()
        study.save()
        sample = Sample(
            study=study, slug="main", name="Main sample", default_language=default, is_default=True
        )
        sample.full_clean()
        sample.save()
    draft = study.versions.select_for_update().filter(status=VersionStatus.DRAFT).first()
    if draft is not None and not replace_draft:
        raise QuestionnaireInvalid(
            [Problem("", E_DRAFT_EXISTS.format(study=study.slug, number=draft.number), "draft_exists")]
        )
    if draft is not None:
        rewrite_parts(draft, spec)
        version = draft
    else:
        number = (study.versions.aggregate(n=Max("number"))["n"] or 0) + 1
        version = QuestionnaireVersion(
            study=study,
            number=number,
            form_id=spec["form_id"],
            form_version=spec["form_version"],
            title=spec["title"],
            languages=spec["languages"],
            language_names=spec["language_names"],
            default_language=spec["default_language"],
        )
        version.full_clean()
        version.save()
        _write_parts(version, spec)
    audit_record(
        user=owner,
        action="questionnaire_imported",
        study=study,
        version=version.number,
        replaced=draft is not None,
        source=source,
        **spec_summary(spec),
    )
    return version


def publish_problems(version: QuestionnaireVersion, consent: ConsentText | None) -> list[Problem]:
    """Why ``version`` cannot be published with ``consent``; empty when it can."""
    problems = validate(version_to_spec(version), lambda kind, key, field: f"{kind} {key}" if key else "")
    missing = [lang for lang in version.study.languages if same_language(lang, version.languages) is None]
    if missing:
        problems.append(
            Problem("", E_LANGUAGES_MISSING.format(languages=", ".join(missing)), "languages_missing")
        )
    if consent is None:
        problems.append(Problem("", str(E_NO_CONSENT), "no_consent"))
    elif consent.study_id != version.study_id:
        problems.append(
            Problem("", E_CONSENT_OTHER_STUDY.format(version=consent.version), "consent_other_study")
        )
    else:
        problems += _consent_problems(consent, version.languages)
    titles = version.study.titles or {}
    untitled = [lang for lang in version.study.languages if not titles.get(lang, "").strip()]
    if titles and untitled:
        problems.append(
            Problem("", E_STUDY_TITLE_MISSING.format(languages=", ".join(untitled)), "study_title_missing")
        )
    closes_on = version.study.closes_on
    if closes_on is not None and closes_on < timezone.localdate():
        problems.append(Problem("", E_STUDY_CLOSED.format(date=closes_on.isoformat()), "study_closed"))
    return problems


def _consent_problems(consent: ConsentText, languages: list[str]) -> list[Problem]:
    """What the consent text lacks in ``languages``: its text, who is asking, the ethics approval."""
    problems = []
    missing = consent.missing(languages)
    if "texts" in missing:
        problems.append(
            Problem(
                "",
                E_CONSENT_INCOMPLETE.format(version=consent.version, languages=", ".join(missing["texts"])),
                "consent_incomplete",
            )
        )
    for name, detail in CONSENT_DETAILS.items():
        if name in missing:
            problems.append(
                Problem(
                    "",
                    E_CONSENT_DETAIL_MISSING.format(
                        version=consent.version, detail=detail, languages=", ".join(missing[name])
                    ),
                    f"consent_no_{name}",
                )
            )
    if "ethics_reference" in missing:
        problems.append(
            Problem("", E_CONSENT_NO_REFERENCE.format(version=consent.version), "consent_no_ethics_reference")
        )
    return problems


@transaction.atomic
def questionnaire_publish(
    *,
    version: QuestionnaireVersion,
    consent: ConsentText | None = None,
    user: AbstractBaseUser | None = None,
) -> QuestionnaireVersion:
    """Publish a draft with a consent text; refuses with every reason when it is not ready.
    Audited as done by ``user`` (None: a command)."""
    version = QuestionnaireVersion.objects.select_for_update().get(pk=version.pk)
    if version.status != VersionStatus.DRAFT:
        raise QuestionnaireInvalid([Problem("", E_NOT_DRAFT.format(number=version.number), "not_draft")])
    consent = consent or version.consent
    problems = publish_problems(version, consent)
    if problems:
        raise QuestionnaireInvalid(problems)
    version.consent = consent
    version.status = VersionStatus.PUBLISHED
    version.published_on = timezone.localdate()
    version.save()
    audit_record(
        user=user,
        action="questionnaire_published",
        study=version.study,
        version=version.number,
        consent=consent.version,
    )
    return version


@transaction.atomic
def questionnaire_new_draft(
    *, version: QuestionnaireVersion, user: AbstractBaseUser | None = None
) -> QuestionnaireVersion:
    """A new draft that copies ``version`` (codes stay stable, so data of both versions line up);
    audited as done by ``user``."""
    study = Study.objects.select_for_update().get(pk=version.study_id)
    if study.versions.filter(status=VersionStatus.DRAFT).exists():
        draft = study.versions.get(status=VersionStatus.DRAFT)
        raise QuestionnaireInvalid(
            [Problem("", E_DRAFT_EXISTS.format(study=study.slug, number=draft.number), "draft_exists")]
        )
    spec = version_to_spec(version)
    number = (study.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    draft = QuestionnaireVersion(
        study=study,
        number=number,
        form_id=version.form_id,
        form_version=version.form_version,
        title=version.title,
        languages=version.languages,
        language_names=version.language_names,
        default_language=version.default_language,
        consent=version.consent,
    )
    draft.save()
    _write_parts(draft, spec)
    audit_record(
        user=user, action="questionnaire_new_draft", study=study, version=draft.number, copied=version.number
    )
    return draft


@transaction.atomic
def consent_create(
    *,
    study: Study,
    texts: dict[str, str],
    research_team: dict[str, str] | None = None,
    contact: dict[str, str] | None = None,
    ethics_committee: dict[str, str] | None = None,
    ethics_reference: str = "",
    user: AbstractBaseUser | None = None,
) -> ConsentText:
    """A new consent version for ``study`` (earlier versions stay as agreed to); audited as ``user``'s.

    Every text is ``{language code: text}``. A version may be saved incomplete; publishing a
    questionnaire with it requires the text, research team, contact and ethics committee in every
    language of the questionnaire, and the ethics reference.
    """
    number = (study.consent_texts.aggregate(n=Max("version"))["n"] or 0) + 1
    consent = ConsentText(
        study=study,
        version=number,
        texts=texts,
        research_team=research_team or {},
        contact=contact or {},
        ethics_committee=ethics_committee or {},
        ethics_reference=ethics_reference.strip(),
    )
    consent.full_clean()
    consent.save()
    audit_record(user=user, action="consent_created", study=study, consent=number)
    return consent


E_CONSENT_IN_USE = gettext_lazy(
    "consent text version {version} is in use by a published questionnaire and cannot change; "
    "make a new version"
)


@transaction.atomic
def consent_update(
    *,
    consent: ConsentText,
    texts: dict[str, str],
    research_team: dict[str, str],
    contact: dict[str, str],
    ethics_committee: dict[str, str],
    ethics_reference: str,
    user: AbstractBaseUser | None = None,
) -> ConsentText:
    """Change a consent version nobody can have agreed to yet (no published questionnaire uses it)."""
    consent = ConsentText.objects.select_for_update().get(pk=consent.pk)
    if consent.is_in_use():
        raise QuestionnaireInvalid(
            [Problem("", E_CONSENT_IN_USE.format(version=consent.version), "consent_in_use")]
        )
    consent.texts, consent.research_team, consent.contact = texts, research_team, contact
    consent.ethics_committee, consent.ethics_reference = ethics_committee, ethics_reference.strip()
    consent.full_clean()
    consent.save()
    audit_record(user=user, action="consent_changed", study=consent.study, consent=consent.version)
    return consent


def question_problems(
    *, version: QuestionnaireVersion, question: Question, data: dict[str, Any]
) -> list[Problem]:
    """Problems the questionnaire would have with ``question`` saved as ``data`` (admin form check).

    The whole version is re-validated with the edited question in its place, so references to
    unknown or later questions are caught at save time, not only at publish time.
    """
    spec = version_to_spec(version)
    edited = {
        "code": data.get("code") or question.code,
        "type": data.get("type") or question.type,
        "label": question.label,
        "hint": question.hint,
        "constraint_message": question.constraint_message,
        "required": bool(data.get("required")),
        "relevance": data.get("relevance") or "",
        "constraint": data.get("constraint") or "",
        "appearance": data.get("appearance") or "",
        "parameters": data.get("parameters") or {},
        "choice_list": data["choice_list"].name if data.get("choice_list") else None,
        "randomize": bool(data.get("randomize")),
        "reverse_scale": bool(data.get("reverse_scale")),
        "source": data.get("source") or "",
    }
    original = question.code if question.pk else None
    section_code = data["section"].code if data.get("section") else None
    placed = False
    for section in spec["sections"]:
        for holder in [section["questions"], *[q["items"] for q in section["questions"]]]:
            for index, existing in enumerate(holder):
                if original and existing["code"] == original:
                    holder[index] = {**existing, **edited}
                    placed = True
    if not placed:
        target = next((s for s in spec["sections"] if s["code"] == section_code), None)
        if target is not None:
            target["questions"].append(edited)
    spec = normalize(spec)
    code = edited["code"]
    return [
        p
        for p in validate(spec, lambda kind, key, field: f"{kind}:{key}")
        if p.location == f"question:{code}"
    ]


def version_changes(old: QuestionnaireVersion, new: QuestionnaireVersion) -> list[str]:
    """Human-readable differences between two versions, by stable code."""
    before = {q["code"]: q for _, q, _ in iter_questions(version_to_spec(old))}
    after = {q["code"]: q for _, q, _ in iter_questions(version_to_spec(new))}
    changes = [f"added {code}" for code in after if code not in before]
    changes += [f"removed {code}" for code in before if code not in after]
    for code in after.keys() & before.keys():
        fields = [f for f in after[code] if f != "items" and after[code][f] != before[code][f]]
        if fields:
            changes.append(f"changed {code}: {', '.join(sorted(fields))}")
    return sorted(changes)
