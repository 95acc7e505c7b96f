"""The claims report's real release on the shipped study with small samples: no hidden subgroup
figure can be worked out from the overall figure and the other groups (issue 10, finding 3)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.claims import load_registry
from analysis.design import SurveyDesign
from analysis.report import build_report
from analysis.verdicts import estimate_share
from survey.bridge import responses_frame
from tests.analysis.attack import attack

pytestmark = pytest.mark.django_db


def tables_of(claim: dict, truth: dict[str, pd.DataFrame]) -> tuple[dict, dict]:
    """One share table per breakdown (yes/no counts per group and overall), released and exact."""
    released, exact = {}, {}
    overall = claim["statistic"]
    for by, panel in claim.get("subgroups", {}).items():
        full = truth[by]
        rows, shown = [], []
        total_n = int(full["n"].sum())
        total_yes = round((full["estimate"] * full["n"]).sum())
        for level, count in (("yes", total_yes), ("no", total_n - total_yes)):
            rows.append(
                {
                    "variable": "v",
                    "group_variable": "",
                    "group": "",
                    "level": level,
                    "count": count,
                    "n": total_n,
                }
            )
            shown.append({"n": overall["n"], "suppressed": bool(overall.get("suppressed"))})
        for entry in panel["rows"]:
            row = full[full["group"].astype(str) == str(entry["group"])].iloc[0]
            yes = round(row["estimate"] * row["n"])
            for level, count in (("yes", yes), ("no", int(row["n"]) - yes)):
                rows.append(
                    {
                        "variable": "v",
                        "group_variable": by,
                        "group": str(entry["group"]),
                        "level": level,
                        "count": count,
                        "n": int(row["n"]),
                    }
                )
                shown.append({"n": entry["n"], "suppressed": entry["suppressed"]})
        exact[by] = pd.DataFrame(rows)
        released[by] = pd.DataFrame(shown)
    return released, exact


def test_no_subgroup_of_the_claims_report_can_be_recovered(answered_study):
    frame, codebook = responses_frame(answered_study)
    report = build_report(frame, codebook, registry=load_registry(), k=10)
    design = SurveyDesign(frame, strata="sample")
    claims = {claim.id: claim for claim in load_registry()}
    checked = 0
    for claim in report["claims"]:
        if not claim.get("subgroups") or claim["statistic"].get("suppressed"):
            continue
        statistic = claims[claim["id"]].statistic
        truth = {by: estimate_share(design, statistic, by=by) for by in claim["subgroups"]}
        # unweighted within each sample, so estimate x n is the count (the samples are strata only)
        released, exact = tables_of(claim, truth)
        for by in released:
            assert not np.isnan(exact[by]["count"]).any()
            found = attack({by: released[by]}, {by: exact[by]}, k=10)
            assert found == [], f"{claim['id']} by {by}: {found}"
            checked += 1
    assert checked > 0
