"""The claims report drawn as HTML (a fragment for the app, a self-contained file) and as PDF.

The fragment carries no inline style or script, so it renders under a strict Content Security
Policy with the stylesheet ``analysis/assets/report.css`` (served as a static file by the app,
inlined into the file and the PDF, with print rules). Charts are forest plots in inline SVG with a
title, a description and the table of the same figures beside them. Every string from the data is
escaped.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .claims import TAGS
from .report_text import ReportText, missing
from .suppression import ROUNDING_BASE

STYLESHEET = Path(__file__).parent / "assets" / "report.css"

e = html.escape


def _verdict(claim: dict[str, Any]) -> str:
    slug = claim["verdict"].replace(" ", "-")
    return f'<span class="verdict verdict-{slug}">{e(claim["verdict_label"])}</span>'


def _figure(text: ReportText, found: dict[str, Any] | None, k: int, *, points: bool = False) -> str:
    """An estimate with its interval and n, or why there is none."""
    if found is None:
        return text.dash
    if not found["measured"]:
        return e(text.not_measured)
    if found.get("suppressed"):
        return e(text.withheld_for(found, k))
    if missing(found["estimate"]):
        return text.dash
    show = text.points_of if points else text.percent_of
    interval = text.interval_of(found, points=points)
    return (
        f'<span class="figure">{e(show(found["estimate"]))}</span> '
        f'<span class="interval">({e(interval)}; {e(text.n.format(n=found["n"]))})</span>'
    )


def _tag(text: ReportText, tag: str) -> str:
    return f'<abbr class="tag" title="{e(text.tag(tag))}">[{e(tag)}]</abbr>'


def _summary(report: dict[str, Any], text: ReportText) -> str:
    rows = []
    k = report["disclosure_k"]
    for claim in report["claims"]:
        points = bool(claim["direct"] and claim["direct"]["kind"] == "difference")
        show = text.points_of if points else text.percent_of
        figures = "".join(
            f"<li>{e(r['label'])} {_tag(text, r['tag'])}"
            f"{': ' + e(show(r['value'])) if r['value'] is not None else ''}</li>"
            for r in claim["references"]
        )
        qualified = f'<br><span class="qualified">{e(text.qualified)}</span>' if claim["qualified"] else ""
        rows.append(
            f'<tr><th scope="row"><a href="#claim-{e(claim["id"])}">{e(claim["id"])}</a>'
            f'<span class="paraphrase">{e(claim["paraphrase"])}</span></th>'
            f"<td>{_figure(text, claim['direct'], k, points=points)}</td>"
            f"<td>{_figure(text, claim['indirect'], k)}</td>"
            f'<td><ul class="figures">{figures}</ul></td>'
            f"<td>{_verdict(claim)}{qualified}</td></tr>"
        )
    return (
        f'<section class="report-summary" aria-labelledby="report-summary"><h2 id="report-summary">{e(text.summary)}</h2>'
        f'<div class="table-scroll"><table class="summary"><caption>{e(text.summary_caption)}</caption>'
        f"<thead><tr><th scope='col'>{e(text.col_claim)}</th><th scope='col'>{e(text.col_direct)}</th>"
        f"<th scope='col'>{e(text.col_indirect)}</th><th scope='col'>{e(text.col_references)}</th>"
        f"<th scope='col'>{e(text.col_verdict)}</th></tr></thead><tbody>{''.join(rows)}</tbody></table></div></section>"
    )


def _about(report: dict[str, Any], text: ReportText) -> str:
    samples = ", ".join(f"{report['sample_names'].get(s, s)}: {n}" for s, n in report["n_by_sample"].items())
    data = text.data_synthetic if report["data"] == "synthetic" else text.data_collected
    weighting = [
        text.raked.format(
            sample=report["sample_names"].get(w["sample"], w["sample"]) if w["sample"] else "",
            variables=", ".join(w["variables"]),
            iterations=w["iterations"],
            deff=text.dash if missing(w["deff_weighting"]) else f"{w['deff_weighting']:.2f}",
            n_eff=text.dash if missing(w["n_effective"]) else f"{w['n_effective']:.0f}",
        )
        for w in report["weighting"]
    ] or [text.unweighted]
    registry = report["registry"]
    lines = [
        text.about.format(n=report["n"], samples=samples, data=data),
        *weighting,
        text.disclosure.format(k=report["disclosure_k"], base=ROUNDING_BASE),
        text.method,
    ]
    quality = report.get("quality")
    if quality and quality.get("flags"):  # said even when none was flagged: the reader asked
        flags = text.flags_left_out(quality)
        lines.append(text.excluded.format(excluded=quality["excluded"], flags=", ".join(flags)))
    lines.append(
        (text.registry if registry["version"] else text.registry_unversioned).format(
            title=registry["title"], version=registry["version"]
        )
        + " "
        + text.source.format(source=registry["source"])
    )
    lines.append(text.generated.format(date=report["generated_on"]))
    used = _tags_used(report)
    legend = "".join(f"<dt>{_tag(text, key)}</dt><dd>{e(text.tag(key))}</dd>" for key in TAGS if key in used)
    return (
        '<section class="report-about">'
        + "".join(f"<p>{e(line)}</p>" for line in lines)
        + (
            f'<h2 class="legend-title">{e(text.legend)}</h2><dl class="legend">{legend}</dl>'
            if legend
            else ""
        )
        + "</section>"
    )


def _tags_used(report: dict[str, Any]) -> set[str]:
    """The tags of the published figures this report shows: the legend explains these, in the
    generic words of ``claims.TAGS`` (each figure's own source names where it comes from)."""
    found = set()
    for claim in report["claims"]:
        for measure in (claim, *claim["supplementary"]):
            found |= {r["tag"] for r in (measure or {}).get("references") or []}
    return found


def _axis(values: list[float | None], kind: str) -> tuple[float, float]:
    """The scale: 0-100% for shares (-100 to +100 points for differences), widened to tenths to
    hold every value (a list-experiment estimate can fall outside 0-1)."""
    low, high = (-1.0, 1.0) if kind == "difference" else (0.0, 1.0)
    found = [v for v in values if not missing(v)]
    if found:
        low = min(low, math.floor(min(found) * 10) / 10)
        high = max(high, math.ceil(max(found) * 10) / 10)
    return low, high


def _clip(label: str, width: int = 40) -> str:
    """Shorten a label to about ``width`` columns (CJK characters count two)."""
    used, out = 0, []
    for char in label:
        used += 2 if ord(char) > 0x2E80 else 1
        if used > width:
            return "".join(out).rstrip() + "…"
        out.append(char)
    return label


def chart(claim: dict[str, Any], text: ReportText) -> str:
    """A forest plot: this survey's estimates (direct, indirect) and each published figure on one
    axis, with the claim's threshold dashed. Inline SVG with a title and a description."""
    direct, indirect = claim["direct"], claim["indirect"]
    method = (
        text.list_experiment
        if indirect and indirect["kind"] == "list_experiment"
        else text.randomized_response
    )
    rows: list[tuple[str, float | None, float | None, float | None, str]] = []
    if direct and direct["measured"] and not missing(direct["estimate"]):
        rows.append((text.this_survey, direct["estimate"], direct["ci_low"], direct["ci_high"], "direct"))
    if indirect and indirect["measured"] and not missing(indirect["estimate"]):
        rows.append(
            (
                text.this_survey_indirect.format(method=method),
                indirect["estimate"],
                indirect["ci_low"],
                indirect["ci_high"],
                "indirect",
            )
        )
    for r in claim["references"]:
        if r["value"] is not None:
            rows.append((f"{r['label']} [{r['tag']}]", r["value"], None, None, "reference"))
    if not rows or not direct:
        return ""
    kind = direct["kind"]
    low, high = _axis([v for row in rows for v in row[1:4]], kind)
    show = text.points_of if kind == "difference" else text.percent_of
    width, left, right, top, step = 680, 300, 20, 12, 26
    height = top + step * len(rows) + 34

    def x(value: float) -> float:
        return left + (value - low) / (high - low) * (width - left - right)

    ident = f"chart-{claim['id']}"
    threshold = direct.get("threshold")
    title = text.chart_title.format(label=direct["label"])
    description = text.chart_description.format(
        low=show(low), high=show(high), threshold=show(threshold) if threshold is not None else text.dash
    )
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-labelledby="{e(ident)}-t {e(ident)}-d" '
        'xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{e(ident)}-t">{e(title)}</title><desc id="{e(ident)}-d">{e(description)}</desc>',
    ]
    axis_y = top + step * len(rows)
    ticks = 5
    for i in range(ticks):
        value = low + (high - low) * i / (ticks - 1)
        parts.append(
            f'<line x1="{x(value):.1f}" x2="{x(value):.1f}" y1="{top - 6}" y2="{axis_y}" stroke="#e1e4e8"/>'
            f'<text x="{x(value):.1f}" y="{axis_y + 16}" font-size="11" text-anchor="middle" fill="#333">{e(show(value))}</text>'
        )
    if threshold is not None:
        parts.append(
            f'<line x1="{x(threshold):.1f}" x2="{x(threshold):.1f}" y1="{top - 8}" y2="{axis_y + 4}" '
            'stroke="#222" stroke-width="1.5" stroke-dasharray="4 3"/>'
        )
    colours = {"direct": "#0b5cad", "indirect": "#7a3ea1", "reference": "#b35900"}
    for index, (label, value, ci_low, ci_high, role) in enumerate(rows):
        y = top + step * index + step / 2
        colour = colours[role]
        figure = show(value)
        parts.append(
            f'<text x="{left - 10}" y="{y + 4:.1f}" font-size="12" text-anchor="end" fill="#1b1b1b">'
            f"<title>{e(label)}: {e(figure)}</title>{e(_clip(label))} · {e(figure)}</text>"
        )
        if not missing(ci_low) and not missing(ci_high):
            parts.append(
                f'<line x1="{x(ci_low):.1f}" x2="{x(ci_high):.1f}" y1="{y:.1f}" y2="{y:.1f}" stroke="{colour}" stroke-width="4"/>'
            )
        if role == "reference":
            cx = x(value)
            parts.append(f'<path d="M{cx:.1f} {y - 6:.1f} l6 6 l-6 6 l-6 -6 z" fill="{colour}"/>')
        else:
            parts.append(f'<circle cx="{x(value):.1f}" cy="{y:.1f}" r="6" fill="{colour}"/>')
    parts.append(f'<line x1="{left}" x2="{width - right}" y1="{axis_y}" y2="{axis_y}" stroke="#555"/></svg>')
    return "".join(parts)


