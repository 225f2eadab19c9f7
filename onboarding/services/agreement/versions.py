"""The versions of an agreement as sent: reading them, their links' lifetime, what changed
since the previous one, and their stored files and pages checked against their
SHA-256 before anything shows or uses them."""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import defer

from onboarding.db import db
from onboarding.db.models import AgreementMessage, AgreementVersion, Intake, utcnow
from onboarding.domain import redline as redlines
from onboarding.domain.questionnaire import get_questionnaire
from onboarding.services.intake.submission import find_by_token

MAX_COMMENT = 5000


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


FILES = (
    AgreementVersion.pdf,
    AgreementVersion.final_pdf,
    AgreementVersion.signed_pdf,
    AgreementVersion.html,
    AgreementVersion.stylesheet,
)
"""A version's files and frozen page (hundreds of KB each): loaded when read."""


def versions_of(intake: Intake) -> list[AgreementVersion]:
    """Every version sent for an intake, oldest first (its files load when read: a
    send or a page listing the versions does not fetch every stored PDF)."""
    return list(
        db.session.execute(
            select(AgreementVersion)
            .where(AgreementVersion.intake_id == intake.id)
            .order_by(AgreementVersion.number)
            .options(*(defer(column) for column in FILES))
        ).scalars()
    )


def messages_of(intake: Intake) -> list[AgreementMessage]:
    return list(
        db.session.execute(
            select(AgreementMessage)
            .where(AgreementMessage.intake_id == intake.id)
            .order_by(AgreementMessage.id)
        ).scalars()
    )


class AgreementCorrupted(RuntimeError):
    """A stored PDF or page no longer matches the SHA-256 recorded with it: it is never
    served nor accepted (the database was changed behind the app's back)."""


def page_digest(title: str, html: str, stylesheet: str) -> str:
    """The SHA-256 of a frozen page: its title, HTML and stylesheet."""
    return sha256("\0".join((title, html, stylesheet)).encode())


@dataclass(frozen=True)
class FrozenPage:
    """The page a prospect reads, as it was when the version was sent."""

    title: str
    html: str  # the agreement's content: the document's <main>, without the page
    stylesheet: str


def link_expires_at(version: AgreementVersion, days: int) -> datetime | None:
    """When the prospect's link to ``version`` stops opening it: ``days``
    (``SIGNING_DAYS``) after it was sent or last renewed ("Send the link again"), or at
    the end of the terms' ``valid_until`` day if sooner. None for a version answered
    (an accepted or signed agreement stays reachable by its link)."""
    if version.status != "sent":
        return None
    start = version.link_renewed_at or version.sent_at
    ends = start + timedelta(days=days)
    raw = (version.terms or {}).get("valid_until") if isinstance(version.terms, dict) else None
    if isinstance(raw, str) and raw:
        try:
            until = datetime.fromisoformat(raw[:10]).replace(tzinfo=UTC) + timedelta(days=1)
        except ValueError:
            until = None
        if until is not None and version.link_renewed_at is None and until < ends:
            ends = until
    return ends


def link_lapsed(version: AgreementVersion, days: int, now: datetime | None = None) -> bool:
    """Whether the prospect's link to ``version`` has lapsed (see :func:`link_expires_at`)."""
    ends = link_expires_at(version, days)
    return ends is not None and (now or utcnow()) >= ends


def previous_version(version: AgreementVersion) -> AgreementVersion | None:
    """The version sent before this one, or None for the first."""
    return db.session.execute(
        select(AgreementVersion)
        .where(
            AgreementVersion.intake_id == version.intake_id,
            AgreementVersion.number < version.number,
        )
        .order_by(AgreementVersion.number.desc())
        .limit(1)
    ).scalar_one_or_none()


def changes_of(version: AgreementVersion) -> redlines.Changes | None:
    """What a version changed since the previous one, ready to show (clause numbers,
    shortened context); None for a first version or one without a redline."""
    if version.redline is None:
        return None
    previous = previous_version(version)
    return redlines.changes(
        version.redline,
        previous.number if previous is not None else version.number - 1,
        previous.content if previous is not None else None,
        version.content,
    )


def verified_pdf(version: AgreementVersion, *, final: bool = False, signed: bool = False) -> bytes:
    """The version's PDF as sent (``final``: as accepted by the client; ``signed``: as
    countersigned, with both signatures), once its SHA-256 matches the one recorded;
    raises AgreementCorrupted if not, ValueError for a file the version does not have."""
    data, recorded, kind = version.pdf, version.pdf_sha256, "sent"
    if signed:
        if version.signed_pdf is None:
            raise ValueError("this version has not been countersigned")
        data, recorded, kind = version.signed_pdf, version.signed_pdf_sha256, "signed"
    elif final:
        if version.final_pdf is None:
            raise ValueError("this version has not been accepted")
        data, recorded, kind = version.final_pdf, version.final_pdf_sha256, "accepted"
    if sha256(data) != recorded:
        raise AgreementCorrupted(
            f"the {kind} PDF of {version.document_id} version {version.number} does not "
            "match its recorded SHA-256"
        )
    return data


def verified_page(version: AgreementVersion) -> FrozenPage | None:
    """The page frozen with the version, once its SHA-256 matches the one recorded
    (raises AgreementCorrupted if not); None for a version sent before pages were kept,
    whose prospect reads the PDF."""
    if version.html is None:
        return None
    page = FrozenPage(version.title or "", version.html, version.stylesheet or "")
    if page_digest(page.title, page.html, page.stylesheet) != version.page_sha256:
        raise AgreementCorrupted(
            f"the page of {version.document_id} version {version.number} does not match "
            "its recorded SHA-256"
        )
    return page


def version_by_token(token: str, *, for_update: bool = False) -> AgreementVersion | None:
    """The version a prospect's agreement link opens, or None."""
    return find_by_token(AgreementVersion.token, token, for_update=for_update)


def latest_version(intake: Intake) -> AgreementVersion | None:
    versions = versions_of(intake)
    return versions[-1] if versions else None


# --- names and moments as the records and certificates state them --------------------------

MAX_NAME = MAX_TITLE = 120


def normalised_name(name: str | None) -> str:
    """A name as compared with the contact's: case, accents, punctuation and spacing aside."""
    text = unicodedata.normalize("NFKD", name or "")
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    return " ".join("".join(c if c.isalnum() else " " for c in text).split())


def one_line(value: str | None) -> str:
    """``value`` on one line, its runs of whitespace one space."""
    return " ".join((value or "").split())


def company_of(version: AgreementVersion) -> str:
    """The client's company as the version names it."""
    return get_questionnaire().questions["company"].display(version.answers.get("company"))


def contact_of(version: AgreementVersion) -> str:
    """The client contact the version was sent to (the name its signature block prints)."""
    return one_line(version.answers.get("contact_name"))


def signed_filename(version: AgreementVersion) -> str:
    """The signed PDF's file name: the sent one's, `` - signed`` added."""
    return (version.filename or f"{version.document_id}.pdf").replace(".pdf", " - signed.pdf")


def utc_text(moment: datetime) -> str:
    """A moment as the certificates state it: ``2026-11-27 14:03:07 UTC``."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")
