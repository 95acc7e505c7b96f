"""Raking to chosen variables of a margins file (``ResultsOptions.rake_on``): the results page's
"Rake to" boxes and ``aggregate_tables --rake-on``.

The shipped census margins weight the mainland sample by four variables; on a small sample the
groups of one weight they make are too small or too many for the disclosure step, so the analyst
chooses fewer (R's ``rake`` given a chosen ``sample.margins`` list).
"""

from __future__ import annotations

import csv
import html
import io
import re

import numpy as np
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from analysis import schema
from analysis.design import SurveyDesign
from analysis.weighting import rake_samples, read_margins
from survey.bridge import responses_frame
from survey.models import DisclosureRecord, ResultsSnapshot, StudyMembership
from survey.roles import ANALYST
from survey.services.results import SHIPPED_TARGETS, ResultsOptions, compute_results

pytestmark = pytest.mark.django_db

CENSUS = "shipped:census-china-2020"


@pytest.fixture
def signed_in(client, make_user, answered_study, settings):
    settings.CANDID_RESULTS_K = 5  # 15 respondents a sample: groups of one weight of 5 or more
    user = make_user("rake_analyst", ANALYST)
    StudyMembership.objects.create(study=answered_study, user=user, role="analyst")
    client.force_login(user)
    return client


def results_url(study) -> str:
    return reverse("survey:study_results", args=[study.slug])


def shares_overall(payload: dict) -> dict[tuple[str, str], float]:
    """The released overall shares of single-choice questions, by (variable, level)."""
    return {
        (row["variable"], row["level"]): row["estimate"]
        for row in payload["table"]
        if row["statistic"] == "share"
        and not row["group_variable"]
        and not row["suppressed"]
        and row["estimate"] is not None
    }


def test_raking_to_one_variable_weights_as_rake_samples_on_its_margins(answered_study):
    """Raked to gender alone, the results are released (all four variables are refused on 15
    mainland respondents), and every shown share is the share weighted by ``rake_samples`` on the
    gender margins only (released shares are rounded to 0.1 point)."""
    frame, codebook = responses_frame(answered_study)
    everything = ResultsOptions(weighting=CENSUS, k=5)
    with pytest.raises(ValueError, match="cannot weight these responses"):
        compute_results(answered_study, frame, codebook, everything)
    payload = compute_results(
        answered_study, frame, codebook, ResultsOptions(weighting=CENSUS, k=5, rake_on=("gender",))
    )
    assert payload["weighting"]["method"] == "rake" and payload["weighting"]["variables"] == ["gender"]
    assert [r["variables"] for r in payload["weighting"]["reports"]] == [["gender"]]
    margins = read_margins(SHIPPED_TARGETS["census-china-2020"])
    design = SurveyDesign(frame, strata=schema.SAMPLE)
    raked, _reports = rake_samples(design, margins[margins["variable"] == "gender"], sample=schema.SAMPLE)
    assert not np.allclose(raked.w, 1)
    shown = shares_overall(payload)
    assert len(shown) > 20
    for (variable, level), estimate in shown.items():
        answered = frame[variable].notna().to_numpy()
        chosen = (frame[variable].astype("string") == level).fillna(False).to_numpy()
        expected = raked.w[chosen].sum() / raked.w[answered].sum()
        assert estimate == pytest.approx(expected, abs=0.0006), (variable, level)


def test_a_variable_the_margins_lack_is_refused_by_name_and_nothing_is_built(answered_study, signed_in):
    frame, codebook = responses_frame(answered_study)
    options = ResultsOptions(weighting=CENSUS, k=5, rake_on=("gender", "shoe_size"))
    with pytest.raises(ValueError) as refused:
        compute_results(answered_study, frame, codebook, options)
    assert str(refused.value) == (
        "“shoe_size” is not a variable of the chosen raking margins "
        "(their variables: gender, age_band, education, urban)."
    )
    assert not DisclosureRecord.objects.exists()
    query = f"?weighting={CENSUS}&rake_file={CENSUS}&rake_on=gender&rake_on=shoe_size"
    body = html.unescape(signed_in.get(results_url(answered_study) + query).content.decode())
    assert "“shoe_size” is not a variable of the chosen raking margins" in body
    assert ResultsSnapshot.objects.get().payload == {} and not DisclosureRecord.objects.exists()
    download = reverse("survey:study_results_download", args=[answered_study.slug, "csv"])
    refused_file = signed_in.get(download + query)
    assert refused_file.status_code == 409 and "shoe_size" in refused_file.content.decode()


