"""Candid's data model, one module per domain."""

from .questionnaires import (
    Choice,
    ChoiceList,
    Question,
    QuestionnaireVersion,
    QuestionType,
    Section,
    VersionStatus,
)
from .responses import ArmSequence, CounterKind, RateBucket, Response, ResponseStatus, StudyCounter
from .studies import ConsentText, Sample, Study, StudyMembership, StudyRole

__all__ = [
    "ArmSequence",
    "Choice",
    "ChoiceList",
    "ConsentText",
    "CounterKind",
    "Question",
    "QuestionType",
    "QuestionnaireVersion",
    "RateBucket",
    "Response",
    "ResponseStatus",
    "Sample",
    "Section",
    "Study",
    "StudyCounter",
    "StudyMembership",
    "StudyRole",
    "VersionStatus",
]
