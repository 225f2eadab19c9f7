"""Issue 27's account findings, as the probe tried them: a stolen session cannot change
its own credentials (step-up), and second-factor guesses have an account-wide ceiling."""

from __future__ import annotations

import re
import time

import pyotp
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy import select

from onboarding.db import db
from onboarding.db.models import User
from onboarding.db.outbox import OutboxMessage
from tests.conftest import csrf_of
from tests.factories import PASSWORD, login, post
from tests.security.conftest import code_form, enrol, events, next_code, user

ATTACKER = "attacker@example.com"


def mails(app, kind: str) -> list[OutboxMessage]:
    with app.app_context():
        rows = list(
            db.session.execute(
                select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)
            ).scalars()
        )
        for row in rows:
            db.session.expunge(row)
        return rows


def fresh_code(app, email: str, secret: str) -> str:
    """A current code the account has not used (a code is taken once, and a test runs
    within one or two 30-second steps)."""
    with app.app_context():
        row = db.session.execute(select(User).where(User.email == email)).scalar_one()
        row.totp_last_step = None
        db.session.commit()
    return pyotp.TOTP(secret).now()


def cookie_session(app, client) -> dict:
    """What the signed (not encrypted) session cookie carries."""
    cookie = client.get_cookie("session")
    return SecureCookieSessionInterface().get_signing_serializer(app).loads(cookie.value)


# --- step-up: a session alone cannot change its own credentials ------------------------------


def test_an_admin_cannot_reset_their_own_factor_or_password_on_the_users_page(
    app,
    client,
    staff,  # noqa: F811
    mfa_policy,  # noqa: F811
):
    mfa_policy("admins")
    login(client, staff["admin"])
    secret = enrol(app, client)
    admin = user(app, staff["admin"])
    reset = post(client, f"/workspace/users/{admin.id}/mfa-reset", {}, "/workspace/users")
    assert reset.status_code == 302
    assert "on Your account" in client.get("/workspace/users").text
    assert user(app, staff["admin"]).totp_secret == secret  # the factor stays
    changed = post(
        client,
        f"/workspace/users/{admin.id}/password",
        {"password": "amber lantern quay 3"},
        "/workspace/users",
    )
    assert changed.status_code == 302
    assert user(app, staff["admin"]).password_hash == admin.password_hash
    assert not events(app, "password_reset") and not events(app, "mfa_reset")


def test_enrolling_needs_the_password_and_the_secret_is_not_in_the_cookie(
    app,
    client,
    staff,  # noqa: F811
):
    login(client, staff["manager"])
    page = client.get("/workspace/account/mfa")
    secret = re.search(r'id="mfa-secret">([A-Z2-7 ]+)<', page.text).group(1).replace(" ", "")
    assert secret not in repr(cookie_session(app, client))
    # The probe: a session alone enrols the attacker's authenticator.
    stolen = client.post(
        "/workspace/account/mfa",
        data={"code": pyotp.TOTP(secret).now(), "csrf_token": csrf_of(page.text)},
    )
    assert stolen.status_code == 422 and 'href="#mfa-password"' in stolen.text
    assert user(app, staff["manager"]).totp_secret is None
    assert not mails(app, "account_changed")


def test_setting_up_a_factor_ends_other_sessions_and_emails_the_owner(app, staff):  # noqa: F811
    other, client = app.test_client(), app.test_client()
    login(other, staff["manager"])
    login(client, staff["manager"])
    enrol(app, client)
    assert client.get("/workspace/").status_code == 200  # this session goes on
    assert other.get("/workspace/").status_code == 302  # the other one ended
    (message,) = mails(app, "account_changed")
    assert message.to_address == staff["manager"]
    assert "An authenticator app was set up" in message.text


def test_with_a_factor_every_change_needs_the_password_and_a_code(app, client, staff):  # noqa: F811
    login(client, staff["manager"])
    secret = enrol(app, client)
    other = app.test_client()
    login(other, staff["manager"])
    code_form(other, next_code(secret))
    assert other.get("/workspace/").status_code == 200

    def change_password(**extra):
        token = csrf_of(client.get("/workspace/account").text)
        data = {"current_password": PASSWORD, "new_password": "violet kettle orbit 7"}
        data |= {"confirm_password": "violet kettle orbit 7", "csrf_token": token, **extra}
        return client.post("/workspace/account/password", data=data)

    no_code = change_password()
    assert no_code.status_code == 422 and 'href="#code"' in no_code.text
    renew = post(client, "/workspace/account/mfa/recovery", {"code": pyotp.TOTP(secret).now()})
    assert renew.status_code == 422 and 'href="#recovery-password"' in renew.text
    remove = post(client, "/workspace/account/mfa/remove", {"password": PASSWORD})
    assert remove.status_code == 422 and 'href="#remove-code"' in remove.text
    assert user(app, staff["manager"]).has_totp
    assert other.get("/workspace/").status_code == 200  # nothing changed: nothing ended

    code = fresh_code(app, staff["manager"], secret)
    done = post(client, "/workspace/account/mfa/remove", {"password": PASSWORD, "code": code})
    assert done.status_code == 302
    assert not user(app, staff["manager"]).has_totp
    assert client.get("/workspace/").status_code == 200
    assert other.get("/workspace/").status_code == 302  # removing it ended the other one
    texts = [m.text for m in mails(app, "account_changed")]
    assert any("authenticator app was removed" in t for t in texts)


def test_a_password_change_emails_the_owner(app, client, staff):  # noqa: F811
    login(client, staff["manager"])
    token = csrf_of(client.get("/workspace/account").text)
    done = client.post(
        "/workspace/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": "violet kettle orbit 7",
            "confirm_password": "violet kettle orbit 7",
            "csrf_token": token,
        },
    )
    assert done.status_code == 302
    (message,) = mails(app, "account_changed")
    assert message.to_address == staff["manager"] and "password was changed" in message.text