def _references(
    references: list[dict[str, Any]], text: ReportText, measure: dict[str, Any] | None = None
) -> str:
    """The published figures beside ``measure`` (this survey's), in its unit (points for a
    difference); where this survey's figure is withheld the difference says so."""
    if not references:
        return ""
    points = bool(measure and measure.get("kind") == "difference")
    show = text.points_of if points else text.percent_of
    withheld = bool(measure and measure.get("suppressed"))
    rows = []
    for r in references:
        if r["value"] is None:
            difference = text.count_only
        elif withheld:
            difference = text.ref_withheld
        elif r["difference"] is None:
            difference = text.dash
        else:
            difference = (
                f"{text.points_of(r['difference'])} "
                f"({text.interval_of({'ci_low': r['diff_ci_low'], 'ci_high': r['diff_ci_high']}, points=True)})"
            )
        notes = "; ".join(part for part in (r["sample"], r["mode"], r["note"]) if part)
        rows.append(
            f"<tr><th scope='row'>{e(r['source'])}</th><td>{e(str(r['year'] or ''))}</td><td>{_tag(text, r['tag'])}</td>"
            f"<td>{e(show(r['value'])) if r['value'] is not None else text.dash}</td>"
            f"<td>{e(difference)}</td><td>{e(notes)}</td></tr>"
        )
    return (
        "<div class='table-scroll'><table class='references'><thead><tr>"
        f"<th scope='col'>{e(text.ref_source)}</th><th scope='col'>{e(text.ref_year)}</th><th scope='col'>{e(text.ref_tag)}</th>"
        f"<th scope='col'>{e(text.ref_value)}</th><th scope='col'>{e(text.ref_difference)}</th>"
        f"<th scope='col'>{e(text.ref_notes)}</th></tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def _panel(title: str, rows: list[dict[str, Any]], text: ReportText, k: int) -> str:
    body = "".join(
        f"<tr><th scope='row'>{e(row['label'])}</th>"
        + (
            f"<td colspan='3'>{e(text.withheld_for(row, k))}</td>"
            if row["suppressed"]
            else f"<td>{e(text.percent_of(row['estimate']))}</td>"
            f"<td>{e(text.percent_of(row['ci_low']))} – {e(text.percent_of(row['ci_high']))}</td><td>{row['n']}</td>"
        )
        + "</tr>"
        for row in rows
    )
    return (
        f"<table class='panel'><caption>{e(title)}</caption><thead><tr><th scope='col'>{e(text.group)}</th>"
        f"<th scope='col'>{e(text.estimate)}</th><th scope='col'>{e(text.ci)}</th><th scope='col'>n</th></tr></thead>"
        f"<tbody>{body}</tbody></table>"
    )


def _claim(claim: dict[str, Any], text: ReportText, k: int) -> str:
    direct, indirect = claim["direct"], claim["indirect"]
    citation = claim["citation"]
    cite = ", ".join(part for part in (citation.get("article", ""), citation.get("part", "")) if part)
    parts = [
        f'<section class="claim" id="claim-{e(claim["id"])}" aria-labelledby="claim-{e(claim["id"])}-h">',
        f'<h3 id="claim-{e(claim["id"])}-h">{_verdict(claim)} <span class="claim-id">{e(claim["id"])}</span></h3>',
        f'<p class="paraphrase"><strong>{e(text.paraphrase)}:</strong> {e(claim["paraphrase"])} <cite>{e(cite)}</cite></p>',
        '<div class="explanation">' + "".join(f"<p>{e(s)}</p>" for s in claim["explanation"]) + "</div>",
    ]
    if direct:
        points = direct["kind"] == "difference"
        parts.append(
            f'<p class="measure"><strong>{e(direct["label"])}:</strong> {_figure(text, direct, k, points=points)}</p>'
        )
    if indirect:
        parts.append(
            f'<p class="measure"><strong>{e(indirect["label"])}:</strong> {_figure(text, indirect, k)}</p>'
            f'<p class="method">{e(text.list_experiment_method if indirect["kind"] == "list_experiment" else text.randomized_response_method)}</p>'
        )
    if claim["rule"]:
        parts.append(f'<p class="rule"><strong>{e(text.rule)}:</strong> {e(claim["rule"])}</p>')
    if indirect and indirect.get("rule"):
        parts.append(f'<p class="rule"><strong>{e(text.combine_rule)}:</strong> {e(indirect["rule"])}</p>')
    figure = chart(claim, text)
    if figure:
        parts.append(f'<figure class="chart">{figure}</figure>')
    parts.append(_references(claim["references"], text, direct))
    parts.append(
        f'<p class="comparability"><strong>{e(text.comparability)}:</strong> {e(claim["comparability"])}</p>'
    )
    for supplement in claim["supplementary"]:
        if supplement["measured"]:
            points = supplement["kind"] == "difference"
            parts.append(
                f'<div class="supplementary"><h4>{e(text.supplementary)}: {e(supplement["label"])}</h4>'
                f"<p>{_figure(text, supplement, k, points=points)}</p>"
                f"{_references(supplement['references'], text, supplement)}</div>"
            )
    panels = [
        _panel(
            (
                text.by_question.format(question=panel["title"])
                if panel.get("question")
                else text.by.format(variable=panel["title"])
            ),
            panel["rows"],
            text,
            k,
        )
        for panel in claim.get("subgroups", {}).values()
    ]
    if claim.get("samples"):
        panels.append(_panel(text.by_sample, claim["samples"], text, k))
    if panels:
        parts.append(f'<div class="panels">{"".join(panels)}</div>')
    parts.append("</section>")
    return "".join(parts)


def withheld_beside_exclusion(report: Mapping[str, Any]) -> tuple[int, int] | None:
    """``(withheld, measured)``: of the claims whose direct figure was measured, how many have it
    withheld, when flagged responses were left out (``report["quality"]["excluded"]`` > 0) and at
    least half are withheld; else None.

    Leaving out a few responses beside the report that keeps them all makes the left-out
    responses' own figures the difference of two reports, so disclosure control withholds most
    figures the two share: the reader is told why, rather than reading every verdict as
    "inconclusive" (on the demo's 2,000 responses, leaving out 130 speeders withheld all 14)."""
    quality = report.get("quality") or {}
    if not quality.get("excluded"):
        return None
    measured = [c["direct"] for c in report["claims"] if c.get("direct") and c["direct"].get("measured")]
    withheld = sum(bool(direct.get("suppressed")) for direct in measured)
    return (withheld, len(measured)) if measured and 2 * withheld >= len(measured) else None


def render_body(report: dict[str, Any], text: ReportText | None = None) -> str:
    """The report (localised, from ``report.localise_report``) as an HTML fragment: an ``<article>``
    with the synthetic-data warning first, the summary table, how it was made, then each claim."""
    text = text or ReportText()
    k = report["disclosure_k"]
    banner = (
        f'<div class="report-synthetic" role="note"><strong>{e(text.synthetic_title)}</strong> {e(text.synthetic)}</div>'
        if report["data"] == "synthetic"
        else ""
    )
    withheld = withheld_beside_exclusion(report)
    if withheld is not None:
        notice = text.excluded_withholds.format(
            withheld=withheld[0], measured=withheld[1], excluded=report["quality"]["excluded"]
        )
        banner += f'<div class="report-notice" role="note">{e(notice)}</div>'
    claims = "".join(_claim(claim, text, k) for claim in report["claims"])
    return (
        f'<article class="claims-report" lang="{e(report["language"])}">{banner}'
        f"<h1>{e(text.heading.format(title=report['title']))}</h1>"
        f"{_summary(report, text)}{_about(report, text)}"
        f'<section class="claims" aria-labelledby="report-claims"><h2 id="report-claims">{e(text.claims)}</h2>{claims}</section>'
        "</article>"
    )


def render_document(report: dict[str, Any], text: ReportText | None = None) -> str:
    """A self-contained HTML file of the report (stylesheet inlined, no external request)."""
    text = text or ReportText()
    title = text.heading.format(title=report["title"])
    if report["data"] == "synthetic":
        title = f"{title} · {text.synthetic_title}"
    return (
        f'<!doctype html>\n<html lang="{e(report["language"])}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{e(title)}</title><style>{STYLESHEET.read_text(encoding='utf-8')}</style></head>"
        f"<body>{render_body(report, text)}</body></html>\n"
    )


def render_pdf(document: str) -> bytes:
    """The HTML file as PDF (WeasyPrint: needs Pango, and a CJK font for Chinese).

    Nothing is fetched while rendering: the document is self-contained and only ``data:`` URLs
    are allowed, so a text in the data cannot make the server request anything.
    """
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    return HTML(string=document, url_fetcher=URLFetcher(allowed_protocols={"data"})).write_pdf()
