"""Results for the data shapes a real study has: a question nobody answered, one answer, one level
only, every answer in one group, a group with one respondent or none, no respondents at all. (A
design of one respondent is refused by the design itself, as R's ``survey.lonely.psu = "fail"``.) Each is built
on a design whose shares come from tallies (no clusters), one with weights, and one with clusters
(shares from the rows), and gives a table, never an exception."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from analysis import SurveyDesign, schema
from analysis.results import build_results, categorised

from .test_results import codebook, frame, parameters

ANSWERS = [
    "colour",
    "t_a",
    "t_b",
    "t_c",
    "media__tv",
    "media__web",
    "media__paper",
    "rank__rank1",
    "rank__rank2",
    "rank__rank3",
    "age",
    "le",
    "le__arm",
    "approve",
    "place",
    "note",
]


def blank(data: pd.DataFrame, rows: np.ndarray) -> pd.DataFrame:
    """``data`` with every answer of ``rows`` missing."""
    out = data.astype({c: object for c in ANSWERS})
    out.loc[rows, ANSWERS] = None
    return out


def one_level(data: pd.DataFrame) -> pd.DataFrame:
    first = {c: data[c].dropna().iloc[0] for c in ANSWERS}
    return data.assign(**{c: data[c].where(data[c].isna(), v) for c, v in first.items()})


SHAPES: dict[str, Callable[[pd.DataFrame], pd.DataFrame]] = {
    "nobody answered": lambda d: blank(d, np.arange(len(d))),
    "one answer": lambda d: blank(d, np.arange(1, len(d))),
    "two answers": lambda d: blank(d, np.arange(2, len(d))),
    "one level only": one_level,
    "every answer in one group": lambda d: d.assign(**{schema.SAMPLE: "west"}),
    "a group nobody answered in": lambda d: blank(d, np.flatnonzero(d[schema.SAMPLE] == "east")),
    "a sample without respondents": lambda d: categorised(
        d.assign(**{schema.SAMPLE: pd.Categorical(["west"] * len(d), categories=["east", "west"])}),
        codebook(),
    ),
    "a breakdown nobody answered": lambda d: d.assign(place=None),
    "no respondents": lambda d: d.iloc[:0],
    "one respondent in a group": lambda d: d.assign(
        place=np.where(np.arange(len(d)) == 0, "village", "city")
    ),
}

DESIGNS: dict[str, Callable[[pd.DataFrame], SurveyDesign]] = {
    "tallied": SurveyDesign,
    "weighted": lambda d: SurveyDesign(d.assign(w=np.linspace(1.0, 3.0, len(d))), weights="w"),
    "clustered": lambda d: SurveyDesign(d.assign(psu=np.arange(len(d)) // 4), clusters="psu"),
}


@pytest.mark.parametrize("design", DESIGNS)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize(
    "by", [(schema.SAMPLE,), (schema.SAMPLE, "place"), ()], ids=["sample", "place", "none"]
)
def test_every_shape_gives_a_table(shape: str, design: str, by: tuple[str, ...]) -> None:
    data = SHAPES[shape](frame(40).reset_index(drop=True))
    results = build_results(DESIGNS[design](data), codebook(), by=by, k=5, parameters=parameters())
    table = results.table
    assert {item.question for item in results.items} >= {"colour", "age", "note"}
    answered = set(table["variable"])
    for variable in ("colour", "t_a", "age", "approve"):
        if data[variable].notna().sum() == 0:
            assert variable not in answered  # shown as a question without answers
    shown = table[~table["suppressed"].astype(bool)]
    assert np.isfinite(shown["n"].astype(float)).all()
