"""Invite links: staff create them for a prospect, list and revoke them."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select

from onboarding.db import db
from onboarding.db.models import Invite, utcnow
from onboarding.services.intake import workspace
from onboarding.web.workspace.auth import PostForm, staff_only
from onboarding.web.workspace.common import checked_post

bp = Blueprint("invites", __name__, url_prefix="/workspace")


bp.before_request(staff_only)


@bp.route("/invites", methods=["GET", "POST"])
def invites():
    """Create invite links; list and revoke them."""
    errors: dict[str, str] = {}
    created = None
    form = PostForm()
    if request.method == "POST":
        checked_post()
        try:
            created = workspace.create_invite(
                current_user,
                request.form.get("name", ""),
                request.form.get("email", ""),
                request.form.get("company"),
                request.form.get("note"),
                current_app.config["INVITE_DAYS"],
            )
            db.session.commit()
        except workspace.WorkspaceError as exc:
            db.session.rollback()
            errors.update(exc.errors)
    rows = db.session.execute(select(Invite).order_by(Invite.id.desc()).limit(100)).scalars().all()
    return render_template(
        "manager/invites.html",
        invites=rows,
        created=created,
        errors=errors,
        form=form,
        values=request.form if errors else {},
        days=current_app.config["INVITE_DAYS"],
        now=utcnow(),
    ), (422 if errors else 200)


@bp.post("/invites/<int:invite_id>/revoke")
def revoke_invite(invite_id: int):
    checked_post()
    invite = db.session.get(Invite, invite_id) or abort(404)
    workspace.revoke_invite(invite, current_user)
    db.session.commit()
    flash(f"The invite for {invite.email} is revoked: its link no longer opens.")
    return redirect(url_for(".invites"))
