"""Export options end to end: partial responses (never by default), missing codes and syntax files,
from the export page and the command."""

from __future__ import annotations

import pandas as pd
import pytest
from django.test import Client
from django.urls import reverse

from analysis import missing, schema
from survey import flow
from survey.models import ExportJob, ExportStatus, PendingResponse, Response
from survey.selectors import cached_spec
from survey.services.responses import response_save_page, response_start

pytestmark = pytest.mark.django_db


@pytest.fixture
def study_with_one_of_each(participant, shipped_study, admin_user_):
    """One released response, and one response in progress that answered the first page only."""
    from tests.helpers import close_fieldwork

    participant()
    close_fieldwork(shipped_study)
    done = Response.objects.get()
    sample = shipped_study.samples.get(slug="china")
    started = response_start(
        sample=sample,
        version=done.version,
        consent=done.consent,
        language="zh",
        creation_key="k" * 32,
        seed=5,
    ).response
    spec = cached_spec(done.version_id)
    page = flow.pages(spec, started.display)[started.position]
    codes = [c for q in page.questions for c in flow.answer_codes(q)]
    answers = {c: done.answers[c] for c in codes if c in done.answers}
    response_save_page(response_id=started.pk, page_index=page.index, answers=answers, codes=codes)
    client = Client()
    client.force_login(admin_user_)
    return client, PendingResponse.objects.get(pk=started.pk), spec


def _export(client, study, **fields):
    response = client.post(reverse("survey:export", args=[study.slug]), {"language": "en", **fields})
    return response, ExportJob.objects.order_by("-created_at").first()


def test_partial_responses_only_when_asked_with_status_and_furthest_page(
    study_with_one_of_each, shipped_study, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    client, pending, spec = study_with_one_of_each
    _, plain = _export(client, shipped_study, format="csv")
    data = pd.read_csv(tmp_path / "exports" / str(plain.pk) / plain.file_name)
    assert len(data) == 1 and missing.RESPONSE_STATUS not in data

    _, job = _export(client, shipped_study, format="csv", partial="on", missing_codes="on")
    assert job.status == ExportStatus.DONE and job.options == {"partial": True, "missing_codes": True}
    data = pd.read_csv(tmp_path / "exports" / str(job.pk) / job.file_name, dtype=str)
    assert data[missing.RESPONSE_STATUS].tolist() == ["complete", "in_progress"]
    row = data.iloc[1]
    assert row[missing.FURTHEST_PAGE] == str(pending.furthest + 1) and pd.isna(row[schema.COMPLETED_ON])
    assert row[schema.RESPONSE_ID] != str(pending.pk)  # the working id never leaves the database
    later = flow.pages(spec, pending.display)[-1]
    code = next(c for q in later.questions for c in flow.answer_codes(q))
    assert row[code] == str(missing.SPSS_CODES[missing.NOT_REACHED])


def test_syntax_files_beside_a_csv_and_refused_for_other_formats(
    study_with_one_of_each, shipped_study, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    client, _pending, _spec = study_with_one_of_each
    refused, _ = _export(client, shipped_study, format="sav", syntax="on")
    assert refused.status_code == 400 and "syntax" in refused.content.decode()
    _, job = _export(client, shipped_study, format="csv", syntax="on")
    for suffix in (".sps", ".do"):
        download = client.get(
            reverse("survey:export_download", args=[job.pk]), {"file": job.file_name + suffix}
        )
        assert download.status_code == 200
        text = b"".join(download.streaming_content).decode()
        assert "gen_trust" in text and ("MISSING VALUES" in text or "label define" in text)


def test_export_page_and_codebook_in_chinese(study_with_one_of_each, shipped_study, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client, _pending, _spec = study_with_one_of_each
    page = client.get(reverse("survey:export", args=[shipped_study.slug]), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "格式" in page.content.decode()
    _, job = _export(client, shipped_study, format="csv", language="zh")
    codebook = (tmp_path / "exports" / str(job.pk) / (job.file_name + ".codebook.html")).read_text(
        encoding="utf-8"
    )
    assert "缺失" in codebook  # the kinds of missing, explained in Chinese


def test_quality_flags_as_columns_and_not_with_partial_responses(
    study_with_one_of_each, shipped_study, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    client, _pending, _spec = study_with_one_of_each
    refused, _ = _export(client, shipped_study, format="csv", partial="on", quality_flags="on")
    assert refused.status_code == 400
    _, job = _export(client, shipped_study, format="sav", quality_flags="on")
    import pyreadstat

    data, _ = pyreadstat.read_sav(str(tmp_path / "exports" / str(job.pk) / job.file_name))
    assert {"quality_speeding", "quality_flagged"} <= set(data.columns) and len(data) == 1
