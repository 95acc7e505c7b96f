"""Every word of the claims report, in English, marked for translation.

The app passes Django's ``gettext`` to :meth:`ReportText.translated` and gets the words in the
active language (``locale/*/LC_MESSAGES/django.po``); a notebook uses the English defaults.
Placeholders in braces are filled with ``str.format``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from .claims import TAGS
from .quality import fraction_text
from .translation import Translate
from .translation import gettext_noop as _


@dataclass(frozen=True)
class ReportText:
    heading: str = _("Claims report: {title}")
    synthetic_title: str = _("SYNTHETIC DATA")
    synthetic: str = _(
        "These respondents were generated from a seeded model and sent through the real questionnaire; "
        "every figure in this report describes that model, not people."
    )
    summary: str = _("Summary")
    summary_caption: str = _(
        "Each claim: what respondents say when asked directly, what the indirect measure shows, "
        "the published figures, and the verdict."
    )
    col_claim: str = _("Claim")
    col_direct: str = _("Asked directly")
    col_indirect: str = _("Indirect measure")
    col_references: str = _("Published figures")
    col_verdict: str = _("Verdict")
    dash: str = "—"
    percent: str = _("{value}%")
    points: str = _("{value} pts")
    interval: str = _("95% CI {low} – {high}")
    n: str = _("n = {n}")
    withheld: str = _("withheld (fewer than {k} respondents)")
    withheld_other: str = _("withheld (so that another withheld figure cannot be worked out)")
    not_measured: str = _("not measured")
    supported: str = _("supported")
    contradicted: str = _("contradicted")
    inconclusive: str = _("inconclusive")
    qualified: str = _("qualified: see the claim")
    about: str = _("Judged on {n} complete responses ({samples}); data: {data}.")
    data_synthetic: str = _("synthetic")
    data_collected: str = _("collected from participants")
    unweighted: str = _("Unweighted: no population margins were given.")
    unweighted_reserved: str = _(
        "Unweighted: the version raked to the 2020 census margins is reserved for members with the "
        "raw-data right."
    )
    unweighted_offered: str = _(
        "Unweighted: this version is not raked to the 2020 census margins; the raked version is a "
        "separate report."
    )
    raked: str = _(
        "Sample {sample} raked to the margins of {variables} in {iterations} iterations "
        "(Kish design effect {deff}, effective n {n_eff})."
    )
    disclosure: str = _(
        "Figures resting on fewer than {k} respondents are withheld, together with any figure "
        "from which they could be worked out; counts are rounded to the nearest {base}."
    )
    method: str = _(
        "Intervals (95%) are design-based (Taylor linearisation). Differences to a published figure "
        "include its sampling error where its sample size is known."
    )
    excluded: str = _("{excluded} responses flagged for data quality ({flags}) are left out.")
    excluded_withholds: str = _(
        "{withheld} of {measured} figures asked directly are withheld. Leaving out only {excluded} "
        "responses, beside the report that keeps every response, would show the left-out "
        "responses' own answers by difference, so most figures are withheld; leave no responses "
        "out to see them."
    )
    flag_speeding: str = _("speeding")
    flag_speeding_under: str = _("speeding (under {fraction} of the sample's median duration)")
    flag_straightlining: str = _("straight-lining")
    flag_attention_failed: str = _("a failed attention check")
    flag_near_duplicate: str = _("a near-duplicate answer pattern")
    generated: str = _("Generated on {date} by Candid.")
    registry: str = _("Claims registry: {title} (version {version}).")
    registry_unversioned: str = _("Claims registry: {title}.")
    source: str = _("The claims are paraphrased from {source}")
    legend: str = _("Reference tags")
    paraphrase: str = _("Claim (paraphrased)")
    rule: str = _("Rule")
    combine_rule: str = _("How the measures combine")
    comparability: str = _("Comparability")
    direct: str = _("Asked directly")
    list_experiment: str = _("list experiment")
    randomized_response: str = _("randomised response")
    list_experiment_method: str = _(
        "In a list experiment respondents say only how many statements on a list they agree with; "
        "half see the sensitive statement among them, so no one's answer to it is known."
    )
    randomized_response_method: str = _(
        "In randomised response a chance device tells some respondents to answer 'yes' whatever "
        "they think, so no single answer reveals anything."
    )
    says: str = _("Asked directly: {estimate} ({interval}).")
    shows: str = _("The {method} shows {estimate} ({interval}).")
    differ: str = _(
        "The two differ by {difference} ({interval}; {p}): what respondents say is not what "
        "the indirect measure shows."
    )
    agree: str = _("The two do not differ significantly ({difference}; {interval}; {p}).")
    p_value: str = _("p = {p}")
    p_below: str = _("p < {p}")
    p_unavailable: str = _("no p-value could be computed")
    no_interval: str = _("no interval could be computed")
    direct_withheld: str = _("The figure asked directly is withheld: it rests on fewer than {k} respondents.")
    direct_withheld_other: str = _(
        "The figure asked directly is withheld so that another withheld figure cannot be worked out."
    )
    indirect_withheld: str = _("The {method}'s figure is withheld: it rests on fewer than {k} respondents.")
    indirect_withheld_other: str = _(
        "The {method}'s figure is withheld so that another withheld figure cannot be worked out."
    )
    not_compared_direct: str = _("The two cannot be compared, because the figure asked directly is withheld.")
    not_compared_indirect: str = _("The two cannot be compared, because the {method}'s figure is withheld.")
    not_compared: str = _("The two could not be compared here.")
    strict_not_compared: str = _(
        "The registry's rule needs the two compared, so without the comparison the claim is not "
        "judged supported."
    )
    ref_withheld: str = _("not compared: this survey's figure is withheld")
    not_on_side: str = _(
        "The indirect estimate's interval is not wholly {side} {threshold}, so the direct answers "
        "alone do not establish the claim."
    )
    above: str = _("above")
    below: str = _("below")
    indirect_unavailable: str = _(
        "The indirect measure gives no figure here (too few respondents, or not in the data)."
    )
    direct_unavailable: str = _("The direct question gives no figure here.")
    no_statistic: str = _(
        "The registry gives no survey measure for this claim; its published figures are shown for reference."
    )
    absent: str = _("The data lack the items this claim is measured by.")
    by_rule: str = _("Verdict by the registry's rule ({rule}): {verdict}.")
    rule_all: str = _("every measure must agree")
    rule_strict: str = _("every measure must agree, and the two must not differ significantly")
    rule_indirect: str = _("the indirect measure decides")
    ref_source: str = _("Published figure")
    ref_year: str = _("Year")
    ref_tag: str = _("Tag")
    ref_value: str = _("Figure")
    ref_difference: str = _("This survey minus the figure (95% CI)")
    ref_notes: str = _("Sample, mode, notes")
    count_only: str = _("a count, not a share: no difference is computed")
    supplementary: str = _("Also measured")
    by: str = _("By {variable}")
    by_question: str = _("By the answer to “{question}”")
    by_sample: str = _("By sample (the same item, without the population filter)")
    group: str = _("Group")
    estimate: str = _("Estimate")
    ci: str = _("95% CI")
    chart_title: str = _("{label}: this survey and the published figures")
    chart_description: str = _(
        "Estimates and their intervals (95%) on a scale from {low} to {high}; the dashed line marks "
        "the claim's threshold, {threshold}."
    )
    this_survey: str = _("This survey, asked directly")
    this_survey_indirect: str = _("This survey, {method}")
    claims: str = _("The claims")
    tag_C: str = TAGS["C"]
    tag_S: str = TAGS["S"]
    tag_U: str = TAGS["U"]
    tag_3P: str = TAGS["3P"]

    def translated(self, translate: Translate) -> ReportText:
        """The same words passed through ``translate`` (Django's ``gettext`` for the active language)."""
        return ReportText(**{f.name: translate(getattr(self, f.name)) for f in fields(self)})

    def verdict(self, value: str) -> str:
        return {
            "supported": self.supported,
            "contradicted": self.contradicted,
            "inconclusive": self.inconclusive,
            "not measured": self.not_measured,
        }[value]

    def flag(self, name: str) -> str:
        """A data-quality flag (``analysis.quality.FLAGS``) in words."""
        return getattr(self, f"flag_{name}", name)

    def flags_left_out(self, quality: Mapping[str, Any]) -> list[str]:
        """The flags of an exclusion (``analysis.quality.exclude_flagged``'s ``quality``) in words,
        speeding with the fraction of the median duration it was computed with (``1/3``)."""
        fraction = quality.get("speeding")
        return [
            self.flag_speeding_under.format(fraction=fraction_text(fraction))
            if flag == "speeding" and fraction is not None
            else self.flag(flag)
            for flag in quality.get("flags", [])
        ]

    def tag(self, key: str) -> str:
        return getattr(self, f"tag_{key}")

    def withheld_for(self, found: dict, k: int) -> str:
        """Why a figure is withheld: too few respondents, or to protect another figure."""
        return (
            self.withheld_other if found.get("suppression") == "complementary" else self.withheld.format(k=k)
        )

    def percent_of(self, value: float | None, digits: int = 1) -> str:
        if missing(value):
            return self.dash
        return self.percent.format(value=f"{100 * value:.{digits}f}")

    def points_of(self, value: float | None) -> str:
        return self.dash if missing(value) else self.points.format(value=f"{100 * value:+.1f}")

    def value_of(self, found: Mapping[str, Any], value: float | None) -> str:
        """``value`` in the unit of ``found``'s kind: points for a difference, a percent otherwise."""
        return self.points_of(value) if found.get("kind") == "difference" else self.percent_of(value)

    def interval_of(self, found: Mapping[str, Any], *, points: bool | None = None) -> str:
        """``found``'s 95% interval in its unit, or that none could be computed (a withheld or
        undefined end never prints as "95% CI — – —")."""
        if missing(found.get("ci_low")) or missing(found.get("ci_high")):
            return self.no_interval
        points = found.get("kind") == "difference" if points is None else points
        show = self.points_of if points else self.percent_of
        return self.interval.format(low=show(found["ci_low"]), high=show(found["ci_high"]))


def missing(value: Any) -> bool:
    """No figure: None (withheld, not measured) or NaN (undefined)."""
    return value is None or (isinstance(value, float) and math.isnan(value))
