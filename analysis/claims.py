"""Claims registries: published claims as data, read from TOML, checked against a schema and a questionnaire.

A registry (``analysis/claims/*.toml``; the format is described in ``hawkins_2017.toml`` and the
README) lists claims, each with its paraphrase and citation, how the survey measures it directly
(``statistic``), optionally an indirect measure of the same attitude (``indirect``: a list
experiment or randomised response) and the rule that combines the two, and the published reference
figures with their confidence tags. This module only reads and checks registries; the verdicts are
``analysis.verdicts``.

Every problem is reported — not just the first — as a :class:`Problem` naming the claim and the
field (``references[2].tag``), so a researcher can fix an uploaded file in one go. Messages are
marked with ``gettext_noop`` and rendered by the caller in its language.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from . import schema
from .codebook import Codebook
from .sensitive import declared_direct, declared_forced_response
from .translation import Text, Translate, gettext_noop, identity

SHIPPED = Path(__file__).parent / "claims"
REGISTRY = SHIPPED / "hawkins_2017.toml"
MAX_BYTES = 1_000_000  # a registry is a text file of claims; anything larger is a mistake

# Confidence tags of reference figures (shared/reference/claims.md): key -> what it means.
TAGS: dict[str, str] = {
    "C": gettext_noop("confirmed in the primary or an authoritative secondary source"),
    "S": gettext_noop("secondary source only"),
    "U": gettext_noop("unconfirmed"),
    # Generic: which microdata a figure was recomputed from is its reference's ``source``.
    "3P": gettext_noop("a third party's recomputation from public microdata, not an official table"),
}
KINDS = ("share", "difference")
INDIRECT_KINDS = ("list_experiment", "randomized_response")
COMBINE_RULES = ("all", "indirect", "strict")
DIRECTIONS = (">", "<")
# Variables a share can be computed on: those whose answers are codes with value labels.
CODED_KINDS = ("categorical", "ordinal", "binary")
FILE = "(file)"
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")

E_MISSING = gettext_noop("is missing")
E_TYPE = gettext_noop("must be {expected}")
E_UNKNOWN_FIELD = gettext_noop("is not a known field here (known fields: {allowed})")
E_ONE_OF = gettext_noop("{value!r} is not one of {choices}")
E_EMPTY = gettext_noop("must not be empty")
E_SHARE = gettext_noop("must be a share between {low} and {high}")
E_POSITIVE = gettext_noop("must be a whole number above 0")
E_ID = gettext_noop("must be lower-case letters, digits, '-' or '_' (at most 64)")
E_DUPLICATE_ID = gettext_noop("{value!r} is used by two claims")
E_NO_CLAIMS = gettext_noop("the registry has no claims")
E_NOT_TOML = gettext_noop("is not valid TOML: {error}")
E_TOO_LARGE = gettext_noop("is larger than {limit} bytes")
E_NOT_TEXT = gettext_noop("is not UTF-8 text")
E_TOO_DEEP = gettext_noop("nests arrays or tables too deeply to be a registry")
E_NEEDS_SAMPLES = gettext_noop("a difference needs the two samples, first and second")
E_SAME_SAMPLES = gettext_noop("first and second must be different samples")
E_INDIRECT_NEEDS_SHARE = gettext_noop(
    "an indirect measure needs a direct statistic of kind 'share' to set it beside"
)
E_RR_PROBABILITIES = gettext_noop("p_truth + p_forced_yes must not exceed 1")
E_NO_VARIABLE = gettext_noop("{value!r} is not a variable of the questionnaire")
E_NOT_CODED = gettext_noop(
    "{value!r} is a {kind} variable; a share needs a question answered with codes (single choice, Likert, a choice of a multiple choice)"
)
E_NO_LEVEL = gettext_noop("{value!r} is not a choice of {variable!r} (choices: {choices})")
E_NO_SAMPLE = gettext_noop("{value!r} is not a sample of this study (samples: {choices})")
E_NOT_COUNT = gettext_noop("{value!r} is a {kind} variable, not the count of a list experiment")
E_NOT_ARM = gettext_noop("{value!r} is not the arm column of a list experiment")
E_NO_DESIGN = gettext_noop(
    "is missing, and the questionnaire declares no randomised-response design for {variable!r} to take it from"
)
E_DESIGN_DIFFERS = gettext_noop(
    "is {value} here but {declared} in the questionnaire (the parameters of {question!r}); "
    "give the questionnaire's or leave it out to use it"
)
E_DIRECT_DIFFERS = gettext_noop(
    "is {value} here but the questionnaire sets {question!r} beside {declared} (its parameters "
    "direct and direct_levels)"
)
# The design fields of randomised response a registry may leave to the questionnaire.
DESIGN_FIELDS = ("yes", "p_truth", "p_forced_yes")


@dataclass(frozen=True)
class Problem:
    """One problem of a registry: the claim (or ``(file)``), the field path and a message template."""

    claim: str
    field: str
    message: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def render(self, translate: Translate = identity) -> str:
        """The problem as a sentence, its message (and the words of an ``expected`` type) passed
        through ``translate`` (Django's ``gettext``)."""
        params = dict(self.params)
        if isinstance(params.get("expected"), str):
            params["expected"] = translate(params["expected"])
        return translate(self.message).format(**params)

    def __str__(self) -> str:
        return f"claim {self.claim!r}, field {self.field!r}: {self.render()}"


class RegistryError(ValueError):
    """A registry that cannot be used: every problem found, each naming its claim and field."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems
        first = problems[0]
        self.claim, self.field, self.problem = first.claim, first.field, first.render()


@dataclass(frozen=True)
class Reference:
    """A published figure: ``value`` is a share (or a difference of shares), absent for counts."""

    source: str
    tag: str
    year: int | None = None
    value: float | None = None
    n: int | None = None
    sample: Text = field(default_factory=dict)
    mode: Text = field(default_factory=dict)
    note: Text = field(default_factory=dict)
    label: str = ""

    @property
    def short(self) -> str:
        """A marker label naming the source: ``label`` if given, else the source's first phrase and year."""
        if self.label:
            return self.label
        head = re.split(r"[,:(]", self.source, maxsplit=1)[0].strip()
        return f"{head} {self.year}" if self.year and str(self.year) not in head else head


@dataclass(frozen=True)
class Statistic:
    """How the survey measures a claim directly: a share of ``levels`` or a difference between samples."""

    kind: str
    label: Text
    variable: str
    levels: tuple[str, ...] = ()
    population: Mapping[str, str] = field(default_factory=dict)
    first: str = ""
    second: str = ""
    direction: str = ""
    threshold: float | None = None
    rule: Text = field(default_factory=dict)
    references: tuple[Reference, ...] = ()


@dataclass(frozen=True)
class Indirect:
    """An indirect measure of the same attitude, and how its verdict combines with the direct one.

    ``list_experiment``: the count ``variable`` with its ``arm`` column (treatment value
    ``treatment``). ``randomized_response``: the forced-response answer ``variable`` whose ``yes``
    code is the sensitive answer, with the design's ``p_truth`` and ``p_forced_yes``.
    """

    kind: str
    label: Text
    variable: str
    combine: str
    rule: Text
    population: Mapping[str, str] = field(default_factory=dict)
    arm: str = ""
    treatment: str = "treatment"
    yes: str = ""
    p_truth: float | None = None
    p_forced_yes: float | None = None


@dataclass(frozen=True)
class Claim:
    id: str
    paraphrase: Text
    citation: Mapping[str, str]
    comparability: Text
    statistic: Statistic | None
    supplementary: tuple[Statistic, ...] = ()
    indirect: Indirect | None = None
    references: tuple[Reference, ...] = ()


@dataclass(frozen=True)
class Breakdown:
    """A categorical variable every share claim is broken down by, with an optional heading."""

    variable: str
    label: Text = field(default_factory=dict)


@dataclass(frozen=True)
class Registry:
    """A whole registry; iterating over it yields its claims."""

    source: str
    claims: tuple[Claim, ...]
    title: Text = field(default_factory=dict)
    language: str = "en"
    breakdowns: tuple[Breakdown, ...] = ()

    def __iter__(self) -> Iterator[Claim]:
        return iter(self.claims)

    def __len__(self) -> int:
        return len(self.claims)

    @property
    def languages(self) -> list[str]:
        """Every language some text of the registry is given in, its own language first."""
        found = {self.language}
        for claim in self.claims:
            found |= set(claim.paraphrase)
        return [self.language, *sorted(found - {self.language})]


# --- reading ----------------------------------------------------------------------------------

_TYPE_NAMES = {
    str: gettext_noop("text"),
    int: gettext_noop("a whole number"),
    float: gettext_noop("a number"),
    list: gettext_noop("a list"),
    dict: gettext_noop("a table"),
}
TOP_FIELDS = ("source", "title", "language", "breakdowns", "claims")
CLAIM_FIELDS = (
    "id",
    "paraphrase",
    "citation",
    "comparability",
    "statistic",
    "references",
    "supplementary",
    "indirect",
)
STATISTIC_FIELDS = (
    "kind",
    "label",
    "variable",
    "levels",
    "population",
    "first",
    "second",
    "direction",
    "threshold",
    "rule",
)
SUPPLEMENTARY_FIELDS = (
    "kind",
    "label",
    "variable",
    "levels",
    "population",
    "first",
    "second",
    "references",
)
REFERENCE_FIELDS = ("source", "tag", "year", "value", "n", "sample", "mode", "note", "label")
INDIRECT_FIELDS = (
    "kind",
    "label",
    "variable",
    "arm",
    "treatment",
    "population",
    "yes",
    "p_truth",
    "p_forced_yes",
    "combine",
    "rule",
)
CITATION_FIELDS = ("article", "part", "url")


class _Reader:
    """Reads one claim's tables, noting every problem instead of stopping at the first."""

    def __init__(self, claim: str, language: str, problems: list[Problem]) -> None:
        self.claim, self.language, self.problems = claim, language, problems

    def problem(self, path: str, message: str, **params: Any) -> None:
        self.problems.append(Problem(self.claim, path, message, params))

    def fields(self, data: dict, allowed: tuple[str, ...], prefix: str) -> None:
        for name in data:
            if name not in allowed:
                self.problem(f"{prefix}{name}", E_UNKNOWN_FIELD, allowed=", ".join(allowed))

    def value(self, data: dict, name: str, kind: type, path: str, *, required: bool = False) -> Any:
        if name not in data:
            if required:
                self.problem(path, E_MISSING)
            return None
        value = data[name]
        numeric = kind is float and isinstance(value, int | float) and not isinstance(value, bool)
        if not numeric and not (isinstance(value, kind) and not isinstance(value, bool)):
            self.problem(path, E_TYPE, expected=_TYPE_NAMES[kind])
            return None
        if kind is str and required and not value.strip():
            self.problem(path, E_EMPTY)
            return None
        return float(value) if kind is float else value

    def text(self, data: dict, name: str, path: str, *, required: bool = False) -> dict[str, str]:
        """A text: a string (in the registry's language) or a table of language code -> string."""
        if name not in data:
            if required:
                self.problem(path, E_MISSING)
            return {}
        value = data[name]
        if isinstance(value, str) and value.strip():
            return {self.language: value}
        if (
            isinstance(value, dict)
            and value
            and all(isinstance(v, str) and v.strip() for v in value.values())
        ):
            return dict(value)
        self.problem(path, E_TYPE, expected=gettext_noop("text, or a table of language code = text"))
        return {}

    def choice(self, data: dict, name: str, choices: tuple[str, ...], path: str, **kw: Any) -> str:
        value = self.value(data, name, str, path, **kw)
        if value is not None and value not in choices:
            self.problem(path, E_ONE_OF, value=value, choices=", ".join(choices))
            return ""
        return value or ""

    def codes(self, data: dict, name: str, path: str) -> tuple[str, ...]:
        values = self.value(data, name, list, path)
        if values is None:
            return ()
        if not all(isinstance(v, str) and v for v in values):
            self.problem(path, E_TYPE, expected=gettext_noop("a list of choice codes"))
            return ()
        return tuple(values)

    def population(self, data: dict, path: str) -> dict[str, str]:
        table = self.value(data, "population", dict, path)
        if table is None:
            return {}
        if not all(isinstance(v, str | int) and not isinstance(v, bool) for v in table.values()):
            self.problem(path, E_TYPE, expected=gettext_noop("a table of variable = code"))
            return {}
        return {str(k): str(v) for k, v in table.items()}

    def share(self, data: dict, name: str, path: str, low: float, high: float) -> float | None:
        value = self.value(data, name, float, path)
        if value is not None and not low <= value <= high:
            self.problem(path, E_SHARE, low=low, high=high)
            return None
        return value

    def positive(self, data: dict, name: str, path: str) -> int | None:
        value = self.value(data, name, int, path)
        if value is not None and value < 1:
            self.problem(path, E_POSITIVE)
            return None
        return value


def _tables(reader: _Reader, data: dict, name: str, path: str) -> list[tuple[str, dict]]:
    """The tables of an array of tables, each with its path (``references[2]``)."""
    items = reader.value(data, name, list, path)
    if items is None:
        return []
    tables = []
    for index, item in enumerate(items, start=1):
        if isinstance(item, dict):
            tables.append((f"{path}[{index}]", item))
        else:
            reader.problem(f"{path}[{index}]", E_TYPE, expected=_TYPE_NAMES[dict])
    return tables


def _reference(reader: _Reader, data: dict, path: str) -> Reference:
    reader.fields(data, REFERENCE_FIELDS, f"{path}.")
    tag = reader.choice(data, "tag", tuple(TAGS), f"{path}.tag", required=True)
    return Reference(
        source=reader.value(data, "source", str, f"{path}.source", required=True) or "",
        tag=tag,
        year=reader.positive(data, "year", f"{path}.year"),
        value=reader.share(data, "value", f"{path}.value", -1.0, 1.0),
        n=reader.positive(data, "n", f"{path}.n"),
        sample=reader.text(data, "sample", f"{path}.sample"),
        mode=reader.text(data, "mode", f"{path}.mode"),
        note=reader.text(data, "note", f"{path}.note"),
        label=reader.value(data, "label", str, f"{path}.label") or "",
    )


def _statistic(
    reader: _Reader, data: dict, path: str, references: list[tuple[str, dict]], *, judged: bool
) -> Statistic:
    allowed = STATISTIC_FIELDS if judged else SUPPLEMENTARY_FIELDS
    reader.fields(data, allowed, f"{path}.")
    kind = reader.choice(data, "kind", KINDS, f"{path}.kind", required=True)
    levels = reader.codes(data, "levels", f"{path}.levels")
    if kind and "levels" not in data:
        reader.problem(f"{path}.levels", E_MISSING)
    elif kind and data["levels"] == []:
        reader.problem(f"{path}.levels", E_EMPTY)
    first = reader.value(data, "first", str, f"{path}.first") or ""
    second = reader.value(data, "second", str, f"{path}.second") or ""
    if kind == "difference" and not (first and second):
        reader.problem(f"{path}.first", E_NEEDS_SAMPLES)
    elif kind == "difference" and first == second:
        reader.problem(f"{path}.second", E_SAME_SAMPLES)
    direction, threshold, rule = "", None, {}
    if judged:
        direction = reader.choice(data, "direction", DIRECTIONS, f"{path}.direction", required=True)
        low = -1.0 if kind == "difference" else 0.0
        if "threshold" not in data:
            reader.problem(f"{path}.threshold", E_MISSING)
        threshold = reader.share(data, "threshold", f"{path}.threshold", low, 1.0)
        rule = reader.text(data, "rule", f"{path}.rule", required=True)
    return Statistic(
        kind=kind,
        label=reader.text(data, "label", f"{path}.label", required=True),
        variable=reader.value(data, "variable", str, f"{path}.variable", required=True) or "",
        levels=levels,
        population=reader.population(data, f"{path}.population"),
        first=first,
        second=second,
        direction=direction,
        threshold=threshold,
        rule=rule,
        references=tuple(_reference(reader, r, p) for p, r in references),
    )


def _indirect(reader: _Reader, data: dict, statistic: Statistic | None) -> Indirect:
    path = "indirect"
    reader.fields(data, INDIRECT_FIELDS, "indirect.")
    kind = reader.choice(data, "kind", INDIRECT_KINDS, f"{path}.kind", required=True)
    if statistic is not None and statistic.kind and statistic.kind != "share":
        reader.problem(f"{path}.kind", E_INDIRECT_NEEDS_SHARE)
    variable = reader.value(data, "variable", str, f"{path}.variable", required=True) or ""
    rr = kind == "randomized_response"
    # A design left out is the questionnaire's (check_registry, with_questionnaire_designs).
    p_truth = reader.share(data, "p_truth", f"{path}.p_truth", 0.0, 1.0)
    p_forced = reader.share(data, "p_forced_yes", f"{path}.p_forced_yes", 0.0, 1.0)
    if rr:
        if p_truth is not None and p_truth <= 0:
            reader.problem(f"{path}.p_truth", E_SHARE, low="0 (exclusive)", high=1)
        if p_truth is not None and p_forced is not None and p_truth + p_forced > 1:
            reader.problem(f"{path}.p_forced_yes", E_RR_PROBABILITIES)
    population = reader.population(data, f"{path}.population")
    return Indirect(
        kind=kind,
        label=reader.text(data, "label", f"{path}.label", required=True),
        variable=variable,
        combine=reader.choice(data, "combine", COMBINE_RULES, f"{path}.combine", required=True),
        rule=reader.text(data, "rule", f"{path}.rule", required=True),
        population=population if "population" in data else dict(statistic.population if statistic else {}),
        arm=(reader.value(data, "arm", str, f"{path}.arm") or schema.arm_column(variable))
        if kind == "list_experiment"
        else "",
        treatment=reader.value(data, "treatment", str, f"{path}.treatment") or "treatment",
        yes=(reader.value(data, "yes", str, f"{path}.yes") or "") if rr else "",
        p_truth=p_truth if rr else None,
        p_forced_yes=p_forced if rr else None,
    )


def _claim(reader: _Reader, data: dict) -> Claim:
    reader.fields(data, CLAIM_FIELDS, "")
    citation = reader.value(data, "citation", dict, "citation", required=True) or {}
    if citation:
        reader.fields(citation, CITATION_FIELDS, "citation.")
        reader.value(citation, "article", str, "citation.article", required=True)
        for name in ("part", "url"):
            reader.value(citation, name, str, f"citation.{name}")
    references = _tables(reader, data, "references", "references")
    statistic_data = reader.value(data, "statistic", dict, "statistic")
    statistic = (
        _statistic(reader, statistic_data, "statistic", references, judged=True)
        if statistic_data is not None
        else None
    )
    supplementary = []
    for path, item in _tables(reader, data, "supplementary", "supplementary"):
        refs = _tables(reader, item, "references", f"{path}.references")
        supplementary.append(_statistic(reader, item, path, refs, judged=False))
    indirect_data = reader.value(data, "indirect", dict, "indirect")
    return Claim(
        id=reader.claim,
        paraphrase=reader.text(data, "paraphrase", "paraphrase", required=True),
        citation={str(k): str(v) for k, v in citation.items()},
        comparability=reader.text(data, "comparability", "comparability", required=True),
        statistic=statistic,
        supplementary=tuple(supplementary),
        indirect=_indirect(reader, indirect_data, statistic) if indirect_data is not None else None,
        references=statistic.references
        if statistic
        else tuple(_reference(reader, r, p) for p, r in references),
    )


def _breakdowns(reader: _Reader, document: dict) -> tuple[Breakdown, ...]:
    items = reader.value(document, "breakdowns", list, "breakdowns")
    found = []
    for index, item in enumerate(items or [], start=1):
        path = f"breakdowns[{index}]"
        if isinstance(item, str) and item:
            found.append(Breakdown(item))
        elif isinstance(item, dict):
            reader.fields(item, ("variable", "label"), f"{path}.")
            variable = reader.value(item, "variable", str, f"{path}.variable", required=True)
            if variable:
                found.append(Breakdown(variable, reader.text(item, "label", f"{path}.label")))
        else:
            reader.problem(path, E_TYPE, expected=gettext_noop("a variable name or a table"))
    return tuple(found)


def parse_registry(text: str | bytes) -> Registry:
    """Read a registry from its TOML text; raises :class:`RegistryError` listing every problem."""
    registry, problems = read_registry(text)
    if problems:
        raise RegistryError(problems)
    assert registry is not None  # a registry is read whenever there is no problem
    return registry


def read_registry(text: str | bytes) -> tuple[Registry | None, list[Problem]]:
    """A registry's TOML text read as far as it goes and every problem found.

    The registry (None when the text is no TOML document) holds every claim as far as it could be
    read — a field with a problem left empty — so that a caller checks them all against a
    questionnaire (:func:`check_registry`) and lists every problem at once; with any problem it
    is for checking only, never for judging (:func:`parse_registry` refuses it)."""
    try:
        return _read(text)
    except RegistryError as error:  # the file itself cannot be read
        return None, error.problems


def _read(text: str | bytes) -> tuple[Registry, list[Problem]]:
    if len(text) > MAX_BYTES:
        raise RegistryError([Problem(FILE, "registry", E_TOO_LARGE, {"limit": MAX_BYTES})])
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise RegistryError([Problem(FILE, "registry", E_NOT_TEXT)]) from None
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise RegistryError([Problem(FILE, "registry", E_NOT_TOML, {"error": str(error)})]) from error
    except RecursionError:  # tomllib reads nested arrays and tables recursively
        raise RegistryError([Problem(FILE, "registry", E_TOO_DEEP)]) from None
    problems: list[Problem] = []
    top = _Reader(FILE, "en", problems)
    top.fields(document, TOP_FIELDS, "")
    language = top.value(document, "language", str, "language") or "en"
    top.language = language
    source = top.value(document, "source", str, "source", required=True) or ""
    title = top.text(document, "title", "title")
    breakdowns = _breakdowns(top, document)
    claims, seen = [], set()
    for index, (_path, table) in enumerate(_tables(top, document, "claims", "claims"), start=1):
        claim_id = table.get("id") if isinstance(table.get("id"), str) else ""
        reader = _Reader(claim_id or f"#{index}", language, problems)
        if not claim_id:
            reader.problem("id", E_MISSING)
        elif not ID_PATTERN.match(claim_id):
            reader.problem("id", E_ID)
        elif claim_id in seen:
            reader.problem("id", E_DUPLICATE_ID, value=claim_id)
        seen.add(claim_id)
        # Kept as far as it was read, problems and all: its questionnaire check still runs, so
        # every problem of the file is listed in one round (a registry with any problem is refused).
        claims.append(_claim(reader, table))
    claimed = any(p.claim == FILE and p.field == "claims" for p in problems)
    if not claims and not claimed and not any(p.claim != FILE for p in problems):
        problems.append(Problem(FILE, "claims", E_NO_CLAIMS))
    registry = Registry(
        source=source, claims=tuple(claims), title=title, language=language, breakdowns=breakdowns
    )
    return registry, problems


def load_registry(path: Path | str = REGISTRY) -> Registry:
    """Read and check the registry file at ``path`` (default: the Hawkins registry shipped with Candid)."""
    with open(path, "rb") as file:
        return parse_registry(file.read(MAX_BYTES + 1))  # no further: over the limit is refused


# --- checking against a questionnaire ---------------------------------------------------------


def check_registry(
    registry: Registry,
    codebook: Codebook,
    samples: Collection[str],
    parameters: Mapping[str, Mapping[str, str]] | None = None,
) -> list[Problem]:
    """Problems of ``registry`` on a study: every variable, choice code, sample and population it
    names must exist in the study's questionnaire (``codebook``) and samples, and each indirect
    measure's design must be the one the questionnaire declares in its questions' XLSForm
    ``parameters`` (:func:`with_questionnaire_designs`). Empty when it fits.

    ``registry`` may be one :func:`read_registry` read with problems: a field left empty by its
    own problem is not checked again."""
    variables = {v.name: v for v in codebook.variables}
    registry, problems = with_questionnaire_designs(registry, codebook, parameters or {})
    for index, breakdown in enumerate(registry.breakdowns, start=1):
        _check_coded(problems, FILE, f"breakdowns[{index}]", breakdown.variable, variables)
    for claim in registry.claims:
        statistics = [("statistic", claim.statistic)] if claim.statistic else []
        statistics += [(f"supplementary[{i}]", s) for i, s in enumerate(claim.supplementary, start=1)]
        for path, statistic in statistics:
            _check_statistic(problems, claim.id, path, statistic, variables, samples)
        if claim.indirect:
            _check_indirect(problems, claim.id, claim.indirect, variables, samples)
    return problems


def _check_coded(
    problems: list[Problem],
    claim: str,
    path: str,
    name: str,
    variables: dict,
    levels: tuple[str, ...] = (),
    level_path: str = "",
) -> None:
    """``name`` must be a coded variable of the questionnaire, and ``levels`` codes of it."""
    variable = variables.get(name)
    if variable is None or variable.kind == "meta":
        problems.append(Problem(claim, path, E_NO_VARIABLE, {"value": name}))
        return
    if variable.kind not in CODED_KINDS:
        problems.append(Problem(claim, path, E_NOT_CODED, {"value": name, "kind": variable.kind}))
        return
    for index, level in enumerate(levels, start=1):
        if level not in variable.value_labels:
            problems.append(
                Problem(
                    claim,
                    level_path or f"{path.rsplit('.', 1)[0]}.levels[{index}]",
                    E_NO_LEVEL,
                    {"value": level, "variable": name, "choices": ", ".join(variable.value_labels)},
                )
            )


def _check_population(
    problems: list[Problem],
    claim: str,
    path: str,
    population: Mapping[str, str],
    variables: dict,
    samples: Collection[str],
) -> None:
    for name, code in population.items():
        where = f"{path}.population.{name}"
        if name == schema.SAMPLE:
            if code not in samples:
                problems.append(
                    Problem(claim, where, E_NO_SAMPLE, {"value": code, "choices": ", ".join(sorted(samples))})
                )
            continue
        variable = variables.get(name)
        if variable is None or variable.kind == "meta":
            problems.append(Problem(claim, where, E_NO_VARIABLE, {"value": name}))
        elif code not in variable.value_labels:
            problems.append(
                Problem(
                    claim,
                    where,
                    E_NO_LEVEL,
                    {"value": code, "variable": name, "choices": ", ".join(variable.value_labels)},
                )
            )


def _check_statistic(
    problems: list[Problem],
    claim: str,
    path: str,
    statistic: Statistic,
    variables: dict,
    samples: Collection[str],
) -> None:
    if statistic.variable:  # else its schema problem is listed already
        _check_coded(problems, claim, f"{path}.variable", statistic.variable, variables, statistic.levels)
    _check_population(problems, claim, path, statistic.population, variables, samples)
    for name in ("first", "second"):
        value = getattr(statistic, name)
        if value and value not in samples:
            problems.append(
                Problem(
                    claim,
                    f"{path}.{name}",
                    E_NO_SAMPLE,
                    {"value": value, "choices": ", ".join(sorted(samples))},
                )
            )


def _check_indirect(
    problems: list[Problem], claim: str, indirect: Indirect, variables: dict, samples: Collection[str]
) -> None:
    _check_population(problems, claim, "indirect", indirect.population, variables, samples)
    if not indirect.variable:  # its schema problem is listed already
        return
    if indirect.kind == "randomized_response":
        _check_coded(
            problems,
            claim,
            "indirect.variable",
            indirect.variable,
            variables,
            (indirect.yes,) if indirect.yes else (),
            "indirect.yes",
        )
        return
    variable = variables.get(indirect.variable)
    if variable is None or variable.kind == "meta":
        problems.append(Problem(claim, "indirect.variable", E_NO_VARIABLE, {"value": indirect.variable}))
        return
    if indirect.kind != "list_experiment":  # a kind with a schema problem: its variable exists
        return
    if variable.kind != "count":
        problems.append(
            Problem(
                claim, "indirect.variable", E_NOT_COUNT, {"value": indirect.variable, "kind": variable.kind}
            )
        )
    arm = variables.get(indirect.arm)
    if arm is None or arm.kind != "arm":
        problems.append(Problem(claim, "indirect.arm", E_NOT_ARM, {"value": indirect.arm}))
    elif indirect.treatment not in arm.value_labels:
        problems.append(
            Problem(
                claim,
                "indirect.treatment",
                E_NO_LEVEL,
                {
                    "value": indirect.treatment,
                    "variable": indirect.arm,
                    "choices": ", ".join(arm.value_labels),
                },
            )
        )


# --- the design of indirect measures: the questionnaire's ---------------------------------------


def with_questionnaire_designs(
    registry: Registry, codebook: Codebook, parameters: Mapping[str, Mapping[str, str]]
) -> tuple[Registry, list[Problem]]:
    """``registry`` with each randomised-response design field it leaves out (``yes``,
    ``p_truth``, ``p_forced_yes``) taken from the questionnaire, and the problems where the two
    disagree.

    ``parameters`` are the questions' XLSForm parameters (``analysis.results.parameters_by_question``):
    the results page estimates a randomised-response item with the design its question declares
    (``sensitive.declared_forced_response``) and sets an indirect item beside the direct question
    it declares (``sensitive.declared_direct``). A registry judging the same item another way would
    give another figure for it, so each field it states must equal the questionnaire's: a design
    field (as a number, ``0.75`` and ``0.750`` agree), and the claim's direct statistic (its
    variable, and its levels as a set) where the questionnaire declares a direct question. A design
    field neither gives is a problem.
    """
    problems: list[Problem] = []
    claims = []
    for claim in registry.claims:
        indirect = claim.indirect
        if indirect is None or not indirect.variable:
            claims.append(claim)
            continue
        variable = codebook.variable(indirect.variable) if indirect.variable in codebook.names else None
        question = variable.question if variable is not None else indirect.variable
        declared = parameters.get(question, {})
        _check_direct(problems, claim, question, declared)
        if indirect.kind == "randomized_response":
            indirect = _designed(problems, claim.id, indirect, question, declared)
            claim = replace(claim, indirect=indirect)
        claims.append(claim)
    return replace(registry, claims=tuple(claims)), problems


def _designed(
    problems: list[Problem], claim: str, indirect: Indirect, question: str, declared: Mapping[str, str]
) -> Indirect:
    """A randomised-response measure with the design fields it leaves out taken from the
    questionnaire's (``declared``); a field stated otherwise, or given by neither, is a problem."""
    design = declared_forced_response(declared)
    stated = {name: getattr(indirect, name) for name in DESIGN_FIELDS}
    filled = dict(stated)
    for name, value in stated.items():
        where = f"indirect.{name}"
        own = getattr(design, name) if design is not None else None
        if value in (None, ""):
            if own is None:
                problems.append(Problem(claim, where, E_NO_DESIGN, {"variable": indirect.variable}))
            filled[name] = own if own is not None else value
        elif own is not None and value != own:
            shown = (
                {"value": repr(value), "declared": repr(own)}
                if name == "yes"
                else {
                    "value": f"{value:g}",
                    "declared": f"{own:g}",
                }
            )
            problems.append(Problem(claim, where, E_DESIGN_DIFFERS, {**shown, "question": question}))
    return replace(indirect, **filled)


def _check_direct(problems: list[Problem], claim: Claim, question: str, declared: Mapping[str, str]) -> None:
    """The claim's direct statistic must be the direct question (and answers) the questionnaire
    sets the indirect item beside, where it declares one."""
    direct = declared_direct(declared)
    statistic = claim.statistic
    if direct is None or statistic is None or statistic.kind != "share" or not statistic.variable:
        return
    name, levels = direct
    if statistic.variable != name:
        problems.append(
            Problem(
                claim.id,
                "statistic.variable",
                E_DIRECT_DIFFERS,
                {"value": repr(statistic.variable), "declared": repr(name), "question": question},
            )
        )
    elif statistic.levels and set(statistic.levels) != set(levels):
        problems.append(
            Problem(
                claim.id,
                "statistic.levels",
                E_DIRECT_DIFFERS,
                {
                    "value": ", ".join(statistic.levels),
                    "declared": f"{name} = {', '.join(levels)}",
                    "question": question,
                },
            )
        )
