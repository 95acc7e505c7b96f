"""Column names shared by the app's bridge, the exports and the analysis: defined once, here.

One row per complete response; one column per variable. A single choice holds its choice code, a
multiple choice one 0/1 column per choice (``code__choice``), a ranking one column per rank
(``code__rank1`` ...) holding the choice code ranked there, a list experiment its count (``code``)
and arm (``code__arm``). Besides the answers, each row records its sample, languages and versions,
and what the participant was shown (seed, page order, option orders, reversed scales, and the
variables relevance hid: ``display_not_shown``).
"""

from __future__ import annotations

RESPONSE_ID = "response_id"
SAMPLE = "sample"
LANGUAGE = "language"
QUESTIONNAIRE_VERSION = "questionnaire_version"
CONSENT_VERSION = "consent_version"
COMPLETED_ON = "completed_on"
DURATION = "duration_seconds"
SYNTHETIC = "synthetic"
SEED = "display_seed"
PAGE_ORDER = "display_page_order"
NOT_SHOWN = "display_not_shown"

META_COLUMNS = (
    RESPONSE_ID,
    SAMPLE,
    LANGUAGE,
    QUESTIONNAIRE_VERSION,
    CONSENT_VERSION,
    COMPLETED_ON,
    DURATION,
    SYNTHETIC,
    SEED,
    PAGE_ORDER,
    NOT_SHOWN,
)

CHOICE_SEPARATOR = "__"
QUALITY_PREFIX = "quality_"


def choice_column(code: str, choice: str) -> str:
    """0/1 column of a multiple-choice option."""
    return f"{code}{CHOICE_SEPARATOR}{choice}"


def rank_column(code: str, rank: int) -> str:
    """The choice ranked ``rank`` (1 = first) in a ranking question."""
    return f"{code}{CHOICE_SEPARATOR}rank{rank}"


def arm_column(code: str) -> str:
    """``control`` or ``treatment``: the list a list-experiment participant saw."""
    return f"{code}{CHOICE_SEPARATOR}arm"


def order_column(code: str) -> str:
    """The option (or row) order shown for a randomised question, space-separated."""
    return f"{code}{CHOICE_SEPARATOR}order"


def reversed_column(code: str) -> str:
    """1 when the question's scale was shown reversed."""
    return f"{code}{CHOICE_SEPARATOR}reversed"


def quality_column(flag: str) -> str:
    """0/1 column of a data-quality flag in an export (``quality_speeding``, ``quality_flagged``)."""
    return f"{QUALITY_PREFIX}{flag}"
