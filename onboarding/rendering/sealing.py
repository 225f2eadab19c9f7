"""PAdES signatures on the PDFs we issue as records, and checking them (pyHanko).

Pure: no database, no settings, no Flask. The services say which certificate
(:func:`load_sealer`) and call :func:`seal` where a record PDF is made, and
:func:`check` where one is verified::

    sealer = load_sealer(p12_bytes, password=None)
    signed = seal(pdf_bytes, sealer, reason="Accepted agreement AGR-...")
    check(signed, trust_roots=[sealer.certificate]).state   # "intact"

The signature is added as an incremental update (the rendered file's bytes, tags,
structure tree and PDF/UA metadata stay as they were; pyHanko appends the signature
field and the CMS after them), PAdES baseline B-B (``ETSI.CAdES.detached``, SHA-256),
B-T when a timestamp authority is given. Its field is invisible and its widget hidden
(PDF/UA asks every visible annotation to be tagged; a hidden one is exempt).

:func:`make_certificate` makes the self-signed certificate an installation uses until a
document-signing certificate from a CA is configured.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
import warnings
from dataclasses import dataclass, field
from typing import Any

# cryptography 51 deprecates DSA, which pyHanko still imports on first use; we never make
# or accept DSA keys, so the warning would only reach the commands' users as noise.
warnings.filterwarnings("ignore", message="DSA is deprecated", module=r"pyhanko\.")

SEAL_FIELD = "AgencySeal"
HIDDEN = 2  # annotation flag: hidden (ISO 32000-1, 12.5.3)
PRINT = 4
LOCKED = 128
RESERVED = 8192  # bytes for the CMS: an RSA 4096 signature and a chain of a few certificates
RESERVED_TSA = 16384  # ... and a timestamp token with the TSA's chain


@dataclass
class Sealer:
    """A loaded signing key and certificate (and timestamp authority, if any)."""

    signer: Any  # pyhanko.sign.signers.SimpleSigner
    certificate: Any  # asn1crypto.x509.Certificate
    timestamper: Any = None
    self_signed: bool = False
    _meta: dict = field(default_factory=dict)

    @property
    def subject(self) -> str:
        """The certificate's subject, e.g. ``Common Name: Brightline Studio Ltd``."""
        return self.certificate.subject.human_friendly

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the certificate (DER), hex."""
        return hashlib.sha256(self.certificate.dump()).hexdigest()


def make_certificate(legal_name: str, *, years: int = 10) -> bytes:
    """A self-signed document-signing certificate and its key as PKCS#12 (no password):
    RSA 2048 (every PDF viewer checks it), subject ``CN=<legal name>, O=<legal name>``,
    key usage digital signature and non-repudiation, valid ``years``."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import pkcs12
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    name = " ".join((legal_name or "").split())[:64] or "Agency"
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, name),
        ]
    )
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=365 * years))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            # document signing (RFC 9336), and email protection for older viewers
            x509.ExtendedKeyUsage(
                [x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36"), ExtendedKeyUsageOID.EMAIL_PROTECTION]
            ),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return pkcs12.serialize_key_and_certificates(
        name.encode(), key, certificate, None, serialization.NoEncryption()
    )


def load_sealer(
    p12: bytes, password: str | bytes | None = None, *, timestamper: Any = None
) -> Sealer:
    """A :class:`Sealer` from a PKCS#12 file's bytes; ``timestamper``: a pyHanko
    ``TimeStamper`` (made by the caller: the request to a TSA is outbound HTTP, which
    rendering never makes itself). Raises ValueError when the file cannot be read with
    ``password`` or holds no key."""
    if isinstance(password, str):
        password = password.encode()
    try:
        from cryptography.hazmat.primitives.serialization import pkcs12

        key, cert, extra = pkcs12.load_key_and_certificates(p12, password or None)
    except Exception as error:  # wrong password, not PKCS#12
        raise ValueError(f"the PKCS#12 file cannot be read: {error}") from None
    if key is None or cert is None:
        raise ValueError("the PKCS#12 file holds no private key and certificate")
    from asn1crypto import keys as asn1_keys
    from asn1crypto import x509 as asn1_x509
    from cryptography.hazmat.primitives import serialization

    certificate = asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
    private = asn1_keys.PrivateKeyInfo.load(
        key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    chain = [
        asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER)) for c in extra or ()
    ]
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    signer = _signer_class()(
        key,
        signing_cert=certificate,
        signing_key=private,
        cert_registry=SimpleCertificateStore.from_certs([certificate, *chain]),
    )
    return Sealer(
        signer=signer,
        certificate=certificate,
        timestamper=timestamper,
        self_signed=certificate.self_signed in ("yes", "maybe") and not chain,
    )


