"""Results for every question of a study: what an analyst reads first, as one tidy table.

For each answered question, on the survey design (weights, strata, calibration) and in every
breakdown asked for (``by``): single choice and Likert items as weighted distributions; multiple
choice as the share selecting each option; rankings as the mean rank of each option and the share
ranking it first; matrix batteries item by item with Cronbach's alpha; numbers and sliders as mean
and median; list experiments and randomised-response items as prevalence estimates beside their
direct question (declared in the XLSForm ``parameters``: ``direct=code`` and
``direct_levels=a,b``; randomised response as ``randomized_response=forced p_truth=0.7
p_forced_yes=0.15 yes=code``). Every figure has its CI, unweighted n and design effect; two-way
tables have the Rao–Scott test (``analysis.crosstab``). Labels are the questionnaire's, in the
language asked for.

Everything is released through :func:`analysis.suppression.disclose` as one release, so a cell
hidden in one table cannot be worked out from another.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from . import linearisation, schema
from .codebook import Codebook, Variable
from .compare import cronbach_alpha
from .crosstab import Crosstab, crosstab
from .design import SurveyDesign, with_data
from .estimates import mean, proportion
from .quantiles import quantile
from .sensitive import (
    compare_list_with_direct,
    compare_randomized_with_direct,
    declared_direct,
    declared_forced_response,
    list_experiment,
    randomized_response,
)
from .suppression import (
    DEFAULT_K,
    Release,
    disclose,
    fingerprints,
    round_count,
    row_keys,
    shows_every_cell,
    union,
    value_bins,
)
from .tally import Tally, cell_fingerprints, crosstab_of_tally, share_estimates, tally
from .weighted_release import Classes, atoms, weighting_classes

SHARE, MEAN, MEDIAN = "share", "mean", "median"
SELECTED, MEAN_RANK, FIRST_RANK, ALPHA = "selected", "mean_rank", "ranked_first", "alpha"
LIST_EXPERIMENT, RANDOMIZED_RESPONSE, DIRECT = "list_experiment", "randomized_response", "direct"
DIFFERENCE = "difference"  # indirect minus direct estimate
SHARE_STATISTICS = frozenset({LIST_EXPERIMENT, RANDOMIZED_RESPONSE, DIFFERENCE})
ROUNDED_TO = "rounded_to"  # a median's released width (analysis.suppression's value_width): 0 exact
ESTIMATE_COLUMNS = ("estimate", "se", "ci_low", "ci_high", "deff")
ANSWERS = "answers"
MIN_ANSWERS = 2  # below this a statistic with a spread (alpha, an interval) is not estimable
SKIPPED_KINDS = frozenset({"meta", "order", "flag", "arm"})
COLUMNS = (
    "question",
    "variable",
    "label",
    "statistic",
    "level",
    "level_label",
    "group_variable",
    "group_variable_label",
    "group",
    "group_label",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "deff",
    "rounded_to",
    "n",
    "suppressed",
    "attribute_disclosure",
    "note",
)
# Why a figure has no value (``note``): hidden by disclosure control (the rule that hid it), or not
# estimable from the answers there are. Codes, so each reader reads them in their language.
NOTE_PRIMARY, NOTE_COMPLEMENTARY, NOTE_VALUE = "primary", "complementary", "value"
NOTE_TOO_FEW, NOTE_NOT_ESTIMABLE = "too_few_answers", "not_estimable"
NOTE_SHOWN_BEFORE = "shown_before"


@dataclass(frozen=True)
class Item:
    """One question's place in the results: what kind of summary it gets and its tests.

    ``kind`` is one of ``distribution``, ``multiple``, ``ranking``, ``battery``, ``number``,
    ``list_experiment``, ``randomized_response``, ``text`` (free text and dates: counted only).
    ``tests`` holds one Rao–Scott test per breakdown and variable: ``{"variable", "by", "f",
    "ndf", "ddf", "p_value"}``, or ``{"variable", "by", "withheld": True}`` when a cell of its
    cross-tab is hidden by disclosure control (the statistic is a function of every cell), or
    ``{"variable", "by", "not_applicable": reason}`` when the cross-tab has one non-empty row or
    column (:func:`untestable`), or ``not_applicable`` :data:`NO_VARIANCE` when the design gives
    its shares no variance (:func:`_has_variance`) or every group gave one answer.
    """

    question: str
    kind: str
    label: str
    variables: tuple[str, ...]
    tests: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class Results:
    """A study's results after disclosure control.

    ``table`` has :data:`COLUMNS` (one row per question × variable × statistic × level × group);
    ``n`` is the number of responses used (rounded as released counts are); ``release`` tells what
    disclosure control did.
    """

    table: pd.DataFrame
    items: list[Item]
    n: int
    by: tuple[str, ...]
    language: str
    release: Release
    notes: list[str] = field(default_factory=list)

    def rows(self, question: str, statistic: str | None = None) -> pd.DataFrame:
        rows = self.table[self.table["question"] == question]
        return rows if statistic is None else rows[rows["statistic"] == statistic]


@dataclass(frozen=True)
class _Context:
    design: SurveyDesign
    codebook: Codebook
    by: tuple[str, ...]
    language: str
    keys: np.ndarray
    group_labels: dict[str, dict[str, str]]
    labels: dict[str, str] = field(default_factory=dict)  # variable or question -> label
    cache: dict[tuple, Any] = field(default_factory=dict)  # codes, level maps and tallies of columns
    bounds: dict[str, tuple[float, float]] = field(default_factory=dict)  # variable -> answers allowed


def parameters_by_question(specs: list[tuple[int, dict[str, Any]]]) -> dict[str, dict[str, str]]:
    """Each question's XLSForm ``parameters`` (the latest version's), items of groups included."""
    found: dict[str, dict[str, str]] = {}
    for _, spec in sorted(specs, key=lambda item: item[0]):
        for section in spec["sections"]:
            for question in section["questions"]:
                for node in (question, *question.get("items", [])):
                    found[node["code"]] = dict(node.get("parameters") or {})
                    low, high = answer_bounds(node)
                    found[node["code"]] |= {
                        k: repr(v) for k, v in ((LOWEST, low), (HIGHEST, high)) if v is not None
                    }
    return found


LOWEST, HIGHEST = "_lowest", "_highest"  # the answers a question allows, as parameters_by_question adds them
_COMPARISON = re.compile(r"^\s*(\.|-?\d+(?:\.\d+)?)\s*(<=|>=|<|>)\s*(\.|-?\d+(?:\.\d+)?)\s*$")


def answer_bounds(node: dict[str, Any]) -> tuple[float | None, float | None]:
    """The lowest and highest answer a number question allows (None where it states none): a
    range's ``start`` and ``end``, and what its ``constraint`` certainly implies — each term of a
    constraint that is only terms joined by ``and`` comparing ``.`` with a number (``. >= 0 and
    . <= 80``). A constraint with ``or``, a function or parentheses states no bound here."""
    bounds: list[tuple[float | None, float | None]] = []
    parameters = node.get("parameters") or {}
    if node.get("type") == "range":
        try:
            ends = sorted(float(parameters[end]) for end in ("start", "end"))
            bounds.append((ends[0], ends[1]))
        except (KeyError, TypeError, ValueError):
            pass
    constraint = str(node.get("constraint") or "")
    if constraint and not re.search(r"\bor\b|[()]", constraint):
        for term in re.split(r"\band\b", constraint):
            match = _COMPARISON.match(term)
            if not match or (match[1] == ".") == (match[3] == "."):
                continue
            number, sign = (
                (float(match[3]), match[2]) if match[1] == "." else (float(match[1]), _FLIP[match[2]])
            )
            bounds.append((number, None) if sign.startswith(">") else (None, number))
    lows = [low for low, _high in bounds if low is not None]
    highs = [high for _low, high in bounds if high is not None]
    return (max(lows) if lows else None), (min(highs) if highs else None)


_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}


def plan(codebook: Codebook, parameters: dict[str, dict[str, str]] | None = None) -> list[Item]:
    """The items of a codebook in questionnaire order, each with the kind of summary it gets."""
    parameters = parameters or {}
    by_question: dict[str, list[Variable]] = {}
    for variable in codebook.variables:
        if variable.kind not in SKIPPED_KINDS:
            by_question.setdefault(variable.question, []).append(variable)
    items = []
    for question, variables in by_question.items():
        kinds = {v.kind for v in variables}
        names = tuple(v.name for v in variables)
        label = _question_label(variables)
        if "count" in kinds:
            kind = LIST_EXPERIMENT
        elif kinds == {"binary"}:
            kind = "multiple"
        elif kinds == {"rank"}:
            kind = "ranking"
        elif len(variables) > 1:
            kind = "battery"
        elif kinds <= {"categorical", "ordinal"}:
            forced = parameters.get(question, {}).get(RANDOMIZED_RESPONSE)
            kind = RANDOMIZED_RESPONSE if forced else "distribution"
        elif kinds == {"numeric"}:
            kind = "number"
        else:
            kind = "text"
        items.append(Item(question, kind, label, names))
    return items


def _question_label(variables: list[Variable], language: str = "en") -> str:
    if len(variables) == 1:
        return variables[0].label_in(language)
    texts = [v.label_in(language) for v in variables]
    prefix = _common_prefix(texts)
    for separator in (" — ", ": "):
        if separator in prefix:
            return prefix[: prefix.rindex(separator)]
    return prefix.strip() or variables[0].question


def _common_prefix(texts: list[str]) -> str:
    first, last = min(texts), max(texts)
    size = next(
        (i for i, (a, b) in enumerate(zip(first, last, strict=False)) if a != b), min(len(first), len(last))
    )
    return first[:size]


CATEGORICAL_KINDS = frozenset({"categorical", "ordinal", "rank", "arm"})


def categorised(frame: pd.DataFrame, codebook: Codebook) -> pd.DataFrame:
    """``frame`` with its sample and its answers of categorical kinds (single choices, rankings,
    list-experiment arms) held as pandas categoricals, categories in sorted order: the same values, factorised once,
    so that every later table, test and flag reads integer codes instead of hashing text again.
    Results built from it are those built from ``frame`` (tested). The input is not changed."""
    names = [schema.SAMPLE, *(v.name for v in codebook.variables if v.kind in CATEGORICAL_KINDS)]
    columns = {
        name: frame[name].astype("category")
        for name in names
        if name in frame and not isinstance(frame[name].dtype, pd.CategoricalDtype)
    }
    return frame.assign(**columns) if columns else frame


def build_results(
    design: SurveyDesign,
    codebook: Codebook,
    *,
    by: tuple[str, ...] = (schema.SAMPLE,),
    k: int = DEFAULT_K,
    language: str = "en",
    parameters: dict[str, dict[str, str]] | None = None,
    group_labels: dict[str, dict[str, str]] | None = None,
    variable_labels: dict[str, str] | None = None,
) -> Results:
    """Every question's results on ``design``, overall and by each variable of ``by``, released
    through one disclosure step with threshold ``k``.

    ``by`` names categorical columns of the data (the sample, or any single-choice question);
    ``parameters`` are the questions' XLSForm parameters (:func:`parameters_by_question`);
    ``group_labels`` and ``variable_labels`` label what the codebook does not know (the sample
    and its names). Raises ``ValueError`` for a ``by`` that is not a column, or ``k`` below 5.
    """
    context, items, tables = results_tables(
        design,
        codebook,
        by=by,
        language=language,
        parameters=parameters,
        group_labels=group_labels,
        variable_labels=variable_labels,
    )
    return released_results(context, items, list(tables), disclose(tables, k=k))


def released_results(context: _Context, items: list[Item], names: list[str], release: Release) -> Results:
    """:class:`Results` from the tables ``names`` of a release that may hold more (non-response,
    flag counts ... released with them): labelled, with the items' Rao–Scott tests. Rows the
    disclosure step withheld (a breakdown it could not protect) are left out."""
    released = [
        _noted(_labelled(context, shown(release.tables[name]), _question_of(name)), release.k)
        for name in names
        if name in release.tables
    ]
    table = pd.concat(released, ignore_index=True) if released else pd.DataFrame(columns=COLUMNS)
    table = _within_bounds(context, table.rename(columns={"value_width": ROUNDED_TO}))
    if ROUNDED_TO in table.columns:  # a hidden median says nothing, its width neither
        table[ROUNDED_TO] = table[ROUNDED_TO].astype(float).mask(table["suppressed"].astype(bool))
    return Results(
        table=_derived_hidden(table.reindex(columns=COLUMNS)),
        items=[_with_tests(context, item, release) for item in items],
        n=round_count(context.design.n),
        by=tuple(context.by),
        language=context.language,
        release=release,
    )


def _derived_hidden(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with each indirect figure computed from shares released beside it hidden where one
    of those is hidden (or left out): a list experiment's or randomised-response item's difference
    (its indirect estimate minus the direct question's share, overall; the randomised-response
    estimate is computed from the share answering yes, so that share is one of them) and a
    randomised-response estimate (``(share answering yes - p_forced_yes) / p_truth`` in its
    group). Shown, each gives the hidden share back, outside the linear system that hid it, as a
    Rao–Scott test over hidden cells would (``suppression.shows_every_cell``); hidden, what is
    shown of it is what the shares show."""
    if table.empty:
        return table
    question, statistic = table["question"].to_numpy(), table["statistic"].to_numpy()
    by = table["group_variable"].fillna("").to_numpy()
    group = table["group"].fillna("").to_numpy()
    hide = np.zeros(len(table), dtype=bool)
    for i in np.flatnonzero(np.isin(statistic, [DIFFERENCE, RANDOMIZED_RESPONSE])):
        if table["suppressed"].iat[i]:
            continue
        if statistic[i] == DIFFERENCE:
            sources = np.isin(statistic, [LIST_EXPERIMENT, RANDOMIZED_RESPONSE, SHARE, DIRECT]) & (by == "")
        else:
            sources = (statistic == SHARE) & (by == by[i]) & (group == group[i])
        hide[i] = not shows_every_cell(table[(question == question[i]) & sources])
    if not hide.any():
        return table
    out = table.copy()
    out.loc[hide, [*ESTIMATE_COLUMNS, "n"]] = np.nan
    out.loc[hide, "suppressed"] = True
    out.loc[hide, "note"] = NOTE_COMPLEMENTARY
    return out


