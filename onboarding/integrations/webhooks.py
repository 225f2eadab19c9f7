"""Webhooks: endpoints admins register, signed deliveries, retries, background sending.

This module stores and delivers payloads it is given; it does not know what an intake
looks like. :mod:`onboarding.services.events` decides when an event happens and builds
its JSON (``emit``); :data:`EVENTS` is the one list of events (the subscription form,
the API's OpenAPI document and ``emit`` all read it).

**Recording.** :func:`record` adds one :class:`WebhookDelivery` per subscribed endpoint
to the caller's session: the deliveries are stored in the caller's transaction, and
handed to the app's dispatcher only after it commits (a rolled-back change sends
nothing). The request never waits for a receiver. The hand-off listens to the sessions
of Flask-SQLAlchemy's ``db.session`` only (its sessionmaker), never to every SQLAlchemy
session in the process.

**Sending.** :func:`deliver` claims a due delivery with a short lease (an UPDATE that
only one process can win, so several app servers never send it twice at once), POSTs
the stored body signed with the endpoint's secret, and records the outcome: delivered
on a 2xx; otherwise (another status, a timeout, a refused address) it is retried after
``WEBHOOK_BACKOFF`` × 4^(attempt − 1) seconds (1, 4, 16, 64, 256 minutes by default)
until ``WEBHOOK_MAX_ATTEMPTS`` attempts, then marked failed. Redirects are not followed.

**Signature.** ``Onboarding-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of
"{t}.{body}">``; receivers check it with :func:`onboarding.integrations.webhook_verify.verify`.

**Addresses (SSRF).** A URL whose host is, or resolves to, a loopback, private,
link-local, shared, multicast, reserved or unspecified address is refused when it is
registered and again at every send, after DNS resolution; the connection then goes to
the address that was checked (no second lookup that could answer differently).
``WEBHOOK_ALLOW_PRIVATE=true`` lifts this (development and tests only).

**Dispatchers.** Each app has one :class:`Dispatcher` (``dispatcher(app)``), the
transport chosen from its settings (:data:`TRANSPORTS`). With ``REDIS_URL`` deliveries
go to an RQ queue worked by ``onboarding worker`` (the job is
``onboarding.jobs.deliver_webhook``; retries are scheduled jobs). Without it each app
process runs an in-process worker: a daemon thread with a timer queue, started on the
first request or the first delivery. Its limits: deliveries waiting in its memory
(retries not yet due) are lost when the process stops — they stay ``pending`` in the
database and the worker's sweep (at start, then every ``WEBHOOK_SWEEP_SECONDS``) sends
every due delivery again, so they are late, not lost; each app process sweeps, and the
lease keeps them from sending one delivery twice at once.
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import http.client
import ipaddress
import logging
import secrets
import socket
import ssl
import threading
import time
from abc import ABC, abstractmethod
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app, has_app_context
from sqlalchemy import event as sa_event
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from onboarding.db import db
from onboarding.db.engine import begin_write
from onboarding.db.models import Intake, User, WebhookDelivery, WebhookEndpoint, utcnow

log = logging.getLogger(__name__)

EVENTS = {
    "intake.submitted": "An intake was submitted and assessed (web form or API)",
    "intake.status_changed": "An intake moved along the workflow (workspace or API)",
    "agreement.sent": "A version of the agreement was sent to the prospect (workspace or API)",
    "agreement.changes_requested": "The prospect asked for changes to the agreement sent",
    "agreement.accepted": "The prospect accepted the agreement (signed it for the client)",
    "agreement.signed": "The agency countersigned the accepted agreement: signed by both",
}
"""The events an endpoint may subscribe to, with what each means: the one list
(``services.events.emit`` fires them; the API documents them from here)."""
JOB = "onboarding.jobs.deliver_webhook"
"""The RQ job that sends one delivery (by name: that module builds an app if needed)."""
SIGNATURE_HEADER = "Onboarding-Signature"
USER_AGENT = "Onboarding-Webhooks/1"
MAX_URL = 2000
MAX_DESCRIPTION = 200
BACKOFF_FACTOR = 4
LEASE_EXTRA = 30  # seconds a claim outlives the send timeout
SWEEP_BATCH = 200
QUEUE_NAME = "onboarding-webhooks"


class WebhookError(ValueError):
    """A registration refused, with the form field concerned."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(message)


class UnsafeAddress(ValueError):
    """A webhook URL that resolves to an address we do not send to."""


# --- addresses ---------------------------------------------------------------------------


def address_allowed(address: str, allow_private: bool = False) -> bool:
    """Whether we may connect to this IP address (public unicast only, unless allowed)."""
    if allow_private:
        return True
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None and not address_allowed(str(embedded)):
            return False
    return ip.is_global and not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


