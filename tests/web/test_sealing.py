"""Sealed PDFs (issue 29): every file we issue as a record carries the agency's PAdES
signature over the whole file, which pyHanko's own validator accepts, which any changed
byte breaks; the certificate page links (QR code and short link) to the public
verification page, which says only whether a file is genuine, its version and state."""

from __future__ import annotations

import io
import re
import shutil
import subprocess

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from pypdf import PdfReader

from onboarding.services import sealing
from tests.factories import (
    countersign,
    csrf_of,
    grant,
    verify_cli,
    version_row,
)


def agency_certificate(app):
    with app.app_context():
        return sealing.current().certificate


def validate(app, data: bytes):
    """pyHanko's validator on the last signature, the agency's certificate as the root."""
    signatures = PdfFileReader(io.BytesIO(data), strict=False).embedded_signatures
    assert signatures, "the file carries no signature"
    context = ValidationContext(trust_roots=[agency_certificate(app)], allow_fetching=False)
    return validate_pdf_signature(signatures[-1], context)


def changed(data: bytes, at: int) -> bytes:
    out = bytearray(data)
    out[at] = ord("0") if out[at] != ord("0") else ord("1")
    return bytes(out)


@pytest.fixture
def signed(app, client, accepted):  # noqa: F811
    """An agreement sent, accepted by the client on its page and countersigned: the
    version with its three files made by the worker."""
    grant(app, "manager@example.com")
    assert countersign(client, accepted["public_id"]).status_code == 302
    return version_row(app)


def test_every_record_pdf_is_sealed_intact_over_the_whole_file(app, signed, tmp_path):
    for kind, data in (
        ("sent", signed.pdf),
        ("accepted", signed.final_pdf),
        ("signed", signed.signed_pdf),
    ):
        status = validate(app, data)
        assert status.intact and status.valid, kind
        assert status.trusted, kind  # signed by the agency's certificate
        assert status.coverage.name == "ENTIRE_FILE", kind
        assert status.signing_cert.dump() == agency_certificate(app).dump()
        # PDF/UA: the tags, the structure tree and the identification are kept.
        root = PdfReader(io.BytesIO(data)).trailer["/Root"]
        assert root["/MarkInfo"]["/Marked"] and "/StructTreeRoot" in root, kind
        assert b"pdfuaid:part" in root["/Metadata"].get_object().get_data(), kind
        # The seal's widget is hidden (an untagged visible annotation fails PDF/UA).
        for page in PdfReader(io.BytesIO(data)).pages:
            for annot in page.get("/Annots") or []:
                annot = annot.get_object()
                if annot.get("/Subtype") == "/Widget":
                    assert int(annot["/F"]) & 2, kind
        if shutil.which("qpdf"):
            path = tmp_path / f"{kind}.pdf"
            path.write_bytes(data)
            checked = subprocess.run(  # noqa: S603
                ["qpdf", "--check", str(path)], capture_output=True, text=True, check=False
            )
            assert checked.returncode == 0, checked.stdout + checked.stderr
            assert "No syntax or stream encoding errors" in checked.stdout


@pytest.mark.parametrize("where", [0.1, 0.5, 0.9, 1.0])
def test_a_byte_changed_anywhere_breaks_the_seal_and_verify_says_so(app, signed, tmp_path, where):
    data = signed.signed_pdf
    at = min(len(data) - 2, int(len(data) * where))
    tampered = changed(data, at)
    try:
        status = validate(app, tampered)
        broken = not (status.intact and status.valid and status.coverage.name == "ENTIRE_FILE")
    except Exception:  # the file no longer parses: changed, too
        broken = True
    assert broken
    path = tmp_path / "tampered.pdf"
    path.write_bytes(tampered)
    code, output = verify_cli(app, path)
    assert code == 1 and output.startswith("NO MATCH")
    assert "signature:" in output and "unmodified since" not in output


def test_verify_reports_the_seal_beside_the_record(app, client, signed, tmp_path):
    path = tmp_path / "signed.pdf"
    path.write_bytes(signed.signed_pdf)
    code, output = verify_cli(app, path)
    assert code == 0 and output.startswith("MATCH: fully signed (version 1)")
    assert "signature: signed by Brightline Studio" in output
    assert "unmodified since" in output
    form = client.get("/workspace/verify")
    checked = client.post(
        "/workspace/verify",
        data={"csrf_token": csrf_of(form.text), "pdf": (io.BytesIO(signed.signed_pdf), "s.pdf")},
        content_type="multipart/form-data",
    )
    assert "Signature: signed by Brightline Studio" in checked.text


def qr_text(svg: str) -> str:
    """Decode a segno SVG QR code the way a phone does: draw it, then read it (zxing)."""
    import zxingcpp
    from PIL import Image, ImageDraw

    path = re.search(r'class="qrline"[^>]*d="([^"]+)"', svg).group(1)
    size = int(re.search(r'd="M0 0h(\d+)v', svg).group(1))
    scale = 8
    image = Image.new("L", (size * scale, size * scale), 255)
    draw = ImageDraw.Draw(image)
    x = y = 0.0
    for op, a, b in re.findall(r"([Mmh])(-?[\d.]+)(?: (-?[\d.]+))?", path):
        if op == "M":
            x, y = float(a), float(b)
        elif op == "m":
            x, y = x + float(a), y + float(b)
        else:
            end = x + float(a)
            top = (y - 0.5) * scale
            draw.rectangle([x * scale, top, end * scale - 1, top + scale - 1], fill=0)
            x = end
    (found,) = zxingcpp.read_barcodes(image)
    return found.text


