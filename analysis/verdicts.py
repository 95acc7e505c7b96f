"""Verdicts on claims: each measure judged by the registry's rule, then direct and indirect evidence combined.

A claim's direct measure (what respondents say when asked) is estimated on the full design with its
95% CI and judged against the registry's ``threshold`` and ``direction``: **supported** when the
whole interval lies on the claim's side, **contradicted** when it lies wholly on the other side,
**inconclusive** when it straddles the threshold (or the figure is withheld for disclosure control),
**not measured** when the data lack it. An indirect measure of the same attitude — a list
experiment (Blair & Imai 2012) or randomised response (Boruch 1971) — is judged by the same rule,
and the two are set side by side with their difference from one joint linearisation. The
registry's ``combine`` rule makes the claim's verdict:

``all``
    supported only when every available measure is supported, contradicted only when every one
    is contradicted, inconclusive otherwise;
``strict``
    as ``all``, and a significant direct–indirect difference also leaves the claim inconclusive,
    as does a comparison that could not be made (a measure withheld or missing);
``indirect``
    the indirect measure decides (the direct one is shown beside it); without it the claim is not
    judged.

Whatever the rule, a claim is never simply "supported" on the direct question when the indirect
interval is not wholly on the claim's side or the two differ significantly: the verdict carries
``reasons`` (``indirect_not_on_side``, ``measures_differ``...) and the report says what
respondents say and what the indirect measure shows.

The work runs in three steps so that disclosure control sees every figure of a report at once:
:func:`measure_claim` estimates (nothing released yet), :func:`release` decides which figures
may be shown, :func:`decide` judges on what was released.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from . import schema
from .claims import Claim, Indirect, Reference, Statistic
from .compare import difference
from .design import SurveyDesign, with_data
from .estimates import proportion
from .sensitive import compare_list_with_direct, compare_randomized_with_direct
from .suppression import disclose, fingerprints, round_count, union

SUPPORTED, CONTRADICTED, INCONCLUSIVE, NOT_MEASURED = (
    "supported",
    "contradicted",
    "inconclusive",
    "not measured",
)
VERDICTS = (SUPPORTED, CONTRADICTED, INCONCLUSIVE, NOT_MEASURED)
SUPPRESSED = "suppressed"
# Why a verdict is qualified (the report words them; the JSON keeps the codes).
NO_STATISTIC = "no_statistic"  # the registry gives no way to measure the claim
INDIRECT_NOT_ON_SIDE = "indirect_not_on_side"  # direct supported, indirect interval not wholly on its side
MEASURES_DIFFER = "measures_differ"  # direct and indirect differ significantly
INDIRECT_UNAVAILABLE = "indirect_unavailable"  # no indirect figure (not measured, or withheld)
DIRECT_UNAVAILABLE = "direct_unavailable"
NOT_COMPARED = "not_compared"  # the strict rule's comparison could not be made: not judged supported
LEVEL = 0.95
VALUES = ("estimate", "se", "ci_low", "ci_high")


# --- estimating -------------------------------------------------------------------------------


def _as_text(values: pd.Series) -> pd.Series:
    """Values compared as text (codes in the registry are text); text columns are used as they are."""
    return values if pd.api.types.is_string_dtype(values) and values.dtype != object else values.astype(str)


def in_population(data: pd.DataFrame, population: Mapping[str, str]) -> pd.Series:
    """Rows whose every ``population`` column holds the given code."""
    mask = pd.Series(True, index=data.index)
    for column, value in population.items():
        mask &= (_as_text(data[column]) == str(value)).fillna(False).astype(bool)
    return mask


def estimate_share(design: SurveyDesign, statistic: Statistic, *, by: str | None = None) -> pd.DataFrame:
    """Share answering one of ``levels`` within the population (and per ``by`` group), on the full design.

    Returns one row per group (``group``: the code; ``all`` without ``by``) with ``estimate, se,
    ci_low, ci_high, n, n_eff, deff`` and ``count`` (unweighted respondents answering one of the
    levels); logit intervals as R's ``svyciprop(method = "logit")``.
    """
    data = design.data
    values = data[statistic.variable]
    answered = values.notna().to_numpy()
    chosen = values.isin(statistic.levels).fillna(False).to_numpy(dtype=bool)
    # Categoricals built from codes: no per-row strings to make (this runs for every panel).
    hit = pd.Categorical.from_codes(np.where(answered, chosen.astype(np.int8), -1), ["no", "yes"])
    inside = in_population(data, statistic.population).to_numpy()
    if by:
        codes, groups = pd.factorize(_as_text(data[by]), sort=True)
        codes = np.where(inside & data[by].notna().to_numpy(), codes, -1)
    else:
        codes, groups = np.where(inside, 0, -1), pd.Index(["all"])
    domain = pd.Categorical.from_codes(codes, groups)
    frame = data.assign(_hit=pd.Series(hit, index=data.index), _domain=pd.Series(domain, index=data.index))
    result = proportion(with_data(design, frame), "_hit", by="_domain", method="logit")
    yes = (
        result[result["level"] == "yes"]
        .rename(columns={"_domain": "group"})
        .drop(columns=["variable", "level"])
        .reset_index(drop=True)
    )
    counted = np.bincount(codes[(codes >= 0) & answered & chosen], minlength=len(groups))
    index = {str(g): i for i, g in enumerate(groups)}
    yes["count"] = [int(counted[index[str(g)]]) for g in yes["group"]]
    return yes


def _number(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def _description(statistic: Statistic) -> dict[str, Any]:
    return {
        "kind": statistic.kind,
        "label": dict(statistic.label),
        "variable": statistic.variable,
        "levels": list(statistic.levels),
        "population": dict(statistic.population),
        "first": statistic.first,
        "second": statistic.second,
        "direction": statistic.direction,
        "threshold": statistic.threshold,
        "rule": dict(statistic.rule),
    }


def _unmeasured(base: dict[str, Any]) -> dict[str, Any]:
    return {**base, **dict.fromkeys(VALUES), "n": 0, "measured": False, SUPPRESSED: False}


def _share_row(row: pd.Series | Mapping[str, Any]) -> dict[str, Any]:
    return {
        **{key: _number(row[key]) for key in VALUES},
        "n": int(row["n"]),
        "count": int(row["count"]),
    }


def measure_statistic(design: SurveyDesign, statistic: Statistic) -> dict[str, Any]:
    """A direct measure's estimate, interval, n and unweighted count (before disclosure control)."""
    base = _description(statistic)
    columns = {statistic.variable, *statistic.population}
    if statistic.kind == "difference":
        columns.add(schema.SAMPLE)
    if not columns <= set(design.data.columns):
        return _unmeasured(base)
    if statistic.kind == "difference":
        return _measure_difference(design, statistic, base)
    frame = estimate_share(design, statistic)
    if frame.empty or int(frame.iloc[0]["n"]) == 0:
        return _unmeasured(base)
    return {**base, **_share_row(frame.iloc[0]), "measured": True, SUPPRESSED: False}


