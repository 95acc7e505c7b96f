"""The claims report people read: summary first, words not codes, both languages, no inline style,
accessible charts, the synthetic warning, and the files (HTML, JSON, PDF)."""

import json
import re

import numpy as np
import pandas as pd
import pytest

from analysis import schema
from analysis.claims import load_registry
from analysis.codebook import Codebook, Variable
from analysis.report import build_report, claims_report, localise_report, render_html
from analysis.report_html import render_body, render_pdf
from analysis.report_text import ReportText

AGE = {"18_29": {"en": "18–29", "zh": "18–29岁"}, "60_plus": {"en": "60 or older", "zh": "60岁及以上"}}
URBAN = {"urban": {"en": "City or town", "zh": "城镇"}, "rural": {"en": "Countryside", "zh": "农村"}}
APPROVE = {
    code: {"en": code, "zh": code}
    for code in ("strongly_approve", "somewhat_approve", "neutral", "somewhat_disapprove")
}


def survey(n: int = 500, seed: int = 0, synthetic: bool = False) -> tuple[pd.DataFrame, Codebook]:
    rng = np.random.default_rng(seed)
    parts = []
    for sample, direct, hidden in (("china", 0.96, 0.43), ("west", 0.2, 0.15)):
        arm = np.where(np.arange(n) % 2 == 0, "control", "treatment")
        count = rng.binomial(3, 0.5, n) + ((arm == "treatment") & (rng.random(n) < hidden))
        parts.append(
            pd.DataFrame(
                {
                    schema.SAMPLE: sample,
                    schema.SYNTHETIC: int(synthetic),
                    "approve_scs": np.where(
                        rng.random(n) < direct, "somewhat_approve", "somewhat_disapprove"
                    ),
                    "gen_trust": np.where(rng.random(n) < 0.6, "most_trusted", "be_careful"),
                    "le_scs": count,
                    "le_scs__arm": arm,
                    "age_band": rng.choice(list(AGE), n),
                    "urban": rng.choice(list(URBAN), n),
                }
            )
        )
    frame = pd.concat(parts, ignore_index=True)
    variables = [
        Variable(schema.SAMPLE, "meta", schema.SAMPLE),
        Variable("approve_scs", "ordinal", "approve_scs", label={"en": "Approve?"}, value_labels=APPROVE),
        Variable("gen_trust", "categorical", "gen_trust"),
        Variable("le_scs", "count", "le_scs"),
        Variable("le_scs__arm", "arm", "le_scs"),
        Variable("age_band", "categorical", "age_band", label={"en": "How old?"}, value_labels=AGE),
        Variable("urban", "categorical", "urban", label={"en": "Where?"}, value_labels=URBAN),
    ]
    return frame, Codebook("t", "Trust", ["en", "zh"], variables, synthetic=synthetic)


@pytest.fixture(scope="module")
def report() -> dict:
    frame, codebook = survey()
    return build_report(
        frame, codebook, registry=load_registry(), sample_names={"china": "Mainland", "west": "West"}
    )


def claim_of(report: dict, claim_id: str) -> dict:
    return next(c for c in report["claims"] if c["id"] == claim_id)


def test_the_report_holds_every_claim_with_its_verdicts_and_registry(report):
    assert report["registry"]["languages"] == ["en", "zh"] and report["source"].startswith("Hawkins")
    assert {c["verdict"] for c in report["claims"]} <= {
        "supported",
        "contradicted",
        "inconclusive",
        "not measured",
    }
    welcome = claim_of(report, "welcome-scs")
    assert welcome["verdict"] == "inconclusive" and welcome["direct"]["verdict"] == "supported"
    assert welcome["indirect"]["kind"] == "list_experiment" and welcome["difference"]["significant"]
    assert claim_of(report, "fraud-common")["verdict"] == "not measured"
    json.dumps(report)  # plain data all through


