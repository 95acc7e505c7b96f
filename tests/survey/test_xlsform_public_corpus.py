"""Public XLSForms from pyxform's and Ona's test suites (tests/survey/xlsform_corpus/, see SOURCES.md) and the
shared corpus: each imports, or is refused with sheet, row and column and a message naming what is
unsupported — never a traceback. The table pins each file's outcome (None: imports; else the code of
the first problem), so that a change in what Candid accepts shows here."""

import re
import warnings
from pathlib import Path

import pytest

from survey.instrument import QuestionnaireInvalid
from survey.xlsform import read_xlsform
from tests.conftest import SHARED

HERE = Path(__file__).parent / "xlsform_corpus"
OUTCOMES = {
    "onadata/Enumerator_Training_Practice_Survey.xlsx": "metadata_type",
    "onadata/MCH_v1.xlsx": "nested_group",
    "onadata/battery_life.xlsx": "metadata_type",
    "onadata/cascading.xlsx": None,
    "onadata/childrens_survey.xlsx": "repeat",
    "onadata/childrens_survey_sw.xlsx": "repeat",
    "onadata/childrens_survey_unicode.xlsx": "repeat",
    "onadata/choice_filter.xlsx": "duplicate_choice",
    "onadata/dhisform.xlsx": None,
    "onadata/enumerator_weekly.xlsx": "duplicate_column",
    "onadata/good_eats_multilang.xlsx": "choice_incomplete",
    "onadata/hxl_example.xlsx": None,
    "onadata/infinity.xlsx": None,
    "onadata/integer_name_test.xlsx": "unsupported_type",
    "onadata/name_survey.xlsx": None,
    "onadata/select_one_choices_test.xlsx": "metadata_type",
    "onadata/subdistrict_profiling_tool.xlsx": "unsupported_type",
    "onadata/test_data_types.xlsx": "unsupported_type",
    "onadata/transportation.xlsx": "repeat",
    "onadata/tutorial.xlsx": "unsupported_type",
    "pyxform/ODKValidateWarnings.xlsx": "unsupported_type",
    "pyxform/attribute_columns_test.xlsx": "media_column",
    "pyxform/extra_columns.xlsx": None,
    "pyxform/extra_sheet_names.xlsx": None,
    "pyxform/flat_xlsform_test.xlsx": "media_column",
    "pyxform/include.xlsx": "unsupported_type",
    "pyxform/include_json.xlsx": "unsupported_type",
    "pyxform/loop.xlsx": "repeat",
    "pyxform/pull_data.xlsx": "bad_expression",
    "pyxform/survey_no_name.xlsx": None,  # one sheet, not named survey: the survey
    # its choice labels pipe the answers on the select's own page (${name1}): blank here, so refused
    "pyxform/xl_date_ambiguous_v1.xlsx": "same_page_reference",
    "pyxform/xlsform_spec_test.xlsx": "media_column",
}
SHARED_OUTCOMES = {
    "UCL_Biomass_Plot_Form.xlsx": "refused_column",
    "bad_calc.xlsx": "bad_expression",
    "case_insensitivity.xlsx": "unsupported_type",
    "choice_filter_test.xlsx": "duplicate_choice",
    "duplicate_columns.xlsx": "duplicate_column",
    "field-list.xlsx": None,  # a label missing in zh: the English one is shown there
    "group.xlsx": "unsupported_type",
    "or_other.xlsx": "choice_filter_column",  # pastel=yes: a bare word, a column the sheet lacks
    "real-world/form_with_unicode_in_relevant_column.xlsx": None,  # label::Tetun: x-tetun
    "real-world/household.xlsx": "repeat",
    "real-world/multi_lingual_form.xlsx": None,
    "real-world/sample_accent.xlsx": None,
    "real-world/tutorial_arabic_labels.xlsx": "unsupported_type",
    "specify_other.xlsx": None,
    "text_and_integer.xlsx": None,
    "xl_date_ambiguous.xlsx": "bad_expression",
    "yes_or_no_question.xlsx": None,
}
# Problems about the whole workbook have no cell; every other names sheet and row (and column when it has one).
WHOLE_WORKBOOK = frozenset({"no_survey_sheet", "not_xlsx"})
# A column the form lacks (a label in a language it declares elsewhere) is named as "label::zh (no such column)".
CELL = re.compile(r"^sheet [^,]+, row \d+(, column ([A-Z]+( \(.+\))?|\S+ \(no such column\)))?$")
SHARED_CORPUS = SHARED / "xlsform-corpus"


def outcome(path: Path) -> str | None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # openpyxl: unknown Excel extensions
        try:
            read_xlsform(path)
        except QuestionnaireInvalid as error:
            for problem in error.problems:
                assert problem.message.strip()
                assert problem.code in WHOLE_WORKBOOK or CELL.match(problem.location), problem
            return error.problems[0].code
    return None


def test_every_file_is_listed_with_its_source():
    on_disk = {path.relative_to(HERE).as_posix() for path in HERE.rglob("*.xlsx")}
    assert on_disk == set(OUTCOMES) and len(on_disk) >= 20
    sources = (HERE / "SOURCES.md").read_text()
    assert all(f"| {name.split('/')[-1]} |" in sources for name in OUTCOMES)


@pytest.mark.parametrize("name", sorted(OUTCOMES))
def test_public_forms_import_or_are_refused_cell_by_cell(name):
    assert outcome(HERE / name) == OUTCOMES[name]


@pytest.mark.skipif(not SHARED_CORPUS.is_dir(), reason=f"the shared XLSForm corpus is not at {SHARED_CORPUS}")
@pytest.mark.parametrize("name", sorted(SHARED_OUTCOMES))
def test_shared_corpus_imports_or_is_refused_cell_by_cell(name):
    assert outcome(SHARED_CORPUS / name) == SHARED_OUTCOMES[name]
