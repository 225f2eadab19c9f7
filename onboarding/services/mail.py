"""The messages we email, and when: written to the outbox in the caller's transaction.

Each message is rendered here, when it is written, from two Jinja templates under
``templates/email/`` (``KIND.txt``, which also sets the subject, and ``KIND.html``), with
the agency's name from the installation's profile and absolute links from ``BASE_URL``.
The row keeps the exact text, HTML and headers, so a retry sends the same message under
the same ``Message-ID`` and the Outbox page shows what went. The worker
(:mod:`onboarding.integrations.outbox`) sends it after the caller commits; callers
commit, and a rollback writes nothing.

Settings arrive as a :class:`Mailer` (the settings and the app's links), built by the web
layer or the command line: this module never imports Flask.

The messages:

- ``resume_link``: a prospect's private link, the first time a draft has their address
  (:func:`resume_link_on_save`) and when they press "Email me my link"
  (:func:`email_resume_link`), limited per intake and per address;
- ``receipt`` (prospect) and ``new_submission`` (the owner, else every active manager)
  on submit (:func:`on_submitted`);
- ``agreement_sent``: the agreement link on each send, with what changed since the
  previous version, and again when staff press "Send the link again"
  (:func:`agreement_sent`);
- ``change_request`` and ``agreement_accepted``: the staff's notice (the owner, else
  every active manager) when the prospect asks for changes or accepts
  (:func:`agreement_answered`);
- ``agreement_signed``: the prospect's confirmation, with the signed PDF attached, when
  the agency countersigns (:func:`agreement_signed`);
- ``decline``: the polite decline, as the manager reviewed and edited it
  (:func:`send_decline`);
- ``signin_code``: the one-time code a member of staff needs, as well as the password,
  once their account is past its failed sign-in ceiling and they have no authenticator
  app (written by the sign-in, :mod:`onboarding.services.signin`);
- ``account_changed``: the owner's notice that their password or second factor changed
  (by them or an admin), and ``second_factor_stopped``: that too many wrong codes
  stopped the code step of their sign-in, with a code to sign in again (the web layer);
- ``draft_reminder``: a draft that has stood still ``DRAFT_REMINDER_DAYS``, at most
  :data:`REMINDERS_MAX` times, never after submit, with a one-click stop
  (:func:`send_reminders`, :func:`stop_reminders`).
"""

from __future__ import annotations

import functools
import re
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import formataddr, make_msgid, parseaddr
from typing import Any, Protocol

import jinja2
from sqlalchemy import exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from onboarding.db import db
from onboarding.db.engine import begin_write
from onboarding.db.models import Intake, User, new_token, utcnow
from onboarding.db.outbox import DraftReminder, OutboxMessage
from onboarding.domain.playbooks import CAUSE_LABELS
from onboarding.domain.resources import project_dir
from onboarding.domain.workflow import RECOMMENDATIONS
from onboarding.integrations import outbox
from onboarding.services.profile import installation_profile

KINDS = {
    "resume_link": "Private resume link",
    "receipt": "Receipt on submit",
    "new_submission": "New submission (staff)",
    "draft_reminder": "Draft reminder",
    "agreement_sent": "Agreement link",
    "change_request": "Change request (staff)",
    "agreement_accepted": "Agreement accepted (staff)",
    "decline": "Polite decline",
    "agreement_signed": "Signed agreement (with its PDF)",
    "digest": "Daily digest (staff)",
    "signin_code": "Sign-in code (staff)",
    "account_changed": "Account changed (staff)",
    "second_factor_stopped": "Sign-in codes stopped (staff)",
}
"""The kinds of email, with the words the Outbox page shows. Agreement messages
(accepted, signed) and the decline are meant to join as kinds of their own."""
STAFF_NOTICES = ("new_submission", "change_request", "agreement_accepted")
"""The staff's notices: sent one by one, or held for a daily digest, by each user's
choice (``User.notices``, one of :data:`NOTICE_CHOICES`)."""
NOTICE_CHOICES = {
    "each": "An email for each one",
    "digest": "One daily digest",
    "off": "No email: I check the workspace",
}
UNOWNED_CHOICES = ("managers", "admins", "none")
"""Who hears of an intake with no owner (``NOTIFY_UNOWNED``): every active manager
(every admin when there is none), every active admin, or nobody."""
DIGEST_ITEMS = 50
"""Notices one digest lists at most (the rest go in the next one)."""
CHANGES_SHOWN = 12
"""Changes an agreement email lists at most (the page shows them all)."""
REMINDERS_MAX = 2
"""Reminders one draft gets at most."""
LINK_WINDOW_INTAKE = timedelta(hours=1)
LINK_WINDOW_ADDRESS = timedelta(days=1)
JUST_SENT = timedelta(minutes=1)
DEFAULT_SENDER = "onboarding@localhost"


