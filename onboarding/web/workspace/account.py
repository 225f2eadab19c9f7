"""Your account (every member of staff): how you hear of your intakes by email.

The choice is each user's own: one email per submission, change request and acceptance;
one daily digest of them (after ``DIGEST_HOUR`` UTC); or none, for those who live in
the workspace.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import RadioField

from onboarding.db import db
from onboarding.services import mail
from onboarding.web.forms import choices
from onboarding.web.workspace.auth import staff_only

bp = Blueprint("account", __name__, url_prefix="/workspace")
bp.before_request(staff_only)


class NoticesForm(FlaskForm):
    notices = RadioField(
        "How should we tell you of new submissions, change requests and acceptances?",
        choices=choices(mail.NOTICE_CHOICES.items()),
    )


@bp.route("/account", methods=["GET", "POST"])
def index():
    form = NoticesForm(data={"notices": current_user.notices})
    if form.validate_on_submit():
        mail.set_notices(current_user, form.notices.data)
        db.session.commit()
        flash(f"Saved: {mail.NOTICE_CHOICES[form.notices.data].lower()}.", "success")
        return redirect(url_for("account.index"))
    held = mail.held_count(current_user)
    return render_template("manager/account.html", form=form, held=held), (
        400 if form.errors else 200
    )
