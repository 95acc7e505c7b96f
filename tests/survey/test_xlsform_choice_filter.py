"""XLSForm ``choice_filter``: a select's options filtered by earlier answers, judged by the server's
evaluator with XLSForm's names (``name`` and the choices sheet's other columns) on the participant
page, on submission, in the live-relevance answer, and when an earlier answer changes."""

import pytest
from django.test import Client
from django.urls import reverse

from survey import flow
from survey.instrument import QuestionnaireInvalid
from survey.roles import RESEARCHER
from survey.xlsform import read_xlsform, write_xlsform
from tests.survey.xlsform_helpers import workbook
from tests.survey.xlsform_studies import publish_xlsform, start, stored_answers

CHOICES = [
    ["list_name", "name", "label", "state"],
    ["states", "texas", "Texas", ""],
    ["states", "washington", "Washington", ""],
    ["counties", "cameron", "Cameron", "texas"],
    ["counties", "travis", "Travis", "texas"],
    ["counties", "king", "King", "washington"],
    ["counties", "pierce", "Pierce", "washington"],
]
HEADER = ["type", "name", "label", "choice_filter"]
TWO_PAGES = [
    HEADER,
    ["begin_group", "p1", "", ""],
    ["select_one states", "state", "State", ""],
    ["end_group", "", "", ""],
    ["begin_group", "p2", "", ""],
    ["select_one counties", "county", "County", "state = ${state}"],
    ["select_multiple counties", "visited", "Visited", "state = ${state} or name = 'king'"],
    ["end_group", "", "", ""],
    ["begin_group", "p3", "", ""],
    ["integer", "age", "Age", ""],
    ["end_group", "", "", ""],
]
ONE_PAGE = [
    HEADER,
    ["begin_group", "p1", "", ""],
    ["select_one states", "state", "State", ""],
    ["select_one counties", "county", "County", "state = ${state}"],
    ["end_group", "", "", ""],
    ["begin_group", "p2", "", ""],
    ["integer", "age", "Age", ""],
    ["end_group", "", "", ""],
]


def county_labels(html: str) -> dict[str, bool]:
    """{county code: shown} from a page's option labels."""
    import re

    found = re.findall(
        r'<label class="option" for="[^"]+"( hidden)?><input type="radio" name="county" value="(\w+)"', html
    )
    return {code: not hidden for hidden, code in found}


def test_the_filter_and_the_choice_columns_it_reads_are_imported():
    spec = read_xlsform(workbook(TWO_PAGES, choices=CHOICES))
    county = next(q for _, q, _ in flow.iter_questions(spec) if q["code"] == "county")
    assert county["choice_filter"] == "state = ${state}"
    counties = next(cl for cl in spec["choice_lists"] if cl["name"] == "counties")["choices"]
    assert counties[0] == {"code": "cameron", "label": {"en": "Cameron"}, "columns": {"state": "texas"}}
    states = next(cl for cl in spec["choice_lists"] if cl["name"] == "states")["choices"]
    assert "columns" not in states[0]  # an empty cell is no column


@pytest.mark.parametrize(
    ("row", "words"),
    [
        (
            ["integer", "n", "N", "state = ${state}"],
            "a choice_filter can filter a select_one or select_multiple",
        ),
        (["select_one counties", "n", "N", "state = ${later}"], "refers to ${later}, which comes later"),
        (["select_one counties", "n", "N", "state = "], "choice_filter of 'n'"),
        (["select_one counties", "n", "N", "pulldata('a', 'b', 'c', 'd')"], "pulldata() is not supported"),
    ],
)
def test_a_filter_that_cannot_be_judged_is_refused_at_its_cell(row, words):
    survey = [HEADER, ["select_one states", "state", "State", ""], row, ["integer", "later", "L", ""]]
    with pytest.raises(QuestionnaireInvalid) as caught:
        read_xlsform(workbook(survey, choices=CHOICES))
    (problem,) = caught.value.problems
    assert problem.location == "sheet survey, row 3, column D (choice_filter)"
    assert words in problem.message


@pytest.mark.parametrize(
    ("expression", "missing"),
    [("nosuchcol = ${state}", "nosuchcol"), ("name = 'king' or State = ${state}", "State")],
)
def test_a_filter_reading_a_column_the_choices_sheet_lacks_is_refused_with_the_columns_it_has(
    expression, missing
):
    """Such a column is empty for every choice: the filter would import and then hide every option."""
    survey = [
        HEADER,
        ["select_one states", "state", "State", ""],
        ["select_one counties", "n", "N", expression],
    ]
    with pytest.raises(QuestionnaireInvalid) as caught:
        read_xlsform(workbook(survey, choices=CHOICES))
    (problem,) = caught.value.problems
    assert problem.code == "choice_filter_column"
    assert problem.location == "sheet survey, row 3, column D (choice_filter)"
    assert f"reads column {missing!r}, which the 'choices' sheet does not have" in problem.message
    assert problem.message.endswith("the columns it can read are: name, state")
    assert f"write a text in quotes, '{missing}'" in problem.message


