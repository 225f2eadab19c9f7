"""Fixtures: an app on SQLite, and on PostgreSQL too when TEST_DATABASE_URL is set."""

from __future__ import annotations

import os
import re

import pytest
from sqlalchemy import text

from onboarding import create_app
from onboarding.config import TestConfig
from onboarding.db import db
from onboarding.db.engine import upgrade_schema

DATABASES = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])


def make_app(url: str, instance: str, **extra):
    """An app on ``url`` with the schema migrated to the latest version."""
    config = {key: getattr(TestConfig, key) for key in dir(TestConfig) if key.isupper()} | {
        "SQLALCHEMY_DATABASE_URI": url,
        "INSTANCE_PATH": instance,
        **extra,
    }
    app = create_app(config)
    with app.app_context():
        upgrade_schema()
    return app


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


@pytest.fixture
def app(session_app):
    """The app, with every table emptied (and the rate-limit counters reset) after the
    test."""
    yield session_app
    from onboarding.web.extensions import limiter

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


CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_of(html: str) -> str:
    """The CSRF token of the first form on a page."""
    match = CSRF.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)
