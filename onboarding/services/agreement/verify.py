"""Which file we issued a PDF is (``onboarding verify``, the verification page), by its
SHA-256."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

from sqlalchemy import select

from onboarding.db import db
from onboarding.db.models import AgreementVersion
from onboarding.services import sealing
from onboarding.services.agreement.versions import sha256

FILE_LABELS = {"signed": "fully signed", "accepted": "accepted by the client", "sent": "sent"}
"""The files we issue, as :func:`verify` names them."""


@dataclass(frozen=True)
class Verification:
    version: AgreementVersion
    kind: str  # "signed" (both signatures), "accepted" (by the client) or "sent"

    @property
    def label(self) -> str:
        """``fully signed (version 2)``, ``accepted by the client (version 2)`` or
        ``sent (version 1)``."""
        return f"{FILE_LABELS[self.kind]} (version {self.version.number})"

    @property
    def signature(self):
        """The agency's seal on the file (:func:`sealing.signature_of`): the file matched
        byte for byte, so the stored copy's signature is the file's."""
        return sealing.signature_of(sealing.stored_file(self.version, self.kind))


def verify(data: bytes) -> Verification | None:
    """Which file we issued a PDF is, by its SHA-256: the signed, the accepted or the
    sent PDF of a version; None if it matches none."""
    return verify_digest(sha256(data))


def verify_stream(stream: io.RawIOBase | io.BufferedIOBase, chunk: int = 1 << 16):
    """:func:`verify` for a file read a chunk at a time (an upload of any size is
    hashed without being held in memory)."""
    digest = hashlib.sha256()
    while True:
        block = stream.read(chunk)
        if not block:
            break
        digest.update(block)
    return verify_digest(digest.hexdigest())


def verify_digest(digest: str) -> Verification | None:
    """The version and kind of the PDF whose SHA-256 (hex) is ``digest``, or None."""
    for kind, column in (
        ("signed", AgreementVersion.signed_pdf_sha256),
        ("accepted", AgreementVersion.final_pdf_sha256),
        ("sent", AgreementVersion.pdf_sha256),
    ):
        version = db.session.execute(
            select(AgreementVersion).where(column == digest).order_by(AgreementVersion.id)
        ).scalars().first()  # fmt: skip
        if version is not None:
            return Verification(version, kind)
    return None


# --- the public verification page: only genuine or not, which version, its state ----------

STATE_WORDS = {"sent": "sent", "accepted": "accepted", "signed": "signed"}


class PublicAnswer:
    """What the public verification page may say about a file: genuine or not, and
    for a genuine one its document id, version, state (sent, accepted, signed) and the
    seal's state. Nothing else (no names, no company: only what the file holds)."""

    def __init__(self, verification=None):
        self.genuine = verification is not None
        self.document_id = verification.version.document_id if verification else ""
        self.number = verification.version.number if verification else None
        self.state = STATE_WORDS[verification.kind] if verification else ""
        self.signature = verification.signature if verification else None

    @property
    def summary(self) -> str:
        """``genuine, version 2, signed`` or ``not a document we issued``."""
        if not self.genuine:
            return "not a document we issued"
        return f"genuine, version {self.number}, {self.state}"


def check_fingerprint(document_id: str, fingerprint: str) -> PublicAnswer:
    """The public answer for a typed document id and SHA-256: genuine only when a file
    we issued has that fingerprint and belongs to that document."""
    found = verify_digest(fingerprint.lower())
    if found is None or found.version.document_id.upper() != document_id.strip().upper():
        return PublicAnswer()
    return PublicAnswer(found)


def check_file(stream) -> PublicAnswer:
    """The public answer for an uploaded file (read a chunk at a time)."""
    return PublicAnswer(verify_stream(stream))
