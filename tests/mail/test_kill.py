"""No message is lost when the worker is killed (``kill -9``) at any point: before it
claims a message, after the claim while it talks to the server, while the server holds
the message unanswered, after the server accepted it but before the outcome is written,
and after. A real ``onboarding worker`` process is killed; a second worker (the next
sweep, once the first one's lease has run out) finishes the job, and every copy that
arrives carries the same ``Message-ID``, so receivers can drop a repeat."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select, update

from onboarding.db import db
from onboarding.db.engine import begin_write
from onboarding.db.models import utcnow
from onboarding.db.outbox import OutboxMessage
from onboarding.integrations import outbox
from onboarding.services.notify import mail
from tests.factories import free_port

TO = "prospect@client.example"


class Gate:
    """An SMTP server that can stop at EHLO or at DATA (before or after accepting) and
    tell the test it got there."""

    def __init__(self):
        self.accepted: list = []
        self.stop_at: str | None = None
        self.reached = threading.Event()
        self.release = threading.Event()
        self.on_accept = None  # called (in the server's thread) just before 250

    async def _hold(self, stage: str) -> None:
        if self.stop_at == stage:
            self.reached.set()
            while not self.release.is_set():
                await asyncio.sleep(0.02)

    async def handle_EHLO(self, server, session, envelope, hostname, responses):  # noqa: N802
        await self._hold("ehlo")
        session.host_name = hostname
        return responses

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        await self._hold("data")
        if self.stop_at == "data":
            return "451 4.3.0 the client went away"
        self.accepted.append(message_from_bytes(envelope.content, policy=policy.default))
        if self.on_accept is not None:
            self.on_accept()
        return "250 2.0.0 Ok"


@pytest.fixture
def gate():
    handler = Gate()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller
    handler.release.set()
    controller.stop()


class Lock:
    """A write lock on the outbox held by another process's connection: SQLite's
    database lock, PostgreSQL's row lock (what a slow transaction would hold)."""

    def __init__(self, url: str, message_id: int):
        self.url, self.message_id, self.conn = url, message_id, None

    def take(self) -> None:
        if self.url.startswith("sqlite"):
            self.conn = sqlite3.connect(
                self.url.removeprefix("sqlite:///"), isolation_level=None, check_same_thread=False
            )
            self.conn.execute("BEGIN IMMEDIATE")
        else:
            import psycopg

            self.conn = psycopg.connect(self.url.replace("postgresql+psycopg", "postgresql"))
            self.conn.execute(
                "SELECT id FROM outbox_messages WHERE id = %s FOR UPDATE", (self.message_id,)
            )

    def free(self) -> None:
        if self.conn is not None:
            self.conn.rollback() if not self.url.startswith("sqlite") else self.conn.execute(
                "ROLLBACK"
            )
            self.conn.close()
            self.conn = None


def start_worker(app, port: int, tmp_path: Path) -> subprocess.Popen:
    command = shutil.which("onboarding", path=str(Path(sys.executable).parent))
    env = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "SECRET_KEY": "kill-test",
        "INSTANCE_PATH": str(tmp_path / "worker"),
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(port),
        "MAIL_TIMEOUT": "30",
        "MAIL_SWEEP_SECONDS": "3600",
        "WEBHOOK_SWEEP_SECONDS": "3600",
        "DRAFT_REMINDER_SWEEP_SECONDS": "0",
        "BASE_URL": "https://onboarding.agency.example",
    }
    env.pop("REDIS_URL", None)
    with (tmp_path / "worker.log").open("wb") as log:  # read back when the worker falls short
        return subprocess.Popen(  # noqa: S603 - our own command
            [command, "worker"], env=env, stdout=log, stderr=subprocess.STDOUT
        )


def worker_log(tmp_path: Path) -> str:
    path = tmp_path / "worker.log"
    return path.read_text(errors="replace")[-3000:] if path.exists() else "(no log)"


def kill(process: subprocess.Popen) -> None:
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def queued_message(app) -> tuple[int, str]:
    """One email in the outbox, committed and due (as a service writes it)."""
    with app.app_context():
        row = mail.write(
            "resume_link",
            TO,
            name="Dana",
            company="Client",
            resume_url="https://x.example/r/1",
        )
        db.session.commit()
        return row.id, row.message_id


def row(app, message_id: int) -> OutboxMessage:
    with app.app_context():
        found = db.session.execute(
            select(OutboxMessage).where(OutboxMessage.id == message_id)
        ).scalar_one()
        db.session.expunge(found)
        return found


def wait_until(predicate, timeout: float = 20, why=lambda: "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out\n{why()}")
        time.sleep(0.05)


def next_sweep(app, message_id: int, port: int) -> None:
    """A second worker once the lease has run out (time moved on): the sweep finds the
    message due and sends it."""
    saved = dict(app.config)
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_TIMEOUT=10)
    try:
        with app.app_context():
            begin_write(db.session())
            db.session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == message_id, OutboxMessage.locked_until.is_not(None))
                .values(locked_until=utcnow().replace(year=2000))
            )
            db.session.commit()
            assert message_id in outbox.due_ids() or row(app, message_id).status == "sent"
            outbox.deliver(message_id)
    finally:
        app.config.clear()
        app.config.update(saved)


POINTS = ["before the claim", "after the claim", "during the send", "after the send", "after"]


@pytest.mark.parametrize("point", POINTS)
def test_a_worker_killed_at_any_point_loses_no_message(app, gate, tmp_path, point):
    server = gate.handler
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    message_id, message_header = queued_message(app)
    lock = Lock(url, message_id)
    if point == "before the claim":
        lock.take()  # the worker cannot claim it: killed while it waits
    elif point == "after the claim":
        server.stop_at = "ehlo"  # claimed, connected, killed before any data
    elif point == "during the send":
        server.stop_at = "data"  # the server holds the message unanswered
    elif point == "after the send":
        server.on_accept = lock.take  # accepted; the outcome cannot be written yet
    process = start_worker(app, gate.port, tmp_path)
    try:
        if point == "before the claim":
            time.sleep(3)
        elif point in ("after the claim", "during the send"):
            assert server.reached.wait(60), f"never reached the server\n{worker_log(tmp_path)}"
        elif point == "after the send":
            wait_until(lambda: server.accepted, 60, lambda: worker_log(tmp_path))
            time.sleep(0.5)
        else:
            wait_until(
                lambda: row(app, message_id).status == "sent", 60, lambda: worker_log(tmp_path)
            )
        kill(process)
    finally:
        if process.poll() is None:
            kill(process)
        lock.free()
        server.release.set()

    status = row(app, message_id).status
    if point == "after":
        assert status == "sent"
    else:
        assert status in ("queued", "sending"), status  # not lost, not marked done
    server.stop_at, server.on_accept = None, None
    next_sweep(app, message_id, gate.port)

    found = row(app, message_id)
    assert found.status == "sent" and found.message_id == message_header
    copies = [m for m in server.accepted if TO in str(m["To"])]
    assert copies, "the message was lost"
    assert {m["Message-ID"] for m in copies} == {message_header}
    expected = 2 if point == "after the send" else 1  # at least once; a repeat keeps its id
    assert len(copies) == expected
