"""Syntax that applies the codebook to the CSV export: SPSS ``.sps``, Stata ``.do`` and an R snippet.

The CSV holds codes (``analysis.exports.write_csv``, with ``missing_codes`` for the kinds of missing);
these scripts read it, rename variables to the format's legal names (``analysis.varnames``), turn
choice codes into the numbers the ``.sav``/``.dta`` files hold (``Variable.values``), and declare
labels and missing values — what Kobo and LimeSurvey users expect beside the data. What they build
equals the ``.sav``/``.dta`` export of the same responses (tested by interpreting them).

The CSV guards text a spreadsheet would run as a formula with a leading apostrophe (OWASP, "CSV
Injection"; ``analysis.formulas``): it is one file, and whoever receives it may open it in
Excel. SPSS and Stata run no formulas, so the scripts undo the guard (``unneutralise``: one apostrophe
less on a text whose first character after its apostrophes is ``= + - @``, a tab or a carriage
return) and the analyst's data hold the answers as typed, as the ``.sav``/``.dta`` do. A choice code
is matched in the form the CSV writes it (``-1`` Refused is ``'-1`` there).
"""

from __future__ import annotations

import textwrap

from . import missing
from .codebook import Codebook, Variable
from .formulas import DANGEROUS_START, neutralise
from .statfiles import file_label
from .translation import Translate, identity

LABELLED = frozenset({"categorical", "ordinal", "rank", "arm"})
DATES = frozenset({"date"})


def _quote(text: str, quote: str = '"') -> str:
    """A string literal for SPSS/Stata/R: the quote doubled (SPSS) or escaped, line breaks as spaces."""
    text = " ".join(str(text).split())
    if quote == "'":
        return "'" + text.replace("'", "''") + "'"
    return '"' + text.replace('"', "'") + '"'


def _answer(variable: Variable) -> bool:
    return missing.has_status(variable)


def _is_text(variable: Variable) -> bool:
    return variable.kind in {"text", "order", "meta"} and variable.name not in _NUMBER_META


_NUMBER_META = {
    "questionnaire_version",
    "consent_version",
    "duration_seconds",
    "synthetic",
    "display_seed",
    missing.FURTHEST_PAGE,
}


def _spss_char(char: str) -> str:
    return f"X'{ord(char):02X}'" if not char.isprintable() else _quote(char, "'")


def _spss_unguard(name: str) -> str:
    """SPSS: the CSV's formula guard undone (``unneutralise``)."""
    starts = ", ".join(_spss_char(c) for c in DANGEROUS_START)
    return (
        f'IF (CHAR.SUBSTR({name}, 1, 1) = "\'" AND ANY(CHAR.SUBSTR(LTRIM({name}, "\'"), 1, 1), {starts}))'
        f" {name} = CHAR.SUBSTR({name}, 2)."
    )


def _stata_unguard(name: str) -> str:
    """Stata: the CSV's formula guard undone (``unneutralise``), by an ICU regular expression."""
    escaped = {"\t": "\\t", "\r": "\\r", "-": "\\-"}
    starts = "".join(escaped.get(c, c) for c in DANGEROUS_START)
    return f'replace {name} = usubstr({name}, 2, .) if ustrregexm({name}, "^\'+[{starts}]")'


