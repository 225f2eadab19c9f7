"""What the tests build and how they drive the app, shared by every folder.

Plain functions and constants, no fixtures: fixtures live in the ``conftest.py`` of the
folder that uses them (the root one for those several folders use). No test module
imports another test module; what two of them share lives here (or in
``tests/web/helpers.py``, ``tests/strategies.py``, a folder's ``conftest.py``).
"""

from __future__ import annotations

import json
import random
import re
import socket
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
"""The example intakes (``<name>.json``) and their terms (``<name>.terms.json``)."""
PASSWORD = "correct horse battery"
"""Every test user's password."""
DAY = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
"""When :func:`add_intake`'s intakes were submitted, unless told otherwise."""
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


# --- data ----------------------------------------------------------------------------------------


def example(name: str = "burned-marketer") -> dict[str, Any]:
    """The answers of an example intake."""
    return json.loads((EXAMPLES / f"{name}.json").read_text())


def example_terms(name: str = "burned-marketer") -> dict[str, Any]:
    """The commercial terms of an example intake."""
    return json.loads((EXAMPLES / f"{name}.terms.json").read_text())


def make_app(url: str, instance: str, **extra):
    """An app on ``url`` with the schema migrated to the latest version."""
    from onboarding import create_app
    from onboarding.config import TestConfig
    from onboarding.db.engine import upgrade_schema

    config = {key: getattr(TestConfig, key) for key in dir(TestConfig) if key.isupper()} | {
        "SQLALCHEMY_DATABASE_URI": url,
        "INSTANCE_PATH": instance,
        **extra,
    }
    app = create_app(config)
    with app.app_context():
        upgrade_schema()
    return app


def make_staff(app) -> dict[str, str]:
    """An admin and a manager (committed); returns their emails."""
    from onboarding.db import db
    from onboarding.services.people.accounts import create_user

    with app.app_context():
        create_user("admin@example.com", "admin", PASSWORD, "Ada Admin", settings=app.config)
        create_user("manager@example.com", "manager", PASSWORD, "Max Manager", settings=app.config)
        db.session.commit()
    return {"admin": "admin@example.com", "manager": "manager@example.com"}


def make_submitted(app, name: str = "burned-marketer", **changes: Any) -> str:
    """A submitted intake of an example with ``changes`` (committed); its public id."""
    from onboarding.db import db
    from onboarding.services.intake.submission import create_intake, submit_intake
    from onboarding.web.extensions import app_playbooks

    with app.app_context():
        intake = create_intake({**example(name), **changes})
        db.session.flush()
        _, errors = submit_intake(intake, playbooks=app_playbooks(app), email=False)
        assert not errors, errors
        db.session.commit()
        return intake.public_id


def add_intake(
    rng: random.Random,
    name: str,
    company: str,
    email: str,
    *,
    submitted: datetime | None = DAY,
    owner: str | None = None,
    status: str = "new",
    score: int | None = None,
    risk: str | None = None,
    **answers,
):
    """A submitted intake (random valid answers) with these listed facts; not committed
    (needs an app context)."""
    from sqlalchemy import select

    from onboarding.db import db
    from onboarding.db.models import User
    from onboarding.domain.samples import random_answers
    from onboarding.services.intake.submission import create_intake, submit_intake
    from onboarding.web.extensions import app_playbooks

    values = {
        **random_answers(rng),
        "contact_name": name,
        "company": company,
        "contact_email": email,
        **answers,
    }
    intake = create_intake(values)
    db.session.flush()
    _, errors = submit_intake(intake, playbooks=app_playbooks(), email=False)
    assert not errors, errors
    intake.submitted_at = submitted
    intake.status = status
    if owner is not None:
        intake.owner_id = db.session.execute(
            select(User.id).where(User.email == owner)
        ).scalar_one()
    if score is not None:
        intake.score = score
        intake.band = "strong" if score >= 70 else "guarded" if score >= 40 else "poor"
    if risk is not None:
        intake.top_risk = risk
    return intake


def seed_profile(app) -> None:
    """Save the shipped agency profile (what an agreement needs before it is sent)."""
    from onboarding.db import db
    from onboarding.services.agreement import terms as contracts

    with app.app_context():
        contracts.seed_profile(app.config["AGENCY_NAME"])
        db.session.commit()


