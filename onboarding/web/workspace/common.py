"""What the workspace's views share: the intake a URL names, and the CSRF check of a
POST."""

from __future__ import annotations

from flask import abort, url_for

from onboarding.db.models import Intake
from onboarding.services.intake import workspace
from onboarding.web.workspace.auth import PostForm


def load(public_id: str) -> Intake:
    """The intake ``public_id`` names; 404 when there is none."""
    intake = workspace.intake_by_public_id(public_id)
    if intake is None:
        abort(404)
    return intake


def checked_post() -> None:
    """Refuse a POST whose CSRF token is missing or stale (CSRFProtect does it too)."""
    if not PostForm().validate_on_submit():
        abort(400)


def link_sent(intake: Intake, version, done: str) -> str:
    """What the manager is told after a send: the prospect was emailed their link; with
    no address on file, the link to pass on by hand."""
    if intake.contact_email:
        return f"{done}: we emailed the private link to {intake.contact_email}."
    link = url_for("signing.view", token=version.token, _external=True)
    return f"{done}. The prospect gave no email address: pass on this private link: {link}"
