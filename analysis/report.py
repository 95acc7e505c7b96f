"""The claims report: every claim of the registry judged on the survey data, as JSON and as one
self-contained HTML page (inline SVG charts, no external request).

Every published number passes through disclosure control (``suppress_estimates``, k = 10 by
default). With population margins the responses of each sample named in the margins file are raked
to them first; the report says which samples were weighted and how much weighting cost (Kish's
design effect and effective n). Synthetic data is labelled on every page and in the JSON.
"""

from __future__ import annotations

import html
import json
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import schema
from .claims import REGISTRY, Claim, estimate_share, judge, load_registry, measured
from .codebook import Codebook
from .design import Calibration, SurveyDesign, with_weights
from .suppression import suppress_estimates
from .weighting import rake, read_margins

SUBGROUPS = ("age_band", "education", "urban")
ATTENTION = {"variable": "attention", "correct": "somewhat_disagree"}


def weight(frame: pd.DataFrame, margins: pd.DataFrame | None) -> tuple[SurveyDesign, list[dict[str, Any]]]:
    """A design with the samples as strata, raked per sample to ``margins`` (column ``sample`` says which)."""
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
    # Rows of unweighted samples form their own calibration group (they are strata of their own).
    groups = [np.where(g < 0, g.max() + 1 + pd.factorize(frame[schema.SAMPLE])[0], g) for g in groups]
    return with_weights(design, weights, Calibration("rake", tuple(groups), np.ones(len(frame)))), reports


def _panel(design: SurveyDesign, claim: Claim, by: str, *, k: int) -> list[dict[str, Any]]:
    frame = suppress_estimates(estimate_share(design, claim.statistic, by=by), k=k)
    return [
        {
            "group": row["group"],
            "estimate": None if row["suppressed"] else row["estimate"],
            "ci_low": None if row["suppressed"] else row["ci_low"],
            "ci_high": None if row["suppressed"] else row["ci_high"],
            "n": None if row["suppressed"] else int(row["n"]),
            "suppressed": bool(row["suppressed"]),
        }
        for _, row in frame.iterrows()
    ]


def build_report(
    frame: pd.DataFrame,
    codebook: Codebook,
    *,
    claims: list[Claim] | None = None,
    margins: pd.DataFrame | None = None,
    k: int = 10,
    today: date | None = None,
) -> dict[str, Any]:
    """Everything the report shows, as plain data (what ``claims.json`` holds)."""
    claims = claims if claims is not None else load_registry(REGISTRY)
    design, weighting = weight(frame, margins)
    synthetic = bool(
        codebook.synthetic
        or (schema.SYNTHETIC in frame and frame[schema.SYNTHETIC].fillna(0).astype(int).any())
    )
    samples = sorted(frame[schema.SAMPLE].dropna().unique()) if schema.SAMPLE in frame else []
    results = []
    for claim in claims:
        result = judge(claim, design, codebook, k=k)
        if claim.statistic.kind == "share" and measured(claim.statistic, codebook):
            result["subgroups"] = {by: _panel(design, claim, by, k=k) for by in SUBGROUPS if by in frame}
            if len(samples) > 1:
                unrestricted = claim.statistic.__class__(**{**claim.statistic.__dict__, "population": {}})
                result["samples"] = _panel(
                    design,
                    claim.__class__(**{**claim.__dict__, "statistic": unrestricted}),
                    schema.SAMPLE,
                    k=k,
                )
        results.append(result)
    return {
        "study": codebook.study,
        "title": codebook.title,
        "data": "synthetic" if synthetic else "collected",
        "generated_on": (today or date.today()).isoformat(),
        "n": len(frame),
        "n_by_sample": {s: int((frame[schema.SAMPLE] == s).sum()) for s in samples},
        "weighted": margins is not None,
        "weighting": weighting,
        "disclosure_k": k,
        "attention_check": _attention(frame),
        "source": "Hawkins, A. (2017). Chinese Citizens Want the Government to Rank Them. Foreign Policy, 24 May 2017.",
        "claims": results,
    }


