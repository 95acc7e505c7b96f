"""The claims registry: validation with the claim id and field, every verdict branch, and the report's schema."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import schema
from analysis.claims import REGISTRY, RegistryError, load_registry
from analysis.codebook import Codebook, Variable
from analysis.report import build_report, render_html

GOOD = REGISTRY.read_text(encoding="utf-8")


def test_shipped_registry_covers_every_claim_of_the_brief():
    ids = [claim.id for claim in load_registry()]
    assert ids == [
        "trust-deficit",
        "fraud-common",
        "welcome-scs",
        "accountability",
        "no-alternative",
        "commercial-scores",
        "cross-domain",
        "west-vs-china",
    ]
    for claim in load_registry():
        assert claim.citation["article"].startswith("Hawkins 2017")
        assert all(ref.tag in {"C", "S", "U", "3P"} for ref in claim.statistic.references)


@pytest.mark.parametrize(
    ("old", "new", "claim", "field"),
    [
        (
            'tag = "3P"\nnote = "valid-answer base"',
            'tag = "maybe"\nnote = "valid-answer base"',
            "trust-deficit",
            "references.tag",
        ),
        (
            'direction = ">"\nthreshold = 0.5\nrule = "Supported if more than half were targeted',
            'direction = "~"\nthreshold = 0.5\nrule = "Supported if more than half were targeted',
            "fraud-common",
            "statistic.direction",
        ),
        ('kind = "difference"', 'kind = "median"', "west-vs-china", "statistic.kind"),
        ('id = "accountability"', 'id = "trust-deficit"', "trust-deficit", "id"),
        ("value = 0.80\nn = 2209", "value = 80\nn = 2209", "welcome-scs", "references.value"),
    ],
)
def test_malformed_registry_is_refused_with_claim_and_field(tmp_path, old, new, claim, field):
    assert old in GOOD
    path = tmp_path / "bad.toml"
    path.write_text(GOOD.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(RegistryError) as caught:
        load_registry(path)
    assert caught.value.claim == claim and caught.value.field == field


def test_missing_fields_and_bad_toml_are_named(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(
        GOOD.replace('paraphrase = "Fraud and scams are an everyday risk in China."\n', "", 1),
        encoding="utf-8",
    )
    with pytest.raises(RegistryError, match="claim 'fraud-common', field 'paraphrase': is missing"):
        load_registry(path)
    path.write_text("[[claims]\n", encoding="utf-8")
    with pytest.raises(RegistryError, match="is not valid TOML"):
        load_registry(path)


def frame_with(
    share_china: float, share_west: float, n: int = 400, seed: int = 0
) -> tuple[pd.DataFrame, Codebook]:
    rng = np.random.default_rng(seed)
    rows = []
    for sample, share in (("china", share_china), ("west", share_west)):
        approve = rng.random(n) < share
        rows.append(
            pd.DataFrame(
                {
                    schema.SAMPLE: sample,
                    schema.SYNTHETIC: 0,
                    "approve_scs": np.where(approve, "somewhat_approve", "somewhat_disapprove"),
                    "gen_trust": np.where(rng.random(n) < share, "most_trusted", "be_careful"),
                    "age_band": rng.choice(["18_29", "60_plus"], n),
                    "education": "college",
                    "urban": "urban",
                }
            )
        )
    frame = pd.concat(rows, ignore_index=True)
    variables = [Variable(name, "categorical", name, label={"en": name}) for name in frame.columns]
    return frame, Codebook(study="t", title="T", languages=["en"], variables=variables)


def verdicts(frame: pd.DataFrame, codebook: Codebook) -> dict[str, str]:
    report = build_report(frame, codebook, claims=load_registry())
    return {c["id"]: c["verdict"] for c in report["claims"]}


def test_each_verdict_branch():
    assert verdicts(*frame_with(0.8, 0.2))["welcome-scs"] == "supported"
    assert verdicts(*frame_with(0.2, 0.2))["welcome-scs"] == "contradicted"
    assert verdicts(*frame_with(0.5, 0.5, n=60))["welcome-scs"] == "inconclusive"
    # The west-vs-china difference, and a claim whose variables this frame lacks:
    result = verdicts(*frame_with(0.8, 0.2))
    assert result["west-vs-china"] == "supported" and result["fraud-common"] == "not measured"
    assert verdicts(*frame_with(0.2, 0.8))["west-vs-china"] == "contradicted"
    assert verdicts(*frame_with(0.3, 0.8))["trust-deficit"] == "supported"  # fewer than half trust


def test_report_json_schema_and_references():
    frame, codebook = frame_with(0.8, 0.2)
    report = build_report(frame, codebook, claims=load_registry())
    assert {"study", "data", "n", "weighted", "claims"} <= set(report)
    assert report["data"] == "collected" and report["n"] == 800 and report["weighted"] is False
    for claim in report["claims"]:
        assert {"id", "verdict", "estimate", "ci_low", "ci_high", "references"} <= set(claim)
        for reference in claim["references"]:
            assert {"source", "value", "tag", "difference", "diff_ci_low", "diff_ci_high"} <= set(reference)
    welcome = next(c for c in report["claims"] if c["id"] == "welcome-scs")
    kostka = welcome["references"][0]
    assert kostka["difference"] == pytest.approx(welcome["estimate"] - 0.80)
    assert kostka["diff_ci_low"] < kostka["difference"] < kostka["diff_ci_high"]


def test_small_groups_are_suppressed_in_panels():
    frame, codebook = frame_with(0.8, 0.2, n=200)
    frame.loc[frame.index[:6], "education"] = "primary"  # six people only
    report = build_report(frame, codebook, claims=load_registry())
    welcome = next(c for c in report["claims"] if c["id"] == "welcome-scs")
    primary = next(row for row in welcome["subgroups"]["education"] if row["group"] == "primary")
    assert primary["suppressed"] and primary["estimate"] is None


def test_synthetic_data_is_labelled_in_json_and_html():
    frame, codebook = frame_with(0.8, 0.2)
    frame[schema.SYNTHETIC] = 1
    report = build_report(frame, codebook, claims=load_registry())
    assert report["data"] == "synthetic"
    page = render_html(report)
    assert "SYNTHETIC DATA" in page and "<script" not in page and "http://" not in page.split("</head>")[0]


def test_html_escapes_everything_from_the_data():
    frame, codebook = frame_with(0.8, 0.2)
    frame["age_band"] = np.where(frame.index % 2, "<script>alert(1)</script>", "18_29")
    page = render_html(build_report(frame, codebook, claims=load_registry()))
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page


def test_margins_shipped_with_the_demo_are_documented_and_valid():
    from analysis.weighting import read_margins

    path = Path(REGISTRY).parent / "margins_china_2020.csv"
    text = path.read_text(encoding="utf-8")
    assert "Seventh National Population Census" in text and "Derivation" in text
    margins = read_margins(path)
    for _, rows in margins.groupby("variable"):
        assert rows["share"].sum() == pytest.approx(1.0, abs=1e-6)
