"""The public verification page: anyone holding one of our PDFs learns whether it is
genuine, which version and its state (sent, accepted, signed), and the seal's state.

``/verify``, and ``/v/<document id>`` (the short link and QR code on every certificate
page, the document id filled in). The upload is bounded by ``PUBLIC_VERIFY_MAX_BYTES``
(refused from its Content-Length before the body is read); a POST is CSRF-checked and
limited by ``PUBLIC_VERIFY_LIMIT`` per address. No personal data is shown.
"""

from __future__ import annotations

import re

from flask import Blueprint, current_app, render_template, request
from flask_wtf import FlaskForm
from werkzeug.exceptions import RequestEntityTooLarge

from onboarding.services.agreement import verify as agreement_verify
from onboarding.web.extensions import limiter

bp = Blueprint("public_verify", __name__)

DOCUMENT_ID = re.compile(r"^AGR-[0-9A-F]{6,32}$", re.IGNORECASE)
FINGERPRINT = re.compile(r"^[0-9a-f]{64}$", re.IGNORECASE)


class VerifyForm(FlaskForm):
    """The check (CSRF only: the fields are read by hand, a file or two texts)."""


def verify_limit() -> str:
    """``PUBLIC_VERIFY_LIMIT``: checks one address may make."""
    return current_app.config["PUBLIC_VERIFY_LIMIT"]


@bp.errorhandler(RequestEntityTooLarge)
def too_large(_error):
    mib = current_app.config["PUBLIC_VERIFY_MAX_BYTES"] / (1024 * 1024)
    errors = {"pdf": f"The file is larger than {mib:g} MiB: no PDF we issue is that large"}
    return _page(errors=errors, status=413)


def _page(*, answer=None, errors=None, document_id="", fingerprint="", status=200):
    return render_template(
        "public/verify.html",
        form=VerifyForm(formdata=None),
        answer=answer,
        errors=errors or {},
        document_id=document_id,
        fingerprint=fingerprint,
    ), status


@bp.get("/v/<document_id>")
def short(document_id: str):
    """The short link of a certificate page: the form, with the document id."""
    document_id = document_id if DOCUMENT_ID.match(document_id) else ""
    return _page(document_id=document_id.upper())


@bp.route("/verify", methods=["GET", "POST"])
@limiter.limit(verify_limit, methods=["POST"], scope="public_verify")
def verify():
    """Check an uploaded file, or a typed document id and SHA-256."""
    if request.method == "GET":
        return _page(document_id=(request.args.get("document_id") or "")[:40])
    form = VerifyForm()
    document_id = " ".join((request.form.get("document_id") or "").split())[:40]
    fingerprint = "".join((request.form.get("fingerprint") or "").split())[:80]
    if not form.validate_on_submit():
        errors = {"form": "This form has expired: please check the file again"}
        return _page(errors=errors, document_id=document_id, fingerprint=fingerprint, status=400)
    upload = request.files.get("pdf")
    if upload is not None and upload.filename:
        answer = agreement_verify.check_file(upload.stream)
        return _page(answer=answer, document_id=document_id, fingerprint=fingerprint)
    errors = {}
    if not DOCUMENT_ID.match(document_id):
        errors["document_id"] = "Enter the document id printed on the file, like AGR-44ECFCBAF1"
    if not FINGERPRINT.match(fingerprint):
        errors["fingerprint"] = "Enter the file's SHA-256: 64 characters, 0-9 and a-f"
    if errors:
        if not document_id and not fingerprint:
            errors = {"pdf": "Choose the PDF file to check, or type its document id and SHA-256"}
        return _page(errors=errors, document_id=document_id, fingerprint=fingerprint, status=422)
    answer = agreement_verify.check_fingerprint(document_id, fingerprint)
    return _page(answer=answer, document_id=document_id, fingerprint=fingerprint)