def _attention(frame: pd.DataFrame) -> dict[str, Any] | None:
    if ATTENTION["variable"] not in frame:
        return None
    answered = frame[ATTENTION["variable"]].notna()
    failed = answered & (frame[ATTENTION["variable"]] != ATTENTION["correct"])
    return {
        "answered": int(answered.sum()),
        "failed": int(failed.sum()),
        "kept": True,
        "note": "Respondents who failed the attention check are kept; their share is shown so readers can judge.",
    }


# --- HTML -------------------------------------------------------------------------------------

VERDICT_COLOURS = {
    "supported": "#1b7a3a",
    "contradicted": "#b00020",
    "inconclusive": "#8a6d00",
    "not measured": "#555",
}


def _verdict_class(verdict: str) -> str:
    """The CSS class that colours ``verdict`` (a class, not a style attribute: pages served under a
    Content-Security-Policy may not carry inline style attributes)."""
    return "verdict-" + "-".join(verdict.split()) if verdict in VERDICT_COLOURS else "verdict-other"


def _verdict_styles() -> str:
    rules = [
        f".{_verdict_class(verdict)}{{background:{colour}}}" for verdict, colour in VERDICT_COLOURS.items()
    ]
    return " ".join([*rules, ".verdict-other{background:#555}"])


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


def _pts(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:+.1f} pts"


def _chart(statistic: dict[str, Any], references: list[dict[str, Any]]) -> str:
    """Estimate with its CI, the threshold, and the reference figures as tagged diamonds (inline SVG)."""
    e = html.escape
    low_end, high_end = (-1.0, 1.0) if statistic["kind"] == "difference" else (0.0, 1.0)
    width, left, right, y = 560, 20, 20, 34
    scale = lambda v: left + (v - low_end) / (high_end - low_end) * (width - left - right)  # noqa: E731
    parts = [
        f'<svg viewBox="0 0 {width} 90" width="100%" role="img" aria-label="{e(statistic["label"])}" xmlns="http://www.w3.org/2000/svg">',
        f'<line x1="{left}" x2="{width - right}" y1="{y}" y2="{y}" stroke="#999"/>',
    ]
    for tick in np.linspace(low_end, high_end, 5):
        parts.append(
            f'<text x="{scale(tick):.1f}" y="{y + 30}" font-size="10" text-anchor="middle">{100 * tick:.0f}%</text>'
        )
    if statistic.get("threshold") is not None:
        x = scale(statistic["threshold"])
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="8" y2="{y + 16}" stroke="#444" stroke-dasharray="3 3"/>'
        )
    if statistic.get("estimate") is not None:
        parts.append(
            f'<line x1="{scale(statistic["ci_low"]):.1f}" x2="{scale(statistic["ci_high"]):.1f}" y1="{y}" y2="{y}" stroke="#0b5cad" stroke-width="5"/>'
        )
        parts.append(
            f'<circle cx="{scale(statistic["estimate"]):.1f}" cy="{y}" r="6" fill="#0b5cad"><title>this survey: {_pct(statistic["estimate"])}</title></circle>'
        )
    for index, reference in enumerate(r for r in references if r.get("value") is not None):
        x = scale(reference["value"])
        ry = 12 if index % 2 == 0 else 56
        parts.append(
            f'<path d="M{x:.1f} {ry - 5} l5 5 l-5 5 l-5 -5 z" fill="#e07b00"><title>{e(reference["source"])} [{e(reference["tag"])}]: {_pct(reference["value"])}</title></path>'
        )
        parts.append(f'<text x="{x + 7:.1f}" y="{ry + 4}" font-size="10">[{e(reference["tag"])}]</text>')
    parts.append("</svg>")
    return "".join(parts)