def test_a_filter_reading_name_or_a_choices_column_is_accepted():
    survey = [
        HEADER,
        ["select_one states", "state", "State", ""],
        ["select_one counties", "n", "N", "name != 'x' and state = ${state}"],
    ]
    assert read_xlsform(workbook(survey, choices=CHOICES))


@pytest.mark.django_db
def test_the_preview_shows_every_option_of_a_filtered_question_with_its_filter(make_user):
    """The preview has no answers: it shows the researcher every option and the filter that
    chooses among them, not a question with no options."""
    user = make_user("rita", RESEARCHER)
    study = publish_xlsform(user, "c", ONE_PAGE, choices=CHOICES)
    version = study.versions.get()
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    html = client.get(reverse("survey:studio_preview", args=["c", version.number, "en"])).content.decode()
    assert county_labels(html) == {"cameron": True, "travis": True, "king": True, "pierce": True}
    assert "Options offered when: <code>state = ${state}</code>" in html


@pytest.mark.django_db
def test_the_participant_sees_and_may_choose_only_the_offered_options(admin_user_):
    publish_xlsform(admin_user_, "cascade", TWO_PAGES, choices=CHOICES)
    client = start("cascade")
    client.post("/s/cascade/p/0/", {"state": "texas"})
    assert county_labels(client.get("/s/cascade/p/1/").content.decode()) == {
        "cameron": True,
        "travis": True,
        "king": False,
        "pierce": False,
    }
    # A hidden option sent anyway (a tampered or stale page) is refused with a message, nothing kept.
    refused = client.post("/s/cascade/p/1/", {"county": "king"})
    assert (
        refused.status_code == 200 and "is not offered for your earlier answers" in refused.content.decode()
    )
    assert "county" not in stored_answers()
    # `or name = 'king'`: the choice's name is read as XLSForm defines it.
    assert (
        client.post("/s/cascade/p/1/", {"county": "travis", "visited": ["king", "cameron"]}).status_code
        == 302
    )
    assert stored_answers() == {"state": "texas", "county": "travis", "visited": ["king", "cameron"]}


@pytest.mark.django_db
def test_changing_the_earlier_answer_drops_the_choices_no_longer_offered(admin_user_):
    publish_xlsform(admin_user_, "cascade", TWO_PAGES, choices=CHOICES)
    client = start("cascade")
    client.post("/s/cascade/p/0/", {"state": "texas"})
    client.post("/s/cascade/p/1/", {"county": "travis", "visited": ["king", "cameron"]})
    client.post("/s/cascade/p/2/", {"action": "back"})
    client.post("/s/cascade/p/1/", {"action": "back"})
    client.post("/s/cascade/p/0/", {"state": "washington"})
    # travis is not in Washington; of the counties visited only king is still offered.
    assert stored_answers() == {"state": "washington", "visited": ["king"]}


@pytest.mark.django_db
def test_a_filter_on_an_answer_of_the_same_page_is_judged_live_and_on_submission(admin_user_):
    publish_xlsform(admin_user_, "cascade", ONE_PAGE, choices=CHOICES)
    client = start("cascade")
    html = client.get("/s/cascade/p/0/").content.decode()
    assert 'data-relevance="/s/cascade/p/0/relevance/"' in html  # the script asks the server
    assert not any(county_labels(html).values())  # no state yet: no county offered
    live = client.post("/s/cascade/p/0/relevance/", {"state": "washington"}).json()
    assert live == {"relevant": ["state", "county"], "choices": {"county": ["king", "pierce"]}}
    refused = client.post("/s/cascade/p/0/", {"state": "washington", "county": "travis"})
    assert "is not offered for your earlier answers" in refused.content.decode()
    assert county_labels(refused.content.decode()) == {
        "cameron": False,
        "travis": False,
        "king": True,
        "pierce": True,
    }
    assert client.post("/s/cascade/p/0/", {"state": "washington", "county": "king"}).status_code == 302
    assert stored_answers() == {"state": "washington", "county": "king"}


def test_written_back_with_the_filter_and_the_choice_columns_and_read_back_equal():
    spec = read_xlsform(workbook(TWO_PAGES, choices=CHOICES))
    assert read_xlsform(write_xlsform(spec)) == spec


@pytest.mark.django_db
def test_synthetic_respondents_choose_among_the_offered_options_only(admin_user_):
    from survey.simulation import read_form

    publish_xlsform(admin_user_, "cascade", TWO_PAGES, choices=CHOICES)
    client = start("cascade")
    client.post("/s/cascade/p/0/", {"state": "washington"})
    fields = read_form(client.get("/s/cascade/p/1/").content.decode()).fields
    assert fields["county"].options == ["king", "pierce"]
    assert fields["visited"].options == ["king", "pierce"]


def test_duplicate_choice_names_for_cascading_selects_are_refused_with_the_way_out():
    choices = [*CHOICES, ["counties", "king", "King", "texas"]]
    settings = [["allow_choice_duplicates"], ["yes"]]
    with pytest.raises(QuestionnaireInvalid) as caught:
        read_xlsform(workbook(TWO_PAGES, choices=choices, settings=settings))
    (problem,) = caught.value.problems
    assert problem.location == "sheet choices, row 8, column B (name)"
    assert "allow_choice_duplicates is not supported" in problem.message and "king_2" in problem.message
