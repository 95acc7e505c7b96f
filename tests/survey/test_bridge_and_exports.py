"""The bridge to pandas and every export format, read back and compared with the source."""

import json
import zipfile

import openpyxl
import pandas as pd
import pyreadstat
import pytest

from analysis import schema
from analysis.exports import FORMATS, export, neutralise, write_csv, write_xlsx
from survey.bridge import iter_python_frames, iter_response_frames, responses_frame, study_codebook
from survey.models import Response

pytestmark = pytest.mark.django_db


def test_one_row_per_complete_response_with_fixed_columns(answered_study):
    frame, codebook = responses_frame(answered_study)
    assert len(frame) == Response.objects.count() == 30
    assert list(frame.columns) == codebook.names
    assert set(schema.META_COLUMNS) <= set(frame.columns)
    assert frame[schema.SYNTHETIC].eq(1).all()
    # multiple choice: 0/1 per choice; ranking: a choice code per rank; list experiment: count and arm
    assert set(frame[schema.choice_column("turn_to", "police")].dropna().unique()) <= {0, 1}
    ranked = frame[[schema.rank_column("trust_priorities", r) for r in range(1, 5)]].dropna()
    assert all(sorted(row) == ["community", "laws", "press", "ratings"] for row in ranked.to_numpy().tolist())
    assert set(frame[schema.arm_column("le_scs")]) == {"control", "treatment"}
    stored = Response.objects.get(pk=frame.loc[0, schema.RESPONSE_ID])
    assert frame.loc[0, "gen_trust"] == stored.answers["gen_trust"]
    assert frame.loc[0, schema.SEED] == stored.display["seed"]


