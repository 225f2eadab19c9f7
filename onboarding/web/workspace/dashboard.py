"""The account managers' list of prospects (submitted intakes), drafts and CSV export.

Thin views: :mod:`onboarding.services.intake.listing` parses the query parameters and builds the
queries; a bad parameter is ignored and named in a note on the page, never an error.
Every workspace page's navigation shows how many prospects await an answer
(``attention_count()`` in the templates, counted once per request when shown).
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from sqlalchemy import select

from onboarding.db import db
from onboarding.db.engine import begin_write
from onboarding.db.models import User, utcnow
from onboarding.domain.workflow import STATUS_LABELS
from onboarding.services.intake import attention, listing, workspace
from onboarding.services.intake import export as csv_export
from onboarding.services.notify import mail
from onboarding.web.workspace.auth import PostForm, staff_only

bp = Blueprint("dashboard", __name__, url_prefix="/workspace")


bp.before_request(staff_only)


def attention_count() -> int:
    """How many prospects await the manager's answer (one query, once per request)."""
    if "attention_count" not in g:
        g.attention_count = attention.attention_count(db.session)
    return g.attention_count


@bp.app_context_processor
def _navigation() -> dict:
    """The navigation's count, queried only when a page shows it."""
    return {"attention_count": attention_count}


def _users() -> list[User]:
    """Every user, by display name (owners to filter by; disabled ones still own)."""
    users = db.session.execute(select(User)).scalars().all()
    return sorted(users, key=lambda u: (u.display_name.lower(), u.id))


def _per_page() -> int:
    return max(1, int(current_app.config.get("PER_PAGE") or 25))


@bp.get("/")
def index():
    """Submitted intakes: sortable, filterable, searchable and paginated by GET."""
    users = _users()
    filters, problems = listing.parse_filters(request.args, {u.id for u in users})
    page, more = listing.prospects_page(db.session, filters, _per_page(), users)
    return render_template(
        "manager/dashboard.html",
        page=page,
        filters=filters,
        problems=problems + more,
        users=users,
        owners={u.id: u for u in users},
        sorts=listing.SORTS,
        bands=listing.BANDS,
        statuses={s: STATUS_LABELS[s] for s in listing.LIST_STATUSES},
        nobody=listing.NOBODY,
    )


@bp.get("/drafts")
def drafts():
    """Intakes still being filled in, last saved first, with their last step."""
    users = _users()
    filters, problems = listing.parse_filters({k: request.args.get(k) for k in ("q", "page")})
    page, more = listing.drafts_page(db.session, filters, _per_page())
    return render_template(
        "manager/drafts.html",
        page=page,
        filters=filters,
        problems=problems + more,
        owners={u.id: u for u in users},
        step_title=listing.step_title,
        form=PostForm(),
    )


EMAILED = {
    "sent": "We emailed {name} their private link again at {email}.",
    "limited": (
        "{name} was emailed their link several times recently, so we did not send another "
        "now: copy the link and pass it on yourself, or try later."
    ),
    "no_email": "This draft has no email address yet: copy the link and pass it on yourself.",
}


@bp.post("/drafts/<public_id>/email-link")
def email_draft_link(public_id: str):
    """Email a draft's private link to its prospect again (the limits still apply)."""
    if not PostForm().validate_on_submit():
        abort(400)
    intake = workspace.intake_by_public_id(public_id)
    if intake is None or intake.status != "draft":
        abort(404)
    begin_write(db.session())
    result = mail.email_resume_link(intake)
    db.session.commit()
    name = intake.contact_name or "The prospect"
    message = EMAILED[result].format(name=name, email=intake.contact_email)
    flash(message, "success" if result == "sent" else "error")
    back = {k: v for k, v in request.args.items() if k in ("q", "page")}
    return redirect(url_for(".drafts", **back))


@bp.get("/export.csv")
def export():
    """Every intake the dashboard's filters select, as CSV, streamed in batches."""
    users = _users()
    filters, _ = listing.parse_filters(request.args, {u.id for u in users})
    chunks = csv_export.export_csv(db.session, filters)
    name = f"prospects-{utcnow():%Y-%m-%d}.csv"
    return Response(
        stream_with_context(chunks),
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )
