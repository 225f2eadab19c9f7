"""The agreement's emails (split from :mod:`.mail`, which writes them all the same way):

- ``agreement_sent``: the agreement link on each send, with the manager's message and
  what changed since the previous version, and again when staff press "Send the link
  again" (:func:`agreement_sent`; the send page shows it first, :func:`agreement_sent_preview`);
- ``change_request`` and ``agreement_accepted``: the staff's notice (the owner, else as
  ``NOTIFY_UNOWNED`` says) when the prospect comments or accepts, with the options chosen
  (:func:`agreement_answered`);
- ``agreement_signed``: the prospect's confirmation, with the signed PDF attached and the
  project page's link, when the agency countersigns (:func:`agreement_signed`).

Written to the outbox in the caller's transaction; :func:`subscribe` connects them to
the use cases' signals.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from onboarding.db import db
from onboarding.db.models import Intake, new_token
from onboarding.db.outbox import OutboxMessage
from onboarding.services import signals
from onboarding.services.notify.mail import (
    CHANGES_SHOWN,
    Composed,
    agency_name,
    bound,
    compose,
    first_name,
    owner_name,
    tell_staff,
    write_to_prospect,
)
from onboarding.services.project import state as projects


def change_lines(redline: Mapping[str, Any] | None, limit: int = CHANGES_SHOWN) -> list[str]:
    """What a version changed since the previous one, as short lines of plain words:
    each value from and to, each clause added, removed or changed by its title."""
    if not redline:
        return []
    lines = []
    for value in redline.get("values") or ():
        term, before, after = value.get("term", ""), value.get("from", ""), value.get("to", "")
        if before and after:
            lines.append(f"{term}: from {before} to {after}")
        elif after:
            lines.append(f"{term}: now {after}")
        else:
            lines.append(f"{term}: {before} no longer applies")
    verbs = {"added": "New clause", "removed": "Clause removed", "changed": "Clause changed"}
    for clause in redline.get("clauses") or ():
        verb = verbs.get(clause.get("change", ""), "Clause changed")
        lines.append(f"{verb}: {clause.get('title') or clause.get('id', '')}")
    if len(lines) > limit:
        more = len(lines) - (limit - 1)
        lines = lines[: limit - 1] + [f"and {more} more changes, shown on the agreement's page"]
    return lines


def agreement_sent(
    intake: Intake,
    version: Any,
    *,
    again: bool = False,
    message: str | None = None,
    subject: str | None = None,
) -> OutboxMessage | None:
    """The prospect's agreement link for ``version`` (an ``AgreementVersion`` being sent,
    or, ``again``, the one awaiting their answer), with what changed since the previous
    version, the manager's personal ``message`` and their ``subject`` (the send page's);
    None when the intake has no address. Written in the caller's session."""
    if not intake.contact_email:
        return None
    with db.session.no_autoflush:
        if version.token is None:  # filled at INSERT; the link needs it now
            version.token = new_token()
        if intake.public_id is None:
            intake.public_id = new_token()
        return write_to_prospect(
            "agreement_sent",
            intake,
            dedupe_key=None if again else f"agreement_sent:{intake.public_id}:{version.number}",
            number=version.number,
            again=again,
            changes=change_lines(version.redline),
            owner=owner_name(intake),
            agreement_url=bound().links.agreement(version.token),
            message=message,
            custom_subject=subject,
        )


def agreement_sent_preview(
    intake: Intake,
    number: int,
    redline: dict[str, Any] | None,
    *,
    message: str | None = None,
    subject: str | None = None,
) -> Composed:
    """The email :func:`agreement_sent` would write for version ``number`` (the send
    page shows it before anything goes out); the link is a placeholder."""
    settings = bound().settings
    return compose(
        "agreement_sent",
        agency=agency_name(settings),
        base_url=settings.base_url,
        name=first_name(intake),
        company=intake.company,
        number=number,
        again=False,
        changes=change_lines(redline),
        owner=owner_name(intake),
        agreement_url="(the private link, made when you send)",
        message=message,
        custom_subject=" ".join((subject or "").split()) or None,
    )


def agreement_answered(
    intake: Intake,
    version: Any,
    kind: str,
    *,
    comment: str | None = None,
) -> list[OutboxMessage]:
    """The staff's notice that the prospect answered ``version``: ``change_request``
    (with their ``comment``) or ``agreement_accepted``; to the intake's owner, else
    every active manager. Written in the caller's session."""
    if kind not in ("change_request", "agreement_accepted"):
        raise ValueError(f"not an answer to an agreement: {kind!r}")
    key = f"{kind}:{intake.public_id}:{version.number}"
    if comment:  # a version takes several comments: one notice each
        key += ":" + hashlib.sha256(comment.encode()).hexdigest()[:16]
    with db.session.no_autoflush:
        return tell_staff(
            intake,
            kind,
            key,
            number=version.number,
            comment=comment,
            accepted_name=getattr(version, "accepted_name", None),
            accepted_title=getattr(version, "accepted_title", None),
            options_chosen=_options_chosen(version),
            intake_url=bound().links.workspace_intake(intake.public_id) + "#agreement",
        )


def _options_chosen(version: Any) -> list[str] | None:
    """The options the prospect chose with the acceptance, as the agreement lists them
    (None when the version offered none)."""
    from onboarding.domain.agreement import chosen_option_lines

    chosen = getattr(version, "options_chosen", None)
    if chosen is None:
        return None
    return chosen_option_lines(getattr(version, "content", None) or {}, chosen)


def agreement_signed(
    intake: Intake, version: Any, pdf: bytes, filename: str
) -> OutboxMessage | None:
    """The prospect's confirmation that the agreement is signed by both parties, with
    the signed PDF attached; None when the intake has no address."""
    if not intake.contact_email:
        return None
    project = projects.project_of(intake)
    with db.session.no_autoflush:
        return write_to_prospect(
            "agreement_signed",
            intake,
            dedupe_key=f"agreement_signed:{intake.public_id}:{version.number}",
            attachment=pdf,
            attachment_name=filename,
            number=version.number,
            countersigned_name=version.countersigned_name,
            filename=filename,
            owner=owner_name(intake),
            project_url=bound().links.project(project.token) if project else "",
        )


# --- subscriptions -------------------------------------------------------------------------------


def _sent(
    intake: Intake,
    *,
    version: Any,
    message: str | None = None,
    subject: str | None = None,
    **_: Any,
) -> None:
    agreement_sent(intake, version, message=message, subject=subject)


def _resent(intake: Intake, *, version: Any, **_: Any) -> None:
    agreement_sent(intake, version, again=True)


def _changes_requested(intake: Intake, *, version: Any, comment: str, **_: Any) -> None:
    agreement_answered(intake, version, "change_request", comment=comment)


def _accepted(intake: Intake, *, version: Any, **_: Any) -> None:
    agreement_answered(intake, version, "agreement_accepted")


def _file_issued(
    intake: Intake, *, version: Any, kind: str, pdf: bytes, filename: str, **_: Any
) -> None:
    if kind == "signed":  # the prospect's copy, signed by both
        agreement_signed(intake, version, pdf, filename)


def subscribe() -> None:
    """Write the agreement's messages its signals call for (see the module's list)."""
    signals.agreement_sent.connect(_sent, weak=False)
    signals.link_resent.connect(_resent, weak=False)
    signals.changes_requested.connect(_changes_requested, weak=False)
    signals.agreement_accepted.connect(_accepted, weak=False)
    signals.file_issued.connect(_file_issued, weak=False)
