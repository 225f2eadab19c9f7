"""Signing in at ASVS level 2 (issue 17): a lockout that never locks the owner out,
TOTP, the code by email past the ceiling, password changes, context words, the security
log."""

from __future__ import annotations

import logging
import re
import time

import pyotp
import pytest
from sqlalchemy import func, select

from onboarding.db import db
from onboarding.db.models import LoginFailure, RecoveryCode
from onboarding.db.outbox import OutboxMessage
from onboarding.services.people.accounts import (
    AccountError,
    context_words,
    password_problem,
    set_password,
)
from tests.factories import PASSWORD, csrf_of, login, post
from tests.security.conftest import code_form, enrol, events, next_code, user

ATTACKER = {"REMOTE_ADDR": "203.0.113.9"}
OWNER = {"REMOTE_ADDR": "198.51.100.20"}


# --- finding 1 and 7: a lockout that protects without locking out ---------------------------


def test_an_attacker_without_the_password_cannot_lock_an_admin_out(app, client, staff):
    """Finding 1: ten wrong passwords from one address, then the right one from another."""
    attacker = app.test_client()
    codes = [
        login(attacker, staff["admin"], "wrong guess", environ_base=ATTACKER).status_code
        for _ in range(11)
    ]
    assert codes == [401] * 10 + [429]  # that pair waits...
    owner = login(client, staff["admin"], environ_base=OWNER)
    assert owner.status_code == 302  # ... while the account stays open to its owner
    assert client.get("/workspace/").status_code == 200


def test_a_locked_pair_and_an_unknown_email_answer_alike(app, client, staff):
    """Finding 7: the limit answers the same for a real account and an unknown email."""
    real = [
        login(client, staff["manager"], "nope", environ_base=ATTACKER).status_code
        for _ in range(11)
    ]
    other = app.test_client()
    env = {"REMOTE_ADDR": "203.0.113.10"}
    unknown = [
        login(other, "nobody@example.com", "nope", environ_base=env).status_code for _ in range(11)
    ]
    assert real == unknown == [401] * 10 + [429]
    with app.app_context():
        counted = db.session.execute(
            select(func.count())
            .select_from(LoginFailure)
            .where(LoginFailure.email == "nobody@example.com")
        ).scalar_one()
    assert counted == 10  # unknown emails are counted the same way


def test_one_address_trying_many_emails_waits(app, client, staff):
    app.config["LOGIN_ADDRESS_LIMIT"] = "5 per 15 minutes"
    try:
        codes = [
            login(client, f"guess{i}@example.com", "x", environ_base=ATTACKER).status_code
            for i in range(6)
        ]
    finally:
        app.config["LOGIN_ADDRESS_LIMIT"] = "30 per 15 minutes"
    assert codes == [401] * 5 + [429]


def test_failures_never_sleep_in_a_worker(app, client, staff):
    started = time.monotonic()
    for _ in range(5):
        login(client, staff["manager"], "wrong", environ_base=ATTACKER)
    assert time.monotonic() - started < 5  # scrypt in tests is fast; no 0.5 s sleeps


def test_past_the_ceiling_the_owner_gets_in_with_a_code_by_email(app, client, staff):
    app.config["LOGIN_ACCOUNT_CEILING"] = "5 per hour"
    try:
        for i in range(6):  # from many addresses: each pair stays under its limit
            env = {"REMOTE_ADDR": f"192.0.2.{i}"}
            assert login(client, staff["manager"], "bad", environ_base=env).status_code == 401
        asked = login(client, staff["manager"], environ_base=OWNER)
        assert asked.status_code == 302 and asked.headers["Location"] == "/login/code"
        assert client.get("/workspace/").status_code == 302  # not signed in yet
        with app.app_context():
            message = db.session.execute(
                select(OutboxMessage).where(OutboxMessage.kind == "signin_code")
            ).scalar_one()
            assert message.to_address == staff["manager"]
            code = re.search(r"^(\d{6})$", message.text, re.M).group(1)
        wrong = code_form(client, "000000" if code != "000000" else "111111", environ_base=OWNER)
        assert wrong.status_code == 401 and "not right" in wrong.text
        done = code_form(client, code, environ_base=OWNER)
        assert done.status_code == 302
        page = client.get("/workspace/")
        assert page.status_code == 200
        # The owner is told of the failed attempts since their last sign-in.
        assert "failed sign-in attempts to your account" in page.text
    finally:
        app.config["LOGIN_ACCOUNT_CEILING"] = "50 per hour"
    assert [e.detail for e in events(app, "signin")] == ["with an emailed code"]


