"""The prospect's acceptance of the agreement, with a record anyone can check."""

from __future__ import annotations

import io

from pypdf import PdfReader
from sqlalchemy import select

from onboarding.db import db
from onboarding.db.models import AgreementMessage, AgreementVersion, AuditEvent, Intake
from tests.factories import answer, csrf_of, login, send, slow_renderer
from tests.web.helpers import make_files


def test_send_view_request_changes_resend_accept(app, client, sent):
    token = sent["token"]
    prospect = app.test_client()
    page = prospect.get(f"/agreement/{token}")
    assert page.status_code == 200
    assert "Harbour Freight Logistics" in page.text and "<svg" in page.text  # with the roadmap
    assert "Accept the agreement" in page.text
    pdf = prospect.get(f"/agreement/{token}/pdf")
    assert pdf.mimetype == "application/pdf"

    _, changed = answer(
        app, f"/agreement/{token}/changes", {"comment": "Fortnightly updates, please"}
    )
    assert changed.status_code == 302
    with app.app_context():
        intake = db.session.execute(select(Intake)).scalar_one()
        assert intake.status == "agreement_sent"  # the version stays open (issue 26)
        assert (
            db.session.execute(select(AgreementMessage)).scalar_one().text.startswith("Fortnightly")
        )
    assert "Fortnightly updates, please" in prospect.get(f"/agreement/{token}").text
    manager_page = client.get(f"/workspace/intakes/{sent['public_id']}")
    assert "Fortnightly updates, please" in manager_page.text

    second = send(client, sent["public_id"], revised=True)
    assert second != token
    _, old = answer(app, f"/agreement/{token}/accept", {"name": "Daniel Okafor", "consent": "yes"})
    assert old.status_code == 422 and "newer version" in old.text

    _, accepted = answer(
        app, f"/agreement/{second}/accept", {"name": "  Daniel   Okafor ", "consent": "yes"}
    )
    assert accepted.status_code == 302
    done = prospect.get(f"/agreement/{second}")
    assert "accepted by Daniel Okafor" in done.text

    with app.app_context():
        version = db.session.execute(
            select(AgreementVersion).where(AgreementVersion.token == second)
        ).scalar_one()
        assert (
            version.status == "accepted"
            and version.accepted_email == "d.okafor@harbourfreight.example"
        )
        assert version.accepted_ip == "127.0.0.1" and version.accepted_at is not None
        seen = version.pdf_sha256
        intake = db.session.execute(select(Intake)).scalar_one()
        assert intake.status == "accepted"
        kinds = [
            e.to_value
            for e in db.session.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars()
            if e.kind == "status"
        ]
        assert kinds == ["agreement_sent", "accepted"]  # a new version is no status move

    final = prospect.get(f"/agreement/{second}/pdf").data
    reader = PdfReader(io.BytesIO(final))
    last = reader.pages[-1].extract_text()
    assert "Certificate of acceptance" in last and "Daniel Okafor" in last
    assert seen in last.replace("\n", "")
    # The manager holds the same bytes.
    mine = client.get(f"/workspace/intakes/{sent['public_id']}/versions/2.pdf?final=1").data
    assert mine == final


def test_acceptance_needs_the_typed_name_and_consent(app, sent):
    _, response = answer(app, f"/agreement/{sent['token']}/accept", {"name": "", "consent": ""})
    assert response.status_code == 422
    assert "Type your full name" in response.text and "Tick the box" in response.text
    _, kept = answer(app, f"/agreement/{sent['token']}/accept", {"name": "Daniel Okafor"})
    assert 'value="Daniel Okafor"' in kept.text  # what was typed stays


def test_a_second_acceptance_is_refused_and_the_record_never_changes(app, sent):
    token = sent["token"]
    _, first = answer(
        app, f"/agreement/{token}/accept", {"name": "Daniel Okafor", "consent": "yes"}
    )
    assert first.status_code == 302
    assert make_files(app) == 1  # the accepted PDF, made after the acceptance
    with app.app_context():
        before = db.session.execute(select(AgreementVersion)).scalar_one()
        record = (before.accepted_name, before.accepted_at, before.final_pdf_sha256)
    _, second = answer(
        app, f"/agreement/{token}/accept", {"name": "Someone Else", "consent": "yes"}
    )
    assert second.status_code == 422 and "already been accepted" in second.text
    _, changes = answer(app, f"/agreement/{token}/changes", {"comment": "late change"})
    assert changes.status_code == 422
    with app.app_context():
        after = db.session.execute(select(AgreementVersion)).scalar_one()
        assert (after.accepted_name, after.accepted_at, after.final_pdf_sha256) == record


def test_an_expired_form_keeps_the_typed_name(app, sent):
    prospect = app.test_client()
    response = prospect.post(
        f"/agreement/{sent['token']}/accept", data={"name": "Daniel Okafor", "consent": "yes"}
    )
    assert response.status_code == 422
    assert "press the button again" in response.text and 'value="Daniel Okafor"' in response.text