def _within_bounds(context: _Context, table: pd.DataFrame) -> pd.DataFrame:
    """Means and medians with their intervals cut to the answers the question allows (its range's
    start and end, its constraint: :func:`answer_bounds`). A median rounded to a width, its
    interval widened to the width (``analysis.suppression``), and a mean's t interval can reach
    past them ("50 (0 – 100)" for a question of 0 to 80 years); no answer lies there."""
    if table.empty or not context.bounds:
        return table
    table = table.copy()
    numbers = table["statistic"].isin([MEAN, MEDIAN]).to_numpy()
    for variable, (low, high) in context.bounds.items():
        rows = numbers & (table["variable"] == variable).to_numpy()
        if rows.any():
            for column in ("estimate", "ci_low", "ci_high"):
                table.loc[rows, column] = table.loc[rows, column].astype(float).clip(low, high)
    return table


def results_tables(
    design: SurveyDesign,
    codebook: Codebook,
    *,
    by: tuple[str, ...] = (schema.SAMPLE,),
    language: str = "en",
    parameters: dict[str, dict[str, str]] | None = None,
    group_labels: dict[str, dict[str, str]] | None = None,
    variable_labels: dict[str, str] | None = None,
    keys: np.ndarray | None = None,
) -> tuple[_Context, list[Item], dict[str, pd.DataFrame]]:
    """The tables of :func:`build_results` before disclosure control (exact counts, the identities
    of respondent sets): what :func:`analysis.suppression.disclose` is given, for tests and audits.

    ``keys`` are the respondents' fingerprint numbers (``suppression.row_keys`` of every response,
    the rows of ``design`` picked from them), so that figures of two releases over overlapping
    responses share identities; by default ``row_keys(design.n)``."""
    for variable in by:
        if variable not in design.data.columns:
            raise ValueError(f"cannot break down by {variable!r}: it is not a variable of this study")
    parameters = parameters or {}
    items = [_translated(item, codebook, language) for item in plan(codebook, parameters)]
    labels = {item.question: item.label for item in items} | (variable_labels or {})
    keys = row_keys(design.n) if keys is None else keys
    context = _Context(design, codebook, tuple(by), language, keys, group_labels or {}, labels)
    context.bounds.update(
        {
            code: (float(p.get(LOWEST, "-inf")), float(p.get(HIGHEST, "inf")))
            for code, p in parameters.items()
            if LOWEST in p or HIGHEST in p
        }
    )
    tables: dict[str, pd.DataFrame] = {}
    for item in items:
        builder = BUILDERS.get(item.kind)
        parts = (
            builder(context, item, parameters.get(item.question, {}))
            if builder
            else [(ANSWERS, _answered(context, item))]
        )
        for name, frame in parts:
            if not frame.empty:
                tables[f"{item.question}:{name}"] = frame
    return context, items, tables


