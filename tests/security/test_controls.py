"""Security controls (OWASP ASVS 5.0 level 1 and the level-2 items we promise), one test each."""

from __future__ import annotations

import logging

import pytest

from onboarding.config import Config
from onboarding.db import db
from onboarding.db.models import new_token
from onboarding.services.people.accounts import AccountError, create_user, password_problem
from onboarding.web.workspace import auth
from tests.factories import PASSWORD, csrf_of, login, make_app, post
from tests.web.helpers import Prospect

CSP = "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"  # noqa: E501


def session_cookie(response):
    headers = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("session=")]
    assert headers, "no session cookie set"
    return headers[-1]


# --- cookies and sessions -------------------------------------------------------------


def test_session_cookie_is_httponly_and_samesite_lax(client):
    cookie = session_cookie(client.get("/start"))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain http in tests


def test_session_cookie_is_secure_on_https(database_url, tmp_path):
    import importlib
    import os

    import onboarding.config as config_module

    os.environ["PREFERRED_URL_SCHEME"] = "https"
    try:
        importlib.reload(config_module)
        assert config_module.Config.SESSION_COOKIE_SECURE is True
    finally:
        del os.environ["PREFERRED_URL_SCHEME"]
        importlib.reload(config_module)
    app = make_app(
        database_url, str(tmp_path), SESSION_COOKIE_SECURE=True, PREFERRED_URL_SCHEME="https"
    )
    response = app.test_client().get("/start", base_url="https://localhost")
    assert "Secure" in session_cookie(response)
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    with app.app_context():
        db.engine.dispose()


def test_the_session_is_renewed_at_login(client, staff):
    client.get("/login")
    before = client.get_cookie("session").value
    login(client, staff["manager"])
    after = client.get_cookie("session").value
    assert after != before
    stranger = client.application.test_client()
    stranger.set_cookie("session", before)
    assert stranger.get("/workspace/").status_code == 302  # the old session is not signed in


def test_logout_invalidates_every_copy_of_the_session(app, client, staff):
    login(client, staff["manager"])
    copy = client.get_cookie("session").value
    post(client, "/logout")
    thief = app.test_client()
    thief.set_cookie("session", copy)
    assert thief.get("/workspace/").status_code == 302


