"""Staff sign-in resists password guessing, per account and across accounts, without ever locking a
member of staff out of their own browser; production hashes passwords with Argon2."""

import pytest
from django.conf import settings
from django.test import Client

from survey import auth
from survey.models import SignInFailures

pytestmark = pytest.mark.django_db

WRONG = "Please enter the correct username"
LOCKED = "Too many failed sign-ins"
PAUSED = "Sign-in is paused"


def sign_in(client: Client, username: str, password: str):
    return client.post("/admin/login/", {"username": username, "password": password})


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_repeated_failures_lock_the_account_for_a_while(client, make_user):
    make_user("researcher", None)
    for _ in range(5):
        page = sign_in(client, "researcher", "wrong")
        assert page.status_code == 200 and WRONG in page.content.decode()
    locked = sign_in(client, "researcher", "pw-researcher")
    assert LOCKED in locked.content.decode()
    assert not signed_in(client)


def test_a_correct_password_signs_in_before_the_limit(client, make_user):
    make_user("analyst", None)
    sign_in(client, "analyst", "wrong")
    page = sign_in(client, "analyst", "pw-analyst")
    assert page.status_code == 302 and signed_in(client)


@pytest.mark.parametrize("variant", ["ｖｉｃｔｉｍ", "VICTIM", " victim ", "ᵛictim"])
def test_the_lock_holds_for_every_form_of_the_username_that_signs_in(client, make_user, variant):
    """Authentication applies NFKC to the username (``ｖｉctim`` signs in as ``victim``): so does the lock."""
    make_user("victim", None)
    for _ in range(5):
        sign_in(client, variant, "wrong")
    page = sign_in(Client(), "victim", "pw-victim")
    assert LOCKED in page.content.decode()
    for _ in range(5):
        sign_in(client, "victim", "wrong")
    assert LOCKED in sign_in(Client(), variant, "pw-victim").content.decode()


def test_password_spraying_pauses_untrusted_sign_in_but_not_staff_on_their_own_browser(make_user):
    make_user("alice", None)
    make_user("bob", None)
    own_browser = Client()
    assert sign_in(own_browser, "alice", "pw-alice").status_code == 302  # earlier, on her own browser
    own_browser.post("/admin/logout/")  # signing out keeps the device cookie, as in a browser
    attacker = Client()
    for n in range(settings.CANDID_SIGNIN_SPRAY_LIMIT):
        sign_in(attacker, f"guess{n}", "Winter2025!")
    assert PAUSED in sign_in(Client(), "bob", "pw-bob").content.decode()  # a new browser waits
    assert sign_in(own_browser, "alice", "pw-alice").status_code == 302 and signed_in(own_browser)


def test_a_stranger_cannot_lock_staff_out_of_their_own_browser(make_user):
    make_user("carol", None)
    own_browser = Client()
    sign_in(own_browser, "carol", "pw-carol")
    own_browser.post("/admin/logout/")  # signing out keeps the device cookie, as in a browser
    attacker = Client()
    for _ in range(20):
        sign_in(attacker, "carol", "guess")
    assert LOCKED in sign_in(attacker, "carol", "pw-carol").content.decode()
    assert sign_in(own_browser, "carol", "pw-carol").status_code == 302


def test_failures_through_a_device_cookie_lock_that_browser_alone(make_user):
    """Guessing from a trusted browser (a shared computer) is limited like any other: the device
    is locked after the same number of failures, and the account stays open elsewhere."""
    make_user("carol", None)
    cookie_holder = Client()
    sign_in(cookie_holder, "carol", "pw-carol")
    cookie_holder.post("/admin/logout/")
    for _ in range(5):
        sign_in(cookie_holder, "carol", "guess")
    assert LOCKED in sign_in(cookie_holder, "carol", "pw-carol").content.decode()
    assert sign_in(Client(), "carol", "pw-carol").status_code == 302


def test_a_new_password_ends_the_device_cookies_issued_before(make_user):
    """Someone who once had the password keeps no exempt guesses through the cookies it earned."""
    user = make_user("dave", None)
    old_browser = Client()
    sign_in(old_browser, "dave", "pw-dave")
    old_browser.post("/admin/logout/")
    user.set_password("A-new-long-pass-2026")
    user.save()
    for _ in range(5):
        sign_in(old_browser, "dave", "guess")  # counted against the account, not the old device
    assert LOCKED in sign_in(Client(), "dave", "A-new-long-pass-2026").content.decode()


