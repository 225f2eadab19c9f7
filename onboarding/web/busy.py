"""No write lost to a busy database.

SQLite has one writer at a time. Every request that writes (POST, PUT, PATCH, DELETE)
takes the write lock when it starts (``BEGIN IMMEDIATE``, waiting up to the busy
timeout: app.register_hooks); a transaction that began by reading and then writes
cannot wait for the lock (SQLite refuses the upgrade at once with "database is locked"
whenever another connection writes), which is what answered 500 to ``PUT
/api/v1/intakes/<id>/terms`` while the background renders wrote their claims and
results.

Should a request still meet a locked database, its transaction is rolled back (nothing
of it is stored) and the whole request runs again, with a short growing pause, for up
to ``DB_BUSY_SECONDS``; a request that already committed part of its work is never run
twice. Past that the answer is a 503: on a page, one that keeps what the form sent and
posts it again with one button; in the API, one that says to retry (``Retry-After``).
Never a 500, never half a change.
"""

from __future__ import annotations

import logging
import random
import time

from flask import Flask, g, has_request_context, render_template, request, session
from sqlalchemy import event
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException

from onboarding.db import db
from onboarding.domain.text import printable

log = logging.getLogger(__name__)

LOCKED = ("database is locked", "database table is locked", "database is busy")
API_MESSAGE = (
    "The database is busy: nothing of this request was stored. Send it again in a few seconds."
)


class DatabaseBusy(Exception):
    """A request's transaction met a locked database (it is rolled back)."""


def is_locked(exc: BaseException) -> bool:
    """Whether ``exc`` is SQLite's "database is locked" (or a cause of it is)."""
    while exc is not None:
        if isinstance(exc, OperationalError) and any(
            words in str(exc.orig).lower() for words in LOCKED
        ):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


@event.listens_for(Session, "after_commit")
def _committed(session) -> None:
    # A request that committed part of its work is not run again (it would repeat it).
    if has_request_context():
        g.busy_committed = True


def busy_answer():
    """The 503 past the bounded retries: the API says to retry; a page keeps the form's
    input and posts it again."""
    headers = {"Retry-After": "5"}
    if request.path.startswith("/api/"):
        body = {"errors": [{"field": "request", "message": API_MESSAGE}]}
        return body, 503, headers
    fields = [] if request.method != "POST" else list(request.form.items(multi=True))
    page = render_template(
        "errors/busy.html",
        fields=fields,
        files=bool(request.method == "POST" and request.files),
        action=request.full_path.rstrip("?"),
        again=request.method == "POST",
    )
    return page, 503, headers


def init_app(app: Flask) -> None:
    """Turn a locked database into a bounded retry of the whole request, then a 503."""

    @app.errorhandler(OperationalError)
    def _operational(exc: OperationalError):
        db.session.rollback()
        if is_locked(exc):
            raise DatabaseBusy from exc
        from onboarding.web.errors import render_error

        log.exception("Unhandled error on %s", printable(request.path), exc_info=exc)
        return render_error(500)

    original = app.full_dispatch_request

    def full_dispatch_request():
        if request.method not in ("POST", "PUT", "PATCH", "DELETE"):
            try:
                return original()
            except DatabaseBusy:  # a page that writes on the way (rare): 503, not 500
                db.session.rollback()
                return app.finalize_request(busy_answer())
        if request.is_json:
            try:
                request.get_data(cache=True)  # read once: every attempt sees the same body
            except HTTPException:  # too large: the view's own reading answers it (413)
                return original()
        deadline = time.monotonic() + float(app.config.get("DB_BUSY_SECONDS", 15))
        saved = dict(session)
        attempt = 0
        while True:
            g.busy_committed = False
            try:
                return original()
            except DatabaseBusy:
                db.session.rollback()
                attempt += 1
                if g.busy_committed or time.monotonic() >= deadline:
                    log.warning(
                        "database busy: %s %s answered 503 after %d attempts",
                        request.method,
                        printable(request.path),
                        attempt,
                    )
                    return app.finalize_request(busy_answer())
                log.info("database busy: %s again (attempt %d)", printable(request.path), attempt)
                # A growing pause with jitter, so two waiting workers do not collide again.
                time.sleep(min(0.05 * 2**attempt, 1.0) * (0.5 + random.random()))  # noqa: S311
                session.clear()
                session.update(saved)  # the failed attempt's flashes and changes are gone

    app.full_dispatch_request = full_dispatch_request