def _translated(item: Item, codebook: Codebook, language: str) -> Item:
    variables = [codebook.variable(name) for name in item.variables]
    return Item(item.question, item.kind, _question_label(variables, language), item.variables)


# --- building blocks ---------------------------------------------------------------------------


def _breakdowns(context: _Context, variable: str) -> list[str | None]:
    return [None, *[b for b in context.by if b != variable]]


def _codes(context: _Context, column: str, levels: list[str] | None = None) -> tuple[np.ndarray, list[str]]:
    """Row -> level index (-1 missing) and the level codes, in questionnaire order when known
    (computed once per column and levels)."""
    key = (column, tuple(levels) if levels is not None else None)
    if key not in context.cache:
        raw, _ = _raw(context, column)
        mapped, levels = _level_map(context, column, levels)
        context.cache[key] = (_mapped(raw, mapped), levels)
    return context.cache[key]


def _raw(context: _Context, column: str) -> tuple[np.ndarray, pd.Index]:
    """Row -> index of its distinct value (-1 missing) and the distinct values, as ``pandas.factorize``
    gives them: one factorisation per column (cheap for a categorical column, see ``categorised``)."""
    key = ("raw", column)
    if key not in context.cache:
        codes, uniques = pd.factorize(context.design.data[column])
        context.cache[key] = np.asarray(codes, dtype=np.int64), uniques
    return context.cache[key]


def _mapped(raw: np.ndarray, mapped: np.ndarray) -> np.ndarray:
    """Distinct-value indices ``raw`` (-1 missing) through ``mapped`` (:func:`_level_map`): each row's
    level index, -1 when missing. A column nobody answered has no distinct values, so ``mapped`` is
    empty and every row is missing (indexing it first would fail)."""
    if not len(mapped):
        return np.full(len(raw), -1, dtype=np.int64)
    return np.where(raw >= 0, mapped[np.clip(raw, 0, None)], -1)


def _level_map(context: _Context, column: str, levels: list[str] | None) -> tuple[np.ndarray, list[str]]:
    """Distinct value (:func:`_raw`) -> level index (-1: not a level), and the levels: ``levels``, or
    the codebook's followed by the other values present. The values are read as text, as
    ``astype("string")`` would."""
    names = [str(u) for u in _raw(context, column)[1]]
    if levels is None:
        known = context.codebook.variable(column).value_labels if column in context.codebook.names else {}
        present = sorted(set(names))
        levels = [*known, *[p for p in present if p not in known]]
    lookup = {level: i for i, level in enumerate(levels)}
    return np.array([lookup.get(name, -1) for name in names], dtype=np.int64), levels