def test_a_question_one_sample_was_not_asked_has_no_row_for_that_sample():
    """A China-only item (relevant only to residents of mainland China) is missing for the whole
    Western sample: its by-sample panel shows the mainland alone, and the report is strict JSON."""
    frame, codebook = survey()
    china = frame[schema.SAMPLE] == "china"
    frame["aware_dangan"] = np.where(china, np.where(np.arange(len(frame)) % 3 == 0, "no", "yes"), None)
    codebook.variables.append(Variable("aware_dangan", "categorical", "aware_dangan"))
    report = build_report(frame, codebook, registry=load_registry(), sample_names={"china": "Mainland"})
    dangan = claim_of(report, "dangan")
    assert [row["group"] for row in dangan["samples"]] == ["china"]
    assert dangan["direct"]["estimate"] == pytest.approx(2 / 3, abs=0.01)
    json.dumps(report, allow_nan=False)


def test_localised_report_speaks_the_readers_language_with_words_not_codes(report):
    english = localise_report(report, language="en")
    chinese = localise_report(report, language="zh-hans")
    welcome_en, welcome_zh = claim_of(english, "welcome-scs"), claim_of(chinese, "welcome-scs")
    assert welcome_zh["paraphrase"].startswith("许多中国人") and welcome_en["paraphrase"].startswith("Many")
    ages = welcome_zh["subgroups"]["age_band"]
    assert ages["title"] == "年龄" and {r["label"] for r in ages["rows"]} == {"18–29岁", "60岁及以上"}
    assert {r["label"] for r in welcome_en["subgroups"]["urban"]["rows"]} == {"City or town", "Countryside"}
    assert {r["label"] for r in welcome_en["samples"]} == {"Mainland", "West"}
    explanation = " ".join(welcome_en["explanation"])
    assert "Asked directly: 9" in explanation and "The list experiment shows" in explanation
    assert "differ by" in explanation and "not wholly above 50%" in explanation
    assert welcome_en["references"][0]["note"].startswith("about 80%")
    assert welcome_zh["references"][0]["note"].startswith("约80%")


def test_the_page_puts_the_summary_first_and_carries_no_inline_style_or_script(report):
    body = render_body(localise_report(report, language="en"))
    assert "style=" not in body and "<script" not in body and "<style" not in body
    summary = body.index('class="report-summary"')
    assert summary < body.index('class="claims"') and summary < body.index("report-about")
    table = body[summary : body.index("</table>", summary)]
    for heading in ("Claim", "Asked directly", "Indirect measure", "Published figures", "Verdict"):
        assert f">{heading}</th>" in table
    assert 'href="#claim-welcome-scs"' in table and "Kostka 2019" in table and "[C]" in table
    for tag in ("C", "S", "3P"):  # the legend explains every tag the report uses
        assert re.search(rf"<dt><abbr [^>]*>\[{tag}\]</abbr></dt><dd>\w", body)
    assert "<dt><abbr" in body and ">[U]</abbr></dt>" not in body  # no figure is tagged U
    assert "By age</caption>" in body and "<th scope='row'>60 or older</th>" in body
    assert ">18_29<" not in body and ">60_plus<" not in body


def test_charts_are_labelled_svg_with_a_title_a_description_and_named_markers(report):
    body = render_body(localise_report(report, language="en"))
    charts = re.findall(r"<svg .*?</svg>", body)
    assert charts and all('role="img"' in c and "<title id=" in c and "<desc id=" in c for c in charts)
    welcome = next(c for c in charts if "chart-welcome-scs" in c)
    assert "This survey, asked directly" in welcome and "This survey, list experiment" in welcome
    assert "Kostka 2019 [C]" in welcome and "MERICS 2020 [C]" in welcome
    assert 'stroke-dasharray="4 3"' in welcome  # the claim's threshold


def test_every_word_goes_through_the_translation(report):
    """With every report word translated to a placeholder, no English word of the report is left."""
    text = ReportText().translated(lambda message: "·")
    body = render_body(localise_report(report, language="zh", text=text), text)
    visible = re.sub(r"<[^>]+>", " ", body)
    for phrase in (
        "Summary",
        "Verdict",
        "Asked directly",
        "Reference tags",
        "Claim (paraphrased)",
        "withheld",
    ):
        assert phrase not in visible, phrase
    assert "SYNTHETIC" not in visible and "confirmed in the primary" not in visible


