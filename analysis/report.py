"""The claims report: every claim of a study's registry judged on its data, as plain data, in one language.

:func:`build_report` does the statistics once, keeping every text in all its languages (a
registry's own translations, the questionnaire's labels); :func:`localise_report` turns that into
the report in one language — what ``claims.json`` holds — and ``analysis.report_html`` draws it
as HTML and PDF. Every figure passes ``verdicts.release`` (disclosure control, k = 10 by default).
With population margins the responses of each sample named in the margins file are raked to them
first; the report says which samples were weighted and how much weighting cost (Kish's design
effect and effective n). Synthetic data is labelled throughout.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import schema
from .claims import Registry, Statistic
from .codebook import Codebook
from .design import Calibration, SurveyDesign, with_weights
from .report_text import ReportText, missing
from .suppression import round_count, row_keys
from .translation import text_in
from .verdicts import (
    DIRECT_UNAVAILABLE,
    INDIRECT_NOT_ON_SIDE,
    INDIRECT_UNAVAILABLE,
    MEASURES_DIFFER,
    NO_STATISTIC,
    NOT_COMPARED,
    NOT_MEASURED,
    SUPPRESSED,
    RespondentSets,
    decide,
    estimate_share,
    measure_claim,
    release,
    release_tables,
    rounded,
)
from .weighting import rake, read_margins


def weight(frame: pd.DataFrame, margins: pd.DataFrame | None) -> tuple[SurveyDesign, list[dict[str, Any]]]:
    """A design with the samples as strata, raked per sample to ``margins`` (column ``sample`` says which);
    margins of a sample without respondents are left aside (its claims are not measured)."""
    design = SurveyDesign(frame, strata=schema.SAMPLE)
    if margins is None:
        return design, []
    weights = np.ones(len(frame))
    groups: list[np.ndarray] = []
    reports = []
    by_sample = margins.groupby("sample") if "sample" in margins.columns else [(None, margins)]
    for sample, rows in by_sample:
        inside = (
            (frame[schema.SAMPLE] == sample).to_numpy() if sample is not None else np.ones(len(frame), bool)
        )
        if not inside.any():  # a sample without released responses has no one to weight
            continue
        part = frame.loc[inside].reset_index(drop=True)
        raked, report = rake(
            SurveyDesign(part),
            rows.drop(columns=[c for c in ("sample",) if c in rows.columns]),
            max_iter=200,
            tol=1e-10,
        )
        weights[inside] = raked.w
        for codes in raked.calibration[0].groups:
            full = np.full(len(frame), -1, dtype=np.int64)
            full[inside] = codes
            groups.append(full)
        reports.append({"sample": sample, "variables": sorted(rows["variable"].unique()), **report.__dict__})
    if not groups:  # no sample with margins has respondents: nothing was weighted
        return design, reports
    # Rows of unweighted samples form their own calibration group (they are strata of their own).
    groups = [np.where(g < 0, g.max() + 1 + pd.factorize(frame[schema.SAMPLE])[0], g) for g in groups]
    return with_weights(design, weights, Calibration("rake", tuple(groups), np.ones(len(frame)))), reports


def _panel(
    design: SurveyDesign, statistic: Statistic, by: str, labels: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """The share in each group of ``by`` (codes with their labels), before disclosure control, in
    the order of ``labels`` (the questionnaire's order of its choices), codes it lacks after them.

    A group in which nobody answered (a sample the question is not relevant to) has no share and
    no row, rather than a row of NaN.
    """
    rows = []
    for _, row in estimate_share(design, statistic, by=by).iterrows():
        if not row["n"] or pd.isna(row["estimate"]):
            continue
        code = str(row["group"])
        rows.append(
            {
                "group": code,
                "label": labels.get(code, code),
                "estimate": float(row["estimate"]),
                "se": float(row["se"]),
                "ci_low": float(row["ci_low"]),
                "ci_high": float(row["ci_high"]),
                "n": int(row["n"]),
                "count": int(row["count"]),
                SUPPRESSED: False,
            }
        )
    order = {str(code): place for place, code in enumerate(labels)}
    return sorted(rows, key=lambda row: (order.get(row["group"], len(order)), row["group"]))


def _breakdowns(
    design: SurveyDesign, statistic: Statistic, registry: Registry, codebook: Codebook
) -> dict[str, dict[str, Any]]:
    variables = {v.name: v for v in codebook.variables}
    panels = {}
    for breakdown in registry.breakdowns:
        variable = variables.get(breakdown.variable)
        if variable is None or breakdown.variable not in design.data:
            continue
        # A breakdown named without a label is headed by its question ("By the answer to
        # “What is your gender?”"): a question is no noun to put after "By".
        question = not breakdown.label and bool(variable.label)
        panels[breakdown.variable] = {
            "title": dict(breakdown.label) or dict(variable.label) or {"": breakdown.variable},
            "question": question,
            "rows": _panel(design, statistic, breakdown.variable, variable.value_labels),
        }
    return panels


def build_report(
    frame: pd.DataFrame,
    codebook: Codebook,
    *,
    registry: Registry,
    margins: pd.DataFrame | None = None,
    k: int = 10,
    today: date | None = None,
    sample_names: Mapping[str, str] | None = None,
    registry_version: int | None = None,
    quality: Mapping[str, Any] | None = None,
    title: Mapping[str, str] | None = None,
    keys: np.ndarray | None = None,
    disclosure: Callable[[dict[str, pd.DataFrame]], dict[str, pd.DataFrame]] | None = None,
) -> dict[str, Any]:
    """Every claim of ``registry`` judged on ``frame`` (one row per complete response), as plain data.

    Texts stay in all their languages (``{language: text}``); :func:`localise_report` picks one.
    Every figure is estimated first, then released together (``verdicts.release``: disclosure
    control sees all the report's tables at once), then judged. ``sample_names`` gives the samples'
    names (slug -> name); ``quality`` says which flagged responses the caller left out of
    ``frame`` (``{"excluded": n, "flags": [...]}``, as ``analysis.quality.exclude_flagged`` gives it;
    the count is released rounded like every count); ``title`` the study's title per language (the
    codebook's otherwise). ``keys`` are ``frame``'s rows' fingerprint numbers (of every response,
    ``suppression.row_keys``; by default of ``frame`` alone), so figures are identified by their
    respondents as the results page's are; ``disclosure`` makes the disclosure decision
    (``verdicts.release``), for a caller holding other releases beside this one. Raises
    ``ValueError`` when the margins cannot be met by the responses.
    """
    design, weighting = weight(frame, margins)
    synthetic = bool(
        codebook.synthetic
        or (schema.SYNTHETIC in frame and frame[schema.SYNTHETIC].fillna(0).astype(int).any())
    )
    samples = sorted(frame[schema.SAMPLE].dropna().unique()) if schema.SAMPLE in frame else []
    names = dict(sample_names or {})
    measured = _measured(design, codebook, registry, names)
    sets = RespondentSets(frame, row_keys(len(frame)) if keys is None else keys)
    released = release(measured, k=k, sets=sets, decide=disclosure)
    results = [rounded(decide(claim, found)) for claim, found in zip(registry, released, strict=True)]
    return {
        "study": codebook.study,
        "title": dict(title) if title else {"": codebook.title},
        "data": "synthetic" if synthetic else "collected",
        "generated_on": (today or date.today()).isoformat(),
        "n": round_count(len(frame)),
        "n_by_sample": {s: round_count(int((frame[schema.SAMPLE] == s).sum())) for s in samples},
        "sample_names": {s: names.get(s, s) for s in samples},
        "weighted": margins is not None,
        "weighting": weighting,
        "disclosure_k": k,
        "quality": _released_quality(quality),
        "registry": {
            "title": dict(registry.title),
            "source": registry.source,
            "language": registry.language,
            "languages": registry.languages,
            "version": registry_version,
        },
        "source": registry.source,
        "claims": results,
    }


def _measured(
    design: SurveyDesign, codebook: Codebook, registry: Registry, names: Mapping[str, str]
) -> list[dict[str, Any]]:
    """Every claim's figures, estimated (with its panels by breakdown and by sample)."""
    data = design.data
    samples = sorted(data[schema.SAMPLE].dropna().unique()) if schema.SAMPLE in data else []
    measured = []
    for claim in registry:
        found = measure_claim(claim, design)
        statistic = claim.statistic
        if statistic is not None and statistic.kind == "share" and found["direct"]["measured"]:
            found["subgroups"] = _breakdowns(design, statistic, registry, codebook)
            if len(samples) > 1:
                labels = {s: names.get(s, s) for s in samples}
                found["samples"] = _panel(design, replace(statistic, population={}), schema.SAMPLE, labels)
        measured.append(found)
    return measured


def report_tables(
    frame: pd.DataFrame,
    codebook: Codebook,
    *,
    registry: Registry,
    keys: np.ndarray,
    margins: pd.DataFrame | None = None,
) -> dict[str, pd.DataFrame]:
    """The report's figures on ``frame`` as the tables its disclosure step is given (exact counts,
    respondent sets fingerprinted with ``keys``): for a report that leaves flagged responses out,
    the report that keeps them, held beside it (``analysis.release.left_out``)."""
    design, _weighting = weight(frame, margins)
    return release_tables(_measured(design, codebook, registry, {}), RespondentSets(frame, keys))


def _released_quality(quality: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The exclusions as released: the flags and the count left out, rounded (``round_count``)."""
    if not quality or not quality.get("flags"):
        return None
    return {**quality, "flags": list(quality["flags"]), "excluded": round_count(quality.get("excluded", 0))}


# --- one language -----------------------------------------------------------------------------


def localise_report(
    report: dict[str, Any], *, language: str, text: ReportText | None = None
) -> dict[str, Any]:
    """The report in ``language``: every text picked (falling back to the registry's own language),
    groups labelled in words, verdicts worded and each claim's ``explanation`` written with ``text``.
    """
    text = text or ReportText()
    fallback = report["registry"]["language"]

    def pick(value: Any) -> str:
        return text_in(value, language, fallback)

    def references(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            {**r, "sample": pick(r["sample"]), "mode": pick(r["mode"]), "note": pick(r["note"])}
            for r in found
        ]

    def measure(found: dict[str, Any] | None) -> dict[str, Any] | None:
        if found is None:
            return None
        out = {**found, "label": pick(found.get("label")), "rule": pick(found.get("rule"))}
        if "references" in found:
            out["references"] = references(found["references"])
        return out

    claims = []
    for claim in report["claims"]:
        direct = measure(claim["direct"])
        local = {
            **claim,
            "paraphrase": pick(claim["paraphrase"]),
            "comparability": pick(claim["comparability"]),
            "rule": pick(claim["rule"]),
            "verdict_label": text.verdict(claim["verdict"]),
            "direct": direct,
            "statistic": direct,
            "indirect": measure(claim["indirect"]),
            "supplementary": [measure(s) for s in claim["supplementary"]],
            "references": direct["references"] if direct else references(claim["references"]),
            "subgroups": {
                name: {
                    "title": pick(panel["title"]),
                    "question": bool(panel.get("question")),
                    "rows": [{**row, "label": pick(row["label"])} for row in panel["rows"]],
                }
                for name, panel in claim.get("subgroups", {}).items()
            },
        }
        if "samples" in claim:
            local["samples"] = [{**row, "label": pick(row["label"])} for row in claim["samples"]]
        local["explanation"] = explain(local, text, k=report["disclosure_k"])
        claims.append(local)
    quality = report.get("quality")
    if quality:
        quality = {**quality, "flag_labels": text.flags_left_out(quality)}
    return {
        **report,
        "quality": quality,
        "language": language,
        "title": pick(report["title"]),
        "registry": {**report["registry"], "title": pick(report["registry"]["title"]) or report["source"]},
        "claims": claims,
    }


def _p(text: ReportText, p: float | None) -> str:
    if missing(p):
        return text.p_unavailable
    return text.p_below.format(p="0.001") if p < 0.001 else text.p_value.format(p=f"{p:.3f}")


def _given(found: dict[str, Any] | None) -> bool:
    """A measure with a figure to state: measured, released and defined."""
    return bool(found and found["measured"] and not found[SUPPRESSED] and not missing(found["estimate"]))


def _comparison(claim: dict[str, Any], text: ReportText, method: str) -> str | None:
    """The sentence comparing the direct and indirect figures, or why they cannot be compared;
    None when there is nothing to compare (a measure not in the data says so itself)."""
    gap, direct, indirect = claim["difference"], claim["direct"], claim["indirect"]
    if gap is None:
        return None
    if direct and direct[SUPPRESSED]:
        return text.not_compared_direct
    if indirect and indirect[SUPPRESSED]:
        return text.not_compared_indirect.format(method=method)
    if gap.get(SUPPRESSED) or missing(gap["estimate"]) or gap.get("significant") is None:
        return text.not_compared
    template = text.differ if MEASURES_DIFFER in claim["reasons"] else text.agree
    return template.format(
        difference=text.points_of(gap["estimate"]),
        interval=text.interval_of(gap, points=True),
        p=_p(text, gap.get("p_value")),
    )


def _withheld(text: ReportText, found: dict[str, Any], k: int, method: str = "") -> str:
    """One sentence saying a measure's figure is withheld, and why."""
    other = found.get("suppression") == "complementary"
    if method:
        template = text.indirect_withheld_other if other else text.indirect_withheld
        return template.format(method=method, k=k)
    return (text.direct_withheld_other if other else text.direct_withheld).format(k=k)


def explain(claim: dict[str, Any], text: ReportText, *, k: int) -> list[str]:
    """Sentences saying what respondents say, what the indirect measure shows, and why the verdict.

    ``claim`` is a localised claim; returns the sentences in ``text``'s language. Every sentence
    built from a figure says so plainly when the figure is withheld or undefined: a comparison
    that was not made is said to be impossible, never that the two "do not differ".
    """
    reasons, direct, indirect = claim["reasons"], claim["direct"], claim["indirect"]
    if NO_STATISTIC in reasons:
        return [text.no_statistic]
    if claim["verdict"] == NOT_MEASURED and not (indirect and indirect["measured"]):
        return [text.absent]
    sentences = []
    if _given(direct):
        assert direct is not None
        sentences.append(
            text.says.format(
                estimate=text.value_of(direct, direct["estimate"]), interval=text.interval_of(direct)
            )
        )
    elif direct and direct[SUPPRESSED]:
        sentences.append(_withheld(text, direct, k))
    if indirect is None:
        return sentences
    method = text.list_experiment if indirect["kind"] == "list_experiment" else text.randomized_response
    if _given(indirect):
        sentences.append(
            text.shows.format(
                method=method,
                estimate=text.percent_of(indirect["estimate"]),
                interval=text.interval_of(indirect, points=False),
            )
        )
    elif indirect[SUPPRESSED]:
        sentences.append(_withheld(text, indirect, k, method))
    comparison = _comparison(claim, text, method)
    if comparison:
        sentences.append(comparison)
    if INDIRECT_NOT_ON_SIDE in reasons and direct:
        sentences.append(
            text.not_on_side.format(
                side=text.above if direct["direction"] == ">" else text.below,
                threshold=text.percent_of(direct["threshold"], 0),
            )
        )
    # A withheld figure was said above; these say a measure the data lack.
    if INDIRECT_UNAVAILABLE in reasons and not indirect[SUPPRESSED]:
        sentences.append(text.indirect_unavailable)
    if DIRECT_UNAVAILABLE in reasons and not (direct and direct[SUPPRESSED]):
        sentences.append(text.direct_unavailable)
    if NOT_COMPARED in reasons:
        sentences.append(text.strict_not_compared)
    rule = {"all": text.rule_all, "strict": text.rule_strict, "indirect": text.rule_indirect}[
        indirect["combine"]
    ]
    sentences.append(text.by_rule.format(rule=rule, verdict=text.verdict(claim["verdict"])))
    return sentences


# --- files ------------------------------------------------------------------------------------


def render_html(
    report: dict[str, Any], *, language: str | None = None, text: ReportText | None = None
) -> str:
    """The report as a self-contained HTML file. ``report`` is :func:`build_report`'s (localised here
    into ``language``, English by default) or already :func:`localise_report`'s."""
    from .report_html import render_document

    if "language" not in report or language is not None:
        report = localise_report(report, language=language or "en", text=text)
    return render_document(report, text)


def write_json(report: dict[str, Any], path: Path) -> Path:
    """``report`` (localised) as UTF-8 JSON."""
    path.write_text(json.dumps(report, ensure_ascii=False, indent=2, default=_json_default), encoding="utf-8")
    return path


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def claims_report(
    frame: pd.DataFrame,
    codebook: Codebook,
    directory: Path,
    *,
    registry: Registry,
    margins_path: Path | None = None,
    k: int = 10,
    language: str = "en",
    text: ReportText | None = None,
    pdf: bool = False,
    **options: Any,
) -> dict[str, Any]:
    """Build the report and write ``claims.html`` and ``claims.json`` (and ``claims.pdf``) into ``directory``.

    Returns the localised report. ``options`` go to :func:`build_report`.
    """
    from .report_html import render_document, render_pdf

    margins = read_margins(margins_path) if margins_path else None
    report = localise_report(
        build_report(frame, codebook, registry=registry, margins=margins, k=k, **options),
        language=language,
        text=text,
    )
    directory.mkdir(parents=True, exist_ok=True)
    write_json(report, directory / "claims.json")
    document = render_document(report, text or ReportText())
    (directory / "claims.html").write_text(document, encoding="utf-8")
    if pdf:
        (directory / "claims.pdf").write_bytes(render_pdf(document))
    return report
