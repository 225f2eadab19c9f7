"""Background jobs run by RQ workers: the entry points that may need to build an app.

RQ imports a job by its dotted name (``onboarding.jobs.deliver_webhook``), so the layers
below never import this module. Under ``onboarding worker`` the jobs run inside the
command's app context; a plain ``rq worker`` has none, and the first job builds an app
from the environment.
"""

from __future__ import annotations

from flask import Flask, current_app, has_app_context

from onboarding.integrations import webhooks

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
