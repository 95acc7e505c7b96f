"""Report and export pages: who may see what, background exports with progress, the audit log."""

import re

import pytest
from django.core.management import call_command
from django.urls import reverse

from survey.models import AuditEvent, ExportJob, StudyMembership
from survey.roles import ANALYST, RESEARCHER

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(make_user, answered_study):
    users = {
        name: make_user(name, role)
        for name, role in [("analyst_in", ANALYST), ("analyst_raw", ANALYST), ("researcher_out", RESEARCHER)]
    }
    StudyMembership.objects.create(study=answered_study, user=users["analyst_in"], role="analyst")
    StudyMembership.objects.create(
        study=answered_study, user=users["analyst_raw"], role="analyst", may_export_raw=True
    )
    return users


def test_signed_out_visitors_are_sent_to_sign_in(client, answered_study):
    from survey.models import ExportJob as Job

    urls = [
        reverse(name, args=[answered_study.slug])
        for name in ("survey:results", "survey:report", "survey:export")
    ]
    urls += [
        reverse("survey:export_status", args=["00000000-0000-4000-8000-000000000000"]),
        reverse("survey:export_download", args=["00000000-0000-4000-8000-000000000000"]),
        "/admin/survey/study/",
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"], url
    assert Job.objects.count() == 0


def test_report_page_for_study_members_only(client, people, answered_study):

    url = reverse("survey:report", args=[answered_study.slug])
    client.force_login(people["analyst_in"])
    page = client.get(url)
    assert (
        page.status_code == 200
        and "SYNTHETIC DATA" in page.content.decode()
        and "welcome-scs" in page.content.decode()
    )
    # The report is styled by a static stylesheet the site's own policy allows ('self'): no <style>
    # element, no inline style attribute, and the policy is not loosened for this page.
    html = page.content.decode()
    assert "/static/analysis/report.css" in html and "<style" not in html
    assert not re.search(r"<[^>]+\sstyle=", html)
    assert "style-src 'self';" in page["Content-Security-Policy"] + ";"
    # The census-raked report is not split by weighting class for disclosure control yet: an
    # analyst without the raw-data right asking for it gets the unweighted report, told why.
    asked = client.get(url + "?weights=census").content.decode()
    assert "welcome-scs" in asked and "for members with the raw-data right" in asked
    assert "weights=census" not in asked  # no link to it, in the page or its downloads
    monitoring = reverse("survey:results", args=[answered_study.slug])
    assert "weights=census" not in client.get(monitoring).content.decode()  # nor on the study's page
    client.force_login(people["analyst_raw"])
    offered = client.get(url).content.decode()
    assert "weights=census" in offered and "for members with the raw-data right" not in offered
    assert "weights=census" in client.get(monitoring).content.decode()
    weighted = client.get(url + "?weights=census")  # 30 respondents cannot meet every census margin
    assert (
        weighted.status_code == 200
        and "cannot be weighted to the census margins" in weighted.content.decode()
    )
    download = client.get(
        reverse("survey:report_download", args=[answered_study.slug, "json"]) + "?weights=census"
    )
    assert download.status_code == 302  # no weighted report to download: the page says why

    client.force_login(people["researcher_out"])
    assert client.get(url).status_code == 404
    assert client.get(reverse("survey:results", args=[answered_study.slug])).status_code == 404
    assert (
        AuditEvent.objects.filter(action="report_viewed").count() == 3
    )  # two unweighted reports and the one asked for weighted; the refused weighting showed none


def test_raw_exports_need_the_permission(client, people, answered_study):
    url = reverse("survey:export", args=[answered_study.slug])
    client.force_login(people["analyst_in"])
    assert client.get(url).status_code == 404
    assert client.post(url, {"format": "csv", "language": "en"}).status_code == 404
    client.force_login(people["analyst_raw"])
    response = client.post(url, {"format": "csv", "language": "en"})
    job = ExportJob.objects.get()
    assert response["Location"] == reverse("survey:export_status", args=[job.pk]) and job.status == "done"
    download = client.get(reverse("survey:export_download", args=[job.pk]))
    assert download.status_code == 200 and b"response_id" in b"".join(download.streaming_content)
    assert (
        client.get(reverse("survey:export_download", args=[job.pk]) + "?file=../../etc/passwd").status_code
        == 404
    )
    client.force_login(people["analyst_in"])  # someone else's job
    assert client.get(reverse("survey:export_status", args=[job.pk])).status_code == 404
    assert set(AuditEvent.objects.values_list("action", flat=True)) >= {
        "export_requested",
        "export_downloaded",
    }


@pytest.mark.django_db(transaction=True)  # the worker closes its connection when done, as a real one does
def test_large_exports_run_as_background_tasks_with_progress(client, people, answered_study, settings):

    settings.CANDID_EXPORT_INLINE_MAX = 0
    client.force_login(people["analyst_raw"])
    client.post(reverse("survey:export", args=[answered_study.slug]), {"format": "parquet", "language": "zh"})
    job = ExportJob.objects.get()
    assert job.status == "queued"
    page = client.get(reverse("survey:export_status", args=[job.pk])).content.decode()
    assert "Queued" in page and 'http-equiv="refresh"' in page
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)
    job.refresh_from_db()
    assert job.status == "done" and job.rows_done == job.rows_total == 30
    assert "Ready" in client.get(reverse("survey:export_status", args=[job.pk])).content.decode()