def _measure_difference(design: SurveyDesign, statistic: Statistic, base: dict[str, Any]) -> dict[str, Any]:
    try:
        found = difference(
            design,
            statistic.variable,
            schema.SAMPLE,
            statistic.first,
            statistic.second,
            levels=list(statistic.levels),
        )
    except ValueError:  # a sample without respondents
        return _unmeasured(base)
    values = design.data[statistic.variable]
    hits = values.isin(statistic.levels).to_numpy() & values.notna().to_numpy()
    samples = _as_text(design.data[schema.SAMPLE]).to_numpy()
    return {
        **base,
        **{key: float(found[key]) for key in VALUES},
        "n": found["n_first"] + found["n_second"],
        "measured": True,
        SUPPRESSED: False,
        "samples": [
            {
                "sample": getattr(statistic, name),
                "estimate": float(found[f"estimate_{name}"]),
                "n": int(found[f"n_{name}"]),
                "count": int((hits & (samples == getattr(statistic, name))).sum()),
            }
            for name in ("first", "second")
        ],
    }


def measure_indirect(
    design: SurveyDesign, statistic: Statistic, indirect: Indirect
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The indirect measure and its difference from the direct one (before disclosure control).

    The difference is indirect minus direct, in the indirect measure's population, from one joint
    linearisation (``sensitive.compare_*_with_direct``); ``significant`` when its 95% interval
    excludes 0, with the two-sided ``p_value`` of its t statistic on the design's df.
    """
    base = {
        "kind": indirect.kind,
        "label": dict(indirect.label),
        "variable": indirect.variable,
        "population": dict(indirect.population),
        "combine": indirect.combine,
        "rule": dict(indirect.rule),
    }
    columns = {indirect.variable, statistic.variable, *indirect.population}
    if indirect.kind == "list_experiment":
        columns.add(indirect.arm)
    if not columns <= set(design.data.columns):
        return _unmeasured(base), None
    inside = in_population(design.data, indirect.population)
    masked = design.data.assign(
        _indirect=design.data[indirect.variable].where(inside),
        _direct=design.data[statistic.variable].where(inside),
    )
    if indirect.kind == "list_experiment":
        masked["_arm"] = design.data[indirect.arm].where(inside)
        answered = (masked["_indirect"].notna() & masked["_arm"].notna()).to_numpy()
        treated = (masked["_arm"] == indirect.treatment).to_numpy()
        counts = {
            "n_treatment": int((answered & treated).sum()),
            "n_control": int((answered & ~treated).sum()),
        }
        if min(counts.values()) == 0:
            return _unmeasured(base), None
        found = compare_list_with_direct(
            with_data(design, masked),
            "_indirect",
            "_arm",
            "_direct",
            list(statistic.levels),
            treatment=indirect.treatment,
            level=LEVEL,
        )
        estimate = found["list"]
    else:
        answered = masked["_indirect"].notna().to_numpy()
        if not answered.any():
            return _unmeasured(base), None
        if indirect.p_truth is None or indirect.p_forced_yes is None:
            raise ValueError(
                "a randomised-response design left to the questionnaire is filled in first "
                "(claims.with_questionnaire_designs)"
            )
        found = compare_randomized_with_direct(
            with_data(design, masked),
            "_indirect",
            "_direct",
            list(statistic.levels),
            yes=indirect.yes,
            p_truth=float(indirect.p_truth),
            p_forced_yes=float(indirect.p_forced_yes),
            level=LEVEL,
        )
        estimate = found["randomized"]
        counts = {"observed_yes": estimate["observed_yes"]}
    measure = {
        **base,
        **{key: float(estimate[key]) for key in VALUES},
        "n": int(answered.sum()),
        **counts,
        "measured": True,
        SUPPRESSED: False,
    }
    gap = {key: float(found["difference"][key]) for key in VALUES}
    se = gap["se"]
    gap["p_value"] = float(2 * stats.t.sf(abs(gap["estimate"]) / se, max(design.df, 1))) if se > 0 else None
    undefined = np.isnan(gap["ci_low"]) or np.isnan(gap["ci_high"])
    gap["significant"] = None if undefined else bool(gap["ci_low"] > 0 or gap["ci_high"] < 0)
    gap[SUPPRESSED] = False
    return measure, gap


def measure_claim(claim: Claim, design: SurveyDesign) -> dict[str, Any]:
    """Every figure of one claim, estimated (nothing released or judged yet)."""
    found: dict[str, Any] = {
        "id": claim.id,
        "direct": measure_statistic(design, claim.statistic) if claim.statistic else None,
        "indirect": None,
        "difference": None,
        "supplementary": [measure_statistic(design, s) for s in claim.supplementary],
    }
    if claim.statistic is not None and claim.indirect is not None:
        found["indirect"], found["difference"] = measure_indirect(design, claim.statistic, claim.indirect)
    return found


# --- releasing --------------------------------------------------------------------------------


def _conditions(population: Mapping[str, str], group_variable: str = "", group: str = "") -> tuple:
    """Who a figure is about, as sorted (variable, code) pairs: the same respondents whatever the
    table (a tuple, so that a recorded identity reads back equal)."""
    found = {(str(k), str(v)) for k, v in population.items()}
    if group_variable:
        found.add((group_variable, str(group)))
    return tuple(sorted(found))


@dataclass(frozen=True)
class RespondentSets:
    """The rows a report's figures were estimated on and their fingerprint numbers
    (``suppression.row_keys`` of every response, these rows picked from them), so that a figure
    is identified by its set of respondents as the results page identifies its cells: the same
    respondents are one figure whichever release shows them."""

    data: pd.DataFrame
    keys: np.ndarray

    def share(self, measure: dict, group_variable: str, group: str) -> dict[str, Any]:
        """Identities of a share's "yes" and "no" cells and its base, and the answers each adds up
        (one set per answer code: the results page's cells of that question and group)."""
        values = self.data[measure["variable"]]
        inside = in_population(self.data, measure["population"]).to_numpy() & values.notna().to_numpy()
        if group_variable:
            inside &= (_as_text(self.data[group_variable]) == str(group)).fillna(False).to_numpy(dtype=bool)
        codes, uniques = pd.factorize(values)
        codes = np.where(inside, codes, -1)
        parts = fingerprints(self.keys, codes, len(uniques))
        chosen = pd.Index(uniques).isin(measure["levels"])
        yes = [("set", *p) for p, hit in zip(parts, chosen, strict=True) if hit and p[2]]
        no = [("set", *p) for p, hit in zip(parts, chosen, strict=True) if not hit and p[2]]
        return {
            "yes": ("set", *union([p[1:] for p in yes])) if yes else None,
            "no": ("set", *union([p[1:] for p in no])) if no else None,
            "base": ("set", *union([p[1:] for p in yes + no])) if yes or no else None,
            "yes_parts": yes,
            "no_parts": no,
        }


def _share_rows(
    figure: tuple, measure: dict, group_variable: str, group: str, share: dict, sets: RespondentSets | None
) -> list[dict]:
    """A share as its two cells: respondents answering one of the levels, and the rest.

    ``cell`` and ``base`` name the respondent sets: their fingerprints with ``sets`` (each cell
    with ``sum_of`` the answers it adds up), else (variable, levels, population and group). Either
    way a figure that appears in two places — a claim's share and the same sample in the panel by
    sample, or one item judged by two claims — is one figure to disclosure control.
    """
    where = _conditions(measure["population"], group_variable, group)
    base = ("answered", measure["variable"], where)
    levels = tuple(sorted(measure["levels"]))
    found = sets.share(measure, group_variable, group) if sets is not None else {}
    rows = []
    for level, count in (("yes", share["count"]), ("no", share["n"] - share["count"])):
        cell = found.get(level) or ("share", measure["variable"], levels, where, level)
        if sets is not None and not found.get(level):
            cell = ("empty", "share", measure["variable"], levels, where, level)
        parts = found.get(f"{level}_parts")
        rows.append(
            {
                "figure": figure,
                "variable": measure["variable"],
                "group_variable": group_variable,
                "group": group,
                "level": level,
                "count": count,
                "n": share["n"],
                "cell": cell,
                "base": found.get("base") or base,
                "sum_of": parts if parts and len(parts) > 1 else None,
            }
        )
    return rows


def _statistic_rows(figure: tuple, measure: dict, arm: str, n: int) -> list[dict]:
    key = ("arm", measure["variable"], arm, _conditions(measure["population"]))
    return [
        {
            "figure": figure,
            "variable": f"{measure['variable']}:{arm}",
            "group_variable": "",
            "group": "",
            "level": None,
            "count": n,
            "n": n,
            "cell": key,
            "base": key,
        }
    ]


def release_tables(
    claims: list[dict[str, Any]], sets: RespondentSets | None = None
) -> dict[str, pd.DataFrame]:
    """Every figure of the measured ``claims`` as the tidy count tables of ``analysis.suppression``.

    One table per measure: rows ``figure`` (where the figure sits in the claim), ``variable``,
    ``group_variable``, ``group``, ``level`` (``yes``/``no`` for a share; None for a statistic such
    as a list-experiment arm), ``count`` and ``n`` (unweighted respondents in the cell and group),
    ``cell`` and ``base`` (their respondent sets). A breakdown's groups sit in the table of the
    overall share they add up to. With ``sets``, identities are fingerprints of respondent sets
    (:class:`RespondentSets`) and a share's cells carry the answers they add up (``sum_of``).
    """
    tables: dict[str, list[dict]] = {}
    for claim in claims:
        cid = claim["id"]

        def add(name: str, rows: list[dict], cid: str = cid) -> None:
            tables.setdefault(f"{cid}/{name}", []).extend(rows)

        direct = claim["direct"]
        if direct and direct["measured"]:
            if direct["kind"] == "difference":
                for entry in direct["samples"]:
                    add(
                        "direct",
                        _share_rows(("direct",), direct, schema.SAMPLE, entry["sample"], entry, sets),
                    )
            else:
                add("direct", _share_rows(("direct",), direct, "", "", direct, sets))
            for by, panel in claim.get("subgroups", {}).items():
                for row in panel["rows"]:
                    add(
                        "direct",
                        _share_rows(("subgroups", by, row["group"]), direct, by, row["group"], row, sets),
                    )
            unfiltered = {**direct, "population": {}}
            for row in claim.get("samples", []):
                add(
                    "samples",
                    _share_rows(
                        ("samples", row["group"]), unfiltered, schema.SAMPLE, row["group"], row, sets
                    ),
                )
        indirect = claim["indirect"]
        if indirect and indirect["measured"]:
            arms = [("n_treatment", "treatment"), ("n_control", "control")]
            for key, arm in arms if "n_treatment" in indirect else [("n", "answered")]:
                add("indirect", _statistic_rows(("indirect",), indirect, arm, indirect[key]))
        for index, supplement in enumerate(claim["supplementary"]):
            if not supplement["measured"]:
                continue
            key = ("supplementary", index)
            if supplement["kind"] == "difference":  # its two samples' shares, as for the direct one
                for entry in supplement["samples"]:
                    add(
                        f"supplementary/{index}",
                        _share_rows(key, supplement, schema.SAMPLE, entry["sample"], entry, sets),
                    )
            else:
                add(f"supplementary/{index}", _share_rows(key, supplement, "", "", supplement, sets))
    return {name: pd.DataFrame(rows) for name, rows in tables.items()}


def disclose_tables(tables: dict[str, pd.DataFrame], *, k: int) -> dict[str, pd.DataFrame]:
    """The disclosure decision for every table of one release: ``analysis.suppression.disclose``
    (primary suppression under k, complementary suppression across all the tables, figures with the
    same respondents decided as one). Adds ``suppressed`` to each table; figures keep their precision
    here (verdicts are judged on them) and are rounded when published (:func:`rounded`)."""
    if not tables:
        return {}
    return dict(disclose(tables, k=k, rounding=False).tables)


def release(
    claims: list[dict[str, Any]],
    *,
    k: int,
    sets: RespondentSets | None = None,
    decide: Callable[[dict[str, pd.DataFrame]], dict[str, pd.DataFrame]] | None = None,
) -> list[dict[str, Any]]:
    """The claims report's one disclosure step: every figure it shows passes here, all at once.

    Returns the measured ``claims`` with every withheld figure's values set to None,
    ``suppressed`` True and ``suppression`` why: ``"primary"`` (fewer than k respondents) or
    ``"complementary"`` (hidden so that another figure cannot be worked out). A difference between
    two figures is withheld with either of them. ``sets`` identifies figures by their respondents (:class:`RespondentSets`); ``decide`` makes
    the decision on the tables (:func:`release_tables`) instead of :func:`disclose_tables` — a
    caller that holds other releases of the same data beside this one (``disclose(..., fixed=)``)
    — and returns them with ``suppressed``.
    """
    hidden: set[tuple[str, tuple]] = set()
    small: set[tuple[str, tuple]] = set()  # hidden for resting on fewer than k respondents
    tables = release_tables(claims, sets)
    decided = decide(tables) if decide is not None else disclose_tables(tables, k=k)
    for name, table in decided.items():
        claim_id = name.split("/", 1)[0]
        hidden |= {(claim_id, figure) for figure in table.loc[table["suppressed"], "figure"]}
        if "suppression" in table.columns:
            small |= {(claim_id, f) for f in table.loc[table["suppression"] == "primary", "figure"]}
    released = []
    for claim in claims:
        cid = claim["id"]

        def withheld(figure: dict | None, key: tuple, cid: str = cid) -> dict | None:
            if figure is None or (cid, key) not in hidden:
                return figure
            # Why: too few respondents itself, or hidden so that another figure cannot be worked out.
            why = "primary" if (cid, key) in small else "complementary"
            blank = {**figure, **dict.fromkeys(VALUES), SUPPRESSED: True, "suppression": why}
            blank.update(
                {name: None for name in ("n", "count", "n_treatment", "n_control") if name in figure}
            )
            if "samples" in figure:
                blank["samples"] = [
                    {**s, "estimate": None, "n": None, "count": None} for s in figure["samples"]
                ]
            return blank

        out = {
            **claim,
            "direct": withheld(claim["direct"], ("direct",)),
            "indirect": withheld(claim["indirect"], ("indirect",)),
            "supplementary": [
                withheld(s, ("supplementary", i)) for i, s in enumerate(claim["supplementary"])
            ],
        }
        if claim.get("subgroups"):
            out["subgroups"] = {
                by: {**panel, "rows": [withheld(r, ("subgroups", by, r["group"])) for r in panel["rows"]]}
                for by, panel in claim["subgroups"].items()
            }
        if claim.get("samples"):
            out["samples"] = [withheld(r, ("samples", r["group"])) for r in claim["samples"]]
        gap = claim["difference"]
        if gap is not None and (out["direct"][SUPPRESSED] or out["indirect"][SUPPRESSED]):
            out["difference"] = {
                **gap,
                **dict.fromkeys(VALUES),
                "p_value": None,
                "significant": None,  # not compared: neither "differ" nor "do not differ"
                SUPPRESSED: True,
            }
        released.append(out)
    return released


def _round_figure(figure: dict[str, Any] | None) -> dict[str, Any] | None:
    if figure is None:
        return None
    out = dict(figure)
    for key in (*VALUES, "observed_yes"):
        if isinstance(out.get(key), float):
            out[key] = round(out[key], 3)
    for key in ("n", "count", "n_treatment", "n_control"):
        if isinstance(out.get(key), int):
            out[key] = round_count(out[key])
    if "samples" in out:
        out["samples"] = [_round_figure(s) for s in out["samples"]]
    if "references" in out:
        out["references"] = [
            {
                **r,
                **{
                    k: round(r[k], 3)
                    for k in ("difference", "diff_ci_low", "diff_ci_high")
                    if r[k] is not None
                },
            }
            for r in out["references"]
        ]
    return out


def rounded(claim: dict[str, Any]) -> dict[str, Any]:
    """A judged claim as it is published: shares and their intervals to 0.1 point, counts to the
    nearest 5 (``analysis.suppression``'s rounding; verdicts were judged on the exact figures)."""
    out = {
        **claim,
        **{name: _round_figure(claim[name]) for name in ("direct", "indirect", "difference")},
        "supplementary": [_round_figure(s) for s in claim["supplementary"]],
    }
    out["statistic"] = out["direct"]
    if out["direct"] is not None:
        out |= {key: out["direct"][key] for key in ("estimate", "ci_low", "ci_high", "n", "references")}
    if claim.get("subgroups"):
        out["subgroups"] = {
            by: {**panel, "rows": [_round_figure(r) for r in panel["rows"]]}
            for by, panel in claim["subgroups"].items()
        }
    if claim.get("samples"):
        out["samples"] = [_round_figure(r) for r in claim["samples"]]
    return out


# --- judging ----------------------------------------------------------------------------------


def verdict_of(direction: str, threshold: float, low: float | None, high: float | None) -> str:
    """The verdict of one interval against ``threshold`` on the claim's side ``direction`` ('>' or '<')."""
    if low is None or high is None or np.isnan(low) or np.isnan(high):
        return INCONCLUSIVE
    above, below = low > threshold, high < threshold
    if direction == ">":
        return SUPPORTED if above else CONTRADICTED if below else INCONCLUSIVE
    return SUPPORTED if below else CONTRADICTED if above else INCONCLUSIVE


def compare_reference(estimate: float | None, se: float | None, reference: Reference) -> dict[str, Any]:
    """A reference figure beside this survey's estimate: their difference with a 95% interval.

    With the reference's n, its sampling variance ``p (1 - p) / n`` enters too (a simple-random-
    sample approximation; published design effects are rarely known). Counts (no ``value``) and
    withheld estimates get no difference.
    """
    entry = {
        "source": reference.source,
        "label": reference.short,
        "tag": reference.tag,
        "year": reference.year,
        "value": reference.value,
        "n": reference.n,
        "sample": dict(reference.sample),
        "mode": dict(reference.mode),
        "note": dict(reference.note),
    }
    if reference.value is None or estimate is None:
        return {**entry, "difference": None, "diff_ci_low": None, "diff_ci_high": None}
    ref_var = (
        reference.value * (1 - reference.value) / reference.n
        if reference.n and 0 <= reference.value <= 1
        else 0.0
    )
    diff = estimate - reference.value
    spread = float(stats.norm.ppf(0.5 + LEVEL / 2)) * float(np.sqrt((se or 0.0) ** 2 + ref_var))
    return {**entry, "difference": diff, "diff_ci_low": diff - spread, "diff_ci_high": diff + spread}


def _judged(measure: dict[str, Any], statistic: Statistic) -> dict[str, Any]:
    """A released measure with its verdict by ``statistic``'s rule (withheld: inconclusive)."""
    if not measure["measured"]:
        verdict = NOT_MEASURED
    elif measure[SUPPRESSED] or statistic.threshold is None:
        verdict = INCONCLUSIVE
    else:
        verdict = verdict_of(statistic.direction, statistic.threshold, measure["ci_low"], measure["ci_high"])
    return {**measure, "verdict": verdict}


def _with_references(measure: dict[str, Any], references: tuple[Reference, ...]) -> dict[str, Any]:
    return {
        **measure,
        "references": [compare_reference(measure["estimate"], measure["se"], r) for r in references],
    }


def combine(
    rule: str, direct: str | None, indirect: str | None, differ: bool | None
) -> tuple[str | None, list[str]]:
    """The claim's verdict from its measures' verdicts by the registry's ``combine`` rule, with the
    reasons that qualify it (see the module's docstring).

    ``direct`` and ``indirect`` are the measures' verdicts, or None when a measure gives no figure
    (not measured, or withheld); ``differ`` whether the two differ significantly, or None when they
    were not compared (either figure missing). The verdict is None when no measure the rule needs
    gives one. A comparison that was not made is never read as "they do not differ": the
    ``strict`` rule, which asks for it, then does not call the claim supported (``not_compared``).
    """
    reasons = []
    if indirect is None:
        reasons.append(INDIRECT_UNAVAILABLE)
        verdict = None if rule == "indirect" else direct
    elif direct is None:
        reasons.append(DIRECT_UNAVAILABLE)
        verdict = indirect
    else:
        if differ:
            reasons.append(MEASURES_DIFFER)
        if direct == SUPPORTED and indirect != SUPPORTED:
            reasons.append(INDIRECT_NOT_ON_SIDE)
        if rule == "indirect":
            verdict = indirect
        elif direct == indirect == SUPPORTED:
            verdict = INCONCLUSIVE if rule == "strict" and differ else SUPPORTED
        elif direct == indirect == CONTRADICTED:
            verdict = CONTRADICTED
        else:
            verdict = INCONCLUSIVE
    if rule == "strict" and differ is None and verdict == SUPPORTED:
        reasons.append(NOT_COMPARED)
        verdict = INCONCLUSIVE
    return verdict, reasons


def _available(measure: dict[str, Any]) -> str | None:
    return measure["verdict"] if measure["measured"] and not measure[SUPPRESSED] else None


def decide(claim: Claim, released: dict[str, Any]) -> dict[str, Any]:
    """Everything the report says about one claim, judged on its released figures.

    Keys: ``id, paraphrase, citation, comparability, verdict, reasons, qualified, rule, direct,
    indirect, difference, supplementary`` (texts as ``{language: text}``) and, for the direct
    measure, ``estimate, ci_low, ci_high, n, references``.
    """
    result: dict[str, Any] = {
        **released,
        "paraphrase": dict(claim.paraphrase),
        "citation": dict(claim.citation),
        "comparability": dict(claim.comparability),
        "rule": dict(claim.statistic.rule) if claim.statistic else {},
        "supplementary": [
            _with_references(m, s.references)
            for m, s in zip(released["supplementary"], claim.supplementary, strict=True)
        ],
    }
    if claim.statistic is None:
        references = [compare_reference(None, None, r) for r in claim.references]
        return {
            **result,
            "verdict": NOT_MEASURED,
            "reasons": [NO_STATISTIC],
            "qualified": False,
            "statistic": None,
            **dict.fromkeys(("estimate", "ci_low", "ci_high")),
            "n": 0,
            "references": references,
        }
    direct = _with_references(_judged(released["direct"], claim.statistic), claim.statistic.references)
    verdict, reasons = direct["verdict"], []
    if claim.indirect is not None:
        rule = claim.indirect.combine
        indirect = _judged(released["indirect"], claim.statistic)
        gap = released["difference"]
        compared = gap is not None and not gap[SUPPRESSED] and gap.get("significant") is not None
        combined, reasons = combine(
            rule, _available(direct), _available(indirect), bool(gap["significant"]) if compared else None
        )
        # No figure to judge by: withheld figures leave the claim inconclusive, absent ones unmeasured.
        needed = [indirect] if rule == "indirect" else [direct, indirect]
        verdict = combined or (INCONCLUSIVE if any(m["measured"] for m in needed) else NOT_MEASURED)
        result["indirect"] = indirect
    return {
        **result,
        "verdict": verdict,
        "reasons": reasons,
        "qualified": bool({MEASURES_DIFFER, INDIRECT_NOT_ON_SIDE} & set(reasons)),
        "direct": direct,
        "statistic": direct,
        "estimate": direct["estimate"],
        "ci_low": direct["ci_low"],
        "ci_high": direct["ci_high"],
        "n": direct["n"],
        "references": direct["references"],
    }


def judge(claim: Claim, design: SurveyDesign, *, k: int = 10, rounding: bool = False) -> dict[str, Any]:
    """One claim measured, released (on its own) and judged; reports release all claims together.
    With ``rounding`` its figures are rounded as published (:func:`rounded`)."""
    judged = decide(claim, release([measure_claim(claim, design)], k=k)[0])
    return rounded(judged) if rounding else judged
