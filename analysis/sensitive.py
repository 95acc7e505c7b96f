"""Estimators for sensitive questions: list experiments (item count) and randomised response.

List experiment: the prevalence of the sensitive item is the difference in mean item counts
between the treatment list (control items + sensitive item) and the control list (Glynn 2013,
*Public Opinion Quarterly* 77(S1); Blair & Imai 2012, *Political Analysis* 20(1)), estimated on the
full design with the covariance of the two arm means. The design-effect test is Blair & Imai's
(2012, §3.1): the implied shares of respondent types must be non-negative.

Randomised response (forced-response design, Boruch 1971; Fox & Tracy 1986): a respondent answers
truthfully with probability ``p_truth`` and is told to say "yes" with probability ``p_forced_yes``,
so ``P(yes) = p_truth * pi + p_forced_yes``.

A questionnaire declares both in a question's XLSForm ``parameters`` (:func:`declared_direct`,
:func:`declared_forced_response`): the results page and a claims registry read them from there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from .design import SurveyDesign
from .estimates import _domains, _numeric, _proportion_fit, _ratio_fit, joint_covariance


@dataclass(frozen=True)
class ForcedResponse:
    """A forced-response design: the code of the sensitive answer and its two probabilities."""

    yes: str
    p_truth: float
    p_forced_yes: float


def possible_design(p_truth: float, p_forced_yes: float) -> bool:
    """Whether a forced-response design can be estimated: ``0 < p_truth``, ``0 <= p_forced_yes``
    and ``p_truth + p_forced_yes <= 1``."""
    return 0 < p_truth <= 1 and 0 <= p_forced_yes < 1 and p_truth + p_forced_yes <= 1


def declared_forced_response(parameters: Mapping[str, str]) -> ForcedResponse | None:
    """The forced-response design a question's XLSForm ``parameters`` declare
    (``randomized_response=forced p_truth=0.75 p_forced_yes=0.125 yes=code``, ``yes`` by default
    ``yes``), or None where they declare none or one that cannot be estimated."""
    if not parameters.get("randomized_response"):
        return None
    try:
        p_truth, p_forced_yes = float(parameters["p_truth"]), float(parameters["p_forced_yes"])
    except (KeyError, ValueError):
        return None
    if not possible_design(p_truth, p_forced_yes):
        return None
    return ForcedResponse(parameters.get("yes", "yes"), p_truth, p_forced_yes)


def declared_direct(parameters: Mapping[str, str]) -> tuple[str, list[str]] | None:
    """The direct question an indirect item's XLSForm ``parameters`` set it beside
    (``direct=code direct_levels=a,b``, or ``a;b``) and the answers counted, or None."""
    direct = parameters.get("direct", "")
    levels = [level for level in parameters.get("direct_levels", "").replace(";", ",").split(",") if level]
    return (direct, levels) if direct and levels else None


def _arm_codes(design: SurveyDesign, arm: str, treatment: object, domain: np.ndarray) -> np.ndarray:
    """Column per (domain, arm): ``2 d`` for control, ``2 d + 1`` for treatment; -1 outside."""
    treated = (design.data[arm] == treatment).to_numpy()
    return np.where(domain >= 0, domain * 2 + treated.astype(int), -1)


def list_experiment(
    design: SurveyDesign,
    count: str,
    arm: str,
    *,
    treatment: object = "treatment",
    by: str | None = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """Prevalence of the sensitive item: ``mean(count | treatment) - mean(count | control)``.

    Returns one row per domain with ``estimate, se, ci_low, ci_high, n, n_treatment, n_control``;
    the SE uses the joint design covariance of the two arm means (they share PSUs).
    """
    values, valid = _numeric(design, count)
    domains = _domains(design, by, valid & design.data[arm].notna().to_numpy())
    g = len(domains.labels)
    fit = _ratio_fit(
        design, _arm_codes(design, arm, treatment, domains.codes), values, np.ones(design.n), 2 * g
    )
    rows = []
    t = stats.t.ppf(0.5 + level / 2, max(design.df, 1))
    for d, label in enumerate(domains.labels):
        control, treated = 2 * d, 2 * d + 1
        estimate = fit.estimate[treated] - fit.estimate[control]
        variance = fit.cov[treated, treated] + fit.cov[control, control] - 2 * fit.cov[treated, control]
        se = float(np.sqrt(max(variance, 0.0)))
        rows.append(
            {
                **({by: label} if by else {}),
                "estimate": estimate,
                "se": se,
                "ci_low": estimate - t * se,
                "ci_high": estimate + t * se,
                "n": int(fit.n[treated] + fit.n[control]),
                "n_treatment": int(fit.n[treated]),
                "n_control": int(fit.n[control]),
            }
        )
    return pd.DataFrame(rows)


def list_experiment_design_test(
    design: SurveyDesign,
    count: str,
    arm: str,
    *,
    treatment: object = "treatment",
    control_items: int,
    alpha: float = 0.05,
) -> dict:
    """Blair & Imai's test for a design effect: are all implied respondent-type shares non-negative?

    With J control items, ``pi(y, 1) = P(Y <= y | control) - P(Y <= y | treatment)`` for y < J and
    ``pi(y, 0) = P(Y <= y | treatment) - P(Y <= y - 1 | control)`` for y <= J must be >= 0. Each is
    tested one-sided with its design-based SE; p-values are Bonferroni-adjusted over the family.
    Returns the shares, their SEs, the smallest adjusted p-value and whether a design effect is found.
    """
    values, valid = _numeric(design, count)
    treated = (design.data[arm] == treatment).to_numpy()
    column = np.where(valid, treated.astype(int), -1)
    # P(Y <= y | arm) for both arms, with their joint covariance, for y = 0 .. J-1.
    cumulative = [
        _ratio_fit(design, column, (values <= y).astype(float), np.ones(design.n), 2)
        for y in range(max(control_items, 1))
    ]
    shares, ses, names = [], [], []
    for y in range(control_items):
        fit = cumulative[y]
        shares.append(fit.estimate[0] - fit.estimate[1])
        ses.append(np.sqrt(max(fit.cov[0, 0] + fit.cov[1, 1] - 2 * fit.cov[0, 1], 0)))
        names.append(f"pi({y},1)")
    for y in range(control_items + 1):
        if y == 0:
            shares.append(cumulative[0].estimate[1])
            ses.append(np.sqrt(max(cumulative[0].cov[1, 1], 0)))
        else:
            joint = _ratio_fit(
                design,
                column,
                np.where(treated, values <= y, values <= y - 1).astype(float),
                np.ones(design.n),
                2,
            )
            shares.append(joint.estimate[1] - joint.estimate[0])
            ses.append(np.sqrt(max(joint.cov[0, 0] + joint.cov[1, 1] - 2 * joint.cov[0, 1], 0)))
        names.append(f"pi({y},0)")
    shares_arr, se_arr = np.array(shares), np.array(ses)
    with np.errstate(divide="ignore", invalid="ignore"):
        p_values = stats.norm.cdf(shares_arr / se_arr)
    p_values = np.where(se_arr > 0, p_values, np.where(shares_arr < 0, 0.0, 1.0))
    adjusted = float(min(1.0, p_values.min() * len(p_values)))
    return {
        "shares": dict(zip(names, shares_arr.tolist(), strict=True)),
        "se": dict(zip(names, se_arr.tolist(), strict=True)),
        "min_p_bonferroni": adjusted,
        "design_effect": adjusted < alpha,
    }


def compare_list_with_direct(
    design: SurveyDesign,
    count: str,
    arm: str,
    direct: str,
    direct_levels: list,
    *,
    treatment: object = "treatment",
    level: float = 0.95,
) -> dict:
    """List-experiment prevalence beside the direct question's share answering one of ``direct_levels``.

    The difference (list minus direct, i.e. how much the direct question over- or understates)
    gets its SE from the joint linearisation of both estimates on the same design.
    """
    values, valid = _numeric(design, count)
    column = np.where(
        valid & design.data[arm].notna().to_numpy(),
        (design.data[arm] == treatment).to_numpy().astype(int),
        -1,
    )
    arms = _ratio_fit(design, column, values, np.ones(design.n), 2)
    answered = design.data[direct].notna().to_numpy()
    hit = design.data[direct].isin(direct_levels).to_numpy().astype(int)
    direct_fit = _proportion_fit(design, np.where(answered, 0, -1), hit, 1, 2, scores=True)
    contrasts = np.array(
        [[-1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]]
    )  # list = treated - control; direct share
    cov = contrasts @ joint_covariance(design, arms, direct_fit) @ contrasts.T
    list_estimate = arms.estimate[1] - arms.estimate[0]
    direct_estimate = direct_fit.estimate[1]
    difference = list_estimate - direct_estimate
    t = stats.t.ppf(0.5 + level / 2, max(design.df, 1))

    def interval(estimate: float, variance: float) -> dict:
        se = float(np.sqrt(max(variance, 0)))
        return {
            "estimate": float(estimate),
            "se": se,
            "ci_low": float(estimate - t * se),
            "ci_high": float(estimate + t * se),
        }

    return {
        "list": interval(list_estimate, cov[0, 0]),
        "direct": interval(direct_estimate, cov[1, 1]),
        "difference": interval(difference, cov[0, 0] + cov[1, 1] - 2 * cov[0, 1]),
    }


def randomized_response(
    design: SurveyDesign,
    answer: str,
    *,
    yes: object,
    p_truth: float,
    p_forced_yes: float,
    level: float = 0.95,
) -> dict:
    """Forced-response prevalence ``pi = (lambda - p_forced_yes) / p_truth`` with ``se(lambda) / p_truth``."""
    if not possible_design(p_truth, p_forced_yes):
        raise ValueError("need 0 < p_truth <= 1, 0 <= p_forced_yes and p_truth + p_forced_yes <= 1")
    answered = design.data[answer].notna().to_numpy()
    hit = (design.data[answer] == yes).to_numpy().astype(int)
    fit = _proportion_fit(design, np.where(answered, 0, -1), hit, 1, 2)
    observed = fit.estimate[1]
    estimate = (observed - p_forced_yes) / p_truth
    se = float(np.sqrt(max(fit.cov[1, 1], 0)) / p_truth)
    t = stats.t.ppf(0.5 + level / 2, max(design.df, 1))
    return {
        "estimate": float(estimate),
        "se": se,
        "ci_low": float(estimate - t * se),
        "ci_high": float(estimate + t * se),
        "observed_yes": float(observed),
        "n": int(answered.sum()),
    }


def compare_randomized_with_direct(
    design: SurveyDesign,
    answer: str,
    direct: str,
    direct_levels: list,
    *,
    yes: object,
    p_truth: float,
    p_forced_yes: float,
    level: float = 0.95,
) -> dict:
    """Forced-response prevalence beside the direct question's share answering one of ``direct_levels``.

    As :func:`compare_list_with_direct`: the prevalence ``(lambda - p_forced_yes) / p_truth``
    (Boruch 1971) and the direct share are estimated on the same design and their joint
    covariance (Taylor or replicate, ``estimates.joint_covariance``) gives the difference
    (randomised response minus direct) its SE, whether the two items were put to the same
    respondents or to random halves.
    """
    if not possible_design(p_truth, p_forced_yes):
        raise ValueError("need 0 < p_truth <= 1, 0 <= p_forced_yes and p_truth + p_forced_yes <= 1")
    answered = design.data[answer].notna().to_numpy()
    hit = (design.data[answer] == yes).to_numpy().astype(int)
    rr_fit = _proportion_fit(design, np.where(answered, 0, -1), hit, 1, 2, scores=True)
    direct_answered = design.data[direct].notna().to_numpy()
    direct_hit = design.data[direct].isin(direct_levels).to_numpy().astype(int)
    direct_fit = _proportion_fit(design, np.where(direct_answered, 0, -1), direct_hit, 1, 2, scores=True)
    # prevalence = (lambda - p_forced_yes) / p_truth; direct share: linear in the fits' columns
    contrasts = np.array([[0.0, 1.0 / p_truth, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]])
    cov = contrasts @ joint_covariance(design, rr_fit, direct_fit) @ contrasts.T
    rr_estimate = (rr_fit.estimate[1] - p_forced_yes) / p_truth
    direct_estimate = direct_fit.estimate[1]
    t = stats.t.ppf(0.5 + level / 2, max(design.df, 1))

    def interval(estimate: float, variance: float) -> dict:
        se = float(np.sqrt(max(variance, 0)))
        return {
            "estimate": float(estimate),
            "se": se,
            "ci_low": float(estimate - t * se),
            "ci_high": float(estimate + t * se),
        }

    return {
        "randomized": {**interval(rr_estimate, cov[0, 0]), "observed_yes": float(rr_fit.estimate[1])},
        "direct": interval(direct_estimate, cov[1, 1]),
        "difference": interval(rr_estimate - direct_estimate, cov[0, 0] + cov[1, 1] - 2 * cov[0, 1]),
    }
