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


def prepare_worker(app: Flask) -> None:
    """Make a server worker ready before it takes its first request: every template
    compiled, the agency profile read, the assessment of the playbooks generated, the
    PDF render worker started (WeasyPrint imported, the stylesheet and fonts parsed), the
    outbox worker started, the signed-in user's statement compiled and one ``/healthz``
    request sent through the whole stack (the URL map's matcher, the hooks). gunicorn
    calls it from its ``post_worker_init`` hook (``onboarding/gunicorn_conf.py``), after
    the worker built the app (which loaded the playbooks); the first request then costs
    what a repeat does."""
    from onboarding.domain.terms import default_profile
    from onboarding.integrations import worker
    from onboarding.rendering.isolation import get_renderer
    from onboarding.services.agreement.compose import composing_code, prerendered_pdf
    from onboarding.services.people.accounts import load_user
    from onboarding.services.profile import installation_profile

    count = compile_all(app)
    default_profile()  # the shipped agency profile, read by every page's header
    try:  # the generated validation and assessment of the app's playbooks
        from onboarding.domain.assessment import evaluate
        from onboarding.domain.questionnaire import get_questionnaire
        from onboarding.web.extensions import app_playbooks

        questionnaire = get_questionnaire()
        clean, _ = questionnaire.validate({})
        evaluate(clean, app_playbooks(app), questionnaire)
    except Exception:  # the request that assesses reports what is wrong
        log.exception("warm-up: the assessment could not be prepared")
    try:  # the page header's query: the pool's first connection, the statement compiled
        with app.app_context():
            installation_profile()
            load_user("0:0")  # a signed-in user's statement, compiled (no user 0)
            # The download's one statement, compiled; the digest of the composing code.
            prerendered_pdf("-", agency=app.config["AGENCY_NAME"])
            composing_code()
    except Exception:  # a database down at start fails its own requests, as before
        log.exception("warm-up: the database did not answer")
    app.extensions["onboarding.warm"] = True
    if not app.testing:
        # The outbox worker's start-up sweep and schedule run now, not beside the
        # first request (which used to start it).
        worker.dispatcher(app).start()
    try:
        get_renderer().start()
    except Exception:  # the render that needs it reports why it cannot start
        log.exception("warm-up: the PDF render worker did not start")
    try:  # one request through the whole stack: the URL map's matcher built, the hooks run
        app.test_client().get("/healthz")
    except Exception:  # the requests that follow report what is wrong
        log.exception("warm-up: the first request failed")
    log.info("worker ready: %d templates compiled, render worker started", count)


def install(app: Flask) -> None:
    """Outside tests, compile the templates in the background from the process's first
    request on (a process made by forking compiles its own), unless the server already
    did at the worker's start (:func:`prepare_worker`)."""
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
        if started:
            return
        with lock:
            if started:
                return
            started.append(True)
        if app.extensions.get("onboarding.warm"):
            return
        threading.Thread(target=warm, name="warm-templates", daemon=True).start()
