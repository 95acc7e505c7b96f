"""Disclosure control: the one step every released figure goes through.

A *release* is every table shown together (a results page, an aggregate download, a report). Each
table is tidy: one row per cell, with the respondents behind it. :func:`disclose` decides, for all
tables at once, which cells are hidden, flags group attribute disclosure and rounds what is shown.

The rules (Hundepool et al. 2012, *Statistical Disclosure Control*, Wiley, ch. 5 "Frequency
tables"; Eurostat's confidentiality practice for tables of counts):

* **Primary suppression** (the threshold rule): a cell counting 1 to k - 1 respondents is hidden,
  and so is a whole group (row) of fewer than k respondents. Zero cells are released: they reveal
  no one, but a group whose members all gave one answer is flagged (*group attribute disclosure*,
  Hundepool et al. §5.2): whoever knows a member's group knows their answer.
* **Complementary (secondary) suppression**: what is released implies linear equations — levels sum
  to their group's n, groups sum to the overall figure in every breakdown, groups sum to the
  overall n. A hidden cell is *recoverable* when its unit vector lies in the row space of those
  equations restricted to the hidden cells (the released ones are known numbers). While any hidden
  cell is recoverable, the smallest released cell of an equation through it is hidden too (within a
  table first, a group's n last, since hiding an n hides the group's whole row; Cox 1980, *JASA*
  75(370), for the idea; the greedy choice is Tau-Argus's "hypercube" in spirit). Cells with the
  same respondents are one cell in every table they appear in (see ``cell`` below), so a figure
  hidden in one table is never released by another.
* **The bound x >= 0** (the audit: Hundepool et al. 2012, §5.3): a reader also knows no count is
  negative, and a hidden count that linear algebra leaves free can still be pinned to one whole
  number when every way it could move takes a small hidden count below 0. After the linear check,
  each hidden count must be able to move by a whole respondent (:func:`pinned`, with linear
  programmes); one that cannot gets a further partner (:func:`_bounded`). Hidden zeros are taken
  as known and never chosen as partners (``_System.unknown``).
* **Rounding**: released counts are rounded to the nearest multiple of ``rounding_base`` (5 by
  default: conventional rounding, Hundepool et al. §5.4; Eurostat rounds published counts to a base
  too), shares and their intervals to 0.1 percentage point, other statistics to 2 decimals.
  Decisions are made on the exact counts; rounding is on top.
* **Quantiles**: a median is an answer someone gave (or the mean of two), so it is released only
  as precisely as at least k respondents of its group share: exactly when k gave that very
  answer, else rounded to the finest width of :data:`VALUE_WIDTHS` whose bin around it holds k of
  the group's answers (interval limits widened to the same width), else hidden (``value_bins``
  says how many answers each width holds; ``value_width`` what was used, NaN when hidden). This
  is the threshold rule applied to the released value itself, by global recoding (Hundepool et
  al. 2012, §3.4 on recoding and §5.2 on the threshold rule): no released value is narrower than
  the answers of k respondents, so it is no one's answer in particular.
* **Rounding is not relied on.** A share to 0.1 point of a small group gives its exact n back
  (28.6 % is 2 of 7, and no other group under 10 gives it), so counts rounded to 5 hide nothing
  there. The linear system therefore treats every shown count as exact, and every recovery
  attack in the tests (``tests/analysis/attack.py``, ``tests/survey/test_disclosure_ledger.py``)
  is given the exact counts: hidden cells stay unrecoverable without any rounding. Rounding only
  makes shown figures less precise (Hundepool et al. 2012, §5.4, on rounding as protection of
  its own); shares are not rounded coarser for small groups, since what they could give away
  is already assumed known.

Input tables (``tables`` maps a name to a DataFrame), one row per released figure:

``variable``
    what the figure is about (e.g. ``q1`` or ``q1__a``).
``group_variable``, ``group``
    the breakdown (``""`` and ``""`` for the overall row; e.g. ``"sample"``, ``"china"``).
``level``
    the answer for a share (``None`` for a statistic such as a mean, median or alpha). The levels
    of one group must be all of them (zeros included): they sum to the group's n.
``count``
    unweighted respondents in the cell (for a statistic: its n).
``n``
    unweighted respondents in the group (the row's base).
``cell``, ``base`` (optional)
    identities of the cell's and the group's respondent sets: figures with the same identity are
    the same number wherever they appear. Default: the cell is ``(variable, group_variable, group,
    level)`` and the group ``(variable, group_variable, group)``. :func:`set_keys` makes identities
    from the rows themselves.
``scale`` (optional)
    ``"share"`` (rounded to 0.1 point) or ``"number"``; default ``"share"`` for rows with a level.
``sum_of`` (optional)
    for a cell that adds up cells released elsewhere (a top-box share: "agree" = "strongly agree"
    + "somewhat agree"), the ``cell`` identities of its parts; the equation joins the release, so
    a part hidden in its own table cannot be worked out from the sum. ``base_sum_of`` (optional)
    says the same of the row's ``base``.
``implied`` (optional, bool)
    a figure that is never shown but that a reader can write down (the respondents a release
    left out: a figure without exclusions minus the same figure with them; "not flagged" beside a
    flag count). It starts hidden, unless a shown row has the same identity, and it is protected
    only when it counts 1 to k - 1 respondents.
``threshold`` (optional, bool, default true)
    false for a cell that the threshold rule does not hide by itself (item non-response: the
    number of responses minus the question's n, both shown anyway); a cell with the same
    identity in another row is still hidden when that row is under k.

``fixed`` are tables released before (with their exact ``count`` and ``n``, and the ``suppressed``
column :func:`disclose` gave them) that a reader holds beside this release — the same results
without exclusions beside results that leave flagged responses out; every release made before
from the same data (``survey.services.disclosure``). Their equations join the system, their
hidden cells stay hidden and must stay unrecoverable, their shown cells cannot be hidden now
(they are known), and their implied figures are protected as this release's own are.

After the tables have been made safe one by one (each with the tables it shares a sum with), the
whole release is checked as one system — every table's equations together — and the smallest
block of equations in which a hidden cell is still recoverable gets a further partner, until none
is (differencing across tables: Hundepool et al. 2012, §5.3 "linked tables").

Beside releases made before, what was shown stays known: a figure of this release one equation
away from figures shown before (a claim's "no", the answers it adds up, each shown by the results
page) is taken as shown before too (``_given_before``), so it is shown again and never hidden as a
partner — hiding it would protect no one. A hidden cell of a new breakdown can still be tied by the
breakdown's own equation to figures all shown already (the same respondents as a figure another
release showed), so that no cell of this release is left to hide. That breakdown of the table (its
rows with that group variable) is then *withheld*: left out of the release altogether, with its
equation, and the decision made again without it.

A **weighted** row (a share or statistic estimated with unequal weights) carries ``atoms``,
``base_atoms`` and ``weighting`` (``analysis.weighted_release``): its cell's and group's
respondents split by weighting class. Its weighted total is a different sum of respondents than its
count, and an exact one gives the split away, so such a row is hidden when any class part counts
1 to k - 1 respondents (also when its count was shown unweighted before: the weighted total is new),
the parts of hidden rows are implied figures that must stay unrecoverable from the class-by-class
equations, and a weighted release whose own parts tie more than :data:`WEIGHTED_BLOCK_MAX` unknowns
together is refused (:class:`WeightedReleaseTooLarge`) rather than decided past the time a page has.
A release is never refused for the size of a block that releases made before made (``fixed``: a
weighted results page beside a later claims report): every release was decided beside all those
before it, so such a block was checked already and is not checked again, and the figures of this
release that would join it are withheld (``_too_large``).

Every other numeric column (``estimate``, ``se``, ``ci_low``, ``ci_high``, ``deff``, ``n_eff``,
``median`` ...) is masked (NA) in a hidden row. :func:`disclose` returns a :class:`Release` whose
tables carry ``suppressed`` (bool), ``suppression`` (``"primary"``, ``"complementary"``,
``"withheld"``, :data:`VALUE` — a quantile no width of :data:`VALUE_WIDTHS` lets k answers share
— or ``""``), ``withheld`` (bool: a row not to show at all) and
``attribute_disclosure`` (bool, on every row of a flagged group).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .weighted_release import ATOM_COLUMNS, WeightedTerms, row_atoms, row_totals, weighted_equations

MIN_K = 5
DEFAULT_K = 10
ROUNDING_BASE = 5
TRIED_PARTNERS = 40  # candidates tried per step (each costs one rank computation)
GRAM_ABOVE = 200  # unknowns above which ``determined`` reads the null space from A'A
BLOCK_TRIED = 150  # hidden figures in a block of the whole-release check above which none are tried
WEIGHTED_BLOCK_MAX = 1500  # unknowns of a block with class parts beyond which a weighted release is refused
BOUNDED_PARTNERS = 40  # cells hidden per release to widen what counts >= 0 pin (each costs a few LPs)
WITHHOLD_ROUNDS = 6  # decisions made again, each time without the breakdowns that could not be protected
OVERALL = ""
FIXED = "\0fixed:"  # names of tables released before, inside the system
STATISTIC = "∑"  # the level of a statistic's cell: its (weighted) total, additive like a count

E_K_TOO_SMALL = "k must be at least 5 (got {k}); smaller thresholds do not protect respondents"
E_COLUMNS = "table {table!r} lacks the columns {columns}"
E_WEIGHTED_TOO_LARGE = (
    "the weighted figures tie {unknowns} unknown counts together (more than {limit}): too many to check "
    "in the time a release has"
)


class WeightedReleaseTooLarge(ValueError):
    """A weighted release whose class parts make one block of equations too large to decide in time."""


KEY_COLUMNS = ("variable", "group_variable", "group", "level", "count", "n")
LABEL_COLUMNS = {
    "_table",
    "variable",
    "group_variable",
    "group",
    "level",
    "cell",
    "base",
    "scale",
    "suppression",
    "sum_of",
    "base_sum_of",
    "implied",
    "threshold",
    "withheld",
    "value_bins",
    "value_width",
    *ATOM_COLUMNS,
}
SHARE_COLUMNS = ("estimate", "se", "ci_low", "ci_high")
VALUE = "value"  # the suppression of a quantile hidden because no released width holds k answers
VALUE_WIDTHS = (0.0, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 10000.0)
NUMBER_DECIMALS = 2


def check_k(k: int) -> int:
    """``k`` itself, or ``ValueError`` when it is below :data:`MIN_K`."""
    if k < MIN_K:
        raise ValueError(E_K_TOO_SMALL.format(k=k))
    return k


@dataclass
class _System:
    """The cells of one release and the equations among them (sparse rows of +1/-1)."""

    count: dict[Hashable, int] = field(default_factory=dict)
    is_base: dict[Hashable, bool] = field(default_factory=dict)
    is_margin: dict[Hashable, bool] = field(default_factory=dict)  # stands in an overall row
    equations: dict[str, list[tuple[list[Hashable], dict[Hashable, float]]]] = field(default_factory=dict)
    rows_of_base: dict[Hashable, set[Hashable]] = field(default_factory=dict)  # base -> its row cells
    tables_of: dict[Hashable, set[str]] = field(default_factory=dict)
    cell_tables: dict[Hashable, set[str]] = field(default_factory=dict)  # where a key is a cell
    sums: list[tuple[str, Hashable, tuple[Hashable, ...]]] = field(default_factory=list)
    links: dict[str, set[str]] = field(default_factory=dict)  # table -> tables checked with it
    implied: set[Hashable] = field(default_factory=set)  # figures of implied rows
    shown: set[Hashable] = field(default_factory=set)  # figures of rows that are shown
    checked: set[Hashable] = field(default_factory=set)  # figures the threshold rule applies to
    fixed: set[Hashable] = field(
        default_factory=set
    )  # shown in a release made before (or given by it): known
    fixed_equations: set[frozenset] = field(default_factory=set)  # stated by releases made before
    hidden_before: set[Hashable] = field(default_factory=set)  # hidden in a release made before
    implied_before: set[Hashable] = field(default_factory=set)  # implied in a release made before
    stuck: set[Hashable] = field(default_factory=set)  # recoverable, and nothing left to hide
    carriers: dict[Hashable, set[Hashable]] = field(
        default_factory=dict
    )  # atom -> weighted totals showing it
    atoms_of: dict[Hashable, set[Hashable]] = field(default_factory=dict)  # weighted total -> class parts
    twins: dict[Hashable, set[Hashable]] = field(
        default_factory=dict
    )  # hidden together: cell, weighted total
    atoms: set[Hashable] = field(default_factory=set)  # every class part
    own_atoms: set[Hashable] = field(default_factory=set)  # class parts of this release's weighted rows

    def cell(self, table: str, key: Hashable, count: int, *, base: bool, margin: bool = False) -> Hashable:
        self.count.setdefault(key, int(count))
        self.is_base[key] = self.is_base.get(key, False) or base
        self.is_margin[key] = self.is_margin.get(key, False) or margin
        self.tables_of.setdefault(key, set()).add(table)
        return key

    def unknown(self, hidden: set[Hashable]) -> set[Hashable]:
        """The hidden figures the disclosure check solves for: every hidden figure but those of
        zero respondents (not a weighted total, whose count here is a placeholder).

        A reader knows every count is at least 0, so a hidden zero bounds the figures it adds up
        with: where each way the others could move would take it below 0, a linear programme
        pins them although linear algebra leaves them free (a hidden 1 beside zero partners in
        a sparse table: ``tests/analysis/test_suppression.py``). Taken as known, hidden zeros
        leave only ways that move counts of one or more, which the bound ``x >= 0`` does not
        close. For the same reason a zero is never chosen as a partner (τ-ARGUS can likewise be
        told not to use zero cells for secondary suppression)."""
        return {key for key in hidden if not self.zero(key)}

    def zero(self, key: Hashable) -> bool:
        """Whether ``key`` counts no respondents (a weighted total's count here is a placeholder)."""
        return self.count[key] == 0 and key not in self.atoms_of

    def equation(self, table: str, terms: dict[Hashable, float]) -> None:
        if len(terms) > 1:
            self.equations.setdefault(table, []).append((list(terms), terms))


@dataclass(frozen=True)
class Release:
    """Tables after disclosure control, and how it went.

    ``tables`` hold the input rows with hidden values masked, figures rounded and the columns
    ``suppressed``, ``suppression`` and ``attribute_disclosure`` added; ``k`` and
    ``rounding_base`` are the rules applied; ``primary`` and ``complementary`` count hidden cells.
    """

    tables: dict[str, pd.DataFrame]
    k: int
    rounding_base: int
    primary: int
    complementary: int

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.tables[name]


def shows_every_cell(rows: pd.DataFrame) -> bool:
    """Whether a figure computed from all of ``rows`` — cells of a released table, such as the
    cross-tab behind a Rao–Scott test of independence — may be released beside them: only when
    there are rows and every one is shown (not ``suppressed``, which withheld rows are too).

    A test statistic is a nonlinear function of every cell of its table: beside the shown cells it
    is one more equation on the hidden ones, outside the linear system that decided to hide them,
    so it could narrow or give them back (the reasoning of linked tables, Hundepool et al. 2012,
    *Statistical Disclosure Control*, Wiley, §5.3, applied to a derived figure).
    """
    return len(rows) > 0 and not rows["suppressed"].to_numpy(dtype=bool).any()


def disclose(
    tables: Mapping[str, pd.DataFrame],
    *,
    k: int = DEFAULT_K,
    rounding_base: int = ROUNDING_BASE,
    rounding: bool = True,
    fixed: Mapping[str, pd.DataFrame] | None = None,
    fixed_links: Mapping[str, Sequence[str]] | None = None,
) -> Release:
    """Suppress, flag and round every table of one release together (see the module docstring).

    Raises ``ValueError`` when ``k`` is below 5 or a table lacks a required column. Inputs are not
    changed. With ``rounding=False`` figures keep their precision (for a verdict computed from
    them); every hiding decision is the same. ``fixed``: tables released before, held beside this
    release (their decisions stand; only this release's cells are hidden further);
    ``fixed_links`` names, for a fixed table, the tables of this release checked with it (those
    its ``sum_of`` parts come from). Other links between tables come from shared figures.
    """
    check_k(k)
    frames = {name: _prepared(name, frame) for name, frame in tables.items()}
    withheld = {name: np.zeros(len(frame), dtype=bool) for name, frame in frames.items()}
    for _round in range(WITHHOLD_ROUNDS):
        kept = {name: frame[~withheld[name]] for name, frame in frames.items()}
        system, hidden, primary = _decided(kept, k, fixed, fixed_links)
        more = _to_withhold(system, kept)
        if not more:
            break
        for name, rows in more.items():
            withheld[name] |= frames[name].index.isin(rows)
    out = {}
    if frames:  # decided in one pass over every row, then handed back table by table
        every = pd.concat([f.assign(_table=name) for name, f in frames.items()], ignore_index=True)
        aside = np.concatenate([withheld[name] for name in frames])
        decided = _released(every, hidden, primary, rounding_base if rounding else 0, aside, k)
        parts = dict(iter(decided.groupby("_table", sort=False)))
        out = {name: parts[name].drop(columns="_table").set_axis(frames[name].index) for name in frames}
    new = hidden - system.hidden_before
    n_primary = len(primary & new)
    return Release(out, k, rounding_base, n_primary, len(new) - n_primary)


def _decided(
    frames: Mapping[str, pd.DataFrame],
    k: int,
    fixed: Mapping[str, pd.DataFrame] | None,
    fixed_links: Mapping[str, Sequence[str]] | None,
) -> tuple[_System, set[Hashable], set[Hashable]]:
    """The system of a release and its hidden figures (primary, complementary, whole-release)."""
    system = _System()
    for name, frame in frames.items():
        _add_table(system, name, frame)
    for name, frame in (fixed or {}).items():
        _add_fixed(system, f"{FIXED}{name}", frame)
    _add_sums(system)
    system.fixed_equations = {
        frozenset(terms.items())
        for table, equations in system.equations.items()
        if table.startswith(FIXED)
        for _keys, terms in equations
    }
    _given_before(system)
    for name, others in (fixed_links or {}).items():
        for other in others:
            if other in frames:
                system.links.setdefault(f"{FIXED}{name}", set()).add(other)
                system.links.setdefault(other, set()).add(f"{FIXED}{name}")
    hidden, primary = _primary(system, k)
    hidden = _complementary(system, hidden, k)
    hidden = _whole(system, hidden, k)
    hidden = _bounded(system, hidden, k)
    return system, hidden, primary


def _to_withhold(system: _System, frames: Mapping[str, pd.DataFrame]) -> dict[str, pd.Index]:
    """Rows to leave out of the release when a hidden cell stays recoverable whatever is hidden.

    That happens beside releases made before: an equation of this release (a breakdown's groups
    add up to the overall figure; a row's levels add up to its n) can tie a hidden figure to
    figures all shown already; and a figure can join a block of releases made before too large to
    check (``_too_large``). Every figure so tied is decided with them: a breakdown row's whole
    breakdown (its rows with the same group variable) is not released, nor is its equation; an
    overall row (its cell or its n stuck) takes every row of its variable in the table with it,
    since the overall row is what each breakdown of the variable adds up to. (A figure the figures
    shown before give — a yes/no split whose "yes" and n were shown — is shown, not stuck:
    ``_given_before``.)
    """
    out: dict[str, pd.Index] = {}
    for name, frame in frames.items():
        touched = np.array(
            [
                c in system.stuck
                or b in system.stuck
                or t in system.stuck
                or not system.stuck.isdisjoint(atoms)
                for c, b, t, atoms in zip(
                    frame["cell"], frame["base"], row_totals(frame), row_atoms(frame), strict=True
                )
            ],
            dtype=bool,
        )
        if not touched.any():
            continue
        overall = (frame["group_variable"] == OVERALL).to_numpy()
        breakdowns = set(frame.loc[touched & ~overall, "group_variable"])
        variables = set(frame.loc[touched & overall, "variable"])
        rows = frame["group_variable"].isin(breakdowns) | frame["variable"].isin(variables)
        out[name] = frame.index[rows.to_numpy()]
    return out


def _add_fixed(system: _System, name: str, frame: pd.DataFrame) -> None:
    """A table released before: its equations, its shown figures known, its hidden ones hidden."""
    frame = _prepared(name, frame)
    weighted = _add_table(system, name, frame, before=True)
    suppressed = frame["suppressed"].fillna(True).to_numpy(dtype=bool)
    implied = _flags(frame, "implied", False)
    for i, total, parts in weighted.carried:  # a weighted row shown before gave its class parts away
        if suppressed[i] or implied[i]:
            system.hidden_before.add(total)
        else:
            system.fixed |= {total, *parts}
    for cell, base, hidden, unshown in zip(frame["cell"], frame["base"], suppressed, implied, strict=True):
        if unshown:  # never shown there: protected now as this release's own implied figures are
            system.implied_before |= {cell, base}
            continue
        if hidden:  # a hidden row shows neither its figure nor its group's n
            system.hidden_before |= {cell, base}
        else:
            system.fixed |= {cell, base}
    system.hidden_before -= system.fixed
    # An implied figure of a release made before is as this release's own, unless a release
    # showed it (known) or hid it (a hidden figure stays protected whatever its count).
    system.implied |= system.implied_before - system.fixed - system.hidden_before


def _prepared(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in KEY_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(E_COLUMNS.format(table=name, columns=", ".join(missing)))
    frame = frame.copy()
    frame["group_variable"] = frame["group_variable"].fillna(OVERALL).astype(str)
    frame["group"] = frame["group"].where(frame["group_variable"] != OVERALL, OVERALL)
    frame["group"] = frame["group"].fillna(OVERALL).astype(str)
    statistic = frame["level"].isna()
    if "cell" not in frame.columns:
        frame["cell"] = [
            (v, gv, g, STATISTIC if s else str(level))
            for v, gv, g, level, s in zip(
                frame["variable"],
                frame["group_variable"],
                frame["group"],
                frame["level"],
                statistic,
                strict=True,
            )
        ]
    if "base" not in frame.columns:
        frame["base"] = list(zip(frame["variable"], frame["group_variable"], frame["group"], strict=True))
    if "scale" not in frame.columns:
        frame["scale"] = np.where(statistic, "number", "share")
    return frame


def _add_table(system: _System, name: str, frame: pd.DataFrame, *, before: bool = False) -> WeightedTerms:
    """Cells of one table and its equations: rows sum to the group's n; groups to the overall.

    Terms are kept by position in the table (row, or group) and added up afterwards, so a cell that
    stands in two places of one equation (the same respondents as the overall figure, when the other
    groups are empty) gets its net coefficient.
    """
    counts = frame["count"].fillna(0).to_numpy(dtype=float)
    ns = frame["n"].fillna(0).to_numpy(dtype=float)
    statistic = frame["level"].isna().to_numpy()
    rows: dict[tuple, dict[tuple, tuple[Hashable, float]]] = {}
    columns: dict[tuple, dict[tuple, tuple[Hashable, float]]] = {}
    bases: dict[tuple, dict[tuple, tuple[Hashable, float]]] = {}
    breakdowns = sorted({*frame["group_variable"]} - {OVERALL})
    implied = _flags(frame, "implied", False)
    threshold = _flags(frame, "threshold", True)
    levels = frame["level"].tolist()  # one conversion, not an element lookup per row
    for i, (variable, gv, group, cell, base) in enumerate(
        zip(
            frame["variable"],
            frame["group_variable"],
            frame["group"],
            frame["cell"],
            frame["base"],
            strict=True,
        )
    ):
        system.cell(name, cell, counts[i], base=False, margin=gv == OVERALL)
        system.cell_tables.setdefault(cell, set()).add(name)
        system.cell(name, base, ns[i], base=True, margin=gv == OVERALL)
        system.rows_of_base.setdefault(base, set()).add(cell)
        if not before:
            (system.implied if implied[i] else system.shown).update((cell, base))
            system.checked.update((cell, base) if threshold[i] else (base,))
        level = STATISTIC if statistic[i] else levels[i]
        sign = -1.0 if gv == OVERALL else 1.0
        if not statistic[i]:
            row = rows.setdefault((variable, gv, group), {("n",): (base, -1.0)})
            row[("cell", i)] = (cell, 1.0)
        for target in [gv] if gv != OVERALL else breakdowns:
            columns.setdefault((variable, level, target), {})[(gv, group)] = (cell, sign)
            bases.setdefault((variable, target), {})[(gv, group)] = (base, sign)
    # Groups add up to a released overall figure only: without it their sum is not known.
    overall = [t for t in (*columns.values(), *bases.values()) if (OVERALL, OVERALL) in t]
    for terms in (*rows.values(), *overall):
        net: dict[Hashable, float] = {}
        for key, coefficient in terms.values():
            net[key] = net.get(key, 0.0) + coefficient
        system.equation(name, {key: c for key, c in net.items() if c != 0.0})
    for column, keys in (("sum_of", frame["cell"]), ("base_sum_of", frame["base"])):
        if column in frame.columns:
            for key, parts in zip(keys, frame[column], strict=True):
                if isinstance(parts, list | tuple) and parts:
                    system.sums.append((name, key, tuple(parts)))
    return _add_weighted(system, name, frame, before=before)


def _add_weighted(system: _System, name: str, frame: pd.DataFrame, *, before: bool) -> WeightedTerms:
    """The weighted rows' class parts (atoms) and their equations (``analysis.weighted_release``).

    Atoms are figures never shown (implied: protected when they count 1 to k - 1 respondents),
    known while a row carrying them is shown (its weighted total gives its split away).
    """
    terms = weighted_equations(frame, OVERALL)
    system.atoms |= set(terms.atoms)
    if not before:
        system.own_atoms |= set(terms.atoms)
    for key, count in terms.atoms.items():
        system.cell(name, key, count, base=False)
        (system.implied_before if before else system.implied).add(key)
    cells = frame["cell"].tolist()
    for i, total, parts in terms.carried:
        cell = cells[i]
        system.cell(name, total, 0, base=False)
        system.twins.setdefault(total, set()).add(cell)
        system.twins.setdefault(cell, set()).add(total)
        if not before:
            system.checked.add(total)
        system.atoms_of.setdefault(total, set()).update(parts)
        for key in parts:
            system.carriers.setdefault(key, set()).add(total)
    for equation in terms.equations:
        system.equation(name, equation)
    return terms


def _flags(frame: pd.DataFrame, column: str, default: bool) -> np.ndarray:
    """A boolean column of the table, ``default`` where absent or missing."""
    if column not in frame.columns:
        return np.full(len(frame), default)
    return frame[column].astype(object).where(frame[column].notna(), default).astype(bool).to_numpy()


def _add_sums(system: _System) -> None:
    """Equations of cells that add up cells of other tables; those tables are checked together."""
    for table, cell, parts in system.sums:
        if not all(part in system.count for part in parts):
            continue  # a part released nowhere is unknown: the sum reveals none of them
        terms = {cell: -1.0}
        for part in parts:
            terms[part] = terms.get(part, 0.0) + 1.0
            # Linked through the part's own tables, not every table sharing a group's n with it
            # (that would check nearly the whole release at once); the whole-release check
            # (``_whole``) sees the rest.
            for other in () if table.startswith(FIXED) else system.cell_tables.get(part, ()):
                if other != table:
                    system.links.setdefault(table, set()).add(other)
                    system.links.setdefault(other, set()).add(table)
        system.equation(table, terms)


def _given_before(system: _System) -> None:
    """Take as known (``system.fixed``) every figure of this release that the figures shown before
    already give: one equation away from figures all known (a claim's "no" is the answers it adds
    up, each shown by the results page; a share's "no" is its n less its "yes", both shown).

    Such a figure is known to a reader whatever this release does: hiding it protects no one, and
    hiding it as a partner made it "recoverable" from figures shown already, so its whole breakdown
    was withheld (``_to_withhold``) — a claims report emptied by ordinary use of the results page,
    though what was shown stays known. Figures hidden or implied before, and weighted totals and
    their class parts, are never taken so: they are decided by the check itself (a hidden figure
    tied to shown ones by this release's equations is withheld with its breakdown, as before).
    """
    if not system.fixed:
        return
    excluded = system.hidden_before | system.implied_before | system.atoms | set(system.atoms_of)
    equations = _unique_equations(system)
    through: dict[Hashable, list[int]] = {}
    for i, (keys, _terms) in enumerate(equations):
        for key in keys:
            through.setdefault(key, []).append(i)
    known = set(system.fixed)
    queue = list(range(len(equations)))
    while queue:
        keys, _terms = equations[queue.pop()]
        rest = [key for key in keys if key not in known]
        if len(rest) != 1 or rest[0] in excluded:
            continue
        known.add(rest[0])
        queue.extend(through[rest[0]])
    system.fixed |= known


def _primary(system: _System, k: int) -> tuple[set[Hashable], set[Hashable]]:
    """Cells under k (the threshold rule), the rows of groups under k, figures hidden before and
    implied figures shown nowhere; never a figure shown before."""
    primary = {
        key
        for key, count in system.count.items()
        if 0 < count < k and key in system.checked and key not in system.fixed
    }
    hidden = set(primary) | system.hidden_before | (system.implied - system.shown)
    # A weighted row shows its class parts (its weighted total, exact, pins them): one with a part
    # of 1 to k - 1 respondents is hidden, and a part is unknown only while each row with it is.
    # (The count of such a row may be known, shown unweighted before: its weighted total is new.)
    weighted = {
        total
        for total, parts in system.atoms_of.items()
        if total in system.checked
        and total not in system.fixed
        and any(0 < system.count[p] < k for p in parts)
    }
    primary |= weighted
    hidden |= weighted
    for base in [key for key in primary if system.is_base[key]]:
        hidden |= system.rows_of_base.get(base, set())
    hidden |= {twin for key in hidden for twin in system.twins.get(key, ())}
    hidden -= {
        atom for atom, totals in system.carriers.items() if not totals <= hidden | system.hidden_before
    }
    return hidden - system.fixed, primary


def _protected(system: _System, key: Hashable, k: int) -> bool:
    """Whether a hidden figure must stay unrecoverable: any non-zero one, except an implied figure
    shown nowhere that counts k or more respondents (a group a reader may work out)."""
    count = system.count[key]
    if count <= 0:
        return False
    return count < k or key not in system.implied or key in system.shown or key in system.hidden_before


def _complementary(system: _System, hidden: set[Hashable], k: int) -> set[Hashable]:
    """Hide cells until no hidden cell of any table is recoverable from that table's equations.

    Tables share cells (a group's n, figures with one respondent set), so a table is checked again
    whenever one of its cells becomes hidden elsewhere; hiding only ever removes knowledge, so a
    table found safe stays safe, and the loop ends because each step hides a new cell.
    """
    hidden = set(hidden)
    queue = list(system.equations)
    queued = set(queue)
    while queue:
        table = queue.pop(0)
        queued.discard(table)
        equations = [
            *system.equations[table],
            *(e for other in sorted(system.links.get(table, ())) for e in system.equations.get(other, [])),
        ]
        while (partner := _next_partner(system, equations, hidden, k)) is not None:
            newly = _hide(system, partner, hidden)
            hidden |= newly
            touched = {t for cell in newly for t in system.tables_of.get(cell, ())}
            touched |= {linked for t in touched for linked in system.links.get(t, ())}
            for other in sorted(touched):
                if other != table and other not in queued and other in system.equations:
                    queue.append(other)
                    queued.add(other)
    return hidden


def _hide(system: _System, partner: Hashable, hidden: set[Hashable]) -> set[Hashable]:
    """What hiding ``partner`` hides (a group's n hides its rows), beyond ``hidden``."""
    newly = {partner} | (system.rows_of_base.get(partner, set()) if system.is_base[partner] else set())
    # A class part is unknown only once no row shows its weighted total: hiding it hides them.
    newly |= system.carriers.get(partner, set())
    newly |= {twin for key in newly for twin in system.twins.get(key, ())}
    after = hidden | newly
    newly |= {
        atom
        for total in newly
        for atom in system.atoms_of.get(total, ())
        if system.carriers[atom] <= after  # no row shows it any more
    }
    return newly - hidden - system.fixed


def _whole(system: _System, hidden: set[Hashable], k: int) -> set[Hashable]:
    """Check every equation of the release together; while a hidden figure is recoverable, give
    the block of equations it is recovered from (those linked through hidden figures) a partner.

    Tables made safe one by one can still give a figure away together (a question's n, the number
    of responses and its missing count; a flag count and the answers it adds up). The equations
    fall apart into blocks that share no hidden figure, each solved on its own and only again
    when it changes. Each step hides one more figure, so the loop ends.
    """
    hidden = set(hidden)
    equations = _unique_equations(system)
    safe: set[frozenset[Hashable]] = set()

    def recoverable(keys: frozenset[Hashable], block: list) -> list[Hashable]:
        if _too_large(system, keys, block, hidden):
            return []
        return [key for key in _recoverable(block, sorted(keys, key=repr)) if _protected(system, key, k)]

    while True:
        exposed = _first_exposed(equations, system.unknown(hidden), safe, recoverable)
        if exposed is None:
            return hidden
        keys, block, _found = exposed
        # Trials cost a rank computation each: on a large block, the ranked choice next to the cell.
        tries = TRIED_PARTNERS if len(keys) <= BLOCK_TRIED else 0
        partner = _next_partner(system, block, hidden, k, tries=tries)
        if partner is None:  # nothing left to hide there (``system.stuck``): the other blocks
            safe.add(keys)
            continue
        hidden |= _hide(system, partner, hidden)


def _too_large(
    system: _System,
    keys: frozenset[Hashable],
    block: list[tuple[list[Hashable], dict[Hashable, float]]],
    hidden: set[Hashable],
) -> bool:
    """Whether a block is too large to check (more than :data:`WEIGHTED_BLOCK_MAX` unknowns with
    class parts) and made by releases made before: then it is not checked, and this release's
    figures that join it (:func:`_joining`) are withheld (``system.stuck``, ``_to_withhold``).

    Raises :class:`WeightedReleaseTooLarge` when this release's own class parts are in it: a
    weighted release too fine to check is refused, as it is alone. An unweighted release (a claims
    report beside a weighted results page) is never refused for the size of what came before.
    """
    if len(keys) <= WEIGHTED_BLOCK_MAX or system.atoms.isdisjoint(keys):
        return False
    if not system.own_atoms.isdisjoint(keys):
        raise WeightedReleaseTooLarge(
            E_WEIGHTED_TOO_LARGE.format(unknowns=len(keys), limit=WEIGHTED_BLOCK_MAX)
        )
    system.stuck |= _joining(system, keys, block, hidden)
    return True


def _joining(
    system: _System,
    keys: frozenset[Hashable],
    block: list[tuple[list[Hashable], dict[Hashable, float]]],
    hidden: set[Hashable],
) -> set[Hashable]:
    """This release's figures that change a block of equations of releases made before: the
    figures of an equation no release made before states, a figure unknown now that was not
    before, or one known now that was unknown before (a class part whose weighted total this
    release shows). Empty when the block is as a release made before left it.

    Every release is decided beside all those recorded before it, so the last one checked the
    whole block of their equations: a block they alone make needs no check again (its size was
    theirs to answer for). A block too large to check in the time a release has is therefore
    never a reason to refuse a later release — its figures that join it are withheld instead,
    with their breakdowns (``_to_withhold``), and the block stays as it was decided.
    """
    ours = {key for key, tables in system.tables_of.items() if any(not t.startswith(FIXED) for t in tables)}
    unknown_before = system.hidden_before | system.implied_before
    joining: set[Hashable] = set()
    for terms_keys, terms in block:
        if frozenset(terms.items()) not in system.fixed_equations:
            joining |= set(terms_keys) & ours
    unknown = system.unknown(hidden)
    for key in {key for terms_keys, _ in block for key in terms_keys} & ours:
        if (key in unknown) != (key in unknown_before and not system.zero(key)):
            joining.add(key)
    return joining


def _first_exposed(
    equations: list[tuple[list[Hashable], dict[Hashable, float]]],
    unknown: set[Hashable],
    safe: set[frozenset[Hashable]],
    check: Callable[[frozenset[Hashable], list], list[Hashable]],
) -> tuple[frozenset[Hashable], list, list[Hashable]] | None:
    """The first block of ``equations`` over the ``unknown`` figures (:func:`_components`), not in
    ``safe``, where ``check(keys, block)`` finds figures: ``(keys, block, found)``, or None. A block
    where it finds none joins ``safe``, and is not checked again while it stays as it is."""
    for keys, block in _components(equations, unknown):
        if keys in safe:
            continue
        if found := check(keys, block):
            return keys, block, found
        safe.add(keys)
    return None


def _unique_equations(system: _System) -> list[tuple[list[Hashable], dict[Hashable, float]]]:
    """Every equation of the release once, however many tables (and releases made before) state it."""
    return list({frozenset(e[1].items()): e for table in system.equations.values() for e in table}.values())


def _bounded(system: _System, hidden: set[Hashable], k: int) -> set[Hashable]:
    """Hide further cells while a hidden count is pinned by the equations *and* ``x >= 0``.

    Linear algebra leaves a hidden figure free when some way of moving the hidden figures keeps
    every equation; a reader also knows that no count is below 0, and when every such way would
    take a small hidden count below 0, a linear programme narrows the figure to one whole number
    (the audit of Tau-Argus: Hundepool et al. 2012, *Statistical Disclosure Control*, Wiley,
    §5.3 "Audit"; de Wolf 2002 on protection intervals). A hidden count ``v`` is protected here when
    the equations and ``x >= 0`` allow ``v + 1`` or ``v - 1`` (:func:`pinned`). While one is pinned,
    the largest released cell of an equation through it is hidden (it has room to move; else any
    released cell of the block, :func:`_widening_partner`), the release made linear-safe again
    (:func:`_whole`) and audited again, up to :data:`BOUNDED_PARTNERS` cells; a count still pinned
    after that joins ``system.stuck``, and ``disclose`` withholds its breakdown.
    """
    hidden = set(hidden)
    equations = _unique_equations(system)
    safe: set[frozenset[Hashable]] = set()
    # Hiding only adds unknowns, which only widens what x >= 0 allows: a count found free stays free.
    free: set[Hashable] = set()

    def audit(keys: frozenset[Hashable], block: list, *, first: bool = True) -> list[Hashable]:
        if _too_large(system, keys, block, hidden):
            return []
        targets = [
            key for key in keys if key not in free and key not in system.stuck and _protected(system, key, k)
        ]
        found = pinned(block, sorted(keys, key=repr), system.count, targets, first=first) if targets else []
        if not found or not first:  # a first pinned count leaves the others undecided
            free.update(set(targets) - set(found))
        return found

    for _step in range(BOUNDED_PARTNERS):
        exposed = _first_exposed(equations, system.unknown(hidden), safe, audit)
        if exposed is None:
            return hidden
        _keys, block, found = exposed
        partner = _widening_partner(system, block, found, hidden)
        if partner is None:
            system.stuck |= set(found)
            continue
        hidden = _whole(system, hidden | _hide(system, partner, hidden), k)
    for keys, block in _components(equations, system.unknown(hidden)):
        if keys not in safe:
            system.stuck |= set(audit(keys, block, first=False))
    return hidden


def _widening_partner(
    system: _System,
    equations: list[tuple[list[Hashable], dict[Hashable, float]]],
    found: list[Hashable],
    hidden: set[Hashable],
) -> Hashable | None:
    """A released cell next to the pinned counts ``found`` to hide: of the equations through them
    (else through any hidden figure of the block), the largest count that is not a group's n (a
    group's n last: it hides the group's whole row), never a zero or a figure released before."""
    targets = set(found)
    free = {
        key
        for keys, _ in equations
        for key in keys
        if key not in hidden and key not in system.fixed and not system.zero(key)
    }
    pool = {key for keys, _ in equations if targets & set(keys) for key in keys} & free or free
    if not pool:
        return None
    return min(
        pool, key=lambda key: (system.is_base[key], system.is_margin[key], -system.count[key], repr(key))
    )


def pinned(
    equations: list[tuple[list[Hashable], dict[Hashable, float]]],
    unknowns: list[Hashable],
    values: Mapping[Hashable, float],
    targets: list[Hashable],
    *,
    first: bool = False,
) -> list[Hashable]:
    """Which ``targets`` the equations and ``x >= 0`` pin to their value (``first``: stop at one).

    ``equations`` are ``(keys, {key: coefficient})`` (each sums to 0); ``unknowns`` the hidden
    figures; ``values`` every figure's true value (the known ones are constants; the unknowns'
    true values give the right-hand side, ``A x = A v``). A target ``t`` is pinned when no ``x >= 0``
    with ``A x = A v`` has ``x_t >= v_t + 1`` or ``x_t <= v_t - 1``: a reader who knows the counts
    are whole numbers then knows it. Decided with few linear programmes: all open targets are pushed
    up together (each capped at ``v_t + 1``), then down, and only those that neither pass reach
    one programme each (HiGHS, through ``scipy.optimize.linprog``).
    """
    from scipy.optimize import linprog
    from scipy.sparse import csr_array

    index = {key: j for j, key in enumerate(unknowns)}
    rows = [e for e in equations if any(key in index for key in e[0])]
    if not rows or not targets:
        return []
    data, row_ids, col_ids = [], [], []
    for i, (_, terms) in enumerate(rows):
        for key, coefficient in terms.items():
            if key in index:
                data.append(coefficient)
                row_ids.append(i)
                col_ids.append(index[key])
    matrix = csr_array((data, (row_ids, col_ids)), shape=(len(rows), len(unknowns)))
    v = np.array([float(values[key]) for key in unknowns])
    rhs = matrix @ v
    open_ = {index[key] for key in targets}
    reach = 1.0 - 1e-6

    def solve(objective: np.ndarray, bounds: list[tuple[float, float | None]]) -> np.ndarray | None:
        result = linprog(objective, A_eq=matrix, b_eq=rhs, bounds=bounds, method="highs")
        return result.x if result.status == 0 else None

    for direction in (1.0, -1.0):  # up, then down: all open targets at once while that helps
        while open_:
            objective = np.zeros(len(unknowns))
            bounds: list[tuple[float, float | None]] = [(0.0, None)] * len(unknowns)
            for j in open_:
                objective[j] = -direction
                bounds[j] = (0.0, v[j] + 1.0) if direction > 0 else (max(v[j] - 1.0, 0.0), None)
            x = solve(objective, bounds)
            if x is None:
                break
            moved = {j for j in open_ if direction * (x[j] - v[j]) >= reach}
            open_ -= moved
            if len(moved) * 10 < len(open_) + len(moved):  # a tenth or less moved: one at a time
                break
    found = []
    for j in sorted(open_):  # one at a time, nothing else capped; each solution may free others too
        for direction in (1.0, -1.0):
            if j not in open_:
                break
            objective = np.zeros(len(unknowns))
            objective[j] = -direction
            result = linprog(objective, A_eq=matrix, b_eq=rhs, bounds=(0, None), method="highs")
            if result.status == 3:
                open_.discard(j)
            elif result.status == 0:
                open_ -= {i for i in open_ if abs(result.x[i] - v[i]) >= reach}
        if j in open_:
            found.append(unknowns[j])
            if first:
                break
    return found


def _components(
    equations: list[tuple[list[Hashable], dict[Hashable, float]]], hidden: set[Hashable]
) -> list[tuple[frozenset[Hashable], list[tuple[list[Hashable], dict[Hashable, float]]]]]:
    """The equations with a hidden figure, in blocks that share none (with their hidden figures)."""
    parent: dict[Hashable, Hashable] = {}

    def root(key: Hashable) -> Hashable:
        parent.setdefault(key, key)
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    touching = []
    for equation in equations:
        inside = [key for key in equation[0] if key in hidden]
        if inside:
            touching.append((inside, equation))
            first = root(inside[0])
            for key in inside[1:]:
                other = root(key)
                if other != first:
                    parent[other] = first
    blocks: dict[Hashable, tuple[set[Hashable], list]] = {}
    for inside, equation in touching:
        keys, rows = blocks.setdefault(root(inside[0]), (set(), []))
        keys.update(inside)
        rows.append(equation)
    return [(frozenset(keys), rows) for keys, rows in blocks.values()]


def _next_partner(
    system: _System,
    equations: list[tuple[list[Hashable], dict[Hashable, float]]],
    hidden: set[Hashable],
    k: int,
    *,
    tries: int = TRIED_PARTNERS,
) -> Hashable | None:
    """The released cell to hide next, or None when no hidden cell of these equations is recoverable."""
    unknown = system.unknown(hidden)
    unknowns = sorted({key for keys, _ in equations for key in keys if key in unknown}, key=repr)
    if not unknowns:
        return None
    # A hidden zero that can be worked out reveals no one (zeros are released anyway).
    recoverable = [key for key in _recoverable(equations, unknowns) if _protected(system, key, k)]
    if not recoverable:
        return None
    targets = set(recoverable)
    if not tries:  # no trials: protect the smallest recoverable figure first, from its own equations
        targets = {min(recoverable, key=lambda key: (system.count[key], repr(key)))}
    free = [
        key
        for keys, _ in equations
        for key in keys
        if key not in hidden and key not in system.fixed and not system.zero(key)
    ]
    pool = {key for keys, _ in equations if targets & set(keys) for key in keys} & set(free)
    if not pool:  # every cell next to them is hidden: widen to any equation with a hidden cell
        pool = set(free)
    # Inside the table first (a cycle of hidden cells), then the overall figures, a group's n last
    # (it hides the group's whole row in every table); small non-zero counts before others.
    ranked = sorted(
        pool,
        key=lambda key: (
            system.is_base[key],
            len(system.rows_of_base.get(key, ())) if system.is_base[key] else 0,
            system.is_margin[key],
            system.count[key] == 0,
            system.count[key],
            repr(key),
        ),
    )
    # The first cell that protects some recoverable cell; else the first cell (two steps may be
    # needed, as when each of two rows pins its own small cell). A group's n only when no cell is
    # left: hiding an n hides that group's row in every table of the same respondents.
    cells = [key for key in ranked if not system.is_base[key]]
    for candidate in cells[:tries]:
        trial = sorted({*unknowns, candidate}, key=repr)
        still = {key for key in _recoverable(equations, trial) if _protected(system, key, k)}
        if targets - still:
            return candidate
    if not ranked:  # every other figure of these equations is known: see ``_to_withhold``
        system.stuck |= targets
        return None
    return cells[0] if cells else ranked[0]


def _recoverable(
    equations: list[tuple[list[Hashable], dict[Hashable, float]]], unknowns: list[Hashable]
) -> list[Hashable]:
    """Hidden cells fixed by the equations: those orthogonal to the null space of the hidden part."""
    index = {key: j for j, key in enumerate(unknowns)}
    equations = [e for e in equations if any(key in index for key in e[0])]  # others say nothing
    matrix = np.zeros((len(equations), len(unknowns)))
    for i, (_, terms) in enumerate(equations):
        for key, coefficient in terms.items():
            if key in index:
                matrix[i, index[key]] = coefficient
    return [unknowns[j] for j in np.nonzero(determined(matrix))[0]]


def determined(matrix: np.ndarray) -> np.ndarray:
    """For ``A x = b`` with ``A`` of shape (equations, unknowns): which unknowns the system fixes.

    An unknown is fixed when its unit vector is in the row space of ``A``, i.e. every null-space
    vector is zero there. Returns a boolean array of length ``A.shape[1]``.
    """
    if matrix.size == 0:
        return np.zeros(matrix.shape[1], dtype=bool)
    if matrix.shape[1] > GRAM_ABOVE:
        # A large block (a release beside the one without exclusions): the null space of A is that
        # of the symmetric A'A, whose eigendecomposition costs a fraction of A's SVD.
        values, vectors = np.linalg.eigh(matrix.T @ matrix)
        null = vectors[:, values <= 1e-10 * max(float(values[-1]), 1.0)]
        return np.linalg.norm(null, axis=1) < 1e-6 if null.size else np.ones(matrix.shape[1], dtype=bool)
    if matrix.shape[0] > matrix.shape[1]:  # R of A = QR has A's row space, in far fewer rows
        matrix = np.linalg.qr(matrix, mode="r")
    _, singular, vt = np.linalg.svd(matrix, full_matrices=True)
    tolerance = max(matrix.shape) * np.finfo(float).eps * (singular[0] if len(singular) else 1.0)
    rank = int(np.sum(singular > max(tolerance, 1e-9)))
    null = vt[rank:]
    if null.shape[0] == 0:
        return np.ones(matrix.shape[1], dtype=bool)
    return np.linalg.norm(null, axis=0) < 1e-8


def _released(
    frame: pd.DataFrame,
    hidden: set[Hashable],
    primary: set[Hashable],
    base: int,
    withheld: np.ndarray,
    k: int,
) -> pd.DataFrame:
    cells = frame["cell"].tolist()
    bases = frame["base"].tolist()
    totals = row_totals(frame)  # a weighted row is hidden with its weighted total too
    suppressed = np.array(
        [c in hidden or b in hidden or t in hidden for c, b, t in zip(cells, bases, totals, strict=True)],
        dtype=bool,
    )
    first = np.array(
        [c in primary or b in primary or t in primary for c, b, t in zip(cells, bases, totals, strict=True)],
        dtype=bool,
    )
    first &= ~withheld
    suppressed |= withheld
    out = frame.copy()
    out["suppressed"] = suppressed
    out["suppression"] = np.where(
        withheld, "withheld", np.where(first, "primary", np.where(suppressed, "complementary", ""))
    )
    out["withheld"] = withheld
    if "value_bins" in out.columns:
        out = _coarsened(out, k).drop(columns="value_bins")
    out["attribute_disclosure"] = _attribute_disclosure(frame)
    values = [
        c
        for c in out.columns
        if c not in LABEL_COLUMNS
        and pd.api.types.is_numeric_dtype(out[c])
        and not pd.api.types.is_bool_dtype(out[c])
    ]
    out[values] = out[values].astype(float).mask(suppressed[:, None].repeat(len(values), axis=1))
    return _rounded(out, base) if base else out


def value_bins(answers: np.ndarray, value: float) -> list[tuple[float, int]]:
    """``(width, answers within it)`` for each of :data:`VALUE_WIDTHS`: the answers equal to
    ``value`` (width 0), or in ``[r - w/2, r + w/2)`` around ``r``, ``value`` rounded to ``w``."""
    out = []
    for width in VALUE_WIDTHS:
        if not width:
            out.append((width, int(np.sum(answers == value))))
            continue
        centre = np.floor(value / width + 0.5) * width
        out.append((width, int(np.sum((answers >= centre - width / 2) & (answers < centre + width / 2)))))
    return out


def _coarsened(frame: pd.DataFrame, k: int) -> pd.DataFrame:
    """Quantiles released to the finest width at least k answers share (see the module docstring)."""
    widths = []
    for i, bins in enumerate(frame["value_bins"]):
        if not isinstance(bins, list | tuple) or not bins:
            widths.append(np.nan)
            continue
        width = next((float(w) for w, count in bins if count >= k), np.nan)
        widths.append(width)
        label = frame.index[i]
        if np.isnan(width):
            for column in [c for c in (*SHARE_COLUMNS, "deff") if c in frame.columns]:
                frame.loc[label, column] = np.nan
            if not frame.at[label, "suppressed"]:  # hidden by this rule alone: say so, as a threshold
                frame.loc[label, "suppressed"] = True
                frame.loc[label, "suppression"] = VALUE
        elif width:
            value = float(frame.at[label, "estimate"])
            frame.loc[label, "estimate"] = np.floor(value / width + 0.5) * width
            frame.loc[label, "se"] = np.nan  # the standard error of an unrounded figure would undo it
            for column, edge in (("ci_low", np.floor), ("ci_high", np.ceil)):
                if column in frame.columns and pd.notna(frame.at[label, column]):
                    frame.loc[label, column] = edge(float(frame.at[label, column]) / width) * width
    frame["value_width"] = widths
    return frame


def _attribute_disclosure(frame: pd.DataFrame) -> np.ndarray:
    """Rows of a group (of a share table) in which every respondent gave the same answer.

    A group is its own rows: one table's rows of one variable, breakdown, group and base. Keyed by
    variable and base alone, the overall rows of several tables (or a breakdown whose one group is
    everyone) shared a key, and a level held by all in one of them flagged the rest. The release's
    own counts (responses used, answered or missing, flags, drop-off) are not answers.
    """
    share = frame["level"].notna().to_numpy().copy()
    if "_table" in frame.columns:
        share &= ~frame["_table"].astype(str).str.startswith("release:").to_numpy()
    if not share.any():
        return np.zeros(len(frame), dtype=bool)
    table = frame["_table"] if "_table" in frame.columns else pd.Series("", index=frame.index)
    keys = pd.Series(
        [
            repr(group)
            for group in zip(
                table, frame["variable"], frame["group_variable"], frame["group"], frame["base"], strict=True
            )
        ],
        index=frame.index,
    )
    parts = pd.DataFrame({"key": keys, "count": frame["count"].fillna(0), "n": frame["n"].fillna(0)})
    parts = parts[share]
    levels = parts.groupby("key")["count"].size()
    full = parts[(parts["count"] == parts["n"]) & (parts["n"] > 0)]["key"]
    flagged = set(full[full.map(levels) > 1])
    return keys.isin(flagged).to_numpy() & share


def _rounded(frame: pd.DataFrame, base: int) -> pd.DataFrame:
    """Counts to the nearest multiple of ``base`` (halves up); shares to 0.1 point; numbers to 2 decimals."""
    for column in ("count", "n"):
        frame[column] = np.floor(frame[column] / base + 0.5) * base
    share = (frame["scale"] == "share").to_numpy()
    for column in [c for c in (*SHARE_COLUMNS, "median") if c in frame.columns]:
        values = frame[column].astype(float)
        frame[column] = np.where(share, values.round(3), values.round(NUMBER_DECIMALS))
    if "deff" in frame.columns:
        frame["deff"] = frame["deff"].astype(float).round(2)
    if "n_eff" in frame.columns:
        frame["n_eff"] = frame["n_eff"].astype(float).round(0)
    return frame


def round_count(value: float, base: int = ROUNDING_BASE) -> int:
    """A count rounded as released counts are (nearest multiple of ``base``, halves up)."""
    return int(np.floor(value / base + 0.5) * base)


# --- identities of respondent sets -----------------------------------------------------------


def row_keys(n: int, *, seed: int = 20120101) -> np.ndarray:
    """Two random 26-bit integers per respondent (``(n, 2)``, as floats), to fingerprint sets of them.

    A set's fingerprint is the sums of its members' numbers and its size. The sums are exact (below
    2^53 for up to 2^27 respondents), so equal sets give equal fingerprints however they are added
    up, and the fingerprint of a union of disjoint sets is the sum of theirs; different sets of one
    size collide with probability about 2^-52.
    """
    return np.random.default_rng(seed).integers(0, 2**26, size=(n, 2)).astype(float)


def response_keys(ids: Sequence[str], *, salt: str) -> np.ndarray:
    """:func:`row_keys` drawn from the responses' ids instead of their positions (``(n, 2)``, floats).

    Each response's two 26-bit numbers are the first bytes of ``blake2b(id, key=salt)``, so one
    response has the same numbers whichever responses stand beside it, and a set of responses has
    one fingerprint in every state of the data (a release batch added, the order changed). The
    numbers are uniform and independent as :func:`row_keys`'s are (Aumasson et al. 2013, BLAKE2),
    so its collision bound holds. Raises ``ValueError`` for an empty ``salt``.
    """
    if not salt:
        raise ValueError("response_keys needs a salt")
    out = np.empty((len(ids), 2), dtype=float)
    key = salt.encode()[:64]
    for i, value in enumerate(ids):
        digest = hashlib.blake2b(str(value).encode(), key=key, digest_size=8).digest()
        number = int.from_bytes(digest, "big")
        out[i] = (number & (2**26 - 1), (number >> 26) & (2**26 - 1))
    return out


def fingerprints(keys: np.ndarray, codes: np.ndarray, size: int) -> list[tuple[int, int, int]]:
    """The fingerprint of each of ``size`` sets; row i belongs to set ``codes[i]`` (-1: none)."""
    inside = codes >= 0
    codes = codes[inside]
    first = np.bincount(codes, weights=keys[inside, 0], minlength=size)
    second = np.bincount(codes, weights=keys[inside, 1], minlength=size)
    members = np.bincount(codes, minlength=size)
    return [(int(a), int(b), int(m)) for a, b, m in zip(first, second, members, strict=True)]


def union(parts: list[tuple[int, int, int]]) -> tuple[int, int, int]:
    """The fingerprint of the union of disjoint sets, from theirs."""
    return (sum(p[0] for p in parts), sum(p[1] for p in parts), sum(p[2] for p in parts))


# --- the classic shapes, for callers with one table ------------------------------------------


@dataclass(frozen=True)
class Suppressed:
    """A two-way table of counts after :func:`suppress`.

    ``counts`` has hidden cells as NA; ``hidden`` marks them (primary or complementary);
    ``primary`` marks the cells under k; ``attribute_disclosure`` lists the rows (groups) whose
    members all gave the same answer, and ``hidden_rows`` the rows whose total is under k.
    """

    counts: pd.DataFrame
    hidden: pd.DataFrame
    primary: pd.DataFrame
    attribute_disclosure: list
    hidden_rows: list

    def apply(self, values: pd.DataFrame) -> pd.DataFrame:
        """Hide the same cells in a companion table (percentages, estimates) of the same shape."""
        return values.mask(self.hidden.reindex_like(values).fillna(False).astype(bool))


def suppress(table: pd.DataFrame, *, k: int = DEFAULT_K) -> Suppressed:
    """Disclosure control of one two-way table of unweighted counts (rows = groups, columns = answers),
    released with its row, column and grand totals; the decisions are :func:`disclose`'s."""
    rows = [
        {
            "variable": "table",
            "group_variable": "row",
            "group": str(r),
            "level": str(c),
            "count": int(v),
            "n": int(table.loc[r].sum()),
        }
        for r in table.index
        for c, v in table.loc[r].items()
    ] + [
        {
            "variable": "table",
            "group_variable": "",
            "group": "",
            "level": str(c),
            "count": int(v),
            "n": int(table.to_numpy().sum()),
        }
        for c, v in table.sum(axis=0).items()
    ]
    result = disclose({"table": pd.DataFrame(rows)}, k=k, rounding=False)["table"]
    inner = result[result["group_variable"] == "row"]
    shape = (len(table.index), len(table.columns))
    hidden = pd.DataFrame(
        inner["suppressed"].to_numpy().reshape(shape), index=table.index, columns=table.columns
    )
    primary = pd.DataFrame(
        (inner["suppression"] == "primary").to_numpy().reshape(shape),
        index=table.index,
        columns=table.columns,
    )
    row_totals = table.sum(axis=1)
    flagged = inner[inner["attribute_disclosure"]]["group"].unique().tolist()
    return Suppressed(
        counts=table.astype("Float64").mask(hidden),
        hidden=hidden,
        primary=primary & (table > 0),
        attribute_disclosure=[r for r in table.index if str(r) in flagged],
        hidden_rows=[r for r in table.index if 0 < row_totals[r] < k],
    )


def suppress_estimates(
    frame: pd.DataFrame, *, k: int = DEFAULT_K, group: list[str] | None = None
) -> pd.DataFrame:
    """Disclosure control of estimates by domain (an estimator's tidy output, with ``n``).

    Within each ``group`` of rows (e.g. one variable) the domains are a breakdown whose overall
    figure and total n are taken as released beside them, so a hidden domain gets partners until
    it cannot be worked out from the total; the decisions are :func:`disclose`'s. Hidden rows keep
    their labels with NA values and ``suppressed = True``. Figures are not rounded.
    """
    check_k(k)
    frame = frame.reset_index(drop=True)
    parts = frame.groupby(group, sort=False).indices.values() if group else [np.arange(len(frame))]
    tables: dict[str, pd.DataFrame] = {}
    for number, positions in enumerate(parts):
        rows = frame.iloc[positions]
        ns = rows["n"].fillna(0).astype(int).to_numpy()
        domain = pd.DataFrame(
            {
                "variable": "estimate",
                "group_variable": "domain",
                "group": [str(p) for p in positions],
                "level": None,
                "count": ns,
                "n": ns,
            }
        )
        total = pd.DataFrame(
            {
                "variable": ["estimate"],
                "group_variable": [""],
                "group": [""],
                "level": [None],
                "count": [ns.sum()],
                "n": [ns.sum()],
            }
        )
        tables[str(number)] = pd.concat([domain, total], ignore_index=True)
    release = disclose(tables, k=k, rounding=False)
    hide = np.zeros(len(frame), dtype=bool)
    for number, positions in enumerate(parts):
        decided = release[str(number)]
        inner = decided[decided["group_variable"] == "domain"]
        hide[positions] = inner["suppressed"].to_numpy()
    out = frame.copy()
    value_columns = [
        c for c in ("estimate", "se", "ci_low", "ci_high", "deff", "n", "n_eff") if c in out.columns
    ]
    out[value_columns] = out[value_columns].astype(float).mask(pd.Series(hide, index=out.index), axis=0)
    out["suppressed"] = hide
    return out
