"""Which file we issued a PDF is (``onboarding verify``, the verification page), by its
SHA-256."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

from sqlalchemy import select

from onboarding.db import db
from onboarding.db.models import AgreementVersion
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
