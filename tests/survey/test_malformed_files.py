"""Malformed files answer with a message, never a traceback (issue 10, items 11 and 14).

Whatever a parser meets (a cell reference past column XFD, JSON nested 200,000 deep, a study.json of the
wrong shape) is refused as a problem of the file, located where it can be; and a file given by its path
is read no further than its limit, whatever ``stat()`` says (0 for a device or a pipe).
"""

from __future__ import annotations

import io
import json
import os
import shutil
import threading
import zipfile
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from survey.instrument import QuestionnaireInvalid
from survey.instrument_files import read_questionnaire_bytes
from survey.models import QuestionnaireVersion, Study
from survey.xlsform import read_xlsform
from tests.conftest import SHIPPED_STUDY
from tests.survey.xlsform_helpers import workbook

pytestmark = pytest.mark.django_db

UNREADABLE = "the sheet cannot be read after row 2 ('ZZZZZZ' is not a valid column name"
DEEP_ARRAY = b"[" * 200_000 + b"]" * 200_000
DEEP_OBJECT = b'{"a":' * 50_000 + b"1" + b"}" * 50_000


def bad_cell_reference() -> bytes:
    """A workbook whose third survey row has a cell at column ZZZZZZ (openpyxl stops at ZZZ)."""
    content = workbook([["type", "name", "label"], ["integer", "q1", "Q1"], ["integer", "q2", "Q2"]])
    source, out = zipfile.ZipFile(io.BytesIO(content)), io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                assert b'r="A3"' in data
                data = data.replace(b'r="A3"', b'r="ZZZZZZ3"')
            target.writestr(item, data)
    return out.getvalue()


def refusal(name: str, content: bytes):
    with pytest.raises(QuestionnaireInvalid) as caught:
        read_questionnaire_bytes(name, content)
    (problem,) = caught.value.problems
    return problem


def test_a_sheet_the_parser_cannot_read_is_refused_at_its_sheet_and_row():
    problem = refusal("form.xlsx", bad_cell_reference())
    assert problem.code == "unreadable_sheet" and problem.location == "sheet survey"
    assert problem.message.startswith(UNREADABLE)
    with pytest.raises(QuestionnaireInvalid):
        read_xlsform(bad_cell_reference())


@pytest.mark.parametrize("content", [DEEP_ARRAY, DEEP_OBJECT, b"[" * 65 + b"]" * 65])
def test_json_nested_too_deep_is_refused_as_such(content):
    problem = refusal("form.json", content)
    assert problem.code == "json_too_deep" and problem.location == "form.json"
    assert problem.message == "the JSON is nested more than 64 levels deep"


@pytest.fixture
def studio(make_user):
    from survey.roles import RESEARCHER

    user = make_user("rita", RESEARCHER)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    study = Study.objects.create(owner=user, slug="s", title="S", languages=["en"])
    return client, reverse("survey:studio_import", args=[study.slug])


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("form.xlsx", bad_cell_reference(), UNREADABLE),
        ("form.json", DEEP_ARRAY, "the JSON is nested more than 64 levels deep"),
        ("form.json", DEEP_OBJECT, "the JSON is nested more than 64 levels deep"),
    ],
)
def test_the_studio_import_page_shows_the_message(studio, name, content, message):
    client, url = studio
    upload = io.BytesIO(content)
    upload.name = name
    response = client.post(url, {"file": upload})
    assert response.status_code == 400
    assert message.replace("'", "&#x27;") in response.content.decode()
    assert not QuestionnaireVersion.objects.exists()


def bundle(
    tmp_path: Path, name: str, study_json: bytes | None = None, questionnaire: bytes | None = None
) -> Path:
    """A copy of the shipped bundle under another slug, with study.json or the questionnaire replaced."""
    folder = tmp_path / name
    shutil.copytree(SHIPPED_STUDY, folder)
    meta = json.loads((folder / "study.json").read_text(encoding="utf-8"))
    meta.pop("claims_registry")
    (folder / "study.json").write_text(json.dumps({**meta, "slug": name}), encoding="utf-8")
    if study_json is not None:
        (folder / "study.json").write_bytes(study_json)
    if questionnaire is not None:
        (folder / "questionnaire.xlsx").write_bytes(questionnaire)
    return folder


