"""The whole release of a results page, attacked: every figure an analyst is shown together — the
results tables, the number of responses, item non-response, the data-quality flag counts, drop-off —
and a release that leaves flagged responses out beside the one that does not (differencing).

The attacker here knows what each released figure *means*, not how Candid computed it: the set of
responses behind every figure is worked out from the raw answers in this file (a response id set
per figure), so two figures over the same responses are one number, the "answered" complement of a
missing count is the question's n, a failed attention check is the sum of the check's wrong
answers, and a figure with flagged responses left out plus the flagged responses' figure is the
figure without exclusions. ``tests.analysis.attack`` then asks linear algebra and a linear
programme whether any hidden figure is determined (rounding ignored: the attacker gets exact values).
"""

from __future__ import annotations

import re
from dataclasses import replace

import pandas as pd
import pytest
from django.utils import translation

from analysis.quality import FLAGS, QualityRules, quality_flags
from survey.bridge import responses_frame, study_parameters
from survey.services.results import ResultsOptions, compute_results, notes_in_words
from tests.analysis.attack import attack
from tests.survey.fixed_names import fix_names

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fixed_names(monkeypatch):
    """Figures fingerprinted by the responses' answers, not their random ids: a release passes or
    fails the attack in every run alike (``tests.survey.fixed_names``)."""
    fix_names(monkeypatch)


SHARE_LIKE = {"share", "selected", "ranked_first"}


def ident(ids: frozenset, *place: object) -> tuple:
    """A figure's identity: its set of responses (an empty set is its own place: it reveals no one)."""
    return ("set", tuple(sorted(ids))) if ids else ("empty", *place)


def _row(variable, level, count_ids, base_ids, *, group_variable="", group="", place=()) -> dict:
    return {
        "variable": variable,
        "group_variable": group_variable,
        "group": group,
        "level": level,
        "count": len(count_ids),
        "n": len(base_ids),
        "cell": ident(count_ids, "cell", variable, group_variable, group, level, *place),
        "base": ident(base_ids, "base", variable, group_variable, group, *place),
        "cell_ids": count_ids,
        "base_ids": base_ids,
    }


def _text(values: pd.Series) -> pd.Series:
    """Answers as the codes the results show (a 0/1 column as "0"/"1")."""
    out = values.astype("string")
    return out.str.replace(r"\.0$", "", regex=True)


def release_system(payload: dict, frame: pd.DataFrame, used: pd.Index, full: pd.Index, *, tag: str):
    """(released, truth) tables of one payload for ``attack``: ``frame`` holds every response (its
    index: response ids), ``used`` those the figures were computed on, ``full`` every response."""
    released: dict[str, pd.DataFrame] = {}
    truth: dict[str, pd.DataFrame] = {}
    rows = pd.DataFrame(payload["table"])
    data = frame.loc[used]
    share = rows[rows["statistic"].isin(SHARE_LIKE) & rows["level"].notna()]
    for (variable, statistic), part in share.groupby(["variable", "statistic"], sort=False):
        levels = sorted(set(part["level"]))
        values = _text(data[variable])
        exact, shown = [], []
        for record in part.to_dict("records"):
            gv, g = record["group_variable"] or "", record["group"] or ""
            inside = pd.Series(True, index=data.index) if not gv else (_text(data[gv]) == g).fillna(False)
            cell = frozenset(data.index[inside & (values == record["level"]).fillna(False)])
            base = frozenset(data.index[inside & values.isin(levels).fillna(False)])
            exact.append(
                _row(
                    variable,
                    record["level"],
                    cell,
                    base,
                    group_variable=gv,
                    group=g,
                    place=(tag, statistic),
                )
            )
            shown.append({"suppressed": bool(record["suppressed"]), "n": record["n"]})
        name = f"{tag}:{variable}:{statistic}"
        truth[name], released[name] = pd.DataFrame(exact), pd.DataFrame(shown)
    every = frozenset(data.index)
    # The number of responses used, and (leaving some out) how many were left out.
    responses = [_row("responses", "used", every, frozenset(full), place=(tag,))]
    shown = [{"suppressed": payload.get("n") is None, "n": None}]
    left_out = frozenset(full) - every
    if left_out:
        responses.append(_row("responses", "excluded", left_out, frozenset(full), place=(tag,)))
        shown.append({"suppressed": payload.get("excluded") in (None, 0), "n": None})
    truth[f"{tag}:responses"], released[f"{tag}:responses"] = pd.DataFrame(responses), pd.DataFrame(shown)
    # Item non-response: missing + answered = every response used; answered is the question's n.
    exact, shown = [], []
    for record in payload["nonresponse"]:
        values = data[record["variable"]]
        missing = values.isna() | (_text(values) == "").fillna(False)
        gone = frozenset(data.index[missing])
        exact.append(_row(f"nr:{record['variable']}", "missing", gone, every, place=(tag,)))
        exact.append(
            _row(f"nr:{record['variable']}", "answered", every - gone, every, place=(tag,))
            | {"implied": True}
        )
        shown += [
            {"suppressed": bool(record["suppressed"]), "n": record["n"]},
            {"suppressed": True, "n": record["n"]},
        ]
    if exact:
        truth[f"{tag}:nonresponse"], released[f"{tag}:nonresponse"] = pd.DataFrame(exact), pd.DataFrame(shown)
    return released, truth


