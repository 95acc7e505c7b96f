"""pyxform's public test spreadsheets: each imports (keeping every language) or is refused with sheet and row."""

import warnings

import pytest

from survey.instrument import QuestionnaireInvalid
from survey.xlsform import read_xlsform
from tests.conftest import SHARED

CORPUS = SHARED / "xlsform-corpus"

IMPORTS = {
    "text_and_integer.xlsx": {"languages": ["en"], "codes": ["your_name", "your_age"]},
    "yes_or_no_question.xlsx": {"languages": ["en"], "codes": ["good_day"]},
    "specify_other.xlsx": {"languages": ["en"], "codes": ["sex", "sex_other"]},
    # its one question has no label::chinese: accepted as pyxform accepts it, shown in English there
    "field-list.xlsx": {"languages": ["en", "zh"], "codes": ["table_list_question"]},
}
REFUSED = {
    "UCL_Biomass_Plot_Form.xlsx": (
        "sheet survey, row 43, column O (repeat_count)",
        "repeats are not supported",
    ),
    "bad_calc.xlsx": (
        "sheet survey, row 2, column D (calculation)",
        "calculation of 'badcalc': unexpected 'pyxform'",
    ),
    "case_insensitivity.xlsx": ("sheet SURVEY", "'select_one_external c1' is not supported"),
    "choice_filter_test.xlsx": (
        "sheet choices, row 6, column B (name)",
        "choice 'king' appears twice in list 'counties'",
    ),
    # pyxform's own test form filters with pastel=yes: the bare word is a column the choices sheet
    # lacks (ODK compares with an empty node-set), so every pastel would be hidden.
    "or_other.xlsx": ("sheet survey, row 3, column D (choice_filter)", "reads column 'yes'"),
    "duplicate_columns.xlsx": ("sheet survey, row 1, column E", "column header 'label' appears twice"),
    "group.xlsx": ("sheet survey, row 4, column A (type)", "'phone number' is not supported"),
    "xl_date_ambiguous.xlsx": ("sheet survey, row 5, column L (choice_filter)", "unexpected character ':'"),
}

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"the shared XLSForm corpus is not at {CORPUS}")


def read(name: str):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # openpyxl: unknown Excel extensions
        return read_xlsform((CORPUS / name).read_bytes())


def test_every_file_is_classified():
    assert {path.name for path in CORPUS.glob("*.xlsx")} == set(IMPORTS) | set(REFUSED)


@pytest.mark.parametrize("name", sorted(IMPORTS))
def test_importable_files_keep_everything(name):
    spec = read(name)
    assert spec["languages"] == IMPORTS[name]["languages"]
    codes = [q["code"] for s in spec["sections"] for q in s["questions"]]
    assert codes == IMPORTS[name]["codes"]
    assert all(q["label"]["en"] for s in spec["sections"] for q in s["questions"])


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_unsupported_files_are_refused_with_location(name):
    location, message = REFUSED[name]
    with pytest.raises(QuestionnaireInvalid) as caught:
        read(name)
    assert any(p.location.startswith(location) and message in p.message for p in caught.value.problems), (
        caught.value
    )


def test_bilingual_real_form_reports_its_languages():
    with pytest.raises(QuestionnaireInvalid) as caught:
        read("UCL_Biomass_Plot_Form.xlsx")
    messages = " ".join(p.message for p in caught.value.problems)
    assert "records device or time metadata" in messages  # start / end
    assert "use straight quotes" not in messages or "‘" in messages
