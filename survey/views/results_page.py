"""The results payload shaped for the page: one section per question, tables with a column per group,
and an accessible SVG chart (title, description, the table beside it) per distribution.

Charts use presentation attributes only (no inline style, no script), so they render under the
site's CSP; every word comes through Django's translation framework.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop, ngettext

from analysis.aggregates import P_FLOOR, P_FLOOR_TEXT, beyond_limits
from analysis.quality import QualityRules, fraction_text

from ..services.results import notes_in_words

PERCENT_STATISTICS = {
    "share",
    "selected",
    "ranked_first",
    "direct",
    "list_experiment",
    "randomized_response",
    "difference",
}
E_NO_ANSWERS = gettext_noop("No answers: nobody in the responses used here answered this question.")
# A question every figure of which disclosure control withheld, said with why (``withheld_why``).
E_WITHHELD = {
    "exclusion": gettext_noop(
        "Withheld: every figure of this question is withheld by disclosure control, because beside "
        "the results that keep every response it would show the answers of the few responses left "
        "out by difference. Leave no responses out to see them."
    ),
    "protection": gettext_noop(
        "Withheld: every figure of this question is withheld by disclosure control, because it "
        "could not be protected from being worked out from figures released before."
    ),
}
# Why a figure has no value (``note`` of a row, ``analysis.results``), said in the cell; a cell hidden
# by the threshold or to protect others is "suppressed", explained at the top of the page.
NOTE_WORDS = {
    "value": gettext_lazy("no rounding of this value is shared by the answers of k respondents"),
    "too_few_answers": gettext_lazy("not estimable: too few answers"),
    "not_estimable": gettext_lazy("not estimable from these answers (for example, all of them alike)"),
}
# Said under an indirect estimate whose value or interval is outside 0-100%: it is not cut off.
BEYOND_LIMITS = {
    "list_experiment": gettext_lazy(
        "A list experiment's estimate is a difference of two means (the mean count of the list with "
        "the sensitive statement minus that of the list without it), so it and its 95% CI can fall "
        "below 0% or above 100%, as here; they are shown as computed, not cut off."
    ),
    "randomized_response": gettext_lazy(
        "A randomised-response estimate takes the forced answers out of the share answering yes, so "
        "it and its 95% CI can fall below 0% or above 100%, as here; they are shown as computed, not "
        "cut off."
    ),
}
KIND_NAMES = {
    "distribution": gettext_lazy("Single choice"),
    "battery": gettext_lazy("Matrix"),
    "multiple": gettext_lazy("Multiple choice"),
    "ranking": gettext_lazy("Ranking"),
    "number": gettext_lazy("Number"),
    "list_experiment": gettext_lazy("List experiment"),
    "randomized_response": gettext_lazy("Randomised response"),
    "text": gettext_lazy("Free text"),
}


@dataclass
class Panel:
    """One table of the page: rows (a level, an option or a statistic) by columns (overall, groups)."""

    title: str
    columns: list[str]
    rows: list[dict[str, Any]] = field(default_factory=list)
    chart: SafeString | str = ""
    note: str = ""
    footnote: str = ""  # said under the table


@dataclass
class Section:
    question: str
    label: str
    kind: str
    panels: list[Panel]
    tests: list[dict[str, Any]]


def _number(value: float | None, *, percent: bool) -> str:
    if value is None:
        return "—"
    return f"{100 * value:.1f}%" if percent else f"{value:.2f}"


def _rounded(value: float | None, *, percent: bool = False) -> str:
    """A figure released rounded to a width of 1 or more (a median): as the whole number it is,
    not "45.00", which reads as exact to two decimals."""
    return "—" if value is None else f"{value:.0f}"


def _deff(row: dict[str, Any]) -> str:
    """A cell's design effect to two decimals; "not defined" for an estimate without variance
    (``analysis.results._defined``: a share the strata fix, 66.0 % (66.0 – 66.0) read "deff 0.00")."""
    if row.get("deff") is not None:
        return f"{row['deff']:.2f}"
    return _("not defined") if row.get("se") == 0 else ""


def _cell(row: dict[str, Any] | None, *, percent: bool) -> dict[str, Any]:
    if row is None:
        return {"text": "—", "interval": "", "n": "", "suppressed": False}
    reason = str(NOTE_WORDS.get(row.get("note") or "", ""))
    if row["suppressed"]:
        return {"text": _("suppressed"), "interval": "", "n": "", "suppressed": True, "reason": reason}
    width = row.get("rounded_to") or 0
    number = _rounded if width and not percent else _number
    interval = (
        f"{number(row['ci_low'], percent=percent)} – {number(row['ci_high'], percent=percent)}"
        if row.get("ci_low") is not None and row.get("ci_high") is not None
        else ""
    )
    text = number(row.get("estimate"), percent=percent)
    if width and not percent and row.get("estimate") is not None:
        text = _("≈%(value)s (rounded to %(width)s)") % {"value": text, "width": f"{width:g}"}
    return {
        "text": text,
        "interval": interval,
        "n": "" if row.get("n") is None else f"{row['n']:.0f}",
        "deff": _deff(row),
        "suppressed": False,
        "flag": bool(row.get("attribute_disclosure")),
        "reason": reason if row.get("estimate") is None else "",
    }


def _groups(rows: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """(group variable, group, header) in the order met, the overall column first."""
    seen: OrderedDict[tuple[str, str], str] = OrderedDict()
    seen[("", "")] = _("All")
    for row in rows:
        key = (row["group_variable"] or "", row["group"] or "")
        if key not in seen:
            seen[key] = _("%(variable)s: %(group)s") % {
                "variable": row["group_variable_label"],
                "group": row["group_label"],
            }
    return [(gv, g, header) for (gv, g), header in seen.items()]


def _panel(title: str, rows: list[dict[str, Any]], *, row_key: str, percent: bool, chart: bool) -> Panel:
    """A table of ``rows`` (one statistic) with a row per ``row_key`` value and a column per group."""
    groups = _groups(rows)
    panel = Panel(title=title, columns=[header for _gv, _g, header in groups])
    labels: OrderedDict[str, str] = OrderedDict()
    for row in rows:
        labels.setdefault(row[row_key] or "", row["level_label"] or row["label"])
    index = {(r[row_key] or "", r["group_variable"] or "", r["group"] or ""): r for r in rows}
    for key, label in labels.items():
        cells = [_cell(index.get((key, gv, g)), percent=percent) for gv, g, _header in groups]
        panel.rows.append({"label": label, "cells": cells})
    if chart:
        overall = [index.get((key, "", "")) for key in labels]
        panel.chart = bar_chart(
            title, [(labels[key], r) for key, r in zip(labels, overall, strict=True)], percent=percent
        )
    return panel


def bar_chart(title: str, bars: list[tuple[str, dict[str, Any] | None]], *, percent: bool) -> SafeString:
    """Horizontal bars with their 95% CI as whiskers; suppressed bars are left out and said so.

    An SVG with ``role="img"``, a ``<title>`` and a ``<desc>`` listing every value, so a screen
    reader hears the figures; the table beside it holds the same numbers.
    """
    shown = [
        (label, row)
        for label, row in bars
        if row is not None and not row["suppressed"] and row.get("estimate") is not None
    ]
    if not shown:
        return mark_safe("")
    top = (
        max(1.0, *[r["ci_high"] or r["estimate"] for _l, r in shown])
        if percent
        else max([r["ci_high"] or r["estimate"] for _l, r in shown] + [0.0])
    )
    top = top or 1.0
    width, left, bar, gap = 560, 200, 16, 10
    height = 20 + len(bars) * (bar + gap)
    scale = (width - left - 60) / top
    description = "; ".join(
        f"{label}: {_number(row['estimate'], percent=percent)}"
        if row and not row["suppressed"]
        else f"{label}: {_('suppressed')}"
        for label, row in bars
    )
    parts = []
    for i, (label, row) in enumerate(bars):
        y = 10 + i * (bar + gap)
        parts.append(
            format_html(
                '<text x="{}" y="{}" text-anchor="end" font-size="12">{}</text>',
                left - 8,
                y + bar - 4,
                label[:40],
            )
        )
        if row is None or row["suppressed"] or row.get("estimate") is None:
            parts.append(
                format_html(
                    '<text x="{}" y="{}" font-size="12" fill="#555">{}</text>',
                    left,
                    y + bar - 4,
                    _("suppressed"),
                )
            )
            continue
        x_end = left + max(row["estimate"], 0) * scale
        parts.append(
            format_html(
                '<rect x="{}" y="{}" width="{}" height="{}" fill="#0b5cad"></rect>',
                left,
                y,
                f"{x_end - left:.1f}",
                bar,
            )
        )
        label_x = x_end
        if row.get("ci_low") is not None and row.get("ci_high") is not None:
            low, high = left + max(row["ci_low"], 0) * scale, left + row["ci_high"] * scale
            label_x = max(x_end, high)
            parts.append(
                format_html(
                    '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="#111" stroke-width="2"></line>',
                    f"{low:.1f}",
                    f"{high:.1f}",
                    y + bar // 2,
                    y + bar // 2,
                )
            )
        parts.append(
            format_html(
                '<text x="{}" y="{}" font-size="12">{}</text>',
                f"{label_x + 6:.1f}",
                y + bar - 4,
                _number(row["estimate"], percent=percent),
            )
        )
    ident = _slug(title)
    return format_html(
        '<svg class="results-chart" viewBox="0 0 {} {}" width="100%" role="img" aria-labelledby="{}-t {}-d" xmlns="http://www.w3.org/2000/svg">'
        '<title id="{}-t">{}</title><desc id="{}-d">{}</desc>{}</svg>',
        width,
        height,
        ident,
        ident,
        ident,
        title,
        ident,
        description,
        format_html_join("", "{}", ((p,) for p in parts)),
    )


def _slug(text: str) -> str:
    """A fresh id for a chart's title and description (several charts can share a title)."""
    return "chart-" + uuid.uuid4().hex[:12]


