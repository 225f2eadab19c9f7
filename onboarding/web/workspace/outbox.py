"""The Outbox (admins): every message written, its state and the server's answer, each
one readable whole (both parts and every header), and "Send again".

With no ``MAIL_SERVER`` this is where messages are read: they are written here and
logged (to whom, which kind), never sent, so a newcomer sees what would have gone.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from onboarding.db import db
from onboarding.db.outbox import STATES
from onboarding.integrations import webhooks
from onboarding.services.notify import mail, outbox_page
from onboarding.web.extensions import login_manager
from onboarding.web.workspace.auth import PostForm

bp = Blueprint("outbox", __name__, url_prefix="/workspace")

STATE_WORDS = {
    "queued": "Queued",
    "sending": "Sending",
    "sent": "Sent",
    "written": "Written, not sent",
    "failed": "Failed",
    "cancelled": "Cancelled",
    "held": "Held for the daily digest",
    "digested": "Sent in a digest",
}
# The HTML part is shown in a sandboxed frame of our own origin: no script, no request
# anywhere (emails carry no remote images), only its inline styles.
HTML_PART_POLICY = (
    "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "frame-ancestors 'self'; form-action 'none'; base-uri 'none'"
)


@bp.before_request
def _admins_only():
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not current_user.is_admin:
        current_app.logger.warning("forbidden: %s tried %s", current_user.email, request.path)
        abort(403)
    return None


def _found(message_id: int):
    row = outbox_page.message(message_id)
    if row is None:
        abort(404)
    return row


@bp.get("/outbox")
def index():
    """The newest messages, by state and kind."""
    status = request.args.get("status", "")
    kind = request.args.get("kind", "")
    status = status if status in STATES else ""
    kind = kind if kind in mail.MESSAGE_KINDS else ""
    return render_template(
        "manager/outbox.html",
        rows=outbox_page.messages(status or None, kind or None, limit=100),
        counts=outbox_page.counts(),
        webhook_counts=webhooks.counts(),
        states=STATE_WORDS,
        kinds=mail.MESSAGE_KINDS,
        shown_status=status,
        shown_kind=kind,
        configured=bool(current_app.config.get("MAIL_SERVER")),
        max_attempts=int(current_app.config["MAIL_MAX_ATTEMPTS"]),
        form=PostForm(),
    )


@bp.get("/outbox/<int:message_id>")
def show(message_id: int):
    """One message whole: its headers, its text part, its HTML part."""
    row = _found(message_id)
    return render_template(
        "manager/outbox_message.html",
        row=row,
        states=STATE_WORDS,
        kinds=mail.MESSAGE_KINDS,
        configured=bool(current_app.config.get("MAIL_SERVER")),
        max_attempts=int(current_app.config["MAIL_MAX_ATTEMPTS"]),
        form=PostForm(),
    )


@bp.get("/outbox/<int:message_id>/html")
def html_part(message_id: int):
    """The HTML part alone, for the sandboxed frame of the message's page."""
    row = _found(message_id)
    response = current_app.make_response((row.html or "", 200))
    response.mimetype = "text/html"
    response.headers["Content-Security-Policy"] = HTML_PART_POLICY
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/outbox/<int:message_id>/resend")
def resend(message_id: int):
    """Send a message again, as a new message (a new Message-ID) with the same content."""
    if not PostForm().validate_on_submit():
        abort(400)
    row = _found(message_id)
    copy = outbox_page.resend(row)
    db.session.commit()
    flash(f"Message #{row.id} to {row.to_address} is being sent again as #{copy.id}.")
    return redirect(url_for(".index"))