# --- the account-wide ceiling on second-factor codes -----------------------------------------


def enrolled_manager(app, staff) -> str:  # noqa: F811
    client = app.test_client()
    login(client, staff["manager"])
    return enrol(app, client)


def wrong(secret: str) -> str:
    right = {pyotp.TOTP(secret).at(time.time() + d) for d in (-30, 0, 30, 60)}
    return next(c for c in ("000000", "111111", "222222", "333333", "444444") if c not in right)


def test_sixty_wrong_codes_from_six_addresses_stop_the_seventh_right_code(app, staff):  # noqa: F811
    secret = enrolled_manager(app, staff)
    for i in range(6):
        env = {"REMOTE_ADDR": f"192.0.2.{i + 10}"}
        thief = app.test_client()
        assert login(thief, staff["manager"], environ_base=env).status_code == 302
        for _ in range(10):
            answer = code_form(thief, wrong(secret), environ_base=env)
            assert answer.status_code in (302, 401, 429)
            if answer.status_code == 302:  # its pending sign-in was voided
                assert answer.headers["Location"].startswith("/login")
                break
    seventh = app.test_client()
    env = {"REMOTE_ADDR": "192.0.2.99"}
    assert login(seventh, staff["manager"], environ_base=env).headers["Location"] == "/login/code"
    refused = code_form(seventh, next_code(secret), environ_base=env)
    assert refused.status_code == 401
    assert seventh.get("/workspace/").status_code == 302  # the right code opened nothing
    # The owner is told once, by email and in the security log.
    (told,) = mails(app, "second_factor_stopped")
    assert told.to_address == staff["manager"]
    stopped = [e for e in events(app, "signin_second_factor") if "stopped" in (e.detail or "")]
    assert len(stopped) >= 1
    # An admin's reset lifts it: the owner signs in with the password and the code
    # emailed to them (the account is past its failure ceiling), and sets up again.
    admin = app.test_client()
    login(admin, staff["admin"])
    manager_id = user(app, staff["manager"]).id
    post(admin, f"/workspace/users/{manager_id}/mfa-reset", {}, "/workspace/users")
    owner = app.test_client()
    assert login(owner, staff["manager"]).headers["Location"] == "/login/code"
    emailed = re.search(r"^(\d{6})$", mails(app, "signin_code")[-1].text, re.M).group(1)
    assert code_form(owner, emailed).status_code == 302
    assert owner.get("/workspace/").status_code == 200


def test_the_owner_lifts_the_stop_with_the_emailed_code(app, staff):  # noqa: F811
    secret = enrolled_manager(app, staff)
    thief = app.test_client()
    login(thief, staff["manager"], environ_base={"REMOTE_ADDR": "192.0.2.50"})
    for _ in range(10):
        last = code_form(thief, wrong(secret), environ_base={"REMOTE_ADDR": "192.0.2.50"})
    assert last.status_code == 302 and thief.get("/login/code").status_code == 302
    (told,) = mails(app, "second_factor_stopped")
    emailed = re.search(r"^(\d{6})$", told.text, re.M).group(1)
    owner = app.test_client()
    assert login(owner, staff["manager"]).headers["Location"] == "/login/code"
    assert "we emailed" in owner.get("/login/code").text
    assert code_form(owner, next_code(secret)).status_code == 401  # the app's code is stopped
    lifted = code_form(owner, emailed)
    assert lifted.status_code == 302 and lifted.headers["Location"] == "/login/code"
    assert owner.get("/workspace/").status_code == 302  # the authenticator is still asked
    done = code_form(owner, fresh_code(app, staff["manager"], secret))
    assert done.status_code == 302 and owner.get("/workspace/").status_code == 200
    with app.app_context():
        assert db.session.get(User, user(app, staff["manager"]).id).failed_logins == 0


# --- every member of staff on two factors by default -----------------------------------------


def test_a_manager_with_a_password_alone_lands_on_the_set_up_by_default(
    app,
    client,
    staff,  # noqa: F811
    mfa_policy,  # noqa: F811
):
    from onboarding.config import Config

    assert Config.STAFF_MFA == "all"
    mfa_policy(Config.STAFF_MFA)
    first = login(client, staff["manager"])
    assert first.headers["Location"] == "/workspace/account/mfa"
    assert client.get("/workspace/").headers["Location"] == "/workspace/account/mfa"
    page = client.get("/workspace/account/mfa")
    # It shows only what can be reached: the set-up and signing out, no workspace links.
    assert "Sign out" in page.text
    for link in ('href="/workspace/"', 'href="/workspace/drafts"', 'href="/workspace/account"'):
        assert link not in page.text, link
    enrol(app, client)
    assert client.get("/workspace/").status_code == 200
    assert (
        'href="/workspace/drafts"'
        in client.get("/workspace/account/mfa", follow_redirects=True).text
    )


def test_wrong_codes_at_a_step_up_count_towards_the_ceiling(app, client, staff):  # noqa: F811
    """A stolen session with the password cannot guess the code on Your account instead."""
    login(client, staff["manager"])
    secret = enrol(app, client)
    for _ in range(10):
        guess = post(
            client, "/workspace/account/mfa/remove", {"password": PASSWORD, "code": wrong(secret)}
        )
        assert guess.status_code == 422
    stopped = post(
        client,
        "/workspace/account/mfa/remove",
        {"password": PASSWORD, "code": fresh_code(app, staff["manager"], secret)},
    )
    assert stopped.status_code == 422 and "Too many wrong codes" in stopped.text
    assert user(app, staff["manager"]).has_totp
    assert [e.kind for e in events(app, "signin_second_factor")] == ["signin_second_factor"]