def test_query_count_does_not_grow_with_responses(answered_study, django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        frames = list(iter_response_frames(answered_study, chunk_size=7))
    assert sum(len(f) for f in frames) == 30 and len(frames) == 5


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_reads_back_with_values_and_labels(answered_study, tmp_path, fmt):
    frame, codebook = responses_frame(answered_study)
    path = tmp_path / f"out.{fmt}"
    rows = export(iter_response_frames(answered_study, codebook=codebook), codebook, path, fmt, language="zh")
    assert rows == 30
    assert (tmp_path / f"out.{fmt}.codebook.json").exists() and (
        tmp_path / f"out.{fmt}.codebook.html"
    ).exists()
    if fmt in {"sav", "dta"}:
        reader = pyreadstat.read_sav if fmt == "sav" else pyreadstat.read_dta
        data, meta = reader(str(path), apply_value_formats=True)
        assert list(meta.column_names)[: len(schema.META_COLUMNS)] == list(schema.META_COLUMNS)
        assert meta.column_names_to_labels["approve_scs"] == codebook.variable("approve_scs").label["zh"]
        expected = frame["approve_scs"].map(
            lambda code: codebook.variable("approve_scs").value_label_in(code, "zh")
        )
        assert data["approve_scs"].tolist() == expected.tolist()
        assert (SYNTHETIC := "SYNTHETIC") in (meta.file_label or "") or (
            fmt == "dta" and SYNTHETIC in meta.file_label
        )
    elif fmt == "parquet":
        data = pd.read_parquet(path)
        assert data["approve_scs"].tolist() == frame["approve_scs"].tolist()
        import pyarrow.parquet as pq

        assert pq.read_schema(path).metadata[b"candid.data"] == b"synthetic"
    elif fmt == "csv":
        data = pd.read_csv(path)
        assert data["gen_trust"].tolist() == frame["gen_trust"].tolist()
        assert data["le_scs"].tolist() == frame["le_scs"].tolist()
    elif fmt == "xlsx":
        data = pd.read_excel(path, sheet_name="responses")
        assert data["gen_trust"].tolist() == frame["gen_trust"].tolist()
        variables = pd.read_excel(path, sheet_name="variables")
        assert (
            variables.set_index("variable").loc["approve_scs", "label"]
            == codebook.variable("approve_scs").label["zh"]
        )
        assert "SYNTHETIC" in openpyxl.load_workbook(path).sheetnames
    elif fmt == "long":
        data = pd.read_csv(path, dtype=str, keep_default_na=False)
        answers = data[data["variable"] == "gen_trust"].set_index("response_id")
        stored = frame.set_index(schema.RESPONSE_ID)["gen_trust"].fillna("")
        assert answers["value"].to_dict() == stored.astype(str).to_dict()
        assert set(data["status"]) <= {"answered", "not_answered", "not_shown", "not_in_version"}
    else:
        data = json.loads(path.read_text(encoding="utf-8"))
        assert data["data"] == "synthetic" and len(data["responses"]) == 30
        assert [r["gen_trust"] for r in data["responses"]] == frame["gen_trust"].tolist()


def test_spreadsheet_formulas_are_neutralised_in_cells_and_headers(answered_study, tmp_path):
    payloads = ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd"]
    response = Response.objects.first()
    frame, codebook = responses_frame(answered_study)
    frame = pd.concat([frame] * 1, ignore_index=True)
    frame["comments"] = (payloads * 20)[: len(frame)]
    frame = frame.rename(columns={"comments": "=evil_header"})
    codebook.variables[codebook.names.index("comments")].name = "=evil_header"
    assert neutralise(-3) == -3  # numbers stay numbers
    csv_path, xlsx_path = tmp_path / "x.csv", tmp_path / "x.xlsx"
    write_csv([frame], codebook, csv_path)
    write_xlsx([frame], codebook, xlsx_path)
    read_back = pd.read_csv(csv_path, keep_default_na=False)
    assert "'=evil_header" in read_back.columns
    assert read_back["'=evil_header"].tolist() == ["'" + p for p in (payloads * 20)[: len(frame)]]

    # XLSX: typed string cells, which no spreadsheet runs, hold the texts as typed (no apostrophe)
    sheet = openpyxl.load_workbook(xlsx_path)["responses"]
    rows = list(sheet.iter_rows())
    column = [cell.value for cell in rows[0]].index("=evil_header")
    assert [row[column].value for row in rows[1:]] == (payloads * 20)[: len(frame)]
    assert {row[column].data_type for row in rows} == {"s"}
    with zipfile.ZipFile(xlsx_path) as archive:
        assert "<f>" not in archive.read("xl/worksheets/sheet1.xml").decode()
    assert response is not None


def test_csv_with_byte_order_mark_for_excel(answered_study, tmp_path):
    codebook = study_codebook(answered_study)
    write_csv(
        iter_response_frames(answered_study, codebook=codebook), codebook, tmp_path / "bom.csv", bom=True
    )
    assert (tmp_path / "bom.csv").read_bytes().startswith(b"\xef\xbb\xbf")


def test_export_command_writes_file_and_codebook(answered_study, tmp_path, call_command_capture):
    output = call_command_capture(
        "export_responses",
        answered_study.slug,
        "--format",
        "sav",
        "-o",
        str(tmp_path / "s.sav"),
        "--language",
        "en",
    )
    assert "Wrote 30 responses" in output and "SYNTHETIC" in output
    assert (tmp_path / "s.sav.codebook.html").read_text(encoding="utf-8").count("Synthetic data") == 1


def test_syntax_files_are_refused_beside_a_csv_of_labels(answered_study, tmp_path, call_command_capture):
    """The .sps/.do recode the CSV's codes: beside a CSV of labels they would read every choice
    as missing (a numeric column of labels does not even read)."""
    output = call_command_capture(
        "export_responses",
        answered_study.slug,
        *("--format", "csv", "--syntax", "--values", "labels", "-o", str(tmp_path / "l.csv")),
    )
    assert "--syntax reads a CSV of codes" in output and not (tmp_path / "l.csv").exists()
    codebook = study_codebook(answered_study)
    with pytest.raises(ValueError, match="codes"):
        export(
            iter_response_frames(answered_study, codebook=codebook),
            codebook,
            tmp_path / "l.csv",
            "csv",
            syntax=True,
            values="labels",
        )


@pytest.fixture
def awkward_answers(answered_study):
    """Free text a spreadsheet would run, quotes, commas, line breaks; numbers that look risky."""
    payloads = [
        '=HYPERLINK("http://x")',
        "+1+1",
        "-2+3",
        "@SUM(A1)",
        "\tcmd",
        "\rcmd",
        'a "quoted", text\nline',
        "'-typed with its apostrophe",  # guarded once more, so the guard can be undone
        "-5",  # numbers typed as text: no formula, never guarded
        "+3",
        "-2.5e3",
        "'-5",  # but after an apostrophe guarded, so the guard can be undone
    ]
    for response, payload in zip(Response.objects.order_by("pk"), payloads, strict=False):
        response.answers = {**response.answers, "comments": payload}
        response.save(update_fields=["answers"])
    return answered_study


@pytest.mark.parametrize("bom", [False, True])
def test_postgresql_copy_writes_the_same_csv_as_the_bridge(awkward_answers, tmp_path, bom):
    """The COPY path (PostgreSQL) and the DataFrame path give byte-identical files."""
    from django.db import connection

    from survey import bridge_copy

    if connection.vendor != "postgresql":
        pytest.skip("the COPY path is PostgreSQL's; this runs in the PostgreSQL pass")
    codebook = study_codebook(awkward_answers)
    fast, slow = tmp_path / "copy.csv", tmp_path / "frames.csv"
    seen = []
    rows = bridge_copy.copy_csv(awkward_answers, codebook, fast, bom=bom, progress=seen.append)
    assert (
        rows
        == write_csv(iter_response_frames(awkward_answers, codebook=codebook), codebook, slow, bom=bom)
        == 30
    )
    assert fast.read_bytes() == slow.read_bytes()
    comments = pd.read_csv(fast, keep_default_na=False, encoding="utf-8-sig")["comments"].tolist()
    assert '\'=HYPERLINK("http://x")' in comments and 'a "quoted", text\nline' in comments
    assert "''-typed with its apostrophe" in comments
    assert {"-5", "+3", "-2.5e3", "''-5"} <= set(comments)


@pytest.mark.parametrize("chunk_size", [7, 5000])
def test_postgresql_copy_gives_the_same_frames_as_python(awkward_answers, chunk_size):
    """Values and dtypes of every column equal, chunk by chunk (a code stays text, numbers numbers)."""
    from django.db import connection

    from survey import bridge_copy

    if connection.vendor != "postgresql":
        pytest.skip("the COPY path is PostgreSQL's; this runs in the PostgreSQL pass")
    codebook = study_codebook(awkward_answers)
    copied = list(bridge_copy.iter_frames(awkward_answers, codebook, chunk_size=chunk_size))
    built = list(iter_python_frames(awkward_answers, codebook, chunk_size=chunk_size))
    assert len(copied) == len(built) == -(-30 // chunk_size)
    for a, b in zip(copied, built, strict=True):
        pd.testing.assert_frame_equal(a, b)


def test_export_command_uses_copy_on_postgresql_and_frames_elsewhere(
    awkward_answers, tmp_path, call_command_capture
):
    from django.db import connection

    from survey import bridge_copy

    assert bridge_copy.available("csv") == (connection.vendor == "postgresql")
    assert not bridge_copy.available("csv", "labels") and not bridge_copy.available("parquet")
    call_command_capture(
        "export_responses", awkward_answers.slug, "--format", "csv", "-o", str(tmp_path / "c.csv")
    )
    frame = pd.read_csv(tmp_path / "c.csv", keep_default_na=False)
    assert len(frame) == 30 and (tmp_path / "c.csv.codebook.json").exists()
    assert (tmp_path / "c.csv").read_bytes().count(b"\r\n") >= 31  # RFC 4180 line ends either way


def test_the_codebook_names_who_ran_the_study_and_its_ethics_approval(shipped_study):
    from survey.bridge import study_codebook

    codebook = study_codebook(shipped_study)
    assert codebook.to_dict()["consent"][0]["ethics_reference"] == "DEMO (not reviewed)"
    assert codebook.consent[0]["research_team"]["zh"].startswith("Candid 项目")
    html = codebook.to_html("en")
    assert "Consent and ethics approval" in html and "DEMO (not reviewed)" in html


def test_completion_stores_what_relevance_hid_and_the_bridge_exports_it(answered_study):
    from survey import flow
    from survey.selectors import cached_spec

    frame, _ = responses_frame(answered_study)
    hid_something = 0
    for response in Response.objects.select_related("version"):
        expected = flow.not_shown(cached_spec(response.version_id), response.display, response.answers)
        assert response.display["not_shown"] == expected
        hid_something += bool(expected)
        row = frame.set_index(schema.RESPONSE_ID).loc[str(response.pk)]
        assert row[schema.NOT_SHOWN] == " ".join(expected)
    assert hid_something  # the shipped study has relevance that hides questions


def test_responses_stored_before_not_shown_existed_are_judged_by_the_bridge(answered_study):
    from survey.bridge import legacy_responses

    before, _ = responses_frame(answered_study)
    legacy = Response.objects.first()
    legacy.display = {k: v for k, v in legacy.display.items() if k != "not_shown"}
    legacy.save(update_fields=["display"])
    assert legacy_responses(answered_study)
    after, _ = responses_frame(answered_study)
    pd.testing.assert_frame_equal(before, after)


PLAN = {"seed": 1, "sections": ["p1"], "items": {}, "options": {}, "reversed": [], "arms": {}}


def test_an_option_the_respondents_version_did_not_offer_is_not_a_zero():
    from survey.bridge import _row, column_layout
    from tests import exports_study

    codebook = exports_study.codebook()
    specs = {n: exports_study.spec(n) for n in (1, 2, 3)}
    values = (
        "id",
        "main",
        "en",
        3,
        1,
        None,
        None,
        False,
        {"q1": "0", "fruit": ["a_b"]},
        PLAN,
    )
    row = _row(values, column_layout(codebook), specs)
    assert row[schema.choice_column("fruit", "a_b")] == 1 and row[schema.choice_column("fruit", "苹果")] == 0
    assert schema.choice_column("fruit", "香蕉") not in row  # deleted in version 3: not "not chosen"
    assert row[schema.NOT_SHOWN] == "long"  # judged from the answers: shown only when q1 = 1