def new_token(app, name: str = "Website", user=None) -> str:
    """A new API token (committed), created by ``user`` (or nobody)."""
    from onboarding.db import db
    from onboarding.services.people.api_tokens import create_token

    with app.app_context():
        _, token = create_token(name, user) if user is not None else create_token(name)
        db.session.commit()
    return token


def user_token(app, staff) -> dict[str, str]:
    """The header of a token created by the manager (the API sends on its creator's
    behalf)."""
    from sqlalchemy import select

    from onboarding.db import db
    from onboarding.db.models import User

    with app.app_context():
        user = db.session.execute(select(User).where(User.email == staff["manager"])).scalar_one()
        token = new_token(app, "CRM", user)
    return {"Authorization": f"Bearer {token}"}


def grant(app, email: str, title: str | None = "Account Director") -> None:
    """Give ``email`` signing rights (as an admin would, without the page)."""
    from onboarding.db import db
    from onboarding.services.people.accounts import set_signing, user_by_email

    with app.app_context():
        user = user_by_email(email)
        set_signing(user, user_by_email("admin@example.com"), can_sign=True, title=title)
        db.session.commit()


def send_version(app, public_id: str, rounds: int | None = None) -> str:
    """Send the intake's agreement as a new version from the manager (changing the
    revision rounds first, so it differs from the last); returns its link's token."""
    from sqlalchemy import select

    from onboarding.db import db
    from onboarding.db.models import User
    from onboarding.services.agreement import terms as contracts
    from onboarding.services.agreement.send import send_agreement
    from onboarding.services.intake import workspace

    with app.app_context():
        intake = workspace.intake_by_public_id(public_id)
        if rounds is not None:
            terms = contracts.stored_terms(intake)
            terms["service_levels"] = dict(terms.get("service_levels") or {}) | {
                "revision_rounds": rounds
            }
            contracts.save_terms(intake, terms, None)
        manager = db.session.execute(
            select(User).where(User.email == "manager@example.com")
        ).scalar_one()
        version = send_agreement(intake, manager)
        db.session.commit()
        return version.token


# --- driving the app through the test client -----------------------------------------------------


def csrf_of(html: str) -> str:
    """The CSRF token of the first form on a page."""
    match = CSRF.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def login(client, email, password=PASSWORD, **kw):
    """Sign in through the login form."""
    page = client.get("/login")
    return client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": csrf_of(page.text)},
        **kw,
    )


def post(client, url, data=None, page="/workspace/"):
    """Post a form to ``url`` with the CSRF token of ``page``."""
    token = csrf_of(client.get(page).text)
    return client.post(url, data={**(data or {}), "csrf_token": token})


def send(client, public_id, *, revised=False):
    """Send the agreement (the client signed in as its manager); ``revised``: with one
    more revision round than the example's terms (a new version must change something).
    Returns the prospect's link's token."""
    from tests.web.helpers import make_sendable, revise

    make_sendable(client.application, public_id)
    if revised:
        revise(client.application, public_id)
    url = f"/workspace/intakes/{public_id}"
    response = post(client, url + "/agreement/send", {"paper": "a4"}, url)
    assert response.status_code == 302
    page = client.get(url)
    assert "Agreement version" in page.text and "is sent" in page.text
    return (
        page.text.split("prospect's link: <a href=\"", 1)[1]
        .split('"', 1)[0]
        .split("/agreement/", 1)[1]
    )


def answer(app, path, data):
    """Post the prospect's answer to ``path`` from a new client; (client, response)."""
    prospect = app.test_client()
    page = prospect.get("/start")  # any page gives the session's CSRF token
    return prospect, prospect.post(path, data={**data, "csrf_token": csrf_of(page.text)})


STAND_IN = {
    "name": "Grace Hopper",
    "title": "Chief Operating Officer",
    "authority": "yes",
    "consent": "yes",
}
"""An acceptance by someone who is not the contact."""


def countersign(client, public_id, number=1):
    """Countersign version ``number`` (the client signed in as a signer)."""
    url = f"/workspace/intakes/{public_id}"
    return post(client, f"{url}/versions/{number}/countersign", {}, url)


