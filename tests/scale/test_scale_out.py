"""Two app servers on one PostgreSQL and one Redis behave as one service."""

from __future__ import annotations

import http.cookiejar
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import select

from onboarding.db import db
from onboarding.db.models import Intake
from onboarding.services.people.accounts import create_user
from tests.factories import example, free_port
from tests.web.helpers import form_data

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """One person's cookies, used against any of the servers."""

    def __init__(self):
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), NoRedirect
        )

    def get(self, url):
        return self._open(urllib.request.Request(url))

    def post(self, url, fields):
        body = urllib.parse.urlencode(fields, doseq=True).encode()
        return self._open(urllib.request.Request(url, data=body, method="POST"))

    def _open(self, request):
        try:
            with self.opener.open(request, timeout=20) as response:  # noqa: S310 - loopback
                return response.status, response.headers, response.read().decode()
        except urllib.error.HTTPError as error:
            with error:
                return error.code, error.headers, error.read().decode()


def redis_available() -> bool:
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except Exception:  # noqa: BLE001 - any failure means no Redis here
        return False
    return True


@pytest.fixture
def two_servers(database_url, session_app, tmp_path):
    if not database_url.startswith("postgresql"):
        pytest.skip("scale-out runs on PostgreSQL (TEST_DATABASE_URL)")
    if not redis_available():
        if os.environ.get("CI"):
            pytest.fail(f"Redis is not reachable at {REDIS_URL}")
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent))
    servers, procs = [], []
    for name in ("a", "b"):
        port = free_port()
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "shared-secret-of-the-cluster",
            "RATELIMIT_STORAGE_URI": REDIS_URL,
            "LOGIN_LIMIT": "5 per minute",
            "LOGIN_FAILURE_DELAY": "0",
            "INSTANCE_PATH": str(tmp_path / name),
            "STAFF_MFA": "admins",  # the manager signs in with a password (the default is all)
        }
        procs.append(
            subprocess.Popen(  # noqa: S603
                [gunicorn, "-w", "2", "-b", f"127.0.0.1:{port}", "onboarding.app:create_app()"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        servers.append(f"http://127.0.0.1:{port}")
    for base in servers:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)  # noqa: S310
                break
            except OSError:
                time.sleep(0.1)
    yield servers
    for proc in procs:
        proc.terminate()
        proc.wait(timeout=10)


def csrf(html: str) -> str:
    return CSRF.search(html).group(1)


def test_a_prospect_moves_between_servers_mid_intake(app, two_servers):
    a, b = two_servers
    person = Browser()
    _, _, page = person.get(a + "/start")
    status, headers, _ = person.post(a + "/start", {"csrf_token": csrf(page)})
    token = headers["Location"].rstrip("/").rsplit("/", 1)[-1]
    answers = example()
    for base, section in ((a, "about"), (b, "time"), (a, "control")):
        url = f"{base}/intake/{token}/step/{section}"
        _, _, page = person.get(url)
        status, _, _ = person.post(
            url, {**form_data(section, answers), "csrf_token": csrf(page), "action": "next"}
        )
        assert status == 302, (base, section)
    _, _, page = person.get(f"{b}/intake/{token}/step/about")
    assert 'value="Harbour Freight Logistics"' in page
    with app.app_context():
        stored = db.session.execute(select(Intake).where(Intake.token == token)).scalar_one()
        assert stored.answers["update_frequency"] == "few_per_week"
        assert stored.answers["control_level"] == 4


def test_a_login_is_valid_on_both_servers(app, two_servers):
    a, b = two_servers
    with app.app_context():
        create_user("ops@agency.example", "manager", "a long pass phrase 42", settings=app.config)
        db.session.commit()
    person = Browser()
    _, _, page = person.get(a + "/login")
    status, _, _ = person.post(
        a + "/login",
        {
            "email": "ops@agency.example",
            "password": "a long pass phrase 42",
            "csrf_token": csrf(page),
        },
    )
    assert status == 302
    assert person.get(b + "/workspace/")[0] == 200
    assert Browser().get(b + "/workspace/")[0] == 302  # and only with the session


def test_the_login_rate_limit_is_shared(app, two_servers):
    a, b = two_servers
    person = Browser()
    codes = []
    for base in (a, b, a, b, a, b):
        _, _, page = person.get(base + "/login")
        status, _, _ = person.post(
            base + "/login",
            {"email": "x@agency.example", "password": "wrong password", "csrf_token": csrf(page)},
        )
        codes.append(status)
    assert codes == [401, 401, 401, 401, 401, 429]
