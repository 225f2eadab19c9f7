"""Forgetting a prospect: delete an intake with all its data; purge stale drafts."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from onboarding.db import db
from onboarding.db.models import (
    Assessment,
    AuditEvent,
    Intake,
    Note,
    RenderedPdf,
    utcnow,
)
from onboarding.services.intake.submission import create_intake
from tests.factories import login, post


def count(model):
    return db.session.execute(select(func.count()).select_from(model)).scalar()


def test_an_admin_deletes_an_intake_and_everything_derived(app, client, staff, submitted):
    login(client, staff["admin"])
    url = f"/workspace/intakes/{submitted}"
    post(client, url + "/notes", {"note": "Call Tuesday"}, url)
    post(client, url + "/status", {"status": "in_review"}, url)
    client.get(url + "/agreement.pdf")  # cached render
    with app.app_context():
        assert count(RenderedPdf) == 1 and count(Note) == 1
    wrong = post(client, url + "/delete", {"confirm": "someone else"}, url)
    assert wrong.status_code == 422 and 'value="someone else"' in wrong.text
    assert client.get(url).status_code == 200
    done = post(client, url + "/delete", {"confirm": "harbour freight logistics"}, url)
    assert done.status_code == 302
    assert client.get(url).status_code == 404
    with app.app_context():
        assert count(Intake) == count(Assessment) == count(Note) == count(RenderedPdf) == 0
        events = db.session.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars().all()
        assert [e.kind for e in events] == ["intake_deleted"]
        assert "Harbour" not in (events[0].detail or "") and events[0].intake_id is None


def test_a_manager_cannot_delete(client, staff, submitted):
    login(client, staff["manager"])
    url = f"/workspace/intakes/{submitted}"
    assert (
        post(client, url + "/delete", {"confirm": "harbour freight logistics"}, url).status_code
        == 403
    )


def test_purge_drafts_deletes_only_stale_drafts(app, submitted):
    from onboarding.cli import main

    with app.app_context():
        old = create_intake({"company": "Old Draft Ltd"})
        fresh = create_intake({"company": "Fresh Draft Ltd"})
        db.session.flush()
        old.updated_at = utcnow() - timedelta(days=120)
        db.session.commit()
        fresh_id = fresh.id
    runner = app.test_cli_runner()
    with app.app_context():
        result = runner.invoke(main, ["purge-drafts", "--days", "90"])
    assert result.exit_code == 0 and "Deleted 1 draft" in result.output
    with app.app_context():
        companies = {i.company for i in db.session.execute(select(Intake)).scalars()}
        assert companies == {"Fresh Draft Ltd", "Harbour Freight Logistics"}
        assert db.session.get(Intake, fresh_id) is not None


def test_deleting_an_intake_removes_its_cached_pdfs_after_the_agency_name_changed(
    app,
    client,
    staff,
    submitted,
    monkeypatch,
):
    """Cached renders belong to their intake: found without re-composing the agreement."""
    login(client, staff["admin"])
    url = f"/workspace/intakes/{submitted}"
    assert client.get(url + "/agreement.pdf").status_code == 200
    assert client.get(url + "/agreement.pdf?paper=letter").status_code == 200
    with app.app_context():
        assert count(RenderedPdf) == 2
    monkeypatch.setitem(app.config, "AGENCY_NAME", "Renamed Agency Ltd")
    done = post(client, url + "/delete", {"confirm": "harbour freight logistics"}, url)
    assert done.status_code == 302
    with app.app_context():
        assert count(Intake) == 0 and count(RenderedPdf) == 0


def test_a_database_delete_of_an_intake_cascades_to_its_cached_pdfs(app, client, staff, submitted):
    """ON DELETE CASCADE: even a delete outside the app leaves no cached render behind."""
    from sqlalchemy import text

    login(client, staff["admin"])
    client.get(f"/workspace/intakes/{submitted}/agreement.pdf")
    with app.app_context():
        assert count(RenderedPdf) == 1
        for table in ("audit_events", "agreement_versions", "webhook_deliveries"):
            db.session.execute(text(f"DELETE FROM {table}"))  # noqa: S608 - our table names
        db.session.execute(text("DELETE FROM intakes WHERE public_id = :p"), {"p": submitted})
        db.session.commit()
        assert count(RenderedPdf) == 0