def resolve(host: str, port: int, allow_private: bool = False) -> list[str]:
    """The addresses ``host`` resolves to; raise UnsafeAddress if any is not allowed.

    Every address must pass (not just the first): a name that also resolves to an
    internal address is refused outright.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise UnsafeAddress(f"{host} could not be resolved ({exc})") from None
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise UnsafeAddress(f"{host} has no address")
    for address in addresses:
        if not address_allowed(address, allow_private):
            raise UnsafeAddress(
                f"{host} resolves to {address}, a private or reserved address: refused"
            )
    return addresses


def check_url(url: str, allow_private: bool = False, *, resolve_host: bool = True) -> str:
    """A webhook URL checked for registration (scheme, host, address); returns it tidied.

    https only, unless ``allow_private`` (then http too, for a local receiver).
    """
    url = (url or "").strip()
    if not url:
        raise WebhookError("url", "Enter the URL that should receive the events")
    if len(url) > MAX_URL:
        raise WebhookError("url", f"The URL must be at most {MAX_URL} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise WebhookError("url", "The URL is not valid") from None
    schemes = ("https", "http") if allow_private else ("https",)
    if parts.scheme not in schemes:
        raise WebhookError(
            "url",
            "The URL must start with https://"
            if not allow_private
            else "The URL must start with https:// or http://",
        )
    if not parts.hostname:
        raise WebhookError("url", "The URL has no host name")
    if parts.username or parts.password:
        raise WebhookError("url", "Put no user name or password in the URL")
    if parts.fragment:
        raise WebhookError("url", "Leave out the #fragment: it is never sent")
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise WebhookError("url", "The URL must not contain spaces or control characters")
    if resolve_host:
        try:
            resolve(parts.hostname, port or (443 if parts.scheme == "https" else 80), allow_private)
        except UnsafeAddress as exc:
            raise WebhookError("url", f"Refused: {exc}") from None
    return url


# --- endpoints -----------------------------------------------------------------------------


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def create_endpoint(
    url: str,
    events: list[str],
    description: str | None,
    user: User | None,
    allow_private: bool = False,
) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint; returns ``(endpoint, secret)`` — show the secret once."""
    url = check_url(url, allow_private)
    chosen = [e for e in EVENTS if e in set(events or ())]
    if not chosen or len(chosen) != len(set(events)):
        raise WebhookError("events", "Choose at least one event from the list")
    description = " ".join((description or "").split()) or None
    if description and len(description) > MAX_DESCRIPTION:
        raise WebhookError(
            "description", f"The description must be at most {MAX_DESCRIPTION} characters"
        )
    secret = new_secret()
    endpoint = WebhookEndpoint(
        url=url,
        events=chosen,
        description=description,
        secret=secret,
        active=True,
        created_by_id=user.id if user else None,
    )
    db.session.add(endpoint)
    return endpoint, secret


def roll_secret(endpoint: WebhookEndpoint) -> str:
    """A new signing secret for ``endpoint`` (the old one stops working at once)."""
    endpoint.secret = new_secret()
    return endpoint.secret


# --- recording events ---------------------------------------------------------------------


def subscribers(event: str) -> list[WebhookEndpoint]:
    """The active endpoints subscribed to ``event``.

    Reads without autoflush: the caller's pending changes stay unflushed (a conflict
    still surfaces at its commit, where it is handled).
    """
    if event not in EVENTS:
        raise ValueError(f"unknown webhook event {event!r}")
    with db.session.no_autoflush:
        rows = db.session.execute(select(WebhookEndpoint).where(WebhookEndpoint.active.is_(True)))
        return [e for e in rows.scalars() if event in (e.events or ())]


def new_event_id() -> str:
    """A fresh event id (retries and re-sends of one event keep it)."""
    return "evt_" + secrets.token_hex(12)


def record(
    event: str,
    event_id: str,
    body: str,
    endpoints: list[WebhookEndpoint],
    intake: Intake | None = None,
) -> list[WebhookDelivery]:
    """One pending delivery of ``body`` (the event's JSON) per endpoint, in the caller's
    session; handed to the app's dispatcher once the caller commits. Nothing is flushed
    here; the caller commits (or rolls back, and nothing is sent)."""
    now = utcnow()
    deliveries = []
    for endpoint in endpoints:
        delivery = WebhookDelivery(
            endpoint=endpoint,
            event=event,
            event_id=event_id,
            payload=body,
            status="pending",
            attempts=0,
            next_attempt_at=now,
        )
        if intake is not None:
            delivery.intake = intake  # its id, once the intake has one
        db.session.add(delivery)
        deliveries.append(delivery)
    _track(deliveries)
    return deliveries