def _tally(context: _Context, column: str) -> Tally:
    """The group sums of ``column`` crossed with every breakdown (one pass over the rows, kept)."""
    key = ("tally", column)
    if key not in context.cache:
        answer, values = _raw(context, column)
        breakdowns = [_raw(context, b) for b in _breakdowns(context, column)[1:]]
        context.cache[key] = tally(
            context.design,
            answer,
            len(values),
            [(codes, len(uniques)) for codes, uniques in breakdowns],
            context.keys,
        )
    return context.cache[key]


def _share_rows(
    context: _Context,
    variable: str,
    column: str,
    levels: list[str],
    *,
    statistic: str = SHARE,
    estimate: bool = True,
) -> pd.DataFrame:
    """A share table of ``column`` (every level, overall and per breakdown) with unweighted counts
    and the identities of the respondent sets; ``estimate=False`` gives the cells without estimates."""
    tallied = linearisation.applies(context.design)  # else from the rows, breakdown by breakdown
    levels = _level_map(context, column, levels)[1]
    size = len(levels)
    rows = []
    for b in _breakdowns(context, column):
        if tallied:
            groups = [""] if b is None else _level_map(context, b, None)[1]
            fit, cell_keys = _tallied_cells(context, column, levels, b, estimate=estimate)
        else:
            group_codes, groups = (
                (np.zeros(context.design.n, dtype=np.int64), [""]) if b is None else _codes(context, b)
            )
            level_codes = _codes(context, column, levels)[0]
            fit, cell_keys = _counted_cells(
                context, level_codes, levels, group_codes, groups, estimate=estimate
            )
        split = _split(context, column, levels, b, size, len(groups)) if estimate else None
        for g, group in enumerate(groups):
            base = union(cell_keys[g * size : (g + 1) * size])
            if base[2] == 0:
                continue
            for j, level in enumerate(levels):
                found = fit.get((g, j), {})
                rows.append(
                    {
                        "variable": variable,
                        "statistic": statistic,
                        "level": level,
                        "group_variable": b or "",
                        "group": group,
                        "estimate": found.get("estimate", 0.0 if estimate else np.nan),
                        **_defined({c: found.get(c, np.nan) for c in ESTIMATE_COLUMNS[1:]}),
                        "count": cell_keys[g * size + j][2],
                        "n": base[2],
                        "cell": _identity(
                            cell_keys[g * size + j], variable, statistic, b or "", group, level
                        ),
                        "base": ("set", *base),
                        **(_weighted(split, g * size + j, g) if split else {}),
                    }
                )
    return pd.DataFrame(rows)


def _defined(values: dict[str, float]) -> dict[str, float]:
    """``values`` with the design effect not defined (NaN) for an estimate without variance.

    The design effect is the design's variance over that of simple random sampling. A share the
    design fixes (each sample's share of everyone, the samples being strata: 66.0 % (66.0 – 66.0))
    has none, and 0 over a positive variance is no statement about the design's efficiency: it
    read "deff 0.00"."""
    if values.get("se", np.nan) == 0.0:
        return {**values, "deff": np.nan}
    return values


def _classes(context: _Context) -> Classes | None:
    """The design's weighting classes (``analysis.weighted_release``), None when it is unweighted."""
    if "classes" not in context.cache:
        found = weighting_classes(context.design.w) if context.design.n else None
        context.cache["classes"] = found if found is not None and found.size > 1 else None
    return context.cache["classes"]


def _split(
    context: _Context, column: str, levels: list[str], b: str | None, size: int, groups: int
) -> tuple[Classes, list, list] | None:
    """The cells (group * size + level) and groups of a share table split by weighting class."""
    classes = _classes(context)
    if classes is None:
        return None
    level_codes = _codes(context, column, levels)[0]
    group_codes = np.zeros(context.design.n, dtype=np.int64) if b is None else _codes(context, b)[0]
    valid = (level_codes >= 0) & (group_codes >= 0)
    cells = atoms(context.keys, np.where(valid, group_codes * size + level_codes, -1), groups * size, classes)
    bases = atoms(context.keys, np.where(valid, group_codes, -1), groups, classes)
    return classes, cells, bases


def _weighted(split: tuple[Classes, list, list], cell: int, group: int) -> dict[str, Any]:
    """A weighted row's ``atoms``, ``base_atoms`` and ``weighting`` (``analysis.weighted_release``)."""
    classes, cells, bases = split
    return {"atoms": cells[cell], "base_atoms": bases[group], "weighting": classes.identity}


def _tallied_cells(
    context: _Context, column: str, levels: list[str], b: str | None, *, estimate: bool
) -> tuple[dict[tuple[int, int], dict[str, float]], list[tuple[int, int, int]]]:
    """The share estimates keyed by (group, level) and the cells' fingerprints of ``column`` by ``b``,
    from the column's tally (one pass over the rows for every breakdown)."""
    t = _tally(context, column)
    level_of = _mapped(t.answer, _level_map(context, column, levels)[0])
    group_of, g = None, 1
    if b is not None:
        position = _breakdowns(context, column)[1:].index(b)
        mapped, groups = _level_map(context, b, None)
        raw = t.breakdowns[position]
        group_of = _mapped(raw, mapped)
        g = len(groups)
    fit = {}
    if estimate:
        found = share_estimates(context.design, t, level_of, group_of)
        values = {c: found[c].to_numpy(dtype=float) for c in ESTIMATE_COLUMNS}
        fit = {
            (int(d), int(level)): {c: float(values[c][i]) for c in ESTIMATE_COLUMNS}
            for i, (d, level) in enumerate(zip(found["group"], found["level"], strict=True))
        }
    return fit, cell_fingerprints(t, level_of, len(levels), group_of, g)


def _counted_cells(
    context: _Context,
    level_codes: np.ndarray,
    levels: list[str],
    group_codes: np.ndarray,
    groups: list[str],
    *,
    estimate: bool,
) -> tuple[dict[tuple[int, int], dict[str, float]], list[tuple[int, int, int]]]:
    """:func:`_tallied_cells` from the rows, for designs with clusters or replicate weights."""
    valid = (level_codes >= 0) & (group_codes >= 0)
    domain = np.where(valid, group_codes, -1)
    fit: dict[tuple[int, int], dict[str, float]] = {}
    if estimate and valid.any():
        coded = pd.Categorical.from_codes(np.where(valid, level_codes, -1), categories=range(len(levels)))
        data = _narrow(
            context.design, _level=coded, _domain=pd.Categorical.from_codes(domain, range(len(groups)))
        )
        fit = _by_cell(proportion(_same_rows(context.design, data), "_level", by="_domain"))
    size = len(levels)
    return fit, fingerprints(
        context.keys, np.where(valid, domain * size + level_codes, -1), len(groups) * size
    )