def test_synthetic_data_is_labelled_first_in_the_page_and_in_the_json():
    frame, codebook = survey(n=200, synthetic=True)
    report = localise_report(build_report(frame, codebook, registry=load_registry()), language="en")
    assert report["data"] == "synthetic"
    body = render_body(report)
    assert body.index("SYNTHETIC DATA") < body.index("<h1>")
    document = render_html(report)
    assert "SYNTHETIC" in document.split("</title>")[0] and "http://" not in document.split("</head>")[0]


def test_html_escapes_everything_from_the_data(report):
    frame, codebook = survey(n=200)
    frame["age_band"] = np.where(frame.index % 2, "<script>alert(1)</script>", "18_29")
    names = {"china": "<img src=x onerror=alert(2)>", "west": "West"}
    page = render_html(build_report(frame, codebook, registry=load_registry(), sample_names=names))
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    assert "<img src=x" not in page


def test_the_files_html_json_and_pdf(tmp_path):
    frame, codebook = survey(n=150, synthetic=True)
    report = claims_report(frame, codebook, tmp_path, registry=load_registry(), language="en", pdf=True)
    document = (tmp_path / "claims.html").read_text(encoding="utf-8")
    assert document.startswith("<!doctype html>") and "<style>" in document and "@media print" in document
    stored = json.loads((tmp_path / "claims.json").read_text(encoding="utf-8"))
    assert stored["data"] == "synthetic" and stored["language"] == "en"
    assert claim_of(stored, "welcome-scs")["explanation"] == claim_of(report, "welcome-scs")["explanation"]
    assert (tmp_path / "claims.pdf").read_bytes().startswith(b"%PDF")


def test_pdf_rendering_fetches_nothing(tmp_path, monkeypatch):
    """A document pointing at the network or the disk renders without opening either."""
    import urllib.request

    opened = []
    monkeypatch.setattr(urllib.request.OpenerDirector, "open", lambda self, url, *a, **k: opened.append(url))
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret")
    document = (
        f'<html><head><link rel="stylesheet" href="file://{secret}"></head><body>'
        f'<img src="file://{secret}"><img src="http://127.0.0.1:9/x.png"><p>ok</p></body></html>'
    )
    assert render_pdf(document).startswith(b"%PDF") and opened == []


