"""Fixtures for the API and webhook tests: tokens, intakes, a webhook receiver."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import select

from onboarding.db import db
from onboarding.db.models import WebhookDelivery
from onboarding.integrations import webhooks, worker
from onboarding.web.extensions import limiter
from tests.factories import (
    EXAMPLES,
    PASSWORD,
    csrf_of,
    example,
    make_staff,
    make_submitted,
    new_token,
    wait_for,
)

# Older API tests import these from here: they live in tests/factories.py.
__all__ = ["EXAMPLES", "PASSWORD", "example", "make_submitted", "new_token", "wait_for"]


@pytest.fixture
def api(app):
    """The app, with fresh rate-limit counters, fast webhook retries and, afterwards,
    its webhook worker stopped (before the tables are emptied) and settings restored."""
    saved = dict(app.config)
    limiter.reset()
    app.config.update(WEBHOOK_BACKOFF=0.05, WEBHOOK_TIMEOUT=5, WEBHOOK_SWEEP_SECONDS=3600)
    yield app
    worker.dispatcher(app).stop()
    app.config.clear()
    app.config.update(saved)
    limiter.reset()


@pytest.fixture
def client(api):
    return api.test_client()


@pytest.fixture
def token(api) -> str:
    return new_token(api)


@pytest.fixture
def auth(token) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def staff(api):
    """An admin and a manager; returns their emails."""
    return make_staff(api)


@pytest.fixture
def submitted(api) -> str:
    return make_submitted(api)


class Receiver:
    """A webhook receiver on 127.0.0.1: records every request, answers from a script."""

    def __init__(self):
        self.requests: list[dict[str, Any]] = []
        self.codes: list[int] = []  # answers to give, in order; then 200
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    receiver.requests.append(
                        {"path": self.path, "headers": dict(self.headers), "body": body}
                    )
                    code = receiver.codes.pop(0) if receiver.codes else 200
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/onboarding"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


# --- webhooks: endpoints and their deliveries ----------------------------------------------------


def register(app, url, events=("intake.submitted", "intake.status_changed")) -> str:
    """An endpoint for ``url``; returns its secret."""
    with app.app_context():
        _, secret = webhooks.create_endpoint(
            url, list(events), "test receiver", None, app.config["WEBHOOK_ALLOW_PRIVATE"]
        )
        db.session.commit()
    return secret


def deliveries(app) -> list[WebhookDelivery]:
    with app.app_context():
        rows = db.session.execute(select(WebhookDelivery).order_by(WebhookDelivery.id))
        result = rows.scalars().all()
        db.session.expunge_all()
        return list(result)


def settled(app):
    """Deliveries, once none is pending any more."""

    def done():
        rows = deliveries(app)
        return rows if rows and all(d.status != "pending" for d in rows) else None

    return done


def admin_client(client, staff):
    page = client.get("/login")
    client.post(
        "/login",
        data={"email": staff["admin"], "password": PASSWORD, "csrf_token": csrf_of(page.text)},
    )
    return client
