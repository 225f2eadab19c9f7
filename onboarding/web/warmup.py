"""Templates compiled before the requests that need them.

A process compiles a Jinja template the first time something renders it, so a
worker's first send or accept compiled the agreement page's and the emails' templates
inside the request (all of ours take about 0.8 s to compile). Outside tests, the first
request of each process starts a background thread that compiles every template of the
three environments (the app's pages, the emails, the agreement documents); the requests
after it find them compiled.
"""

from __future__ import annotations

import logging
import threading

from flask import Flask

log = logging.getLogger(__name__)


def compile_all(app: Flask) -> int:
    """Compile every template of the app's, the emails' and the documents' Jinja
    environments into their caches; returns how many were compiled."""
    from onboarding.rendering import documents
    from onboarding.services.notify import mail

    environments = (
        (app.jinja_env, lambda name: not name.startswith("email/")),
        (mail.environment(), lambda name: True),  # rooted at templates/email
        (documents.environment(), lambda name: name.startswith("agreement/")),
    )
    count = 0
    for environment, wanted in environments:
        for name in environment.list_templates():
            if wanted(name):
                environment.get_template(name)
                count += 1
    return count


def install(app: Flask) -> None:
    """Outside tests, compile the templates in the background from the process's first
    request on (a process made by forking compiles its own)."""
    if app.testing:
        return
    lock, started = threading.Lock(), []

    def warm() -> None:
        try:
            log.debug("warm-up: %d templates compiled", compile_all(app))
        except Exception:  # a broken template fails its own request, with its own error
            log.exception("warm-up: a template did not compile")

    @app.before_request
    def _warm_templates() -> None:
        with lock:
            if started:
                return
            started.append(True)
        threading.Thread(target=warm, name="warm-templates", daemon=True).start()
