"""The one worker design for every outbound row: emails, webhook deliveries, renders.

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

**Lanes.** Each channel is sent in a *lane* (:data:`LANES`, ``Channel.lane``): the
``outbox`` lane for email and webhooks, the ``render`` lane for the background PDF
renders (the ``render`` channel of :mod:`onboarding.services.agreement.prerender`), so a
render that takes its full 20 seconds never delays a message.

**Dispatchers.** Each app has one (``app.extensions["outbox"]``). With ``REDIS_URL``
the ids become RQ jobs (``onboarding.jobs.send``) on their lane's queue
(``onboarding-webhooks``, ``onboarding-renders``), both worked by ``onboarding worker``
(one RQ worker per lane); retries are scheduled jobs, and the worker's sweep thread
queues due rows nobody queued and runs the scheduled jobs (draft reminders, staff
digests). Without it each app process runs an in-process worker (a daemon thread per
lane, ``onboarding-outbox`` and ``onboarding-render``, each with a timer queue, started
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
"""The outbox lane's RQ queue, email and webhooks (its name predates mail; jobs queued
before still run, renders queued there before the render lane included)."""
SWEEP_BATCH = 200


@dataclass(frozen=True)
class Lane:
    """Where a channel's rows are worked: a lane is never held up by another's rows."""

    thread: str
    """The in-process worker's thread for it."""
    queue: str
    """Its RQ queue (``onboarding worker`` works every lane's)."""


LANES: dict[str, Lane] = {
    "outbox": Lane(thread="onboarding-outbox", queue=QUEUE_NAME),
    "render": Lane(thread="onboarding-render", queue="onboarding-renders"),
}
"""Every lane, by name: messages (email, webhooks) and renders, so that a slow render
never delays a message."""
SCHEDULE_LANE = "outbox"
"""The lane that runs the scheduled jobs (they write messages)."""


@dataclass(frozen=True)
class Channel:
    """How one kind of outbound row is found and sent."""

    name: str
    due_ids: Callable[[], list[int]]
    deliver: Callable[[int], datetime | None]
    starts_in_tests: bool = True
    """Whether queuing one of its rows starts the in-process worker under TESTING."""
    lane: str = "outbox"
    """The lane (:data:`LANES`) its rows are sent in."""


CHANNELS: dict[str, Channel] = {}
"""Every channel, by name (each sending module registers its own)."""


def register(channel: Channel) -> None:
    """Add (or replace) a channel; its lane must be one of :data:`LANES`."""
    if channel.lane not in LANES:
        raise ValueError(f"channel {channel.name!r}: unknown lane {channel.lane!r}")
    CHANNELS[channel.name] = channel


def lane_of(channel: str) -> str:
    """The lane a channel's rows are sent in (an unknown channel's: the outbox lane,
    where sending it fails and says so)."""
    found = CHANNELS.get(channel)
    return found.lane if found is not None else SCHEDULE_LANE


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