def test_the_page_offers_the_margins_variables_ticked_in_the_page_language(answered_study, signed_in):
    """Chosen raking margins show a box per variable, labelled with its question in the page's
    language and all ticked; ticking only some rakes to those, and the page says which."""
    unweighted = signed_in.get(results_url(answered_study)).content.decode()
    assert 'name="rake_on"' not in unweighted
    body = html.unescape(
        signed_in.get(results_url(answered_study) + f"?weighting={CENSUS}&lang=en").content.decode()
    )
    boxes = re.findall(r'<input type="checkbox" name="rake_on" value="(\w+)"( checked)?>\s*([^<]*)<', body)
    assert [(name, ticked) for name, ticked, _label in boxes] == [
        ("gender", " checked"),
        ("age_band", " checked"),
        ("education", " checked"),
        ("urban", " checked"),
    ]
    assert "Rake to" in body and f'name="rake_file" value="{CENSUS}"' in body
    labels = [label.strip() for _name, _ticked, label in boxes]
    assert all(labels) and "gender" not in labels  # question labels, not variable names
    chinese = html.unescape(
        signed_in.get(
            results_url(answered_study) + f"?weighting={CENSUS}&lang=zh", HTTP_ACCEPT_LANGUAGE="zh-CN"
        ).content.decode()
    )
    chinese_boxes = re.findall(r'name="rake_on" value="(\w+)" checked>\s*([^<]*)<', chinese)
    assert len(chinese_boxes) == 4 and all(
        re.search(r"[\u4e00-\u9fff]", label) for _n, label in chinese_boxes
    )
    assert "迭代加权所用变量" in chinese and "Rake to" not in chinese
    # Every box ticked is the same as none: one set of results, kept once.
    ticked = "".join(f"&rake_on={name}" for name, _ticked, _label in boxes)
    signed_in.get(results_url(answered_study) + f"?weighting={CENSUS}&lang=en&rake_file={CENSUS}{ticked}")
    kept = [
        s.options.get("rake_on")
        for s in ResultsSnapshot.objects.filter(options__weighting=CENSUS, options__language="en")
    ]
    assert kept == [[]]
    one = html.unescape(
        signed_in.get(
            results_url(answered_study) + f"?weighting={CENSUS}&lang=en&rake_file={CENSUS}&rake_on=gender"
        ).content.decode()
    )
    (snapshot,) = [s for s in ResultsSnapshot.objects.all() if s.options.get("rake_on") == ["gender"]]
    assert snapshot.payload and snapshot.payload["weighting"]["variables"] == ["gender"]
    assert f"variables raked to: {labels[0]}" in one
    assert re.search(r'value="gender" checked>', one) and not re.search(r'value="urban" checked>', one)
    # Boxes ticked for one file are not carried to another chosen with them.
    other = signed_in.get(results_url(answered_study) + f"?weighting=none&rake_file={CENSUS}&rake_on=gender")
    assert other.status_code == 200
    assert [s.options["rake_on"] for s in ResultsSnapshot.objects.filter(options__weighting="none")] == [[]]


def test_aggregate_tables_rakes_to_the_variables_asked_for(answered_study, tmp_path):
    margins = str(SHIPPED_TARGETS["census-china-2020"])
    out = io.StringIO()
    call_command(
        "aggregate_tables", answered_study.slug, "-o", str(tmp_path), "--weights", margins,
        "--rake-on", "gender", "-k", "5", stdout=out,
    )  # fmt: skip
    assert "Wrote" in out.getvalue()
    text = (tmp_path / f"{answered_study.slug}-results.csv").read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(re.sub(r"\A(#.*\n)*", "", text))))
    assert rows and all(
        r["weighting"] == "raked to China's 2020 census (mainland sample) on What is your gender? (china)"
        for r in rows
    )
    with pytest.raises(CommandError, match="“shoe_size” is not a variable of the chosen raking margins"):
        call_command(
            "aggregate_tables", answered_study.slug, "-o", str(tmp_path / "x"), "--weights", margins,
            "--rake-on", "shoe_size", "-k", "5",
        )  # fmt: skip
    assert not (tmp_path / "x").exists()
    with pytest.raises(CommandError, match="cannot weight these responses"):  # all four: refused
        call_command(
            "aggregate_tables",
            answered_study.slug,
            "-o",
            str(tmp_path / "y"),
            "--weights",
            margins,
            "-k",
            "5",
        )
    with pytest.raises(CommandError, match="--weights"):
        call_command(
            "aggregate_tables", answered_study.slug, "-o", str(tmp_path / "z"), "--rake-on", "gender"
        )


def test_too_fine_a_weighting_says_how_fine_and_to_rake_to_fewer(answered_study, monkeypatch):
    """Refused as too fine to check, the message says how many groups of one weight the weighting
    made and how small the smallest is (figures the class sizes give, known to any reader of the
    weights), and that fewer of the file's variables may be chosen."""
    import analysis.suppression

    monkeypatch.setattr(analysis.suppression, "WEIGHTED_BLOCK_MAX", 3)
    frame, codebook = responses_frame(answered_study)
    with pytest.raises(ValueError) as refused:
        compute_results(
            answered_study, frame, codebook, ResultsOptions(weighting=CENSUS, k=5, rake_on=("gender",))
        )
    chinese = frame.loc[frame[schema.SAMPLE] == "china", "gender"].replace({"other": "female"})
    sizes = [*chinese.value_counts().tolist(), int((frame[schema.SAMPLE] != "china").sum())]
    message = str(refused.value)
    assert f"it makes {len(sizes)} groups of one weight, the smallest of {min(sizes)} respondents" in message
    assert "Rake to fewer of the file's variables" in message
    assert not DisclosureRecord.objects.exists()