_MARKER = {"sha256": bytes(range(0xA0, 0xC0)), "sha512": bytes(range(0x80, 0xC0))}
"""A digest no document has (a run of distinct bytes): the template's placeholder."""
_CONSTANT_ATTRIBUTES = {
    "content_type",
    "message_digest",
    "signing_certificate_v2",
    "cms_algorithm_protection",
}


def _reader_class():
    """A pyHanko ``PdfFileReader`` that reads each object stream's index once.

    WeasyPrint packs a tagged PDF's thousands of small objects (structure elements)
    into object streams; pyHanko's reader scans a stream's whole index, token by token,
    for every object it takes from it, which was half of a seal's time. This one splits
    the index once per stream; anything unexpected goes to pyHanko's own reading."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.decode_limits import DecodePurpose
    from pyhanko.pdf_utils.reader import PdfFileReader

    class IndexedReader(PdfFileReader):
        def _get_object_from_stream(self, idnum, stmnum, idx):
            streams = self.__dict__.setdefault("_indexed_streams", {})
            entry = streams.get(stmnum)
            try:
                if entry is None:
                    stream = generic.Reference(stmnum, 0, self).get_object()
                    body = stream.read_data(DecodePurpose.OBJECT_STREAM)
                    first, count = int(stream["/First"]), int(stream["/N"])
                    numbers = body[:first].split()
                    if stream.get("/Type") != "/ObjStm" or len(numbers) < 2 * count:
                        raise ValueError("not an object stream pyHanko reads like this")
                    offsets = {
                        int(numbers[2 * i]): first + int(numbers[2 * i + 1]) for i in range(count)
                    }
                    entry = streams[stmnum] = (body, offsets)
                body, offsets = entry
                start = offsets.get(idnum)
                if start is None:
                    raise ValueError("not in this stream's index")
                source = io.BytesIO(body)
                source.seek(start)
                obj = generic.read_object(source, generic.Reference(idnum, 0, self))
                if isinstance(obj, generic.StreamObject | generic.IndirectObject):
                    raise ValueError("a kind of object pyHanko's reading handles itself")
                return obj
            except Exception:  # pyHanko's own reading decides (and reports) the rest
                return super()._get_object_from_stream(idnum, stmnum, idx)

    return IndexedReader


def _signer_class():
    """A pyHanko ``SimpleSigner`` that keeps the loaded private key: pyHanko's parses
    (and, for RSA, checks) the key at every signature, ~100 ms of each one."""
    from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
    from pyhanko.sign.general import get_pyca_cryptography_hash
    from pyhanko.sign.signers import SimpleSigner

    class KeptKeySigner(SimpleSigner):
        def __init__(self, key, **kwargs):
            super().__init__(**kwargs)
            self._key = key
            self._templates: dict[tuple, tuple[bytes, bytes, bytes]] = {}

        async def async_sign(
            self,
            data_digest: bytes,
            digest_algorithm: str,
            dry_run=False,
            use_pades=False,
            timestamper=None,
            signed_attr_settings=None,
            is_pdf_sig=True,
            encap_content_info=None,
        ):
            """pyHanko's CMS, built once per process and then patched: with PAdES, no
            timestamp and RSA, the signed attributes (content type, message digest,
            signing certificate, algorithm protection) differ between two documents
            only by the document's digest. asn1crypto takes ~40 ms to build them; the
            patch takes the RSA signature's time. Anything else goes to pyHanko."""
            from asn1crypto import cms

            settings = signed_attr_settings
            plain = (
                not dry_run
                and use_pades
                and timestamper is None
                and encap_content_info is None
                and is_pdf_sig
                and isinstance(self._key, RSAPrivateKey)
                and (settings is None or not settings.cades_signed_attrs)
                and len(data_digest) == len(_MARKER.get(digest_algorithm, b""))
            )
            if not plain:
                return await super().async_sign(
                    data_digest,
                    digest_algorithm,
                    dry_run=dry_run,
                    use_pades=use_pades,
                    timestamper=timestamper,
                    signed_attr_settings=signed_attr_settings,
                    is_pdf_sig=is_pdf_sig,
                    encap_content_info=encap_content_info,
                )
            key = (digest_algorithm, type(settings).__name__)
            template = self._templates.get(key)
            if template is None:
                marker = _MARKER[digest_algorithm]
                made = await super().async_sign(
                    marker,
                    digest_algorithm,
                    use_pades=True,
                    signed_attr_settings=signed_attr_settings,
                )
                info = made["content"]["signer_infos"][0]
                kinds = {a["type"].native for a in info["signed_attrs"]}
                attrs = info["signed_attrs"].dump()
                whole = made.dump()
                if (
                    not kinds <= _CONSTANT_ATTRIBUTES
                    or attrs.count(marker) != 1
                    or whole.count(attrs) != 1
                    or info["signature_algorithm"].signature_algo != "rsassa_pkcs1v15"
                ):
                    return await super().async_sign(
                        data_digest,
                        digest_algorithm,
                        use_pades=use_pades,
                        signed_attr_settings=signed_attr_settings,
                    )
                template = (whole, attrs, info["signature"].native)
                self._templates[key] = template
            whole, attrs, old_signature = template
            signed_attrs = attrs.replace(_MARKER[digest_algorithm], data_digest)
            # The signature is over the attributes' DER as a SET OF (RFC 5652, 5.4).
            signature = self._key.sign(
                b"\x31" + signed_attrs[1:], PKCS1v15(), get_pyca_cryptography_hash(digest_algorithm)
            )
            out = whole.replace(attrs, signed_attrs)
            if len(signature) != len(old_signature) or out.count(old_signature) != 1:
                raise ValueError("the signature does not fit the template")
            return cms.ContentInfo.load(out.replace(old_signature, signature))

        def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
            mechanism = self.get_signature_mechanism_for_digest(digest_algorithm)
            if isinstance(self._key, RSAPrivateKey) and (
                mechanism.signature_algo == "rsassa_pkcs1v15"
            ):
                return self._key.sign(
                    data, PKCS1v15(), get_pyca_cryptography_hash(digest_algorithm)
                )
            return super().sign_raw(data, digest_algorithm)

    return KeptKeySigner