class _ThreadLane:
    """One lane of the in-process worker: a daemon thread with its own timer queue that
    sends (and sweeps) only the channels of its lane; the ``outbox`` lane also runs the
    scheduled jobs. The lanes of a dispatcher share one lock (``cond``), so that whether
    all of them are idle is read at once (a render that writes an email hands it to the
    outbox lane before it counts as done)."""

    def __init__(self, app: Flask, name: str, cond: threading.Condition):
        self.app = app
        self.name = name
        self.thread_name = LANES[name].thread
        self.heap: list[tuple[float, str, int]] = []
        self.cond = cond
        self.thread: threading.Thread | None = None
        self.stopping = False
        self.next_sweep = 0.0  # sweep at start
        self.next_schedule = 0.0  # and run the schedule at start
        self.busy = 0

    def channels(self) -> dict[str, Channel]:
        return {name: c for name, c in CHANNELS.items() if c.lane == self.name}

    def schedules(self) -> bool:
        return self.name == SCHEDULE_LANE and bool(schedule_every(self.app))

    def push(self, when: float, channel: str, row_id: int) -> None:
        with self.cond:
            heapq.heappush(self.heap, (when, channel, row_id))
            self.cond.notify_all()  # the lanes share it: wake this one's thread too

    def start(self) -> None:
        with self.cond:
            if self.thread is not None and self.thread.is_alive():
                return
            self.stopping = False
            self.thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
            self.thread.start()

    def request_stop(self) -> threading.Thread | None:
        with self.cond:
            self.stopping = True
            self.heap.clear()
            self.cond.notify_all()
            return self.thread

    def stopped(self) -> None:
        with self.cond:
            self.thread = None
            self.next_sweep = 0.0
            self.next_schedule = 0.0

    def idle(self) -> bool:
        with self.cond:
            now = time.time()
            return self.busy == 0 and not any(item[0] <= now for item in self.heap)

    def _next_batch(self) -> tuple[list[tuple[str, int]], bool, bool] | None:
        with self.cond:
            while not self.stopping:
                now = time.time()
                if self.heap and self.heap[0][0] <= now:
                    break
                if now >= self.next_sweep:
                    break
                wake = self.next_sweep
                if self.schedules():
                    if now >= self.next_schedule:
                        break
                    wake = min(wake, self.next_schedule)
                if self.heap:
                    wake = min(wake, self.heap[0][0])
                self.cond.wait(timeout=max(0.01, wake - now))
            if self.stopping:
                return None
            now = time.time()
            batch: list[tuple[str, int]] = []
            while self.heap and self.heap[0][0] <= now:
                _, channel, row_id = heapq.heappop(self.heap)
                batch.append((channel, row_id))
            sweep = now >= self.next_sweep
            if sweep:
                self.next_sweep = now + sweep_every(self.app)
            scheduled = self.schedules() and now >= self.next_schedule
            if scheduled:
                self.next_schedule = now + schedule_every(self.app)
            self.busy += 1
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
                        work = list(dict.fromkeys(work + due(self.channels())))
                    for channel, row_id in work:
                        if self.stopping:
                            break
                        self._send(channel, row_id)
                    db.session.remove()
            except Exception:  # the database may be away: sweep again soon, not an hour on
                log.exception("%s worker: batch failed; sweeping again shortly", self.name)
                with self.cond:
                    self.next_sweep = min(self.next_sweep, time.time() + RETRY_SWEEP_SECONDS)
            finally:
                with self.cond:
                    self.busy -= 1

    def _send(self, channel: str, row_id: int) -> None:
        try:
            retry_at = send(channel, row_id)
        except Exception:
            log.exception("outbox: %s %s failed; the sweep will retry it", channel, row_id)
            db.session.rollback()
            return
        if retry_at is not None:
            self.push(retry_at.timestamp(), channel, row_id)


class ThreadDispatcher(Dispatcher):
    """The in-process worker: a daemon thread per lane (``onboarding-outbox`` for email
    and webhooks, ``onboarding-render`` for the renders), each with a timer queue and a
    periodic sweep of its channels; the outbox lane runs the scheduled jobs. A render,
    however slow, never holds up a message."""

    def __init__(self, app: Flask):
        super().__init__(app)
        self._cond = threading.Condition()  # every lane's (see _ThreadLane)
        self._lanes = {name: _ThreadLane(app, name, self._cond) for name in LANES}
        self._started = False

    @property
    def _thread(self) -> threading.Thread | None:
        """The outbox lane's thread (what callers before the lanes looked at)."""
        return self._lanes[SCHEDULE_LANE].thread

    def threads(self) -> list[threading.Thread]:
        """The lanes' threads that were started and not stopped since."""
        return [lane.thread for lane in self._lanes.values() if lane.thread is not None]

    def install(self, app: Flask) -> None:
        """Outside tests, start with the app's first request (a restarted server sweeps
        up what was queued)."""
        if app.testing:
            return

        @app.before_request
        def _start_outbox_worker() -> None:
            if not self._started:
                self.start()

    def enqueue(self, ids: list[int], at: datetime | None = None, *, channel: str = "email"):
        when = at.timestamp() if at else 0.0
        found = CHANNELS.get(channel)
        lane = self._lanes[lane_of(channel)]
        for row_id in ids:
            lane.push(when, channel, row_id)
        waits = found is not None and not found.starts_in_tests and not self._sends_mail()
        if not self._started and self.app.testing and waits:
            # Tests with no mail server have no email to send, and a thread writing
            # beside them would take SQLite's lock at random: those that want the
            # worker start it.
            return
        self.start()

    def _sends_mail(self) -> bool:
        return bool(self.app.config.get("MAIL_SERVER"))

    def start(self) -> None:
        """Start every lane's thread (those already running are left as they are)."""
        self._started = True
        for lane in self._lanes.values():
            lane.start()

    def stop(self, timeout: float = 10) -> None:
        """Stop the threads (each after the row in progress); retries waiting in memory
        are dropped (they stay due in the database for the next sweep)."""
        threads = [lane.request_stop() for lane in self._lanes.values()]
        deadline = time.monotonic() + timeout
        for thread in threads:
            if thread is not None:
                thread.join(max(0.0, deadline - time.monotonic()))
        for lane in self._lanes.values():
            lane.stopped()
        self._started = False

    def idle(self) -> bool:
        """Nothing due in memory and nothing being sent, in every lane (tests wait for
        this)."""
        with self._cond:
            return all(lane.idle() for lane in self._lanes.values())

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
        while any(thread.is_alive() for thread in self.threads()):
            for thread in self.threads():
                thread.join(1)


