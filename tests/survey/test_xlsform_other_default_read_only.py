"""XLSForm ``or_other``, ``default`` and ``read_only``: read as pyxform defines them, honoured on the
participant page and by the server, and written back so that pyxform converts the form."""

import pytest

from survey import flow
from survey.instrument import QuestionnaireInvalid
from survey.xlsform import read_xlsform, write_xlsform
from tests.survey.xlsform_helpers import workbook
from tests.survey.xlsform_studies import publish_xlsform, start, stored_answers

COLOURS = [
    ["list_name", "name", "label::English (en)", "label::Chinese (zh-CN)"],
    ["colours", "red", "Red", "红"],
    ["colours", "blue", "Blue", "蓝"],
]


def questions(spec):
    return {q["code"]: q for _, q, _ in flow.iter_questions(spec)}


def refused(survey, choices=None):
    with pytest.raises(QuestionnaireInvalid) as caught:
        read_xlsform(workbook(survey, choices=choices))
    return caught.value.problems


# --- or_other ----------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["or_other", "or specify other", "or other"])
def test_or_other_adds_the_choice_other_and_a_specify_text_as_pyxform_does(suffix):
    survey = [
        ["type", "name", "label::English (en)", "label::Chinese (zh-CN)"],
        [f"select_multiple colours {suffix}", "colour", "Colour?", "颜色？"],
        ["integer", "age", "Age", "年龄"],
    ]
    spec = read_xlsform(workbook(survey, choices=COLOURS))
    assert [q["code"] for q in spec["sections"][0]["questions"]] == ["colour", "colour_other", "age"]
    specify = questions(spec)["colour_other"]
    assert specify["type"] == "text" and specify["relevance"] == "selected(${colour}, 'other')"
    assert specify["label"] == {"en": "Specify other.", "zh-CN": "请注明其他。"}
    (colours,) = spec["choice_lists"]
    assert colours["choices"][-1] == {"code": "other", "label": {"en": "Other", "zh-CN": "其他"}}


def test_a_list_that_has_other_already_keeps_its_own():
    choices = [*COLOURS, ["colours", "other", "Something else", "别的"]]
    survey = [
        ["type", "name", "label::English (en)", "label::Chinese (zh-CN)"],
        ["select_one colours or_other", "c", "C", "C"],
    ]
    spec = read_xlsform(workbook(survey, choices=choices))
    assert [c["label"]["en"] for c in spec["choice_lists"][0]["choices"]] == ["Red", "Blue", "Something else"]


def test_or_other_with_a_choice_filter_is_refused_as_pyxform_refuses_it():
    survey = [
        ["type", "name", "label", "choice_filter"],
        ["select_one colours or_other", "c", "C", "name != 'red'"],
    ]
    choices = [["list_name", "name", "label"], ["colours", "red", "Red"]]
    (problem,) = refused(survey, choices)
    assert problem.location == "sheet survey, row 2, column A (type)"
    assert "cannot have a choice_filter" in problem.message


@pytest.mark.django_db
def test_the_specify_text_appears_when_other_is_chosen_and_is_its_own_variable(admin_user_):
    survey = [
        ["type", "name", "label"],
        ["begin_group", "p1", ""],
        ["select_one colours or_other", "colour", "Colour?"],
        ["end_group", "", ""],
        ["begin_group", "p2", ""],
        ["integer", "age", "Age"],
        ["end_group", "", ""],
    ]
    publish_xlsform(
        admin_user_, "other", survey, choices=[["list_name", "name", "label"], ["colours", "red", "Red"]]
    )
    client = start("other")
    assert client.post("/s/other/p/0/", {"colour": "red", "colour_other": "teal"}).status_code == 302
    assert stored_answers() == {"colour": "red"}  # not chosen: the specify text is not kept
    client.post("/s/other/p/1/", {"action": "back"})
    assert client.post("/s/other/p/0/", {"colour": "other", "colour_other": "teal"}).status_code == 302
    assert stored_answers() == {"colour": "other", "colour_other": "teal"}


# --- default -----------------------------------------------------------------------------------

DEFAULTS = [
    ["type", "name", "label", "default"],
    ["begin_group", "p1", "", ""],
    ["integer", "children", "Children", "0"],
    ["select_one colours", "colour", "Colour", "blue"],
    ["select_multiple colours", "colours", "Colours", "red blue"],
    ["date", "day", "Day", "2024-05-01"],
    ["text", "city", "City", "Paris"],
    ["end_group", "", "", ""],
    ["begin_group", "p2", "", ""],
    ["integer", "age", "Age", ""],
    ["end_group", "", "", ""],
]
PLAIN_COLOURS = [["list_name", "name", "label"], ["colours", "red", "Red"], ["colours", "blue", "Blue"]]


def test_static_defaults_are_read_and_written_back():
    spec = read_xlsform(workbook(DEFAULTS, choices=PLAIN_COLOURS))
    assert questions(spec)["colours"]["default"] == "red blue"
    assert read_xlsform(write_xlsform(spec)) == spec


