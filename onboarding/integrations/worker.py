"""The one worker design for every outbound message: emails and webhook deliveries.

A *channel* is a kind of outbound row with its own table and sender: ``email``
(:class:`~onboarding.db.outbox.OutboxMessage`, sent by :mod:`.outbox`) and ``webhook``
(:class:`~onboarding.db.models.WebhookDelivery`, sent by :mod:`.webhooks`). Each says
which of its rows are due (``due_ids``) and sends one (``deliver``: claim it with a lease
that only one process can win, send, record the outcome, return when to retry). This
module does the rest, once for both:

**Recording.** Services add rows to the caller's session and call :func:`track`; once
the caller commits, the rows' ids are handed to the app's dispatcher (a rollback forgets
them: nothing is sent for a change that did not happen). The hand-off listens only to
the sessions of Flask-SQLAlchemy's ``db.session`` (its sessionmaker), never to every
SQLAlchemy session in the process. No request ever waits for a mail server or a
receiver.

**Dispatchers.** Each app has one (``app.extensions["outbox"]``). With ``REDIS_URL``
the ids become RQ jobs on one queue (``onboarding.jobs.send``) worked by ``onboarding
worker``; retries are scheduled jobs, and the worker's sweep thread queues due rows
nobody queued and runs the scheduled jobs (draft reminders, staff digests). Without it
each app process runs an in-process worker (a daemon thread with a timer queue, started
by the first request or the first message) that does the same. Retries waiting in its
memory are lost when the process stops but stay due in the database for the next sweep
(at start, then every ``MAIL_SWEEP_SECONDS`` / ``WEBHOOK_SWEEP_SECONDS``, whichever is
shorter): late, never lost. A process killed at any point (``kill -9``) leaves at worst a
row claimed until its lease runs out, and the next sweep sends it again under the same
id (``Message-ID``, ``webhook-id``): delivery is at least once.
"""

from __future__ import annotations

import heapq
import logging
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, current_app, has_app_context
from sqlalchemy import event as sa_event
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.utils import import_string

from onboarding.db import db
from onboarding.db.engine import begin_write
from onboarding.db.models import utcnow

log = logging.getLogger(__name__)

JOB = "onboarding.jobs.send"
"""The RQ job that sends one row of one channel (by name: it builds an app if needed)."""
SCHEDULED_JOB = "onboarding.jobs.scheduled"
"""The scheduled job (draft reminders, staff digests): services, found by name."""
QUEUE_NAME = "onboarding-webhooks"
"""The one RQ queue (its name predates mail; jobs queued before still run)."""
SWEEP_BATCH = 200


@dataclass(frozen=True)
class Channel:
    """How one kind of outbound row is found and sent."""

    name: str
    due_ids: Callable[[], list[int]]
    deliver: Callable[[int], datetime | None]
    starts_in_tests: bool = True
    """Whether queuing one of its rows starts the in-process worker under TESTING."""


CHANNELS: dict[str, Channel] = {}
"""Every channel, by name (each sending module registers its own)."""


def register(channel: Channel) -> None:
    CHANNELS[channel.name] = channel


# --- the hand-off after commit -------------------------------------------------------------------
#
# Rows recorded in a session wait in its ``info`` until it commits: their ids are
# collected as they are flushed (after the commit they are expired, and reading one
# would start a new transaction), then given to the dispatcher of the app whose context
# the session belongs to. A rollback forgets them.


def track(channel: str, rows: list[Any]) -> None:
    """Hand ``rows`` (just added to ``db.session``) to the dispatcher once it commits."""
    db.session.info.setdefault("outbound_new", []).extend((channel, row) for row in rows)


def _collect_ids(session: Session, flush_context) -> None:
    new = session.info.get("outbound_new")
    if not new:
        return
    ids = session.info.setdefault("outbound_ids", [])
    waiting = []
    for channel, row in new:
        if row.id is not None:
            ids.append((channel, row.id))
        else:
            waiting.append((channel, row))
    session.info["outbound_new"] = waiting


