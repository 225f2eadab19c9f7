"""The tamper-evident trail (issue 29): each intake's history and the security log are
hash chains; `onboarding audit verify` exits 0 when they are intact and 1 naming the
first event that does not match, after a row is edited in the database. On SQLite and
(with TEST_DATABASE_URL) PostgreSQL."""

from __future__ import annotations

import threading

from sqlalchemy import select, text

from onboarding.db import db
from onboarding.db.engine import begin_write
from onboarding.db.models import AuditEvent, SecurityEvent
from onboarding.services.intake import workspace
from onboarding.services.people import security_log
from tests.factories import login, post


def audit_verify(app, *args) -> tuple[int, str]:
    from onboarding.cli import main

    with app.app_context():
        result = app.test_cli_runner().invoke(main, ["audit", "verify", *args])
    return result.exit_code, result.output


def history(app, client, staff, submitted):  # noqa: F811
    """Some history: status moves and a note by a manager, sign-ins in the security log."""
    assert login(client, staff["manager"]).status_code == 302
    url = f"/workspace/intakes/{submitted}"
    post(client, url + "/status", {"status": "in_review"}, url)
    post(client, url + "/notes", {"note": "Called them: budget confirmed"}, url)
    with app.app_context():
        kinds = [e.kind for e in db.session.execute(select(AuditEvent)).scalars()]
        assert len(kinds) >= 2, kinds
        assert db.session.execute(select(SecurityEvent)).scalars().first() is not None


def test_an_untouched_trail_verifies(app, client, staff, submitted):  # noqa: F811
    history(app, client, staff, submitted)
    code, output = audit_verify(app)
    assert code == 0 and output.startswith("Intact:"), output
    code, output = audit_verify(app, "--intake", submitted)
    assert code == 0, output
    with app.app_context():
        events = db.session.execute(
            select(AuditEvent).where(AuditEvent.intake_id.isnot(None)).order_by(AuditEvent.id)
        ).scalars().all()  # fmt: skip
        assert events[0].prev_hash is None
        for before, after in zip(events, events[1:], strict=False):
            assert after.prev_hash == before.hash  # each event names the one before


def test_an_edited_history_row_is_named(app, client, staff, submitted):  # noqa: F811
    history(app, client, staff, submitted)
    with app.app_context():
        target = db.session.execute(
            select(AuditEvent).where(AuditEvent.kind == "note")
        ).scalar_one()  # fmt: skip
        event_id = target.id
        db.session.execute(
            text("UPDATE audit_events SET to_value = :v WHERE id = :id"),
            {"v": "Called them: no budget", "id": event_id},
        )
        db.session.commit()
    code, output = audit_verify(app)
    assert code == 1
    assert f"intake {submitted}: event {event_id} (note" in output
    assert "does not match its hash" in output
    code, output = audit_verify(app, "--intake", submitted)
    assert code == 1 and f"event {event_id}" in output


def test_a_removed_history_row_breaks_the_link_of_the_next(app, client, staff, submitted):  # noqa: F811
    history(app, client, staff, submitted)
    with app.app_context():
        ids = db.session.execute(
            select(AuditEvent.id).where(AuditEvent.intake_id.isnot(None)).order_by(AuditEvent.id)
        ).scalars().all()  # fmt: skip
        db.session.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": ids[0]})
        db.session.commit()
    code, output = audit_verify(app)
    assert code == 1 and f"event {ids[1]}" in output and "link" in output


def test_an_edited_security_row_is_named(app, client, staff, submitted):  # noqa: F811
    history(app, client, staff, submitted)
    with app.app_context():
        first = (
            db.session.execute(select(SecurityEvent.id).order_by(SecurityEvent.id))
            .scalars()
            .first()
        )
        db.session.execute(
            text("UPDATE security_events SET address = '10.9.9.9' WHERE id = :id"), {"id": first}
        )
        db.session.commit()
    code, output = audit_verify(app)
    assert code == 1 and f"security log: event {first}" in output


def test_an_unknown_intake_is_refused(app):
    code, output = audit_verify(app, "--intake", "nope")
    assert code == 2 and "--intake" in output


def test_writers_at_once_never_fork_an_intakes_chain(app, submitted):  # noqa: F811
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            with app.app_context():
                for i in range(8):
                    begin_write(db.session())
                    intake = workspace.intake_by_public_id(submitted)
                    workspace.audit(intake, None, "note", None, f"writer {n} note {i}")
                    security_log.record("user_created", subject=f"w{n}-{i}@example.com")
                    db.session.commit()
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    with app.app_context():
        links = db.session.execute(
            select(AuditEvent.prev_hash).where(AuditEvent.kind == "note")
        ).scalars().all()  # fmt: skip
        assert len(links) == 24 and len(set(links)) == 24  # no two events share a parent
    code, output = audit_verify(app)
    assert code == 0, output


def test_the_migration_chains_rows_written_before_it(app, client, staff, submitted):  # noqa: F811
    import flask_migrate

    from onboarding.db.engine import MIGRATIONS

    history(app, client, staff, submitted)
    with app.app_context():
        db.session.remove()
        flask_migrate.downgrade(directory=str(MIGRATIONS), revision="0016")
        flask_migrate.upgrade(directory=str(MIGRATIONS))
        hashes = db.session.execute(select(AuditEvent.hash)).scalars().all()
        assert hashes and all(hashes)
    code, output = audit_verify(app)
    assert code == 0, output