def page_context(payload: dict[str, Any]) -> dict[str, Any]:
    """Sections per question from a snapshot's payload, and the page's notes."""
    by_question: dict[str, list[dict[str, Any]]] = {}
    for row in payload["table"]:
        by_question.setdefault(row["question"], []).append(row)
    why = payload.get("withheld_why", "protection")
    sections = [_section(item, by_question.get(item["question"], []), why) for item in payload["items"]]
    return {
        "payload": {**payload, "notes": notes_in_words(payload)},
        "disclosure": disclosure_sentence(payload["release"], payload["k"]),
        "sections": sections,
        "synthetic": payload["data"] == "synthetic",
        "rounded_medians": any(row.get("rounded_to") and not row["suppressed"] for row in payload["table"]),
        "quality": payload["quality"],
        "speeding_used": fraction_text(payload.get("speeding", QualityRules.speeding)),
        "nonresponse": payload["nonresponse"],
        "dropoff": payload["dropoff"],
    }


def option_label(label: str, question: str) -> str:
    """A multiple-choice option's own words: its variable label (``question: option``, as
    ``analysis.codebook`` writes it in each language) without the question's text before it."""
    for separator in (": ", " — "):
        if question and label.startswith(question + separator):
            return label[len(question) + len(separator) :] or label
    return label