def _enqueue_committed(session: Session) -> None:
    ids = session.info.pop("outbound_ids", None)
    session.info.pop("outbound_new", None)
    if not ids or not has_app_context():
        return
    try:
        found = dispatcher(current_app)
        by_channel: dict[str, list[int]] = {}
        for channel, row_id in ids:
            by_channel.setdefault(channel, []).append(row_id)
        for channel, row_ids in by_channel.items():
            found.enqueue(row_ids, channel=channel)
    except Exception:  # the sweep sends them later; never fail the committed request
        log.exception("could not queue %s; the sweep will send them", ids)


def _forget(session: Session) -> None:
    for key in ("outbound_ids", "outbound_new"):
        session.info.pop(key, None)


HANDOFF = (
    ("after_flush_postexec", _collect_ids),
    ("after_commit", _enqueue_committed),
    ("after_rollback", _forget),
)


def listen(factory: sessionmaker) -> None:
    """Hand off committed rows for the sessions ``factory`` makes (idempotent).

    A sessionmaker's sessions are of a class of its own, so other sessions in the
    process (another library's, a script's) are never listened to.
    """
    for name, handler in HANDOFF:
        if not sa_event.contains(factory, name, handler):
            sa_event.listen(factory, name, handler)


# --- one row: its lease and its outcome ---------------------------------------------------------


