"""The security log, for admins: sign-ins, accounts, second factors, tokens, webhooks."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request

from onboarding.domain.text import bounded_id
from onboarding.services.people import security_log
from onboarding.web.workspace.auth import admin_required, staff_only

bp = Blueprint("security", __name__, url_prefix="/workspace")


bp.before_request(staff_only)


@bp.get("/security")
@admin_required
def security_events():
    """Admins read the security log: sign-ins, accounts, second factors, tokens, webhooks."""
    kind = request.args.get("kind") or None
    if kind not in security_log.KINDS:
        kind = None
    before = bounded_id(request.args.get("before"))
    rows = security_log.events(kind, before)
    return render_template(
        "manager/security.html",
        events=rows,
        kinds=security_log.KINDS,
        kind=kind,
        more=rows[-1].id if len(rows) == security_log.PAGE else None,
    )


@bp.get("/security.csv")
@admin_required
def security_events_csv():
    """The security log as CSV (every event, or one kind)."""
    kind = request.args.get("kind") or None
    text = security_log.to_csv(
        security_log.all_events(kind if kind in security_log.KINDS else None)
    )
    return Response(
        text,
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="security-log.csv"'},
    )
