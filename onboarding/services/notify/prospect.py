"""The prospect's other emails: the receipt of their acceptance, the invite to the
intake, and the account manager's replies in the agreement thread.

Written to the outbox in the caller's transaction, like every message
(:func:`onboarding.services.notify.mail.write`); the acceptance receipt and the reply
subscribe to the use cases' signals (:func:`subscribe`), the invite is written by
:func:`invite_email` when staff create one.
"""

from __future__ import annotations

from email.utils import formataddr
from typing import Any

from onboarding.db import db
from onboarding.db.models import Intake, Invite, new_token
from onboarding.db.outbox import OutboxMessage
from onboarding.services import signals
from onboarding.services.notify.mail import bound, owner_name, write, write_to_prospect


def acceptance_receipt(intake: Intake, version: Any) -> OutboxMessage | None:
    """The prospect's receipt when they accept ``version``: what they accepted, when,
    and what happens next (the countersignature), with the link back to the page;
    None when the intake has no address."""
    if not intake.contact_email:
        return None
    with db.session.no_autoflush:
        return write_to_prospect(
            "acceptance_receipt",
            intake,
            dedupe_key=f"acceptance_receipt:{intake.public_id}:{version.number}",
            number=version.number,
            accepted_name=version.accepted_name,
            accepted_at=version.accepted_at.strftime("%d %B %Y at %H:%M UTC")
            if version.accepted_at
            else "",
            owner=owner_name(intake),
            agreement_url=bound().links.agreement(version.token),
        )


def agreement_reply(intake: Intake, version: Any, text: str, author: str) -> OutboxMessage | None:
    """The account manager's reply in the agreement thread, emailed to the prospect with
    the link back to the version open for their answer (the latest); None when the
    intake has no address or no version was sent."""
    if not intake.contact_email or version is None or version.token is None:
        return None
    with db.session.no_autoflush:
        return write_to_prospect(
            "agreement_reply",
            intake,
            number=version.number,
            author=author,
            reply=text,
            paragraphs=[p for p in text.replace("\r\n", "\n").split("\n") if p.strip()],
            agreement_url=bound().links.agreement(version.token) + "#conversation",
        )


def invite_email(invite: Invite) -> OutboxMessage:
    """The invite's link, emailed to the prospect it names, replying to the manager who
    made it."""
    if invite.token is None:  # filled at INSERT; the link needs it now
        invite.token = new_token()
    manager = invite.manager
    return write(
        "invite",
        invite.email,
        to_name=invite.name,
        reply_to=formataddr((manager.display_name, manager.email)) if manager else None,
        dedupe_key=f"invite:{invite.token}",
        name=(invite.name or "").split()[0] if (invite.name or "").split() else None,
        company=invite.company,
        manager=manager.display_name if manager is not None else None,
        invite_url=bound().links.invite(invite.token),
        expires=invite.expires_at.strftime("%d %B %Y"),
    )


def _accepted(intake: Intake, *, version: Any, **_: Any) -> None:
    acceptance_receipt(intake, version)


def _replied(intake: Intake, *, version: Any, text: str, author: str, **_: Any) -> None:
    agreement_reply(intake, version, text, author)


def _invited(_sender: Any, *, invite: Invite, **_: Any) -> None:
    invite_email(invite)


def subscribe() -> None:
    """Write the prospect's receipt of acceptance, the manager's replies and invites."""
    signals.invite_created.connect(_invited, weak=False)
    signals.agreement_accepted.connect(_accepted, weak=False)
    signals.manager_replied.connect(_replied, weak=False)
