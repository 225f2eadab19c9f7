"""Fixtures for the API and webhook tests: tokens, intakes, a webhook receiver."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from onboarding.db import db
from onboarding.integrations import worker
from onboarding.services.intake.submission import create_intake, submit_intake
from onboarding.services.people.accounts import create_user
from onboarding.services.people.api_tokens import create_token
from onboarding.web.extensions import app_playbooks, limiter

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
PASSWORD = "correct horse battery"


def example(name: str = "burned-marketer") -> dict[str, Any]:
    return json.loads((EXAMPLES / f"{name}.json").read_text())


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


def new_token(app, name: str = "Website") -> str:
    with app.app_context():
        _, token = create_token(name)
        db.session.commit()
    return token


@pytest.fixture
def token(api) -> str:
    return new_token(api)


@pytest.fixture
def auth(token) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def staff(api):
    with api.app_context():
        create_user("admin@example.com", "admin", PASSWORD, "Ada Admin", settings=api.config)
        create_user("manager@example.com", "manager", PASSWORD, "Max Manager", settings=api.config)
        db.session.commit()
    return {"admin": "admin@example.com", "manager": "manager@example.com"}


def make_submitted(app, name: str = "burned-marketer", **changes: Any) -> str:
    """A submitted intake of an example with ``changes``; returns its public id."""
    with app.app_context():
        intake = create_intake({**example(name), **changes})
        db.session.flush()
        _, errors = submit_intake(intake, playbooks=app_playbooks(app), email=False)
        assert not errors, errors
        db.session.commit()
        return intake.public_id


@pytest.fixture
def submitted(api) -> str:
    return make_submitted(api)


def wait_for(predicate, timeout: float = 10.0, step: float = 0.02):
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout} s waiting for {predicate.__name__}")


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