def _tests(item: dict[str, Any]) -> list[dict[str, Any]]:
    """The item's Rao–Scott tests, a p-value below :data:`analysis.aggregates.P_FLOOR` given as
    ``p_below`` (read "p < 0.0001", as the XLSX shows it; four decimals would read 0.0000, and
    Django's floatformat wrote 1.688151035741533e-186)."""
    return [
        {**test, "p_below": P_FLOOR_TEXT}
        if test.get("p_value") is not None and test["p_value"] < P_FLOOR
        else test
        for test in item.get("tests", [])
    ]


def disclosure_sentence(release: dict[str, int | None], k: int) -> str:
    """What disclosure control hid on the page, each count in its own plural form."""
    if release.get("withheld") is None:  # a snapshot kept before figures were counted by why
        primary, complementary = release["primary"] or 0, release["complementary"] or 0
        return " ".join(
            [
                ngettext(
                    "Cells with fewer than %(k)s respondents are suppressed (%(n)s cell),",
                    "Cells with fewer than %(k)s respondents are suppressed (%(n)s cells),",
                    primary,
                )
                % {"k": k, "n": primary},
                ngettext(
                    "and %(n)s more so that none can be worked out from totals or other tables.",
                    "and %(n)s more so that none can be worked out from totals or other tables.",
                    complementary,
                )
                % {"n": complementary},
                _("Shares are rounded to 0.1 point. Intervals are 95%."),
            ]
        )
    primary, complementary, withheld = release["primary"], release["complementary"], release["withheld"]
    parts = {
        "primary": ngettext(
            "%(n)s figure is suppressed because fewer than %(k)s respondents give it",
            "%(n)s figures are suppressed because fewer than %(k)s respondents give them",
            primary,
        )
        % {"n": primary, "k": k},
        "complementary": ngettext(
            "%(n)s more is suppressed so that those cannot be worked out from totals or other tables",
            "%(n)s more are suppressed so that those cannot be worked out from totals or other tables",
            complementary,
        )
        % {"n": complementary},
        "withheld": ngettext(
            "%(n)s is withheld (left out) because it could not be protected",
            "%(n)s are withheld (left out) because they could not be protected",
            withheld,
        )
        % {"n": withheld},
    }
    return " ".join(
        [
            _("Disclosure control on this page: %(primary)s, %(complementary)s, and %(withheld)s.") % parts,
            _("Shares are rounded to 0.1 point. Intervals are 95%."),
        ]
    )