def quality_system(payload: dict, frame: pd.DataFrame, flags: pd.DataFrame, *, tag: str):
    """The flag counts (of every response): flagged + not flagged (never shown) = every response."""
    everyone = frozenset(frame.index)
    exact, shown = [], []
    for record in payload["quality"]:
        flagged = frozenset(frame.index[flags[record["flag"]].to_numpy()])
        exact.append(_row(f"flag:{record['flag']}", "yes", flagged, everyone))
        exact.append(_row(f"flag:{record['flag']}", "no", everyone - flagged, everyone) | {"implied": True})
        shown += [{"suppressed": bool(record["suppressed"]), "n": None}, {"suppressed": True, "n": None}]
    return {f"{tag}:quality": pd.DataFrame(shown)}, {f"{tag}:quality": pd.DataFrame(exact)}


def attention_sums(truth: dict[str, pd.DataFrame], tag: str, checks: dict[str, list[str]]) -> None:
    """A failed attention check is the sum of the check's wrong answers (one check declared)."""
    if len(checks) != 1 or f"{tag}:quality" not in truth:
        return
    ((code, correct),) = checks.items()
    table = truth.get(f"{tag}:{code}:share")
    if table is None:
        return
    overall = table[table["group_variable"] == ""]
    parts = [c for c, level in zip(overall["cell"], overall["level"], strict=True) if level not in correct]
    quality = truth[f"{tag}:quality"]
    quality["sum_of"] = [
        [p for p in parts if p[0] == "set"] if v == "flag:attention_failed" and level == "yes" else None
        for v, level in zip(quality["variable"], quality["level"], strict=True)
    ]


def differences(truth_full: dict, kept: pd.Index, *, tag: str) -> tuple[dict, dict]:
    """The left-out responses' own figures (never shown), and every full figure as kept + left out."""
    released, implied = {}, {}
    for name, table in truth_full.items():
        if "cell_ids" not in table:
            continue
        rows = []
        sums = []
        for record in table.to_dict("records"):
            out_cell = record["cell_ids"] - frozenset(kept)
            out_base = record["base_ids"] - frozenset(kept)
            rows.append(
                _row(
                    record["variable"],
                    record["level"],
                    out_cell,
                    out_base,
                    group_variable=record["group_variable"],
                    group=record["group"],
                    place=(tag, name),
                )
                | {"implied": True}
            )
            parts = [ident(s) for s in (record["cell_ids"] & frozenset(kept), out_cell) if s]
            sums.append(parts if len(parts) > 1 else None)
        if "sum_of" not in table or table["sum_of"].isna().all():
            table["sum_of"] = sums
        implied[f"{tag}:{name}"] = pd.DataFrame(rows)
        released[f"{tag}:{name}"] = pd.DataFrame([{"suppressed": True, "n": None}] * len(rows))
    return released, implied


def whole_release(study, options: ResultsOptions):
    """The payload of ``options`` and the attack's tables of it (and, when flagged responses are left
    out, of the release without exclusions and the left-out responses' implied figures)."""
    frame, codebook = responses_frame(study)
    parameters = study_parameters(study)
    flags = quality_flags(
        frame, codebook, parameters=parameters, rules=QualityRules(speeding=options.speeding)
    )
    checks = {code: p["correct"].split(",") for code, p in parameters.items() if p.get("correct")}
    everyone = frame.index
    released, truth = {}, {}
    payloads = {}
    runs = [("all", replace(options, exclude=()))]
    if options.exclude:
        runs.append(("kept", options))
    for tag, chosen in runs:
        payload = compute_results(study, frame, codebook, chosen)
        payloads[tag] = payload
        left_out = (
            flags[list(chosen.exclude)].any(axis=1) if chosen.exclude else pd.Series(False, frame.index)
        )
        used = (
            everyone
            if payload.get("excluded", 0) == 0 and tag == "kept"
            else frame.index[~left_out.to_numpy()]
        )
        shown, exact = release_system(payload, frame, used, everyone, tag=tag)
        released |= shown
        truth |= exact
        shown, exact = quality_system(payload, frame, flags, tag=tag)
        released |= shown
        truth |= exact
        if tag == "all":
            attention_sums(truth, tag, checks)
    if "kept" in payloads and payloads["kept"].get("excluded"):
        left_out = flags[list(options.exclude)].any(axis=1).to_numpy()
        shown, implied = differences(
            {name: t for name, t in truth.items() if name.startswith("all:") and "quality" not in name},
            frame.index[~left_out],
            tag="out",
        )
        released |= shown
        truth |= implied
    return payloads, released, truth