def _reference_rows(references: list[dict[str, Any]]) -> str:
    e = html.escape
    rows = []
    for r in references:
        diff = (
            "not comparable (a count, not a share)"
            if r["value"] is None
            else (
                f"{_pts(r['difference'])} [{_pts(r['diff_ci_low'])}, {_pts(r['diff_ci_high'])}]"
                if r["difference"] is not None
                else "—"
            )
        )
        rows.append(
            f"<tr><td>{e(r['source'])}</td><td>{e(str(r['year'] or ''))}</td><td><span class='tag'>{e(r['tag'])}</span></td>"
            f"<td>{_pct(r['value']) if r['value'] is not None else '—'}</td><td>{e(diff)}</td><td>{e(r['sample'])}; {e(r['mode'])}. {e(r['note'])}</td></tr>"
        )
    return (
        (
            "<table class='refs'><thead><tr><th>Reference</th><th>Year</th><th>Tag</th><th>Figure</th><th>This survey minus reference (95% CI)</th><th>Sample, mode, notes</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>"
        )
        if rows
        else ""
    )


def _panel_table(title: str, rows: list[dict[str, Any]]) -> str:
    e = html.escape
    body = "".join(
        f"<tr><td>{e(str(r['group']))}</td><td>{'suppressed (fewer than k respondents)' if r['suppressed'] else _pct(r['estimate'])}</td>"
        f"<td>{'' if r['suppressed'] else f'{_pct(r["ci_low"])} – {_pct(r["ci_high"])}'}</td><td>{'' if r['suppressed'] else r['n']}</td></tr>"
        for r in rows
    )
    return f"<table class='panel'><caption>{e(title)}</caption><thead><tr><th>Group</th><th>Estimate</th><th>95% CI</th><th>n</th></tr></thead><tbody>{body}</tbody></table>"