def test_an_emailed_code_works_once_and_five_wrong_tries_void_it(app, staff):
    from onboarding.services.people import signin
    from onboarding.services.people.accounts import user_by_email

    with app.app_context():
        person = user_by_email(staff["manager"])
        limits = signin.Limits.from_config(app.config)
        code = signin.issue_email_code(person, limits)
        assert signin.check_email_code(person, code)
        assert not signin.check_email_code(person, code)  # used up
        code = signin.issue_email_code(person, limits)
        for _ in range(5):
            assert not signin.check_email_code(person, "999999" if code != "999999" else "0")
        assert not signin.check_email_code(person, code)  # void after five wrong tries
        db.session.rollback()


def test_old_setting_names_are_still_read(database_url, tmp_path):
    from tests.factories import make_app

    app = make_app(
        database_url,
        str(tmp_path),
        LOGIN_LIMIT="7 per minute",
        ACCOUNT_LOCK_ATTEMPTS=12,
        ACCOUNT_LOCK_MINUTES=20,
    )
    assert app.config["LOGIN_ADDRESS_LIMIT"] == "7 per minute"
    assert app.config["LOGIN_ACCOUNT_CEILING"] == "12 per 20 minutes"
    with app.app_context():
        db.engine.dispose()


def test_a_bad_limit_setting_stops_the_app_naming_it(database_url, tmp_path):
    from tests.factories import make_app

    with pytest.raises(ValueError, match="LOGIN_PAIR_LIMIT"):
        make_app(database_url, str(tmp_path), LOGIN_PAIR_LIMIT="often")
    with pytest.raises(ValueError, match="STAFF_MFA"):
        make_app(database_url, str(tmp_path), STAFF_MFA="sometimes")


# --- TOTP ------------------------------------------------------------------------------------


def test_an_admin_must_set_up_totp_and_then_signs_in_with_password_and_code(
    app,
    client,
    staff,
    mfa_policy,
):
    mfa_policy("admins")
    first = login(client, staff["admin"])
    assert first.headers["Location"] == "/workspace/account/mfa"
    # Until it is set up, no other page opens.
    blocked = client.get("/workspace/users")
    assert blocked.status_code == 302 and blocked.headers["Location"] == "/workspace/account/mfa"
    secret = enrol(app, client)
    assert client.get("/workspace/users").status_code == 200
    post(client, "/logout")

    asked = login(client, staff["admin"])
    assert asked.headers["Location"] == "/login/code"
    assert client.get("/workspace/").status_code == 302
    bad = code_form(client, "123456")
    assert bad.status_code == 401 and "not right" in bad.text
    good = code_form(client, next_code(secret))
    assert good.status_code == 302 and good.headers["Location"] == "/workspace/"
    assert client.get("/workspace/users").status_code == 200
    kinds = [e.kind for e in events(app)]
    assert "mfa_enrolled" in kinds and kinds.count("signin") == 2
    # Managers are not required to under STAFF_MFA=admins.
    other = app.test_client()
    assert login(other, staff["manager"]).headers["Location"] == "/workspace/"


def test_a_totp_code_is_accepted_once(app, client, staff, mfa_policy):
    mfa_policy("all")
    login(client, staff["manager"])
    secret = enrol(app, client)
    post(client, "/logout")
    code = next_code(secret)
    login(client, staff["manager"])
    assert code_form(client, code).status_code == 302
    post(client, "/logout")
    login(client, staff["manager"])
    assert code_form(client, code).status_code == 401  # replayed


