"""The claims report weighted to census margins, attacked beside the unweighted one (issue 16).

A weighted report's share shows a weighted total of its respondents, ``sum_c w_c * |cell ∩ class c|``:
beside the unweighted report's counts it gives the split of each cell between the raking classes, so
a class of fewer than k respondents showed its own answers. Here both reports are recorded by the
disclosure ledger, and the attack (``tests.analysis.attack``) is given the ledger's exact tables and,
worked out here from the raw answers and the weights (not from what Candid recorded), each weighted
row's respondents split by weight with every shown weighted total exactly.
"""

from __future__ import annotations

import html

import numpy as np
import pandas as pd
import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from analysis import schema
from analysis.claims import load_registry
from analysis.report import weight
from analysis.suppression import fingerprints, response_keys
from analysis.verdicts import in_population
from survey.bridge import responses_frame
from survey.models import DisclosureRecord
from survey.roles import ANALYST
from survey.services import reports
from survey.services.disclosure import fingerprint_salt, tables_read
from survey.services.reports import E_WEIGHTING_TOO_FINE, report_build
from tests.analysis.attack import attack

pytestmark = pytest.mark.django_db

# Raking the mainland sample by gender alone: the answered study's 15 respondents per sample cannot
# meet the shipped margins (no one with primary education), and two classes of a few respondents
# each are the case to protect.
MARGINS = pd.DataFrame(
    {
        "sample": ["china", "china"],
        "variable": ["gender", "gender"],
        "category": ["male", "female|other"],
        "share": [0.5124, 0.4876],
    }
)


def report_sets(frame: pd.DataFrame) -> list[tuple[str, list[str], dict[str, str]]]:
    """Every share the registry's claims release: (variable, levels, population), also unfiltered
    (the panel by sample)."""
    found = []
    for claim in load_registry():
        for statistic in (claim.statistic, *claim.supplementary):
            if statistic is None or statistic.variable not in frame:
                continue
            for population in (dict(statistic.population), {}):
                found.append((statistic.variable, list(statistic.levels), population))
    return found


def respondents(
    row: dict, frame: pd.DataFrame, keys: np.ndarray, shares: list
) -> tuple[np.ndarray, np.ndarray] | None:
    """A share row's respondents and its group's (those answering), found among the registry's
    shares by the row's identity; None for a figure that is no share (a list-experiment arm): the
    attack then knows less."""
    cell = row["cell"]
    if not isinstance(cell, tuple) or cell[0] != "set" or row["level"] not in ("yes", "no"):
        return None
    group = np.ones(len(frame), dtype=bool)
    if row["group_variable"]:
        group = (frame[row["group_variable"]].astype("string") == row["group"]).fillna(False).to_numpy(bool)
    for variable, levels, population in shares:
        if variable != row["variable"]:
            continue
        answered = in_population(frame, population).to_numpy() & frame[variable].notna().to_numpy()
        hit = frame[variable].isin(levels).fillna(False).to_numpy(dtype=bool)
        inside = answered & group & (hit if row["level"] == "yes" else ~hit)
        if ("set", *fingerprints(keys, np.where(inside, 0, -1), 1)[0]) == cell:
            return inside, answered & group
    return None


def split_by_weight(
    table: pd.DataFrame, frame: pd.DataFrame, w: np.ndarray, keys: np.ndarray
) -> pd.DataFrame:
    """Each share row's respondents and its group's split by weight as ``(identity, count, weight)``."""
    values, classes = np.unique(w, return_inverse=True)
    shares = report_sets(frame)

    def split(inside: np.ndarray) -> list:
        found = fingerprints(keys, np.where(inside, classes, -1), len(values))
        return [(("set", *fp), fp[2], float(values[c])) for c, fp in enumerate(found) if fp[2]]

    parts, base_parts = [], []
    for row in table.to_dict("records"):
        found = respondents(row, frame, keys, shares)
        parts.append(split(found[0]) if found is not None else None)
        base_parts.append(split(found[1]) if found is not None else None)
    return table.assign(atoms=parts, base_atoms=base_parts, weighting="census")


def test_weighted_report_beside_unweighted_one(answered_study, monkeypatch):
    """The unweighted report, then the report raked to gender margins in one sample (classes of a
    few respondents): no hidden figure, and no respondent count of one weight under k, can be worked
    out from both together; and the weighted report hides figures the unweighted one shows."""
    monkeypatch.setattr(reports, "_shipped_margins", lambda: MARGINS)
    frame, _codebook = responses_frame(answered_study)
    keys = response_keys(
        frame[schema.RESPONSE_ID].astype(str).tolist(), salt=fingerprint_salt(answered_study)
    )
    design, _report = weight(frame, MARGINS)
    counts = pd.Series(design.w).value_counts()
    assert len(counts) == 3 and counts.min() < 10  # two small raking classes and the unweighted rest
    assert report_build(study_id=answered_study.pk, weighted=False).problem == ""
    assert report_build(study_id=answered_study.pk, weighted=True).problem == ""
    unweighted, weighted = DisclosureRecord.objects.order_by("pk")
    assert weighted.options["weighted"]
    released, truth = {}, {}
    for record in (unweighted, weighted):
        for name, table in tables_read(record.tables).items():
            if "atoms" in table.columns:
                table = table.drop(columns=["atoms", "base_atoms", "weighting"])
            if record == weighted and "weighting classes" not in name:
                table = split_by_weight(table, frame, design.w, keys)
            shown = table.assign(n=table["n"].where(~table["suppressed"].astype(bool)))
            released[f"{record.pk}:{name}"] = shown
            truth[f"{record.pk}:{name}"] = table
    split = [t for t in truth.values() if "atoms" in t.columns]
    assert split and any(t["atoms"].notna().any() for t in split)
    found = attack(released, truth, k=10)
    assert found == [], f"{len(found)} hidden figures can be worked out, e.g. {found[:3]}"


@pytest.mark.parametrize("limit", ["WEIGHTED_BLOCK_MAX", "MAX_CLASSES"])
def test_a_weighting_too_fine_to_check_ends_in_the_reports_problem(
    client, answered_study, make_user, monkeypatch, limit
):
    """Class parts tying more unknowns together than a report can check, or more weights than it
    can split by: the weighted report page says so in the reader's words (not a server error), and
    nothing is released."""
    import analysis.suppression

    monkeypatch.setattr(reports, "_shipped_margins", lambda: MARGINS)
    if limit == "WEIGHTED_BLOCK_MAX":
        monkeypatch.setattr(analysis.suppression, "WEIGHTED_BLOCK_MAX", 3)
    else:
        monkeypatch.setattr(reports, "MAX_CLASSES", 2)
    analyst = make_user("weigher", ANALYST)
    answered_study.memberships.create(user=analyst, role="analyst")
    client.force_login(analyst)
    url = reverse("survey:report", args=[answered_study.slug])
    page = client.get(url, {"weights": "census"})
    assert page.status_code == 200
    assert gettext(E_WEIGHTING_TOO_FINE) in html.unescape(page.content.decode())
    with translation.override("zh-hans"):
        chinese = gettext(E_WEIGHTING_TOO_FINE)
    assert chinese != E_WEIGHTING_TOO_FINE
    reader = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    reader.force_login(analyst)
    assert chinese in html.unescape(reader.get(url, {"weights": "census"}).content.decode())
    assert not DisclosureRecord.objects.exists()
