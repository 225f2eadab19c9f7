"""The prospect's answer to the version sent: a change request or an acceptance (and the
manager's replies in the thread). Each announces what happened
(:mod:`onboarding.services.signals`); callers commit."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from onboarding.db import db
from onboarding.db.models import AgreementMessage, AgreementVersion, Intake, User, utcnow
from onboarding.domain.text import control_problem
from onboarding.services import signals
from onboarding.services.agreement.records import AcceptanceRecord
from onboarding.services.agreement.versions import (
    MAX_COMMENT,
    MAX_NAME,
    MAX_TITLE,
    company_of,
    contact_of,
    latest_version,
    normalised_name,
    one_line,
    verified_page,
    verified_pdf,
)
from onboarding.services.intake.workspace import (
    WorkspaceError,
    audit,
    change_status,
    required_text,
)


def _open_for_answer(version: AgreementVersion) -> None:
    """Refuse an answer to a version that is not the one awaiting the prospect."""
    if version.status == "accepted":
        raise WorkspaceError("agreement", "This agreement has already been accepted.")
    if version.status == "superseded":
        raise WorkspaceError(
            "agreement", "A newer version of this agreement was sent to you: please open that one."
        )
    if version.status == "changes_requested":
        raise WorkspaceError(
            "agreement",
            "You asked for changes to this version; your account manager will send a new one.",
        )
    if version.intake.status != "agreement_sent":
        raise WorkspaceError("agreement", "This agreement is not open for acceptance.")


def record_change_request(version: AgreementVersion, comment: str) -> AgreementMessage:
    """The prospect comments or asks for changes: the thread keeps it, and announces
    ``changes_requested`` (the webhook event, the staff's notice; the intake waits in
    "needs your attention" until a reply or a new version). The version stays open, to
    comment on again, answer the manager's reply or accept, until a new one is sent.
    The comment form checks its fields first
    (:func:`onboarding.services.agreement.change_requests.request_changes`)."""
    _open_for_answer(version)
    comment = required_text(comment, "comment", "Tell us what you would like changed", MAX_COMMENT)
    message = AgreementMessage(
        intake_id=version.intake_id, version_id=version.id, author="prospect", text=comment
    )
    db.session.add(message)
    audit(
        version.intake,
        None,
        "prospect_commented",
        None,
        f"version {version.number}",
        "changes requested by the prospect",
    )
    signals.announce(signals.changes_requested, version.intake, version=version, comment=comment)
    return message


def add_manager_message(intake: Intake, user: User, text: str) -> AgreementMessage:
    """A manager's reply in the agreement thread."""
    text = required_text(text, "reply", "Write the reply before sending it", MAX_COMMENT)
    version = latest_version(intake)
    message = AgreementMessage(
        intake_id=intake.id,
        version_id=version.id if version else None,
        author="manager",
        user_id=user.id,
        text=text,
    )
    db.session.add(message)
    # the prospect's email, with the link back to the thread (notify.prospect)
    signals.announce(
        signals.manager_replied, intake, version=version, text=text, author=user.display_name
    )
    return message


@dataclass(frozen=True)
class Acceptance:
    """What the prospect sent: the typed name, the consent box, and where from; when
    the name is not the contact's, also their title and the authority box."""

    name: str
    consent: bool
    ip: str
    user_agent: str
    title: str = ""
    authority: bool = False
    legal_name: str | None = None  # None: not posted (the terms' value stands)
    address: str | None = None
    options: dict[str, int] | None = None  # the options chosen: {id: quantity}


MAX_LEGAL_NAME, MAX_ADDRESS = 200, 300


def client_details_of(version: AgreementVersion) -> dict[str, str]:
    """The client's legal name and registered address as the version was sent with them
    (its terms' ``client``), to prefill the prospect's confirmation: blank when unset."""
    client = (version.terms or {}).get("client") or {}
    if not isinstance(client, dict):
        client = {}
    return {
        "legal_name": one_line(
            client.get("legal_name") if isinstance(client.get("legal_name"), str) else ""
        ),
        "address": one_line(
            client.get("address") if isinstance(client.get("address"), str) else ""
        ),
    }


