"""Claims registries: checking one against a study's questionnaire, attaching it as a version, and
reading the attached one as the report judges it."""

from __future__ import annotations

import hashlib
from pathlib import Path

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from analysis.claims import (
    MAX_BYTES,
    SHIPPED,
    Registry,
    RegistryError,
    check_registry,
    parse_registry,
    read_registry,
    with_questionnaire_designs,
)
from analysis.codebook import Codebook
from analysis.translation import text_in

from ..bridge import study_parameters
from ..models import ClaimsRegistry, Study
from ..selectors import claims_registry_current, questionnaire_codebook, questionnaire_parameters
from ..uploads import read_at_most
from .exports import audit_record


def claims_registry_check(*, study: Study, content: bytes | str) -> Registry:
    """The registry in ``content`` if it is well formed and fits ``study``'s questionnaire and samples.

    Raises :class:`analysis.claims.RegistryError` listing every problem at once, each naming its
    claim and field: those of the file's form and, for every claim (one with problems of form
    too), those of its fit to the questionnaire. Changes nothing.
    """
    registry, problems = read_registry(content)
    if registry is not None:
        samples = set(study.samples.values_list("slug", flat=True))
        codebook, parameters = questionnaire_codebook(study), questionnaire_parameters(study)
        found = {(p.claim, p.field) for p in problems}  # a field with a problem of form: once
        problems += [
            p
            for p in check_registry(registry, codebook, samples, parameters)
            if (p.claim, p.field) not in found
        ]
        registry, _ = with_questionnaire_designs(registry, codebook, parameters)
    if problems:
        raise RegistryError(problems)
    assert registry is not None
    return registry


def claims_registry_read(*, study: Study, text: str, codebook: Codebook) -> Registry:
    """An attached registry's ``text`` as its claims are judged: read, with each design it leaves
    to the questionnaire taken from the study's published questionnaire (``study_parameters``,
    which the results page reads too; ``codebook``: the responses' variables).

    Raises ``RegistryError`` when the registry no longer reads, or when a design it states is no
    longer the questionnaire's (a version published since it was attached changed it, or it was
    attached before designs were checked): the report and the results page would disagree.
    """
    registry, problems = with_questionnaire_designs(parse_registry(text), codebook, study_parameters(study))
    if problems:
        raise RegistryError(problems)
    return registry


@transaction.atomic
def claims_registry_attach(
    *, study: Study, content: bytes | str, file_name: str = "", user: AbstractBaseUser | None = None
) -> tuple[ClaimsRegistry, bool]:
    """Check ``content`` (see :func:`claims_registry_check`) and attach it as the study's next
    registry version, recorded in the audit log.

    Returns ``(registry, created)``: the text the study already uses is not attached twice.
    Raises ``RegistryError`` (nothing changed) when the registry has problems.
    """
    registry = claims_registry_check(study=study, content=content)  # first: it refuses what is not UTF-8
    text = content.decode("utf-8-sig") if isinstance(content, bytes) else content
    Study.objects.select_for_update().filter(pk=study.pk).get()  # one version number at a time
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    current = claims_registry_current(study)
    if current is not None and current.sha256 == digest:
        return current, False
    attached = ClaimsRegistry(
        study=study,
        version=(current.version if current else 0) + 1,
        text=text,
        file_name=Path(file_name).name[:200],
        sha256=digest,
        title=text_in(registry.title, registry.language)[:300] or registry.source[:300],
        claims=len(registry),
        attached_by=user,
    )
    attached.full_clean()
    attached.save()
    audit_record(
        user=user,
        action="claims_registry_attached",
        study=study,
        version=attached.version,
        claims=attached.claims,
        sha256=digest,
    )
    return attached, True


def claims_registry_file(name: str, directory: Path) -> Path:
    """A registry a study bundle names: a file beside its ``study.json``, else one shipped with
    Candid in ``analysis/claims/``. Raises ``FileNotFoundError`` when neither exists."""
    for folder in (directory, SHIPPED):
        path = (folder / name).resolve()
        if path.is_file() and path.is_relative_to(folder.resolve()):
            return path
    raise FileNotFoundError(f"No claims registry {name!r} beside study.json or in {SHIPPED}.")


def claims_registry_from_bundle(*, study: Study, directory: Path, name: str) -> ClaimsRegistry | None:
    """Attach the registry a study bundle names (``"claims_registry"`` in ``study.json``).

    On a study loaded before, the bundle's registry is attached again only when it changed and the
    study still uses the bundle's registry — a registry uploaded since in the browser is kept.
    Returns the version attached, or None when nothing changed.
    """
    path = claims_registry_file(name, directory)
    current = claims_registry_current(study)
    from_bundle = current is None or (current.attached_by_id is None and current.file_name == path.name)
    if not from_bundle:
        return None
    content = read_at_most(path, MAX_BYTES)  # over the limit, refused as too large by the registry check
    registry, created = claims_registry_attach(study=study, content=content, file_name=path.name)
    return registry if created else None
