"""The agency's seal on the PDFs we issue as records, with the certificate in force.

Every record PDF (the version as sent, the accepted and the fully signed file, with
their certificate pages) is signed once, as it is made, before its SHA-256 is taken and
stored: the fingerprint the agency keeps, states on later certificates and checks in
``verify`` is the SHA-256 of the sealed file, byte for byte as issued. So a fingerprint
check stays exact and deterministic, and the signature check (:func:`signature_of`)
adds what any PDF viewer sees: signed by the agency, unmodified since.

The certificate: ``SIGNING_CERT_FILE`` (PKCS#12) with ``SIGNING_CERT_PASSWORD``; else a
self-signed one the installation makes once in its instance folder
(:data:`SELF_SIGNED`, by ``onboarding init-db`` or ``onboarding signing-cert``, else at the
first seal), named after the agency's legal name. ``SIGNING_TSA_URL`` adds an RFC 3161
timestamp (PAdES B-T).

:func:`configure` is called by ``create_app`` (process-wide, like the render caps); the
key is loaded on first use.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from onboarding.rendering import sealing

SELF_SIGNED = "signing.p12"
"""The self-signed certificate's file in the instance folder (PKCS#12, no password)."""

_settings: dict[str, Any] = {}
_loaded: dict[tuple, sealing.Sealer] = {}
_lock = threading.Lock()


def configure(config: Mapping[str, Any]) -> None:
    """Take the signing settings from the app's config (``SIGNING_CERT_FILE``,
    ``SIGNING_CERT_PASSWORD``, ``SIGNING_TSA_URL``, ``INSTANCE_PATH``, ``AGENCY_NAME``)."""
    _settings.clear()
    for name in (
        "SIGNING_CERT_FILE",
        "SIGNING_CERT_PASSWORD",
        "SIGNING_TSA_URL",
        "INSTANCE_PATH",
        "AGENCY_NAME",
        "BASE_URL",
    ):
        _settings[name] = config.get(name)


def self_signed_path(instance_path: str | os.PathLike | None = None) -> Path:
    """Where the installation's self-signed certificate is kept."""
    return Path(instance_path or _settings.get("INSTANCE_PATH") or "instance") / SELF_SIGNED


def ensure_self_signed(instance_path: str | os.PathLike, legal_name: str) -> tuple[Path, bool]:
    """Make the self-signed certificate in the instance folder unless it exists: the
    path, and whether it was made now. Two processes at once make one file (the second
    keeps the first's: written aside, then linked into place)."""
    path = self_signed_path(instance_path)
    if path.exists():
        return path, False
    path.parent.mkdir(parents=True, exist_ok=True)
    aside = path.with_name(f".{SELF_SIGNED}.{os.getpid()}.{threading.get_ident()}")
    aside.write_bytes(sealing.make_certificate(legal_name))
    aside.chmod(0o600)
    try:
        os.link(aside, path)
        made = True
    except FileExistsError:
        made = False
    finally:
        aside.unlink(missing_ok=True)
    return path, made


def legal_name() -> str:
    """The agency's legal name, from the saved profile (else the ``AGENCY_NAME``)."""
    from onboarding.services.profile import installation_profile

    agency = _settings.get("AGENCY_NAME") or None
    profile = installation_profile(agency)
    if profile.version is not None and profile.profile.legal_name:
        return profile.profile.legal_name
    return agency or profile.profile.legal_name


def current() -> sealing.Sealer:
    """The sealer in force (loaded once per process and settings). Raises ValueError
    when ``SIGNING_CERT_FILE`` cannot be read."""
    cert_file = _settings.get("SIGNING_CERT_FILE")
    key = (
        cert_file,
        _settings.get("SIGNING_CERT_PASSWORD"),
        _settings.get("SIGNING_TSA_URL"),
        str(self_signed_path()),
    )
    with _lock:
        sealer = _loaded.get(key)
        if sealer is not None:
            return sealer
        if cert_file:
            try:
                data = Path(cert_file).read_bytes()
            except OSError as error:
                raise ValueError(f"SIGNING_CERT_FILE cannot be read: {error}") from None
            password = _settings.get("SIGNING_CERT_PASSWORD")
        else:
            path, _ = ensure_self_signed(self_signed_path().parent, legal_name())
            data, password = path.read_bytes(), None
        tsa_url = _settings.get("SIGNING_TSA_URL")
        timestamper = None
        if tsa_url:  # PAdES B-T: an RFC 3161 timestamp from the TSA on each seal
            from pyhanko.sign.timestamps import HTTPTimeStamper

            timestamper = HTTPTimeStamper(tsa_url, timeout=10)
        sealer = sealing.load_sealer(data, password, timestamper=timestamper)
        _loaded.clear()
        _loaded[key] = sealer
        return sealer


def seal(data: bytes, *, reason: str) -> bytes:
    """``data`` sealed by the agency (PAdES B-B, B-T with a TSA), ``reason`` shown by
    viewers (e.g. ``Accepted agreement AGR-..., version 2``)."""
    sealer = current()
    return sealing.seal(data, sealer, reason=reason)


def signature_of(data: bytes) -> sealing.SignatureCheck:
    """What the last signature of ``data`` says, checked against the agency's
    certificate in force."""
    return sealing.check(data, [current().certificate])


def deploy_problems(config: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """What ``check-deploy`` says about the seal: ``(errors, warnings)``. A certificate
    file that cannot be used stops every record PDF (an error); the self-signed
    certificate is a warning."""
    cert_file = config.get("SIGNING_CERT_FILE")
    if cert_file:
        try:
            data = Path(cert_file).read_bytes()
            sealing.load_sealer(data, config.get("SIGNING_CERT_PASSWORD"))
        except (OSError, ValueError) as error:
            return [f"SIGNING_CERT_FILE cannot be used: {error}"], []
        return [], []
    path = self_signed_path(config.get("INSTANCE_PATH"))
    return [], [
        f"SIGNING_CERT_FILE is not set: PDFs are sealed with a self-signed certificate ({path}); "
        "viewers show them unmodified but the signer's identity not verified (README, "
        "'Sealed PDFs')"
    ]


def unsealed(data: bytes) -> bytes:
    """A sealed record as it was before the seal (:func:`sealing.unsealed`)."""
    return sealing.unsealed(data)


def seal_record(data: bytes, kind: str, document_id: str, number: int | None = None) -> bytes:
    """A record PDF (``kind``: Sent, Accepted or Signed) sealed, its reason naming it."""
    version = f", version {number}" if number is not None else ""
    return seal(data, reason=f"{kind} agreement {document_id}{version}, issued by the agency")


def stored_file(version: Any, kind: str) -> bytes:
    """The stored bytes of a version's ``sent``, ``accepted`` or ``signed`` file."""
    return {"sent": version.pdf, "accepted": version.final_pdf, "signed": version.signed_pdf}[
        kind
    ] or b""


def verify_url(document_id: str) -> str:
    """The short link to the public verification page of a document (``BASE_URL``, else
    ``http://localhost:5000`` as the worker's emails use), printed with a QR code on
    every certificate page."""
    base = (_settings.get("BASE_URL") or "http://localhost:5000").rstrip("/")
    return f"{base}/v/{document_id}"
