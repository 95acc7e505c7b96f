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
from .staff import AuditEvent, ExportJob, ExportRemoval, ExportStatus, ReportSnapshot, ReportStatus
from .studies import ConsentText, Sample, Study, StudyMembership, StudyRole

__all__ = [
    "ArmSequence",
    "AuditEvent",
    "Choice",
    "ChoiceList",
    "ConsentText",
    "CounterKind",
    "ExportJob",
    "ExportRemoval",
    "ExportStatus",
    "Question",
    "QuestionType",
    "QuestionnaireVersion",
    "RateBucket",
    "ReportSnapshot",
    "ReportStatus",
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
