"""Browser fixtures: the app under gunicorn on loopback, driven by Debian's Chromium."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="package")
def browser():
    """Headless Chromium via Playwright (never `playwright install`). Package scope:
    Playwright's synchronous API keeps an event loop marked running in this thread while
    it is open, and code after the browser tests that calls ``asyncio.run`` (pyHanko's
    synchronous validation, say) would fail if it outlived them."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: .ci/run installs it with apt-get")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="package")
def live_server(session_app, database_url, tmp_path_factory):
    """The real app under gunicorn on a free loopback port, on the database under test.

    Stopped when the browser tests end: its outbox worker sweeps the shared test
    database, and the tests after them (the outbox's own, with their own worker and
    mail server) must not find their messages sent by it."""
    port = free_port()
    instance = tmp_path_factory.mktemp("live-instance")
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "browser-test-key",
        "INSTANCE_PATH": str(instance),
        # The server shares the test database with the tests that run after the browser
        # tests: it makes the accepted and signed files, but renders no agreement in the
        # background under their feet (tests/web/test_prerender.py tests that).
        "PRERENDER": "false",
        # Admins set up an authenticator (test_mfa_browser walks it); the managers the
        # other browser tests sign in as use a password alone (the default is all).
        "STAFF_MFA": "admins",
    }
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent))
    log = open(instance / "gunicorn.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [gunicorn, "-w", "2", "-b", f"127.0.0.1:{port}", "onboarding.app:create_app()"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(base + "/healthz", timeout=1)  # noqa: S310 - loopback
            break
        except OSError:
            time.sleep(0.1)
    else:
        proc.terminate()
        pytest.fail("gunicorn did not start: " + (instance / "gunicorn.log").read_text())
    yield base
    proc.terminate()
    proc.wait(timeout=10)
    log.close()
