"""Fingerprints that are the same in every run, for tests that attack whole releases.

A response's id is random, and so are the fingerprint numbers made from it
(``survey.services.disclosure.study_keys``) and the partners disclosure picks among equal
candidates by them: a combination of releases that is safe for most draws of ids then passes or
fails by chance (``test_exclusions_beside_other_breakdowns`` failed once in several CI runs on
PostgreSQL). :func:`fix_names` names each response by its answers and a draw number instead, so a
test fails on every run or on none, and a test can try several draws on purpose.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
import pytest

from analysis import schema
from analysis.suppression import response_keys

RUN_COLUMNS = {schema.RESPONSE_ID, schema.COMPLETED_ON, schema.DURATION}  # differ from run to run


def named_by_answers(frame: pd.DataFrame, draw: int) -> dict[str, str]:
    """Each response's id (``frame`` as ``responses_frame`` gives it) -> a name made from its
    answers, the draw number and how many responses before it gave the same answers."""
    run = [c for c in frame.columns if c.startswith("display_") or c in RUN_COLUMNS]
    answers = frame.drop(columns=run).astype("string").fillna("").agg("|".join, axis=1)
    names = [f"{draw}:{text}:{answers.iloc[:i].eq(text).sum()}" for i, text in enumerate(answers)]
    return dict(zip(frame[schema.RESPONSE_ID].astype(str), names, strict=True))


def fix_names(
    monkeypatch: pytest.MonkeyPatch, draw: int = 0, frame: pd.DataFrame | None = None
) -> Callable[..., np.ndarray]:
    """Every release made in the test fingerprints its responses by :func:`named_by_answers`
    (those of ``frame``, or of every study in the database, read when an id is first seen);
    returns the ``response_keys`` stand-in (ids, salt= -> keys)."""
    import survey.services.disclosure
    from survey.bridge import responses_frame
    from survey.models import Study

    names = named_by_answers(frame, draw) if frame is not None else {}

    def keyed(ids: Sequence[str], *, salt: str) -> np.ndarray:
        if any(str(i) not in names for i in ids):
            for study in Study.objects.all():
                names.update(named_by_answers(responses_frame(study)[0], draw))
        return response_keys([names[str(i)] for i in ids], salt=salt)

    monkeypatch.setattr(survey.services.disclosure, "response_keys", keyed)
    return keyed