def test_a_report_withholding_most_figures_beside_an_exclusion_says_why(report):
    """Leaving out a few flagged responses beside the report that keeps them withholds most
    figures (their difference would be the left-out responses' answers): every verdict then reads
    "inconclusive", and the page says why at the top, rather than leaving the reader to guess
    (on the demo, leaving out 130 speeders withheld all 14 direct figures)."""
    from copy import deepcopy

    from analysis.report_html import withheld_beside_exclusion

    localised = localise_report(report, language="en")
    assert withheld_beside_exclusion(localised) is None
    hidden = deepcopy(localised)
    hidden["quality"] = {"flags": ["speeding"], "excluded": 130, "speeding": 1 / 3}
    measured = [c["direct"] for c in hidden["claims"] if c.get("direct") and c["direct"]["measured"]]
    assert len(measured) >= 2
    for direct in measured:
        direct["suppressed"] = True
    assert withheld_beside_exclusion(hidden) == (len(measured), len(measured))
    body = render_body(hidden)
    notice = body.index('class="report-notice"')
    assert notice < body.index("<h1>") and f"{len(measured)} of {len(measured)} figures" in body
    assert "Leaving out only 130 responses" in body
    for direct in measured[: len(measured) // 2 + 1]:
        direct["suppressed"] = False  # fewer than half withheld: no notice
    assert withheld_beside_exclusion(hidden) is None and "report-notice" not in render_body(hidden)
    kept = deepcopy(hidden)
    kept["quality"] = {"flags": ["speeding"], "excluded": 0, "speeding": 1 / 3}
    assert withheld_beside_exclusion(kept) is None


def withholding(*figures: tuple[str, tuple]):
    """A disclosure step that also withholds the given (claim, figure) as too small."""
    from analysis.verdicts import disclose_tables

    def decide(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
        decided = disclose_tables(tables, k=10)
        for name, table in decided.items():
            cid = name.split("/")[0]
            hit = table["figure"].map(lambda f, cid=cid: (cid, f) in figures)
            table.loc[hit, "suppressed"] = True
            table.loc[hit, "suppression"] = "primary"
        return decided

    return decide


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_withheld_figure_is_never_compared_and_reads_as_one_sentence(language):
    """Issue 16 review: with the direct figure withheld, welcome-scs said "The two do not differ
    significantly (—; 95% CI — – —; —)" and "Asked directly: withheld (…) (—)."."""
    from django.utils import translation

    frame, codebook = survey()
    built = build_report(
        frame, codebook, registry=load_registry(), disclosure=withholding(("welcome-scs", ("direct",)))
    )
    welcome = claim_of(built, "welcome-scs")
    assert welcome["direct"]["suppressed"] and welcome["difference"]["significant"] is None
    assert "measures_differ" not in welcome["reasons"]
    with translation.override(language):
        from django.utils.translation import gettext

        text = ReportText().translated(gettext)
        explanation = claim_of(localise_report(built, language=language, text=text), "welcome-scs")[
            "explanation"
        ]
    joined = " ".join(explanation)
    assert "—" not in joined and "do not differ" not in joined and "没有显著差异" not in joined
    if language == "en":
        assert explanation[0] == (
            "The figure asked directly is withheld: it rests on fewer than 10 respondents."
        )
        assert "The two cannot be compared, because the figure asked directly is withheld." in explanation
        assert not any(s.startswith("The direct question gives no figure") for s in explanation)
    else:
        assert explanation[0] == "直接提问的数字不予公布：它所依据的受访者少于10人。"
        assert "两者无法比较，因为直接提问的数字不予公布。" in explanation


def test_a_withheld_indirect_figure_is_said_and_not_compared():
    frame, codebook = survey()
    built = build_report(
        frame, codebook, registry=load_registry(), disclosure=withholding(("welcome-scs", ("indirect",)))
    )
    welcome = claim_of(localise_report(built, language="en"), "welcome-scs")
    assert (
        "The list experiment's figure is withheld: it rests on fewer than 10 respondents."
        in (welcome["explanation"])
    )
    assert (
        "The two cannot be compared, because the list experiment's figure is withheld."
        in welcome["explanation"]
    )
    assert not any("—" in s or "do not differ" in s for s in welcome["explanation"])


def test_the_strict_rule_does_not_support_a_claim_on_a_comparison_never_made():
    from analysis.verdicts import CONTRADICTED, INCONCLUSIVE, SUPPORTED, combine

    assert combine("strict", None, SUPPORTED, None) == (INCONCLUSIVE, ["direct_unavailable", "not_compared"])
    assert combine("strict", SUPPORTED, None, None) == (
        INCONCLUSIVE,
        ["indirect_unavailable", "not_compared"],
    )
    assert combine("strict", CONTRADICTED, None, None) == (CONTRADICTED, ["indirect_unavailable"])
    assert combine("all", None, SUPPORTED, None) == (SUPPORTED, ["direct_unavailable"])


def test_every_sentence_from_a_figure_handles_an_undefined_figure(report):
    """NaN or missing interval ends (a degenerate design) never print as "nan%" or "— – —"."""
    from copy import deepcopy

    broken = deepcopy(report)
    welcome = claim_of(broken, "welcome-scs")
    welcome["indirect"] |= {"ci_low": float("nan"), "ci_high": float("nan")}
    welcome["difference"] |= {"ci_low": None, "ci_high": None, "p_value": None}
    nan = float("nan")
    broken["weighting"] = [
        {
            "sample": "china",
            "variables": ["age_band"],
            "iterations": 3,
            "deff_weighting": nan,
            "n_effective": nan,
        }
    ]
    localised = localise_report(broken, language="en")
    explanation = " ".join(claim_of(localised, "welcome-scs")["explanation"])
    assert "nan" not in explanation and "— – —" not in explanation
    assert "no interval could be computed" in explanation and "no p-value could be computed" in explanation
    body = render_body(localised)
    assert not re.search(r"\bnan\b", body) and "— – —" not in body


def test_a_difference_is_stated_in_percentage_points_everywhere(report):
    """Issue 16 review: "Asked directly: 6.4% (95% CI -5.0% – 17.9%)" for a difference of samples."""
    localised = localise_report(report, language="en")
    differences = [
        c
        for c in localised["claims"]
        if c["direct"] and c["direct"]["kind"] == "difference" and c["direct"]["measured"]
    ]
    assert differences
    for found in differences:
        says = next(s for s in found["explanation"] if s.startswith("Asked directly"))
        assert re.fullmatch(
            r"Asked directly: [+-]\d+\.\d pts \(95% CI [+-]\d+\.\d pts – [+-]\d+\.\d pts\)\.", says
        ), says
    body = render_body(localised)
    section = body[body.index('id="claim-west-vs-china"') :]
    section = section[: section.index("</section>")]
    references = section[section.index("class='references'") :]
    assert " pts</td>" in references and not re.search(r"<td>\d+\.\d%</td>", references)


def test_the_tag_legend_names_no_source_of_another_registry():
    """Issue 16 review: [3P] read "(World Values Survey)" whatever the registry's figures were."""
    from analysis.claims import parse_registry

    registry = parse_registry(
        """
source = "A test"
[[claims]]
id = "c1"
paraphrase = "Most approve."
citation = { article = "Test 2020" }
comparability = "Same item."
[claims.statistic]
kind = "share"
label = "approve"
variable = "approve_scs"
levels = ["somewhat_approve"]
direction = ">"
threshold = 0.5
rule = "A majority."
[[claims.references]]
source = "Pew Research Center microdata, recomputed by a blog"
tag = "3P"
value = 0.4
"""
    )
    frame, codebook = survey(n=200)
    body = render_body(localise_report(build_report(frame, codebook, registry=registry), language="en"))
    legend = body[body.index('<dl class="legend">') : body.index("</dl>")]
    assert ">[3P]</abbr></dt><dd>a third party&#x27;s recomputation from public microdata," in legend
    assert "World Values Survey" not in body and ">[C]</abbr></dt>" not in legend


@pytest.mark.parametrize(
    ("language", "caption"),
    [("en", "By the answer to “What is your gender?”"), ("zh-hans", "按“您的性别是？”的回答")],
)
def test_a_breakdown_named_without_a_label_is_headed_by_its_question(language, caption):
    """Issue 16 review: a breakdown given as a plain name read "By What is your gender?"."""
    from dataclasses import replace

    from django.utils import translation
    from django.utils.translation import gettext

    from analysis.claims import Breakdown

    frame, codebook = survey(n=200)
    frame["gender"] = np.where(frame.index % 2, "female", "male")
    genders = {"female": {"en": "Female", "zh": "女"}, "male": {"en": "Male", "zh": "男"}}
    question = {"en": "What is your gender?", "zh": "您的性别是？"}
    codebook.variables.append(
        Variable("gender", "categorical", "gender", label=question, value_labels=genders)
    )
    registry = replace(
        load_registry(), breakdowns=(Breakdown("gender"), Breakdown("age_band", {"en": "age"}))
    )
    built = build_report(frame, codebook, registry=registry)
    with translation.override(language):
        text = ReportText().translated(gettext)
        body = render_body(localise_report(built, language=language, text=text), text)
    assert f"<caption>{caption}</caption>" in body
    assert "By What is your gender?" not in body and "按您的性别是？" not in body
    if language == "en":
        assert "<caption>By age</caption>" in body  # a label the registry gives is used as it is


def test_breakdown_groups_follow_the_questionnaires_order_not_their_codes(report):
    """A breakdown named as a plain variable listed its groups by code ("35–54, 55 or older, 18–34"
    for codes mid, old, young): they follow the order of the question's choices."""
    english = localise_report(report, language="en")
    for claim in english["claims"]:
        rows = claim.get("subgroups", {}).get("urban", {}).get("rows", [])
        if rows:
            assert [r["group"] for r in rows] == [
                "urban",
                "rural",
            ]  # choices' order; codes sort "rural" first
            break
    else:
        raise AssertionError("no claim is broken down by urban")
