"""Candid's data model, one module per domain."""

from .claims import ClaimsRegistry
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
from .responses import (
    ArmSequence,
    CounterKind,
    PendingResponse,
    RateBucket,
    ReleaseBatch,
    Response,
    ResponseStatus,
    StudyCounter,
)
from .staff import (
    AuditEvent,
    DisclosureLedger,
    DisclosureRecord,
    ExportJob,
    ExportRemoval,
    ExportStatus,
    ReportSnapshot,
    ReportStatus,
    ResultsSnapshot,
    SignInFailures,
    WeightingTargets,
)
from .studies import ConsentText, Sample, Study, StudyMembership, StudyRole
from .testruns import TestRun

__all__ = [
    "ArmSequence",
    "AuditEvent",
    "Choice",
    "ChoiceList",
    "ClaimsRegistry",
    "ConsentText",
    "CounterKind",
    "DisclosureLedger",
    "DisclosureRecord",
    "ExportJob",
    "ExportRemoval",
    "ExportStatus",
    "FieldworkCount",
    "FieldworkKind",
    "PendingResponse",
    "Question",
    "QuestionType",
    "QuestionnaireVersion",
    "Quota",
    "RateBucket",
    "ReleaseBatch",
    "ReportSnapshot",
    "ReportStatus",
    "Response",
    "ResponseStatus",
    "ResultsSnapshot",
    "Sample",
    "Section",
    "SignInFailures",
    "Study",
    "StudyCounter",
    "StudyMembership",
    "StudyRole",
    "TestRun",
    "VersionStatus",
    "WeightingTargets",
]