def test_permission_changes_are_audited(client, admin_user_, people, answered_study):
    client.force_login(admin_user_)
    url = reverse("admin:survey_study_change", args=[answered_study.pk])
    form = client.get(url).context["adminform"].form
    memberships = list(answered_study.memberships.all())
    data = {
        "title": answered_study.title,
        "slug": answered_study.slug,
        "languages": '["en", "zh"]',
        "data_freeze_on": answered_study.data_freeze_on.isoformat() if answered_study.data_freeze_on else "",
        "samples-TOTAL_FORMS": "0",
        "samples-INITIAL_FORMS": "0",
        "memberships-TOTAL_FORMS": str(len(memberships)),
        "memberships-INITIAL_FORMS": str(len(memberships)),
    }
    samples = list(answered_study.samples.all())
    data.update({"samples-TOTAL_FORMS": str(len(samples)), "samples-INITIAL_FORMS": str(len(samples))})
    for i, sample in enumerate(samples):
        data.update(
            {
                f"samples-{i}-id": sample.pk,
                f"samples-{i}-study": answered_study.pk,
                f"samples-{i}-slug": sample.slug,
                f"samples-{i}-name": sample.name,
                f"samples-{i}-default_language": sample.default_language,
                f"samples-{i}-is_default": "on" if sample.is_default else "",
            }
        )
    for i, membership in enumerate(memberships):
        data.update(
            {
                f"memberships-{i}-id": membership.pk,
                f"memberships-{i}-study": answered_study.pk,
                f"memberships-{i}-user": membership.user.username,
                f"memberships-{i}-role": membership.role,
                f"memberships-{i}-may_export_raw": "on",
            }
        )
    assert form is not None
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    event = AuditEvent.objects.get(action="permissions_changed")
    assert event.user == admin_user_ and "analyst_in:analyst:raw" in event.detail["members"]


def test_monitoring_counts_per_sample_in_a_fixed_number_of_queries(answered_study, django_assert_num_queries):
    from survey.models import CounterKind, StudyCounter
    from survey.selectors import study_monitoring

    StudyCounter.objects.create(
        sample=answered_study.samples.get(slug="west"), kind=CounterKind.DECLINED, count=3
    )
    # released counts, pending counts, counters, durations, the samples themselves
    with django_assert_num_queries(5):
        monitoring = study_monitoring(answered_study)
    rows = {row["sample"].slug: row for row in monitoring["samples"]}
    assert rows["china"]["completed"] == rows["china"]["started"] == rows["china"]["synthetic"] == 15
    assert rows["west"]["declined"] == 3 and rows["china"]["declined"] == 0
    assert rows["west"]["completion_rate"] == 1.0 and monitoring["completed"] == 30
    assert monitoring["awaiting_release"] == 0


def report_body(response) -> str:
    """The report itself, without the page around it (which carries a fresh CSRF token each time)."""
    page = response.content.decode()
    return page[page.index('<article class="claims-report"') : page.index("</article>")]