def test_links_open_only_their_own_agreement(app, client, sent):
    assert app.test_client().get("/agreement/not-a-token").status_code == 404
    assert app.test_client().get(f"/agreement/{sent['token']}x").status_code == 404


def test_verify_accepts_the_final_pdf_and_rejects_a_modified_copy(app, client, sent):
    token = sent["token"]
    answer(app, f"/agreement/{token}/accept", {"name": "Daniel Okafor", "consent": "yes"})
    final = app.test_client().get(f"/agreement/{token}/pdf").data
    page = client.get("/workspace/verify")
    ok = client.post(
        "/workspace/verify",
        data={"csrf_token": csrf_of(page.text), "pdf": (io.BytesIO(final), "a.pdf")},
        content_type="multipart/form-data",
    )
    assert ok.status_code == 200 and "Genuine: accepted by the client (version 1)." in ok.text
    middle = len(final) // 2
    tampered = final[:middle] + bytes([final[middle] ^ 1]) + final[middle + 1 :]
    bad = client.post(
        "/workspace/verify",
        data={"csrf_token": csrf_of(page.text), "pdf": (io.BytesIO(tampered), "b.pdf")},
        content_type="multipart/form-data",
    )
    assert bad.status_code == 422 and "does not match" in bad.text


def test_verify_command(app, client, sent, tmp_path):
    from onboarding.cli import main

    token = sent["token"]
    answer(app, f"/agreement/{token}/accept", {"name": "Daniel Okafor", "consent": "yes"})
    final = app.test_client().get(f"/agreement/{token}/pdf").data
    good, bad = tmp_path / "good.pdf", tmp_path / "bad.pdf"
    good.write_bytes(final)
    bad.write_bytes(final + b"\n%tampered")
    runner = app.test_cli_runner()
    with app.app_context():
        ok = runner.invoke(main, ["verify", str(good)])
        nok = runner.invoke(main, ["verify", str(bad)])
    assert (
        ok.exit_code == 0
        and "MATCH: accepted by the client (version 1)" in ok.output
        and "Daniel Okafor" in ok.output
    )
    assert nok.exit_code == 1 and "NO MATCH" in nok.output


# --- what the prospect reads is what was sent ----------------------------------------


def test_the_signing_page_shows_the_frozen_agreement_not_todays_settings(
    app, client, sent, monkeypatch
):
    """A page re-composed from today's settings would drift from the PDF that was sent."""
    from onboarding.rendering.pdf import STYLESHEET

    token = sent["token"]
    monkeypatch.setitem(app.config, "AGENCY_NAME", "Renamed Agency Ltd")
    page = app.test_client().get(f"/agreement/{token}")
    assert page.status_code == 200
    assert "Brightline Studio" in page.text and "Renamed Agency Ltd" not in page.text
    assert "Harbour Freight Logistics" in page.text and "<svg" in page.text
    # One document: the banner, the frozen agreement, then the prospect's answer.
    assert page.text.count("<html") == 1 and page.text.count("<main") == 1
    assert page.text.index("signing-banner") < page.text.index("colophon")
    assert page.text.index("colophon") < page.text.index('id="answer"')
    # The stylesheet it links is the one of the day it was sent, kept with the version.
    link = f"/agreement/{token}/agreement.css"
    assert f'href="{link}"' in page.text
    css = app.test_client().get(link)
    assert css.status_code == 200 and css.mimetype == "text/css"
    assert css.text == STYLESHEET.read_text(encoding="utf-8")
    with app.test_client().get(f"/agreement/{token}/fonts/Inter-Regular.otf") as font:
        assert font.status_code == 200 and font.data[:4] == b"OTTO"
    assert app.test_client().get(f"/agreement/{token}/fonts/..%2Fapp.css").status_code == 404
    with app.app_context():
        version = db.session.execute(select(AgreementVersion)).scalar_one()
        assert version.content_sha256 in version.html  # the same content as the PDF


def test_a_stored_pdf_that_fails_its_sha256_is_never_served_nor_accepted(app, client, sent):
    token = sent["token"]
    with app.app_context():
        version = db.session.execute(select(AgreementVersion)).scalar_one()
        middle = len(version.pdf) // 2
        tampered = (
            version.pdf[:middle] + bytes([version.pdf[middle] ^ 1]) + version.pdf[middle + 1 :]
        )
        version.pdf = tampered
        db.session.commit()
    prospect = app.test_client()
    download = prospect.get(f"/agreement/{token}/pdf")
    assert download.status_code == 500 and download.mimetype == "text/html"
    assert b"%PDF" not in download.data
    mine = client.get(f"/workspace/intakes/{sent['public_id']}/versions/1.pdf")
    assert mine.status_code == 500 and b"%PDF" not in mine.data
    _, accepted = answer(
        app, f"/agreement/{token}/accept", {"name": "Daniel Okafor", "consent": "yes"}
    )
    assert accepted.status_code == 500
    with app.app_context():
        version = db.session.execute(select(AgreementVersion)).scalar_one()
        assert version.status == "sent" and version.final_pdf is None


