"""Public pages: the home page and the start of an intake."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_wtf import FlaskForm

from ..extensions import db
from ..services import create_intake

bp = Blueprint("pages", __name__)


class StartForm(FlaskForm):
    """The "Start" button (a POST with CSRF)."""


@bp.get("/")
def home():
    """The prospect's landing page."""
    return redirect(url_for("pages.start"))


@bp.route("/start", methods=["GET", "POST"])
def start():
    """Explain the intake; on POST create a draft and open its first step."""
    form = StartForm()
    if form.validate_on_submit():
        intake = create_intake()
        db.session.commit()
        return redirect(url_for("intake.resume", token=intake.token))
    return render_template("intake/start.html", form=form, expired=bool(form.errors))


@bp.get("/healthz")
def healthz():
    """Liveness for load balancers: the app answers and reaches the database."""
    db.session.execute(db.text("SELECT 1"))
    return {"status": "ok"}