def resend(delivery: WebhookDelivery) -> WebhookDelivery:
    """A new delivery of the same event (same id and body) to the same endpoint."""
    copy = WebhookDelivery(
        endpoint_id=delivery.endpoint_id,
        intake_id=delivery.intake_id,
        event=delivery.event,
        event_id=delivery.event_id,
        payload=delivery.payload,
        status="pending",
        attempts=0,
        next_attempt_at=utcnow(),
    )
    db.session.add(copy)
    _track([copy])
    return copy


# --- the hand-off after commit --------------------------------------------------------------
#
# Deliveries recorded in a session wait in its ``info`` until it commits: their ids are
# collected as they are flushed (after the commit they are expired, and reading one
# would start a new transaction), then given to the dispatcher of the app whose context
# the session belongs to. A rollback forgets them.


def _track(deliveries: list[WebhookDelivery]) -> None:
    db.session.info.setdefault("webhook_new", []).extend(deliveries)


def _collect_ids(session: Session, flush_context) -> None:
    new = session.info.get("webhook_new")
    if not new:
        return
    ids = session.info.setdefault("webhook_ids", [])
    waiting = []
    for delivery in new:
        if delivery.id is not None:
            ids.append(delivery.id)
        else:
            waiting.append(delivery)
    session.info["webhook_new"] = waiting


def _enqueue_committed(session: Session) -> None:
    ids = session.info.pop("webhook_ids", None)
    session.info.pop("webhook_new", None)
    if not ids or not has_app_context():
        return
    try:
        dispatcher(current_app).enqueue(ids)
    except Exception:  # the sweep sends them later; never fail the committed request
        log.exception("could not queue webhook deliveries %s; the sweep will send them", ids)


def _forget(session: Session) -> None:
    for key in ("webhook_ids", "webhook_new"):
        session.info.pop(key, None)


HANDOFF = (
    ("after_flush_postexec", _collect_ids),
    ("after_commit", _enqueue_committed),
    ("after_rollback", _forget),
)


def listen(factory: sessionmaker) -> None:
    """Hand off committed deliveries for the sessions ``factory`` makes (idempotent).

    A sessionmaker's sessions are of a class of its own, so other sessions in the
    process (another library's, a script's) are never listened to.
    """
    for name, handler in HANDOFF:
        if not sa_event.contains(factory, name, handler):
            sa_event.listen(factory, name, handler)


