"""The codebook for people: one HTML page, words through the caller's ``translate`` (Django's gettext).

Per variable: its name and its SPSS and Stata names, type, the latest wording, values (codes, the
number SPSS and Stata store, labels; a code only earlier versions offered is marked), notes and,
per version, the wording and choices that version asked. Then the kinds of missing, the layouts of
multiple choice and ranking, and R code that reads the files.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from . import missing
from .translation import Translate, gettext_noop, identity, text_in

if TYPE_CHECKING:
    from .codebook import Codebook, Variable

W_TITLE = gettext_noop("Codebook")
W_SYNTHETIC = gettext_noop("Synthetic data: generated from a seeded model, not collected from people.")
W_STUDY = gettext_noop("Study")
W_LANGUAGES = gettext_noop("languages")
W_VARIABLE = gettext_noop("Variable")
W_FILE_NAMES = gettext_noop("SPSS / Stata name")
W_TYPE = gettext_noop("Type")
W_TEXT = gettext_noop("Question text")
W_VALUES = gettext_noop("Values")
W_NOTES = gettext_noop("Notes")
W_VERSIONS = gettext_noop("Versions")
W_VERSION = gettext_noop("Version")
W_SHOWN_WHEN = gettext_noop("shown when")
W_SOURCE = gettext_noop("source")
W_ONLY_EARLIER = gettext_noop("offered in versions {versions} only")
W_NUMBERED = gettext_noop("not integer codes: SPSS and Stata hold the number before each code")
W_MISSING = gettext_noop("Kinds of missing")
W_MISSING_INTRO = gettext_noop(
    "A missing answer says why. CSV, XLSX, Parquet and JSON leave the cell empty, or hold the SPSS code "
    "when exported with missing codes; the column display_not_shown lists what relevance hid."
)
W_KIND = gettext_noop("Kind")
W_SPSS = gettext_noop("SPSS code")
W_STATA = gettext_noop("Stata")
W_LAYOUTS = gettext_noop("Layouts")
W_MULTI = gettext_noop(
    "Multiple choice: one 0/1 variable per option, named question__option; empty (or 'not in version') "
    "where the respondent's version did not offer the option."
)
W_RANK = gettext_noop(
    "Ranking: one variable per place, question__rank1 being the first place, holding the code ranked there."
)
W_NAMES = gettext_noop(
    "SPSS and Stata names: letters, digits and _ only, not reserved, at most 64 bytes (SPSS) or 32 "
    "characters (Stata); a name changed to fit gets _ and six hex digits of its original's SHA-256, and "
    "its label starts with the original name."
)
W_CELLS = gettext_noop(
    "Cells: in the CSV a text starting with = + - @, a tab or a carriage return gets a leading apostrophe, "
    "so that a spreadsheet does not run it as a formula; a number such as -5 or +3 is left as it is, and "
    "the .sps, .do and R code below remove the apostrophe. XLSX cells hold every text as typed (text "
    "cells are never run as formulas). Integer questions and 0/1 variables are written as integers "
    "(18, not 18.0); decimals as answered."
)
W_CONSENT = gettext_noop("Consent and ethics approval")
W_CONSENT_LINE = gettext_noop(
    "Consent version {version}: research team {team}; contact {contact}; ethics approval {committee}, "
    "reference {reference}"
)
W_R = gettext_noop("Reading the files in R")
W_FORM_VERSION = gettext_noop("Version {number}: XLSForm settings version {label}")


def render(codebook: Codebook, language: str, translate: Translate = identity, file_name: str = "") -> str:
    """The codebook page in ``language`` (questionnaire texts) with Candid's words from ``translate``."""
    from .syntax import r_snippet

    e, t = html.escape, translate
    names = {fmt: codebook.file_names(fmt) for fmt in ("sav", "dta")}
    rows = "".join(
        _row(v, language, t, names["sav"][v.name], names["dta"][v.name]) for v in codebook.variables
    )
    banner = f'<p class="synthetic"><strong>{e(t(W_SYNTHETIC))}</strong></p>' if codebook.synthetic else ""
    consent = "".join(
        "<li>"
        + e(
            t(W_CONSENT_LINE).format(
                version=c["version"],
                team=_texts(c["research_team"]),
                contact=_texts(c["contact"]),
                committee=_texts(c["ethics_committee"]),
                reference=c["ethics_reference"] or "—",
            )
        )
        + "</li>"
        for c in codebook.consent
    )
    if consent:
        banner += f"<h2>{e(t(W_CONSENT))}</h2><ul>{consent}</ul>"
    labels = "".join(
        f"<li>{e(t(W_FORM_VERSION).format(number=number, label=label))}</li>"
        for number, label in sorted(codebook.form_versions.items())
    )
    if labels:
        banner += f"<h2>{e(t(W_VERSIONS))}</h2><ul>{labels}</ul>"
    kinds = "".join(
        f"<tr><td><code>{e(k)}</code> {e(t(missing.LABELS[k]))}</td><td>{missing.SPSS_CODES[k]}</td>"
        f"<td>.{missing.STATA_CODES[k]}</td></tr>"
        for k in missing.KINDS
    )
    head = (
        f"<tr><th>{e(t(W_VARIABLE))}</th><th>{e(t(W_FILE_NAMES))}</th><th>{e(t(W_TYPE))}</th>"
        f"<th>{e(t(W_TEXT))}</th><th>{e(t(W_VALUES))}</th><th>{e(t(W_NOTES))}</th><th>{e(t(W_VERSIONS))}</th></tr>"
    )
    return (
        f'<!doctype html><html lang="{e(language)}"><head><meta charset="utf-8">'
        f"<title>{e(t(W_TITLE))} · {e(codebook.title)}</title>"
        "<style>body{font-family:system-ui,sans-serif;margin:2rem}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:.3rem .5rem;vertical-align:top;text-align:left}"
        ".synthetic{background:#ffe3e3;padding:.5rem}.old{color:#666}</style></head>"
        f"<body><h1>{e(t(W_TITLE))}: {e(codebook.title)}</h1>{banner}"
        f"<p>{e(t(W_STUDY))} <code>{e(codebook.study)}</code>; {e(t(W_LANGUAGES))} {e(', '.join(codebook.languages))}.</p>"
        f"<table><thead>{head}</thead><tbody>{rows}</tbody></table>"
        f"<h2>{e(t(W_MISSING))}</h2><p>{e(t(W_MISSING_INTRO))}</p>"
        f"<table><thead><tr><th>{e(t(W_KIND))}</th><th>{e(t(W_SPSS))}</th><th>{e(t(W_STATA))}</th></tr></thead>"
        f"<tbody>{kinds}</tbody></table>"
        f"<h2>{e(t(W_LAYOUTS))}</h2><ul><li>{e(t(W_MULTI))}</li><li>{e(t(W_RANK))}</li><li>{e(t(W_NAMES))}</li><li>{e(t(W_CELLS))}</li></ul>"
        f"<h2>{e(t(W_R))}</h2><pre><code>{e(r_snippet(codebook, file_name or codebook.study + '.csv'))}</code></pre>"
        "</body></html>"
    )