def test_a_recovery_code_signs_in_once(app, client, staff, mfa_policy):
    mfa_policy("admins")
    login(client, staff["admin"])
    page = client.get("/workspace/account/mfa")
    secret = re.search(r'id="mfa-secret">([A-Z2-7 ]+)<', page.text).group(1).replace(" ", "")
    shown = client.post(
        "/workspace/account/mfa",
        data={
            "code": pyotp.TOTP(secret).now(),
            "password": PASSWORD,
            "csrf_token": csrf_of(page.text),
        },
    )
    codes = re.findall(r"<code>([a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4})</code>", shown.text)
    assert len(codes) == 10
    with app.app_context():
        stored = [r.code_hash for r in db.session.execute(select(RecoveryCode)).scalars()]
    assert len(stored) == 10 and not set(codes) & set(stored)  # only hashes are kept
    post(client, "/logout")
    login(client, staff["admin"])
    assert code_form(client, codes[0].upper()).status_code == 302
    post(client, "/logout")
    login(client, staff["admin"])
    assert code_form(client, codes[0]).status_code == 401
    assert [e.detail for e in events(app, "recovery_code_used")] == ["9 left"]


def test_a_wrong_enrolment_code_names_the_field(app, client, staff, mfa_policy):
    mfa_policy("admins")
    login(client, staff["admin"])
    page = client.get("/workspace/account/mfa")
    bad = client.post(
        "/workspace/account/mfa",
        data={"code": "12", "password": PASSWORD, "csrf_token": csrf_of(page.text)},
    )
    assert bad.status_code == 422 and 'href="#mfa-code"' in bad.text
    assert user(app, staff["admin"]).totp_secret is None


def test_an_admin_resets_a_lost_authenticator(app, client, staff, mfa_policy):
    mfa_policy("all")
    phone = app.test_client()
    login(phone, staff["manager"])
    enrol(app, phone)
    assert phone.get("/workspace/").status_code == 200
    admin = app.test_client()
    login(admin, staff["admin"])
    secret = enrol(app, admin)
    del secret
    manager_id = user(app, staff["manager"]).id
    reset = post(admin, f"/workspace/users/{manager_id}/mfa-reset", {}, "/workspace/users")
    assert reset.status_code == 302
    assert user(app, staff["manager"]).totp_secret is None
    assert phone.get("/workspace/").status_code == 302  # their sessions ended
    assert [e.subject for e in events(app, "mfa_reset")] == [staff["manager"]]


# --- passwords ---------------------------------------------------------------------------------


def test_staff_change_their_own_password_giving_the_current_one(app, client, staff):
    other = app.test_client()
    login(other, staff["manager"])
    login(client, staff["manager"])
    page = client.get("/workspace/account")
    assert 'id="current_password"' in page.text and 'name="notices"' in page.text

    def change(current, new, confirm=None):
        token = csrf_of(client.get("/workspace/account").text)
        return client.post(
            "/workspace/account/password",
            data={
                "current_password": current,
                "new_password": new,
                "confirm_password": new if confirm is None else confirm,
                "csrf_token": token,
            },
        )

    wrong = change("not it", "violet kettle orbit 7")
    assert wrong.status_code == 422 and 'href="#current_password"' in wrong.text
    mismatch = change(PASSWORD, "violet kettle orbit 7", "violet kettle orbit 8")
    assert mismatch.status_code == 422 and 'href="#confirm_password"' in mismatch.text
    weak = change(PASSWORD, "Brightline Studio 2027")
    assert weak.status_code == 422 and 'href="#new_password"' in weak.text
    assert "agency" in weak.text
    done = change(PASSWORD, "violet kettle orbit 7")
    assert done.status_code == 302
    assert client.get("/workspace/").status_code == 200  # this session goes on
    assert other.get("/workspace/").status_code == 302  # every other one ended
    post(client, "/logout")
    assert login(client, staff["manager"], "violet kettle orbit 7").status_code == 302
    assert [e.kind for e in events(app, "password_changed")] == ["password_changed"]


def test_context_words_are_refused():
    words = context_words("max.power@agency.example", {"AGENCY_NAME": "Brightline Studio"})
    assert {"max.power@agency.example", "power", "brightline", "brightlinestudio"} <= set(words)
    assert "onboarding" in words
    for password in (
        "max.power@agency.example",
        "Brightline rocks 2027",
        "my onboarding pass",
        "POWER-ranger-42",
    ):
        assert "must not contain" in password_problem(password, words), password
    assert password_problem("violet kettle orbit 7", words) is None


