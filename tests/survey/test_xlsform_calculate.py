"""XLSForm ``calculate``: read from the sheet, computed by the server when a page is saved, stored and
exported like an answer, read by later relevance, constraints and labels; written back for pyxform."""

import pytest

from analysis.codebook import codebook_from_specs
from survey import flow
from survey.instrument import QuestionnaireInvalid
from survey.xlsform import read_xlsform, write_xlsform
from tests.survey.xlsform_helpers import workbook
from tests.survey.xlsform_studies import publish_xlsform, start, stored_answers

HEADER = ["type", "name", "label", "relevant", "constraint", "calculation"]
HOUSEHOLD = [
    HEADER,
    ["begin_group", "p1", "", "", "", ""],
    ["integer", "adults", "Adults", "", "", ""],
    ["integer", "children", "Children", "", "", ""],
    ["calculate", "household", "", "", "", "${adults} + ${children}"],
    ["integer", "pets", "Pets", "${household} > 5", "", ""],
    ["end_group", "", "", "", "", ""],
    ["begin_group", "p2", "", "", "", ""],
    ["note", "big", "A household of ${household}", "${household} >= 5", "", ""],
    ["integer", "rooms", "Rooms", "", ". <= ${household}", ""],
    ["end_group", "", "", "", "", ""],
    ["calculate", "per_room", "", "", "", "${household} div ${rooms}"],
]


def questions(spec):
    return {q["code"]: q for _, q, _ in flow.iter_questions(spec)}


def test_calculate_rows_are_read_with_their_expression_and_no_label():
    spec = read_xlsform(workbook(HOUSEHOLD))
    household = questions(spec)["household"]
    assert household["type"] == "calculate" and household["calculation"] == "${adults} + ${children}"
    assert household["label"] == {}
    assert questions(spec)["per_room"]["type"] == "calculate"


@pytest.mark.parametrize(
    ("row", "location", "words"),
    [
        (["calculate", "total", "", "", "", ""], "row 3, column F (calculation)", "needs an expression"),
        (
            ["calculate", "total", "", "", "", "${later} * 2"],
            "row 3, column F (calculation)",
            "refers to ${later}, which comes later",
        ),
        (
            ["calculate", "total", "", "", "", "${a} +"],
            "row 3, column F (calculation)",
            "calculation of 'total'",
        ),
        (["calculate", "total", "", "", "", ". + 1"], "row 3, column F (calculation)", "uses '.'"),
        (["note", "total", "N", "", "", "1 + 1"], "row 3, column F (calculation)", "not a note"),
    ],
)
def test_a_calculation_that_cannot_be_computed_is_refused_at_its_cell(row, location, words):
    survey = [HEADER, ["integer", "a", "A", "", "", ""], row, ["integer", "later", "L", "", "", ""]]
    with pytest.raises(QuestionnaireInvalid) as caught:
        read_xlsform(workbook(survey))
    (problem,) = caught.value.problems
    assert problem.location == f"sheet survey, {location}"
    assert words in problem.message


def test_the_calculation_alias_and_bind_calculate_headers_are_read():
    for header in ("calculation", "calculate", "bind::calculate"):
        survey = [
            ["type", "name", "label", header],
            ["integer", "a", "A", ""],
            ["calculate", "b", "", "${a} * 2"],
        ]
        assert questions(read_xlsform(workbook(survey)))["b"]["calculation"] == "${a} * 2"


def test_clear_stale_computes_calculations_in_order_and_drops_irrelevant_ones():
    spec = read_xlsform(workbook(HOUSEHOLD))
    plan = flow.make_plan(spec, 1, {})
    answers = flow.clear_stale(spec, plan, {"adults": 2, "children": 4, "rooms": 4})
    assert answers["household"] == "6" and answers["per_room"] == "1.5"
    # per_room's page (calculations alone) is never shown, yet per_room applies: not "not shown".
    assert flow.not_shown(spec, plan, answers) == []
    # An unanswered term makes the sum NaN (XPath: number('') is NaN): stored as missing, not "NaN".
    assert "household" not in flow.clear_stale(spec, plan, {"adults": 2})
    # A calculation that no longer applies is dropped, like an answer.
    relevant = [
        [*row[:3], "${adults} > 0" if row[1] == "household" else row[3], *row[4:]] for row in HOUSEHOLD
    ]
    spec = read_xlsform(workbook(relevant))
    assert "household" not in flow.clear_stale(spec, plan, {"adults": 0, "children": 4, "household": "4"})


@pytest.mark.django_db
def test_a_participant_gets_the_computed_value_stored_and_used_by_later_logic(admin_user_):
    publish_xlsform(admin_user_, "calc", HOUSEHOLD)
    client = start("calc")
    page = client.get("/s/calc/p/0/").content.decode()
    assert 'name="household"' not in page  # a calculation is never shown
    # The same page: pets applies once household (computed from this page's answers) is over 5.
    assert client.post("/s/calc/p/0/", {"adults": "1", "children": "1", "pets": "2"}).status_code == 302
    assert stored_answers() == {"adults": 1, "children": 1, "household": "2"}  # per_room: NaN, missing
    client.get("/s/calc/p/0/")
    client.post("/s/calc/p/1/", {"action": "back"})
    assert (
        client.post("/s/calc/p/0/", {"adults": "2", "children": "4", "pets": "2"})["Location"]
        == "/s/calc/p/1/"
    )
    assert stored_answers() == {"adults": 2, "children": 4, "household": "6", "pets": 2}
    # A later page pipes it into a label and checks a constraint against it.
    assert "A household of 6" in client.get("/s/calc/p/1/").content.decode()
    assert "not allowed" in client.post("/s/calc/p/1/", {"rooms": "7"}).content.decode()
    # A posted value for a calculation is ignored: the server computes it.
    client.post("/s/calc/p/1/", {"rooms": "4"})
    assert stored_answers()["household"] == "6"


@pytest.mark.django_db
def test_a_posted_value_for_a_calculation_is_refused_as_a_tampered_page(admin_user_):
    publish_xlsform(admin_user_, "calc", HOUSEHOLD)
    client = start("calc")
    response = client.post("/s/calc/p/0/", {"adults": "2", "children": "4", "household": "99"})
    assert response.status_code == 400
    assert "household" not in stored_answers()


def test_calculations_are_exported_as_text_variables():
    spec = read_xlsform(workbook(HOUSEHOLD))
    book = codebook_from_specs(study="calc", title="Calc", languages=["en"], specs=[(1, spec)])
    kinds = {variable.name: variable.kind for variable in book.variables}
    assert kinds["household"] == "text" and kinds["per_room"] == "text"


def test_written_back_with_the_calculation_column_and_read_back_equal():
    spec = read_xlsform(workbook(HOUSEHOLD))
    assert read_xlsform(write_xlsform(spec)) == spec


@pytest.mark.django_db
def test_a_completed_response_exports_its_calculations_beside_its_answers(admin_user_):
    from survey.bridge import responses_frame
    from tests.helpers import close_fieldwork

    study = publish_xlsform(admin_user_, "calc", HOUSEHOLD)
    client = start("calc")
    client.post("/s/calc/p/0/", {"adults": "2", "children": "4", "pets": "1"})
    assert client.post("/s/calc/p/1/", {"rooms": "4"}, follow=True).status_code == 200  # the thank-you page
    assert close_fieldwork(study) == 1
    frame, _ = responses_frame(study)
    (row,) = frame.to_dict("records")
    assert (row["household"], row["per_room"], row["rooms"]) == ("6", "1.5", 4)