def assert_nothing_recovered(released, truth, *, k: int, bounds: bool = True) -> None:
    """No hidden figure of ``released`` can be worked out (``tests.analysis.attack``; ``bounds``
    false: by linear algebra alone, without the linear programme)."""
    found = attack(released, truth, k=k, bounds=bounds)
    assert found == [], f"{len(found)} hidden figures can be worked out, e.g. {found[:3]}"


def test_the_shipped_study_release_as_a_whole(answered_study):
    """Results by sample with k = 5, the number of responses, non-response and the flag counts, as
    one release of 30 responses (before, two figures hidden in the results were worked out from
    the non-response and flag tables released beside them)."""
    payloads, released, truth = whole_release(answered_study, ResultsOptions(by=("sample",), k=5))
    assert payloads["all"]["release"]["primary"] > 0
    assert_nothing_recovered(released, truth, k=5)


@pytest.mark.one_database
def test_the_shipped_study_with_flagged_responses_left_out(answered_study):
    """Leaving out the straight-liners (9 of 30, k = 5) beside the release that keeps them: before,
    most of the left-out respondents' own small answer counts were differences of two released
    figures."""
    options = ResultsOptions(by=("sample",), k=5, exclude=("straightlining",))
    payloads, released, truth = whole_release(answered_study, options)
    assert payloads["kept"]["exclude"] == ["straightlining"]
    assert payloads["kept"]["n"] < payloads["all"]["n"]
    assert_nothing_recovered(released, truth, k=5)
    # Most figures are withheld beside the release that keeps the straight-liners: the page says
    # so and why, once, with the numbers (the release without exclusions has no such note).
    table = payloads["kept"]["table"]
    notes = [n for n in notes_in_words(payloads["kept"]) if n.startswith("Figures hidden on this page")]
    assert len(notes) == 1 and not payloads["all"]["notes"]
    with translation.override("zh-hans"):  # kept untranslated: each reader gets their language
        assert "本页因披露控制而隐藏的数字" in notes_in_words(payloads["kept"])[0]
    hidden, rows = (int(x) for x in re.search(r"(\d+) of (\d+)\.", notes[0]).groups())
    assert 2 * hidden >= rows >= len(table) and hidden >= sum(bool(r["suppressed"]) for r in table)


def test_too_few_flagged_responses_are_not_left_out(answered_study):
    """Fewer than k flagged: leaving them out would show their answers by difference; the page says
    so and shows the results that keep them."""
    frame, codebook = responses_frame(answered_study)
    flags = quality_flags(frame, codebook, parameters=study_parameters(answered_study))
    flag = next(f for f in FLAGS if 0 < flags[f].sum() < 10)
    payloads, released, truth = whole_release(answered_study, ResultsOptions(k=10, exclude=(flag,)))
    kept, everything = payloads["kept"], payloads["all"]
    assert kept["excluded"] == 0 and kept["exclude"] == [] and kept["table"] == everything["table"]
    assert "Fewer than 10 responses carry the chosen data-quality flags" in notes_in_words(kept)[0]
    assert_nothing_recovered(released, truth, k=10)


@pytest.fixture
def neighbourhood_study(make_user):
    """The second study (tests/fixtures/neighbourhood_trust.xlsx) answered by 30 participants who do
    not know which question is the attention check (most fail it)."""
    from django.test import Client

    from survey.instrument_files import read_questionnaire_file
    from survey.roles import RESEARCHER
    from survey.services.questionnaires import consent_create, questionnaire_import, questionnaire_publish
    from survey.simulation import Respondent, walk
    from tests.helpers import close_fieldwork
    from tests.specs import consent_details
    from tests.survey.test_second_study import FORM

    owner = make_user("ward_owner", RESEARCHER)
    version = questionnaire_import(spec=read_questionnaire_file(FORM), owner=owner, study_slug="ward")
    consent = consent_create(
        study=version.study, texts={"en": "C.", "zh": "C。"}, **consent_details(("en", "zh"))
    )
    questionnaire_publish(version=version, consent=consent)
    sample = version.study.samples.get().slug
    for seed in range(30):
        assert walk(Client(HTTP_ACCEPT_LANGUAGE="en"), "/s/ward/", Respondent(seed, sample)).completed
    close_fieldwork(version.study)
    return version.study


def test_the_second_study_with_failed_attention_checks_left_out(neighbourhood_study):
    """The second study's own release, and leaving out those who failed its declared attention check
    beside the release that keeps them (before: a cell of 4 and one of 1 respondent worked out)."""
    options = ResultsOptions(by=("region",), k=5, exclude=("attention_failed",))
    payloads, released, truth = whole_release(neighbourhood_study, options)
    assert payloads["kept"]["exclude"] == ["attention_failed"]
    assert_nothing_recovered(released, truth, k=5)