def test_a_device_cookie_is_bound_to_the_account_not_its_folded_name(make_user):
    """Django allows ``Carol`` beside ``carol``: a browser trusted for one is nothing to the other."""
    make_user("Carol", None)
    make_user("carol", None)
    carols_browser = Client()
    assert sign_in(carols_browser, "Carol", "pw-Carol").status_code == 302
    carols_browser.post("/admin/logout/")
    for _ in range(5):
        sign_in(Client(), "carol", "guess")  # carol is locked
    page = sign_in(carols_browser, "carol", "pw-carol")
    assert LOCKED in page.content.decode() and not signed_in(carols_browser)
    SignInFailures.objects.all().delete()
    for _ in range(5):  # guesses at carol through Carol's cookie count against carol
        sign_in(carols_browser, "carol", "guess")
    assert LOCKED in sign_in(Client(), "carol", "pw-carol").content.decode()
    SignInFailures.objects.all().delete()  # the lock lifted, as signin_unlock would
    for n in range(settings.CANDID_SIGNIN_SPRAY_LIMIT):
        sign_in(Client(), f"guess{n}", "Winter2025!")
    assert PAUSED in sign_in(carols_browser, "carol", "pw-carol").content.decode()  # not her device
    assert sign_in(carols_browser, "Carol", "pw-Carol").status_code == 302  # his device


def change_password(client: Client, old: str):
    return client.post(
        "/admin/password_change/",
        {
            "old_password": old,
            "new_password1": "A-new-long-pass-2026",
            "new_password2": "A-new-long-pass-2026",
        },
    )


def test_wrong_old_passwords_on_the_password_change_page_lock_the_account(make_user):
    """A borrowed session is no unlimited password oracle: the old password is guessed at most as often
    as at sign-in, and a locked account cannot change its password."""
    make_user("grace", None)
    session = Client()
    sign_in(session, "grace", "pw-grace")
    for _ in range(5):
        page = change_password(session, "guess")
        assert page.status_code == 200 and "password was entered incorrectly" in page.content.decode()
    page = change_password(session, "pw-grace")
    assert page.status_code == 200 and LOCKED in page.content.decode()
    assert LOCKED in sign_in(Client(), "grace", "pw-grace").content.decode()


def test_the_right_old_password_changes_it_before_the_limit(make_user):
    make_user("heidi", None)
    session = Client()
    sign_in(session, "heidi", "pw-heidi")
    change_password(session, "guess")
    assert change_password(session, "pw-heidi").status_code == 302
    assert sign_in(Client(), "heidi", "A-new-long-pass-2026").status_code == 302


def test_a_lock_ends_one_window_after_the_last_counted_failure_however_long_the_attack(
    make_user, monkeypatch
):
    make_user("dave", None)
    start = auth._now_minute()
    attacker = Client()
    for _ in range(5):
        sign_in(attacker, "dave", "guess")
    for minute in range(start, start + settings.CANDID_SIGNIN_WINDOW_MINUTES):  # still guessing, refused
        monkeypatch.setattr(auth, "_now_minute", lambda minute=minute: minute)
        assert LOCKED in sign_in(attacker, "dave", "guess").content.decode()
    monkeypatch.setattr(auth, "_now_minute", lambda: start + settings.CANDID_SIGNIN_WINDOW_MINUTES)
    assert sign_in(Client(), "dave", "pw-dave").status_code == 302


def test_what_is_stored_names_no_one(make_user):
    make_user("erin", None)
    for name in ("erin", "ｅｒｉｎ", "mallory"):
        sign_in(Client(REMOTE_ADDR="203.0.113.9", HTTP_USER_AGENT="ProbeAgent/1"), name, "wrong")
    stored = repr(list(SignInFailures.objects.values_list()))
    for trace in ("erin", "mallory", "203.0.113.9", "ProbeAgent"):
        assert trace not in stored
    assert SignInFailures.objects.filter(key=auth.account_key("erin")).get().count == 2


def test_signin_unlock_lifts_a_lock(make_user, call_command_capture):
    make_user("frank", None)
    for _ in range(5):
        sign_in(Client(), "frank", "wrong")
    assert "Name an account" in call_command_capture("signin_unlock")
    assert "account 'frank'" in call_command_capture("signin_unlock", "--username", "frank")
    assert sign_in(Client(), "frank", "pw-frank").status_code == 302


def test_production_hashes_with_argon2():
    from config.settings import base

    assert base.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    assert settings.PASSWORD_HASHERS  # tests use a fast hasher; base (and production) use Argon2