# --- sending -----------------------------------------------------------------------------------


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The ``Onboarding-Signature`` header value for ``body`` sent at ``timestamp``."""
    signed = str(timestamp).encode() + b"." + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the address already checked, whatever the host name resolves to now."""

    def __init__(self, host: str, port: int | None, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """As above, over TLS: the certificate is checked against the host name (SNI)."""

    def __init__(self, host: str, port: int | None, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def post(
    url: str, body: bytes, headers: dict[str, str], *, timeout: float, allow_private: bool
) -> tuple[int | None, str | None]:
    """POST ``body`` to ``url``; returns ``(status code, error)``. Never raises."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        https = parts.scheme == "https"
        port = parts.port or (443 if https else 80)
        if parts.scheme not in ("http", "https") or not host:
            return None, "not an http(s) URL"
        addresses = resolve(host, port, allow_private)
    except UnsafeAddress as exc:
        return None, f"refused: {exc}"
    except ValueError as exc:
        return None, f"invalid URL: {exc}"
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    kind = _PinnedHTTPSConnection if https else _PinnedHTTPConnection
    error = None
    for address in addresses:
        conn = kind(host, port, address, timeout)
        try:
            conn.request("POST", target, body=body, headers=headers)
            response = conn.getresponse()
            response.read(64 * 1024)  # the body is not used; read a little, then close
            return response.status, None
        except (OSError, http.client.HTTPException) as exc:
            error = f"{type(exc).__name__}: {exc}"[:300]
        finally:
            conn.close()
    return None, error


def backoff(attempts: int, base: float) -> float:
    """Seconds to wait after the ``attempts``-th failed attempt."""
    return base * BACKOFF_FACTOR ** max(0, attempts - 1)


def _settings(app: Flask) -> dict[str, Any]:
    c = app.config
    return {
        "timeout": float(c.get("WEBHOOK_TIMEOUT", 10)),
        "max_attempts": int(c.get("WEBHOOK_MAX_ATTEMPTS", 6)),
        "backoff": float(c.get("WEBHOOK_BACKOFF", 60)),
        "allow_private": bool(c.get("WEBHOOK_ALLOW_PRIVATE", False)),
    }


def deliver(delivery_id: int) -> datetime | None:
    """Send one delivery if it is due and nobody else is sending it; record the outcome.

    Returns when to try again (a retry is due), or None (delivered, failed for good,
    not due, or claimed by another worker). Needs an app context; commits.
    """
    settings = _settings(current_app)
    now = utcnow()
    db.session.rollback()  # no transaction of ours stays open across the send
    begin_write(db.session())
    claimed = db.session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id == delivery_id,
            WebhookDelivery.status == "pending",
            or_(WebhookDelivery.next_attempt_at.is_(None), WebhookDelivery.next_attempt_at <= now),
            or_(WebhookDelivery.locked_until.is_(None), WebhookDelivery.locked_until < now),
        )
        .values(locked_until=now + timedelta(seconds=settings["timeout"] + LEASE_EXTRA))
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    if claimed != 1:
        return None
    row = db.session.execute(
        select(
            WebhookDelivery.event,
            WebhookDelivery.payload,
            WebhookDelivery.attempts,
            WebhookEndpoint.url,
            WebhookEndpoint.secret,
            WebhookEndpoint.active,
        )
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .where(WebhookDelivery.id == delivery_id)
    ).one()
    db.session.rollback()
    attempts = row.attempts + 1
    if not row.active:
        code, error = None, "the endpoint is disabled"
        attempts = row.attempts
    else:
        body = row.payload.encode("utf-8")
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "Onboarding-Event": row.event,
            "Onboarding-Delivery": str(delivery_id),
            SIGNATURE_HEADER: sign(row.secret, body, int(time.time())),
        }
        code, error = post(
            row.url,
            body,
            headers,
            timeout=settings["timeout"],
            allow_private=settings["allow_private"],
        )
        if code is not None and not 200 <= code < 300 and error is None:
            error = f"the receiver answered {code}"
    done = utcnow()
    values: dict[str, Any] = {
        "attempts": attempts,
        "last_status_code": code,
        "last_error": error,
        "locked_until": None,
    }
    retry_at = None
    if code is not None and 200 <= code < 300:
        values.update(status="delivered", delivered_at=done, next_attempt_at=None)
    elif not row.active or attempts >= settings["max_attempts"]:
        values.update(status="failed", next_attempt_at=None)
    else:
        retry_at = done + timedelta(seconds=backoff(attempts, settings["backoff"]))
        values.update(next_attempt_at=retry_at)
    begin_write(db.session())
    db.session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    log.info("webhook delivery %s: %s", delivery_id, values.get("status", "retry") or error)
    return retry_at


def due_ids(limit: int = SWEEP_BATCH) -> list[int]:
    """Pending deliveries that are due and not being sent (the sweep's work)."""
    now = utcnow()
    ids = db.session.execute(
        select(WebhookDelivery.id)
        .where(
            WebhookDelivery.status == "pending",
            or_(WebhookDelivery.next_attempt_at.is_(None), WebhookDelivery.next_attempt_at <= now),
            or_(WebhookDelivery.locked_until.is_(None), WebhookDelivery.locked_until < now),
        )
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(limit)
    ).scalars().all()  # fmt: skip
    db.session.rollback()
    return list(ids)


# --- dispatchers ---------------------------------------------------------------------------------


class Dispatcher(ABC):
    """How an app's committed deliveries reach a worker: one per app, see :func:`dispatcher`."""

    @abstractmethod
    def enqueue(self, ids: list[int], at: datetime | None = None) -> None:
        """Send these deliveries now, or at ``at`` (a retry)."""

    def install(self, app: Flask) -> None:  # noqa: B027 - optional hook
        """Hook into the app's requests, if the transport needs to (default: nothing)."""

    def start(self) -> None:  # noqa: B027 - optional hook
        """Start the in-process part, if any (default: none)."""

    def stop(self, timeout: float = 10) -> None:  # noqa: B027 - optional hook
        """Stop the in-process part, if any (default: none)."""

    @abstractmethod
    def run(self) -> None:
        """Work in the foreground until stopped (``onboarding worker``)."""


class ThreadDispatcher(Dispatcher):
    """The in-process worker: one daemon thread, a timer queue, a periodic sweep."""

    def __init__(self, app: Flask):
        self.app = app
        self._heap: list[tuple[float, int]] = []
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._next_sweep = 0.0  # sweep at start
        self._busy = 0

    def install(self, app: Flask) -> None:
        """Outside tests, start with the app's first request (so a restarted server
        sweeps up what was pending)."""
        if app.testing:
            return

        @app.before_request
        def _start_webhook_worker() -> None:
            if self._thread is None:
                self.start()

    def enqueue(self, ids: list[int], at: datetime | None = None) -> None:
        when = at.timestamp() if at else 0.0
        with self._cond:
            for delivery_id in ids:
                heapq.heappush(self._heap, (when, delivery_id))
            self._cond.notify()
        self.start()

    def start(self) -> None:
        with self._cond:
            if self._thread is not None and self._thread.is_alive():
                return
            self._stopping = False
            self._thread = threading.Thread(
                target=self._run, name="onboarding-webhooks", daemon=True
            )
            self._thread.start()

    def stop(self, timeout: float = 10) -> None:
        """Stop the thread (after the delivery in progress); waiting retries are dropped
        from memory (they stay pending in the database for the next sweep)."""
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

    def idle(self) -> bool:
        """Nothing due in memory and nothing being sent (tests wait for this)."""
        with self._cond:
            now = time.time()
            return self._busy == 0 and not any(when <= now for when, _ in self._heap)

    def run(self) -> None:
        """Run in the foreground until stopped (``onboarding worker`` without Redis)."""
        log.info("webhook worker: no REDIS_URL, running the in-process worker")
        self.join()

    def join(self) -> None:
        self.start()
        while self._thread is not None and self._thread.is_alive():
            self._thread.join(1)

    def _next_batch(self) -> tuple[list[int], bool] | None:
        with self._cond:
            while not self._stopping:
                now = time.time()
                if self._heap and self._heap[0][0] <= now:
                    break
                if now >= self._next_sweep:
                    break
                wake = self._next_sweep
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
                self._next_sweep = now + float(self.app.config.get("WEBHOOK_SWEEP_SECONDS", 60))
            self._busy += 1
            return due, sweep

    def _run(self) -> None:
        while True:
            batch = self._next_batch()
            if batch is None:
                return
            due, sweep = batch
            try:
                with self.app.app_context():
                    if sweep:
                        due = list(dict.fromkeys(due + due_ids()))
                    for delivery_id in due:
                        if self._stopping:
                            break
                        self._deliver(delivery_id)
                    db.session.remove()
            except Exception:  # the database may be away: try again at the next sweep
                log.exception("webhook worker: batch failed")
            finally:
                with self._cond:
                    self._busy -= 1

    def _deliver(self, delivery_id: int) -> None:
        try:
            retry_at = deliver(delivery_id)
        except Exception:
            log.exception("webhook delivery %s failed; the sweep will retry it", delivery_id)
            db.session.rollback()
            return
        if retry_at is not None:
            with self._cond:
                heapq.heappush(self._heap, (retry_at.timestamp(), delivery_id))
                self._cond.notify()


class RqDispatcher(Dispatcher):
    """Deliveries as jobs on an RQ queue in Redis; ``onboarding worker`` runs them."""

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
        for delivery_id in ids:
            if at is None:
                queue.enqueue(JOB, delivery_id, job_timeout=120)
            else:
                queue.enqueue_at(at, JOB, delivery_id, job_timeout=120)

    def run(self) -> None:
        """An RQ worker in this process (no fork: no shared database connections), with
        a thread that sweeps up due deliveries nobody queued."""
        from rq import SimpleWorker

        app = self.app

        def sweep() -> None:
            every = float(app.config.get("WEBHOOK_SWEEP_SECONDS", 60))
            while True:
                try:
                    with app.app_context():
                        ids = due_ids()
                        if ids:
                            self.enqueue(ids)
                        db.session.remove()
                except Exception:
                    log.exception("webhook sweep failed")
                time.sleep(every)

        threading.Thread(target=sweep, name="onboarding-webhook-sweep", daemon=True).start()
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
    found = app.extensions.get("webhooks")
    if found is None:
        found = TRANSPORTS[transport(app)](app)
        app.extensions["webhooks"] = found
    return found


def init_app(app: Flask) -> None:
    """Make the app's dispatcher, let it hook into the app, and hand it the deliveries
    committed by the app's sessions (Flask-SQLAlchemy's ``db.session``)."""
    dispatcher(app).install(app)
    listen(db.session.session_factory)


def rq_deliver(delivery_id: int) -> str:
    """Send one delivery and schedule its retry if it needs one: the body of the RQ job
    (``onboarding.jobs.deliver_webhook``). Needs an app context."""
    retry_at = deliver(delivery_id)
    if retry_at is not None:
        dispatcher(current_app).enqueue([delivery_id], at=retry_at)
    return "retry" if retry_at else "done"


def run_worker(app: Flask) -> None:
    """``onboarding worker``: the app's dispatcher, in the foreground."""
    dispatcher(app).run()