def _client_detail(
    typed: str | None, sent: str, field_name: str, what: str, limit: int, errors: dict
) -> str:
    """One confirmed detail (legal name, address): as typed, else as sent; required."""
    raw = sent if typed is None else typed
    # An address typed on several lines reads as one line, its lines joined by commas.
    value = ", ".join(one_line(line) for line in raw.splitlines() if line.strip())
    if not value:
        errors[field_name] = f"Give your company's {what}: it is stated in the agreement"
    elif control_problem(raw.strip(), multiline=True):
        errors[field_name] = f"The {what} {control_problem(raw.strip(), multiline=True)}"
    elif len(value) > limit:
        errors[field_name] = f"The {what} must be at most {limit} characters"
    return value


@dataclass(frozen=True)
class PreparedAcceptance:
    """An acceptance checked, to record (its PDF is made after, in the background)."""

    version_id: int
    pdf_sha256: str  # of the PDF the prospect saw (the final PDF states it)
    record: AcceptanceRecord
    options: list[dict[str, Any]] | None = None  # the options chosen ([{"id", "quantity"}])


def check_acceptance(version: AgreementVersion, acceptance: Acceptance) -> dict[str, Any]:
    """The acceptance's clean values (the client's confirmed legal name and address,
    name, title, authority), or WorkspaceError with every field's problem in
    ``errors``, keyed by field in the form's order: ``legal_name`` and ``address``
    (prefilled from the terms the version was sent with; required), ``name``,
    ``title`` and ``authority`` (needed when the typed name is not the contact's),
    ``consent``. Also refuses a version not open for an answer."""
    errors: dict[str, str] = {}
    sent = client_details_of(version)
    legal_name = _client_detail(
        acceptance.legal_name, sent["legal_name"], "legal_name", "registered legal name",
        MAX_LEGAL_NAME, errors,
    )  # fmt: skip
    address = _client_detail(
        acceptance.address, sent["address"], "address", "registered address", MAX_ADDRESS,
        errors,
    )  # fmt: skip
    name, title = one_line(acceptance.name), one_line(acceptance.title)
    typed = (acceptance.name or "").strip()
    if not name:
        errors["name"] = "Type your full name to accept"
    elif control_problem(typed, multiline=False):
        errors["name"] = f"Your name {control_problem(typed, multiline=False)}"
    elif len(name) > MAX_NAME:
        errors["name"] = f"Your name must be at most {MAX_NAME} characters"
    contact = contact_of(version)
    stand_in = bool(name) and normalised_name(name) != normalised_name(contact)
    typed_title = (acceptance.title or "").strip()
    if control_problem(typed_title, multiline=False):
        errors["title"] = f"Your title {control_problem(typed_title, multiline=False)}"
    elif len(title) > MAX_TITLE:
        errors["title"] = f"Your title must be at most {MAX_TITLE} characters"
    elif stand_in and not title:
        errors["title"] = (
            f"Give your job title: you are signing instead of {contact}"
            if contact
            else "Give your job title"
        )
    if stand_in and not acceptance.authority:
        errors["authority"] = (
            f"Tick the box to confirm you have authority to sign for {company_of(version)}"
        )
    chosen_options(version, acceptance.options or {}, errors)
    if not acceptance.consent:
        errors["consent"] = "Tick the box to confirm you accept the agreement"
    _open_for_answer(version)
    if errors:
        field_name, message = next(iter(errors.items()))
        raise WorkspaceError(field_name, message, errors)
    return {
        "name": name,
        "title": title or None,
        "authority": True if acceptance.authority else None,
        "legal_name": legal_name,
        "address": address,
    }