def _identity(key: tuple[int, int, int], *names: str) -> tuple:
    """A cell's identity: its respondent set, or its place in the table when it is empty (empty cells
    reveal no one, and one shared "empty set" would tie every table's zeros together)."""
    return ("set", *key) if key[2] else ("empty", *names)


def _statistic_rows(
    context: _Context,
    variable: str,
    statistic: str,
    valid: np.ndarray,
    estimator: Callable[[SurveyDesign, str | None], pd.DataFrame],
    *,
    tag: str = "",
    overall_only: bool = False,
    columns: tuple[str, ...] = (),
) -> pd.DataFrame:
    """One row per group of a statistic (mean, median, alpha ...) with its n and identities.

    ``estimator(design, by)`` returns a frame with ``estimate, se, ci_low, ci_high`` (``deff``
    optional) and, with ``by``, the group in column ``by``; ``valid`` marks the respondents it uses.
    ``tag`` tells apart statistics of one variable over the same respondents (the option of a mean
    rank); ``columns`` are the data the estimator reads.
    """
    rows = []
    for b in [None] if overall_only else _breakdowns(context, variable):
        group_codes, groups = (
            (np.zeros(context.design.n, dtype=np.int64), [""]) if b is None else _codes(context, b)
        )
        domain = np.where(valid & (group_codes >= 0), group_codes, -1)
        ns = np.bincount(domain[domain >= 0], minlength=len(groups))
        if not ns.any():  # nobody in any group: no statistic to estimate
            continue
        keys = fingerprints(context.keys, domain, len(groups))
        classes = _classes(context)
        parts = atoms(context.keys, domain, len(groups), classes) if classes is not None else None
        data = _narrow(
            context.design,
            _group=pd.Categorical.from_codes(domain, range(len(groups))),
            **{c: context.design.data[c] for c in columns},
        )
        fit = estimator(_same_rows(context.design, data), None if b is None else "_group")
        if b is not None and "_group" not in fit.columns:  # no group with an estimate
            continue
        fit = fit.set_index("_group") if b is not None else fit.set_index(pd.Index([0]))
        for g, group in enumerate(groups):
            if ns[g] == 0 or g not in fit.index:
                continue
            row = fit.loc[g]
            values = _defined(
                {c: float(row[c]) if c in row and pd.notna(row[c]) else np.nan for c in ESTIMATE_COLUMNS}
            )
            unknown = np.isnan(values["estimate"])
            rows.append(
                {
                    "variable": variable,
                    "statistic": statistic,
                    "level": None,
                    "group_variable": b or "",
                    "group": group,
                    **values,
                    "count": int(ns[g]),
                    "n": int(ns[g]),
                    "cell": ("stat", variable, statistic, tag, *keys[g]),
                    "base": ("set", *keys[g]),
                    "scale": "share" if statistic in SHARE_STATISTICS else "number",
                    "note": (NOTE_TOO_FEW if ns[g] < MIN_ANSWERS else NOTE_NOT_ESTIMABLE) if unknown else "",
                    **(_weighted((classes, parts, parts), g, g) if parts is not None else {}),
                }
            )
    return pd.DataFrame(rows)


def _per_group(
    fn: Callable[[SurveyDesign], dict[str, float]], columns: list[str]
) -> Callable[[SurveyDesign, str | None], pd.DataFrame]:
    """An estimator for :func:`_statistic_rows` from one that works on a whole design: each group is
    a domain of the full design (its ``columns`` blanked outside the group), as R's ``svyby``."""

    def estimator(design: SurveyDesign, by: str | None) -> pd.DataFrame:
        if by is None:
            return pd.DataFrame([fn(design)])
        rows = []
        codes = design.data[by].cat.codes.to_numpy()
        for g in sorted(set(codes[codes >= 0].tolist())):
            inside = codes == g
            blanked = design.data.assign(**{c: design.data[c].where(inside) for c in columns})
            rows.append({by: g, **fn(_same_rows(design, blanked))})
        return pd.DataFrame(rows)

    return estimator


def _narrow(design: SurveyDesign, **columns: Any) -> pd.DataFrame:
    """The design's own columns (weights, strata, clusters, fpc) with ``columns``: what an estimator
    reads, without copying every answer column."""
    own = [c for c in (design.weights, design.strata, design.clusters, design.fpc) if c]
    return design.data[own].assign(**columns)


def _by_cell(fit: pd.DataFrame) -> dict[tuple[int, int], dict[str, float]]:
    """``proportion(..., by=)`` output keyed by (domain, level)."""
    values = {c: fit[c].to_numpy(dtype=float) for c in ESTIMATE_COLUMNS}
    return {
        (int(d), int(level)): {c: float(values[c][i]) for c in ESTIMATE_COLUMNS}
        for i, (d, level) in enumerate(zip(fit["_domain"], fit["level"], strict=True))
    }


def _scored(context: _Context, columns: dict[str, Any]) -> _Context:
    """The context with extra columns on its design's data."""
    return replace(context, design=_same_rows(context.design, context.design.data.assign(**columns)))


def _same_rows(design: SurveyDesign, data: pd.DataFrame) -> SurveyDesign:
    """``with_data`` keeping what the design computed from its rows (weights, PSUs, calibration
    cells): the rows are the same, only columns were added."""
    derived = with_data(design, data)
    # Computed once here on the parent, then shared with every derived design (cached properties).
    shared = ("w", "_taylor", "df") if not design.is_replicate else ("w",)
    for name in shared:
        getattr(design, name)
    kept = ("w", "df", "has_zero_weights", "_taylor", "_replicates", "_calibration_cells", "_row_groups")
    for name in (*kept, "_tally_rows"):
        if name in design.__dict__:
            derived.__dict__[name] = design.__dict__[name]
    return derived


def _levels(context: _Context, variable: str) -> list[str]:
    return list(context.codebook.variable(variable).value_labels)


# --- one builder per kind of question ----------------------------------------------------------


def _distribution(context: _Context, item: Item, _: dict[str, str]) -> Iterator[tuple[str, pd.DataFrame]]:
    variable = item.variables[0]
    yield SHARE, _share_rows(context, variable, variable, _levels(context, variable))