def test_a_version_sent_before_pages_were_frozen_offers_its_pdf(app, client, sent, monkeypatch):
    """Versions sent before the page was stored show the PDF sent, never a re-composition."""
    from sqlalchemy import text

    token = sent["token"]
    with app.app_context():
        db.session.execute(
            text(
                "UPDATE agreement_versions SET html = NULL, title = NULL, stylesheet = NULL, "
                "page_sha256 = NULL"
            )
        )
        db.session.commit()
    monkeypatch.setitem(app.config, "AGENCY_NAME", "Renamed Agency Ltd")
    page = app.test_client().get(f"/agreement/{token}")
    assert page.status_code == 200
    assert "Renamed Agency Ltd" not in page.text and "<svg" not in page.text
    assert f'href="/agreement/{token}/pdf"' in page.text and "Accept the agreement" in page.text
    _, accepted = answer(
        app, f"/agreement/{token}/accept", {"name": "Daniel Okafor", "consent": "yes"}
    )
    assert accepted.status_code == 302
    assert "accepted by Daniel Okafor" in app.test_client().get(f"/agreement/{token}").text


# --- rendering never holds the database's write lock --------------------------------


def test_a_send_renders_while_others_can_still_write(app, client, staff, submitted, monkeypatch):
    from onboarding.db.models import RenderedPdf

    login(client, staff["manager"])
    slow = slow_renderer(
        app,
        monkeypatch,
        "UPDATE intakes SET updated_at = updated_at WHERE public_id = :p",
        {"p": submitted},
    )
    token = send(client, submitted)
    assert slow.writes == ["ok"]  # rendered once, and the database stayed writable meanwhile
    with app.app_context():
        version = db.session.execute(select(AgreementVersion)).scalar_one()
        assert version.token == token and version.intake.status == "agreement_sent"
        cached = db.session.execute(select(RenderedPdf)).scalar_one()
        # the version is the cached render, sealed (its signature appended after it)
        assert cached.intake_id == version.intake_id and version.pdf.startswith(cached.pdf)


def test_an_acceptance_renders_while_others_can_still_write(app, sent, monkeypatch):
    token = sent["token"]
    slow = slow_renderer(
        app,
        monkeypatch,
        "UPDATE agreement_versions SET accepted_ip = accepted_ip WHERE token = :t",
        {"t": token},
    )
    _, accepted = answer(
        app, f"/agreement/{token}/accept", {"name": "Daniel Okafor", "consent": "yes"}
    )
    assert accepted.status_code == 302
    make_files(app)
    assert slow.writes == ["ok"]  # the certificate page, rendered outside the write
    with app.app_context():
        version = db.session.execute(select(AgreementVersion)).scalar_one()
        assert version.status == "accepted" and version.final_pdf is not None
        last = PdfReader(io.BytesIO(version.final_pdf)).pages[-1].extract_text()
        assert version.accepted_at.strftime("%Y-%m-%d %H:%M:%S UTC") in last


def test_accepting_and_asking_for_changes_use_the_one_status_change(app, client, sent, monkeypatch):
    """The prospect's answers move the status through workspace.change_status."""
    from onboarding.services.agreement import answers
    from onboarding.services.agreement import send as sending
    from onboarding.services.intake import workspace

    calls = []
    real = workspace.change_status

    def spy(intake, target, user, *args, **kwargs):
        calls.append(target)
        return real(intake, target, user, *args, **kwargs)

    monkeypatch.setattr(workspace, "change_status", spy)
    monkeypatch.setattr(answers, "change_status", spy, raising=False)
    monkeypatch.setattr(sending, "change_status", spy, raising=False)
    token = sent["token"]
    answer(app, f"/agreement/{token}/changes", {"comment": "Fortnightly updates, please"})
    second = send(client, sent["public_id"], revised=True)
    answer(app, f"/agreement/{second}/accept", {"name": "Daniel Okafor", "consent": "yes"})
    assert calls == ["accepted"]  # a comment keeps the version open (issue 26)
    with app.app_context():
        events = db.session.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars().all()
        assert [(e.kind, e.to_value) for e in events if e.kind == "status"] == [
            ("status", "agreement_sent"),
            ("status", "accepted"),
        ]
        assert ("prospect_commented", "version 1") in [(e.kind, e.to_value) for e in events]
        details = " ".join(e.detail or "" for e in events)
        assert "changes requested by the prospect" in details
        assert "accepted by Daniel Okafor" in details
