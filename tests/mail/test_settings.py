"""BASE_URL and the mail settings: a start-up warning, `onboarding check-deploy`, and
the migration that makes the outbox (SQLite and PostgreSQL)."""

from __future__ import annotations

import logging

import flask_migrate
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from onboarding import create_app
from onboarding.cli import deploy_problems
from onboarding.config import TestConfig
from onboarding.db import db
from onboarding.db.engine import MIGRATIONS
from onboarding.integrations.mail import SmtpSettings
from tests.mail.conftest import invoke

OURS = {"outbox_messages", "draft_reminders"}


def settings(**changes):
    config = {key: getattr(TestConfig, key) for key in dir(TestConfig) if key.isupper()}
    return config | changes


def test_no_base_url_outside_debug_and_tests_warns_at_start(tmp_path, caplog):
    caplog.set_level(logging.WARNING)
    config = settings(
        TESTING=False,
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'a.db'}",
        INSTANCE_PATH=str(tmp_path),
    )
    create_app(config)
    assert any("BASE_URL is not set" in r.getMessage() for r in caplog.records)
    caplog.clear()
    create_app(config | {"BASE_URL": "https://onboarding.agency.example"})
    assert not any("BASE_URL" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"MAIL_USE_TLS": True, "MAIL_USE_SSL": True}, "MAIL_USE_TLS (STARTTLS) and MAIL_USE_SSL"),
        ({"BASE_URL": "onboarding.agency.example"}, "BASE_URL must be an http:// or https://"),
        ({"BASE_URL": "https://a.example/?x=1"}, "BASE_URL must have no query"),
    ],
)
def test_bad_mail_settings_stop_the_app_naming_the_setting(tmp_path, changes, message):
    config = settings(SQLALCHEMY_DATABASE_URI="sqlite://", INSTANCE_PATH=str(tmp_path), **changes)
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        create_app(config)


def test_check_deploy_names_what_production_lacks(app, tmp_path):
    from onboarding.rendering.sealing import make_certificate

    saved = dict(app.config)
    try:
        app.config.update(BASE_URL=None, MAIL_SERVER=None, SIGNING_CERT_FILE=None)
        result = invoke(app, "check-deploy")
        assert result.exit_code == 1
        assert "ERROR   BASE_URL is not set" in result.output
        assert "WARNING MAIL_SERVER is not set" in result.output
        assert "WARNING SIGNING_CERT_FILE is not set: PDFs are sealed with a self-signed" in (
            result.output
        )
        app.config.update(SIGNING_CERT_FILE=str(tmp_path / "missing.p12"))
        errors, _ = deploy_problems(app.config, type("Env", (), {"SECRET_KEY": "k"}))
        assert any(e.startswith("SIGNING_CERT_FILE cannot be used") for e in errors)
        (tmp_path / "seal.p12").write_bytes(make_certificate("Brightline Studio Ltd"))
        app.config.update(
            BASE_URL="https://onboarding.agency.example",
            MAIL_SERVER="smtp.agency.example",
            MAIL_DEFAULT_SENDER="Agency <hello@agency.example>",
            TRUSTED_HOSTS=["onboarding.agency.example"],
            # Issue 17: shared rate limits, https, PostgreSQL; issue 27: all staff on a
            # second factor.
            RATELIMIT_STORAGE_URI="redis://redis.internal:6379/0",
            PREFERRED_URL_SCHEME="https",
            STAFF_MFA="all",
            SQLALCHEMY_DATABASE_URI="postgresql+psycopg://db.internal/onboarding",
            SIGNING_CERT_FILE=str(tmp_path / "seal.p12"),  # issue 29: the agency's own
        )
        errors, warnings = deploy_problems(app.config, type("Env", (), {"SECRET_KEY": "k"}))
        assert errors == [] and warnings == []
        app.config.update(STAFF_MFA="admins")
        _, warnings = deploy_problems(app.config, type("Env", (), {"SECRET_KEY": "k"}))
        assert [w.split(" ")[0] for w in warnings] == ["STAFF_MFA"]
        app.config.update(STAFF_MFA="all", MAIL_DEFAULT_SENDER=None)
        errors, _ = deploy_problems(app.config, type("Env", (), {"SECRET_KEY": "k"}))
        assert [e.split(" ")[0] for e in errors] == ["MAIL_DEFAULT_SENDER"]
    finally:
        app.config.clear()
        app.config.update(saved)


def test_smtp_ports_follow_the_security_setting():
    assert SmtpSettings.from_config({"MAIL_SERVER": "m"}).port == 25
    assert SmtpSettings.from_config({"MAIL_SERVER": "m", "MAIL_USE_TLS": True}).port == 587
    assert SmtpSettings.from_config({"MAIL_SERVER": "m", "MAIL_USE_SSL": True}).port == 465
    assert SmtpSettings.from_config({"MAIL_SERVER": "m", "MAIL_PORT": 2525}).port == 2525
    assert SmtpSettings.from_config({"MAIL_DEFAULT_SENDER": "A <a@b.example>"}).helo == "b.example"


def test_tests_never_take_the_mail_server_from_the_environment():
    assert TestConfig.MAIL_SERVER is None and TestConfig.BASE_URL is None
    assert TestConfig.DRAFT_REMINDER_SWEEP_SECONDS == 0  # tests run reminders themselves


def test_0010_makes_the_outbox_as_the_models_say_and_goes_back(
    empty_database,
    tmp_path,
):
    config = settings(SQLALCHEMY_DATABASE_URI=empty_database, INSTANCE_PATH=str(tmp_path))
    app = create_app(config)
    with app.app_context():
        flask_migrate.upgrade(directory=str(MIGRATIONS), revision="0009")
        flask_migrate.upgrade(directory=str(MIGRATIONS))
        with db.engine.connect() as connection:
            assert set(sa.inspect(connection).get_table_names()) >= OURS
            diffs = compare_metadata(MigrationContext.configure(connection), db.metadata)
        ours = [d for d in diffs if OURS & set(_names(d))]
        assert ours == []
        flask_migrate.downgrade(directory=str(MIGRATIONS), revision="0009")
        with db.engine.connect() as connection:
            assert not OURS & set(sa.inspect(connection).get_table_names())
        db.session.remove()
        db.engine.dispose()


def _names(diff):
    items = diff if isinstance(diff, list) else [diff]
    for item in items:
        for part in item:
            if isinstance(part, sa.Table):
                yield part.name
            elif isinstance(part, sa.Column | sa.Index | sa.Constraint) and part.table is not None:
                yield part.table.name
            elif isinstance(part, str):
                yield part
