"""The claims registry and its verdicts: published claims judged against survey estimates.

The registry (``analysis/claims/*.toml``) holds each claim's paraphrase and citation, how the survey
measures it, the reference figures with their tags, and the rule of its verdict. This module is
generic: it validates the registry (refusing a malformed one with the claim id and field), estimates
each statistic on the survey design, sets it beside every reference figure, and applies the rule.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from . import schema
from .codebook import Codebook
from .compare import difference
from .design import SurveyDesign, with_data
from .estimates import proportion
from .sensitive import compare_list_with_direct
from .suppression import suppress_estimates

REGISTRY = Path(__file__).parent / "claims" / "hawkins_2017.toml"
TAGS = ("C", "S", "U", "3P")
KINDS = ("share", "difference", "list_experiment")
SUPPORTED, CONTRADICTED, INCONCLUSIVE, NOT_MEASURED = (
    "supported",
    "contradicted",
    "inconclusive",
    "not measured",
)
SUPPRESSED = "suppressed"


class RegistryError(ValueError):
    """A malformed registry: says which claim and which field."""

    def __init__(self, claim: str, field_name: str, problem: str) -> None:
        super().__init__(f"claim {claim!r}, field {field_name!r}: {problem}")
        self.claim, self.field, self.problem = claim, field_name, problem


@dataclass(frozen=True)
class Reference:
    source: str
    tag: str
    year: int | None = None
    value: float | None = None
    n: int | None = None
    sample: str = ""
    mode: str = ""
    note: str = ""


@dataclass(frozen=True)
class Statistic:
    kind: str
    label: str
    variable: str
    levels: tuple[str, ...] = ()
    population: dict[str, str] = field(default_factory=dict)
    first: str = ""
    second: str = ""
    arm: str = ""
    direction: str = ""
    threshold: float | None = None
    rule: str = ""
    references: tuple[Reference, ...] = ()


@dataclass(frozen=True)
class Claim:
    id: str
    paraphrase: str
    citation: dict[str, str]
    comparability: str
    statistic: Statistic
    supplementary: tuple[Statistic, ...] = ()
    list_experiment: dict[str, Any] = field(default_factory=dict)


def _require(claim: str, data: dict, name: str, kind: type | tuple[type, ...]) -> Any:
    if name not in data:
        raise RegistryError(claim, name, "is missing")
    if not isinstance(data[name], kind):
        raise RegistryError(
            claim,
            name,
            f"must be {kind.__name__ if isinstance(kind, type) else ' or '.join(k.__name__ for k in kind)}",
        )
    return data[name]


def _reference(claim: str, data: dict) -> Reference:
    source = _require(claim, data, "source", str)
    tag = _require(claim, data, "tag", str)
    if tag not in TAGS:
        raise RegistryError(claim, "references.tag", f"{tag!r} is not one of {', '.join(TAGS)}")
    value = data.get("value")
    if value is not None and (not isinstance(value, int | float) or not -1 <= value <= 1):
        raise RegistryError(
            claim, "references.value", "must be a share between -1 and 1 (or absent for counts)"
        )
    unknown = set(data) - {"source", "tag", "year", "value", "n", "sample", "mode", "note"}
    if unknown:
        raise RegistryError(claim, f"references.{sorted(unknown)[0]}", "is not a reference field")
    return Reference(
        source=source,
        tag=tag,
        year=data.get("year"),
        value=value,
        n=data.get("n"),
        sample=data.get("sample", ""),
        mode=data.get("mode", ""),
        note=data.get("note", ""),
    )


def _statistic(claim: str, data: dict, *, judged: bool) -> Statistic:
    kind = _require(claim, data, "kind", str)
    if kind not in KINDS:
        raise RegistryError(claim, "statistic.kind", f"{kind!r} is not one of {', '.join(KINDS)}")
    variable = _require(claim, data, "variable", str)
    levels = tuple(data.get("levels", ()))
    if kind in {"share", "difference"} and not levels:
        raise RegistryError(claim, "statistic.levels", f"a {kind} needs the levels that count")
    if kind == "difference" and not (data.get("first") and data.get("second")):
        raise RegistryError(claim, "statistic.first", "a difference needs the samples first and second")
    direction, threshold = data.get("direction", ""), data.get("threshold")
    if judged:
        if direction not in {">", "<"}:
            raise RegistryError(claim, "statistic.direction", "must be '>' or '<'")
        if not isinstance(threshold, int | float):
            raise RegistryError(claim, "statistic.threshold", "must be a number")
        _require(claim, data, "rule", str)
    return Statistic(
        kind=kind,
        label=_require(claim, data, "label", str),
        variable=variable,
        levels=levels,
        population=dict(data.get("population", {})),
        first=data.get("first", ""),
        second=data.get("second", ""),
        arm=data.get("arm", ""),
        direction=direction,
        threshold=float(threshold) if threshold is not None else None,
        rule=data.get("rule", ""),
        references=tuple(_reference(claim, r) for r in data.get("references", ())),
    )


def load_registry(path: Path | str = REGISTRY) -> list[Claim]:
    """Read and validate a claims registry; raises :class:`RegistryError` naming the claim and field."""
    try:
        document = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise RegistryError("(file)", str(path), f"is not valid TOML: {error}") from error
    claims, seen = [], set()
    for index, data in enumerate(document.get("claims", [])):
        claim_id = data.get("id") or f"#{index + 1}"
        if claim_id in seen:
            raise RegistryError(claim_id, "id", "is used twice")
        seen.add(claim_id)
        for name in ("paraphrase", "comparability"):
            _require(claim_id, data, name, str)
        citation = _require(claim_id, data, "citation", dict)
        if "article" not in citation:
            raise RegistryError(claim_id, "citation.article", "is missing")
        primary = dict(_require(claim_id, data, "statistic", dict))
        primary["references"] = data.get("references", [])
        claims.append(
            Claim(
                id=claim_id,
                paraphrase=data["paraphrase"],
                citation=citation,
                comparability=data["comparability"],
                statistic=_statistic(claim_id, primary, judged=True),
                supplementary=tuple(
                    _statistic(claim_id, s, judged=False) for s in data.get("supplementary", [])
                ),
                list_experiment=dict(data.get("list_experiment", {})),
            )
        )
    if not claims:
        raise RegistryError("(file)", "claims", "the registry has no claims")
    return claims


# --- estimation -----------------------------------------------------------------------------


def _as_text(values: pd.Series) -> pd.Series:
    """Values compared as text (codes in the registry are text); text columns are used as they are."""
    return values if pd.api.types.is_string_dtype(values) and values.dtype != object else values.astype(str)


def _in_population(data: pd.DataFrame, population: dict[str, str]) -> pd.Series:
    mask = pd.Series(True, index=data.index)
    for column, value in population.items():
        mask &= (_as_text(data[column]) == str(value)).fillna(False).astype(bool)
    return mask


def measured(statistic: Statistic, codebook: Codebook) -> bool:
    names = set(codebook.names)
    return statistic.variable in names and all(column in names for column in statistic.population)


def estimate_share(design: SurveyDesign, statistic: Statistic, *, by: str | None = None) -> pd.DataFrame:
    """Share answering one of ``levels`` within the population (and per ``by`` group), on the full design."""
    data = design.data
    values = data[statistic.variable]
    answered = values.notna().to_numpy()
    chosen = values.isin(statistic.levels).fillna(False).to_numpy(dtype=bool)
    # Categoricals built from codes: no per-row strings to make (this runs for every panel).
    hit = pd.Categorical.from_codes(np.where(answered, chosen.astype(np.int8), -1), ["no", "yes"])
    inside = _in_population(data, statistic.population).to_numpy()
    if by:
        codes, groups = pd.factorize(_as_text(data[by]), sort=True)
        domain = pd.Categorical.from_codes(np.where(inside, codes, -1), groups)
    else:
        domain = pd.Categorical.from_codes(np.where(inside, 0, -1), ["all"])
    frame = data.assign(_hit=pd.Series(hit, index=data.index), _domain=pd.Series(domain, index=data.index))
    result = proportion(with_data(design, frame), "_hit", by="_domain", method="logit")
    yes = (
        result[result["level"] == "yes"]
        .rename(columns={"_domain": "group"})
        .drop(columns=["variable", "level"])
    )
    return yes.reset_index(drop=True)


def _verdict(statistic: Statistic, low: float, high: float) -> str:
    if np.isnan(low) or np.isnan(high):
        return INCONCLUSIVE
    above = low > statistic.threshold
    below = high < statistic.threshold
    if statistic.direction == ">":
        return SUPPORTED if above else CONTRADICTED if below else INCONCLUSIVE
    return SUPPORTED if below else CONTRADICTED if above else INCONCLUSIVE


def _compare(estimate: float, se: float, reference: Reference, z: float) -> dict[str, Any]:
    """Difference to a reference figure; with a reference n its sampling error enters too (SRS approximation)."""
    entry = {
        "source": reference.source,
        "tag": reference.tag,
        "year": reference.year,
        "value": reference.value,
        "n": reference.n,
        "sample": reference.sample,
        "mode": reference.mode,
        "note": reference.note,
    }
    if reference.value is None or np.isnan(estimate):
        return {**entry, "difference": None, "diff_ci_low": None, "diff_ci_high": None}
    ref_var = (
        reference.value * (1 - reference.value) / reference.n
        if reference.n and 0 <= reference.value <= 1
        else 0.0
    )
    diff = estimate - reference.value
    spread = z * float(np.sqrt(se**2 + ref_var))
    return {**entry, "difference": diff, "diff_ci_low": diff - spread, "diff_ci_high": diff + spread}


def _row_result(row: pd.Series | dict) -> dict[str, Any]:
    return {
        key: (None if pd.isna(row[key]) else float(row[key]))
        for key in ("estimate", "se", "ci_low", "ci_high")
    } | {"n": None if pd.isna(row["n"]) else int(row["n"])}


def evaluate_statistic(
    design: SurveyDesign, statistic: Statistic, codebook: Codebook, *, k: int = 10
) -> dict[str, Any]:
    """Estimate one statistic (suppressed under ``k`` respondents) with its references."""
    z = float(stats.norm.ppf(0.975))
    base = {
        "kind": statistic.kind,
        "label": statistic.label,
        "variable": statistic.variable,
        "levels": list(statistic.levels),
        "population": statistic.population,
        "direction": statistic.direction,
        "threshold": statistic.threshold,
        "rule": statistic.rule,
    }
    if not measured(statistic, codebook):
        return _unmeasured(base, [_compare(float("nan"), 0.0, r, z) for r in statistic.references])

    if statistic.kind == "difference":
        try:
            result = difference(
                design,
                statistic.variable,
                schema.SAMPLE,
                statistic.first,
                statistic.second,
                levels=list(statistic.levels),
            )
        except ValueError:
            return _unmeasured(base)
        n_small = min(result["n_first"], result["n_second"]) < k
        row = {
            "estimate": result["estimate"],
            "se": result["se"],
            "ci_low": result["ci_low"],
            "ci_high": result["ci_high"],
            "n": result["n_first"] + result["n_second"],
        }
        values = {
            **_row_result(row),
            "first": {
                "sample": statistic.first,
                "estimate": result["estimate_first"],
                "n": result["n_first"],
            },
            "second": {
                "sample": statistic.second,
                "estimate": result["estimate_second"],
                "n": result["n_second"],
            },
        }
        if n_small:
            values = {
                **values,
                "estimate": None,
                "se": None,
                "ci_low": None,
                "ci_high": None,
                SUPPRESSED: True,
            }
    else:
        frame = suppress_estimates(estimate_share(design, statistic), k=k)
        if frame.empty:
            return _unmeasured(base)
        values = {**_row_result(frame.iloc[0]), SUPPRESSED: bool(frame.iloc[0]["suppressed"])}
    estimate = values["estimate"] if values["estimate"] is not None else float("nan")
    return {
        **base,
        "measured": True,
        **values,
        "references": [_compare(estimate, values["se"] or 0.0, r, z) for r in statistic.references],
    }


def _unmeasured(base: dict[str, Any], references: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A statistic the data cannot give (the variable is absent, or nobody is in the population)."""
    return {
        **base,
        "measured": False,
        "estimate": None,
        "se": None,
        "ci_low": None,
        "ci_high": None,
        "n": 0,
        "references": references or [],
    }


