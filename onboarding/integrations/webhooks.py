"""Webhooks: endpoints admins register, signed deliveries, retries, background sending.

This module stores and delivers payloads it is given; it does not know what an intake
looks like. :mod:`onboarding.services.notify.webhooks` decides when an event happens and builds
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

**Signature.** `Standard Webhooks <https://www.standardwebhooks.com/>`_: ``webhook-id``
(the event's id, the same on every retry), ``webhook-timestamp`` and ``webhook-signature``
(``v1,`` and the base64 HMAC-SHA256 of ``"{id}.{timestamp}.{body}"`` under the key that
the ``whsec_`` secret's base64 part encodes), so receivers can use the
``standardwebhooks`` libraries. Endpoints registered before this (``signing`` =
``legacy``, secrets that are not base64) get only today's ``Onboarding-Signature:
t=<unix time>,v1=<hex HMAC-SHA256 of "{t}.{body}" keyed with the whole secret>`` until
an admin rolls their secret; every endpoint gets that header until
:data:`LEGACY_HEADER_UNTIL` (:mod:`onboarding.integrations.webhook_verify` checks it).

**Addresses (SSRF).** A URL whose host is, or resolves to, a loopback, private,
link-local, shared, multicast, reserved or unspecified address is refused when it is
registered and again at every send, after DNS resolution; the connection then goes to
the address that was checked (no second lookup that could answer differently).
``WEBHOOK_ALLOW_PRIVATE=true`` lifts this (development and tests only).

**Sending in the background** is the outbox's one worker
(:mod:`onboarding.integrations.worker`): deliveries are its ``webhook`` channel, with
the same after-commit hand-off, sweep, RQ queue or in-process thread as email.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import ipaddress
import logging
import secrets
import socket
import ssl
import time
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app
from sqlalchemy import func, or_, select

from onboarding.db import db
from onboarding.db.models import Intake, User, WebhookDelivery, WebhookEndpoint, utcnow
from onboarding.integrations import worker

log = logging.getLogger(__name__)

EVENTS = {
    "intake.submitted": "An intake was submitted and assessed (web form or API)",
    "intake.status_changed": "An intake moved along the workflow (workspace or API)",
    "agreement.sent": "A version of the agreement was sent to the prospect (workspace or API)",
    "agreement.changes_requested": "The prospect asked for changes to the agreement sent",
    "agreement.accepted": "The prospect accepted the agreement (signed it for the client)",
    "agreement.signed": "The agency countersigned the accepted agreement: signed by both",
    "project.update_posted": "The manager posted a project update (the client is emailed it)",
    "project.milestone_moved": "A milestone moved from its agreed date, with the reason given",
    "project.signoff_requested": "The client was asked to sign off a milestone",
    "project.signed_off": "The client signed off a milestone, or asked for a revision of it",
}
"""The events an endpoint may subscribe to, with what each means: the one list
(``services.notify.webhooks.emit`` fires them; the API documents them from here)."""
"""The RQ job that sends one delivery (by name: that module builds an app if needed)."""
SIGNATURE_HEADER = "Onboarding-Signature"
USER_AGENT = "Onboarding-Webhooks/1"
MAX_URL = 2000
MAX_DESCRIPTION = 200
BACKOFF_FACTOR = 4
LEASE_EXTRA = 30  # seconds a claim outlives the send timeout
SWEEP_BATCH = 200


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


SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret
LEGACY_HEADER_UNTIL = "2027-06-30"
"""The last day ``Onboarding-Signature`` is sent (README, "Webhooks")."""


def legacy_until_words() -> str:
    """:data:`LEGACY_HEADER_UNTIL` as people write it (30 June 2027)."""
    moment = datetime.strptime(LEGACY_HEADER_UNTIL, "%Y-%m-%d")
    return f"{moment.day} {moment:%B %Y}"


def endpoints() -> list[WebhookEndpoint]:
    """Every endpoint, oldest first."""
    return list(db.session.execute(select(WebhookEndpoint).order_by(WebhookEndpoint.id)).scalars())


def counts() -> dict[str, int]:
    """How many deliveries are in each state."""
    rows = db.session.execute(
        select(WebhookDelivery.status, func.count(WebhookDelivery.id)).group_by(
            WebhookDelivery.status
        )
    )
    return {status: n for status, n in rows}


def new_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` and the base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def secret_key(secret: str) -> bytes:
    """The HMAC key of a Standard Webhooks secret (the bytes its base64 part encodes)."""
    encoded = secret.removeprefix(SECRET_PREFIX)
    return base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)


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
        signing="standard",
        active=True,
        created_by_id=user.id if user else None,
    )
    db.session.add(endpoint)
    return endpoint, secret


def roll_secret(endpoint: WebhookEndpoint) -> str:
    """A new signing secret for ``endpoint`` (the old one stops working at once); a
    legacy endpoint moves to Standard Webhooks signing with it."""
    endpoint.secret = new_secret()
    endpoint.signing = "standard"
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
    worker.track("webhook", deliveries)
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
    worker.track("webhook", [copy])
    return copy


# --- sending -----------------------------------------------------------------------------------


def sign_standard(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The Standard Webhooks ``webhook-signature`` value: ``v1,`` and the base64
    HMAC-SHA256 of ``"{id}.{timestamp}.{body}"`` under the secret's key."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def signed_headers(
    signing: str, secret: str, message_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    """The signature headers of one attempt: Standard Webhooks' ``webhook-id`` (the
    event's id, the same on every retry and re-send, so a receiver can drop a repeat),
    ``webhook-timestamp`` and ``webhook-signature`` for ``standard`` endpoints; and,
    until :data:`LEGACY_HEADER_UNTIL`, ``Onboarding-Signature`` for every endpoint
    (the only one a ``legacy`` endpoint gets, keyed with its whole secret string)."""
    headers = {SIGNATURE_HEADER: sign(secret, body, timestamp)}
    if signing == "standard":
        headers.update(
            {
                "webhook-id": message_id,
                "webhook-timestamp": str(timestamp),
                "webhook-signature": sign_standard(secret, message_id, timestamp, body),
            }
        )
    return headers


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The ``Onboarding-Signature`` header value for ``body`` sent at ``timestamp``
    (deprecated: see :data:`LEGACY_HEADER_UNTIL`)."""
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
    if not worker.lease(WebhookDelivery, delivery_id, _due, settings["timeout"] + LEASE_EXTRA):
        return None
    row = db.session.execute(
        select(
            WebhookDelivery.event,
            WebhookDelivery.payload,
            WebhookDelivery.attempts,
            WebhookDelivery.event_id,
            WebhookEndpoint.url,
            WebhookEndpoint.secret,
            WebhookEndpoint.signing,
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
            **signed_headers(row.signing, row.secret, row.event_id, int(time.time()), body),
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
    worker.record(WebhookDelivery, delivery_id, values)
    log.info("webhook delivery %s: %s", delivery_id, values.get("status", "retry") or error)
    return retry_at


def _due(now: datetime):
    return (
        WebhookDelivery.status == "pending",
        or_(WebhookDelivery.next_attempt_at.is_(None), WebhookDelivery.next_attempt_at <= now),
        or_(WebhookDelivery.locked_until.is_(None), WebhookDelivery.locked_until < now),
    )


def due_ids(limit: int = SWEEP_BATCH) -> list[int]:
    """Pending deliveries that are due and not being sent (the sweep's work)."""
    ids = db.session.execute(
        select(WebhookDelivery.id)
        .where(*_due(utcnow()))
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(limit)
    ).scalars().all()  # fmt: skip
    db.session.rollback()
    return list(ids)


worker.register(worker.Channel("webhook", due_ids, deliver))