@pytest.mark.parametrize(
    ("row", "words"),
    [
        (["integer", "n", "N", "${children} + 1"], "is an expression ('${children} + 1')"),
        (["date", "n", "N", "today()"], "Candid takes only a fixed default value"),
        (["integer", "n", "N", "many"], "'many' is not a whole number"),
        (["decimal", "n", "N", "1,5"], "'1,5' is not a number"),
        (["date", "n", "N", "01/05/2024"], "is not a date written YYYY-MM-DD"),
        (["date", "n", "N", "2024-02-30"], "'2024-02-30' is not a date"),
        (["date", "n", "N", "2024-13-45"], "'2024-13-45' is not a date"),
        (["select_one colours", "n", "N", "green"], "'green' is not a choice of list 'colours'"),
        (["note", "n", "N", "x"], "a note takes no default"),
    ],
)
def test_a_default_candid_cannot_honour_is_refused_at_its_cell(row, words):
    (problem,) = refused([DEFAULTS[0], ["integer", "children", "C", ""], row], PLAIN_COLOURS)
    assert problem.location == "sheet survey, row 3, column D (default)"
    assert words in problem.message


@pytest.mark.django_db
def test_the_page_shows_defaults_until_the_participant_answers(admin_user_):
    publish_xlsform(admin_user_, "defaults", DEFAULTS, choices=PLAIN_COLOURS)
    client = start("defaults")
    html = client.get("/s/defaults/p/0/").content.decode()
    assert 'name="children" value="0"' in html and 'name="city" value="Paris"' in html
    assert 'name="day" value="2024-05-01"' in html
    assert 'name="colour" value="blue" id="id_colour_1" checked' in html
    assert 'name="colours" value="red" id="id_colours_0" checked' in html
    client.post("/s/defaults/p/0/", {"children": "2", "colour": "red", "city": "Lyon", "day": "2024-05-01"})
    assert stored_answers() == {"children": 2, "colour": "red", "city": "Lyon", "day": "2024-05-01"}
    client.post("/s/defaults/p/1/", {"action": "back"})
    html = client.get("/s/defaults/p/0/").content.decode()
    assert 'name="children" value="2"' in html  # the answer, not the default
    assert 'name="colours" value="red" id="id_colours_0" checked' not in html  # unticked stays unticked


# --- read_only ---------------------------------------------------------------------------------

READ_ONLY = [
    ["type", "name", "label", "read_only", "calculation", "default"],
    ["begin_group", "p1", "", "", "", ""],
    ["integer", "adults", "Adults", "", "", ""],
    ["end_group", "", "", "", "", ""],
    ["begin_group", "p2", "", "", "", ""],
    ["integer", "twice", "Twice the adults", "yes", "${adults} * 2", ""],
    ["text", "wave", "Survey wave", "yes", "", "spring"],
    ["integer", "rooms", "Rooms", "", "", ""],
    ["end_group", "", "", "", "", ""],
]


@pytest.mark.django_db
def test_read_only_questions_show_their_value_and_cannot_be_posted(admin_user_):
    publish_xlsform(admin_user_, "readonly", READ_ONLY)
    client = start("readonly")
    client.post("/s/readonly/p/0/", {"adults": "3"})
    html = client.get("/s/readonly/p/1/").content.decode()
    assert 'name="twice"' not in html and 'name="wave"' not in html
    assert '<output aria-labelledby="q-twice-label">6</output>' in html
    assert '<output aria-labelledby="q-wave-label">spring</output>' in html
    assert client.post("/s/readonly/p/1/", {"rooms": "2", "twice": "99"}).status_code == 400
    client.post("/s/readonly/p/1/", {"rooms": "2"})
    assert stored_answers() == {"adults": 3, "twice": "6", "wave": "spring", "rooms": 2}


def test_read_only_is_written_back_and_pyxform_marks_it_readonly():
    from tests.survey.test_xlsform_interop import to_xform

    spec = read_xlsform(workbook(READ_ONLY))
    content = write_xlsform(spec)
    assert read_xlsform(content) == spec
    xform = to_xform(content, validate=False)
    assert 'nodeset="/data/p2/twice" type="int" calculate=" /data/p1/adults  * 2" readonly="true()"' in xform
    assert (
        'nodeset="/data/p2/wave" type="string" readonly="true()"' in xform and "<wave>spring</wave>" in xform
    )


def test_or_other_inside_a_matrix_is_refused_naming_the_group():
    survey = [
        ["type", "name", "label", "appearance"],
        ["begin_group", "p1", "", ""],
        ["begin_group", "grid", "Grid", "table-list"],
        ["select_one colours or_other", "a", "A", ""],
        ["end_group", "", "", ""],
        ["end_group", "", "", ""],
    ]
    problems = refused(survey, PLAIN_COLOURS)
    assert problems[0].location == "sheet survey, row 4, column A (type)"
    assert "or_other cannot be used inside matrix or list experiment 'grid'" in problems[0].message


@pytest.mark.django_db
def test_a_read_only_default_is_read_by_relevance_on_its_own_page(admin_user_):
    survey = [
        ["type", "name", "label", "read_only", "default", "relevant"],
        ["begin_group", "p1", "", "", "", ""],
        ["text", "wave", "Survey wave", "yes", "spring", ""],
        ["integer", "rooms", "Rooms", "", "", "${wave} = 'spring'"],
        ["end_group", "", "", "", "", ""],
        ["begin_group", "p2", "", "", "", ""],
        ["integer", "age", "Age", "", "", ""],
        ["end_group", "", "", "", "", ""],
    ]
    publish_xlsform(admin_user_, "wave", survey)
    client = start("wave")
    html = client.get("/s/wave/p/0/").content.decode()
    assert '<div class="question-slot" data-question="rooms">' in html  # shown from the start
    assert client.post("/s/wave/p/0/", {"rooms": "2", "shown": "wave rooms"}).status_code == 302
    assert stored_answers() == {"wave": "spring", "rooms": 2}