# --- rendering never holds the database's write lock ---------------------------------------------


def write_elsewhere(url: str, statement: str, params: dict) -> str:
    """Run one write on a new connection that waits at most 0.5 s for a lock: "ok" or why not."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import DBAPIError
    from sqlalchemy.pool import NullPool

    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            if engine.dialect.name == "sqlite":
                connection.exec_driver_sql("PRAGMA busy_timeout=500")
            else:
                connection.exec_driver_sql("SET lock_timeout = '500ms'")
            connection.execute(text(statement), params)
            connection.commit()
        return "ok"
    except DBAPIError as exc:
        return str(exc.orig)
    finally:
        engine.dispose()


class SlowRenderer:
    """The real renderer, made slow; while it renders, another connection writes."""

    def __init__(self, real, probe):
        self.real, self.probe, self.writes = real, probe, []

    def __getattr__(self, name):
        return getattr(self.real, name)

    def render(self, html, *, identifier=None):
        time.sleep(0.2)
        self.writes.append(self.probe())
        return self.real.render(html, identifier=identifier)


def slow_renderer(app, monkeypatch, statement, params) -> SlowRenderer:
    """Make the app's PDF renderer slow, running ``statement`` elsewhere as it renders."""
    from onboarding.db import db
    from onboarding.rendering import pdf as pdf_module

    with app.app_context():
        url = db.engine.url.render_as_string(hide_password=False)
    slow = SlowRenderer(pdf_module.get_renderer(), lambda: write_elsewhere(url, statement, params))
    monkeypatch.setattr(pdf_module, "get_renderer", lambda: slow)
    return slow


# --- waiting and ports ---------------------------------------------------------------------------


def wait_for(predicate, timeout: float = 10.0, step: float = 0.02):
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout} s waiting for {predicate.__name__}")


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- judgement fixtures (issue 25) -------------------------------------------------------------


def baseline_answers() -> dict[str, Any]:
    """The playbooks' baseline answer set (playbooks/_baseline.yaml): a calm client."""
    import yaml

    from onboarding.domain.playbooks import default_playbooks_dir

    return yaml.safe_load((default_playbooks_dir() / "_baseline.yaml").read_text())


BASELINE = baseline_answers()

APPROVER = {
    **BASELINE,
    "contact_name": "Dana Daily",
    "company": "Daily Tasks Ltd",
    "control_level": 3,
    "decisions_owned": ["daily_tasks", "brand_direction"],
    "decision_makers": 4,
}  # 76, strong: deciding the daily tasks (40) and four sign-offs (15) stay under the cap


def submit(app, answers) -> str:
    """Submit an intake with these answers (no email); its public id."""
    from onboarding.db import db
    from onboarding.services.intake.submission import create_intake, submit_intake
    from onboarding.web.extensions import app_playbooks

    with app.app_context():
        intake = create_intake(answers)
        db.session.flush()
        _, errors = submit_intake(intake, playbooks=app_playbooks(app), email=False)
        assert not errors
        db.session.commit()
        return intake.public_id


def text_of(page: str) -> str:
    """A page's text as a reader sees it: tags dropped, entities decoded, spaces folded."""
    import html

    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page))).replace(" ,", ",")


def empty_tables(app) -> None:
    """Delete every row of every table (browser tests that share the live server)."""
    from sqlalchemy import text

    from onboarding.db import db

    with app.app_context():
        db.session.remove()
        for table in reversed(db.metadata.sorted_tables):
            db.session.execute(text(f"DELETE FROM {table.name}"))  # noqa: S608 - our names
        db.session.commit()


def version_row(app):
    """The latest version, once the worker made its accepted and signed files."""
    from sqlalchemy import select

    from onboarding.db import db
    from onboarding.db.models import AgreementVersion
    from tests.web.helpers import make_files

    make_files(app)
    with app.app_context():
        version = db.session.execute(
            select(AgreementVersion).order_by(AgreementVersion.number.desc())
        ).scalars().first()  # fmt: skip
        db.session.expunge(version)
        return version


def verify_cli(app, path) -> tuple[int, str]:
    from onboarding.cli import main

    with app.app_context():
        result = app.test_cli_runner().invoke(main, ["verify", str(path)])
    return result.exit_code, result.output
