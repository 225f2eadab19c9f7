"""The client chooses options on the agreement page (shared/spec/proposal.md): the
proposal first, the options with quantities and their total (without JavaScript too),
then acceptance; the choice is frozen with it and shows in the accepted PDF, the
version JSON and the history. Choosing none works."""

from __future__ import annotations

import io

from pypdf import PdfReader
from sqlalchemy import select

from onboarding.db import db
from onboarding.db.models import AgreementVersion, AuditEvent
from onboarding.services.agreement import files
from tests.factories import answer


def version_of(app, token):
    with app.app_context():
        version = db.session.execute(
            select(AgreementVersion).where(AgreementVersion.token == token)
        ).scalar_one()
        db.session.expunge(version)
        return version


def accepted_text(app, token) -> str:
    with app.app_context():
        version = db.session.execute(
            select(AgreementVersion).where(AgreementVersion.token == token)
        ).scalar_one()
        files.ensure_file(version.id, "accepted")
        version = db.session.execute(
            select(AgreementVersion).where(AgreementVersion.token == token)
        ).scalar_one()
        pages = PdfReader(io.BytesIO(version.final_pdf)).pages
        return " ".join(" ".join((p.extract_text() or "").split()) for p in pages)


def test_the_page_opens_with_the_proposal_then_the_agreement_and_its_options(app, sent):
    page = app.test_client().get(f"/agreement/{sent['token']}")
    assert page.status_code == 200
    text = page.text
    assert text.index("Our proposal for Harbour Freight Logistics") < text.index("Scope and fees")
    assert "What we heard" in text and "This offer stands until" in text
    assert 'name="option" type="checkbox" value="priority_replies"' in text
    assert 'name="quantity.extra_revision_round"' in text
    assert "The options add" in text and "Update the total" in text
    letter = app.test_client().get(f"/agreement/{sent['token']}/proposal.pdf")
    assert letter.status_code == 200 and letter.mimetype == "application/pdf"
    pages = PdfReader(io.BytesIO(letter.data)).pages
    assert 2 <= len(pages) <= 4
    assert "Priority replies" in " ".join(p.extract_text() or "" for p in pages)


def test_without_javascript_the_choice_posts_and_the_total_comes_back(app, sent):
    token = sent["token"]
    data = {
        "option": ["priority_replies", "extra_revision_round"],
        "quantity.extra_revision_round": "2",
        "name": "Daniel Okafor",
    }
    _, page = answer(app, f"/agreement/{token}/choose", data)
    assert page.status_code == 200
    assert "£1,200.00</output> once and" in page.text
    assert "£450.00</output> a month" in page.text
    assert 'value="Daniel Okafor"' in page.text  # what was typed is kept
    _, bad = answer(
        app,
        f"/agreement/{token}/choose",
        {"option": "extra_revision_round", "quantity.extra_revision_round": "40"},
    )
    assert bad.status_code == 422 and "At most 6 of Extra revision round" in bad.text
    assert version_of(app, token).accepted_at is None  # nothing recorded


def test_two_options_chosen_are_frozen_with_the_acceptance_and_in_the_accepted_pdf(
    app, sent, tmp_path
):
    token = sent["token"]
    data = {
        "option": ["priority_replies", "extra_revision_round"],
        "quantity.extra_revision_round": "2",
        "name": "Daniel Okafor",
        "consent": "yes",
    }
    _, response = answer(app, f"/agreement/{token}/accept", data)
    assert response.status_code == 302, response.text
    version = version_of(app, token)
    assert version.options_chosen == [
        {"id": "priority_replies", "quantity": 1},
        {"id": "extra_revision_round", "quantity": 2},
    ]
    text = accepted_text(app, token)
    assert "Priority replies: £450.00 a month (replies within four working hours)" in text
    assert "Extra revision round: 2 rounds at £600.00 each: £1,200.00" in text
    assert "None chosen" not in text
    assert "Options chosen by the Client" in text  # named in the certificate too
    final = app.test_client().get(f"/agreement/{token}/pdf").data
    (tmp_path / "accepted.pdf").write_bytes(final)
    from onboarding.cli import main

    with app.app_context():
        verified = app.test_cli_runner().invoke(main, ["verify", str(tmp_path / "accepted.pdf")])
    assert verified.exit_code == 0, verified.output
    assert "options chosen: Priority replies: £450.00 a month" in verified.output
    assert "Extra revision round: 2 rounds at £600.00 each: £1,200.00" in verified.output
    with app.app_context():
        event = db.session.execute(
            select(AuditEvent).where(AuditEvent.kind == "options_chosen")
        ).scalar_one()
        assert event.to_value == "Priority replies, Extra revision round \u00d72"


def test_choosing_none_works(app, sent):
    token = sent["token"]
    _, response = answer(
        app, f"/agreement/{token}/accept", {"name": "Daniel Okafor", "consent": "yes"}
    )
    assert response.status_code == 302
    assert version_of(app, token).options_chosen == []
    text = accepted_text(app, token)
    assert "Options None chosen" in text or "None chosen" in text
    assert "Priority replies: £450.00 a month (" not in text


def test_an_option_not_offered_is_refused_naming_the_options(app, sent):
    _, response = answer(
        app,
        f"/agreement/{sent['token']}/accept",
        {"option": "teleportation", "name": "Daniel Okafor", "consent": "yes"},
    )
    assert response.status_code == 422
    assert "Teleportation is not one of the options offered" in response.text
    assert 'id="accept-options-error"' in response.text
