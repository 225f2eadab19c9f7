"""The outbox's worker: messages written with a change are sent after it commits.

The design is the webhook deliveries' (:mod:`onboarding.integrations.webhooks`), for
every row of :class:`~onboarding.db.outbox.OutboxMessage` whatever its channel:

**Recording.** The services add rows to the caller's session and call :func:`track`;
once the caller commits, the rows' ids are handed to the app's dispatcher (a rollback
forgets them: nothing is sent for a change that did not happen). The hand-off listens
to Flask-SQLAlchemy's ``db.session`` only. No request ever waits for a mail server.

**Sending.** :func:`deliver` claims a due message with a lease (an UPDATE only one
process can win: ``sending``, ``locked_until``, one more attempt), sends it with the
channel's sender, and records the outcome: ``sent`` (with the server's answer),
``written`` (no ``MAIL_SERVER``: logged and kept for the Outbox page), a retry after
``MAIL_BACKOFF`` × 4^(attempt − 1) seconds, or ``failed`` (a permanent refusal, or out
of ``MAIL_MAX_ATTEMPTS``). A worker killed mid-send leaves the row ``sending`` until its
lease runs out; the sweep then sends it again under the same ``Message-ID``: delivery is
at least once, and receivers can drop a repeat by its id.

**Dispatchers.** With ``REDIS_URL`` the ids become RQ jobs (``onboarding.jobs.
send_outbox``) on the webhook worker's queue, so the one ``onboarding worker`` sends
both; retries are scheduled jobs, and the worker's sweep thread queues due messages
nobody queued and runs the draft reminders every ``DRAFT_REMINDER_SWEEP_SECONDS``.
Without it each app process runs an in-process worker (a daemon thread with a timer
queue, started by the first request or the first message) that does the same. Retries
waiting in its memory are lost when the process stops, but stay ``queued`` in the
database for the next sweep (at start, then every ``MAIL_SWEEP_SECONDS``): late, never
lost. The scheduled job is looked up by name, since this layer may not import the
services that write reminders.
"""

from __future__ import annotations

import heapq
import logging
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, current_app, has_app_context
from sqlalchemy import event as sa_event
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.utils import import_string

from onboarding.db import db
from onboarding.db.engine import begin_write
from onboarding.db.models import utcnow
from onboarding.db.outbox import OPEN_STATES, OutboxMessage
from onboarding.integrations import mail
from onboarding.integrations.webhooks import QUEUE_NAME as WEBHOOK_QUEUE
from onboarding.integrations.webhooks import backoff  # one retry schedule for every message

log = logging.getLogger(__name__)

JOB = "onboarding.jobs.send_outbox"
"""The RQ job that sends one message (by name: that module builds an app if needed)."""
REMINDERS_JOB = "onboarding.jobs.send_reminders"
"""The scheduled job that writes the draft reminders due (services, found by name)."""
QUEUE_NAME = WEBHOOK_QUEUE
"""One RQ queue, so the one ``onboarding worker`` sends webhooks and mail alike."""
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


# --- recording -------------------------------------------------------------------------------


def track(rows: list[OutboxMessage]) -> None:
    """Hand ``rows`` (just added to ``db.session``) to the dispatcher once it commits."""
    db.session.info.setdefault("outbox_new", []).extend(rows)


def _collect_ids(session: Session, flush_context) -> None:
    new = session.info.get("outbox_new")
    if not new:
        return
    ids = session.info.setdefault("outbox_ids", [])
    waiting = []
    for row in new:
        if row.id is not None:
            ids.append(row.id)
        else:
            waiting.append(row)
    session.info["outbox_new"] = waiting


def _enqueue_committed(session: Session) -> None:
    ids = session.info.pop("outbox_ids", None)
    session.info.pop("outbox_new", None)
    if not ids or not has_app_context():
        return
    try:
        dispatcher(current_app).enqueue(ids)
    except Exception:  # the sweep sends them later; never fail the committed request
        log.exception("could not queue outbox messages %s; the sweep will send them", ids)


def _forget(session: Session) -> None:
    for key in ("outbox_ids", "outbox_new"):
        session.info.pop(key, None)


HANDOFF = (
    ("after_flush_postexec", _collect_ids),
    ("after_commit", _enqueue_committed),
    ("after_rollback", _forget),
)


