"""The account managers' list of prospects (submitted intakes) and drafts."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user
from sqlalchemy import select

from ..extensions import db, login_manager
from ..models import Intake

bp = Blueprint("dashboard", __name__, url_prefix="/workspace")


@bp.before_request
def _staff_only():
    """Every page here needs a signed-in member of staff."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None


@bp.get("/")
def index():
    """Submitted intakes, newest first."""
    rows = db.session.execute(
        select(Intake)
        .where(Intake.status != "draft")
        .order_by(Intake.submitted_at.desc())
        .limit(50)
    ).scalars()
    return render_template("manager/dashboard.html", intakes=list(rows))


@bp.get("/drafts")
def drafts():
    """Intakes still being filled in, with their last step."""
    rows = db.session.execute(
        select(Intake).where(Intake.status == "draft").order_by(Intake.updated_at.desc()).limit(50)
    ).scalars()
    return render_template("manager/drafts.html", intakes=list(rows))