def chosen_options(
    version: AgreementVersion, choice: dict[str, int], errors: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """The choice among the options the version offered, as it is frozen with the
    acceptance (``[{"id", "quantity"}]``, included options always in it); a problem goes
    into ``errors["options"]``."""
    from onboarding.domain.agreement import choose_from_offer

    content = version.content or {}
    currency = str((content.get("resolved_terms") or {}).get("currency") or "GBP")
    _, picked, problems = choose_from_offer(content.get("options_offered") or (), choice, currency)
    if problems and errors is not None:
        errors["options"] = "; ".join(m[:1].upper() + m[1:] for _, m in problems)
    return [{"id": c.option.id, "quantity": c.quantity} for c in picked]


def prepare_acceptance(version: AgreementVersion, acceptance: Acceptance) -> PreparedAcceptance:
    """Check the prospect's acceptance (and that the stored PDF and page are intact).

    Writes nothing: call it before the write transaction of :func:`record_acceptance`
    begins. Raises WorkspaceError (every field's problem in ``errors``,
    :func:`check_acceptance`) or AgreementCorrupted when the stored PDF or page does not
    match its SHA-256. The accepted PDF is rendered after the acceptance is recorded
    (:func:`ensure_file`), by the outbox worker or the first request that wants it.
    """
    clean = check_acceptance(version, acceptance)
    intake = version.intake
    record = AcceptanceRecord(
        name=clean["name"],
        email=intake.contact_email or intake.answers.get("contact_email"),
        at=utcnow(),
        ip=(acceptance.ip or "")[:64],
        user_agent=(acceptance.user_agent or "")[:500],
        title=clean["title"],
        authority=clean["authority"],
        legal_name=clean["legal_name"],
        address=clean["address"],
    )
    verified_pdf(version)  # the PDF the prospect saw is intact
    verified_page(version)
    chosen = chosen_options(version, acceptance.options or {})
    return PreparedAcceptance(version.id, version.pdf_sha256, record, chosen)


def record_acceptance(version: AgreementVersion, prepared: PreparedAcceptance) -> AgreementVersion:
    """Record a prepared acceptance, move the intake to ``accepted`` and announce
    ``agreement_accepted`` (the webhook event, the staff's notice, the accepted PDF
    queued to be made after the commit).

    Lock the version first (``version_by_token(..., for_update=True)`` inside a write
    transaction) so a double click accepts once: the second raises WorkspaceError.
    """
    if (version.id, version.pdf_sha256) != (prepared.version_id, prepared.pdf_sha256):
        raise ValueError("this acceptance was prepared for another agreement")
    _open_for_answer(version)
    record = prepared.record
    version.accepted_name = record.name
    version.accepted_email = record.email
    version.accepted_at = record.at
    version.accepted_ip = record.ip
    version.accepted_user_agent = record.user_agent
    version.accepted_title = record.title
    version.accepted_authority = record.authority
    version.accepted_legal_name = record.legal_name
    version.accepted_address = record.address
    if (version.content or {}).get("options_offered") or prepared.options:
        version.options_chosen = list(prepared.options or [])
        titles = {o["id"]: o["title"] for o in version.content.get("options_offered") or ()}
        named = ", ".join(
            titles.get(o["id"], o["id"]) + (f" \u00d7{o['quantity']}" if o["quantity"] > 1 else "")
            for o in version.options_chosen
        )
        audit(version.intake, None, "options_chosen", None, named or None)
    version.status = "accepted"
    change_status(version.intake, "accepted", None, detail=f"accepted by {record.name}")
    signals.announce(signals.agreement_accepted, version.intake, version=version)
    return version


def option_summary(version: AgreementVersion, choice: dict[str, int]) -> dict[str, Any]:
    """What the agreement page shows of the options: each offered (with the quantity
    chosen), the totals they add (``once``, ``monthly`` in words), and the problems of
    the choice."""
    from decimal import Decimal

    from onboarding.domain.agreement import choose_from_offer
    from onboarding.domain.options import money, totals

    content = version.content or {}
    currency = str((content.get("resolved_terms") or {}).get("currency") or "GBP")
    offered = content.get("options_offered") or []
    lines, picked, problems = choose_from_offer(offered, choice, currency)
    added = totals(picked)
    quantities = {c.option.id: c.quantity for c in picked}
    frozen = {o["id"]: o["quantity"] for o in version.options_chosen or ()}
    return {
        "offered": offered,
        "currency": currency,
        "symbol": money(Decimal(0), currency).replace("0.00", "").strip(),
        "quantities": frozen if version.options_chosen is not None else quantities,
        "chosen": lines,
        "once": money(added["once"], currency),
        "monthly": money(added["monthly"], currency),
        "problems": [m for _, m in problems],
    }
