"""Background jobs run by RQ workers: the entry points that may need to build an app.

RQ imports a job by its dotted name (``onboarding.jobs.send``; the worker runs
``scheduled`` on its schedule), so the layers below never import this module. Under
``onboarding worker`` the jobs run inside the command's app context; a plain ``rq
worker`` has none, and the first job builds an app from the environment.
"""

from __future__ import annotations

from flask import Flask, current_app, has_app_context

from onboarding.integrations import outbox, webhooks, worker  # noqa: F401 - channels register
from onboarding.services.notify import digests, project_mail, reminders

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


def send(channel: str, row_id: int) -> str:
    """Send one outbound row (``email`` or ``webhook``) and schedule its retry if it
    needs one. Each job gets a fresh app context (its own database session). Returns
    ``done`` or ``retry``."""
    with job_app().app_context():
        return worker.rq_send(channel, row_id)


def deliver_webhook(delivery_id: int) -> str:
    """A webhook delivery queued before the one outbox job (``send``) existed."""
    return send("webhook", delivery_id)


def send_outbox(message_id: int) -> str:
    """An email queued before the one outbox job (``send``) existed."""
    return send("email", message_id)


def scheduled() -> int:
    """The worker's schedule: write the draft reminders and the staff digests that are
    due; their messages go through the outbox like any other. Returns how many."""
    with job_app().app_context():
        written = reminders.send_reminders() + project_mail.remind_updates()
        return written + digests.send_digests()


def send_reminders() -> int:
    """The draft reminders alone (jobs scheduled before ``scheduled`` existed)."""
    with job_app().app_context():
        return reminders.send_reminders()