def _battery(context: _Context, item: Item, _: dict[str, str]) -> Iterator[tuple[str, pd.DataFrame]]:
    """Each item's distribution, and Cronbach's alpha of the item scores (1 = first choice)."""
    for variable in item.variables:
        yield f"{SHARE}:{variable}", _share_rows(context, variable, variable, _levels(context, variable))
    scores = {}
    for variable in item.variables:
        codes, _ = _codes(context, variable, _levels(context, variable))
        scores[f"_score_{variable}"] = np.where(codes >= 0, codes + 1.0, np.nan)
    complete = np.all([~np.isnan(s) for s in scores.values()], axis=0)

    def alpha(design: SurveyDesign) -> dict[str, float]:
        inside = design.data[list(scores)].notna().all(axis=1).to_numpy()
        if inside.sum() < 2:
            return {"estimate": np.nan}
        subset = SurveyDesign(
            design.data.loc[inside, list(scores)].reset_index(drop=True), weight_values=design.w[inside]
        )
        return {"estimate": cronbach_alpha(subset, list(scores))}

    scored = _scored(context, scores)
    yield (
        ALPHA,
        _statistic_rows(
            scored, item.question, ALPHA, complete, _per_group(alpha, list(scores)), columns=tuple(scores)
        ),
    )


def _multiple(context: _Context, item: Item, _: dict[str, str]) -> Iterator[tuple[str, pd.DataFrame]]:
    for variable in item.variables:
        yield (
            f"{SELECTED}:{variable}",
            _share_rows(context, variable, variable, ["1", "0"], statistic=SELECTED),
        )


def _ranking(context: _Context, item: Item, _: dict[str, str]) -> Iterator[tuple[str, pd.DataFrame]]:
    """The share ranking each option first, and each option's mean rank among those who ranked."""
    first = item.variables[0]
    choices = _levels(context, first)
    yield FIRST_RANK, _share_rows(context, first, first, choices, statistic=FIRST_RANK)
    ranks = [_codes(context, variable, choices)[0] for variable in item.variables]
    answered = ranks[0] >= 0
    positions = {}
    for j, choice in enumerate(choices):
        hit = np.column_stack([codes == j for codes in ranks])
        position = np.where(hit.any(axis=1), hit.argmax(axis=1) + 1.0, np.nan)
        positions[f"_rank_{choice}"] = np.where(answered, position, np.nan)
    scored = _scored(context, positions)
    for choice in choices:
        column = f"_rank_{choice}"
        valid = ~np.isnan(positions[column])
        frame = _statistic_rows(
            scored,
            first,
            MEAN_RANK,
            valid,
            lambda d, b, c=column: mean(d, c, b),
            tag=choice,
            columns=(column,),
        )
        yield f"{MEAN_RANK}:{choice}", frame.assign(choice=choice)


def _number(context: _Context, item: Item, _: dict[str, str]) -> Iterator[tuple[str, pd.DataFrame]]:
    variable = item.variables[0]
    valid = pd.to_numeric(context.design.data[variable], errors="coerce").notna().to_numpy()
    yield (
        MEAN,
        _statistic_rows(
            context, variable, MEAN, valid, lambda d, b: mean(d, variable, b), columns=(variable,)
        ),
    )
    medians = _statistic_rows(
        context, variable, MEDIAN, valid, lambda d, b: quantile(d, variable, 0.5, b), columns=(variable,)
    )
    yield MEDIAN, _with_value_bins(context, variable, medians)


def _with_value_bins(context: _Context, variable: str, frame: pd.DataFrame) -> pd.DataFrame:
    """``value_bins``: for each row, ``(width, respondents)`` for every width of
    :data:`analysis.suppression.VALUE_WIDTHS` — how many of the group's answers fall within the
    width around the released value (width 0: exactly it). ``analysis.suppression`` releases the
    median to the finest width at least k answers share."""
    if frame.empty:
        return frame
    data = context.design.data
    values = pd.to_numeric(data[variable], errors="coerce").to_numpy(dtype=float)
    bins = []
    for gv, group, estimate in zip(frame["group_variable"], frame["group"], frame["estimate"], strict=True):
        # A respondent without an answer to the breakdown is in no group of it (NA compares as NA).
        inside = (
            np.ones(len(data), dtype=bool)
            if not gv
            else (data[gv].astype("string") == group).fillna(False).to_numpy(dtype=bool)
        )
        answers = values[inside & ~np.isnan(values)]
        bins.append(value_bins(answers, float(estimate)) if pd.notna(estimate) else None)
    return frame.assign(value_bins=bins)


def _direct_levels(context: _Context, params: dict[str, str]) -> tuple[str, list[str]] | None:
    found = declared_direct(params)
    if found is None or found[0] not in context.design.data.columns or found[0] not in context.codebook.names:
        return None
    return found


def _direct(context: _Context, params: dict[str, str]) -> Iterator[tuple[str, pd.DataFrame]]:
    """The direct question's share answering one of ``direct_levels``, beside an indirect estimate.

    Each "in" cell adds up cells of the direct question's own table (``sum_of``), so disclosure
    control sees that a hidden level there could otherwise be worked out from this sum.
    """
    found = _direct_levels(context, params)
    if found is None:
        return
    direct, levels = found
    own = _levels(context, direct)
    values = context.design.data[direct].astype("string")
    column = f"_direct_{direct}"
    scoped = _scored(
        context, {column: values.isin(levels).map({True: "in", False: "out"}).where(values.notna())}
    )
    frame = _share_rows(scoped, direct, column, ["in", "out"], statistic=DIRECT)
    parts = _share_rows(context, direct, direct, own, estimate=False)
    if frame.empty or parts.empty:  # nobody answered the direct question
        return
    keyed = parts.set_index(["group_variable", "group", "level"])["cell"]
    frame["sum_of"] = [
        [
            keyed.get((gv, g, code))
            for code in own
            if (code in levels) == (level == "in") and (gv, g, code) in keyed.index
        ]
        for gv, g, level in zip(frame["group_variable"], frame["group"], frame["level"], strict=True)
    ]
    yield DIRECT, frame.assign(question_levels=",".join(levels))


def _list_experiment(
    context: _Context, item: Item, params: dict[str, str]
) -> Iterator[tuple[str, pd.DataFrame]]:
    """Prevalence from the item count (control vs treatment list), its direct question and their difference."""
    count = next(v for v in item.variables if context.codebook.variable(v).kind == "count")
    arm = schema.arm_column(count)
    if arm not in context.design.data.columns:
        return
    data = context.design.data
    valid = (pd.to_numeric(data[count], errors="coerce").notna() & data[arm].notna()).to_numpy()

    def estimator(design: SurveyDesign, by: str | None) -> pd.DataFrame:
        return list_experiment(design, count, arm, by=by).assign(deff=np.nan)

    yield (
        LIST_EXPERIMENT,
        _statistic_rows(context, count, LIST_EXPERIMENT, valid, estimator, columns=(count, arm)),
    )
    found = _direct_levels(context, params)
    if found is None:
        return
    yield from _direct(context, params)
    direct, levels = found

    def gap(design: SurveyDesign, by: str | None) -> pd.DataFrame:
        result = compare_list_with_direct(design, count, arm, direct, levels)["difference"]
        return pd.DataFrame([result])

    both = valid & data[direct].notna().to_numpy()
    yield (
        DIFFERENCE,
        _statistic_rows(
            context, count, DIFFERENCE, both, gap, overall_only=True, columns=(count, arm, direct)
        ),
    )