def _texts(texts: dict[str, str]) -> str:
    return "; ".join(f"[{lang}] {text}" for lang, text in texts.items()) or "—"


def _row(v: Variable, language: str, t: Translate, spss: str, stata: str) -> str:
    e = html.escape
    offered = {code: [n for n, w in v.wording.items() if code in w["choices"]] for code in v.value_labels}
    latest = max(v.versions) if v.versions else None
    values = []
    for code in v.value_labels:
        number = v.values.get(code)
        shown = f"{number} = " if number is not None and v.coding == "numbered" else ""
        old = latest is not None and v.wording and latest not in offered[code]
        note = f' <span class="old">({e(t(W_ONLY_EARLIER).format(versions=", ".join(map(str, offered[code]))))})</span>'
        values.append(
            f"{e(shown)}<code>{e(code)}</code> {e(v.value_label_in(code, language))}{note if old else ''}"
        )
    if v.coding == "numbered":
        values.append(f'<span class="old">{e(t(W_NUMBERED))}</span>')
    texts = "<br>".join(f"[{e(lang)}] {e(text)}" for lang, text in v.label.items())
    if len({str(w["label"]) for w in v.wording.values()}) > 1 or any(
        w["choices"] != list(v.value_labels) for w in v.wording.values()
    ):
        texts += "".join(
            f'<br><span class="old">{e(t(W_VERSION))} {n}: {e(text_in(w["label"], language, next(iter(w["label"]), "")))}'
            + (f" [{e(', '.join(w['choices']))}]" if w["choices"] else "")
            + "</span>"
            for n, w in sorted(v.wording.items())
        )
    notes = "; ".join(
        x
        for x in (
            v.relevance and f"{t(W_SHOWN_WHEN)} {v.relevance}",
            v.randomisation,
            v.source and f"{t(W_SOURCE)}: {v.source}",
        )
        if x
    )
    return (
        f"<tr><td><code>{e(v.name)}</code></td><td><code>{e(spss)}</code> / <code>{e(stata)}</code></td>"
        f"<td>{e(v.kind)}</td><td>{texts}</td><td>{'<br>'.join(values)}</td><td>{e(notes)}</td>"
        f"<td>{e(', '.join(map(str, v.versions)))}</td></tr>"
    )