def changed(**keys) -> bytes:
    meta = json.loads((SHIPPED_STUDY / "study.json").read_text(encoding="utf-8"))
    meta.pop("claims_registry")
    return json.dumps({k: v for k, v in {**meta, "slug": "other", **keys}.items() if v is not ...}).encode()


@pytest.mark.parametrize(
    ("study_json", "questionnaire", "said"),
    [
        (b"[1,2", None, "study.json: not valid JSON"),
        (DEEP_OBJECT, None, "study.json: the JSON is nested more than 64 levels deep"),
        (changed(title=...), None, "study.json: 'title' is missing"),
        (b"[]", None, "study.json: the file must hold one JSON object of the study's settings, not a list"),
        (changed(languages="en"), None, "study.json: 'languages' must be a list, not \"en\""),
        (changed(data_freeze_after_days="x"), None, "'data_freeze_after_days' must be a whole number"),
        (changed(languages=["en", 3]), None, "study.json: languages:"),
        (
            changed(samples=[{"slug": "a", "colour": "red"}]),
            None,
            "the samples or the consent cannot be used",
        ),
        (changed(consent=[]), None, "study.json: 'consent' must be an object, not []"),
        (None, bad_cell_reference(), "sheet survey: " + UNREADABLE),
    ],
)
def test_load_study_refuses_a_malformed_bundle_with_a_message(
    tmp_path, call_command_capture, study_json, questionnaire, said
):
    folder = bundle(tmp_path, "other", study_json, questionnaire)
    output = call_command_capture("load_study", str(folder))
    assert "The study was not loaded:" in output and said in output
    assert not Study.objects.filter(slug="other").exists()


def fifo_writer(path: Path, total: int) -> tuple[threading.Thread, list[int]]:
    """A named pipe at ``path`` that a thread fills with up to ``total`` bytes, and the count of bytes it
    could write before the reader closed the pipe (final once the thread is joined)."""
    os.mkfifo(path)
    written = [0]

    def write() -> None:
        try:
            with open(path, "wb") as pipe:
                while written[0] < total:
                    written[0] += pipe.write(b"0" * 4096)
        except BrokenPipeError:
            pass

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    return thread, written


def release(path: Path, thread: threading.Thread) -> None:
    """Let the writer finish even if nothing opened the pipe (a reader that opens and closes it)."""
    os.close(os.open(path, os.O_RDONLY | os.O_NONBLOCK))
    thread.join(timeout=10)
    assert not thread.is_alive()


TOTAL = 4_000_000  # far beyond every limit set below and a pipe's buffer (64 kB)


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["import_questionnaire", "{pipe}", "--study", "z"], "more than 1 kB, the limit"),
        (["attach_claims", "{study}", "{pipe}"], "was not attached"),
        (["claims_report", "{study}", "-o", "{out}", "--registry", "{pipe}"], "cannot be used"),
        (["load_study", "{bundle}"], "study.json: the file holds more than 1,000,000 bytes"),
    ],
)
def test_a_given_file_is_read_no_further_than_its_limit(
    shipped_study, tmp_path, settings, call_command_capture, argv, said
):
    settings.CANDID_UPLOAD_MAX_BYTES = 1_000
    folder = tmp_path / "bundle"
    folder.mkdir()
    pipe = (folder / "study.json") if "{bundle}" in argv else tmp_path / "pipe"
    thread, written = fifo_writer(pipe, TOTAL)
    values = {"pipe": pipe, "study": shipped_study.slug, "out": tmp_path / "out", "bundle": folder}
    output = call_command_capture(*(part.format(**values) for part in argv))
    release(pipe, thread)
    assert said in output, output
    assert written[0] < TOTAL  # the command stopped reading and closed the pipe


def test_population_figures_are_read_no_further_than_their_limit(shipped_study, tmp_path):
    """``aggregate_tables --weights``, before it needs responses to weight."""
    from django.core.management.base import CommandError

    from survey.management.commands.aggregate_tables import Command

    pipe = tmp_path / "pipe"
    thread, written = fifo_writer(pipe, TOTAL)
    with pytest.raises(CommandError, match="pipe: The file is larger than 200 KB"):
        Command()._targets(shipped_study, pipe)
    release(pipe, thread)
    assert written[0] < TOTAL