def _randomized(context: _Context, item: Item, params: dict[str, str]) -> Iterator[tuple[str, pd.DataFrame]]:
    """Forced-response prevalence (``analysis.sensitive.randomized_response``) beside the raw answers,
    and, where the item declares its direct question, the direct share and the difference
    (prevalence minus direct share, overall). Both are estimated on the same respondents, so the
    difference's variance is that of one linearised contrast, ``Var(lambda) / p_truth**2 +
    Var(direct) - 2 Cov(lambda, direct) / p_truth`` with the joint design covariance of the yes
    share ``lambda`` and the direct share (Taylor linearisation, Wolter 2007, *Introduction to
    Variance Estimation*, §6; ``sensitive.compare_randomized_with_direct``, as the list
    experiment's difference, ``compare_list_with_direct``)."""
    variable = item.variables[0]
    yield SHARE, _share_rows(context, variable, variable, _levels(context, variable))
    design = declared_forced_response(params)
    if design is None:
        return
    yes, p_truth, p_yes = design.yes, design.p_truth, design.p_forced_yes
    valid = context.design.data[variable].notna().to_numpy()

    def estimate(design: SurveyDesign) -> dict[str, float]:
        if design.data[variable].notna().sum() < 2:
            return {"estimate": np.nan}
        return randomized_response(design, variable, yes=yes, p_truth=p_truth, p_forced_yes=p_yes)

    rows = _statistic_rows(
        context, variable, RANDOMIZED_RESPONSE, valid, _per_group(estimate, [variable]), columns=(variable,)
    )
    yield RANDOMIZED_RESPONSE, rows
    found = _direct_levels(context, params)
    if found is None:
        return
    yield from _direct(context, params)
    direct, levels = found
    data = context.design.data

    def gap(design: SurveyDesign, by: str | None) -> pd.DataFrame:
        if min(design.data[variable].notna().sum(), design.data[direct].notna().sum()) < 2:
            return pd.DataFrame([{"estimate": np.nan}])
        result = compare_randomized_with_direct(
            design, variable, direct, levels, yes=yes, p_truth=p_truth, p_forced_yes=p_yes
        )
        return pd.DataFrame([result["difference"]])

    both = valid & data[direct].notna().to_numpy()
    yield (
        DIFFERENCE,
        _statistic_rows(
            context, variable, DIFFERENCE, both, gap, overall_only=True, columns=(variable, direct)
        ),
    )


def _answered(context: _Context, item: Item) -> pd.DataFrame:
    """Free text and dates: only how many answered (their content is not aggregated)."""
    variable = item.variables[0]
    values = context.design.data[variable]
    valid = (values.notna() & (values.astype("string").str.len() > 0).fillna(False)).to_numpy()
    keys = fingerprints(context.keys, np.where(valid, 0, -1), 1)
    return pd.DataFrame(
        [
            {
                "variable": variable,
                "statistic": ANSWERS,
                "level": None,
                "group_variable": "",
                "group": "",
                "estimate": np.nan,
                "count": int(valid.sum()),
                "n": int(valid.sum()),
                "cell": ("stat", variable, ANSWERS, "", *keys[0]),
                "base": ("set", *keys[0]),
                "scale": "number",
            }
        ]
    )


BUILDERS: dict[str, Callable[[_Context, Item, dict[str, str]], Iterator[tuple[str, pd.DataFrame]]]] = {
    "distribution": _distribution,
    "battery": _battery,
    "multiple": _multiple,
    "ranking": _ranking,
    "number": _number,
    LIST_EXPERIMENT: _list_experiment,
    RANDOMIZED_RESPONSE: _randomized,
}


def _with_tests(context: _Context, item: Item, release: Release) -> Item:
    """Rao–Scott tests of each categorical variable of the item against each breakdown, each
    released only when every cell of its cross-tab (the variable's shares by the breakdown) is
    shown (``suppression.shows_every_cell``); else ``{"variable", "by", "withheld": True}``."""
    if item.kind not in {"distribution", "battery", RANDOMIZED_RESPONSE}:
        return item
    tests: list[dict[str, Any]] = []
    for variable in item.variables:
        for b in context.by:
            if b == variable:
                continue
            cells = _crosstab_cells(release, item, variable, b)
            if not shows_every_cell(cells):
                tests.append({"variable": variable, "by": b, "withheld": True})
                continue
            reason = untestable(cells)
            if reason:
                tests.append({"variable": variable, "by": b, "not_applicable": reason})
                continue
            try:
                table = _crosstab(context, variable, b)
            except (ValueError, np.linalg.LinAlgError, ZeroDivisionError):
                continue
            if not _has_variance(table):
                tests.append({"variable": variable, "by": b, "not_applicable": NO_VARIANCE})
            else:
                tests.append(
                    {
                        "variable": variable,
                        "by": b,
                        "f": table.statistic,
                        "ndf": table.ndf,
                        "ddf": table.ddf,
                        "p_value": table.p_value,
                    }
                )
    return Item(item.question, item.kind, item.label, item.variables, tuple(tests))


ONE_ROW, ONE_COLUMN, DETERMINED, NO_VARIANCE = "one_row", "one_column", "determined", "no_variance"
ZERO_DESIGN_EFFECT = 1e-9  # a mean generalised design effect below this is a variance of nought


def _has_variance(table: Crosstab) -> bool:
    """Whether a Rao–Scott test of ``table`` is defined: its cells' shares vary from one sample of
    the design to another, and the statistic, its degrees of freedom and p are finite numbers.

    The test divides Pearson's X^2 by the mean generalised design effect (Rao & Scott 1984). When
    the design fixes every cell's share (the breakdown is the sample, a stratum, and each sample
    answered one way: every mainland resident lives on the mainland), that effect is nought, and
    floating point leaves it at 1e-17 rather than 0: "F = 7e19". R's ``svychisq`` gives NaN or an
    infinite statistic there; such a test is not applicable (:data:`NO_VARIANCE`), not significant.
    """
    numbers = (table.statistic, table.ndf, table.ddf, table.p_value)
    return bool(np.all(np.isfinite(numbers)) and table.design_effect > ZERO_DESIGN_EFFECT)


