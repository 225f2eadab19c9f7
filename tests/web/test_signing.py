"""Signing, both sides: the client's signature (a stand-in gives a title and confirms
authority), signing rights granted by admins, the agency's countersignature, the three
files we issue and what `onboarding verify` says of each, and the webhook events."""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader
from sqlalchemy import select, text

from onboarding.db import db
from onboarding.db.models import AgreementVersion, AuditEvent, Intake, User, WebhookDelivery
from onboarding.services.agreement import answers, versions
from onboarding.services.intake.workspace import WorkspaceError
from tests.factories import (
    STAND_IN,
    answer,
    countersign,
    csrf_of,
    grant,
    login,
    post,
    send,
    slow_renderer,
    verify_cli,
    version_row,
)

ACCEPT = {"name": "Daniel Okafor", "consent": "yes"}


def text_of(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


# --- the client's signature ---------------------------------------------------------------


def test_a_signer_who_is_not_the_contact_gives_a_title_and_confirms_authority(app, sent):
    token = sent["token"]
    _, refused = answer(
        app, f"/agreement/{token}/accept", {"name": "Grace Hopper", "consent": "yes"}
    )
    assert refused.status_code == 422
    # Each error names its field, beside the field it is about.
    assert (
        'id="accept-title-error"' in refused.text and 'id="accept-authority-error"' in refused.text
    )
    assert "Give your job title: you are signing instead of Daniel Okafor" in refused.text
    assert (
        "Tick the box to confirm you have authority to sign for Harbour Freight Logistics"
        in refused.text
    )
    assert 'value="Grace Hopper"' in refused.text  # what was typed stays
    assert version_row(app).status == "sent"

    _, accepted = answer(app, f"/agreement/{token}/accept", STAND_IN)
    assert accepted.status_code == 302
    version = version_row(app)
    assert (version.accepted_name, version.accepted_title, version.accepted_authority) == (
        "Grace Hopper",
        "Chief Operating Officer",
        True,
    )
    pages = text_of(version.final_pdf)
    # The frozen document re-rendered: its signature block carries the client's signature.
    signatures = next(p for p in pages if "For Harbour Freight Logistics" in p)
    client_block = signatures.split("For Harbour Freight Logistics", 1)[1].split("For ", 1)[0]
    assert "Grace Hopper" in client_block and "Chief Operating Officer" in client_block
    assert version.accepted_at.strftime("%Y-%m-%d %H:%M:%S UTC") in client_block
    certificate = pages[-1].replace("\n", " ")
    assert "Certificate of acceptance" in certificate
    assert "This file came from version 1, PDF SHA-256" in certificate
    assert version.pdf_sha256 in pages[-1].replace("\n", "")  # the sent PDF it came from
    assert "Confirmed by the signer" in certificate and "Chief Operating Officer" in certificate


def test_the_errors_of_an_acceptance_are_keyed_by_field(app, sent):
    with app.app_context():
        version = db.session.execute(select(AgreementVersion)).scalar_one()
        with pytest.raises(WorkspaceError) as refused:
            answers.check_acceptance(
                version, answers.Acceptance("Grace Hopper", False, "127.0.0.1", "test")
            )
        assert list(refused.value.errors) == ["title", "authority", "consent"]
        with pytest.raises(WorkspaceError) as long_title:
            answers.check_acceptance(
                version,
                answers.Acceptance("Grace Hopper", True, "", "", title="x" * 121, authority=True),
            )
        assert list(long_title.value.errors) == ["title"]
        # The contact, however they type their name, needs neither.
        clean = answers.check_acceptance(
            version, answers.Acceptance("  daniel   OKAFOR ", True, "", "")
        )
        assert clean == {
            "name": "daniel OKAFOR",
            "title": None,
            "authority": None,
            # not posted: the client's details as the version was sent with them
            "legal_name": "Harbour Freight Logistics Ltd",
            "address": "Unit 4, Dockside Park, Southampton SO14 3GG, United Kingdom",
        }


def test_the_contact_accepts_with_the_name_alone(app, sent):
    _, accepted = answer(app, f"/agreement/{sent['token']}/accept", ACCEPT)
    assert accepted.status_code == 302
    version = version_row(app)
    assert version.accepted_title is None and version.accepted_authority is None
    signatures = next(p for p in text_of(version.final_pdf) if "For Harbour Freight" in p)
    assert "Head of Marketing" in signatures  # the title the document prints stays


# --- signing rights -------------------------------------------------------------------------


def test_only_admins_grant_signing_rights_and_never_without_a_title(app, client, staff):
    with app.app_context():
        manager_id = db.session.execute(
            select(User.id).where(User.email == staff["manager"])
        ).scalar_one()
    url = f"/workspace/users/{manager_id}/signing"
    login(client, staff["manager"])
    assert post(client, url, {"can_sign": "1", "title": "Boss"}).status_code == 403

    admin = app.test_client()
    login(admin, staff["admin"])
    refused = post(admin, url, {"can_sign": "1", "title": " ", "name": "Max Manager"})
    assert refused.status_code == 422  # the page again, the error by the field (issue 26)
    page = refused.text
    assert "Give manager@example.com a title before granting signing rights" in page
    # The refused save keeps every field of its row, the box included (issue 26).
    row = page.split(f'id="signing-{manager_id}"', 1)[1].split("</td>", 1)[0]
    assert f'id="signing-title-error-{manager_id}"' in row
    assert f'id="signing-can-{manager_id}" name="can_sign" value="1" checked' in row
    assert 'value="Max Manager"' in row
    assert f'href="#signing-title-{manager_id}"' in page  # the summary leads to the field
    granted = post(
        admin, url, {"can_sign": "1", "title": "Account Director", "name": "Max Manager"}
    )
    assert granted.status_code == 302
    with app.app_context():
        user = db.session.get(User, manager_id)
        assert (user.can_sign, user.title, user.name) == (True, "Account Director", "Max Manager")
    with app.app_context():
        rows = db.session.execute(
            select(AuditEvent).where(AuditEvent.kind == "signing_rights").order_by(AuditEvent.id)
        ).scalars().all()  # fmt: skip
        assert rows and all(r.detail == "manager@example.com" for r in rows)
        assert rows[0].from_value.startswith("cannot sign")
        assert rows[0].to_value == "can sign (Max Manager, Account Director)"
        assert all(r.user.email == "admin@example.com" for r in rows)
    assert "May countersign agreements" in admin.get("/workspace/users").text


def test_granting_rights_without_a_name_is_refused_too(app, staff):
    from onboarding.services.people.accounts import AccountError, set_signing, user_by_email

    with app.app_context():
        manager, admin = user_by_email(staff["manager"]), user_by_email(staff["admin"])
        with pytest.raises(AccountError) as refused:
            set_signing(manager, admin, can_sign=True, title="Director", name="")
        assert refused.value.field == "name"
        with pytest.raises(AccountError) as too_long:
            set_signing(manager, admin, can_sign=False, title="x" * 121)
        assert too_long.value.field == "title"


# --- the agency's countersignature ----------------------------------------------------------


def test_countersigning_is_refused_without_signing_rights_and_says_why(app, client, accepted):
    public_id = accepted["public_id"]
    page = client.get(f"/workspace/intakes/{public_id}").text
    assert "You cannot countersign this agreement." in page
    assert "You do not have signing rights: an admin grants them" in page
    assert "Countersign for the agency</button>" not in page
    refused = countersign(client, public_id)  # refused: the page again, saying why (422)
    assert refused.status_code == 422
    assert "You do not have signing rights" in refused.text
    version = version_row(app)
    assert version.countersigned_at is None and version.signed_pdf is None
    with app.app_context():
        assert db.session.execute(select(Intake.status)).scalar_one() == "accepted"

    # Rights without a title cannot be used either (set behind the page's back).
    with app.app_context():
        db.session.execute(text("UPDATE users SET can_sign = :t, title = NULL"), {"t": True})
        db.session.commit()
    page = client.get(f"/workspace/intakes/{public_id}").text
    assert "Your account has no title, which the countersignature shows" in page
    countersign(client, public_id)
    assert version_row(app).countersigned_at is None


def test_countersigning_completes_the_agreement_and_verify_names_each_file(
    app, client, accepted, tmp_path
):
    public_id, token = accepted["public_id"], accepted["token"]
    grant(app, "manager@example.com")
    page = client.get(f"/workspace/intakes/{public_id}").text
    assert "Countersign for the agency</button>" in page
    assert "as <strong>Max Manager, Account Director</strong>" in page
    done = countersign(client, public_id)
    assert done.status_code == 302
    assert "Version 1 is countersigned" in client.get(f"/workspace/intakes/{public_id}").text

    version = version_row(app)
    with app.app_context():
        intake = db.session.execute(select(Intake)).scalar_one()
        assert intake.status == "signed"
        events = db.session.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars().all()
        status = [(e.to_value, e.detail) for e in events if e.kind == "status"]
        assert status[-1] == ("signed", "countersigned by Max Manager, Account Director")
        (audit,) = [e for e in events if e.kind == "agreement_countersigned"]
        assert audit.user.email == "manager@example.com" and audit.to_value == "version 1"
        assert version.final_pdf_sha256 in audit.detail  # the accepted file it signs
        (made,) = [e for e in events if e.kind == "signed_pdf_made"]  # then, by the worker
        assert version.signed_pdf_sha256 in made.detail and made.to_value == "version 1"
    assert version.countersigned_name == "Max Manager"
    assert version.countersigned_title == "Account Director"
    assert version.countersigned_ip == "127.0.0.1" and version.countersigned_user_agent
    assert version.countersigned_at.tzinfo is not None
    assert version.countersigned_by_id is not None
    assert versions.sha256(version.signed_pdf) == version.signed_pdf_sha256

    pages = text_of(version.signed_pdf)
    signatures = next(p for p in pages if "For Harbour Freight Logistics" in p)
    assert "Grace Hopper" in signatures and "Max Manager" in signatures
    assert "Account Director" in signatures and "Chief Operating Officer" in signatures
    certificate = pages[-1].replace("\n", "")
    assert "Certificate of signature" in certificate
    for fact in (
        version.pdf_sha256,  # the version it came from
        version.final_pdf_sha256,  # the accepted file it came from
        version.accepted_at.strftime("%Y-%m-%d %H:%M:%S UTC"),
        version.countersigned_at.strftime("%Y-%m-%d %H:%M:%S UTC"),
        "Grace Hopper",
        "Max Manager",
        "127.0.0.1",
    ):
        assert fact in certificate, fact

    # The client's link and the workspace give the same signed bytes.
    assert app.test_client().get(f"/agreement/{token}/pdf").data == version.signed_pdf
    mine = client.get(f"/workspace/intakes/{public_id}/versions/1.pdf?signed=1")
    assert mine.data == version.signed_pdf and "signed.pdf" in mine.headers["Content-Disposition"]
    assert "countersigned by the agency" in app.test_client().get(f"/agreement/{token}").text

    files = {
        "sent": version.pdf,
        "accepted": version.final_pdf,
        "signed": version.signed_pdf,
    }
    said = {}
    for kind, data in files.items():
        path = tmp_path / f"{kind}.pdf"
        path.write_bytes(data)
        code, output = verify_cli(app, path)
        assert code == 0, output
        said[kind] = output
    assert said["sent"].startswith("MATCH: sent (version 1): agreement")
    assert said["accepted"].startswith("MATCH: accepted by the client (version 1): agreement")
    assert said["signed"].startswith("MATCH: fully signed (version 1): agreement")
    assert "countersigned by Max Manager, Account Director" in said["signed"]
    tampered = tmp_path / "tampered.pdf"
    tampered.write_bytes(version.signed_pdf + b"\n%changed")
    code, output = verify_cli(app, tampered)
    assert code == 1 and output.startswith("NO MATCH")

    # The workspace's Verify page says the same.
    form = client.get("/workspace/verify")
    checked = client.post(
        "/workspace/verify",
        data={"csrf_token": csrf_of(form.text), "pdf": (io.BytesIO(version.signed_pdf), "s.pdf")},
        content_type="multipart/form-data",
    )
    assert checked.status_code == 200 and "Genuine: fully signed (version 1)." in checked.text

    # A second countersignature is refused; nothing changes.
    again = countersign(client, public_id)
    assert again.status_code == 422
    assert version_row(app).signed_pdf_sha256 == version.signed_pdf_sha256


def test_a_countersignature_renders_while_others_can_still_write(
    app, client, accepted, monkeypatch
):
    grant(app, "manager@example.com")
    slow = slow_renderer(
        app,
        monkeypatch,
        "UPDATE agreement_versions SET accepted_ip = accepted_ip WHERE token = :t",
        {"t": accepted["token"]},
    )
    assert countersign(client, accepted["public_id"]).status_code == 302
    assert slow.writes == ["ok"]  # one render, outside the write transaction
    assert version_row(app).signed_pdf is not None


def test_the_signed_status_is_never_set_by_hand(app, client, accepted):
    url = f"/workspace/intakes/{accepted['public_id']}"
    post(client, url + "/status", {"status": "signed"}, url)
    with app.app_context():
        assert db.session.execute(select(Intake.status)).scalar_one() == "accepted"


# --- a version sent before pages were kept ----------------------------------------------------


def test_a_version_without_its_page_gets_a_signature_page_after_the_pages_sent(
    app, client, sent, tmp_path
):
    with app.app_context():
        db.session.execute(
            text(
                "UPDATE agreement_versions SET html = NULL, title = NULL, stylesheet = NULL, "
                "page_sha256 = NULL"
            )
        )
        db.session.commit()
    _, response = answer(app, f"/agreement/{sent['token']}/accept", STAND_IN)
    assert response.status_code == 302
    grant(app, "manager@example.com")
    assert countersign(client, sent["public_id"]).status_code == 302
    version = version_row(app)
    shown = PdfReader(io.BytesIO(version.pdf)).pages
    for data, extra in ((version.final_pdf, 2), (version.signed_pdf, 2)):
        pages = PdfReader(io.BytesIO(data)).pages
        assert len(pages) == len(shown) + extra
        # The pages as sent, unchanged, then the signature page and the certificate.
        assert [p.extract_text() for p in pages[: len(shown)]] == [p.extract_text() for p in shown]
        assert "Grace Hopper" in pages[len(shown)].extract_text()
    last = text_of(version.signed_pdf)[-1]
    assert "a page with both signatures" in " ".join(last.split())
    assert version.final_pdf_sha256 in last.replace("\n", "")
    assert "Appended page 2 of 2" in last
    path = tmp_path / "signed.pdf"
    path.write_bytes(version.signed_pdf)
    assert verify_cli(app, path)[1].startswith("MATCH: fully signed (version 1)")


# --- the CLI prints what it is given safely ---------------------------------------------------


def test_verify_escapes_control_characters(app, accepted, tmp_path):
    with app.app_context():
        db.session.execute(
            text("UPDATE intakes SET company = :c"), {"c": "Evil\x1b[2J\u202eCorp\nLine"}
        )
        db.session.execute(
            text("UPDATE agreement_versions SET accepted_name = :n"), {"n": "A\x07B"}
        )
        db.session.commit()
    path = tmp_path / "accepted.pdf"
    path.write_bytes(version_row(app).final_pdf)
    code, output = verify_cli(app, path)
    assert code == 0
    assert "\x1b" not in output and "\u202e" not in output and "\x07" not in output
    assert "Evil\\u001b[2J\\u202eCorp\\u000aLine" in output and "A\\u0007B" in output


# --- webhook events ---------------------------------------------------------------------------


class Recorder:
    """A webhook dispatcher that only records what it is handed."""

    def __init__(self):
        self.handed: list[list[int]] = []

    def enqueue(self, ids, at=None, *, channel="email"):
        if channel == "webhook":
            self.handed.append(list(ids))

    def stop(self, timeout=10):
        pass


@pytest.fixture
def hooks(app):
    """An endpoint subscribed to the agreement's events; deliveries recorded, not sent."""
    from onboarding.integrations import webhooks

    saved_dispatcher, saved_private = (
        app.extensions["outbox"],
        app.config["WEBHOOK_ALLOW_PRIVATE"],
    )
    saved_dispatcher.stop()
    app.extensions["outbox"] = Recorder()
    app.config["WEBHOOK_ALLOW_PRIVATE"] = True
    with app.app_context():
        webhooks.create_endpoint(
            "http://127.0.0.1:9/hook",
            [e for e in webhooks.EVENTS if e.startswith("agreement.")],
            "agreement events",
            None,
            True,
        )
        db.session.commit()
    yield app
    app.extensions["outbox"] = saved_dispatcher
    app.config["WEBHOOK_ALLOW_PRIVATE"] = saved_private


def fired(app) -> list[str]:
    with app.app_context():
        return list(
            db.session.execute(select(WebhookDelivery.event).order_by(WebhookDelivery.id)).scalars()
        )


def test_the_agreement_fires_its_webhook_events(app, client, staff, submitted, hooks):
    import json

    from onboarding.integrations import webhooks

    assert [e for e in webhooks.EVENTS if e.startswith("agreement.")] == [
        "agreement.sent",
        "agreement.changes_requested",
        "agreement.accepted",
        "agreement.signed",
    ]
    login(client, staff["manager"])
    first = send(client, submitted)
    assert fired(app) == ["agreement.sent"]
    answer(app, f"/agreement/{first}/changes", {"comment": "Fortnightly updates, please"})
    assert fired(app) == ["agreement.sent", "agreement.changes_requested"]
    with app.app_context():  # change the terms, so that a new version can be sent
        from onboarding.services.agreement import terms as agreement_terms
        from onboarding.services.intake import workspace

        intake = workspace.intake_by_public_id(submitted)
        terms = dict(agreement_terms.stored_terms(intake))
        terms["fee"] = {"model": "fixed", "amount": "90000.00"}
        agreement_terms.save_terms(intake, terms, None)
        db.session.commit()
    url = f"/workspace/intakes/{submitted}"
    assert post(client, url + "/agreement/send", {"paper": "a4"}, url).status_code == 302
    second = version_row(app).token
    answer(app, f"/agreement/{second}/accept", ACCEPT)
    grant(app, "manager@example.com")
    countersign(client, submitted, 2)
    assert fired(app) == [
        "agreement.sent",
        "agreement.changes_requested",
        "agreement.sent",
        "agreement.accepted",
        "agreement.signed",
    ]
    with app.app_context():
        last = db.session.execute(
            select(WebhookDelivery).order_by(WebhookDelivery.id.desc())
        ).scalars().first()  # fmt: skip
        body = json.loads(last.payload)
    assert body["event"] == "agreement.signed"
    assert body["data"]["intake"]["status"] == "signed"
    assert re.fullmatch(r"evt_[\w-]+", body["id"])