def render_html(report: dict[str, Any]) -> str:
    e = html.escape
    synthetic = report["data"] == "synthetic"
    banner = (
        (
            "<p class='synthetic' role='note'><strong>SYNTHETIC DATA.</strong> These respondents were generated from a seeded model "
            "(simulate_respondents) and sent through the real questionnaire; every figure below describes that model, not people.</p>"
        )
        if synthetic
        else ""
    )
    sections = []
    for claim in report["claims"]:
        s = claim["statistic"]
        estimate = (
            "not measured"
            if not s["measured"]
            else (
                "suppressed"
                if s.get("suppressed")
                else f"{_pct(s['estimate'])} (95% CI {_pct(s['ci_low'])} – {_pct(s['ci_high'])}, n = {s['n']})"
            )
        )
        extra = []
        le = claim.get("list_experiment")
        if le and not le.get("suppressed"):
            extra.append(
                "<div class='le'><h4>List experiment beside the direct question</h4><p>"
                f"Indirect (list experiment): {_pct(le['list']['estimate'])} (95% CI {_pct(le['list']['ci_low'])} – {_pct(le['list']['ci_high'])}); "
                f"direct question: {_pct(le['direct']['estimate'])} (95% CI {_pct(le['direct']['ci_low'])} – {_pct(le['direct']['ci_high'])}); "
                f"difference {_pts(le['difference']['estimate'])} (95% CI {_pts(le['difference']['ci_low'])} – {_pts(le['difference']['ci_high'])}). "
                "A negative difference means the direct question overstates approval.</p></div>"
            )
        for supplement in claim["supplementary"]:
            if supplement["measured"]:
                extra.append(
                    f"<div class='supp'><h4>Also: {e(supplement['label'])}</h4><p>{_pct(supplement['estimate']) if not supplement.get('suppressed') else 'suppressed'}"
                    f"{'' if supplement.get('suppressed') or supplement['estimate'] is None else f' (95% CI {_pct(supplement["ci_low"])} – {_pct(supplement["ci_high"])})'}</p>"
                    f"{_chart(supplement, supplement['references']) if supplement['estimate'] is not None else ''}{_reference_rows(supplement['references'])}</div>"
                )
        panels = "".join(
            _panel_table(f"By {by.replace('_', ' ')}", rows)
            for by, rows in claim.get("subgroups", {}).items()
        )
        if claim.get("samples"):
            panels += _panel_table("By sample (same item, no population filter)", claim["samples"])
        sections.append(
            f"<section class='claim' id='{e(claim['id'])}'><h2><span class='verdict {_verdict_class(claim['verdict'])}'>{e(claim['verdict'])}</span> {e(claim['id'])}</h2>"
            f"<p class='paraphrase'>Claim (paraphrased): {e(claim['paraphrase'])} <cite>— {e(claim['citation']['article'])}, {e(claim['citation'].get('part', ''))}</cite></p>"
            f"<p><strong>{e(s['label'])}:</strong> {estimate}</p><p class='rule'>Rule: {e(claim['rule'])}</p>"
            f"{_chart(s, claim['references']) if s['measured'] and s.get('estimate') is not None else ''}{_reference_rows(claim['references'])}"
            f"<p class='comparability'>Comparability: {e(claim['comparability'])}</p>{''.join(extra)}<div class='panels'>{panels}</div></section>"
        )
    weighting = (
        "; ".join(
            f"sample {e(str(w['sample']))} raked to {e(', '.join(w['variables']))} in {w['iterations']} iterations (Kish deff {w['deff_weighting']:.2f}, effective n {w['n_effective']:.0f})"
            for w in report["weighting"]
        )
        or "unweighted (no population margins given)"
    )
    attention = report.get("attention_check")
    attention_text = (
        f"{attention['failed']} of {attention['answered']} failed the attention check (kept)."
        if attention
        else ""
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Claims report · {e(report["title"])}{" · SYNTHETIC" if synthetic else ""}</title>
<style>
body{{font-family:system-ui,-apple-system,"Segoe UI","Noto Sans","PingFang SC",sans-serif;max-width:60rem;margin:0 auto;padding:1rem;color:#1b1b1b;line-height:1.45}}
.synthetic{{background:#ffe3e3;border:2px solid #b00020;padding:.6rem 1rem}}
.claim{{border-top:2px solid #dde1e6;margin-top:1.5rem;padding-top:.5rem}}
.verdict{{color:#fff;padding:.1rem .5rem;border-radius:4px;font-size:.9rem;text-transform:uppercase}}
{_verdict_styles()}
.tag{{font-weight:700}} table{{border-collapse:collapse;margin:.5rem 0;font-size:.9rem}} td,th{{border:1px solid #ccd;padding:.25rem .45rem;text-align:left;vertical-align:top}}
.panels{{display:flex;flex-wrap:wrap;gap:1rem}} caption{{text-align:left;font-weight:600}} .rule,.comparability{{color:#333;font-size:.92rem}}
</style></head><body>
{banner}
<h1>Claims report: {e(report["title"])}</h1>
<p>Claims of {e(report["source"])}, paraphrased, judged on {report["n"]} complete responses ({e(", ".join(f"{k}: {v}" for k, v in report["n_by_sample"].items()))}); data: <strong>{e(report["data"])}</strong>. Weighting: {weighting}. Cells with fewer than {report["disclosure_k"]} respondents are suppressed. {attention_text}</p>
<p>Reference tags: [C] confirmed in the primary or an authoritative secondary source; [S] secondary source only; [U] unconfirmed; [3P] a third party's recomputation from public microdata. A sample of internet users differs from the census margins even after weighting.</p>
<p>Generated {e(report["generated_on"])} by Candid. Intervals are 95% design-based (Taylor linearisation); differences to a reference include the reference's sampling error where its n is known.</p>
{"".join(sections)}
</body></html>
"""


def write_report(report: dict[str, Any], directory: Path) -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    json_path, html_path = directory / "claims.json", directory / "claims.html"
    json_path.write_text(
        json.dumps(report, ensure_ascii=False, indent=2, default=_json_default), encoding="utf-8"
    )
    html_path.write_text(render_html(report), encoding="utf-8")
    return html_path, json_path


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def claims_report(
    frame: pd.DataFrame, codebook: Codebook, directory: Path, *, margins_path: Path | None = None, k: int = 10
) -> dict[str, Any]:
    """Build and write ``claims.html`` and ``claims.json`` into ``directory``."""
    margins = read_margins(margins_path) if margins_path else None
    report = build_report(frame, codebook, margins=margins, k=k)
    write_report(report, directory)
    return report
