"""The seal itself (onboarding.rendering.sealing), on a small PDF: pyHanko's validator
accepts it over the whole file, a changed byte or another signer does not pass, a TSA
makes it B-T."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from pypdf import PdfWriter

from onboarding.rendering import sealing


def small_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.fixture(scope="module")
def sealer():
    return sealing.load_sealer(sealing.make_certificate("Brightline Studio Ltd"))


def test_a_sealed_pdf_validates_over_the_entire_file(sealer):
    data = small_pdf()
    signed = sealing.seal(data, sealer, reason="Accepted agreement AGR-1, version 1")
    assert signed.startswith(data)  # an incremental update: the file's bytes are kept
    embedded = PdfFileReader(io.BytesIO(signed)).embedded_signatures[-1]
    context = ValidationContext(trust_roots=[sealer.certificate], allow_fetching=False)
    status = validate_pdf_signature(embedded, context)
    assert status.intact and status.valid and status.trusted
    assert status.coverage.name == "ENTIRE_FILE"
    assert embedded.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"  # PAdES
    check = sealing.check(signed, [sealer.certificate])
    assert check.state == "intact" and check.signer == "Brightline Studio Ltd"
    assert check.label == "signed by Brightline Studio Ltd, unmodified since"


def test_two_seals_of_one_file_each_validate(sealer):
    data = small_pdf()
    # The second comes from the cached CMS template: it must be as valid as the first.
    for _ in range(3):
        assert sealing.check(sealing.seal(data, sealer), [sealer.certificate]).state == "intact"


def test_a_changed_byte_an_unsigned_file_or_another_signer_do_not_pass(sealer):
    data = small_pdf()
    signed = sealing.seal(data, sealer)
    changed = bytearray(signed)
    changed[len(data) // 2] ^= 0x01
    assert sealing.check(bytes(changed), [sealer.certificate]).state == "modified"
    assert sealing.check(data, [sealer.certificate]).state == "unsigned"
    assert sealing.check(b"not a pdf", [sealer.certificate]).state == "unsigned"
    added = signed + b"\n% added after the signature\n"
    assert sealing.check(added, [sealer.certificate]).state in ("incomplete", "modified")
    other = sealing.load_sealer(sealing.make_certificate("Someone Else Ltd"))
    assert sealing.check(sealing.seal(data, other), [sealer.certificate]).state == "untrusted"


def test_a_record_is_sealed_once(sealer):
    with pytest.raises(ValueError, match="sealed already"):
        sealing.seal(sealing.seal(small_pdf(), sealer), sealer)


def test_a_wrong_password_is_a_clear_error():
    from cryptography.hazmat.primitives.serialization import pkcs12

    p12 = sealing.make_certificate("Brightline Studio Ltd")
    key, cert, _ = pkcs12.load_key_and_certificates(p12, None)
    from cryptography.hazmat.primitives.serialization import BestAvailableEncryption

    locked = pkcs12.serialize_key_and_certificates(
        b"x", key, cert, None, BestAvailableEncryption(b"right")
    )
    assert sealing.load_sealer(locked, "right").subject
    with pytest.raises(ValueError, match="PKCS#12"):
        sealing.load_sealer(locked, "wrong")


def test_the_self_signed_certificate_names_the_agency(sealer):
    assert "Brightline Studio Ltd" in sealer.subject
    assert sealer.self_signed
    usage = sealer.certificate.key_usage_value.native
    assert "digital_signature" in usage and "non_repudiation" in usage


def test_a_timestamp_authority_makes_it_b_t(sealer):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
    from pyhanko.sign.timestamps import DummyTimeStamper
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test TSA")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(7)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .sign(key, hashes.SHA256())
    )
    from asn1crypto import keys
    from asn1crypto import x509 as asn1_x509

    tsa_cert = asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
    tsa_key = keys.PrivateKeyInfo.load(
        key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    stamper = DummyTimeStamper(tsa_cert, tsa_key, SimpleCertificateStore.from_certs([tsa_cert]))
    timed = sealing.load_sealer(
        sealing.make_certificate("Brightline Studio Ltd"), timestamper=stamper
    )
    signed = sealing.seal(small_pdf(), timed)
    check = sealing.check(signed, [timed.certificate])
    assert check.state == "intact" and check.timestamped


def test_unsealed_gives_back_the_file_before_the_seal(sealer):
    data = small_pdf()
    signed = sealing.seal(data, sealer)
    assert sealing.unsealed(signed) == data
    assert sealing.unsealed(data) == data  # an unsealed file is itself
    # ... so a file made from its pages can be sealed in turn (no old seal field copied).
    writer = PdfWriter()
    writer.append(io.BytesIO(sealing.unsealed(signed)))
    out = io.BytesIO()
    writer.write(out)
    assert sealing.check(sealing.seal(out.getvalue(), sealer), [sealer.certificate]).state == (
        "intact"
    )