def listen(factory: sessionmaker) -> None:
    """Hand off committed messages for the sessions ``factory`` makes (idempotent)."""
    for name, handler in HANDOFF:
        if not sa_event.contains(factory, name, handler):
            sa_event.listen(factory, name, handler)


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
    now = utcnow()
    db.session.rollback()  # no transaction of ours stays open across the send
    begin_write(db.session())
    claimed = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, *_due(now))
        .values(
            status="sending",
            attempts=OutboxMessage.attempts + 1,
            locked_until=now + timedelta(seconds=settings["lease"]),
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    if claimed != 1:
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
    begin_write(db.session())
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.status == "sending")
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
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


def run_scheduled() -> None:
    """Run the scheduled job (the draft reminders) in the current app context."""
    try:
        import_string(REMINDERS_JOB)()
    except Exception:  # the next round tries again
        log.exception("outbox: the scheduled reminders failed")
        db.session.rollback()


# --- dispatchers ---------------------------------------------------------------------------------


class Dispatcher(ABC):
    """How an app's committed messages reach a worker: one per app, see :func:`dispatcher`."""

    @abstractmethod
    def enqueue(self, ids: list[int], at: datetime | None = None) -> None:
        """Send these messages now, or at ``at`` (a retry)."""

    def install(self, app: Flask) -> None:  # noqa: B027 - optional hook
        """Hook into the app's requests, if the transport needs to (default: nothing)."""

    def start(self) -> None:  # noqa: B027 - optional hook
        """Start the in-process part, if any (default: none)."""

    def stop(self, timeout: float = 10) -> None:  # noqa: B027 - optional hook
        """Stop the in-process part, if any (default: none)."""

    def drain(self, timeout: float = 60) -> bool:
        """Wait until what is queued in this process is sent (a command about to exit);
        True when nothing is left. Default: nothing is held in this process."""
        return True

    @abstractmethod
    def beside(self) -> None:
        """Start what ``onboarding worker`` runs for the outbox, beside the webhooks."""


class ThreadDispatcher(Dispatcher):
    """The in-process worker: one daemon thread, a timer queue, a periodic sweep, and
    the scheduled reminders."""

    def __init__(self, app: Flask):
        self.app = app
        self._heap: list[tuple[float, int]] = []
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._next_sweep = 0.0  # sweep at start
        self._next_schedule = 0.0  # and look for reminders at start
        self._busy = 0

    def install(self, app: Flask) -> None:
        """Outside tests, start with the app's first request (a restarted server sweeps
        up what was queued)."""
        if app.testing:
            return

        @app.before_request
        def _start_outbox_worker() -> None:
            if self._thread is None:
                self.start()

    def enqueue(self, ids: list[int], at: datetime | None = None) -> None:
        when = at.timestamp() if at else 0.0
        with self._cond:
            for message_id in ids:
                heapq.heappush(self._heap, (when, message_id))
            self._cond.notify()
            if self._thread is None and self.app.testing and not self.app.config.get("MAIL_SERVER"):
                # Tests with no mail server have nothing to send, and a thread writing
                # beside them would take SQLite's lock at random: those that want the
                # worker start it.
                return
        self.start()

    def start(self) -> None:
        with self._cond:
            if self._thread is not None and self._thread.is_alive():
                return
            self._stopping = False
            self._thread = threading.Thread(target=self._run, name="onboarding-outbox", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 10) -> None:
        """Stop the thread (after the message in progress); retries waiting in memory
        are dropped (they stay queued in the database for the next sweep)."""
        with self._cond:
            self._stopping = True
            self._heap.clear()
            self._cond.notify()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)
        with self._cond:
            self._thread = None
            self._next_sweep = 0.0
            self._next_schedule = 0.0

    def idle(self) -> bool:
        """Nothing due in memory and nothing being sent (tests wait for this)."""
        with self._cond:
            now = time.time()
            return self._busy == 0 and not any(when <= now for when, _ in self._heap)

    def drain(self, timeout: float = 60) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.idle():
                return True
            time.sleep(0.05)
        return self.idle()

    def beside(self) -> None:
        self.start()

    def _schedule_every(self) -> float:
        return float(self.app.config.get("DRAFT_REMINDER_SWEEP_SECONDS") or 0)

    def _next_batch(self) -> tuple[list[int], bool, bool] | None:
        with self._cond:
            while not self._stopping:
                now = time.time()
                if self._heap and self._heap[0][0] <= now:
                    break
                if now >= self._next_sweep:
                    break
                wake = self._next_sweep
                if self._schedule_every():
                    if now >= self._next_schedule:
                        break
                    wake = min(wake, self._next_schedule)
                if self._heap:
                    wake = min(wake, self._heap[0][0])
                self._cond.wait(timeout=max(0.01, wake - now))
            if self._stopping:
                return None
            now = time.time()
            due: list[int] = []
            while self._heap and self._heap[0][0] <= now:
                due.append(heapq.heappop(self._heap)[1])
            sweep = now >= self._next_sweep
            if sweep:
                self._next_sweep = now + float(self.app.config.get("MAIL_SWEEP_SECONDS", 60))
            every = self._schedule_every()
            scheduled = bool(every) and now >= self._next_schedule
            if scheduled:
                self._next_schedule = now + every
            self._busy += 1
            return due, sweep, scheduled

    def _run(self) -> None:
        while True:
            batch = self._next_batch()
            if batch is None:
                return
            due, sweep, scheduled = batch
            try:
                with self.app.app_context():
                    if scheduled:
                        run_scheduled()  # its messages come back through enqueue
                    if sweep:
                        due = list(dict.fromkeys(due + due_ids()))
                    for message_id in due:
                        if self._stopping:
                            break
                        self._deliver(message_id)
                    db.session.remove()
            except Exception:  # the database may be away: try again at the next sweep
                log.exception("outbox worker: batch failed")
            finally:
                with self._cond:
                    self._busy -= 1

    def _deliver(self, message_id: int) -> None:
        try:
            retry_at = deliver(message_id)
        except Exception:
            log.exception("outbox message %s failed; the sweep will retry it", message_id)
            db.session.rollback()
            return
        if retry_at is not None:
            with self._cond:
                heapq.heappush(self._heap, (retry_at.timestamp(), message_id))
                self._cond.notify()