def judge(claim: Claim, design: SurveyDesign, codebook: Codebook, *, k: int = 10) -> dict[str, Any]:
    """The claim's verdict with its estimate, references, supplementary statistics and list experiment."""
    primary = evaluate_statistic(design, claim.statistic, codebook, k=k)
    if not primary["measured"]:
        verdict = NOT_MEASURED
    elif primary.get(SUPPRESSED):
        verdict = INCONCLUSIVE
    else:
        verdict = _verdict(claim.statistic, primary["ci_low"], primary["ci_high"])
    result = {
        "id": claim.id,
        "paraphrase": claim.paraphrase,
        "citation": claim.citation,
        "comparability": claim.comparability,
        "verdict": verdict,
        "rule": claim.statistic.rule,
        "statistic": primary,
        "estimate": primary["estimate"],
        "ci_low": primary["ci_low"],
        "ci_high": primary["ci_high"],
        "n": primary["n"],
        "references": primary["references"],
        "supplementary": [evaluate_statistic(design, s, codebook, k=k) for s in claim.supplementary],
    }
    if claim.list_experiment:
        result["list_experiment"] = _list_experiment(claim.list_experiment, design, codebook, k=k)
    return result


def _list_experiment(
    spec: dict[str, Any], design: SurveyDesign, codebook: Codebook, *, k: int
) -> dict[str, Any] | None:
    names = set(codebook.names)
    if not {spec["variable"], spec["arm"], spec["direct_variable"]} <= names:
        return None
    inside = _in_population(design.data, spec.get("population", {}))
    data = design.data.assign(
        _count=design.data[spec["variable"]].where(inside),
        _arm=design.data[spec["arm"]].where(inside),
        _direct=design.data[spec["direct_variable"]].where(inside),
    )
    if data["_count"].notna().sum() < 2 * k:
        return {SUPPRESSED: True}
    result = compare_list_with_direct(
        with_data(design, data), "_count", "_arm", "_direct", list(spec["direct_levels"])
    )
    return {**result, "population": spec.get("population", {}), "n": int(data["_count"].notna().sum())}
