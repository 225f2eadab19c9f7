"""How a view writes: POSTs begin their write transaction up front (``app.register_hooks``),
except the views that render a PDF first (:func:`renders_before_writing`), which call
:func:`start_writing` once the render is done, so no render holds the write lock. The
workspace, the prospect's signing pages and the API share these."""

from __future__ import annotations

from onboarding.db import db
from onboarding.db.engine import begin_write


def renders_before_writing(view):
    """Mark a POST view that renders a PDF before it writes: the app does not begin the
    view's write transaction up front (see ``app.register_hooks``); the view renders,
    then calls :func:`start_writing`, so no render runs holding the write lock."""
    view.renders_before_writing = True
    return view


def start_writing() -> None:
    """End the request's reading (it wrote nothing) and begin its write transaction."""
    db.session.rollback()
    begin_write(db.session())