def test_an_idle_session_ends(client, staff, monkeypatch):
    login(client, staff["manager"])
    start = auth.now()
    monkeypatch.setattr(auth, "now", lambda: start + 29 * 60)
    assert client.get("/workspace/").status_code == 200  # still active: refreshes "seen"
    monkeypatch.setattr(auth, "now", lambda: start + 29 * 60 + 31 * 60)
    response = client.get("/workspace/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_session_ends_after_the_absolute_limit_even_when_active(client, staff, monkeypatch):
    login(client, staff["manager"])
    start = auth.now()
    for minutes in range(20, 12 * 60, 20):  # active every 20 minutes for 12 hours
        monkeypatch.setattr(auth, "now", lambda m=minutes: start + m * 60)
        assert client.get("/workspace/").status_code == 200
    monkeypatch.setattr(auth, "now", lambda: start + 12 * 3600 + 60)
    assert client.get("/workspace/").status_code == 302


# --- headers ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/start", "/login", "/no-such-page", "/static/app.css"])
def test_security_headers_on_every_response(client, path):
    with client.get(path) as response:
        headers = response.headers
    assert headers["Content-Security-Policy"] == CSP
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["X-Frame-Options"] == "DENY"
    assert "Strict-Transport-Security" not in headers  # only on https


# --- passwords ----------------------------------------------------------------------------


def test_password_rules():
    assert "at least 8" in password_problem("short1!")
    assert password_problem("x" * 64) is None and password_problem("x" * 128) is None
    assert "at most 128" in password_problem("x" * 129)
    assert "common" in password_problem("password123")
    assert "common" in password_problem("Iloveyou1")  # case does not help
    assert password_problem("violet kettle orbit 7") is None


def test_passwords_are_hashed_with_scrypt_above_asvs_minimum(app):
    assert Config.PASSWORD_HASH_METHOD == "scrypt:131072:8:1"  # N = 2^17
    with app.app_context():
        with pytest.raises(AccountError):
            create_user("weak@example.com", "manager", "qwertyuiop", settings=app.config)
        user, _ = create_user(
            "strong@example.com", "manager", "violet kettle orbit 7", settings=app.config
        )
        assert user.password_hash.startswith("scrypt:") and "violet" not in user.password_hash


# --- brute force, sizes, CSRF, tokens, logging ------------------------------------------------


def test_the_eleventh_failed_login_answers_429(client, staff):
    env = {"REMOTE_ADDR": "10.66.0.1"}
    codes = [login(client, staff["admin"], "nope", environ_base=env).status_code for _ in range(11)]
    assert codes[-1] == 429 and set(codes[:-1]) == {401}


def test_large_bodies_are_refused(client):
    assert client.post("/login", data={"email": "a" * 300_000}).status_code == 413


def test_every_state_change_is_a_post_with_csrf(app, client, staff, submitted):
    """A POST without a CSRF token changes nothing, on every route that takes POST."""
    login(client, staff["admin"])
    checked = 0
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods or rule.rule.startswith("/api/"):
            continue
        url = rule.rule
        for name, value in (
            ("<public_id>", submitted), ("<token>", "t" * 32), ("<section_id>", "about"),
            ("<action_id>", "a"), ("<int:invite_id>", "1"), ("<int:user_id>", "1"),
            ("<int:number>", "1"), ("<int:endpoint_id>", "1"), ("<int:token_id>", "1"),
            ("<int:delivery_id>", "1"),
        ):  # fmt: skip
            url = url.replace(name, value)
        response = client.post(url, data={"status": "in_review", "note": "x"})
        assert response.status_code in (400, 404, 422), (url, response.status_code)
        checked += 1
    assert checked >= 20
    from sqlalchemy import select

    from onboarding.db.models import Intake, Note

    with app.app_context():
        assert db.session.execute(select(Note)).first() is None
        assert db.session.execute(select(Intake)).scalar_one().status == "new"


def test_prospect_tokens_are_long_random_and_unique():
    tokens = {new_token() for _ in range(2000)}
    assert len(tokens) == 2000
    assert all(len(t) == 32 for t in tokens)  # 24 bytes = 192 bits, URL-safe base64


def test_another_intakes_token_is_a_404(client):
    mine = Prospect(client)
    mine.start()
    assert client.get(f"/intake/{mine.token[:-1]}A/step/about").status_code == 404


def test_authentication_and_authorisation_failures_are_logged(client, staff, caplog):
    caplog.set_level(logging.WARNING)
    login(client, staff["manager"], "wrong password")
    assert any("failed login" in r.getMessage() for r in caplog.records)
    login(client, staff["manager"])
    client.get("/workspace/users")
    assert any("forbidden" in r.getMessage() for r in caplog.records)


def test_failures_from_many_addresses_never_lock_the_owner_out(app, client, staff):
    """Issue 17 changed this deliberately: guesses spread over many addresses used to lock
    the account (anyone could lock anyone out); now the owner's right password from
    another address still opens it, and past the account's ceiling a second factor is
    asked as well (see tests/security/test_signin.py)."""
    for i in range(10):
        env = {"REMOTE_ADDR": f"10.77.0.{i}"}
        assert login(client, staff["manager"], "wrong", environ_base=env).status_code == 401
    ok = login(client, staff["manager"], environ_base={"REMOTE_ADDR": "10.77.1.1"})
    assert ok.status_code == 302 and ok.headers["Location"] == "/workspace/"


def test_a_next_with_control_characters_goes_to_the_dashboard(client, staff):
    page = client.get("/login")
    response = client.post(
        "/login?next=/%0d%0aX:1",
        data={"email": staff["manager"], "password": PASSWORD, "csrf_token": csrf_of(page.text)},
    )
    assert response.status_code == 302 and response.headers["Location"] == "/workspace/"


@pytest.mark.parametrize("path", ["/workspace/", "/intake/x", "/agreement/x", "/start"])
def test_pages_with_personal_data_are_not_cached(client, staff, path):
    login(client, staff["manager"])
    with client.get(path) as response:
        cache = response.headers.get("Cache-Control", "")
    assert ("no-store" in cache) == (path != "/start")


def test_an_unknown_host_is_refused_when_trusted_hosts_are_set(database_url, tmp_path):
    app = make_app(database_url, str(tmp_path), TRUSTED_HOSTS=["onboarding.agency.example"])
    good = app.test_client().get("/start", base_url="http://onboarding.agency.example")
    bad = app.test_client().get("/start", base_url="http://evil.example")
    assert good.status_code == 200 and bad.status_code == 400
    with app.app_context():
        db.engine.dispose()
