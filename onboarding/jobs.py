"""Background jobs run by RQ workers: the entry points that may need to build an app.

RQ imports a job by its dotted name (``onboarding.jobs.deliver_webhook``,
``onboarding.jobs.send_outbox``; the outbox worker runs ``send_reminders`` on its
schedule), so the layers below never import this module. Under ``onboarding worker``
the jobs run inside the command's app context; a plain ``rq worker`` has none, and the
first job builds an app from the environment.
"""

from __future__ import annotations

from flask import Flask, current_app, has_app_context

from onboarding.integrations import outbox, webhooks
from onboarding.services import mail
from onboarding.web.mailing import mailer

_app: Flask | None = None


def job_app() -> Flask:
    """The app a job runs in: the current one, else one built (once) from settings."""
    global _app
    if has_app_context():
        return current_app._get_current_object()  # type: ignore[attr-defined]
    if _app is None:
        from onboarding.app import create_app

        _app = create_app()
    return _app


def deliver_webhook(delivery_id: int) -> str:
    """Send one webhook delivery and schedule its retry if it needs one.

    Each job gets a fresh app context (its own database session). Returns ``done`` or
    ``retry``.
    """
    with job_app().app_context():
        return webhooks.rq_deliver(delivery_id)


def send_outbox(message_id: int) -> str:
    """Send one outbox message (an email) and schedule its retry if it needs one.
    Returns ``done`` or ``retry``."""
    with job_app().app_context():
        return outbox.rq_send(message_id)


def send_reminders() -> int:
    """Write the draft reminders that are due (the worker's schedule); their messages
    go through the outbox like any other. Returns how many were written."""
    with job_app().app_context():
        return mail.send_reminders(mailer())
