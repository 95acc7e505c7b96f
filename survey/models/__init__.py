"""Candid's data model, one module per domain."""

from .fieldwork import FieldworkCount, FieldworkKind, Quota
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
from .staff import (
    AuditEvent,
    ExportJob,
    ExportRemoval,
    ExportStatus,
    ReportSnapshot,
    ReportStatus,
    SignInFailures,
)
from .studies import ConsentText, Sample, Study, StudyMembership, StudyRole
from .testruns import TestRun

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
    "FieldworkCount",
    "FieldworkKind",
    "Question",
    "QuestionType",
    "QuestionnaireVersion",
    "Quota",
    "RateBucket",
    "ReportSnapshot",
    "ReportStatus",
    "Response",
    "ResponseStatus",
    "Sample",
    "Section",
    "SignInFailures",
    "Study",
    "StudyCounter",
    "StudyMembership",
    "StudyRole",
    "TestRun",
    "VersionStatus",
]
