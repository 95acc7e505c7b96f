import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import SurveyDesign


@pytest.fixture(scope="session")
def nhanes2() -> pd.DataFrame:
    """NHANES II as shipped by samplics (10,337 rows; strata stratid, PSUs psuid, weight finalwgt)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from samplics.datasets import load_nhanes2

        data = load_nhanes2()["data"]
    return data if isinstance(data, pd.DataFrame) else data.to_pandas()


DATA = Path(__file__).parent / "data"


class RReference:
    """Values computed by R 4.2.2 with survey 4.1.1; ``data/r_survey_reference.csv`` names the R call of each."""

    def __init__(self, table: dict[str, float]) -> None:
        self.table = table

    def __call__(self, key: str) -> float:
        return self.table[key]

    def check(self, key: str, values, *, rel: float = 1e-6) -> None:
        """Assert ``values`` equal R's ``key`` (one value) or ``key[1]``, ``key[2]``, ... to ``rel`` (NaN = NaN)."""
        values = np.atleast_1d(np.asarray(values, dtype=float))
        keys = (
            [key]
            if len(values) == 1 and key in self.table
            else [f"{key}[{i + 1}]" for i in range(len(values))]
        )
        wrong = []
        for name, value in zip(keys, values, strict=True):
            expected = self.table[name]
            same = (
                np.isnan(value)
                if np.isnan(expected)
                else abs(value - expected) <= rel * max(abs(expected), 1e-3)
            )
            if not same:
                wrong.append(f"{name}: R {expected!r}, Candid {value!r}")
        assert not wrong, "; ".join(wrong)


@pytest.fixture(scope="session")
def r() -> RReference:
    values = pd.read_csv(DATA / "r_survey_reference.csv", comment="#", na_values=["NA"])
    return RReference(dict(zip(values["id"], values["value"].astype(float), strict=True)))


@pytest.fixture(scope="session")
def api() -> dict[str, pd.DataFrame]:
    """R's api samples (survey package): apisrs, apistrat, apiclus1, apiclus2, with ``yes`` = sch.wide == Yes."""
    frames = {
        name: pd.read_csv(DATA / f"{name}.csv") for name in ("apisrs", "apistrat", "apiclus1", "apiclus2")
    }
    for frame in frames.values():
        frame["yes"] = frame["sch.wide"] == "Yes"
    return frames


@pytest.fixture(scope="session")
def designs(api) -> dict[str, SurveyDesign]:
    """The designs of R's ``example(api)``, as in the reference file's calls."""
    return {
        "dsrs": SurveyDesign(api["apisrs"], weights="pw", fpc="fpc"),
        "dstrat": SurveyDesign(api["apistrat"], weights="pw", strata="stype", fpc="fpc"),
        "dclus1": SurveyDesign(api["apiclus1"], weights="pw", clusters="dnum", fpc="fpc"),
        "dclus2": SurveyDesign(api["apiclus2"], clusters=["dnum", "snum"], fpc=["fpc1", "fpc2"]),
    }