# --- settings and links ---------------------------------------------------------------------


@dataclass(frozen=True)
class MailSettings:
    """What composing and limiting messages needs from the app's settings."""

    base_url: str
    sender: str = DEFAULT_SENDER
    agency_name: str = ""
    reminder_days: int = 3
    link_per_intake: int = 3
    link_per_address: int = 5
    unowned_to: str = "managers"
    digest_hour: int = 8

    @classmethod
    def from_config(cls, config: Mapping[str, Any], base_url: str | None = None) -> MailSettings:
        """The settings of an app's config; ``base_url`` stands in when ``BASE_URL`` is
        unset (the request's own address, in a request)."""
        return cls(
            base_url=(config.get("BASE_URL") or base_url or "http://localhost:5000").rstrip("/"),
            sender=config.get("MAIL_DEFAULT_SENDER") or DEFAULT_SENDER,
            agency_name=config.get("AGENCY_NAME") or "",
            reminder_days=int(config.get("DRAFT_REMINDER_DAYS") or 3),
            link_per_intake=int(config.get("MAIL_LINK_PER_INTAKE") or 3),
            link_per_address=int(config.get("MAIL_LINK_PER_ADDRESS") or 5),
            unowned_to=str(config.get("NOTIFY_UNOWNED") or "managers"),
            digest_hour=int(config.get("DIGEST_HOUR", 8) or 0) % 24,
        )


class Links(Protocol):
    """The app's absolute links (the web layer builds them from its routes and
    ``BASE_URL``)."""

    def resume(self, token: str) -> str: ...

    def stop_reminders(self, stop_token: str) -> str: ...

    def workspace_intake(self, public_id: str) -> str: ...

    def agreement(self, token: str) -> str: ...

    def account(self) -> str: ...


@dataclass(frozen=True)
class Mailer:
    """Everything writing a message needs: the settings and the links."""

    settings: MailSettings
    links: Links


# --- composing -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Composed:
    subject: str
    text: str
    html: str


