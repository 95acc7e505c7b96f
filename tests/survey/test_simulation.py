"""The synthetic respondent: a page shown again gets the same answers, as from a person."""

from survey.simulation import Respondent, fill, read_form

PAGE = """<form>
<input type="hidden" name="shown" value="aware_local_app">
<input type="radio" name="aware_local_app" value="yes"><input type="radio" name="aware_local_app" value="no">
<input type="radio" name="aware_local_app" value="dont_know">
<input type="checkbox" name="aware_scores" value="sesame"><input type="checkbox" name="aware_scores" value="bike">
<input type="checkbox" name="aware_scores" value="none">
<input type="number" name="scs_comfort" min="0" max="10">
<select name="trust_priorities__laws"></select><select name="trust_priorities__press"></select>
<select name="trust_priorities__ratings"></select>
</form>"""


def test_a_page_shown_again_gets_the_same_answers():
    """Without JavaScript a question made relevant by an answer on the same page brings the page
    back; answering afresh would re-draw the first answer and bias every such filter (a 25% 'yes'
    to aware_local_app came out at 6% when each showing was a new draw)."""
    for seed in range(40):
        respondent = Respondent(seed, "china")
        first = fill(read_form(PAGE), respondent, {})
        assert fill(read_form(PAGE), respondent, {}) == first
