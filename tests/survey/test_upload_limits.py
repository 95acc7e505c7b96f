"""Upload limits before parsing (issue 10, item 11): size, uncompressed size, rows and cell length, the same
for the studio and the command line; each refusal names the limit, and no temporary file is left."""

import io
import zipfile

import pytest
from django.urls import reverse

from survey.instrument import QuestionnaireInvalid
from survey.models import QuestionnaireVersion, Study
from survey.xlsform import limits, read_xlsform
from tests.survey.xlsform_helpers import workbook

pytestmark = pytest.mark.django_db


def rows(count: int, label: str = "Q") -> bytes:
    return workbook([["type", "name", "label"], *[["integer", f"q{n}", label] for n in range(count)]])


def refused(content: bytes):
    with pytest.raises(QuestionnaireInvalid) as caught:
        read_xlsform(content)
    (problem,) = caught.value.problems
    return problem


def test_a_file_over_the_size_limit_is_refused_naming_the_limit(settings):
    settings.CANDID_UPLOAD_MAX_BYTES = 2_000_000
    problem = refused(b"PK" + b"\0" * 2_500_000)
    assert problem.code == "too_large"
    assert problem.message == "the file is 2.5 MB; the limit is 2 MB (CANDID_UPLOAD_MAX_BYTES)"


def test_a_zip_that_unpacks_beyond_the_limit_is_refused_before_parsing(settings):
    settings.CANDID_UPLOAD_MAX_UNCOMPRESSED_BYTES = 1_000_000
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b" " * 3_000_000)  # 3 MB of XML in a few KB
    assert len(buffer.getvalue()) < 20_000
    problem = refused(buffer.getvalue())
    assert problem.code == "too_large_uncompressed"
    assert "unpacks to 3 MB; the limit is 1 MB (CANDID_UPLOAD_MAX_UNCOMPRESSED_BYTES)" in problem.message


def test_rows_beyond_the_limit_are_refused_at_the_first_row_over(settings):
    settings.CANDID_UPLOAD_MAX_ROWS = 50
    assert len(read_xlsform(rows(50))["sections"][0]["questions"]) == 50
    problem = refused(rows(51))
    assert problem.location == "sheet survey, row 52"
    assert problem.message == "sheet survey has more than 50 rows, the limit (CANDID_UPLOAD_MAX_ROWS)"


def test_a_cell_beyond_the_length_limit_is_refused_with_its_place(settings):
    settings.CANDID_UPLOAD_MAX_CELL_CHARS = 100
    problem = refused(rows(2, label="x" * 101))
    assert problem.location == "sheet survey, row 2, column C (label)"
    assert problem.message == "the cell holds 101 characters; the limit is 100 (CANDID_UPLOAD_MAX_CELL_CHARS)"


def test_the_command_line_checks_the_size_before_reading(
    settings, tmp_path, call_command_capture, monkeypatch
):
    settings.CANDID_UPLOAD_MAX_BYTES = 1_000
    path = tmp_path / "big.xlsx"
    path.write_bytes(rows(40))
    read = []
    monkeypatch.setattr(limits, "read_at_most", lambda path, limit: read.append(path) or b"")
    output = call_command_capture("import_questionnaire", str(path))
    assert "was not imported" in output and "(CANDID_UPLOAD_MAX_BYTES)" in output
    assert read == [] and not QuestionnaireVersion.objects.exists()


def test_the_command_line_refuses_too_many_rows(settings, tmp_path, call_command_capture):
    settings.CANDID_UPLOAD_MAX_ROWS = 10
    path = tmp_path / "long.xlsx"
    path.write_bytes(rows(11))
    output = call_command_capture("import_questionnaire", str(path))
    assert "sheet survey has more than 10 rows" in output


@pytest.fixture
def studio(make_user):
    from survey.roles import RESEARCHER

    user = make_user("rita", RESEARCHER)
    from django.test import Client

    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    study = Study.objects.create(owner=user, slug="s", title="S", languages=["en"])
    return client, reverse("survey:studio_import", args=[study.slug])


@pytest.fixture
def spooled(monkeypatch):
    """Every temporary file Django's upload machinery creates during the test."""
    from django.core.files import uploadedfile

    created = []
    original = uploadedfile.tempfile.NamedTemporaryFile

    def spy(*args, **kwargs):
        created.append(kwargs)
        return original(*args, **kwargs)

    monkeypatch.setattr(uploadedfile.tempfile, "NamedTemporaryFile", spy)
    return created


def upload(content: bytes, name: str = "form.xlsx") -> io.BytesIO:
    file = io.BytesIO(content)
    file.name = name
    return file


@pytest.mark.parametrize(
    ("setting", "value", "content", "message"),
    [
        ("CANDID_UPLOAD_MAX_BYTES", 3_000, rows(60), "kB; the limit is 3 kB (CANDID_UPLOAD_MAX_BYTES)"),
        ("CANDID_UPLOAD_MAX_ROWS", 5, rows(6), "more than 5 rows, the limit"),
        ("CANDID_UPLOAD_MAX_CELL_CHARS", 10, rows(1, label="y" * 11), "the limit is 10"),
    ],
)
def test_the_studio_refuses_with_the_same_messages_and_leaves_no_temporary_file(
    studio, settings, tmp_path, setting, value, content, message, spooled
):
    client, url = studio
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 100  # Django's default handlers would spool this to disk
    setattr(settings, setting, value)
    response = client.post(url, {"file": upload(content)})
    assert response.status_code == 400 and message in response.content.decode()
    assert list(tmp_path.iterdir()) == [] and not QuestionnaireVersion.objects.exists()
    assert spooled == []  # not even while the request ran: a killed worker leaves nothing behind


def test_an_accepted_upload_leaves_no_temporary_file_either(studio, settings, tmp_path, spooled):
    client, url = studio
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 100
    response = client.post(url, {"file": upload(rows(3))})
    assert response.status_code == 302 and list(tmp_path.iterdir()) == [] and spooled == []


def test_the_upload_handler_keeps_nothing_beyond_the_limit(settings):
    from django.core.files.uploadhandler import load_handler

    settings.CANDID_UPLOAD_MAX_BYTES = 10
    handler = load_handler("survey.uploads.BoundedMemoryUploadHandler")
    handler.new_file("file", "form.xlsx", "application/octet-stream", 25)
    for start in (0, 8, 16):
        handler.receive_data_chunk(b"x" * 8, start)
    file = handler.file_complete(24)
    assert file.size == 24 and file.read() == b""
