"""Differences between domains (R's svycontrast on svyby) on one-stage, two-stage and replicate designs."""

import numpy as np
import pytest

from analysis import SurveyDesign, as_replicate, difference


@pytest.mark.parametrize("name", ["dclus1", "rclus1", "dclus2"])
def test_domain_contrasts_match_r(designs, r, name):
    # R: svycontrast(svyby(~api00, ~stype, design, svymean, covmat=TRUE), c(1, 0, -1)).
    design = as_replicate(designs["dclus1"]) if name == "rclus1" else designs[name]
    result = difference(design, "api00", "stype", "E", "M")
    r.check(f"{name}.contrast.EM", [result["estimate"], result["se"]])


@pytest.mark.parametrize("name", ["dclus1", "rclus1", "dclus2"])
def test_share_contrasts_match_r(designs, r, name):
    # R: svycontrast(svyby(~I(as.numeric(sch.wide=='Yes')), ~stype, design, svymean, covmat=TRUE), c(1, 0, -1)).
    design = as_replicate(designs["dclus1"]) if name == "rclus1" else designs[name]
    result = difference(design, "sch.wide", "stype", "E", "M", levels=["Yes"])
    r.check(f"{name}.contrast.yes.EM", [result["estimate"], result["se"]])


def test_contrasts_with_zero_weights_match_r(api, r):
    data = api["apiclus1"].assign(pw0=np.where(api["apiclus1"]["dnum"] == 413, 0.0, api["apiclus1"]["pw"]))
    result = difference(
        SurveyDesign(data, weights="pw0", clusters="dnum", fpc="fpc"), "api00", "stype", "E", "M"
    )
    r.check("zero.contrast.EM", [result["estimate"], result["se"]])
