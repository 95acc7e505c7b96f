"""Staff sign-in resists password guessing; production hashes passwords with Argon2."""

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db


def test_repeated_failures_lock_the_account_for_a_while(client, make_user):
    make_user("researcher", None)
    for _ in range(5):
        page = client.post("/admin/login/", {"username": "researcher", "password": "wrong"})
        assert page.status_code == 200 and "Please enter the correct username" in page.content.decode()
    locked = client.post("/admin/login/", {"username": "researcher", "password": "pw-researcher"})
    assert "Too many failed sign-ins" in locked.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_correct_password_signs_in_before_the_limit(client, make_user):
    make_user("analyst", None)
    client.post("/admin/login/", {"username": "analyst", "password": "wrong"})
    page = client.post("/admin/login/", {"username": "analyst", "password": "pw-analyst"})
    assert page.status_code == 302 and "_auth_user_id" in client.session


def test_production_hashes_with_argon2():
    from config.settings import base

    assert base.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    assert settings.PASSWORD_HASHERS  # tests use a fast hasher; base (and production) use Argon2