def lease(model: Any, row_id: int, due: Any, seconds: float, **values: Any) -> bool:
    """Claim one row of ``model`` that is due (``due(now)``: its conditions) for
    ``seconds``, setting ``values`` too, in a short write transaction of its own: True
    when this process won it (no other can until the lease runs out). Every channel's
    ``deliver`` starts here; no transaction of ours stays open across the send."""
    now = utcnow()
    db.session.rollback()
    begin_write(db.session())
    won = db.session.execute(
        update(model)
        .where(model.id == row_id, *due(now))
        .values(locked_until=now + timedelta(seconds=seconds), **values)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return won == 1


def record(model: Any, row_id: int, values: Mapping[str, Any], *where: Any) -> None:
    """Write a leased row's outcome (``values``; ``where``: only while it is still in
    the state the lease gave it) in a short write transaction of its own."""
    begin_write(db.session())
    db.session.execute(
        update(model)
        .where(model.id == row_id, *where)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


# --- one round of work ---------------------------------------------------------------------------


def due(channels: Mapping[str, Channel]) -> list[tuple[str, int]]:
    """Every channel's due rows (the sweep's work)."""
    found = []
    for channel in channels.values():
        found.extend((channel.name, row_id) for row_id in channel.due_ids())
    return found


def send(channel: str, row_id: int) -> datetime | None:
    """Send one row of ``channel``; when to retry it, or None. Needs an app context."""
    found = CHANNELS.get(channel)
    if found is None:
        raise ValueError(f"unknown channel {channel!r}")
    return found.deliver(row_id)


def run_scheduled() -> None:
    """Run the scheduled job (draft reminders, staff digests) in the app context."""
    try:
        import_string(SCHEDULED_JOB)()
    except Exception:  # the next round tries again
        log.exception("outbox: the scheduled job failed")
        db.session.rollback()


RETRY_SWEEP_SECONDS = 5.0
"""After a round that failed (the database away or busy), the in-process worker sweeps
again this soon, whatever the sweep interval."""


def sweep_every(app: Flask) -> float:
    c = app.config
    return min(float(c.get("MAIL_SWEEP_SECONDS", 60)), float(c.get("WEBHOOK_SWEEP_SECONDS", 60)))


def schedule_every(app: Flask) -> float:
    return float(app.config.get("DRAFT_REMINDER_SWEEP_SECONDS") or 0)


# --- dispatchers ---------------------------------------------------------------------------------


class Dispatcher(ABC):
    """How an app's committed rows reach a worker: one per app, see :func:`dispatcher`."""

    def __init__(self, app: Flask):
        self.app = app

    @abstractmethod
    def enqueue(self, ids: list[int], at: datetime | None = None, *, channel: str = "email"):
        """Send these rows of ``channel`` now, or at ``at`` (a retry)."""

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
    def run(self) -> None:
        """Work in the foreground until stopped (``onboarding worker``)."""


class ThreadDispatcher(Dispatcher):
    """The in-process worker: one daemon thread, a timer queue, a periodic sweep of
    every channel, and the scheduled jobs."""

    def __init__(self, app: Flask):
        super().__init__(app)
        self._heap: list[tuple[float, str, int]] = []
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._next_sweep = 0.0  # sweep at start
        self._next_schedule = 0.0  # and run the schedule at start
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

    def enqueue(self, ids: list[int], at: datetime | None = None, *, channel: str = "email"):
        when = at.timestamp() if at else 0.0
        with self._cond:
            for row_id in ids:
                heapq.heappush(self._heap, (when, channel, row_id))
            self._cond.notify()
            if self._thread is None and self.app.testing:
                found = CHANNELS.get(channel)
                if found is not None and not found.starts_in_tests and not self._sends_mail():
                    # Tests with no mail server have no email to send, and a thread
                    # writing beside them would take SQLite's lock at random: those
                    # that want the worker start it.
                    return
        self.start()

    def _sends_mail(self) -> bool:
        return bool(self.app.config.get("MAIL_SERVER"))

    def start(self) -> None:
        with self._cond:
            if self._thread is not None and self._thread.is_alive():
                return
            self._stopping = False
            self._thread = threading.Thread(target=self._run, name="onboarding-outbox", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 10) -> None:
        """Stop the thread (after the row in progress); retries waiting in memory are
        dropped (they stay due in the database for the next sweep)."""
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
            return self._busy == 0 and not any(item[0] <= now for item in self._heap)

    def drain(self, timeout: float = 60) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.idle():
                return True
            time.sleep(0.05)
        return self.idle()

    def run(self) -> None:
        """Run in the foreground until stopped (``onboarding worker`` without Redis)."""
        log.info("outbox worker: no REDIS_URL, running the in-process worker")
        self.start()
        while self._thread is not None and self._thread.is_alive():
            self._thread.join(1)

    def _next_batch(self) -> tuple[list[tuple[str, int]], bool, bool] | None:
        with self._cond:
            while not self._stopping:
                now = time.time()
                if self._heap and self._heap[0][0] <= now:
                    break
                if now >= self._next_sweep:
                    break
                wake = self._next_sweep
                if schedule_every(self.app):
                    if now >= self._next_schedule:
                        break
                    wake = min(wake, self._next_schedule)
                if self._heap:
                    wake = min(wake, self._heap[0][0])
                self._cond.wait(timeout=max(0.01, wake - now))
            if self._stopping:
                return None
            now = time.time()
            batch: list[tuple[str, int]] = []
            while self._heap and self._heap[0][0] <= now:
                _, channel, row_id = heapq.heappop(self._heap)
                batch.append((channel, row_id))
            sweep = now >= self._next_sweep
            if sweep:
                self._next_sweep = now + sweep_every(self.app)
            every = schedule_every(self.app)
            scheduled = bool(every) and now >= self._next_schedule
            if scheduled:
                self._next_schedule = now + every
            self._busy += 1
            return batch, sweep, scheduled

    def _run(self) -> None:
        while True:
            batch = self._next_batch()
            if batch is None:
                return
            work, sweep, scheduled = batch
            try:
                with self.app.app_context():
                    if scheduled:
                        run_scheduled()  # its messages come back through enqueue
                    if sweep:
                        work = list(dict.fromkeys(work + due(CHANNELS)))
                    for channel, row_id in work:
                        if self._stopping:
                            break
                        self._send(channel, row_id)
                    db.session.remove()
            except Exception:  # the database may be away: sweep again soon, not an hour on
                log.exception("outbox worker: batch failed; sweeping again shortly")
                with self._cond:
                    self._next_sweep = min(self._next_sweep, time.time() + RETRY_SWEEP_SECONDS)
            finally:
                with self._cond:
                    self._busy -= 1

    def _send(self, channel: str, row_id: int) -> None:
        try:
            retry_at = send(channel, row_id)
        except Exception:
            log.exception("outbox: %s %s failed; the sweep will retry it", channel, row_id)
            db.session.rollback()
            return
        if retry_at is not None:
            with self._cond:
                heapq.heappush(self._heap, (retry_at.timestamp(), channel, row_id))
                self._cond.notify()


class RqDispatcher(Dispatcher):
    """Rows as jobs on the RQ queue that ``onboarding worker`` works."""

    def __init__(self, app: Flask):
        super().__init__(app)
        self.url = app.config["REDIS_URL"]
        self._queue = None

    def queue(self):
        if self._queue is None:
            from redis import Redis
            from rq import Queue

            self._queue = Queue(QUEUE_NAME, connection=Redis.from_url(self.url))
        return self._queue

    def enqueue(self, ids: list[int], at: datetime | None = None, *, channel: str = "email"):
        queue = self.queue()
        for row_id in ids:
            if at is None:
                queue.enqueue(JOB, channel, row_id, job_timeout=300)
            else:
                queue.enqueue_at(at, JOB, channel, row_id, job_timeout=300)

    def run(self) -> None:
        """An RQ worker in this process (no fork: no shared database connections), with
        a thread that queues due rows nobody queued and runs the schedule."""
        from rq import SimpleWorker

        app = self.app

        def sweep() -> None:
            next_schedule = 0.0
            while True:
                try:
                    with app.app_context():
                        every = schedule_every(app)
                        if every and time.time() >= next_schedule:
                            next_schedule = time.time() + every
                            run_scheduled()
                        by_channel: dict[str, list[int]] = {}
                        for channel, row_id in due(CHANNELS):
                            by_channel.setdefault(channel, []).append(row_id)
                        for channel, row_ids in by_channel.items():
                            self.enqueue(row_ids, channel=channel)
                        db.session.remove()
                except Exception:
                    log.exception("outbox sweep failed")
                time.sleep(sweep_every(app))

        threading.Thread(target=sweep, name="onboarding-outbox-sweep", daemon=True).start()
        with app.app_context():  # the jobs run in it (onboarding.jobs uses the current app)
            queue = self.queue()
            SimpleWorker([queue], connection=queue.connection).work(with_scheduler=True)


TRANSPORTS: dict[str, type[Dispatcher]] = {"thread": ThreadDispatcher, "rq": RqDispatcher}
"""Dispatcher per transport; an app's is chosen by :func:`transport`."""


def transport(app: Flask) -> str:
    """The app's transport: ``rq`` when ``REDIS_URL`` is set, else ``thread``."""
    return "rq" if app.config.get("REDIS_URL") else "thread"


def dispatcher(app: Flask) -> Dispatcher:
    """The app's dispatcher (made on first use, then kept in ``app.extensions``)."""
    found = app.extensions.get("outbox")
    if found is None:
        if hasattr(app, "_get_current_object"):  # current_app: the worker keeps the app
            app = app._get_current_object()
        found = TRANSPORTS[transport(app)](app)
        app.extensions["outbox"] = found
    return found


def init_app(app: Flask) -> None:
    """Make the app's dispatcher, let it hook into the app, and hand it the rows
    committed by the app's sessions (Flask-SQLAlchemy's ``db.session``)."""
    dispatcher(app).install(app)
    listen(db.session.session_factory)


def rq_send(channel: str, row_id: int) -> str:
    """Send one row and schedule its retry if it needs one: the body of the RQ job.
    Needs an app context. Returns ``done`` or ``retry``."""
    retry_at = send(channel, row_id)
    if retry_at is not None:
        dispatcher(current_app).enqueue([row_id], at=retry_at, channel=channel)
    return "retry" if retry_at else "done"
