"""The Rao-Scott test on multistage and replicate designs, against R's svychisq."""

import pytest

from analysis import as_replicate, crosstab


@pytest.mark.parametrize("name", ["dclus2", "rclus1", "rstrat"])
def test_rao_scott_f_matches_r(designs, r, name):
    # R: svychisq(~sch.wide+stype, design) on the two-stage design and on as.svrepdesign(dclus1)
    # (JK1) and as.svrepdesign(dstrat) (JKn): F, its two degrees of freedom and the p value.
    design = {
        "dclus2": designs["dclus2"],
        "rclus1": as_replicate(designs["dclus1"]),
        "rstrat": as_replicate(designs["dstrat"]),
    }[name]
    result = crosstab(design, "sch.wide", "stype")
    r.check(f"{name}.chisq", [result.statistic, result.ndf, result.ddf, result.p_value])