@functools.cache
def environment() -> jinja2.Environment:
    """The email templates: HTML escaped, text as written, every name required."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(project_dir("templates") / "email")),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


def compose(kind: str, **context: Any) -> Composed:
    """Render ``kind``: the text template sets the subject; the HTML one the other part."""
    env = environment()
    text_module = env.get_template(f"{kind}.txt").make_module(context)
    subject = " ".join(str(getattr(text_module, "subject", "")).split())
    if not subject:
        raise ValueError(f"templates/email/{kind}.txt sets no subject")
    text = wrap_text(str(text_module))
    html = env.get_template(f"{kind}.html").render(subject=subject, **context)
    return Composed(subject, text, html)


def wrap_text(text: str, width: int = 72) -> str:
    """Plain text as mail clients show it best: lines of at most ``width`` characters
    (a link longer than that stays whole, on its own line), list items indented under
    their number, at most one blank line in a row."""
    lines: list[str] = []
    for line in text.strip().splitlines():
        line = line.rstrip()
        if not line and lines and not lines[-1]:
            continue
        if len(line) <= width:
            lines.append(line)
            continue
        item = re.match(r"\s*(?:\d+\.|-) ", line)
        lines.extend(
            textwrap.wrap(
                line,
                width,
                subsequent_indent=" " * (item.end() if item else 0),
                break_long_words=False,
                break_on_hyphens=False,
            )
        )
    return "\n".join(lines) + "\n"


def agency_name(settings: MailSettings) -> str:
    """The agency's name: its saved profile's trading name (``AGENCY_NAME`` seeds it)."""
    return installation_profile(settings.agency_name or None).profile.trading_name


def sender(settings: MailSettings, agency: str) -> str:
    """``MAIL_DEFAULT_SENDER``, named after the agency when it carries no name."""
    name, address = parseaddr(settings.sender)
    return formataddr((name or agency, address or DEFAULT_SENDER))


def reply_to_for(intake: Intake | None) -> str | None:
    """Replies reach the intake's owner, else the signatory of the agency's saved profile
    (never the shipped demo one's); else none (replies go to the sender)."""
    owner = intake.owner if intake is not None else None
    if owner is not None and owner.active:
        return formataddr((owner.display_name, owner.email))
    installed = installation_profile()
    signatory = installed.profile.signatory
    if installed.version is not None and signatory.email.strip():
        return formataddr((signatory.name, signatory.email.strip()))
    return None


def write(
    mailer: Mailer,
    kind: str,
    to_address: str,
    *,
    to_name: str | None = None,
    intake: Intake | None = None,
    user: User | None = None,
    reply_to: str | None = None,
    headers: dict[str, str] | None = None,
    dedupe_key: str | None = None,
    attachment: bytes | None = None,
    attachment_name: str | None = None,
    **context: Any,
) -> OutboxMessage:
    """Render ``kind`` for ``to_address`` and add it to the outbox (the caller's
    session); it is sent after the caller commits."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind of email {kind!r}")
    held = user is not None and kind in STAFF_NOTICES and user.notices == "digest"
    agency = agency_name(mailer.settings)
    composed = compose(kind, agency=agency, base_url=mailer.settings.base_url, **context)
    from_address = sender(mailer.settings, agency)
    domain = parseaddr(from_address)[1].rpartition("@")[2] or "localhost"
    row = OutboxMessage(
        channel="email",
        kind=kind,
        to_address=to_address.strip(),
        to_name=" ".join((to_name or "").split())[:200] or None,
        from_address=from_address,
        reply_to=reply_to,
        subject=composed.subject[:300],
        text=composed.text,
        html=composed.html,
        headers=dict(headers or {}),
        message_id=make_msgid(domain=domain),
        dedupe_key=dedupe_key,
        attachment=attachment,
        attachment_name=attachment_name if attachment is not None else None,
        status="held" if held else "queued",
        attempts=0,
        next_attempt_at=None if held else utcnow(),
    )
    if intake is not None:
        row.intake = intake
    if user is not None:
        row.user_id = user.id
    db.session.add(row)
    if not held:  # a held notice waits for its recipient's digest (send_digests)
        outbox.track([row])
    return row


# --- the prospect's private link ------------------------------------------------------------


def _count(*where: Any) -> int:
    return db.session.execute(select(func.count(OutboxMessage.id)).where(*where)).scalar_one()


def _links_to(intake: Intake, address: str, since: datetime | None = None) -> int:
    where = [
        OutboxMessage.intake_id == intake.id,
        OutboxMessage.kind == "resume_link",
        func.lower(OutboxMessage.to_address) == address.strip().lower(),
    ]
    if since is not None:
        where.append(OutboxMessage.created_at >= since)
    return _count(*where)


def link_limited(intake: Intake, address: str, settings: MailSettings) -> bool:
    """Whether one more link email would pass a limit: per intake in an hour, per
    address (whatever the intake) in a day."""
    now = utcnow()
    per_intake = _count(
        OutboxMessage.intake_id == intake.id,
        OutboxMessage.kind == "resume_link",
        OutboxMessage.created_at >= now - LINK_WINDOW_INTAKE,
    )
    if per_intake >= settings.link_per_intake:
        return True
    per_address = _count(
        OutboxMessage.kind == "resume_link",
        func.lower(OutboxMessage.to_address) == address.strip().lower(),
        OutboxMessage.created_at >= now - LINK_WINDOW_ADDRESS,
    )
    return per_address >= settings.link_per_address


def _write_resume_link(intake: Intake, mailer: Mailer) -> OutboxMessage:
    return write(
        mailer,
        "resume_link",
        intake.contact_email or "",
        to_name=intake.contact_name,
        intake=intake,
        reply_to=reply_to_for(intake),
        name=_first_name(intake),
        company=intake.company,
        resume_url=mailer.links.resume(intake.token),
    )


def resume_link_on_save(intake: Intake, mailer: Mailer) -> OutboxMessage | None:
    """After a draft's step is saved: its private link, the first time the draft has
    this address (a changed address gets it too), within the limits. Needs the intake
    stored (an id)."""
    address = intake.contact_email
    if intake.status != "draft" or not address or intake.id is None:
        return None
    if _links_to(intake, address):
        return None
    if link_limited(intake, address, mailer.settings):
        return None
    return _write_resume_link(intake, mailer)


def email_resume_link(intake: Intake, mailer: Mailer) -> str:
    """The "Email me my link" button. Returns ``sent`` (written now, or a moment ago),
    ``no_email`` (the draft has no address yet) or ``limited`` (try later)."""
    address = intake.contact_email
    if intake.status != "draft" or not address:
        return "no_email"
    if _links_to(intake, address, since=utcnow() - JUST_SENT):
        return "sent"  # the one written as the address was saved, or a double click
    if link_limited(intake, address, mailer.settings):
        return "limited"
    _write_resume_link(intake, mailer)
    return "sent"


def _first_name(intake: Intake) -> str | None:
    name = (intake.contact_name or "").split()
    return name[0] if name else None


# --- submission ----------------------------------------------------------------------------------


def staff_to_tell(intake: Intake, settings: MailSettings) -> list[User]:
    """Who hears of a submission, a change request or an acceptance: the intake's owner;
    with none, as ``NOTIFY_UNOWNED`` says (every active manager, else every active admin,
    so that someone does; or the admins; or nobody). Staff who turned notices off are
    left out (the workspace still shows everything)."""
    owner = intake.owner
    if owner is not None and owner.active:
        return [owner] if owner.notices != "off" else []
    roles = {"managers": ("manager", "admin"), "admins": ("admin",)}.get(settings.unowned_to, ())
    with db.session.no_autoflush:
        for role in roles:
            users = db.session.execute(
                select(User).where(User.role == role, User.active.is_(True)).order_by(User.id)
            ).scalars().all()  # fmt: skip
            if users:
                return [u for u in users if u.notices != "off"]
    return []


def on_submitted(intake: Intake, mailer: Mailer) -> list[OutboxMessage]:
    """A submitted intake's messages: the prospect's receipt (when they gave an
    address) and the staff's notice; queued reminders are cancelled. Nothing is flushed
    here (the caller's conflicts surface at its commit)."""
    with db.session.no_autoflush:
        return _on_submitted(intake, mailer)


def _on_submitted(intake: Intake, mailer: Mailer) -> list[OutboxMessage]:
    if intake.public_id is None:  # filled at INSERT; the keys need it now
        intake.public_id = new_token()
    rows = []
    owner = intake.owner if intake.owner is not None and intake.owner.active else None
    if intake.contact_email:
        rows.append(
            write(
                mailer,
                "receipt",
                intake.contact_email,
                to_name=intake.contact_name,
                intake=intake,
                reply_to=reply_to_for(intake),
                dedupe_key=f"receipt:{intake.public_id}",
                name=_first_name(intake),
                company=intake.company,
                email=intake.contact_email,
                owner=owner.display_name if owner else None,
            )
        )
    assessment = intake.assessment
    risks = (assessment.result.get("risks") if assessment else None) or {}
    rows += _tell_staff(
        intake,
        mailer,
        "new_submission",
        f"new_submission:{intake.public_id}",
        score=intake.score,
        band=intake.band,
        recommendation=RECOMMENDATIONS.get(intake.recommendation or "", ""),
        top_risk=CAUSE_LABELS.get(intake.top_risk or ""),
        top_risk_value=risks.get(intake.top_risk or ""),
        intake_url=mailer.links.workspace_intake(intake.public_id),
    )
    if intake.id is not None:
        cancel_reminders(intake, "Not sent: the prospect submitted their answers.")
    return rows


# --- the agreement ------------------------------------------------------------------------------


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
    intake: Intake, version: Any, mailer: Mailer, *, again: bool = False
) -> OutboxMessage | None:
    """The prospect's agreement link for ``version`` (an ``AgreementVersion`` being sent,
    or, ``again``, the one awaiting their answer), with what changed since the previous
    version; None when the intake has no address. Written in the caller's session."""
    if not intake.contact_email:
        return None
    with db.session.no_autoflush:
        if version.token is None:  # filled at INSERT; the link needs it now
            version.token = new_token()
        if intake.public_id is None:
            intake.public_id = new_token()
        owner = intake.owner if intake.owner is not None and intake.owner.active else None
        return write(
            mailer,
            "agreement_sent",
            intake.contact_email,
            to_name=intake.contact_name,
            intake=intake,
            reply_to=reply_to_for(intake),
            dedupe_key=None if again else f"agreement_sent:{intake.public_id}:{version.number}",
            name=_first_name(intake),
            company=intake.company,
            number=version.number,
            again=again,
            changes=change_lines(version.redline),
            owner=owner.display_name if owner else None,
            agreement_url=mailer.links.agreement(version.token),
        )


def agreement_answered(
    intake: Intake,
    version: Any,
    mailer: Mailer,
    kind: str,
    *,
    comment: str | None = None,
) -> list[OutboxMessage]:
    """The staff's notice that the prospect answered ``version``: ``change_request``
    (with their ``comment``) or ``agreement_accepted``; to the intake's owner, else
    every active manager. Written in the caller's session."""
    if kind not in ("change_request", "agreement_accepted"):
        raise ValueError(f"not an answer to an agreement: {kind!r}")
    with db.session.no_autoflush:
        return _tell_staff(
            intake,
            mailer,
            kind,
            f"{kind}:{intake.public_id}:{version.number}",
            number=version.number,
            comment=comment,
            accepted_name=getattr(version, "accepted_name", None),
            accepted_title=getattr(version, "accepted_title", None),
            intake_url=mailer.links.workspace_intake(intake.public_id) + "#agreement",
        )


def _tell_staff(
    intake: Intake, mailer: Mailer, kind: str, dedupe: str, **context: Any
) -> list[OutboxMessage]:
    """One ``kind`` notice about ``intake`` to each member of staff to tell (the owner,
    else every active manager: :func:`staff_to_tell`), each with its own dedupe key
    (``dedupe`` and the user's id); ``context``: what the kind's templates show beside
    the prospect's name, email and company."""
    owner = intake.owner if intake.owner is not None and intake.owner.active else None
    return [
        write(
            mailer,
            kind,
            user.email,
            to_name=user.display_name,
            intake=intake,
            user=user,
            dedupe_key=f"{dedupe}:{user.id}",
            name=user.display_name.split()[0],
            owned=owner is not None,
            contact_name=intake.contact_name,
            contact_email=intake.contact_email,
            company=intake.company,
            **context,
        )
        for user in staff_to_tell(intake, mailer.settings)
    ]


def agreement_signed(
    intake: Intake, version: Any, mailer: Mailer, pdf: bytes, filename: str
) -> OutboxMessage | None:
    """The prospect's confirmation that the agreement is signed by both parties, with
    the signed PDF attached; None when the intake has no address."""
    if not intake.contact_email:
        return None
    with db.session.no_autoflush:
        owner = intake.owner if intake.owner is not None and intake.owner.active else None
        return write(
            mailer,
            "agreement_signed",
            intake.contact_email,
            to_name=intake.contact_name,
            intake=intake,
            reply_to=reply_to_for(intake),
            dedupe_key=f"agreement_signed:{intake.public_id}:{version.number}",
            attachment=pdf,
            attachment_name=filename,
            name=_first_name(intake),
            company=intake.company,
            number=version.number,
            countersigned_name=version.countersigned_name,
            filename=filename,
            owner=owner.display_name if owner else None,
        )


# --- the polite decline -------------------------------------------------------------------------

MAX_LETTER = 10000


def decline_sent(intake: Intake) -> OutboxMessage | None:
    """The latest decline written for ``intake``, or None."""
    return db.session.execute(
        select(OutboxMessage)
        .where(OutboxMessage.intake_id == intake.id, OutboxMessage.kind == "decline")
        .order_by(OutboxMessage.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def send_decline(intake: Intake, user: User, letter: str, mailer: Mailer) -> OutboxMessage:
    """Write the decline ``letter`` (the text as the manager reviewed it) to the
    prospect, replying to ``user``; the caller records it and commits. Raises
    ValueError (a sentence to show) with no address or no letter; the same letter
    a moment after the last (a double click) is not written twice."""
    letter = (letter or "").replace("\r\n", "\n").strip()
    if not intake.contact_email:
        raise ValueError("The prospect gave no email address: copy the letter instead.")
    if not letter:
        raise ValueError("Write the letter before sending it.")
    if len(letter) > MAX_LETTER:
        raise ValueError(f"The letter is too long (at most {MAX_LETTER} characters).")
    last = decline_sent(intake)
    just_now = utcnow() - JUST_SENT
    if last is not None and last.created_at >= just_now and last.text == wrap_text(letter):
        return last
    return write(
        mailer,
        "decline",
        intake.contact_email,
        to_name=intake.contact_name,
        intake=intake,
        reply_to=formataddr((user.display_name, user.email)),
        company=intake.company,
        letter=letter,
        paragraphs=[p.split("\n") for p in re.split(r"\n\s*\n", letter)],
    )


# --- reminders -----------------------------------------------------------------------------------


def cancel_reminders(intake: Intake, why: str) -> None:
    """Queued reminders of ``intake`` will not go (one being sent goes)."""
    db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.intake_id == intake.id,
            OutboxMessage.kind == "draft_reminder",
            OutboxMessage.status == "queued",
        )
        .values(status="cancelled", last_answer=why, next_attempt_at=None)
        .execution_options(synchronize_session=False)
    )


def _reminders_sent():
    return (
        select(func.count(OutboxMessage.id))
        .where(OutboxMessage.intake_id == Intake.id, OutboxMessage.kind == "draft_reminder")
        .scalar_subquery()
    )


def _last_reminder():
    return (
        select(func.max(OutboxMessage.created_at))
        .where(OutboxMessage.intake_id == Intake.id, OutboxMessage.kind == "draft_reminder")
        .scalar_subquery()
    )


def reminders_due(settings: MailSettings, now: datetime | None = None, limit: int = 500):
    """Ids of drafts owed a reminder: an address, no save for ``reminder_days`` (nor a
    reminder), fewer than :data:`REMINDERS_MAX` so far, not stopped."""
    cutoff = (now or utcnow()) - timedelta(days=settings.reminder_days)
    stopped = exists().where(
        DraftReminder.intake_id == Intake.id, DraftReminder.stopped_at.is_not(None)
    )
    last = _last_reminder()
    return db.session.execute(
        select(Intake.id)
        .where(
            Intake.status == "draft",
            Intake.contact_email.is_not(None),
            Intake.contact_email != "",
            Intake.updated_at <= cutoff,
            _reminders_sent() < REMINDERS_MAX,
            or_(last.is_(None), last <= cutoff),
            ~stopped,
        )
        .order_by(Intake.id)
        .limit(limit)
    ).scalars().all()  # fmt: skip


def remind(intake_id: int, mailer: Mailer, now: datetime | None = None) -> OutboxMessage | None:
    """Write one draft's next reminder if it is still owed one; commits. Two runs at
    once write it once (the intake is locked; the n-th reminder's key is unique)."""
    now = now or utcnow()
    cutoff = now - timedelta(days=mailer.settings.reminder_days)
    begin_write(db.session())
    intake = db.session.execute(
        select(Intake).where(Intake.id == intake_id).with_for_update()
    ).scalar_one_or_none()
    if (
        intake is None
        or intake.status != "draft"
        or not intake.contact_email
        or intake.updated_at > cutoff
    ):
        db.session.rollback()
        return None
    earlier = db.session.execute(
        select(OutboxMessage.created_at).where(
            OutboxMessage.intake_id == intake.id, OutboxMessage.kind == "draft_reminder"
        )
    ).scalars().all()  # fmt: skip
    if len(earlier) >= REMINDERS_MAX or any(at > cutoff for at in earlier):
        db.session.rollback()
        return None
    reminder = db.session.get(DraftReminder, intake.id)
    if reminder is None:
        reminder = DraftReminder(intake_id=intake.id, stop_token=new_token())
        db.session.add(reminder)
    elif reminder.stopped_at is not None:
        db.session.rollback()
        return None
    number = len(earlier) + 1
    stop_url = mailer.links.stop_reminders(reminder.stop_token)
    row = write(
        mailer,
        "draft_reminder",
        intake.contact_email,
        to_name=intake.contact_name,
        intake=intake,
        reply_to=reply_to_for(intake),
        # RFC 2369 and RFC 8058: mail clients offer a one-click "unsubscribe" that POSTs
        # "List-Unsubscribe=One-Click" to this link.
        headers={
            "List-Unsubscribe": f"<{stop_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
        dedupe_key=f"draft_reminder:{intake.id}:{number}",
        name=_first_name(intake),
        company=intake.company,
        number=number,
        last=number == REMINDERS_MAX,
        days=mailer.settings.reminder_days,
        resume_url=mailer.links.resume(intake.token),
        stop_url=stop_url,
    )
    try:
        db.session.commit()
    except IntegrityError:  # another worker wrote it first
        db.session.rollback()
        return None
    return row


def send_reminders(mailer: Mailer, now: datetime | None = None) -> int:
    """Write every reminder due (``onboarding send-reminders`` and the worker's
    schedule); commits each; returns how many were written."""
    written = 0
    ids = reminders_due(mailer.settings, now)
    db.session.rollback()
    for intake_id in ids:
        if remind(intake_id, mailer, now) is not None:
            written += 1
    return written


def reminder_by_stop_token(token: str) -> DraftReminder | None:
    """The reminders a stop link controls, or None."""
    if not token or len(token) > 64:
        return None
    return db.session.execute(
        select(DraftReminder).where(DraftReminder.stop_token == token)
    ).scalar_one_or_none()


def stop_reminders(reminder: DraftReminder) -> bool:
    """Stop a draft's reminders (queued ones are cancelled); False if already stopped.
    The caller commits."""
    if reminder.stopped_at is not None:
        return False
    reminder.stopped_at = utcnow()
    cancel_reminders(reminder.intake, "Not sent: the prospect stopped reminders.")
    return True


# --- the staff's daily digest -------------------------------------------------------------------


def digests_due(settings: MailSettings, now: datetime | None = None) -> list[int]:
    """Ids of the users with notices held for a digest, once ``DIGEST_HOUR`` (UTC) has
    passed today. A user who went back to single emails still gets what was held."""
    now = now or utcnow()
    if now.hour < settings.digest_hour:
        return []
    return list(
        db.session.execute(
            select(OutboxMessage.user_id)
            .where(OutboxMessage.status == "held", OutboxMessage.user_id.is_not(None))
            .distinct()
        ).scalars()
    )


def digest(user_id: int, mailer: Mailer, now: datetime | None = None) -> OutboxMessage | None:
    """Write one user's digest of their held notices, at most one a day; commits. Two
    workers at once write it once (the day's key is unique; the held rows are locked)."""
    now = now or utcnow()
    begin_write(db.session())
    user = db.session.execute(select(User).where(User.id == user_id).with_for_update()).scalar()
    held = db.session.execute(
        select(OutboxMessage)
        .options(selectinload(OutboxMessage.intake))
        .where(OutboxMessage.user_id == user_id, OutboxMessage.status == "held")
        .order_by(OutboxMessage.created_at, OutboxMessage.id)
        .limit(DIGEST_ITEMS)
        .with_for_update()
    ).scalars().all()  # fmt: skip
    if user is None or not held:
        db.session.rollback()
        return None
    if not user.active:  # a disabled account hears nothing more
        for row in held:
            row.status, row.last_answer = "cancelled", "Not sent: the account is disabled."
        db.session.commit()
        return None
    items = [
        {
            "subject": row.subject,
            "when": f"{row.created_at:%d %b %H:%M} UTC",
            "url": mailer.links.workspace_intake(row.intake.public_id)
            if row.intake is not None
            else mailer.settings.base_url + "/workspace",
        }
        for row in held
    ]
    sent = write(
        mailer,
        "digest",
        user.email,
        to_name=user.display_name,
        user=user,
        dedupe_key=f"digest:{user.id}:{now:%Y-%m-%d}",
        name=user.display_name.split()[0],
        items=items,
        account_url=mailer.links.account(),
    )
    try:
        db.session.flush()
    except IntegrityError:  # today's digest is written: the rest waits for tomorrow's
        db.session.rollback()
        return None
    for row in held:
        row.status, row.digest_id = "digested", sent.id
        row.last_answer = f"Sent in the daily digest (message {sent.id})."
    db.session.commit()
    return sent


def send_digests(mailer: Mailer, now: datetime | None = None) -> int:
    """Write every digest due (the worker's schedule); returns how many were written."""
    ids = digests_due(mailer.settings, now)
    db.session.rollback()
    return sum(1 for user_id in ids if digest(user_id, mailer, now) is not None)


def held_count(user: User) -> int:
    """Notices waiting for ``user``'s next digest."""
    return _count(OutboxMessage.user_id == user.id, OutboxMessage.status == "held")


def set_notices(user: User, choice: str) -> None:
    """A user's choice of how they hear of their intakes; the caller commits."""
    if choice not in NOTICE_CHOICES:
        raise ValueError(f"not a choice: {choice!r}")
    user.notices = choice


# --- the Outbox page -----------------------------------------------------------------------------


def messages(
    status: str | None = None, kind: str | None = None, limit: int = 50
) -> list[OutboxMessage]:
    """The newest messages, optionally of one state or kind."""
    query = (
        select(OutboxMessage)
        .options(selectinload(OutboxMessage.intake))
        .order_by(OutboxMessage.id.desc())
        .limit(limit)
    )
    if status:
        query = query.where(OutboxMessage.status == status)
    if kind:
        query = query.where(OutboxMessage.kind == kind)
    return list(db.session.execute(query).scalars())


def counts() -> dict[str, int]:
    """How many messages are in each state."""
    rows = db.session.execute(
        select(OutboxMessage.status, func.count(OutboxMessage.id)).group_by(OutboxMessage.status)
    )
    return {status: n for status, n in rows}


def message(message_id: int) -> OutboxMessage | None:
    return db.session.get(OutboxMessage, message_id)


def resend(row: OutboxMessage) -> OutboxMessage:
    """Send a message again: a copy, queued now, under a new ``Message-ID`` (mail
    services drop a message whose id they have seen, and this one may have been), with
    the original's text, HTML and headers. The caller commits."""
    domain = row.message_id.strip("<>").rpartition("@")[2] or "localhost"
    copy = OutboxMessage(
        channel=row.channel,
        kind=row.kind,
        intake_id=row.intake_id,
        user_id=row.user_id,
        to_address=row.to_address,
        to_name=row.to_name,
        from_address=row.from_address,
        reply_to=row.reply_to,
        subject=row.subject,
        text=row.text,
        html=row.html,
        headers=dict(row.headers or {}),
        attachment=row.attachment,
        attachment_name=row.attachment_name,
        message_id=make_msgid(domain=domain),
        status="queued",
        attempts=0,
        next_attempt_at=utcnow(),
        resent_from_id=row.id,
    )
    db.session.add(copy)
    outbox.track([copy])
    return copy
