"""gunicorn settings of the app: each worker is made ready before its first request.

``onboarding serve`` passes it (``--config python:onboarding.gunicorn_conf``), and the
project's ``gunicorn.conf.py`` (which gunicorn reads from the folder it starts in)
imports it, so ``gunicorn wsgi:app`` gets it too. Without preloading, each worker
builds the app itself (and so loads the playbooks, whose checks are read from their
cache); ``post_worker_init`` then compiles every template and starts the process's PDF
render worker, before the worker accepts a connection.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger("onboarding.gunicorn")


def post_worker_init(worker: Any) -> None:
    """gunicorn's hook, after the worker loaded the app: compile and start everything
    a request would otherwise start (apps other than ours are left alone)."""
    app = getattr(worker, "wsgi", None)
    extensions = getattr(app, "extensions", None)
    if not isinstance(extensions, dict) or "onboarding" not in extensions:
        return
    from onboarding.web.warmup import prepare_worker

    try:
        prepare_worker(app)
    except Exception:  # a template that does not compile fails its own requests
        log.exception("worker %s: warm-up failed", getattr(worker, "pid", "?"))
