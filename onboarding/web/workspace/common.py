"""What the workspace's views share: the intake a URL names, and the CSRF check of a
POST."""

from __future__ import annotations

from flask import abort

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
