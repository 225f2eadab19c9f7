"""The files we issue after the PDF as sent: the accepted and the signed PDF, each the
page frozen when the version was sent, re-rendered with the signature(s) in its
signature block, then a certificate stating the SHA-256 of the file(s) it came from
and each event (who, when in UTC, from where)."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from datetime import datetime

from markupsafe import escape
from sqlalchemy import select

from onboarding.db import db
from onboarding.db.engine import begin_write
from onboarding.db.models import AgreementVersion
from onboarding.rendering import documents, pdf
from onboarding.services import sealing, signals, trail
from onboarding.services.agreement import compose as agreements
from onboarding.services.agreement.answers import client_details_of
from onboarding.services.agreement.records import (
    AcceptanceRecord,
    CountersignRecord,
    acceptance_record,
    countersign_record,
)
from onboarding.services.agreement.versions import (
    company_of,
    sha256,
    signed_filename,
    utc_text,
    verified_page,
    verified_pdf,
)
from onboarding.services.intake.workspace import audit


def ensure_file(version_id: int, kind: str) -> bool:
    """Make the ``accepted`` or ``signed`` PDF of a version if it is not made yet (the
    worker after the acceptance or countersignature, or the first request that wants it
    first); stored in a short write transaction of its own (call it without the write
    lock). One process renders it (a claim on the version and kind) while the others
    wait, at most ``agreements.WAIT_SECONDS``, then render it themselves; the first to
    store it wins (the version row is locked), so the file never changes once stored.
    Announces ``file_issued`` as it stores a file (with the signed PDF, the prospect's
    confirmation, the PDF attached, is written in the same transaction). Returns whether
    the file exists now."""
    if kind not in ("accepted", "signed"):
        raise ValueError(f"not a file we issue: {kind!r}")
    column = AgreementVersion.final_pdf if kind == "accepted" else AgreementVersion.signed_pdf
    db.session.rollback()  # a fresh look at what is stored
    version = db.session.get(AgreementVersion, version_id, populate_existing=True)
    if version is None:
        return False
    if getattr(version, column.key) is not None:
        return True
    if kind == "signed" and version.final_pdf is None:
        ensure_file(version_id, "accepted")
    key = f"{kind}:{version_id}"
    claimed = agreements.claim(key)
    if not claimed:  # another process makes it now: wait for it, then make it here
        if agreements.wait_for(key, lambda: _stored(version_id, column), agreements.WAIT_SECONDS):
            db.session.rollback()  # end our snapshot: the caller then reads the stored file
            return True
        claimed = agreements.claim(key)
    db.session.rollback()
    version = db.session.get(AgreementVersion, version_id, populate_existing=True)
    if version is None:
        if claimed:
            agreements.release(key)
        return False
    try:
        if kind == "accepted":
            data = final_pdf(version, acceptance_record(version))
        else:
            data = signed_pdf(version, acceptance_record(version), countersign_record(version))
        data = sealing.seal_record(data, kind.capitalize(), version.document_id, version.number)
        db.session.rollback()
        begin_write(db.session())
        version = db.session.execute(
            select(AgreementVersion).where(AgreementVersion.id == version_id).with_for_update()
        ).scalar_one_or_none()
        if version is None:  # deleted with its intake meanwhile
            db.session.rollback()
            return False
        if getattr(version, column.key) is None:
            if kind == "accepted":
                version.final_pdf, version.final_pdf_sha256 = data, sha256(data)
            else:
                version.signed_pdf, version.signed_pdf_sha256 = data, sha256(data)
            audit(
                version.intake,
                None,
                f"{kind}_pdf_made",
                None,
                f"version {version.number}",
                f"{kind} PDF SHA-256 {sha256(data)}",
            )
            signals.announce(
                signals.file_issued,
                version.intake,
                version=version,
                kind=kind,
                pdf=data,
                filename=signed_filename(version),
            )
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    finally:
        if claimed:
            agreements.release(key)
    return True


_OPTIONS_ROW = re.compile(
    r'(<tr class="scope-fees__options">\s*<th scope="row">Options</th>\s*<td>)(.*?)(</td>)',
    re.DOTALL,
)


def chosen_lines(version: AgreementVersion) -> list[str]:
    """The Scope-and-fees lines of the options the Client chose with the acceptance
    (their prices, what they add to the fee, the levels they set); [] for none."""
    from onboarding.domain.agreement import chosen_option_lines

    return chosen_option_lines(version.content or {}, version.options_chosen)


def fill_options(html: str, version: AgreementVersion) -> str:
    """The frozen page with the Client's choice of options in its Scope-and-fees row
    (the page as sent says none is chosen yet); unchanged for a version whose
    acceptance chose nothing among no options offered."""
    if version.options_chosen is None:
        return html
    lines = chosen_lines(version)
    if not lines:
        cell = "None chosen."
    else:
        items = "".join(f"<li>{escape(line)}</li>" for line in lines)
        cell = f'<ul class="scope-fees__list">{items}</ul>'
    return _OPTIONS_ROW.sub(lambda m: m.group(1) + cell + m.group(3), html, count=1)


def _options_part(version: AgreementVersion) -> documents.CertificatePart | None:
    """The options chosen with the acceptance, named in the certificate (None when none
    were: the Scope-and-fees row then says so)."""
    lines = chosen_lines(version) if version.options_chosen else []
    if not lines:
        return None
    facts = {f"Option {i}": line for i, line in enumerate(lines, start=1)}
    return documents.CertificatePart("Options chosen by the Client", facts)


def _stored(version_id: int, column) -> bool:
    with db.engine.connect() as connection:
        return (
            connection.execute(
                select(column.isnot(None)).where(AgreementVersion.id == version_id)
            ).scalar()
            is True
        )


def _agreement_part(version: AgreementVersion, *, accepted: bool) -> documents.CertificatePart:
    facts = {
        "Agreement": f"{version.document_id}, version {version.number}",
        "Client": company_of(version),
        "Sent (UTC)": utc_text(version.sent_at),
        f"SHA-256 of the PDF as sent (version {version.number})": version.pdf_sha256,
    }
    if accepted:
        facts[f"SHA-256 of the accepted PDF (version {version.number})"] = (
            version.final_pdf_sha256 or ""
        )
    facts["SHA-256 of the agreement content"] = version.content_sha256
    return documents.CertificatePart("The agreement", facts)


def _client_part(version: AgreementVersion, record: AcceptanceRecord) -> documents.CertificatePart:
    facts = {"Accepted by (typed name)": record.name}
    if record.title:
        facts["Title"] = record.title
    if record.authority:
        facts[f"Authority to sign for {company_of(version)}"] = "Confirmed by the signer"
    # The client's legal details as the signer corrected or completed them (as sent,
    # the party block states them and the certificate need not repeat them).
    sent = client_details_of(version)
    if record.legal_name and record.legal_name != sent["legal_name"]:
        facts["Client's legal name (as the signer gave it)"] = record.legal_name
    if record.address and record.address != sent["address"]:
        facts["Client's registered address (as the signer gave it)"] = record.address
    facts |= {
        "Email of the client contact": record.email or "",
        "Accepted at (UTC)": utc_text(record.at),
        "From IP address": record.ip or "unknown",
        "Browser (user agent)": record.user_agent or "unknown",
    }
    head = trail.head_at(version.intake_id, "status", "accepted", record.at)
    facts["History chain head at acceptance (SHA-256)"] = head or "not recorded"
    return documents.CertificatePart("Accepted by the Client", facts)


def _agency_part(record: CountersignRecord, intake_id: int = 0) -> documents.CertificatePart:
    head = trail.head_at(intake_id, "agreement_countersigned", None, record.at)
    return documents.CertificatePart(
        "Countersigned for the Agency",
        {
            "Countersigned by": record.name,
            "Title": record.title,
            "Email": record.email,
            "Countersigned at (UTC)": utc_text(record.at),
            "From IP address": record.ip or "unknown",
            "Browser (user agent)": record.user_agent or "unknown",
            "History chain head at countersignature (SHA-256)": head or "not recorded",
        },
    )


def acceptance_certificate(
    version: AgreementVersion, record: AcceptanceRecord, *, rerendered: bool = True
) -> documents.Certificate:
    """The certificate of the accepted PDF: what it is, the version and sent PDF it came
    from (its SHA-256), and the acceptance (who, when in UTC, from where)."""
    made = (
        "the document frozen when it was sent, re-rendered with the Client's signature"
        if rerendered
        else "the pages of the PDF as sent, then a page with the Client's signature"
    )
    return documents.Certificate(
        "Certificate of acceptance",
        (
            f"This file is agreement {version.document_id}, version {version.number}, as "
            f"accepted by the Client: {made}, then this certificate.",
            f"This file came from version {version.number}, PDF SHA-256 "
            f"{version.pdf_sha256}. The agency keeps the SHA-256 of every file it issues: "
            "anyone holding this file can check it with the agency.",
        ),
        tuple(
            p
            for p in (
                _agreement_part(version, accepted=False),
                _client_part(version, record),
                _options_part(version),
            )
            if p is not None
        ),
        verify_url=sealing.verify_url(version.document_id),
    )


def signature_certificate(
    version: AgreementVersion,
    client: AcceptanceRecord,
    agency: CountersignRecord,
    *,
    rerendered: bool = True,
) -> documents.Certificate:
    """The certificate of the signed PDF: what it is, the version and accepted PDF it
    came from (their SHA-256), and both events (who, when in UTC, from where)."""
    made = (
        "the document frozen when it was sent, re-rendered with both signatures"
        if rerendered
        else "the pages of the PDF as sent, then a page with both signatures"
    )
    return documents.Certificate(
        "Certificate of signature",
        (
            f"This file is agreement {version.document_id}, version {version.number}, signed "
            f"by both parties: {made}, then this certificate of both signatures.",
            f"This file came from version {version.number}, PDF SHA-256 {version.pdf_sha256}, "
            f"as accepted by the Client in the file with SHA-256 {version.final_pdf_sha256}. "
            "The agency keeps the SHA-256 of every file it issues: anyone holding this file "
            "can check it with the agency.",
        ),
        (
            _agreement_part(version, accepted=True),
            _client_part(version, client),
            *((_options_part(version),) if _options_part(version) is not None else ()),
            _agency_part(agency, version.intake_id),
        ),
        verify_url=sealing.verify_url(version.document_id),
    )


def _client_mark(version: AgreementVersion, record: AcceptanceRecord) -> documents.SignatureMark:
    return documents.SignatureMark(
        0, company_of(version), record.name, record.title or "", utc_text(record.at)
    )


def _party_lines(
    record: AcceptanceRecord, agency: CountersignRecord | None = None
) -> dict[str, dict[str, str]]:
    """The party block's lines the acceptance (and the countersignature) settle: the
    client's legal name and address as the signer confirmed them, the person who
    signed for the client when not the one named, and the person who countersigned
    for the agency (so the block names who signed)."""
    client = {"legal_name": record.legal_name or "", "address": record.address or ""}
    if record.title:  # a stand-in signed, with their title
        client["signatory"] = f"{record.name}, {record.title}"
    lines = {"client": client}
    if agency is not None:
        who = ", ".join(part for part in (agency.name, agency.title) if part)
        lines["agency"] = {"signatory": who, "email": agency.email}
    return lines


def _issue(
    version: AgreementVersion,
    marks: tuple[documents.SignatureMark, ...],
    certificate,  # rerendered: bool -> documents.Certificate
    *,
    kind: str,
    at: datetime,
    party_lines: dict[str, dict[str, str]] | None = None,
) -> bytes:
    """A file we issue from ``version``: its frozen page re-rendered with ``marks`` in
    the signature block, then the certificate, in one render; for a version without a
    frozen page (or one whose signature block cannot take them), the PDF as sent
    followed by a signature page and the certificate. Raises AgreementCorrupted when
    the stored PDF or page does not match its SHA-256."""
    from pypdf import PdfReader, PdfWriter

    shown = verified_pdf(version)  # the file it came from: its SHA-256 is stated
    page = verified_page(version)
    if page is not None:  # the Client's choice of options, in Scope and fees
        page = replace(page, html=fill_options(page.html, version))
    source = PdfReader(io.BytesIO(shown)).metadata or {}
    subject = f"{kind} agreement {version.document_id}, version {version.number}"
    identifier = sha256(f"{version.pdf_sha256}\0{kind}\0{at.isoformat()}".encode())[:32].encode()
    author = str(source.get("/Author") or "")
    marks = tuple(
        m if m.organisation else replace(m, organisation=author or "the Agency") for m in marks
    )
    renderer = pdf.get_renderer()
    html = None
    if page is not None:
        body = page.html
        for role, lines in (party_lines or {}).items():
            body = documents.fill_party(body, role, lines)
        html = documents.signed_html(
            title=page.title,
            body=body,
            stylesheet=page.stylesheet,
            paper=version.paper,
            marks=marks,
            certificate=certificate(True),
            meta={
                "author": author,
                "description": subject,
                "keywords": f"engagement agreement, {version.document_id}",
                "generator": "Onboarding",
                "dcterms.created": version.sent_at.date().isoformat(),
                "dcterms.modified": at.date().isoformat(),
            },
        )
    if html is not None:
        return renderer.render(html, identifier=identifier).pdf
    pages = renderer.render(
        documents.certificate_html(
            title=f"{kind} agreement {version.document_id}",
            paper=version.paper,
            certificate=certificate(False),
            marks=marks,
            document_id=version.document_id,
        ),
        identifier=identifier,
    ).pdf
    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(sealing.unsealed(shown))))  # not the old seal's field
    writer.append(PdfReader(io.BytesIO(pages)))
    writer.add_metadata({k: v for k, v in source.items() if isinstance(v, str)})
    writer.add_metadata({"/Subject": subject})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def final_pdf(version: AgreementVersion, record: AcceptanceRecord) -> bytes:
    """The accepted PDF: the document frozen when it was sent, re-rendered with the
    Client's signature, then the certificate of acceptance (stating the sent PDF's
    SHA-256). Raises AgreementCorrupted when the stored PDF or page does not match its
    SHA-256."""
    return _issue(
        version,
        (_client_mark(version, record),),
        lambda rerendered: acceptance_certificate(version, record, rerendered=rerendered),
        kind="Accepted",
        at=record.at,
        party_lines=_party_lines(record),
    )


def signed_pdf(
    version: AgreementVersion, client: AcceptanceRecord, agency: CountersignRecord
) -> bytes:
    """The signed PDF: the document frozen when it was sent, re-rendered with both
    signatures, then the certificate of both events (stating the SHA-256 of the sent
    and the accepted PDF)."""
    agency_mark = documents.SignatureMark(1, "", agency.name, agency.title, utc_text(agency.at))
    return _issue(
        version,
        (_client_mark(version, client), agency_mark),
        lambda rerendered: signature_certificate(version, client, agency, rerendered=rerendered),
        kind="Signed",
        at=agency.at,
        party_lines=_party_lines(client, agency),
    )