def test_report_is_kept_until_the_data_changes(client, people, answered_study, participant, monkeypatch):
    from survey.models import ReportSnapshot
    from survey.services import reports
    from survey.services.responses import response_withdraw
    from tests.helpers import close_fieldwork

    builds = []
    real_build = reports.build_report
    monkeypatch.setattr(reports, "build_report", lambda *a, **k: builds.append(1) or real_build(*a, **k))
    url = reverse("survey:report", args=[answered_study.slug])
    client.force_login(people["analyst_in"])
    first = report_body(client.get(url))
    assert report_body(client.get(url)) == first and len(builds) == 1  # the second view reads the snapshot

    _, outcome = participant(seed=99)  # a new completion waits for its release batch: same report
    assert outcome.completed
    assert report_body(client.get(url)) == first and len(builds) == 1
    close_fieldwork(answered_study)  # released: the next view is rebuilt from 31 responses
    client.get(url)
    assert len(builds) == 2 and ReportSnapshot.objects.get(weighted=False).responses == 31

    assert response_withdraw(code=outcome.receipt_code).outcome == "deleted"
    assert not ReportSnapshot.objects.exists()  # nothing of the withdrawn participant is kept
    # The data changed only by a withdrawal since the report was released: held, no figures
    # (beside the report before, they would give the withdrawn answers by difference).
    page = client.get(url).content.decode()
    assert len(builds) == 3 and "Results are held" in page and 'class="claims-report"' not in page
    assert AuditEvent.objects.filter(action="report_viewed").count() == 4


def test_large_study_reports_are_built_in_the_background(client, people, answered_study, settings):
    from django_tasks_db.models import DBTaskResult

    settings.CANDID_REPORT_INLINE_MAX = 0
    url = reverse("survey:report", args=[answered_study.slug])
    client.force_login(people["analyst_in"])
    for _ in range(2):  # asking again while it is prepared does not queue a second build
        page = client.get(url).content.decode()
        assert "being prepared" in page and 'http-equiv="refresh"' in page
    queued = DBTaskResult.objects.get()
    # What the worker does with it (run here without the worker's loop, which drops the database
    # connection between tasks — and with it this test's transaction on PostgreSQL).
    queued.task.call(*queued.task_result.args, **queued.task_result.kwargs)
    page = client.get(url).content.decode()
    assert "SYNTHETIC DATA" in page and "welcome-scs" in page


