"""A real SMTP server in the test process (aiosmtpd, on 127.0.0.1 only), and an app
that sends to it: every message the tests expect must arrive there, once."""

from __future__ import annotations

import asyncio
import re
import threading
import time
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from onboarding.cli import main
from onboarding.db import db
from onboarding.db.outbox import OutboxMessage
from onboarding.integrations import outbox
from onboarding.services.people.accounts import create_user
from onboarding.web.extensions import limiter
from tests.factories import PASSWORD, free_port
from tests.web.helpers import Prospect

__all__ = ["PASSWORD", "free_port"]  # the mail tests import them from here

BASE_URL = "https://onboarding.agency.test"
SENDER = "onboarding@agency.test"
EMAIL = "d.okafor@harbourfreight.example"


class Inbox:
    """The aiosmtpd handler: what arrives, and what to refuse (tests set ``rcpt`` or
    ``data`` to a list of answers given to the next attempts, ``unknown`` to addresses
    answered 550, ``delay`` to seconds to wait before answering the data)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.messages: list[EmailMessage] = []
            self.envelopes: list[tuple[str, list[str]]] = []
            self.refused_data: list[EmailMessage] = []
            self.rcpt: list[str] = []
            self.data: list[str] = []
            self.unknown: set[str] = set()
            self.delay = 0.0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with self.lock:
            if address in self.unknown:
                return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
            if self.rcpt:
                return self.rcpt.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
            return "250 2.0.0 Ok: too late"
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            if self.data:
                self.refused_data.append(parsed)
                return self.data.pop(0)
            self.messages.append(parsed)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            number = len(self.messages)
        return f"250 2.0.0 Ok: queued as TEST{number}"

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for m in self.messages if address in str(m["To"])]


@pytest.fixture(scope="session")
def smtp_server():
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller
    controller.stop()


@pytest.fixture
def inbox(smtp_server) -> Inbox:
    smtp_server.handler.reset()
    return smtp_server.handler


def stop_worker(app) -> None:
    worker = app.extensions.get("outbox")
    if worker is not None:
        worker.stop()
    app.extensions.pop("outbox", None)


@pytest.fixture
def mail_app(app, smtp_server):
    """The app sending to the test server, with fast retries; afterwards its outbox
    worker is stopped (before the tables are emptied) and its settings restored."""
    saved = dict(app.config)
    stop_worker(app)
    limiter.reset()
    app.config.update(
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=smtp_server.port,
        MAIL_DEFAULT_SENDER=SENDER,
        MAIL_TIMEOUT=3,
        MAIL_BACKOFF=0.05,
        MAIL_SWEEP_SECONDS=3600,
        BASE_URL=BASE_URL,
    )
    yield app
    stop_worker(app)
    app.config.clear()
    app.config.update(saved)


@pytest.fixture
def no_server_app(app):
    """The app with no MAIL_SERVER (``make run`` on a laptop)."""
    saved = dict(app.config)
    stop_worker(app)
    app.config.update(MAIL_SERVER=None, BASE_URL=BASE_URL, MAIL_SWEEP_SECONDS=3600)
    outbox.dispatcher(app).start()  # under TESTING, a message alone does not start it
    yield app
    stop_worker(app)
    app.config.clear()
    app.config.update(saved)


@pytest.fixture
def staff(app):
    """An admin and two managers (one disabled); returns their emails."""
    with app.app_context():
        create_user("admin@agency.example", "admin", PASSWORD, "Ada Admin", settings=app.config)
        create_user("max@agency.example", "manager", PASSWORD, "Max Manager", settings=app.config)
        create_user("mia@agency.example", "manager", PASSWORD, "Mia Manager", settings=app.config)
        gone, _ = create_user(
            "gone@agency.example", "manager", PASSWORD, "Gone Manager", settings=app.config
        )
        gone.active = False
        db.session.commit()
    return {
        "admin": "admin@agency.example",
        "managers": ["max@agency.example", "mia@agency.example"],
    }


def rows(app) -> list[OutboxMessage]:
    with app.app_context():
        found = db.session.execute(select(OutboxMessage).order_by(OutboxMessage.id))
        result = list(found.scalars())
        db.session.expunge_all()
        return result


def settled(app, timeout: float = 15) -> list[OutboxMessage]:
    """The outbox once nothing in it is queued or being sent (fails after ``timeout``)."""
    deadline = time.monotonic() + timeout
    while True:
        found = rows(app)
        if all(r.status not in ("queued", "sending") for r in found):
            worker = app.extensions.get("outbox")
            if worker is None or not hasattr(worker, "idle") or worker.idle():
                return found
        if time.monotonic() > deadline:
            raise AssertionError(f"the outbox did not settle: {[(r.id, r.status) for r in found]}")
        time.sleep(0.05)


def text_part(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content().replace("\r\n", "\n")


def words(text: str) -> str:
    """Text with its line breaks as spaces (to look for a phrase across a wrap)."""
    return " ".join(text.split())


def html_part(message: EmailMessage) -> str:
    return message.get_body(("html",)).get_content()


class Recorder(outbox.Dispatcher):
    """A dispatcher that sends nothing and remembers what it was handed."""

    def __init__(self):
        self.handed: list[int] = []

    def enqueue(self, ids, at=None, *, channel="email"):
        if channel == "email":
            self.handed.extend(ids)

    def run(self):
        pass


@pytest.fixture
def recorder(mail_app):
    """The app's dispatcher replaced by a :class:`Recorder`; afterwards whatever
    dispatcher the test left in its place is stopped too (a test that starts a fresh
    worker there must not leave it sweeping the tests after it)."""
    stop_worker(mail_app)
    found = Recorder()
    mail_app.extensions["outbox"] = found
    yield found
    stop_worker(mail_app)


def invoke(app, *args):
    """Run an ``onboarding`` command against ``app``."""
    runner = app.test_cli_runner()
    with app.app_context():
        return runner.invoke(main, list(args))


def started(client) -> Prospect:
    """A prospect who has just started an intake."""
    prospect = Prospect(client)
    prospect.start()
    return prospect


def reads_well(text: str) -> None:
    """Plain text a person reads: no markup, no template left over, short lines (a link
    may stand longer, alone on its line), no run of blank lines, a greeting and a name."""
    assert "<" not in text.replace("<https", "") and "{{" not in text and "{%" not in text
    for line in text.splitlines():
        assert len(line) <= 72 or re.fullmatch(r"\s*https://\S+", line), line
    assert "\n\n\n" not in text
    assert text.startswith("Hello") and text.endswith("\n")