def _outside_event_loop(function):
    """Run ``function`` where pyHanko's synchronous calls work: they call
    ``asyncio.run``, refused in a thread whose event loop runs (an async server, or a
    test driving Playwright), so there it runs in a thread of its own."""
    import asyncio

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return function()
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function).result()


def seal(data: bytes, sealer: Sealer, *, reason: str = "", location: str = "") -> bytes:
    """``data`` (a PDF) signed by ``sealer``: PAdES B-B, or B-T with its timestamp
    authority; the signature covers the whole file. Raises ValueError for a PDF that
    already carries our seal (a record is sealed once)."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    source = io.BytesIO(data)
    writer = IncrementalPdfFileWriter(source, prev=_reader_class()(source, strict=False))
    if any(name == SEAL_FIELD for name, _, _ in fields.enumerate_sig_fields(writer.prev)):
        raise ValueError("this PDF is sealed already")
    fields.append_signature_field(
        writer, fields.SigFieldSpec(SEAL_FIELD, box=None, readable_field_name="Agency seal")
    )
    # Hide the (empty, invisible) widget: PDF/UA exempts hidden annotations from tagging.
    for _, _, ref in fields.enumerate_sig_fields(writer):
        widget = ref.get_object()
        if "/Rect" in widget:
            from pyhanko.pdf_utils.generic import NameObject, NumberObject

            widget[NameObject("/F")] = NumberObject(HIDDEN | PRINT | LOCKED)
            writer.mark_update(ref)
    meta = signers.PdfSignatureMetadata(
        field_name=SEAL_FIELD,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason or None,
        location=location or None,
        name=sealer.certificate.subject.native.get("common_name"),
    )
    pdf_signer = signers.PdfSigner(meta, signer=sealer.signer, timestamper=sealer.timestamper)
    # A fixed reservation: without it pyHanko signs twice (a dry run to measure).
    reserved = RESERVED_TSA if sealer.timestamper is not None else RESERVED
    return _outside_event_loop(
        lambda: pdf_signer.sign_pdf(writer, bytes_reserved=reserved).getvalue()
    )


STATES = {
    "intact": "signed by {signer}, unmodified since",
    "modified": "its signature no longer matches: the file was changed after it was signed",
    "unsigned": "carries no signature of ours",
    "incomplete": "signed by {signer}, but changed or added to after the signature",
    "untrusted": "signed, unmodified, but not by the agency's certificate",
}


@dataclass(frozen=True)
class SignatureCheck:
    """What a PDF's last signature says (:func:`check`)."""

    state: str  # a key of STATES
    signer: str = ""  # the signing certificate's subject
    trusted: bool = False  # signed by one of the trust roots
    whole_file: bool = False  # the signature covers every byte of the file
    timestamped: bool = False  # B-T: a timestamp token from a TSA

    @property
    def label(self) -> str:
        """One line a person reads: ``signed by Brightline Studio Ltd, unmodified since``."""
        return STATES[self.state].format(signer=self.signer or "an unknown signer")


