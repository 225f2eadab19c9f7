"""Workspace commands: create-user, seed-demo, reassess, init-db."""

from __future__ import annotations

from sqlalchemy import func, select

from onboarding.cli import main
from onboarding.db import db
from onboarding.db.models import Assessment, Intake, User


def invoke(app, *args, input=None):
    runner = app.test_cli_runner()
    with app.app_context():
        return runner.invoke(main, list(args), input=input)


def test_create_user_with_a_prompted_password(app):
    result = invoke(
        app, "create-user", "Ops@Example.com", "--role", "admin", input="longenough1\nlongenough1\n"
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.execute(select(User)).scalar_one()
        assert user.email == "ops@example.com" and user.role == "admin"
        assert user.password_hash.startswith("scrypt:")


def test_create_user_generates_and_prints_a_password_once(app):
    result = invoke(app, "create-user", "m@example.com", "--generate")
    assert result.exit_code == 0 and "Password (shown once): " in result.output


def test_create_user_refuses_bad_input_naming_the_field(app):
    assert "email:" in invoke(app, "create-user", "not-an-email", "--generate").output
    short = invoke(app, "create-user", "a@example.com", "--password", "short")
    assert short.exit_code == 2 and "password:" in short.output
    invoke(app, "create-user", "a@example.com", "--generate")
    again = invoke(app, "create-user", "a@example.com", "--generate")
    assert again.exit_code == 2 and "already exists" in again.output


def test_seed_demo_fills_an_empty_database_once(app):
    first = invoke(app, "seed-demo")
    assert first.exit_code == 0 and "admin@example.com" in first.output
    with app.app_context():
        submitted = db.session.execute(
            select(func.count()).select_from(Intake).where(Intake.status == "new")
        ).scalar()
        assert submitted >= 10
    second = invoke(app, "seed-demo")
    assert "already has users" in second.output


def test_reassess_all_updates_out_of_date_assessments(app):
    invoke(app, "seed-demo")
    with app.app_context():
        first = db.session.execute(select(Assessment).order_by(Assessment.id)).scalars().first()
        first.playbook_version = "0" * 64
        db.session.commit()
    result = invoke(app, "reassess", "--all")
    assert result.exit_code == 0 and "re-assessed 1" in result.output
    assert "re-assessed 0" in invoke(app, "reassess", "--all").output
