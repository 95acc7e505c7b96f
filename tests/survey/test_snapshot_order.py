"""Kept reports and results read back in the order they were built (PostgreSQL's jsonb sorts keys)."""

import pytest

from survey.models import ReportSnapshot, ResultsSnapshot

pytestmark = pytest.mark.django_db

# Keys a jsonb column would reorder (shorter keys first): the order a report was built in.
BUILT = {"samples": {"west": 15, "china": 15}, "panels": {"urban_rural": [], "age": [], "education": []}}


def test_report_and_results_snapshots_keep_key_order(answered_study):
    ReportSnapshot.objects.create(study=answered_study, weighted=False, revision="r", data=BUILT)
    ResultsSnapshot.objects.create(study=answered_study, key="k", revision="r", payload=BUILT)
    data = ReportSnapshot.objects.get(study=answered_study).data
    payload = ResultsSnapshot.objects.get(study=answered_study).payload
    for stored in (data, payload):
        assert stored == BUILT
        assert list(stored["samples"]) == ["west", "china"]
        assert list(stored["panels"]) == ["urban_rural", "age", "education"]
