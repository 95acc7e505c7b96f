"""Differences between domains (R's svycontrast on svyby) on one-stage, two-stage and replicate designs."""

import pytest

from analysis import as_replicate, difference


@pytest.mark.parametrize("name", ["dclus1", "rclus1", "dclus2"])
def test_domain_contrasts_match_r(designs, r, name):
    # R: svycontrast(svyby(~api00, ~stype, design, svymean, covmat=TRUE), c(1, 0, -1)).
    design = as_replicate(designs["dclus1"]) if name == "rclus1" else designs[name]
    result = difference(design, "api00", "stype", "E", "M")
    r.check(f"{name}.contrast.EM", [result["estimate"], result["se"]])