def untestable(cells: pd.DataFrame) -> str:
    """Why a cross-tab has no test of independence, or "": ``cells`` are its released share cells
    (every one shown: counts are 0 or at least k), a row per level and group.

    A table with one non-empty column (one group answered) or one non-empty row (every answer the
    same) has no alternative to independence: R's ``svychisq`` gives no test for it (its statistic
    is 0 on degrees of freedom the empty rows or columns do not have), so none is reported:
    :data:`ONE_COLUMN` or :data:`ONE_ROW`. Nor has one whose every group gave one answer only
    (:data:`DETERMINED`: the breakdown determines the answer, as living on the mainland does by
    sample): every cell is 0 or its group's whole n, and the Rao–Scott design effect of such a table
    is nought (samples as strata fix every share) or an artefact of the empty cells, so that the
    statistic read "F = 71406133547608650000.00".
    """
    counts = pd.to_numeric(cells["count"], errors="coerce").fillna(0)
    groups = cells["group"].to_numpy()
    if int((counts.groupby(groups).sum() > 0).sum()) < 2:
        return ONE_COLUMN
    if int((counts.groupby(cells["level"].to_numpy()).sum() > 0).sum()) < 2:
        return ONE_ROW
    if int((counts > 0).groupby(groups).sum().max()) < 2:
        return DETERMINED
    return ""


def _crosstab_cells(release: Release, item: Item, variable: str, b: str) -> pd.DataFrame:
    """The released share cells of ``variable`` by ``b``: the cells a test of their independence
    is computed from (none when the table or the breakdown was withheld)."""
    name = f"{item.question}:{SHARE}" + (f":{variable}" if item.kind == "battery" else "")
    table = release.tables.get(name)
    if table is None:
        return pd.DataFrame(columns=["suppressed"])
    inside = (table["variable"] == variable) & (table["group_variable"] == b) & (table["statistic"] == SHARE)
    return table[inside.to_numpy(dtype=bool)]


def _crosstab(context: _Context, variable: str, b: str) -> Crosstab:
    """:func:`analysis.crosstab` of ``variable`` by ``b``, from the variable's tally when it has one."""
    if not linearisation.applies(context.design):
        return crosstab(context.design, variable, b)
    position = _breakdowns(context, variable)[1:].index(b)
    return crosstab_of_tally(
        context.design, _tally(context, variable), position, _raw(context, variable)[1], _raw(context, b)[1]
    )


def shown(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows of a released table that are released at all (not ``withheld``)."""
    if "withheld" not in frame.columns:
        return frame
    return frame[~frame["withheld"].to_numpy(dtype=bool)]


def _question_of(table: str) -> str:
    """The question a results table belongs to: the item it was built for (``question:statistic``,
    :func:`results_tables`). A direct question's share beside a list experiment is the list
    experiment's, shown with it, though its variable is the direct question's."""
    return table.partition(":")[0]


def _labelled(context: _Context, frame: pd.DataFrame, question: str) -> pd.DataFrame:
    """Question, variable, level and group labels in the chosen language; every row of the table
    is ``question``'s."""
    codebook, language = context.codebook, context.language
    names = set(codebook.names)
    out = frame.copy()
    out["question"] = question
    out["label"] = [
        codebook.variable(v).label_in(language) if v in names else context.labels.get(v, v)
        for v in out["variable"]
    ]
    out["level_label"] = [
        _level_label(codebook, v, level, language, row)
        for v, level, row in zip(out["variable"], out["level"], out.to_dict("records"), strict=True)
    ]
    out["group_variable_label"] = [
        (context.labels.get(b) or (codebook.variable(b).label_in(language) if b in names else b)) if b else ""
        for b in out["group_variable"]
    ]
    if "choice" in out.columns:  # a mean rank's option is its level
        out["level"] = out["choice"].where(out["choice"].notna(), out["level"])
    out["group_label"] = [
        _group_label(context, b, g) for b, g in zip(out["group_variable"], out["group"], strict=True)
    ]
    return out


def _noted(frame: pd.DataFrame, k: int) -> pd.DataFrame:
    """``note``: why a released row has no value: the suppression that hid it (``primary``,
    ``complementary``, ``value``), else the reason it could not be estimated (kept from its build,
    :func:`_statistic_rows`); ``shown_before`` for a row shown though it counts 1 to ``k`` - 1
    respondents, which the threshold rule leaves shown only when releases made before (at a lower
    k, or by a difference of figures they showed) already gave it (``suppression._primary``);
    "" for any other row with a value."""
    if frame.empty:
        return frame.assign(note=pd.Series(dtype=object))
    hidden = frame["suppression"] if "suppression" in frame.columns else pd.Series("", index=frame.index)
    built = frame["note"] if "note" in frame.columns else pd.Series("", index=frame.index)
    suppressed = frame["suppressed"].to_numpy(dtype=bool)
    small = np.zeros(len(frame), dtype=bool)
    for column in ("count", "n"):
        if column in frame.columns:
            counts = pd.to_numeric(frame[column], errors="coerce").fillna(0).to_numpy(dtype=float)
            small |= (counts > 0) & (counts < k)
    if "threshold" in frame.columns:  # item non-response: no threshold on the cell itself
        small &= frame["threshold"].fillna(True).to_numpy(dtype=bool)
    notes = [
        str(rule)
        if hide and rule in {NOTE_PRIMARY, NOTE_COMPLEMENTARY, NOTE_VALUE}
        else (str(why) if isinstance(why, str) and why else NOTE_SHOWN_BEFORE if below else "")
        for hide, rule, why, below in zip(suppressed, hidden, built, small, strict=True)
    ]
    return frame.assign(note=notes)


def _level_label(codebook: Codebook, variable: str, level: Any, language: str, row: dict[str, Any]) -> str:
    choice = row.get("choice")
    if isinstance(choice, str):
        return codebook.variable(variable).value_label_in(choice, language)
    if level is None or pd.isna(level):
        return ""
    if row.get("statistic") == DIRECT:
        levels = str(row.get("question_levels", "")).split(",")
        text = ", ".join(codebook.variable(variable).value_label_in(code, language) for code in levels)
        return text if level == "in" else f"not ({text})"
    if variable in codebook.names:
        return codebook.variable(variable).value_label_in(str(level), language)
    return str(level)


def _group_label(context: _Context, variable: str, group: str) -> str:
    if not variable:
        return ""
    if group in context.group_labels.get(variable, {}):
        return context.group_labels[variable][group]
    if variable in context.codebook.names:
        return context.codebook.variable(variable).value_label_in(group, context.language)
    return group
