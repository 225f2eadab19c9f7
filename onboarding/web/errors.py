"""Error pages: rendered HTML (JSON under /api), never a traceback."""

from __future__ import annotations

import logging

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from werkzeug.exceptions import HTTPException, InternalServerError

from onboarding.db import db
from onboarding.domain.text import printable
from onboarding.rendering.pdf import RenderError

log = logging.getLogger(__name__)

MESSAGES = {
    400: ("Something was wrong with that request", "Please go back and try again."),
    403: ("You cannot open this page", "Your account does not give you access to it."),
    404: ("Page not found", "Check the address, or open the link you were sent again."),
    405: ("That did not work", "This page cannot be used that way. Go back and try again."),
    410: ("This link has lapsed", "Private links stop working after a long time without "
          "use. Please ask us for a new one."),
    413: ("That was too much to send", "Shorten your answers and try again."),
    429: ("Too many attempts", "Please wait a minute before you try again."),
    503: ("The agreement could not be produced just now", "Nothing is lost: please try "
          "again in a minute. If it keeps happening, tell us which agreement it was."),
    500: ("Sorry, something went wrong on our side", "Your saved answers are safe. "
          "Please try again in a few minutes."),
}  # fmt: skip


def render_error(code: int, detail: str | None = None):
    """The error page (or JSON for API paths) with the right status code."""
    title, text = MESSAGES.get(code, MESSAGES[500 if code >= 500 else 400])
    if request.path.startswith("/api/"):
        return {"errors": [{"field": "request", "message": detail or title}]}, code
    try:
        page = render_template("errors/error.html", code=code, title=title, text=detail or text)
    except Exception:  # noqa: BLE001 - e.g. a refused Host header: no URLs can be built
        page = f"<!doctype html><title>{escape(title)}</title><h1>{escape(title)}</h1>"
    return page, code


def init_app(app: Flask) -> None:
    """Register the handlers on ``app``."""

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError):
        log.warning("CSRF check failed on %s: %s", printable(request.path), exc.description)
        return render_error(
            400,
            "The form had expired or was not sent from this site. "
            "Go back, reload the page and try again.",
        )

    @app.errorhandler(RenderError)
    def _render(exc: RenderError):
        db.session.rollback()
        log.error("PDF render failed on %s: %s", printable(request.path), printable(exc))
        body, code = render_error(503)
        return body, code, {"Retry-After": "60"}

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        body, code = render_error(exc.code or 500)
        headers = {}
        if code == 405 and getattr(exc, "valid_methods", None):
            # RFC 9110: a 405 says which methods the address does take.
            headers["Allow"] = ", ".join(exc.valid_methods)
        return body, code, headers

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        if isinstance(exc, HTTPException):  # pragma: no cover - handled above
            return _http(exc)
        db.session.rollback()
        log.exception("Unhandled error on %s", printable(request.path), exc_info=exc)
        return render_error(InternalServerError.code)