class RqDispatcher(Dispatcher):
    """Rows as jobs on their lane's RQ queue, which ``onboarding worker`` works."""

    LANE_STOP_SECONDS = 60.0
    """How long ``onboarding worker``, stopping, waits for a render in progress."""

    def __init__(self, app: Flask):
        super().__init__(app)
        self.url = app.config["REDIS_URL"]
        self._queues: dict[str, Any] = {}

    def queue(self, lane: str = SCHEDULE_LANE):
        """The RQ queue of ``lane`` (by default the outbox lane's: email and webhooks)."""
        if lane not in self._queues:
            from redis import Redis
            from rq import Queue

            connection = None
            if self._queues:
                connection = next(iter(self._queues.values())).connection
            self._queues[lane] = Queue(
                LANES[lane].queue, connection=connection or Redis.from_url(self.url)
            )
        return self._queues[lane]

    def enqueue(self, ids: list[int], at: datetime | None = None, *, channel: str = "email"):
        queue = self.queue(lane_of(channel))
        for row_id in ids:
            if at is None:
                queue.enqueue(JOB, channel, row_id, job_timeout=300)
            else:
                queue.enqueue_at(at, JOB, channel, row_id, job_timeout=300)

    def run(self) -> None:
        """An RQ worker per lane in this process (no fork: no shared database
        connections): the outbox lane's in the foreground, each other lane's in a thread
        of its own (a render never holds up a message), with a thread that queues due
        rows nobody queued and runs the schedule."""
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
        lanes = [self.start_lane(lane) for lane in LANES if lane != SCHEDULE_LANE]
        try:
            with app.app_context():  # the jobs run in it (onboarding.jobs uses the current app)
                queue = self.queue()
                SimpleWorker([queue], connection=queue.connection).work(with_scheduler=True)
        finally:
            for lane_worker, thread in lanes:
                stop_lane(lane_worker, thread, self.LANE_STOP_SECONDS)

    def start_lane(self, lane: str) -> tuple[Any, threading.Thread]:
        """Work ``lane``'s queue in a daemon thread (with its own scheduler for its
        retries); the worker and its thread."""
        queue = self.queue(lane)
        lane_worker = lane_worker_class()([queue], connection=queue.connection)

        def work() -> None:
            with self.app.app_context():
                lane_worker.work(with_scheduler=True)

        thread = threading.Thread(target=work, name=f"{LANES[lane].thread}-rq", daemon=True)
        thread.start()
        return lane_worker, thread


LANE_LOOK_UP_SECONDS = 5
"""How often a lane's RQ worker waiting for jobs checks whether it is asked to stop."""


def lane_worker_class() -> type:
    """An RQ worker that runs in a thread beside the command's own: only the main
    thread may set signal handlers (Ctrl+C stops the main worker, which then stops this
    one) or use SIGALRM, so a job's timeout is kept by a timer instead."""
    from rq import SimpleWorker
    from rq.timeouts import TimerDeathPenalty

    class LaneWorker(SimpleWorker):
        death_penalty_class = TimerDeathPenalty

        def _install_signal_handlers(self) -> None:
            """None: the main thread's worker has them."""

        def subscribe(self) -> None:
            """None: RQ's commands to a worker (shutdown, stop a job) come by pubsub and
            act through signals, which a thread cannot take; the main worker takes
            them (and stopping it stops this one). Without it, stopping is prompt too."""

        def dequeue_job_and_maintain_ttl(self, timeout, max_idle_time=None):
            """Wait for a job, looking up every few seconds to see whether it is asked
            to stop (no signal interrupts a thread's wait); None when it is."""
            while not self._stop_requested:
                found = super().dequeue_job_and_maintain_ttl(timeout, LANE_LOOK_UP_SECONDS)
                if found is not None:
                    return found
            return None

    return LaneWorker


def stop_lane(lane_worker: Any, thread: threading.Thread, timeout: float) -> None:
    """Ask a lane's worker to stop after its job in progress (RQ's warm stop) and wait
    up to ``timeout`` for it to end (and stop its scheduler). A job still running then
    ends with the process: its row stays due in the database for the next sweep."""
    lane_worker._stop_requested = True  # what RQ's own warm stop sets
    thread.join(timeout)
    if thread.is_alive() and getattr(lane_worker, "scheduler", None) is not None:
        lane_worker.stop_scheduler()  # else the exiting process would wait for it


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
