import warnings

import pandas as pd
import pytest


@pytest.fixture(scope="session")
def nhanes2() -> pd.DataFrame:
    """NHANES II as shipped by samplics (10,337 rows; strata stratid, PSUs psuid, weight finalwgt)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from samplics.datasets import load_nhanes2

        data = load_nhanes2()["data"]
    return data if isinstance(data, pd.DataFrame) else data.to_pandas()
