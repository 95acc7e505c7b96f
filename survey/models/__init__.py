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
from .studies import ConsentText, Sample, Study, StudyMembership, StudyRole

__all__ = [
    "Choice",
    "ChoiceList",
    "ConsentText",
    "Question",
    "QuestionType",
    "QuestionnaireVersion",
    "Sample",
    "Section",
    "Study",
    "StudyMembership",
    "StudyRole",
    "VersionStatus",
]
