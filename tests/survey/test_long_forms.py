"""A long questionnaire's pages stay quick: the studio's version page and the preview show it a part
at a time, and the admin's version page leaves out inlines too long to list (issue 10, item 11)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from survey.models import Question
from survey.roles import RESEARCHER
from survey.selectors import VERSION_PART_ROWS, version_parts
from survey.services.questionnaires import questionnaire_import
from tests.specs import tiny_spec

pytestmark = pytest.mark.django_db


def long_spec(pages: int, per_page: int, *, matrix_items: int = 0) -> dict:
    """``pages`` pages of ``per_page`` questions (the first page's first question a matrix with
    ``matrix_items`` rows when asked); one choice list."""
    sections = []
    for p in range(pages):
        questions = [
            {"code": f"q{p}_{n}", "type": "integer", "label": {"en": f"Q{p}.{n}", "zh": f"问{p}.{n}"}}
            for n in range(per_page)
        ]
        sections.append(
            {"code": f"p{p}", "label": {"en": f"Page {p}", "zh": f"页{p}"}, "questions": questions}
        )
    if matrix_items:
        sections[0]["questions"][0] = {
            "code": "grid",
            "type": "matrix",
            "label": {"en": "Grid", "zh": "表"},
            "choice_list": "yn",
            "items": [
                {"code": f"g{i}", "type": "single_choice", "label": {"en": f"G{i}", "zh": f"格{i}"}}
                for i in range(matrix_items)
            ],
        }
    return tiny_spec(sections=sections)


def test_parts_keep_pages_whole_and_hold_at_most_the_limit():
    spec = long_spec(7, 40)
    parts = version_parts(spec, rows=100)
    assert parts == [
        [(0, 0, 40), (1, 0, 40)],
        [(2, 0, 40), (3, 0, 40)],
        [(4, 0, 40), (5, 0, 40)],
        [(6, 0, 40)],
    ]
    assert version_parts(tiny_spec(), rows=100) == [[(0, 0, 2)]]  # a short form is one screen


def test_a_page_longer_than_the_limit_is_split_and_a_matrix_counts_its_rows():
    spec = long_spec(2, 250, matrix_items=30)
    parts = version_parts(spec, rows=100)
    shown = [
        (index, question) for part in parts for index, first, end in part for question in range(first, end)
    ]
    assert shown == [(p, n) for p in range(2) for n in range(250)]  # every question once, in order
    for part in parts:
        weight = sum(
            1 + len(spec["sections"][index]["questions"][n]["items"])
            for index, first, end in part
            for n in range(first, end)
        )
        assert weight <= 100
    assert parts[0] == [(0, 0, 70)]  # the matrix weighs 31 rows


@pytest.fixture
def long_version(make_user):
    user = make_user("rita", RESEARCHER)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    version = questionnaire_import(spec=long_spec(9, 40), owner=user, study_slug="long")
    # A question not yet written (no label in any language), a problem to mark on the last part; one
    # missing in zh alone is accepted and shown in English there.
    Question.objects.filter(version=version, code="q8_5").update(label={})
    return client, version


def test_the_version_page_of_a_long_form_shows_one_part(long_version):
    client, version = long_version
    url = reverse("survey:studio_version", args=["long", version.number])
    first = client.get(url).content.decode()
    assert "q0_0" in first and "q1_39" in first and "q2_0" not in first
    assert 'href="?part=5"' in first and "this is part 1" in first
    assert "(2 to finish)" in first  # the last part holds the problems (en and zh)
    assert 'id="choice-lists"' in first and "list-block-yn" not in first
    last = client.get(url + "?part=5").content.decode()
    assert "q8_39" in last and "q0_0" not in last and "list-block-yn" in last
    assert "this is part 5" in client.get(url + "?part=99").content.decode()  # the nearest part
    for junk in ("abc", "-1", "²", "1e9"):
        assert client.get(url, {"part": junk}).status_code == 200
    held = client.get(url, {"at": "q-q6_3"}).content.decode()
    assert "q6_3" in held and "this is part 4" in held
    assert "this is part 3" in client.get(url, {"at": "page-block-p5"}).content.decode()
    assert "this is part 5" in client.get(url, {"at": "list-block-yn"}).content.decode()
    chinese = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "分 5 部分显示" in chinese and "第 3–4 页" in chinese and "（2 处待完成）" in chinese


def test_an_edit_returns_to_the_part_that_holds_the_question(long_version):
    client, version = long_version
    move = reverse("survey:studio_question_move", args=["long", version.number, "q7_2"])
    response = client.post(move, {"step": "1"})
    assert response.status_code == 302 and response["Location"].endswith("?at=q-q7_2#q-q7_2")
    page = client.get(response["Location"]).content.decode()
    assert "this is part 4" in page
    assert page.index('id="q-q7_3"') < page.index('id="q-q7_2"')  # moved down, and shown


def test_a_short_form_is_shown_whole(make_user):
    user = make_user("rita", RESEARCHER)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    version = questionnaire_import(spec=long_spec(2, VERSION_PART_ROWS // 2), owner=user, study_slug="short")
    page = client.get(reverse("survey:studio_version", args=["short", version.number])).content.decode()
    assert "q0_0" in page and "q1_49" in page and "list-block-yn" in page and "?part=" not in page


def test_the_preview_of_a_long_form_shows_one_part(long_version):
    client, version = long_version
    url = reverse("survey:studio_preview", args=["long", version.number, "en"])
    first = client.get(url).content.decode()
    assert "Q0.0" in first and "Q2.0" not in first and 'href="?part=2"' in first
    second = client.get(url, {"part": "2"}).content.decode()
    assert "Q2.0" in second and "Q0.0" not in second and ">3. Page 2<" in second
    assert client.get(url, {"part": "x"}).status_code == 200


def test_the_admin_leaves_out_what_is_too_long_to_list(make_user):
    root = make_user("root", superuser=True)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(root)
    long = questionnaire_import(spec=long_spec(3, 60), owner=root, study_slug="long")
    short = questionnaire_import(spec=tiny_spec(), owner=root, study_slug="short")
    page = client.get(reverse("admin:survey_questionnaireversion_change", args=[long.pk])).content.decode()
    assert 'id="questions-group"' not in page and 'id="sections-group"' in page
    listed = f"{reverse('admin:survey_question_changelist')}?version__id__exact={long.pk}"
    assert f'href="{listed}"' in page and "180 questions" in page
    assert "180 questions" in client.get(listed).content.decode() or client.get(listed).status_code == 200
    page = client.get(reverse("admin:survey_questionnaireversion_change", args=[short.pk])).content.decode()
    assert 'id="questions-group"' in page and "not listed here" not in page