def spss_syntax(
    codebook: Codebook, csv_name: str, language: str = "en", translate: Translate = identity
) -> str:
    """SPSS syntax reading ``csv_name`` (``missing_codes`` export) into a labelled data set; the kinds
    of missing labelled by ``translate``, as in the ``.sav``."""
    names = codebook.file_names("sav")
    columns = []
    for v in codebook.variables:
        fmt = (
            "A32767"
            if _is_text(v) or v.kind in LABELLED or v.kind == "date" or v.name == "completed_on"
            else "F16.6"
        )
        columns.append(f"  {names[v.name]} {fmt}")
    lines = [
        f"* Reads {csv_name} (written with missing codes) as the .sav export holds it.",
        "GET DATA /TYPE=TXT /FILE=" + _quote(csv_name, "'") + " /ENCODING='UTF8'",
        "  /DELIMITERS=',' /QUALIFIER='\"' /ARRANGEMENT=DELIMITED /FIRSTCASE=2",
        "  /VARIABLES=",
        *columns,
        ".",
    ]
    for v in codebook.variables:
        name = names[v.name]
        if v.kind in LABELLED:
            lines += [
                f"RECODE {name} "
                + " ".join(f"({_quote(neutralise(code), chr(39))}={n})" for code, n in v.values.items())
            ]
            codes = v.missing_codes or missing.SPSS_CODES
            lines += [f"  ({_quote(str(c), chr(39))}={c})" for c in codes.values()] + [
                f"  INTO {name}_n.",
                f"DELETE VARIABLES {name}.",
                f"RENAME VARIABLES ({name}_n={name}).",
            ]
        elif v.kind == "date" or v.name == "completed_on":
            lines += [
                f"COMPUTE {name}_n = NUMBER(CHAR.SUBSTR({name}, 1, 10), SDATE10).",
                *(
                    f"IF ({name} = {_quote(str(code), chr(39))}) {name}_n = {code}."
                    for code in (v.missing_codes or missing.SPSS_CODES).values()
                    if _answer(v)
                ),
                f"FORMATS {name}_n (DATE11).",
                f"DELETE VARIABLES {name}.",
                f"RENAME VARIABLES ({name}_n={name}).",
            ]
        elif _is_text(v):
            lines.append(_spss_unguard(name))
    for v in codebook.variables:
        name = names[v.name]
        lines.append(f"VARIABLE LABELS {name} {_quote(file_label(v, language, name), chr(39))}.")
        if v.value_labels and (v.kind in LABELLED or v.kind in {"binary", "flag"}):
            values = v.values or {code: int(code) for code in v.value_labels}
            pairs = " ".join(
                f"{values[c]} {_quote(v.value_label_in(c, language), chr(39))}" for c in v.value_labels
            )
            lines.append(f"ADD VALUE LABELS {name} {pairs}.")
        if _answer(v):
            codes = v.missing_codes or missing.SPSS_CODES
            text = _is_text(v)
            labels = " ".join(
                f"{_quote(str(codes[k]), chr(39)) if text else codes[k]} {_quote(translate(missing.LABELS[k]), chr(39))}"
                for k in missing.KINDS
            )
            lines.append(f"ADD VALUE LABELS {name} {labels}.")
            if text:
                declared = ", ".join(_quote(str(codes[k]), chr(39)) for k in missing.KINDS[:3])
                lines.append(f"MISSING VALUES {name} ({declared}).")
            else:
                lines.append(f"MISSING VALUES {name} ({min(codes.values())} THRU {max(codes.values())}).")
    order = textwrap.wrap(" ".join(names[v.name] for v in codebook.variables), 76)  # as in the .sav
    lines += ["MATCH FILES /FILE=* /KEEP=", *(f"  {line}" for line in order), "."]
    return "\n".join(lines) + "\nEXECUTE.\n"


