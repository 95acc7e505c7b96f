"""The Rao-Scott test on multistage and replicate designs, against R's svychisq."""

import numpy as np
import pytest

from analysis import SurveyDesign, as_replicate, crosstab


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


def test_zero_weight_psus_leave_the_test_s_degrees_of_freedom(api, r):
    # The statistic and its numerator df are R's svychisq(~sch.wide+stype, dzero). The denominator
    # df is d0 * degf = d0 * 13: zero-weight rows never count toward degrees of freedom (issue 13),
    # where R's svychisq counts every PSU (its nu, 14) unlike its own degf.
    data = api["apiclus1"].assign(pw0=np.where(api["apiclus1"]["dnum"] == 413, 0.0, api["apiclus1"]["pw"]))
    design = SurveyDesign(data, weights="pw0", clusters="dnum", fpc="fpc")
    result = crosstab(design, "sch.wide", "stype")
    r.check("zero.chisq", [result.statistic, result.ndf])
    assert design.df == 13 and result.ddf == pytest.approx(13 * result.ndf)


def test_a_table_without_variance_gives_no_test_and_no_warning():
    """Shares with no sampling variance (a zero covariance: in a small study every respondent of
    a group in one cell) give a zero design-effect matrix; d0 and F are then undefined, as R's
    svychisq leaves them (NaN), and no RuntimeWarning reaches the results page's log."""
    import warnings

    import pandas as pd

    from analysis.crosstab import rao_scott

    data = pd.DataFrame({"q": ["a", "b"] * 5, "g": ["x"] * 5 + ["y"] * 5})
    design = SurveyDesign(data)
    p = np.array([0.3, 0.2, 0.2, 0.3])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = rao_scott(
            design,
            p,
            np.zeros((4, 4)),
            np.array([3, 2, 2, 3]),
            row_levels=pd.Index(["a", "b"]),
            column_levels=pd.Index(["x", "y"]),
        )
    assert not np.isfinite(result.p_value)
