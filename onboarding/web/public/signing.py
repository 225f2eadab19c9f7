"""The prospect's side of the agreement: read it, download it, accept or ask for changes.

The link's token is the prospect's key (a 404 for any other); forms check CSRF in the
view, so an expired page shows the typed name or comment back instead of an error.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask_wtf import FlaskForm

from onboarding.db import db
from onboarding.domain.agreement import compose
from onboarding.rendering.pdf import html_for
from onboarding.services import acceptance
from onboarding.services.agreements import document_date
from onboarding.services.workspace import WorkspaceError
from onboarding.web.public.intake import EXPIRED, csrf_ok
from onboarding.web.workspace.manager import (
    content_disposition,
    renders_before_writing,
    start_writing,
)

bp = Blueprint("signing", __name__, url_prefix="/agreement")


class AnswerForm(FlaskForm):
    """Accept or ask for changes (fields are read from the request)."""


def load(token: str):
    version = acceptance.version_by_token(token)
    if version is None:
        abort(404)
    return version


def agreement_body(version) -> str:
    """The frozen agreement as HTML (the same template as the PDF)."""
    from flask import current_app

    agreement = compose(
        version.answers,
        version.assessment,
        agency=current_app.config["AGENCY_NAME"],
        date=document_date(version.intake),
    )
    return html_for(agreement, static_base=url_for("static", filename=""), trace="appendix")


def render_page(version, errors=None, notice=None, values=None, status=200):
    """The agreement document with the prospect's panel: status on top, answer below."""
    context = {
        "version": version,
        "intake": version.intake,
        "form": AnswerForm(formdata=None),
        "errors": errors or {},
        "notice": notice,
        "values": values or {},
        "thread": acceptance.messages_of(version.intake),
    }
    top = render_template("signing/_banner.html", **context)
    panel = render_template("signing/_panel.html", **context)
    html = agreement_body(version)
    html = html.replace('<main class="doc" id="top">', top + '<main class="doc" id="top">', 1)
    html = html.replace("</main>", panel + "</main>", 1)
    title = "Error: " if errors or notice else ""
    html = html.replace("<title>", f"<title>{title}", 1)
    return Response(html, status=status, mimetype="text/html")


@bp.get("/<token>")
def view(token: str):
    """The agreement to read, with the accept and change-request forms."""
    return render_page(load(token))


@bp.get("/<token>/pdf")
def pdf(token: str):
    """The PDF as sent, or the accepted PDF with its certificate page."""
    version = load(token)
    data = version.pdf
    name = version.filename
    if version.status == "accepted" and request.args.get("final") != "0":
        data, name = version.final_pdf, name.replace(".pdf", " - accepted.pdf")
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = content_disposition(name)
    return response


@bp.post("/<token>/accept")
@renders_before_writing
def accept(token: str):
    """Accept: typed full name, consent box, one click.

    The certificate renders first; the write transaction begins after, and locks the
    version so a double click accepts once.
    """
    version = load(token)
    values = {"name": request.form.get("name", ""), "consent": request.form.get("consent")}
    if not csrf_ok(AnswerForm()):
        return render_page(version, notice=EXPIRED, values=values, status=422)
    answer = acceptance.Acceptance(
        name=values["name"],
        consent=values["consent"] == "yes",
        ip=request.remote_addr or "",
        user_agent=request.headers.get("User-Agent", ""),
    )
    try:
        prepared = acceptance.prepare_acceptance(version, answer)
        start_writing()
        version = acceptance.version_by_token(token, for_update=True) or abort(404)
        acceptance.record_acceptance(version, prepared)
    except WorkspaceError as exc:
        db.session.rollback()
        return render_page(version, errors=exc.errors, values=values, status=422)
    db.session.commit()
    return redirect(url_for(".view", token=token))


@bp.post("/<token>/changes")
def changes(token: str):
    """Ask for changes with a comment; the account manager gets it back in review."""
    version = acceptance.version_by_token(token, for_update=True) or abort(404)
    values = {"comment": request.form.get("comment", "")}
    if not csrf_ok(AnswerForm()):
        return render_page(version, notice=EXPIRED, values=values, status=422)
    try:
        acceptance.request_changes(version, values["comment"])
    except WorkspaceError as exc:
        db.session.rollback()
        return render_page(version, errors=exc.errors, values=values, status=422)
    db.session.commit()
    return redirect(url_for(".view", token=token))
