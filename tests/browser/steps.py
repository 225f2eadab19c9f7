"""Steps the browser tests share: a member of staff signed in (an admin setting up an
authenticator on the way), an example intake submitted, its agreement made sendable
and sent, and the prospect's acceptance typed on the agreement page."""

from __future__ import annotations

from dataclasses import dataclass

import pyotp
from sqlalchemy import select

from onboarding.db import db
from onboarding.db.models import Intake, User
from onboarding.services.agreement.send import send_agreement
from onboarding.services.intake.submission import create_intake, submit_intake
from onboarding.services.people.accounts import create_user
from onboarding.web.extensions import app_playbooks
from tests.factories import example
from tests.web.helpers import make_sendable, writing

PASSWORD = "a long pass phrase 42"
"""The password of the staff the browser tests make (unless a test says otherwise)."""


def sign_in(page, live_server: str, email: str, password: str = PASSWORD) -> bool:
    """Sign in as ``email`` from the sign-in page; see :func:`submit_sign_in`."""
    page.goto(live_server + "/login")
    return submit_sign_in(page, email, password)


def submit_sign_in(page, email: str, password: str = PASSWORD) -> bool:
    """On the sign-in page, sign in as ``email``. An admin asked to set up an
    authenticator first (the live server's STAFF_MFA=admins) sets one up and keeps the
    recovery codes; returns whether that happened."""
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    if "/workspace/account/mfa" not in page.url:
        return False
    secret = page.inner_text("#mfa-secret").replace(" ", "")
    page.get_by_label("Code from your authenticator app").fill(pyotp.TOTP(secret).now())
    page.get_by_label("Your password").fill(password)  # a step-up (issue 27)
    page.get_by_role("button", name="Turn on").click()
    page.wait_for_load_state()
    page.get_by_role("link", name="I have kept them").click()
    page.wait_for_load_state()
    return True


def submit_example(app, persona: str, *, owner: User | None = None, email: bool = False):
    """Inside an app context: the example intake ``persona`` created, submitted (its
    emails sent only if ``email``), owned by ``owner`` if given, and committed."""
    intake = create_intake(example(persona))
    db.session.flush()
    submit_intake(intake, playbooks=app_playbooks(app), email=email)
    if owner is not None:
        intake.owner_id = owner.id
    db.session.commit()
    return intake


@dataclass(frozen=True)
class Sent:
    """An agreement sent to the prospect: what the tests use of it."""

    token: str
    document_id: str
    public_id: str
    contact_name: str


def send_to_prospect(app, public_id: str, manager_id: int, persona: str) -> Sent:
    """The intake's agreement made sendable (the example's terms) and sent by the manager."""
    make_sendable(app, public_id, persona)
    with writing(app):
        intake = db.session.execute(
            select(Intake).where(Intake.public_id == public_id)
        ).scalar_one()
        version = send_agreement(intake, db.session.get(User, manager_id))
        db.session.commit()
        return Sent(version.token, version.document_id, public_id, intake.contact_name)


def sent_agreement(
    app,
    manager_email: str,
    persona: str = "calm-founder",
    *,
    name: str | None = None,
    owner: bool = False,
    email: bool = False,
) -> Sent:
    """A new manager (``name``), the example intake ``persona`` submitted (owned by the
    manager if ``owner``; ``email`` as :func:`submit_example`), and its agreement sent."""
    with writing(app):
        manager, _ = create_user(manager_email, "manager", PASSWORD, name, settings=app.config)
        intake = submit_example(app, persona, owner=manager if owner else None, email=email)
        public_id, manager_id = intake.public_id, manager.id
    return send_to_prospect(app, public_id, manager_id, persona)


def accept(page, name: str) -> None:
    """On the agreement page: type ``name``, tick the consent and accept."""
    page.get_by_label("Type your full name").fill(name)
    page.get_by_label("I have read this agreement").check()
    page.get_by_role("button", name="Accept the agreement").click()
    page.wait_for_load_state()