def test_an_admin_reset_refuses_the_users_email_and_is_audited(app, staff):
    from onboarding.services.people.accounts import user_by_email

    with app.app_context():
        person = user_by_email(staff["manager"])
        with pytest.raises(AccountError):
            set_password(person, "manager@example.com", settings=app.config)
        set_password(
            person,
            "violet kettle orbit 7",
            settings=app.config,
            actor=user_by_email(staff["admin"]),
            address="192.0.2.1",
        )
        db.session.commit()
    (event,) = events(app, "password_reset")
    assert (event.actor, event.subject, event.address) == (
        staff["admin"],
        staff["manager"],
        "192.0.2.1",
    )


# --- finding 2: the security log ---------------------------------------------------------------


def test_security_events_are_recorded_logged_and_exported(app, client, staff, caplog):
    caplog.set_level(logging.INFO, logger="onboarding.security")
    login(client, staff["admin"], environ_base=OWNER)
    created = post(
        client,
        "/workspace/users",
        {"email": "boss@example.com", "role": "admin", "password": "violet kettle orbit 7"},
        "/workspace/users",
    )
    assert created.status_code == 200
    boss = user(app, "boss@example.com")
    post(client, f"/workspace/users/{boss.id}/password", {"password": "amber lantern quay 3"},
         "/workspace/users")  # fmt: skip
    post(client, f"/workspace/users/{boss.id}/active", {"active": "0"}, "/workspace/users")
    post(client, "/workspace/api", {"name": "Website"}, "/workspace/api")
    with app.app_context():
        from onboarding.db.models import ApiToken

        token_id = db.session.execute(select(ApiToken.id)).scalar_one()
    post(client, "/workspace/api/revoke", {"token_id": str(token_id)}, "/workspace/api")
    post(
        client,
        f"/workspace/users/{boss.id}/signing",
        {"name": "Bo Boss", "title": "Director", "can_sign": "1"},
        "/workspace/users",
    )
    kinds = [e.kind for e in events(app)]
    for kind in (
        "signin",
        "user_created",
        "password_reset",
        "user_disabled",
        "api_token_created",
        "api_token_revoked",
        "signing_rights",
    ):
        assert kind in kinds, kind
    created_event = events(app, "user_created")[-1]
    assert created_event.actor == staff["admin"] and created_event.address == "127.0.0.1"
    assert events(app, "signin")[0].address == OWNER["REMOTE_ADDR"]
    assert "role admin" in created_event.detail
    lines = [r.getMessage() for r in caplog.records if r.name == "onboarding.security"]
    assert any(line.startswith("security: user_disabled by admin@example.com") for line in lines)

    page = client.get("/workspace/security")
    assert page.status_code == 200 and "User disabled" in page.text
    export = client.get("/workspace/security.csv")
    assert export.mimetype == "text/csv"
    assert export.text.splitlines()[0] == "at,kind,event,actor,subject,address,detail"
    assert "user_disabled" in export.text and "boss@example.com" in export.text
    # Managers cannot read it.
    other = app.test_client()
    login(other, staff["manager"])
    assert other.get("/workspace/security").status_code == 403
    assert other.get("/workspace/security.csv").status_code == 403


def test_webhook_changes_and_command_line_users_are_recorded(app, client, staff):
    from onboarding.cli import main

    app.config["WEBHOOK_ALLOW_PRIVATE"] = True
    try:
        login(client, staff["admin"])
        post(
            client,
            "/workspace/webhooks",
            {"url": "http://127.0.0.1:9/hook", "events": "intake.submitted"},
            "/workspace/webhooks",
        )
        with app.app_context():
            from onboarding.db.models import WebhookEndpoint

            endpoint_id = db.session.execute(select(WebhookEndpoint.id)).scalar_one()
        for action in ("disable", "roll", "delete"):
            post(
                client,
                "/workspace/webhooks/endpoint",
                {"endpoint_id": str(endpoint_id), "action": action},
                "/workspace/webhooks",
            )
    finally:
        app.config["WEBHOOK_ALLOW_PRIVATE"] = False
    result = app.test_cli_runner().invoke(
        main, ["create-user", "ops@example.com", "--role", "admin", "--generate"]
    )
    assert result.exit_code == 0, result.output
    kinds = [e.kind for e in events(app)]
    assert kinds.count("webhook_added") == 1 and kinds.count("webhook_changed") == 2
    assert "webhook_removed" in kinds
    cli_event = events(app, "user_created")[-1]
    assert cli_event.actor is None and "command line" in cli_event.detail
