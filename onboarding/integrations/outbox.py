"""The email channel of the outbox: messages written with a change, sent after it commits.

:mod:`onboarding.integrations.worker` is the one worker design for every outbound
message (recording, the after-commit hand-off, dispatchers, the sweep, the schedule);
this module is what is particular to email, rows of
:class:`~onboarding.db.outbox.OutboxMessage`:

**Sending.** :func:`deliver` claims a due message with a lease (an UPDATE only one
process can win: ``sending``, ``locked_until``, one more attempt), sends it, and records
the outcome: ``sent`` (with the server's answer), ``written`` (no ``MAIL_SERVER``: logged
and kept for the Outbox page), a retry after ``MAIL_BACKOFF`` × 4^(attempt − 1) seconds,
or ``failed`` (a permanent refusal, or out of ``MAIL_MAX_ATTEMPTS``). A worker killed
mid-send leaves the row ``sending`` until its lease runs out; the sweep then sends it
again under the same ``Message-ID``: delivery is at least once, and receivers can drop a
repeat by its id.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, current_app
from sqlalchemy import or_, select

from onboarding.db import db
from onboarding.db.models import utcnow
from onboarding.db.outbox import OPEN_STATES, OutboxMessage
from onboarding.integrations import mail, worker
from onboarding.integrations.webhooks import backoff  # one retry schedule for every message
from onboarding.integrations.worker import (  # noqa: F401 - the outbox's one worker
    Dispatcher,
    RqDispatcher,
    ThreadDispatcher,
    dispatcher,
    init_app,
    transport,
)

log = logging.getLogger(__name__)

SWEEP_BATCH = 200


def _settings(app: Flask) -> dict[str, Any]:
    c = app.config
    smtp = mail.SmtpSettings.from_config(c)
    return {
        "smtp": smtp,
        "max_attempts": int(c.get("MAIL_MAX_ATTEMPTS", 6)),
        "backoff": float(c.get("MAIL_BACKOFF", 60)),
        # A session is several exchanges, each allowed the timeout.
        "lease": smtp.timeout * 6 + 30,
    }


def track(rows: list[OutboxMessage]) -> None:
    """Hand ``rows`` (just added to ``db.session``) to the worker once it commits."""
    worker.track("email", rows)


# --- sending -------------------------------------------------------------------------------------


def _send_email(row: OutboxMessage, settings: dict[str, Any]) -> tuple[str, int | None, str]:
    """Send (or, with no mail server, write) one email: ``(state, code, answer)``."""
    try:
        message = mail.build(row)
    except (mail.BadAddress, ValueError) as exc:  # a header with a line break, say
        return "failed", None, str(exc)[: mail.MAX_ANSWER]
    smtp: mail.SmtpSettings = settings["smtp"]
    if not smtp.host:
        mail.log_written(row.id, row.kind, row.to_address)
        return "written", None, "Not sent: no MAIL_SERVER is set. Kept here to read."
    outcome = mail.send(message, smtp)
    return outcome.state, outcome.code, outcome.answer


SENDERS: dict[str, Callable[[OutboxMessage, dict[str, Any]], tuple[str, int | None, str]]] = {
    "email": _send_email,
}
"""How each channel's rows are sent (webhook deliveries would add ``webhook``)."""


def _due(now: datetime):
    return (
        OutboxMessage.status.in_(OPEN_STATES),
        or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= now),
        or_(OutboxMessage.locked_until.is_(None), OutboxMessage.locked_until < now),
    )


def deliver(message_id: int) -> datetime | None:
    """Send one message if it is due and nobody else is sending it; record the outcome.

    Returns when to try again (a retry is due), or None (sent, written, failed for good,
    not due, or claimed by another worker). Needs an app context; commits.
    """
    settings = _settings(current_app)
    if not worker.lease(
        OutboxMessage,
        message_id,
        _due,
        settings["lease"],
        status="sending",
        attempts=OutboxMessage.attempts + 1,
    ):
        return None
    row = db.session.get(OutboxMessage, message_id, populate_existing=True)
    if row is None:  # deleted with its intake meanwhile
        db.session.rollback()
        return None
    attempts, kind, channel = row.attempts, row.kind, row.channel
    db.session.expunge(row)
    db.session.rollback()
    sender = SENDERS.get(channel)
    if sender is None:
        state, code, answer = "failed", None, f"no sender for the channel {channel!r}"
    else:
        state, code, answer = sender(row, settings)
    done = utcnow()
    values: dict[str, Any] = {"last_code": code, "last_answer": answer, "locked_until": None}
    retry_at = None
    if state in ("sent", "written"):
        values.update(status=state, sent_at=done, next_attempt_at=None)
    elif state == "retry" and attempts < settings["max_attempts"]:
        retry_at = done + timedelta(seconds=backoff(attempts, settings["backoff"]))
        values.update(status="queued", next_attempt_at=retry_at)
    else:
        values.update(status="failed", next_attempt_at=None)
    worker.record(OutboxMessage, message_id, values, OutboxMessage.status == "sending")
    log.info(
        "outbox message %s (%s %s): %s%s",
        message_id,
        channel,
        kind,
        values["status"],
        f", retry at {retry_at:%H:%M:%S}" if retry_at else "",
    )
    return retry_at


def due_ids(limit: int = SWEEP_BATCH) -> list[int]:
    """Messages that are due and not being sent (the sweep's work), oldest first."""
    ids = db.session.execute(
        select(OutboxMessage.id)
        .where(*_due(utcnow()))
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    ).scalars().all()  # fmt: skip
    db.session.rollback()
    return list(ids)


worker.register(worker.Channel("email", due_ids, deliver, starts_in_tests=False))
