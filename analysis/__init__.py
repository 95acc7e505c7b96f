"""Candid's analysis package: design-based survey estimation on pandas, in the manner of R's ``survey``.

It never imports Django: it works on a DataFrame (from the app's bridge or an exported file).
"""

from .calibration import CalibrationReport, calibrate
from .compare import cronbach_alpha, difference
from .crosstab import Crosstab, crosstab
from .design import SurveyDesign, with_weights
from .estimates import mean, proportion, ratio, total
from .quantiles import quantile
from .regression import GLMResult, glm, regterm_test
from .resampling import as_replicate
from .sensitive import (
    compare_list_with_direct,
    compare_randomized_with_direct,
    list_experiment,
    list_experiment_design_test,
    randomized_response,
)
from .suppression import Release, Suppressed, disclose, suppress, suppress_estimates
from .weighting import RakeReport, poststratify, rake, read_margins

__all__ = [
    "CalibrationReport",
    "Crosstab",
    "GLMResult",
    "RakeReport",
    "Release",
    "Suppressed",
    "SurveyDesign",
    "as_replicate",
    "calibrate",
    "compare_list_with_direct",
    "compare_randomized_with_direct",
    "cronbach_alpha",
    "crosstab",
    "difference",
    "disclose",
    "glm",
    "list_experiment",
    "list_experiment_design_test",
    "mean",
    "poststratify",
    "proportion",
    "quantile",
    "rake",
    "randomized_response",
    "ratio",
    "read_margins",
    "regterm_test",
    "suppress",
    "suppress_estimates",
    "total",
    "with_weights",
]
