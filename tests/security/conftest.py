"""What the security tests share: the STAFF_MFA policy fixture, and helpers that read the
security log and drive the second factor through the pages."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from sqlalchemy import select

from onboarding.db import db
from onboarding.db.models import SecurityEvent, User
from tests.factories import PASSWORD, csrf_of


@pytest.fixture
def mfa_policy(app):
    """Run a test under a STAFF_MFA policy (the suite's default is optional)."""
    saved = app.config["STAFF_MFA"]

    def set_policy(value: str) -> None:
        app.config["STAFF_MFA"] = value

    yield set_policy
    app.config["STAFF_MFA"] = saved


def user(app, email) -> User:
    with app.app_context():
        row = db.session.execute(select(User).where(User.email == email)).scalar_one()
        db.session.expunge(row)
        return row


def events(app, kind=None) -> list[SecurityEvent]:
    with app.app_context():
        query = select(SecurityEvent).order_by(SecurityEvent.id)
        if kind:
            query = query.where(SecurityEvent.kind == kind)
        rows = list(db.session.execute(query).scalars())
        for r in rows:
            db.session.expunge(r)
        return rows


def code_form(client, code, **kw):
    page = client.get("/login/code")
    return client.post("/login/code", data={"code": code, "csrf_token": csrf_of(page.text)}, **kw)


def enrol(app, client) -> str:
    """Set up an authenticator app through the pages (the code and the password);
    returns its secret."""
    page = client.get("/workspace/account/mfa")
    assert page.status_code == 200 and "<svg" in page.text
    secret = re.search(r'id="mfa-secret">([A-Z2-7 ]+)<', page.text).group(1).replace(" ", "")
    done = client.post(
        "/workspace/account/mfa",
        data={
            "code": pyotp.TOTP(secret).now(),
            "password": PASSWORD,
            "csrf_token": csrf_of(page.text),
        },
    )
    assert done.status_code == 200 and "Your recovery codes" in done.text
    return secret


def next_code(secret: str) -> str:
    """A code for the next time step (a code is accepted once, and the one just used
    during enrolment must not be replayed)."""
    return pyotp.TOTP(secret).at(time.time() + 30)
