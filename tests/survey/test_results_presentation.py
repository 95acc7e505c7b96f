"""What the results page says, as a new user reads it (issue 16's review): a test that has no
table to test, multiple-choice options by their own words, pages by their labels, the conditions of
a question's group, the page's own suppressed figures, and why a figure is empty."""

from __future__ import annotations

import html
import uuid
from datetime import date
from pathlib import Path

import pytest
from django.urls import reverse

from survey.bridge import study_codebook
from survey.models import PendingResponse, ResultsSnapshot, StudyMembership
from survey.receipts import keyed_hash
from survey.roles import ANALYST
from survey.selectors import latest_published_version, spec_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client, make_user, answered_study, settings):
    settings.CANDID_RESULTS_K = 5
    user = make_user("presentation_analyst", ANALYST)
    StudyMembership.objects.create(study=answered_study, user=user, role="analyst")
    client.force_login(user)
    return client


def unfinished(study, page: int, times: int) -> None:
    """``times`` responses left unfinished on the ``page``-th page (from 0) of the questionnaire."""
    version = latest_published_version(study)
    pages = [section["code"] for section in spec_for(version)["sections"]]
    for _ in range(times):
        token = uuid.uuid4().hex
        PendingResponse.objects.create(
            study=study,
            sample=study.samples.get(slug="china"),
            version=version,
            consent=version.consent,
            language="zh",
            display={"sections": pages},
            furthest=page,
            creation_hash=keyed_hash(token, "creation"),
            resume_hash=keyed_hash(token, "resume"),
            started_on=date.today(),
        )


def test_the_page_says_what_it_shows_in_the_readers_words(signed_in, answered_study, monkeypatch):
    # Every cell shown, so that tests are computed on this small study (30 respondents hide cells
    # of every cross-tab by sample): the questions of the page only mainland residents see
    # ("public_credit") were answered by one sample alone.
    monkeypatch.setattr("analysis.results.shows_every_cell", lambda cells: len(cells) > 0)
    unfinished(answered_study, 1, 6)
    url = reverse("survey:study_results", args=[answered_study.slug])
    response = signed_in.get(url + "?by=sample&lang=zh&k=5", HTTP_ACCEPT_LANGUAGE="zh-hans")
    body = html.unescape(response.content.decode())
    payload = ResultsSnapshot.objects.get().payload
    spec = spec_for(latest_published_version(answered_study))

    # 1. a table of one column has no test: "not applicable", never F = 0.00 ... p = 1.0000
    tests = {t["variable"]: t for item in payload["items"] for t in item["tests"]}
    assert tests["aware_dangan"] == {
        "variable": "aware_dangan",
        "by": "sample",
        "not_applicable": "one_column",
    }
    assert "p = 1.0000" not in body
    assert "只有一个组回答了这个问题" in body

    # 2. multiple choice: each bar and row is the option's own label, in the page's language
    choice_list = next(q for s in spec["sections"] for q in s["questions"] if q["code"] == "turn_to")[
        "choice_list"
    ]
    options = [
        c["label"]["zh"] for cl in spec["choice_lists"] if cl["name"] == choice_list for c in cl["choices"]
    ]
    section = next(s for s in response.context["sections"] if s.question == "turn_to")
    rows = [row["label"] for row in section.panels[0].rows]
    assert rows and set(rows) <= set(options)
    question = study_codebook(answered_study).variable("turn_to__police").label_in("zh")
    chart = str(section.panels[0].chart)
    assert all(f">{label[:40]}</text>" in chart for label in rows) and question[:40] not in chart

    # 3. drop-off by the page's label; a question its group shows only to some has the note
    assert [row["label"] for row in payload["dropoff"]] == [spec["sections"][1]["label"]["zh"]]
    dropoff = body[body.index("未完成的回答（按到达的最后一页）") :]
    assert spec["sections"][1]["label"]["zh"] in dropoff[: dropoff.index("</table>")]
    dangan = next(row for row in payload["nonresponse"] if row["variable"] == "aware_dangan")
    assert dangan["relevance"] == "${live_mainland} = 'yes'" and "“是”" in dangan["relevance_text"]

    # 5. the disclosure note counts this page's own suppressed figures
    shown = [*payload["table"], *payload["quality"], *payload["nonresponse"], *payload["dropoff"]]
    hidden = sum(bool(row["suppressed"]) for row in shown)
    release = payload["release"]
    assert release["primary"] + release["complementary"] >= hidden > 0
    assert f"{release['primary']} 个数字" in body


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_degenerate_tests_rounded_medians_and_undefined_design_effects_in_words(language):
    """Round 2 of the review (items 3 and 8): a p-value below 0.0001 reads "p < 0.0001" (it read
    "p = 1.688151035741533e-186" beside "p = 0.0000"); a test the breakdown determines is not
    applicable, with why (it read "F = 71406133547608650000.00"); a share without variance has no
    design effect (it read "deff 0.00"); a rounded median says its width (it read "45.00")."""
    import re

    from django.template import Context, Template
    from django.utils import translation

    from survey.views.results_page import _cell, _tests

    page = (Path(__file__).parents[2] / "survey/templates/survey/results/page.html").read_text()
    line = re.search(r"\{% if section.tests %\}.*?\{% endif %\}</li>\{% endfor %\}</ul>\{% endif %\}", page)
    item = {
        "tests": [
            {"variable": "q", "by": "sample", "f": 3.2, "ndf": 1.0, "ddf": 998.0, "p_value": 1.7e-186},
            {"variable": "q", "by": "region", "f": 2.1, "ndf": 1.9, "ddf": 990.0, "p_value": 0.0321},
            {"variable": "q", "by": "live", "not_applicable": "determined"},
        ]
    }
    section = {"tests": _tests(item)}
    with translation.override(language):
        text = Template("{% load i18n %}" + line[0]).render(Context({"section": section}))
        share = {"estimate": 0.66, "ci_low": 0.66, "ci_high": 0.66, "se": 0.0, "deff": None, "n": 1000}
        median = {"estimate": 40.0, "ci_low": 30.0, "ci_high": 50.0, "rounded_to": 10.0, "n": 80}
        cells = [
            _cell({**row, "suppressed": False}, percent=p) for row, p in ((share, True), (median, False))
        ]
    assert "p < 0.0001" in text and "p = 0.0321" in text and "e-186" not in text
    assert ("determines the answer" if language == "en" else "分组决定了回答") in text
    assert cells[0]["deff"] == ("not defined" if language == "en" else "无定义")
    assert cells[1]["text"] == ("≈40 (rounded to 10)" if language == "en" else "≈40（取整到 10）")
    assert cells[1]["interval"] == "30 – 50"
