"""Studio pages for the largest questionnaire the upload limits accept, beside the shipped one.

The largest accepted form fills ``CANDID_UPLOAD_MAX_ROWS`` survey rows (pages of 48 questions: single
choice, integer, text, Likert, every fourth with a relevance), in English and Chinese.
Both forms are uploaded through the studio's import page, then each studio page of the version (and
its admin pages, as a superuser) is requested in-process through Django's full stack (test client,
``DJANGO_DEBUG=0``) on a scratch SQLite database, and timed (median of three). The ratio shows how each page grows with the form; the issue asks
every page of the largest accepted form to stay under 2 s.

Run: ``.venv/bin/python bench/bench_xlsform_upload.py``
"""

from __future__ import annotations

import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SCRATCH = Path(tempfile.mkdtemp(prefix="candid-bench-xlsform-"))
os.environ["DATABASE_URL"] = f"sqlite:///{SCRATCH / 'bench.sqlite3'}"
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.local"
os.environ["DJANGO_DEBUG"] = "0"
os.environ["DJANGO_ALLOWED_HOSTS"] = "testserver"
os.environ["CANDID_REQUEST_BUDGET_SECONDS"] = "0"  # measure a slow page rather than stop it

import django  # noqa: E402

django.setup()

import openpyxl  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402

SHIPPED = ROOT / "survey" / "fixtures" / "trust_and_rating_systems" / "questionnaire.xlsx"
PER_PAGE = 48
PAGES = settings.CANDID_UPLOAD_MAX_ROWS // (PER_PAGE + 2)


def largest_form() -> bytes:
    """``PAGES`` pages of ``PER_PAGE`` questions: ``PAGES * (PER_PAGE + 2)`` survey rows."""
    book = openpyxl.Workbook()
    survey = book.active
    survey.title = "survey"
    survey.append(["type", "name", "label::English (en)", "label::Chinese (zh)", "relevant", "appearance"])
    types = ["select_one agree", "integer", "text", "select_one agree"]
    for page in range(PAGES):
        survey.append(["begin_group", f"p{page}", f"Page {page}", f"第{page}页", "", ""])
        for n in range(PER_PAGE):
            kind = types[n % 4]
            relevant = f"${{q{page}_{n - 1}}} != ''" if n % 4 == 3 else ""
            appearance = "likert" if n % 4 == 3 else ""
            survey.append(
                [kind, f"q{page}_{n}", f"Question {page}.{n}", f"问题 {page}.{n}", relevant, appearance]
            )
        survey.append(["end_group", "", "", "", "", ""])
    choices = book.create_sheet("choices")
    choices.append(["list_name", "name", "label::English (en)", "label::Chinese (zh)"])
    for code, en, zh in [("1", "Disagree", "不同意"), ("2", "Neither", "中立"), ("3", "Agree", "同意")]:
        choices.append(["agree", code, en, zh])
    book.create_sheet("settings").append(["form_title", "form_id"])
    book["settings"].append(["Largest accepted form", "largest"])
    buffer = io.BytesIO()
    book.save(buffer)
    assert survey.max_row - 1 <= settings.CANDID_UPLOAD_MAX_ROWS
    return buffer.getvalue()


def timed(call) -> tuple[float, object]:
    runs = []
    for _ in range(3):
        start = time.perf_counter()
        result = call()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs), result


def measure(client: Client, admin: Client, slug: str, name: str, content: bytes) -> dict[str, float]:
    from survey.models import Study

    study = Study.objects.create(owner=client.user, slug=slug, title=slug, languages=["en", "zh"])
    times: dict[str, float] = {}

    def upload():
        file = io.BytesIO(content)
        file.name = name
        response = client.post(reverse("survey:studio_import", args=[study.slug]), {"file": file})
        assert response.status_code == 302, response.content.decode()[:2000]
        return response

    times["import (upload, check, write)"], _ = timed(upload)
    version = study.versions.get()
    pages = {
        "version page": reverse("survey:studio_version", args=[slug, version.number]),
        "export .xlsx": reverse("survey:studio_version_export", args=[slug, version.number, "xlsx"]),
        "logic map": reverse("survey:studio_logic", args=[slug, version.number]),
        "live check": reverse("survey:studio_check", args=[slug, version.number]),
        "preview (en)": reverse("survey:studio_preview", args=[slug, version.number, "en"]),
        "form settings": reverse("survey:studio_form_settings", args=[slug, version.number]),
    }
    from survey.selectors import version_to_spec

    spec = version_to_spec(version)
    first_question = spec["sections"][0]["questions"][0]["code"]
    pages["question editor"] = reverse("survey:studio_question", args=[slug, version.number, first_question])
    pages["page editor"] = reverse(
        "survey:studio_page", args=[slug, version.number, spec["sections"][0]["code"]]
    )
    # A long form is shown a part at a time: the last part also holds the choice lists.
    pages["version page, last part"] = pages["version page"] + "?part=99"
    pages["preview (en), last part"] = pages["preview (en)"] + "?part=99"
    for label, url in pages.items():
        seconds, response = timed(lambda url=url: client.get(url))
        assert response.status_code == 200, (label, response.status_code)
        times[label] = seconds
    in_admin = {
        "admin: version": reverse("admin:survey_questionnaireversion_change", args=[version.pk]),
        "admin: its questions": f"{reverse('admin:survey_question_changelist')}?version__id__exact={version.pk}",
        "admin: preview (en)": reverse("admin:survey_questionnaireversion_preview", args=[version.pk, "en"]),
    }
    for label, url in in_admin.items():
        seconds, response = timed(lambda url=url: admin.get(url))
        assert response.status_code == 200, (label, response.status_code)
        times[label] = seconds
    return times


def main() -> None:
    from survey.roles import RESEARCHER

    call_command("migrate", verbosity=0)
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    user = get_user_model().objects.create_user("bench", password=None, is_staff=True)
    user.groups.add(Group.objects.get(name=RESEARCHER))
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    client.user = user
    admin = Client(HTTP_ACCEPT_LANGUAGE="en")  # the admin is for superusers
    admin.force_login(get_user_model().objects.create_superuser("bench-admin", password=None))
    largest = largest_form()
    print(f"largest accepted form: {PAGES * (PER_PAGE + 2):,} survey rows, {len(largest) / 1e3:.0f} kB")
    small = measure(client, admin, "shipped", "questionnaire.xlsx", SHIPPED.read_bytes())
    large = measure(client, admin, "largest", "largest.xlsx", largest)
    print(f"{'page':32} {'shipped s':>10} {'largest s':>10} {'ratio':>7}")
    for label in small:
        flag = "" if large[label] < 2 else "  over 2 s"
        print(
            f"{label:32} {small[label]:10.3f} {large[label]:10.3f} {large[label] / small[label]:7.1f}{flag}"
        )


if __name__ == "__main__":
    main()
