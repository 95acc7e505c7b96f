"""make test shares the tests that touch no database between its two passes (tests/conftest.py)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tests.conftest import pytest_collection_modifyitems, uses_database


def item(nodeid: str, *fixtures: str, marks: tuple[str, ...] = (), **kwargs: object) -> SimpleNamespace:
    """A collected test as the hook sees it; ``kwargs`` are its markers' arguments."""
    return SimpleNamespace(
        nodeid=nodeid,
        fixturenames=["_default_language", *fixtures],
        get_closest_marker=lambda name: SimpleNamespace(kwargs=kwargs) if name in marks else None,
    )


def selected(monkeypatch, items: list, **env: str) -> list[str]:
    for name in ("CANDID_DB_FREE_SHARE", "CANDID_DB_TESTS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    dropped = []
    config = SimpleNamespace(hook=SimpleNamespace(pytest_deselected=lambda items: dropped.extend(items)))
    given, items = len(items), list(items)
    pytest_collection_modifyitems(config, items)
    assert len(items) + len(dropped) == given
    return [i.nodeid for i in items]


everything = [
    *(item(f"tests/analysis/test_x.py::test_{n}") for n in range(40)),
    item("tests/survey/test_y.py::test_marked", marks=("django_db",)),
    item("tests/survey/test_y.py::test_fixture", "answered_study", "db"),
    item("tests/browser/test_z.py::test_page", "live_server"),
]
long_attack = item("tests/survey/test_y.py::test_attack", "db", marks=("django_db", "one_database"))
with_database = {
    "tests/survey/test_y.py::test_marked",
    "tests/survey/test_y.py::test_fixture",
    "tests/browser/test_z.py::test_page",
}


def test_database_tests_are_recognised():
    assert {i.nodeid for i in everything if uses_database(i)} == with_database


def test_the_two_shares_run_every_database_free_test_once(monkeypatch):
    first = set(selected(monkeypatch, everything, CANDID_DB_FREE_SHARE="0/2"))
    second = set(selected(monkeypatch, everything, CANDID_DB_FREE_SHARE="1/2"))
    assert first & second == with_database  # a database test runs in both passes
    assert first | second == {i.nodeid for i in everything}
    assert 10 < len(first - with_database) < 30  # a hash, not one side


def test_without_a_share_everything_runs_and_the_stand_in_has_no_database_test(monkeypatch):
    assert len(selected(monkeypatch, everything)) == len(everything)
    alone = set(selected(monkeypatch, everything, CANDID_DB_FREE_SHARE="1/2", CANDID_DB_TESTS="0"))
    assert alone and not alone & with_database


def test_a_real_test_without_the_database_is_database_free(request):
    assert not uses_database(request.node)


@pytest.mark.django_db
def test_a_real_test_marked_django_db_uses_the_database(request):
    assert uses_database(request.node)


def test_a_real_test_with_the_db_fixture_uses_the_database(request, db):
    assert uses_database(request.node)


def test_a_long_attack_runs_in_the_postgresql_share_only(monkeypatch):
    tests = [*everything, long_attack]
    first = selected(monkeypatch, tests, CANDID_DB_FREE_SHARE="0/2")
    second = selected(monkeypatch, tests, CANDID_DB_FREE_SHARE="1/2")
    alone = selected(monkeypatch, tests, CANDID_DB_FREE_SHARE="1/2", CANDID_DB_TESTS="0")
    assert long_attack.nodeid not in first
    assert long_attack.nodeid in second and long_attack.nodeid in alone
    assert long_attack.nodeid in selected(monkeypatch, tests)


def test_a_long_attack_can_name_the_sqlite_share(monkeypatch):
    """``one_database(share=0)`` runs in the SQLite pass instead, so the two passes take about as long."""
    moved = item("tests/survey/test_y.py::test_moved", "db", marks=("django_db", "one_database"), share=0)
    tests = [*everything, moved]
    assert moved.nodeid in selected(monkeypatch, tests, CANDID_DB_FREE_SHARE="0/2")
    assert moved.nodeid not in selected(monkeypatch, tests, CANDID_DB_FREE_SHARE="1/2")
    assert moved.nodeid in selected(monkeypatch, tests)