def test_a_report_build_past_the_request_budget_goes_to_the_background(
    client, people, answered_study, settings, monkeypatch
):
    """A small study's report built inline under heavy load (here: a build that takes longer than
    the 2 s request budget) is handed to the worker before the budget ends: the page says it is
    being prepared and refreshes, then shows the report. Before, the budget stopped the request
    with the participants' "please try again" page (503)."""
    import time

    from django_tasks_db.models import DBTaskResult

    from survey.services import reports

    settings.CANDID_REQUEST_BUDGET_SECONDS = 2
    real, calls = reports.build_report, []

    def build(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            time.sleep(10)  # stopped at the inline deadline (1 s, half the budget)
        return real(*args, **kwargs)

    monkeypatch.setattr(reports, "build_report", build)
    url = reverse("survey:report", args=[answered_study.slug])
    client.force_login(people["analyst_in"])
    started = time.monotonic()
    response = client.get(url)
    page = response.content.decode()
    assert response.status_code == 200 and time.monotonic() - started < 5
    assert "being prepared" in page and 'http-equiv="refresh"' in page
    queued = DBTaskResult.objects.get()
    queued.task.call(*queued.task_result.args, **queued.task_result.kwargs)
    page = client.get(url).content.decode()
    assert "SYNTHETIC DATA" in page and "welcome-scs" in page


@pytest.mark.parametrize(
    "durations", [[30], [30, 60], [30, 60, 90], [60, 30, 30, 600, 90], [120] * 4 + [30] * 5, []]
)
def test_median_duration_from_the_histogram_is_the_list_median(durations):
    from survey.selectors import _median_of_histogram

    ordered = sorted(durations)
    histogram = sorted({d: ordered.count(d) for d in ordered}.items())
    assert _median_of_histogram(histogram) == (ordered[len(ordered) // 2] if ordered else None)


def test_load_study_gives_members_their_roles(client, make_user, call_command_capture):
    """What `make demo` does: the demo researcher and analyst can open the shipped study's pages;
    the analyst sees reports but not raw exports."""
    from survey.models import Study

    make_user("demo-researcher", RESEARCHER)
    analyst = make_user("demo-analyst", ANALYST)
    refused = call_command_capture("load_study", "--member", "nobody:analyst")
    assert "give an existing username" in refused and not Study.objects.exists()
    output = call_command_capture(
        "load_study", "--member", "demo-researcher:researcher", "--member", "demo-analyst:analyst"
    )
    assert "demo-analyst is a member of trust-and-rating-systems as analyst" in output
    study = Study.objects.get()
    assert set(study.memberships.values_list("user__username", "role")) == {
        ("demo-researcher", "researcher"),
        ("demo-analyst", "analyst"),
    }
    assert AuditEvent.objects.filter(action="membership_set").count() == 2
    client.force_login(analyst)
    assert client.get(reverse("survey:results", args=[study.slug])).status_code == 200
    assert client.get(reverse("survey:export", args=[study.slug])).status_code == 404


def test_the_study_page_reads_in_chinese_with_rates_as_percentages(client, people, answered_study):
    """The monitoring page (survey:results) is in the reader's language, headings and links
    included, and the completion rate reads as a percentage (it read "1" for every response
    completed), in each language's way of writing one."""
    client.force_login(people["analyst_raw"])
    url = reverse("survey:results", args=[answered_study.slug])
    client.post(reverse("survey:export", args=[answered_study.slug]), {"format": "csv", "language": "en"})
    chinese = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    for words in ("参与者链接", "进度监控", "样本", "开始", "已完成", "完成率", "拒绝同意", "撤回"):
        assert words in chinese, words
    for words in ("答题时长中位数", "其中合成回答", "说法登记表（第 1 版）", "您最近的导出", "已就绪"):
        assert words in chinese, words
    assert "导出回答（CSV、XLSX、SPSS、Stata、Parquet、JSON），附编码手册" in chinese
    english_words = (
        "Participant links",
        "Monitoring",
        "Completion rate",
        "Declined consent",
        "Median duration",
        "Of which synthetic",
        "Claims registry",
        "Export responses",
        "Your recent exports",
        " min<",
        "Ready",
    )
    for words in english_words:
        assert words not in chinese, words
    rows = re.findall(r"<tr><th scope=\"row\">([^<]*)</th>((?:<td>[^<]*</td>\s*)+)</tr>", chinese)
    assert len(rows) == 2
    for _name, cells in rows:
        assert re.findall(r"<td>([^<]*)</td>", cells)[2] == "100%"  # every synthetic response completed
    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert english.count("<td>100%</td>") == 2 and "<td>1</td>" not in english.replace("\n", "")
    for words in english_words[:-2]:
        assert words in english, words


def test_percentages_are_written_as_each_language_writes_them():
    from django.utils import translation

    from survey.templatetags.candid import percent

    assert [percent(v) for v in (1, 0.625, 2 / 3, 0, None)] == ["100%", "62.5%", "66.7%", "0%", "—"]
    with translation.override("zh-hans"):
        assert [percent(v) for v in (1, 0.625)] == ["100%", "62.5%"]


def test_an_unweighted_report_says_why_when_the_census_version_exists(client, people, answered_study):
    """The census margins fit the shipped study. An analyst without the raw-data right reads the
    unweighted report beside a note that the raked one is reserved: the report itself must not
    say that no population margins were given (it did), but that the raked version is reserved;
    one with the right reads that the raked version is another report. In both languages, on the
    page and in the downloaded report."""
    url = reverse("survey:report", args=[answered_study.slug])
    download = reverse("survey:report_download", args=[answered_study.slug, "html"])
    client.force_login(people["analyst_in"])
    english = report_body(client.get(url))
    assert "no population margins were given" not in english
    assert "Unweighted: the version raked to the 2020 census margins is reserved" in english
    chinese = report_body(client.get(url + "?language=zh-hans"))
    assert "没有提供总体边际分布" not in chinese
    assert "未加权：按2020年人口普查边际分布加权的版本仅供拥有原始数据权限的成员查看" in chinese
    file = client.get(download + "?language=zh-hans").content.decode()
    assert "仅供拥有原始数据权限的成员查看" in file and "没有提供总体边际分布" not in file

    client.force_login(people["analyst_raw"])
    offered = report_body(client.get(url))
    assert "no population margins were given" not in offered and "reserved" not in offered
    assert "the raked version is a separate report" in offered
    assert "加权版本是另一份报告" in report_body(client.get(url + "?language=zh-hans"))