def test_the_certificate_page_links_to_the_public_check(app, signed):
    url = "http://localhost:5000/v/" + signed.document_id
    for data in (signed.final_pdf, signed.signed_pdf):
        reader = PdfReader(io.BytesIO(data))
        last = reader.pages[-1]
        assert url in last.extract_text().replace("\n", "")
        links = [a.get_object().get("/A", {}).get("/URI") for a in last.get("/Annots") or []]
        assert url in links
        # The QR code drawn on the page (the certificate's own SVG) decodes to the link.
        streams = last.get_contents().get_data()
        assert streams  # drawn as vector paths
    from onboarding.rendering.documents import verify_qr_svg

    assert qr_text(str(verify_qr_svg(url))) == url


def check(app, **fields):
    visitor = app.test_client()
    page = visitor.get("/verify")
    assert page.status_code == 200
    data = {"csrf_token": csrf_of(page.text), **fields}
    return visitor.post("/verify", data=data, content_type="multipart/form-data")


def test_the_public_page_says_genuine_version_and_state_and_nothing_more(app, signed):
    short = app.test_client().get(f"/v/{signed.document_id}")
    assert short.status_code == 200 and f'value="{signed.document_id}"' in short.text
    answer_ = check(app, pdf=(io.BytesIO(signed.signed_pdf), "agreement.pdf"))
    assert answer_.status_code == 200
    assert "Genuine: version 1, signed" in answer_.text
    assert "unmodified since" in answer_.text
    for private in ("Grace Hopper", "Harbour Freight", "127.0.0.1", "okafor"):
        assert private.lower() not in answer_.text.lower()  # nothing beyond what the file holds
    accepted_ = check(app, pdf=(io.BytesIO(signed.final_pdf), "a.pdf"))
    assert "Genuine: version 1, accepted" in accepted_.text
    bad = check(app, pdf=(io.BytesIO(changed(signed.signed_pdf, 5000)), "a.pdf"))
    assert "Not a document we issued" in bad.text and "Genuine" not in bad.text
    typed = check(
        app, document_id=signed.document_id.lower(), fingerprint=signed.pdf_sha256.upper()
    )
    assert "Genuine: version 1, sent" in typed.text
    other = check(app, document_id="AGR-0000000000", fingerprint=signed.pdf_sha256)
    assert "Not a document we issued" in other.text


def test_the_public_page_names_bad_fields_and_refuses_without_csrf(app, signed):
    typed = check(app, document_id="nonsense", fingerprint="abc")
    assert typed.status_code == 422
    assert "Enter the document id" in typed.text and "Enter the file&#39;s SHA-256" in typed.text
    assert 'href="#verify-document_id"' in typed.text
    forged = app.test_client().post("/verify", data={"document_id": signed.document_id})
    assert forged.status_code == 400


def test_the_public_page_refuses_a_large_upload_from_its_length(app):
    app.config["PUBLIC_VERIFY_MAX_BYTES"] = 1024
    try:
        visitor = app.test_client()
        page = visitor.get("/verify")
        big = visitor.post(
            "/verify",
            data={"csrf_token": csrf_of(page.text), "pdf": (io.BytesIO(b"%PDF" * 1000), "a.pdf")},
            content_type="multipart/form-data",
        )
        assert big.status_code == 413 and "larger than" in big.text
    finally:
        app.config["PUBLIC_VERIFY_MAX_BYTES"] = 8 * 1024 * 1024


def test_the_public_page_is_rate_limited(app):
    app.config["PUBLIC_VERIFY_LIMIT"] = "3 per hour"
    try:
        codes = [
            check(app, document_id="AGR-0000000000", fingerprint="0" * 64).status_code
            for _ in range(4)
        ]
        assert codes == [200, 200, 200, 429]
    finally:
        app.config["PUBLIC_VERIFY_LIMIT"] = "20 per hour"


def test_the_certificate_pages_anchor_the_history(app, signed):
    from sqlalchemy import select

    from onboarding.db import db
    from onboarding.db.models import AuditEvent

    with app.app_context():
        events = db.session.execute(
            select(AuditEvent).where(AuditEvent.intake_id.isnot(None)).order_by(AuditEvent.id)
        ).scalars().all()  # fmt: skip
        at_acceptance = next(e for e in events if e.kind == "status" and e.to_value == "accepted")
        at_countersignature = next(e for e in events if e.kind == "agreement_countersigned")
    accepted_text = PdfReader(io.BytesIO(signed.final_pdf)).pages[-1].extract_text()
    signed_text = PdfReader(io.BytesIO(signed.signed_pdf)).pages[-1].extract_text()
    flat = [t.replace("\n", "").replace(" ", "") for t in (accepted_text, signed_text)]
    assert at_acceptance.hash in flat[0]
    assert at_acceptance.hash in flat[1] and at_countersignature.hash in flat[1]
    assert "History chain head at countersignature" in signed_text.replace("\n", " ")
