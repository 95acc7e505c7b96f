"""The shipped study's XLSForm: every rating system of the article in both languages, the order that
keeps the list experiment and the direct approval item unprimed, sample-specific pages, and a form
pyxform converts."""

from __future__ import annotations

import re
import warnings

import pytest
from pyxform.xls2xform import convert

from analysis.claims import load_registry
from survey.xlsform import read_xlsform
from tests.conftest import SHIPPED_STUDY

FORM = SHIPPED_STUDY / "questionnaire.xlsx"
# The items issue 17 adds, one or more per system the article describes.
SYSTEMS = {
    "local public-credit apps": ["aware_local_app", "use_local_app", "approve_privileges"],
    "scores priced into services": ["price_by_score"],
    "scores shown to others": ["show_dating", "judge_tenant", "judge_partner"],
    "data from companies to the state": ["share_data_state", "trust_data_use"],
    "surveillance and misuse": ["worry_watch", "worry_travel", "convenience_or_privacy"],
    "the personal file (dang'an)": ["aware_dangan", "dangan_see"],
}
SYSTEMS_FLAT = {code for codes in SYSTEMS.values() for code in codes}
CHINA_ONLY = {"aware_local_app", "use_local_app", "approve_privileges", "aware_dangan", "dangan_see"}


@pytest.fixture(scope="module")
def spec():
    return read_xlsform(FORM.read_bytes())


def _questions(spec):
    """(page code, page relevance, question) for every answerable item, matrix rows included."""
    for section in spec["sections"]:
        for question in section["questions"]:
            for item in question["items"] or [question]:
                yield section["code"], section["relevance"], item


def test_every_system_is_asked_in_english_and_chinese(spec):
    found = {q["code"]: q for _page, _relevance, q in _questions(spec)}
    for system, codes in SYSTEMS.items():
        for code in codes:
            assert code in found, f"{system}: {code} missing"
            assert set(found[code]["label"]) == {"en", "zh"}, code
            assert all(text.strip() for text in found[code]["label"].values()), code


def test_new_items_come_after_the_list_experiment_and_the_direct_approval_and_say_why(spec):
    """The codebook shows each item's source (a matrix row its matrix's): it carries the reason."""
    order, sources = [], {}
    for section in spec["sections"]:
        for question in section["questions"]:
            for item in [question, *question["items"]]:
                order.append(item["code"])
                sources[item["code"]] = item["source"] or question["source"]
    first_new = min(order.index(code) for code in SYSTEMS_FLAT)
    assert order.index("le_scs") < first_new and order.index("approve_scs") < first_new
    for code in SYSTEMS_FLAT:
        assert "cannot prime those two measures" in sources[code], code


def test_china_only_items_sit_on_a_page_only_mainland_residents_see(spec):
    pages = {q["code"]: (page, relevance) for page, relevance, q in _questions(spec)}
    for code in CHINA_ONLY:
        assert pages[code][1] == "${live_mainland} = 'yes'", code
    for code in SYSTEMS_FLAT - CHINA_ONLY:
        assert pages[code][1] == "", f"{code} should be asked in both samples"


def test_every_variable_a_claim_names_is_in_the_form(spec):
    codes = {q["code"] for _page, _relevance, q in _questions(spec)}
    for claim in load_registry():
        statistics = [s for s in (claim.statistic, *claim.supplementary) if s is not None]
        assert {s.variable for s in statistics} <= codes, claim.id


def test_pyxform_converts_the_shipped_form_as_it_is():
    """The file itself, not an export of it: Candid's extensions sit in ``bind::candid:*`` columns
    and the Chinese title in ``candid:title::``, which pyxform passes through or ignores."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # openpyxl: unknown Excel extensions
        xform = convert(xlsform=str(FORM), validate=False).xform

    languages = re.findall(r'<translation lang="([^"]+)"', xform)
    assert languages == ["English (en)", "Chinese (zh)"]
    bound = set(re.findall(r'<bind nodeset="/data/(?:[a-z_]+/)*([a-z_0-9]+)"', xform))
    assert bound >= SYSTEMS_FLAT
    assert re.search(
        r'<bind nodeset="/data/public_credit"[^>]* relevant=" /data/services_people/live_mainland  = \'yes\'"',
        xform,
    )
    assert 'candid:reverse="yes"' in xform and 'candid:role="sensitive"' in xform