def stata_syntax(
    codebook: Codebook, csv_name: str, language: str = "en", translate: Translate = identity
) -> str:
    """A Stata do-file reading ``csv_name`` (``missing_codes`` export) as the ``.dta`` export holds it;
    the kinds of missing labelled by ``translate``."""
    names = codebook.file_names("dta")
    lines = [
        f"* Reads {csv_name} (written with missing codes) as the .dta export holds it.",
        f"import delimited using {_quote(csv_name)}, varnames(nonames) rowrange(2) encoding(utf-8) stringcols(_all) clear",
    ]
    for i, v in enumerate(codebook.variables, start=1):
        lines.append(f"rename v{i} {names[v.name]}")
    for v in codebook.variables:
        name = names[v.name]
        codes = v.missing_codes or missing.SPSS_CODES
        if v.kind in LABELLED:  # into a new variable: a code that looks like another's number stays
            lines.append(f"generate double {name}_n = .")
            for code, n in v.values.items():
                lines.append(f"replace {name}_n = {n} if {name} == {_quote(neutralise(code))}")
            if _answer(v):
                for kind in missing.KINDS:
                    letter = missing.STATA_CODES[kind]
                    lines.append(f'replace {name}_n = .{letter} if {name} == "{codes[kind]}"')
            lines += [f"drop {name}", f"rename {name}_n {name}"]
        elif v.kind == "date" or v.name == "completed_on":
            lines.append(f'generate double {name}_d = date({name}, "YMD")')
            lines.append(f"format {name}_d %td")
            if _answer(v):
                for kind in missing.KINDS:
                    lines.append(
                        f'replace {name}_d = .{missing.STATA_CODES[kind]} if {name} == "{codes[kind]}"'
                    )
            lines += [f"drop {name}", f"rename {name}_d {name}"]
        elif not _is_text(v):  # compared as numbers: the CSV may write -97 as -97.0
            lines.append(f"destring {name}, replace")
            if _answer(v):
                for kind in missing.KINDS:
                    lines.append(f"replace {name} = .{missing.STATA_CODES[kind]} if {name} == {codes[kind]}")
        else:  # text: the codes of missing, then the guard (a typed "'-97" is not the code -97)
            if _answer(v):
                for kind in missing.KINDS:
                    lines.append(f'replace {name} = "" if {name} == "{codes[kind]}"')
            lines.append(_stata_unguard(name))
        lines.append(f"label variable {name} {_quote(file_label(v, language, name)[:80])}")
        if name != v.name:
            lines.append(f"notes {name}: original name {v.name}")
        if v.kind in LABELLED and v.coding == "numbered":
            mapping = ", ".join(f"{n} = {code}" for code, n in v.values.items())
            lines.append(f"notes {name}: values {mapping}")
        if (v.value_labels and (v.kind in LABELLED or v.kind in {"binary", "flag"})) or (
            _answer(v) and not _is_text(v)
        ):
            values = v.values or {code: int(code) for code in v.value_labels}
            pairs = [f"{values[c]} {_quote(v.value_label_in(c, language))}" for c in v.value_labels]
            if _answer(v) and not _is_text(v):
                pairs += [
                    f".{missing.STATA_CODES[k]} {_quote(translate(missing.LABELS[k]))}" for k in missing.KINDS
                ]
            lines += [f"label define {name}_l {' '.join(pairs)}, replace", f"label values {name} {name}_l"]
    lines.append("order " + " ".join(names[v.name] for v in codebook.variables))  # as in the .dta
    return "\n".join(lines) + "\n"


def _r_unguard() -> str:
    """An R string of the PCRE pattern matching the CSV's guard (``unneutralise``)."""
    escaped = {"\t": "\\\\t", "\r": "\\\\r"}
    starts = "".join(escaped.get(c, c) for c in DANGEROUS_START if c != "-") + "-"
    return f"\"^'(?='*[{starts}])\""


def r_snippet(codebook: Codebook, file_name: str) -> str:
    """R code reading the export: haven for ``.sav``/``.dta`` (labels and missing kinds kept), readr
    with the JSON codebook otherwise."""
    return (
        "# SPSS: user-missing codes kept as labelled_spss; Stata: .a-.d as tagged NA\n"
        "library(haven)\n"
        f'sav <- read_sav("{file_name.rsplit(".", 1)[0]}.sav", user_na = TRUE)\n'
        f'dta <- read_dta("{file_name.rsplit(".", 1)[0]}.dta")\n'
        "# CSV of codes with the codebook's labels\n"
        "library(readr); library(jsonlite)\n"
        f'data <- read_csv("{file_name.rsplit(".", 1)[0]}.csv", col_types = cols(.default = col_character()))\n'
        f'book <- fromJSON("{file_name}.codebook.json", simplifyVector = FALSE)\n'
        "# the CSV's guard against spreadsheet formulas undone (a leading apostrophe; analysis.formulas)\n"
        f'data[] <- lapply(data, function(x) sub({_r_unguard()}, "", x, perl = TRUE))\n'
        "for (v in book$variables) if (length(v$value_labels) > 0 && v$name %in% names(data))\n"
        "  data[[v$name]] <- factor(data[[v$name]], levels = names(v$value_labels),\n"
        '    labels = vapply(v$value_labels, function(l) l[[1]], ""))\n'
    )
