"""Webhook events about intakes: when one fires and the JSON it carries.

:func:`emit` is the one way an event is fired. It builds the payload from the plain
summaries of :mod:`onboarding.services.summaries` (the API lists the same objects) and
gives it to :mod:`onboarding.integrations.webhooks`, which stores one delivery per
subscribed endpoint in the caller's transaction and sends them after it commits.
Callers commit; a rollback sends nothing.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import inspect

from onboarding.db import db
from onboarding.db.models import Intake, WebhookDelivery, new_token, utcnow
from onboarding.integrations import webhooks
from onboarding.integrations.webhooks import EVENTS
from onboarding.services.signals import SIGNALS
from onboarding.services.summaries import assessment_summary, intake_summary, iso

__all__ = ["EVENTS", "emit", "payload", "subscribe"]


def payload(
    event: str,
    intake: Intake,
    event_id: str,
    previous_status: str | None = None,
    entry: Any = None,
) -> dict[str, Any]:
    """The JSON object of ``event`` about ``intake`` (the API's ``WebhookEvent``); a
    project event also carries its ``entry`` (what was posted, moved or signed off)."""
    data: dict[str, Any] = {
        "intake": intake_summary(intake),
        "assessment": assessment_summary(intake),
    }
    if event == "intake.status_changed" and previous_status is not None:
        data["previous_status"] = previous_status
    if entry is not None:
        data["entry"] = {
            "id": entry.id,
            "kind": entry.kind,
            "author": entry.author,
            "created_at": iso(entry.created_at),
            **entry.data,
        }
    return {"id": event_id, "event": event, "created_at": iso(utcnow()), "data": data}


def emit(
    event: str, intake: Intake, *, previous_status: str | None = None, entry: Any = None
) -> list[WebhookDelivery]:
    """Fire ``event`` (one of :data:`EVENTS`) about ``intake``: one pending delivery per
    active endpoint subscribed to it, in the caller's transaction. Returns them.

    ``previous_status`` (``intake.status_changed``): the status before the change; by
    default the intake's unflushed status history. Raises ValueError for an unknown
    event. Nothing is flushed here, so the caller's changes surface at its commit.
    """
    endpoints = webhooks.subscribers(event)  # raises ValueError for an unknown event
    if not endpoints:
        return []
    with db.session.no_autoflush:
        if event == "intake.status_changed" and previous_status is None:
            history = inspect(intake).attrs.status.history
            previous_status = history.deleted[0] if history.deleted else None
        # Column defaults are filled at INSERT; the payload needs them now.
        now = utcnow()
        if intake.public_id is None:
            intake.public_id = new_token()
        intake.created_at = intake.created_at or now
        intake.updated_at = intake.updated_at or now
        event_id = webhooks.new_event_id()
        body = payload(event, intake, event_id, previous_status, entry)
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return webhooks.record(event, event_id, text, endpoints, intake)


def _firing(event: str):
    """The subscriber that fires webhook ``event`` when its signal is announced."""

    def fire(
        intake: Intake, *, previous_status: str | None = None, entry: Any = None, **_: Any
    ) -> None:
        emit(event, intake, previous_status=previous_status, entry=entry)

    return fire


# One subscriber per signal that is a webhook event (made once: connecting them again is
# a no-op, so every app the process builds shares them).
_SUBSCRIBERS = {signal: _firing(signal.name) for signal in SIGNALS if signal.name in EVENTS}


def subscribe() -> None:
    """Fire the webhook events (:data:`EVENTS`) their signals announce."""
    for signal, fire in _SUBSCRIBERS.items():
        signal.connect(fire, weak=False)
