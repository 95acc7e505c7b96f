"""Every word a participant reads is in their language (issue 14): the shipped study walked in each
language, including the error page, the thank-you page and the withdrawal pages, with no English
word on a Chinese page and no Chinese on an English one; and the locale fallbacks."""

from __future__ import annotations

import html
import re

import pytest
from django.test import Client

from survey.languages import django_locale
from survey.simulation import Respondent, hidden_fields, walk

pytestmark = pytest.mark.django_db

# Words a Chinese page may show in Latin letters: the brand (window title, the shipped study's
# team), the other language's name on the switch, and "IP" (as in IP地址); receipt codes and e-mail
# addresses are removed before checking.
ALLOWED_LATIN = {"Candid", "English", "IP"}
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
RECEIPT = re.compile(r"\b\d+(?:-[A-Z2-7]{1,5}){5,7}\b")


def readable_text(page: str) -> str:
    """What a person (or a screen reader) reads: text, titles, labels and alternative texts."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    attributes = re.findall(r'\s(?:aria-label|title|alt|placeholder)="([^"]*)"', page)
    text = re.sub(r"<[^>]+>", " ", page)
    return html.unescape(" ".join([text, *attributes]))


def foreign_words(page: str, language: str, *, neutral: tuple[str, ...] = ()) -> list[str]:
    """Words of the other language; ``neutral`` are the study's own one-language values (an ethics
    approval number), not words of Candid's."""
    text = EMAIL.sub(" ", RECEIPT.sub(" ", readable_text(page)))
    for value in neutral:
        text = text.replace(value, " ")
    if language == "zh":
        return [w for w in LATIN_WORD.findall(text) if w not in ALLOWED_LATIN]
    return CJK.findall(text.replace("中文", ""))


class Recorder(Client):
    """A test client that keeps every page it was served."""

    def __init__(self, **defaults):
        super().__init__(**defaults)
        self.pages: list[tuple[str, str]] = []

    def request(self, **request):
        response = super().request(**request)
        if response.status_code != 302 and response.get("Content-Type", "").startswith("text/html"):
            self.pages.append((request["PATH_INFO"], response.content.decode()))
        return response


@pytest.mark.parametrize(
    ("accept", "sample", "language"), [("zh-CN,zh;q=0.9", "china", "zh"), ("en-GB,en;q=0.9", "west", "en")]
)
def test_the_whole_study_is_in_one_language(shipped_study, accept, sample, language):
    client = Recorder(HTTP_ACCEPT_LANGUAGE=accept)
    outcome = walk(client, f"/s/{shipped_study.slug}/{sample}/", Respondent(3, sample))
    assert outcome.completed
    # A page sent empty: its error summary and messages must be in the language too.
    empty = Recorder(HTTP_ACCEPT_LANGUAGE=accept)
    consent = empty.get(f"/s/{shipped_study.slug}/{sample}/")
    page = empty.post(
        f"/s/{shipped_study.slug}/{sample}/",
        {**hidden_fields(consent.content.decode()), "agree": "yes", "action": "agree"},
        follow=True,
    )
    errors = empty.post(page.wsgi_request.path, {**hidden_fields(page.content.decode()), "action": "next"})
    assert 'id="error-summary"' in errors.content.decode()
    client.pages += empty.pages
    withdraw = client.get("/withdraw/")
    client.post("/withdraw/", {"code": "12-ABCDE"}, HTTP_ACCEPT_LANGUAGE=accept)
    client.post("/withdraw/", {"code": outcome.receipt_code}, HTTP_ACCEPT_LANGUAGE=accept)
    assert withdraw.status_code == 200
    assert len(client.pages) >= 10
    neutral = (shipped_study.versions.get().consent.ethics_reference,)
    problems = {
        path: words
        for path, page in client.pages
        if (words := foreign_words(page, language, neutral=neutral))
    }
    assert not problems, problems


def test_the_checker_finds_a_stray_word():
    assert foreign_words("<p>第1页 Next</p>", "zh") == ["Next"]
    assert foreign_words('<button aria-label="上一页">Back</button>', "en") == ["上", "一", "页"]


@pytest.mark.parametrize(
    ("tag", "locale"),
    [
        ("zh", "zh-hans"),
        ("zh-CN", "zh-hans"),
        ("zh-SG", "zh-hans"),
        ("zh-Hans", "zh-hans"),
        ("zh_Hans_CN", "zh-hans"),
        ("zh-TW", "en"),  # Traditional Chinese has no catalogue: English, not Simplified
        ("zh-Hant", "en"),
        ("en-GB", "en"),
        ("xx", "en"),
    ],
)
def test_locale_fallbacks(tag, locale):
    assert django_locale(tag) == locale


def test_a_study_written_in_zh_hans_gets_chinese_buttons():
    from survey.participant_text import text

    assert text("closed_title", "zh-Hans") == text("closed_title", "zh-CN") == "本调查已结束"
    assert text("closed_title", "en") == "This survey is closed"