def check(data: bytes, trust_roots: list[Any]) -> SignatureCheck:
    """Validate the last signature of ``data`` with pyHanko against ``trust_roots``
    (asn1crypto certificates). ``intact`` only when its digest and signature match,
    it covers the entire file and its certificate is one of ``trust_roots``."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        signatures = reader.embedded_signatures
    except Exception:  # not a PDF pyHanko can read: not one of ours, whatever it is
        return SignatureCheck("unsigned")
    if not signatures:
        return SignatureCheck("unsigned")
    last = signatures[-1]
    context = ValidationContext(trust_roots=trust_roots, allow_fetching=False)
    try:
        status = _outside_event_loop(lambda: validate_pdf_signature(last, context, skip_diff=True))
    except Exception:
        return SignatureCheck("modified")
    signer = (
        status.signing_cert.subject.native.get("common_name", "") if status.signing_cert else ""
    )
    whole = status.coverage is not None and status.coverage.name == "ENTIRE_FILE"
    timestamped = status.timestamp_validity is not None
    if not (status.intact and status.valid):
        return SignatureCheck("modified", signer, False, whole, timestamped)
    trusted = bool(status.trusted) and any(
        status.signing_cert.dump() == root.dump() for root in trust_roots
    )
    if not whole:
        return SignatureCheck("incomplete", signer, trusted, False, timestamped)
    if not trusted:
        return SignatureCheck("untrusted", signer, False, True, timestamped)
    return SignatureCheck("intact", signer, True, True, timestamped)


def unsealed(data: bytes) -> bytes:
    """The file as it was before our seal (the seal is the last incremental update:
    the bytes up to the revision before it), for a file made from a sealed one's pages
    (whose copy must not carry the old seal's field); ``data`` itself when unsealed."""
    ends = [m.end() for m in re.finditer(rb"%%EOF[\r\n]*", data)]
    if len(ends) < 2 or not data.rstrip().endswith(b"%%EOF"):
        return data
    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        signatures = PdfFileReader(io.BytesIO(data), strict=False).embedded_signatures
    except Exception:
        return data
    if not signatures or signatures[-1].field_name != SEAL_FIELD:
        return data
    return data[: ends[-2]]
