"""The shipped study's results page, its downloads, ``aggregate_tables`` and the claims report read
in Chinese: no English of Candid's own and no codes where a reader expects words (issue 16 review,
item 5: "Sample: …" headers from a build the worker made in English, the weighting choice named by
its file code, "en / zh" as language names, English notes in ``--language zh-Hans`` files).
"""

from __future__ import annotations

import csv
import html
import io
import re
from dataclasses import asdict

import openpyxl
import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation

from survey.models import StudyMembership
from survey.roles import ANALYST
from survey.services.results import ResultsOptions, results_build

pytestmark = pytest.mark.django_db

CENSUS = "shipped:census-china-2020"
ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}
# Candid's own English, as it stood on these pages and files before they read in Chinese.
ENGLISH = (
    "Sample",
    "suppressed",
    "nweighted",
    "aked to",
    "Breakdowns",
    "Responses used",
    "Disclosure control",
    "Excluded by",
    "not shown",
    "not applicable",
    "not estimable",
    "withheld",
    "Shipped margins",
    "census-china-2020",
    "margins_china_2020",
    "Rao–Scott tests",
    "Rao–Scott F",
    "Candid, study",
    "SYNTHETIC",
    "respondents",
)


def english_in(text: str) -> list[str]:
    return [phrase for phrase in ENGLISH if phrase in text]


def main_text(body: str) -> str:
    """What a reader reads in the page's main part (no markup, scripts or attribute values)."""
    part = body[body.index("<main") : body.index("</main>")]
    part = re.sub(r"<(script|style)\b.*?</\1>", "", part, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", part))


@pytest.fixture
def reader(client, make_user, answered_study, settings):
    settings.CANDID_RESULTS_K = 5  # 15 respondents a sample: groups of one weight of 5 or more
    user = make_user("zh_reader", ANALYST)
    StudyMembership.objects.create(study=answered_study, user=user, role="analyst")
    client.force_login(user)
    return client


def workbook_words(content: bytes) -> str:
    """The XLSX's notes sheet and the title of its tests sheet: the words Candid writes there."""
    book = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    notes = [str(cell) for row in book["notes"].iter_rows(values_only=True) for cell in row if cell]
    tests = [name for name in book.sheetnames if name.startswith("tests")]
    titles = [str(next(book[name].iter_rows(values_only=True))[0]) for name in tests]
    return "\n".join(notes + titles)


def csv_words(text: str) -> str:
    """The CSV's words written by Candid: its note and weighting columns (the rest are codes,
    numbers and the questionnaire's labels)."""
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows
    return "\n".join(f"{row['note']}\n{row['weighting']}" for row in rows)


def test_the_results_page_and_downloads_read_in_chinese(reader, answered_study):
    study = answered_study
    census = ResultsOptions(
        by=("sample", "gender"), k=5, language="zh", weighting=CENSUS, rake_on=("gender",)
    )
    with translation.override("en"):  # as the background worker builds it: in no reader's language
        results_build(study_id=study.pk, options=asdict(census))
    query = f"?lang=zh&k=5&by=sample&by=gender&weighting={CENSUS}&rake_file={CENSUS}&rake_on=gender"
    url = reverse("survey:study_results", args=[study.slug])
    body = reader.get(url + query, **ZH).content.decode()
    text = main_text(body)
    assert "样本：中国" in text or "样本：" in text  # the column headers: 样本：<sample>
    title = "中国2020年人口普查（大陆样本）"
    assert f"内置边际分布：{title}" in text and text.count(title) >= 2  # the choice and the note
    assert re.search(r'<option value="zh" lang="zh"[^>]*>简体中文</option>', body)
    assert re.search(r'<option value="en" lang="en"[^>]*>English</option>', body)
    assert english_in(text) == []

    download = reverse("survey:study_results_download", args=[study.slug, "csv"])
    csv_text = reader.get(download + query).content.decode("utf-8-sig")
    words = csv_words(csv_text)
    assert f"迭代加权至{title}" in words and "已隐藏" in words
    assert english_in(words) == []
    xlsx = reader.get(download.replace(".csv", ".xlsx") + query).content
    notes = workbook_words(xlsx)
    assert "分组依据" in notes and "样本, 您的性别？" in notes  # the breakdowns by their labels
    assert english_in(notes) == []


def test_aggregate_tables_writes_its_notes_in_the_language_asked_for(answered_study, tmp_path):
    margins = str(settings.BASE_DIR / "analysis" / "claims" / "margins_china_2020.csv")
    call_command(
        "aggregate_tables", answered_study.slug, "-o", str(tmp_path), "--language", "zh-Hans", "-k", "5",
        "--by", "sample", "--by", "gender", "--weights", margins, "--rake-on", "gender", stdout=io.StringIO(),
    )  # fmt: skip
    text = (tmp_path / f"{answered_study.slug}-results.csv").read_text(encoding="utf-8-sig")
    words = csv_words(text)
    assert "迭代加权至中国2020年人口普查（大陆样本）" in words
    assert english_in(words) == []
    notes = workbook_words((tmp_path / f"{answered_study.slug}-results.xlsx").read_bytes())
    assert "样本, 您的性别？" in notes and "gender" not in notes
    assert english_in(notes) == []
    # In English the same words, so that nothing above passes for want of a note.
    call_command(
        "aggregate_tables", answered_study.slug, "-o", str(tmp_path / "en"), "--language", "en", "-k", "5",
        "--by", "sample", "--by", "gender", stdout=io.StringIO(),
    )  # fmt: skip
    english = workbook_words((tmp_path / "en" / f"{answered_study.slug}-results.xlsx").read_bytes())
    assert "Breakdowns" in english and "Sample, What is your gender?" in english


def test_the_claims_report_reads_in_chinese(client, make_user, answered_study):
    """Including why the census weighting cannot be made (a margin without respondents among 30):
    analysis.weighting's reason was English inside the Chinese sentence."""
    user = make_user("zh_raw_reader", superuser=True)  # the census-weighted report needs the raw-data right
    client.force_login(user)
    url = reverse("survey:report", args=[answered_study.slug])
    text = main_text(client.get(url + "?language=zh", **ZH).content.decode())
    assert "摘要" in text
    assert [p for p in ("Summary", "Unweighted", "withheld", "supported", "contradicted") if p in text] == []
    weighted = main_text(client.get(url + "?language=zh&weights=census", **ZH).content.decode())
    assert "这些回答无法按人口普查边际分布加权" in weighted and "在样本中没有受访者" in weighted
    assert [p for p in ("has no respondent", "collapse", "margin ") if p in weighted] == []
