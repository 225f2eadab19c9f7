"""The messages we email, and when: written to the outbox in the caller's transaction.

Each message is rendered here, when it is written, from two Jinja templates under
``templates/email/`` (``KIND.txt``, which also sets the subject, and ``KIND.html``), with
the agency's name from the installation's profile and absolute links from ``BASE_URL``.
The row keeps the exact text, HTML and headers, so a retry sends the same message under
the same ``Message-ID`` and the Outbox page shows what went. The worker
(:mod:`onboarding.integrations.outbox`) sends it after the caller commits; callers
commit, and a rollback writes nothing.

Settings arrive as a :class:`Mailer` (the settings and the app's links), bound once when
the app starts (:func:`bind`; the web layer builds it): this module never imports Flask,
and no use case passes it around. The use cases announce what happened
(:mod:`onboarding.services.signals`); :func:`subscribe` connects the messages below.

The messages:

- ``resume_link``: a prospect's private link, the first time a draft has their address
  (:func:`resume_link_on_save`) and when they press "Email me my link"
  (:func:`email_resume_link`), limited per intake and per address;
- ``receipt`` (prospect) and ``new_submission`` (the owner, else every active manager)
  on submit (:func:`on_submitted`);
- the agreement's messages (sent, answered, signed): :mod:`.agreement_mail`; the
  prospect's receipts and the manager's replies: :mod:`.prospect`; the project's:
  :mod:`.project_mail` (each connects its own);
- ``decline``: the polite decline, as the manager reviewed and edited it
  (:func:`send_decline`);
- ``signin_code``: the one-time code a member of staff needs, as well as the password,
  once their account is past its failed sign-in ceiling and they have no authenticator
  app (written by the sign-in, :mod:`onboarding.services.people.signin`);
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
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import formataddr, make_msgid, parseaddr
from typing import Any, Protocol

import jinja2
from sqlalchemy import func, select, update

from onboarding.db import db
from onboarding.db.models import Intake, User, new_token, utcnow
from onboarding.db.outbox import OutboxMessage
from onboarding.domain.playbooks import CAUSE_LABELS
from onboarding.domain.resources import project_dir
from onboarding.domain.text import full_stop
from onboarding.domain.workflow import RECOMMENDATIONS
from onboarding.integrations import outbox
from onboarding.services import signals
from onboarding.services.profile import installation_profile

MESSAGE_KINDS = {
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
    "project_update": "Project update (client)",
    "signoff_requested": "Sign-off asked for (client)",
    "project_signed_off": "Sign-off answered (staff)",
    "update_due": "Project update due (staff)",
    "acceptance_receipt": "Acceptance receipt",
    "invite": "Invite to the intake",
    "agreement_reply": "Reply in the agreement thread",
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

    def project(self, token: str) -> str: ...
    def invite(self, token: str) -> str: ...


@dataclass(frozen=True)
class Mailer:
    """Everything writing a message needs: the settings and the links."""

    settings: MailSettings
    links: Links


_bound: Callable[[], Mailer] | None = None


def bind(provider: Callable[[], Mailer]) -> None:
    """Bind the :class:`Mailer` (the app's, when called): once, when the app starts."""
    global _bound
    _bound = provider


def bound() -> Mailer:
    """The bound :class:`Mailer`. Raises RuntimeError when none is bound: a message
    written without the app's settings would go nowhere (or to the wrong place)."""
    if _bound is None:
        raise RuntimeError("no Mailer bound: the app binds one when it starts (mail.bind)")
    return _bound()


# --- composing -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Composed:
    subject: str
    text: str
    html: str


@functools.cache
def environment() -> jinja2.Environment:
    """The email templates: HTML escaped, text as written, every name required."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(project_dir("templates") / "email")),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    env.filters["full_stop"] = full_stop  # "for Northwind Tea Co." never ends "Co.."
    return env


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
    if kind not in MESSAGE_KINDS:
        raise ValueError(f"unknown kind of email {kind!r}")
    held = user is not None and kind in STAFF_NOTICES and user.notices == "digest"
    settings = bound().settings
    agency = agency_name(settings)
    composed = compose(kind, agency=agency, base_url=settings.base_url, **context)
    from_address = sender(settings, agency)
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


def _links_to(
    intake: Intake, address: str, since: datetime | None = None, status: str | None = None
) -> int:
    where = [
        OutboxMessage.intake_id == intake.id,
        OutboxMessage.kind == "resume_link",
        func.lower(OutboxMessage.to_address) == address.strip().lower(),
    ]
    if since is not None:
        where.append(OutboxMessage.created_at >= since)
    if status is not None:
        where.append(OutboxMessage.status == status)
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


def _write_resume_link(intake: Intake) -> OutboxMessage:
    return write_to_prospect("resume_link", intake, resume_url=bound().links.resume(intake.token))


def resume_link_on_save(intake: Intake) -> OutboxMessage | None:
    """After a draft's step is saved: its private link, the first time the draft has
    this address (a changed address gets it too), within the limits. Needs the intake
    stored (an id)."""
    address = intake.contact_email
    if intake.status != "draft" or not address or intake.id is None:
        return None
    if _links_to(intake, address):
        return None
    if link_limited(intake, address, bound().settings):
        return None
    return _write_resume_link(intake)


def email_resume_link(intake: Intake) -> str:
    """The "Email me my link" button. Returns ``sent`` (written now, or a moment ago),
    ``no_email`` (the draft has no address yet), ``failed`` (the one a moment ago was
    refused for good: another would be too) or ``limited`` (try later)."""
    address = intake.contact_email
    if intake.status != "draft" or not address:
        return "no_email"
    if _links_to(intake, address, since=utcnow() - JUST_SENT):
        # the one written as the address was saved, or a double click
        failed = _links_to(intake, address, utcnow() - JUST_SENT, status="failed")
        return "failed" if failed else "sent"
    if link_limited(intake, address, bound().settings):
        return "limited"
    _write_resume_link(intake)
    return "sent"


def first_name(intake: Intake) -> str | None:
    name = (intake.contact_name or "").split()
    return name[0] if name else None


def owner_name(intake: Intake) -> str | None:
    """The name of the intake's owner, while they are active (the prospect's emails say
    who will be in touch); else None."""
    owner = intake.owner
    return owner.display_name if owner is not None and owner.active else None


def write_to_prospect(kind: str, intake: Intake, **fields: Any) -> OutboxMessage:
    """``kind`` written to the intake's prospect (their address, by name), replies
    reaching its owner (:func:`reply_to_for`), greeting them by first name and naming
    their company; ``fields``: :func:`write`'s other arguments and the kind's own."""
    return write(
        kind,
        intake.contact_email or "",
        to_name=intake.contact_name,
        intake=intake,
        reply_to=reply_to_for(intake),
        name=first_name(intake),
        company=intake.company,
        **fields,
    )


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


def on_submitted(intake: Intake) -> list[OutboxMessage]:
    """A submitted intake's messages: the prospect's receipt (when they gave an
    address) and the staff's notice; queued reminders are cancelled. Nothing is flushed
    here (the caller's conflicts surface at its commit)."""
    with db.session.no_autoflush:
        return _on_submitted(intake)


def _on_submitted(intake: Intake) -> list[OutboxMessage]:
    if intake.public_id is None:  # filled at INSERT; the keys need it now
        intake.public_id = new_token()
    rows = []
    if intake.contact_email:
        rows.append(
            write_to_prospect(
                "receipt",
                intake,
                dedupe_key=f"receipt:{intake.public_id}",
                email=intake.contact_email,
                owner=owner_name(intake),
            )
        )
    assessment = intake.assessment
    risks = (assessment.result.get("risks") if assessment else None) or {}
    rows += tell_staff(
        intake,
        "new_submission",
        f"new_submission:{intake.public_id}",
        score=intake.score,
        band=intake.band,
        recommendation=RECOMMENDATIONS.get(intake.recommendation or "", ""),
        top_risk=CAUSE_LABELS.get(intake.top_risk or ""),
        top_risk_value=risks.get(intake.top_risk or ""),
        intake_url=bound().links.workspace_intake(intake.public_id),
    )
    if intake.id is not None:
        cancel_reminders(intake, "Not sent: the prospect submitted their answers.")
    return rows


def tell_staff(intake: Intake, kind: str, dedupe: str, **context: Any) -> list[OutboxMessage]:
    """One ``kind`` notice about ``intake`` to each member of staff to tell (the owner,
    else every active manager: :func:`staff_to_tell`), each with its own dedupe key
    (``dedupe`` and the user's id); ``context``: what the kind's templates show beside
    the prospect's name, email and company."""
    owner = intake.owner if intake.owner is not None and intake.owner.active else None
    return [
        write(
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
        for user in staff_to_tell(intake, bound().settings)
    ]


# --- reminders and notices (the reminders: reminders.py; the digests: digests.py) ----------


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


def held_count(user: User) -> int:
    """Notices waiting for ``user``'s next digest."""
    return _count(OutboxMessage.user_id == user.id, OutboxMessage.status == "held")


def set_notices(user: User, choice: str) -> None:
    """A user's choice of how they hear of their intakes; the caller commits."""
    if choice not in NOTICE_CHOICES:
        raise ValueError(f"not a choice: {choice!r}")
    user.notices = choice


# --- subscriptions -------------------------------------------------------------------------------


def _step_saved(intake: Intake, **_: Any) -> None:
    resume_link_on_save(intake)


def _submitted(intake: Intake, *, email: bool = True, **_: Any) -> None:
    if email:  # False for the demo data
        on_submitted(intake)  # written now, sent after the commit


def subscribe() -> None:
    """Write the messages the use cases' signals call for (see the module's list)."""
    signals.intake_saved.connect(_step_saved, weak=False)
    signals.intake_submitted.connect(_submitted, weak=False)