def _section(item: dict[str, Any], rows: list[dict[str, Any]], why: str = "protection") -> Section:
    kind = item["kind"]
    kind_name = str(KIND_NAMES.get(kind, kind))
    if not rows and kind != "text":  # asked of no one released here (another sample's question, say)
        note = _(E_WITHHELD.get(why, E_WITHHELD["protection"])) if item.get("withheld") else _(E_NO_ANSWERS)
        empty = Panel(title=item["label"], columns=[], note=note)
        return Section(item["question"], item["label"], kind_name, [empty], _tests(item))
    panels: list[Panel] = []
    statistic = lambda name: [r for r in rows if r["statistic"] == name]  # noqa: E731
    if kind in {"distribution", "randomized_response"}:
        panels.append(_panel(_("Answers"), statistic("share"), row_key="level", percent=True, chart=True))
    if kind == "battery":
        for variable in item["variables"]:
            part = [r for r in statistic("share") if r["variable"] == variable]
            if part:
                panels.append(_panel(part[0]["label"], part, row_key="level", percent=True, chart=True))
        panels.append(
            _panel(_("Cronbach's alpha"), statistic("alpha"), row_key="variable", percent=False, chart=False)
        )
    if kind == "multiple":
        selected = [
            {**r, "level_label": option_label(r["label"], item["label"])}
            for r in statistic("selected")
            if r["level"] == "1"
        ]
        panels.append(
            _panel(_("Share choosing each option"), selected, row_key="variable", percent=True, chart=True)
        )
    if kind == "ranking":
        panels.append(
            _panel(
                _("Share ranking it first"),
                statistic("ranked_first"),
                row_key="level",
                percent=True,
                chart=True,
            )
        )
        panels.append(
            _panel(
                _("Mean rank (1 = first)"),
                statistic("mean_rank"),
                row_key="level",
                percent=False,
                chart=False,
            )
        )
    if kind == "number":
        for name, title in (("mean", _("Mean")), ("median", _("Median"))):
            panels.append(_panel(title, statistic(name), row_key="statistic", percent=False, chart=False))
    if kind in {"list_experiment", "randomized_response"}:
        panels.append(_indirect_panel(item, rows))
    if kind == "text":
        answers = statistic("answers")
        if not answers or answers[0]["suppressed"]:
            note = _("Free-text answers are not aggregated; how many responses answered is suppressed.")
        else:
            count = round(answers[0]["n"])
            note = ngettext(
                "Free-text answers are not aggregated; %(n)s response answered.",
                "Free-text answers are not aggregated; %(n)s responses answered.",
                count,
            ) % {"n": count}
        panels.append(Panel(title=_("Free text"), columns=[], note=note))
    for panel in panels:
        panel.title = panel.title or item["label"]
    return Section(item["question"], item["label"], kind_name, panels, _tests(item))


def _indirect_panel(item: dict[str, Any], rows: list[dict[str, Any]]) -> Panel:
    """A list experiment's or randomised-response item's indirect estimate, the share of its direct
    question giving the answers that hold the same view, and their difference: a row each, labelled
    as what it is (the list experiment's row by its sensitive statement, not by the counting
    question), with a note where an indirect figure falls outside 0-100%."""
    kind = item["kind"]
    if kind == "list_experiment":
        indirect_label = _("“%(statement)s” — indirect estimate (list experiment)") % {
            "statement": item.get("sensitive") or item["label"]
        }
    else:
        indirect_label = _("%(question)s — indirect estimate (randomised response)") % {
            "question": item["label"]
        }
    indirect = [{**r, "level_label": indirect_label} for r in rows if r["statistic"] == kind]
    direct = [
        {
            **r,
            "level_label": _("“%(question)s”: %(answers)s — direct question")
            % {"question": r["label"], "answers": r["level_label"]},
        }
        for r in rows
        if r["statistic"] == "direct" and r["level"] == "in"
    ]
    gap = [
        {**r, "level_label": _("Difference, indirect − direct (below 0: the direct question overstates)")}
        for r in rows
        if r["statistic"] == "difference"
    ]
    title = (
        _("Indirect estimate of the sensitive attitude beside the direct question")
        if direct or gap
        else _("Indirect estimate of the sensitive attitude")
    )
    panel = _panel(title, [*indirect, *direct, *gap], row_key="statistic", percent=True, chart=False)
    if any(beyond_limits(r) for r in indirect):
        panel.footnote = str(BEYOND_LIMITS[kind])
    return panel