class RqDispatcher(Dispatcher):
    """Messages as jobs on the RQ queue that ``onboarding worker`` works."""

    def __init__(self, app: Flask):
        self.app = app
        self.url = app.config["REDIS_URL"]
        self._queue = None

    def queue(self):
        if self._queue is None:
            from redis import Redis
            from rq import Queue

            self._queue = Queue(QUEUE_NAME, connection=Redis.from_url(self.url))
        return self._queue

    def enqueue(self, ids: list[int], at: datetime | None = None) -> None:
        queue = self.queue()
        for message_id in ids:
            if at is None:
                queue.enqueue(JOB, message_id, job_timeout=300)
            else:
                queue.enqueue_at(at, JOB, message_id, job_timeout=300)

    def beside(self) -> None:
        """A thread of ``onboarding worker``: queue due messages nobody queued, and run
        the reminders on their schedule (the RQ worker itself sends the jobs)."""
        app = self.app

        def sweep() -> None:
            every = float(app.config.get("MAIL_SWEEP_SECONDS", 60))
            schedule = float(app.config.get("DRAFT_REMINDER_SWEEP_SECONDS") or 0)
            next_schedule = 0.0
            while True:
                try:
                    with app.app_context():
                        if schedule and time.time() >= next_schedule:
                            next_schedule = time.time() + schedule
                            run_scheduled()
                        ids = due_ids()
                        if ids:
                            self.enqueue(ids)
                        db.session.remove()
                except Exception:
                    log.exception("outbox sweep failed")
                time.sleep(every)

        threading.Thread(target=sweep, name="onboarding-outbox-sweep", daemon=True).start()


TRANSPORTS: dict[str, type[Dispatcher]] = {"thread": ThreadDispatcher, "rq": RqDispatcher}


def transport(app: Flask) -> str:
    """The app's transport: ``rq`` when ``REDIS_URL`` is set, else ``thread``."""
    return "rq" if app.config.get("REDIS_URL") else "thread"


def dispatcher(app: Flask) -> Dispatcher:
    """The app's outbox dispatcher (made on first use, then kept in ``app.extensions``)."""
    found = app.extensions.get("outbox")
    if found is None:
        if hasattr(app, "_get_current_object"):  # current_app: the worker keeps the app
            app = app._get_current_object()
        found = TRANSPORTS[transport(app)](app)
        app.extensions["outbox"] = found
    return found


def init_app(app: Flask) -> None:
    """Make the app's dispatcher, let it hook into the app, and hand it the messages
    committed by the app's sessions (Flask-SQLAlchemy's ``db.session``)."""
    dispatcher(app).install(app)
    listen(db.session.session_factory)


def rq_send(message_id: int) -> str:
    """Send one message and schedule its retry if it needs one: the body of the RQ job
    (``onboarding.jobs.send_outbox``). Needs an app context."""
    retry_at = deliver(message_id)
    if retry_at is not None:
        dispatcher(current_app).enqueue([message_id], at=retry_at)
    return "retry" if retry_at else "done"
