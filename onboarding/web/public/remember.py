"""The draft in progress, remembered by the prospect's browser.

A cookie holds the resume token (the same key as the private link, so it opens nothing
more): HttpOnly, SameSite=Lax, Secure under https, kept as long as a resume link lives
(``DRAFT_RETENTION_DAYS``), cleared when the intake is sent or on "Not you? Start
again". /start then offers "Continue your answers" instead of making a second draft.
"""

from __future__ import annotations

from flask import Response, current_app, request

from onboarding.db.models import Intake
from onboarding.services.intake.submission import intake_by_token

COOKIE = "onboarding_draft"


def _secure() -> bool:
    return request.is_secure or current_app.config.get("PREFERRED_URL_SCHEME") == "https"


def remember(response: Response, intake: Intake) -> Response:
    """Have the browser remember ``intake`` (a draft) as the one in progress."""
    if intake.status != "draft":
        return forget(response)
    days = int(current_app.config.get("DRAFT_RETENTION_DAYS") or 90)
    response.set_cookie(
        COOKIE,
        intake.token,
        max_age=days * 24 * 3600,
        httponly=True,
        samesite="Lax",
        secure=_secure(),
        path="/",
    )
    return response


def forget(response: Response) -> Response:
    """Clear the remembered draft."""
    if COOKIE in request.cookies:
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="Lax", secure=_secure())
    return response


def remembered() -> Intake | None:
    """The draft this browser remembers, if it is still a draft."""
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    intake = intake_by_token(token)
    return intake if intake is not None and intake.status == "draft" else None
