"""Fixtures: an app on SQLite, and on PostgreSQL too when TEST_DATABASE_URL is set, and
what several folders' tests share (staff, a submitted intake, a sent agreement, an empty
database, a Redis of this run's own). Plain helpers live in ``tests/factories.py``."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy import text
from sqlalchemy.engine import make_url

from onboarding.db import db
from onboarding.integrations import worker
from tests.factories import csrf_of, free_port, login, make_app, make_staff, make_submitted, send

__all__ = ["csrf_of", "make_app"]  # imported from here by older tests: keep them working

DATABASES = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])


@pytest.fixture(scope="session", params=DATABASES)
def database_url(request, tmp_path_factory):
    """The database under test (each test using it runs once per database)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    return os.environ["TEST_DATABASE_URL"]


@pytest.fixture(scope="session")
def session_app(database_url, tmp_path_factory):
    app = make_app(database_url, str(tmp_path_factory.mktemp("instance")))
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(autouse=True)
def in_process_workers(monkeypatch):
    """Every in-process outbox worker started during the test, stopped when it ends.

    A worker sweeps the whole (shared) test database: one that outlives its test sends
    the next tests' messages itself (issue 22: the Redis test saw its message "sent"
    while it expected it "queued"). Whoever starts one, and whatever became of the app's
    dispatcher since, the worker stops here; a test that wants none never starts one
    (under TESTING a message alone does not start it, see ``ThreadDispatcher.enqueue``).
    """
    started: list[worker.ThreadDispatcher] = []
    start = worker.ThreadDispatcher.start

    def tracked(self) -> None:
        if self not in started:
            started.append(self)
        start(self)

    monkeypatch.setattr(worker.ThreadDispatcher, "start", tracked)
    yield started
    stop_workers(started)


def stop_workers(started: list) -> None:
    """Stop the in-process workers ``started``; fail if one of them does not stop."""
    threads = [thread for d in started for thread in d.threads()]  # every lane's
    for dispatcher in started:
        dispatcher.stop(timeout=60)  # after the row in progress (a render may take a while)
    alive = [t for t in threads if t.is_alive()]
    assert not alive, f"{len(alive)} in-process outbox worker(s) did not stop in time"


@pytest.fixture
def app(session_app, in_process_workers):
    """The app, with every table emptied (and the rate-limit counters reset) after the
    test, once the workers the test started have stopped."""
    yield session_app
    from onboarding.web.extensions import limiter

    stop_workers(in_process_workers)
    with session_app.app_context():
        limiter.reset()
        db.session.remove()
        tables = [t.name for t in reversed(db.metadata.sorted_tables)]
        for name in tables:
            db.session.execute(text(f"DELETE FROM {name}"))  # noqa: S608 - our table names
        db.session.commit()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def staff(app):
    """An admin and a manager; returns their emails."""
    return make_staff(app)


@pytest.fixture
def submitted(app):
    """A submitted intake (the burned marketer); returns its public id."""
    return make_submitted(app)


@pytest.fixture
def sent(app, client, staff, submitted):
    """The submitted intake's agreement, sent by its manager (signed in on ``client``):
    the prospect's token and the intake's public id."""
    login(client, staff["manager"])
    token = send(client, submitted)
    return {"token": token, "public_id": submitted}


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request, tmp_path):
    """A new, empty database (PostgreSQL only with TEST_DATABASE_URL)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrate.db'}"
        return
    server = os.environ.get("TEST_DATABASE_URL")
    if not server:
        pytest.skip("TEST_DATABASE_URL is not set")
    name = f"onboarding_migrate_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """The URL (no database number) of a Redis of this test run's own: ``redis-server``
    on a free loopback port, in memory. The machine's Redis is shared with other runs,
    whose jobs on the same queue our workers would run against our database (and theirs
    ours). Without ``redis-server``: TEST_REDIS_URL, else 127.0.0.1:6379."""
    redis = pytest.importorskip("redis")
    binary = shutil.which("redis-server")
    if binary is None:
        url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379").rstrip("/")
        try:
            redis.Redis.from_url(url, socket_connect_timeout=1).ping()
        except redis.exceptions.ConnectionError:
            pytest.skip(f"no redis-server, and no Redis answers at {url}")
        yield url
        return
    port = free_port()
    directory = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen(  # noqa: S603 - the system's redis-server
        [
            binary,
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(directory),
        ],  # fmt: skip
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    url = f"redis://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis.from_url(url, socket_connect_timeout=1).ping()
                break
            except redis.exceptions.ConnectionError:
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail(f"redis-server did not start on port {port}")
                time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


# --- time per tier -------------------------------------------------------------------------------
#
# Each folder of tests/ is a tier (unit, web, api, mail, browser, ...). `make test` runs
# them in one pytest session (every test once, one exit status) and this prints how long
# each took: the sum of its tests' setup, call and teardown (a session fixture's start-up
# counts for the first test that needs it).

TIERS: dict[str, list[float]] = {}


def pytest_runtest_logreport(report) -> None:
    parts = report.nodeid.split("/")
    tier = parts[1] if len(parts) > 2 and parts[0] == "tests" else parts[0].split("::")[0]
    seconds, count = TIERS.setdefault(tier, [0.0, 0])
    TIERS[tier] = [seconds + report.duration, count + (report.when == "setup")]


def pytest_terminal_summary(terminalreporter) -> None:
    if len(TIERS) < 2:  # one folder or one file: the durations say enough
        return
    terminalreporter.section("time per tier")
    for tier, (seconds, count) in sorted(TIERS.items(), key=lambda item: -item[1][0]):
        terminalreporter.write_line(f"{tier:<12} {seconds:8.1f} s  {count:5d} tests")
    total = sum(seconds for seconds, _ in TIERS.values())
    terminalreporter.write_line(f"{'all':<12} {total:8.1f} s")
