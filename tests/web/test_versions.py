"""Versions with a redline (issue 13): every send keeps its content and what changed
since the version before; an unchanged agreement is never sent twice; the link of the
version awaiting an answer can be given again."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from onboarding.db import db
from onboarding.db.models import AgreementVersion, AuditEvent, Intake
from tests.factories import answer, login, post, send


@pytest.fixture
def sent(app, client, staff, submitted):
    login(client, staff["manager"])
    return {"token": send(client, submitted), "public_id": submitted}


def versions(app):
    with app.app_context():
        rows = db.session.execute(select(AgreementVersion).order_by(AgreementVersion.number))
        return [
            {"number": v.number, "status": v.status, "content": v.content, "redline": v.redline}
            for v in rows.scalars()
        ]


def ask_for_changes(app, token, comment="Updates twice a week and 3 revision rounds, please"):
    _, response = answer(app, f"/agreement/{token}/changes", {"comment": comment})
    assert response.status_code == 302


def test_the_first_version_keeps_its_content_and_has_no_redline(app, sent):
    [first] = versions(app)
    assert first["redline"] is None
    content = first["content"]
    assert set(content) >= {"resolved_terms", "sections", "draft", "document_id", "sha256"}
    assert content["resolved_terms"]["service_levels"]["revision_rounds"] == 3
    page = app.test_client().get(f"/agreement/{sent['token']}")
    assert "What changed since version" not in page.text


def test_an_unchanged_agreement_is_refused_and_no_version_is_made(app, client, sent):
    ask_for_changes(app, sent["token"])
    url = f"/workspace/intakes/{sent['public_id']}"
    page = client.get(url)
    assert "Nothing changed since version 1." in page.text  # said before anyone presses send
    refused = post(client, url + "/agreement/send", {"paper": "a4"}, url)
    assert refused.status_code == 422  # the page again, saying why, at the agreement
    shown = refused.text
    assert "Nothing changed since version 1: the agreement is the one sent then" in shown
    assert [v["number"] for v in versions(app)] == [1]
    with app.app_context():  # a comment keeps the version open (issue 26)
        assert db.session.execute(select(Intake)).scalar_one().status == "agreement_sent"
    # A different paper is not a change either.
    post(client, url + "/agreement/send", {"paper": "letter"}, url)
    assert [v["number"] for v in versions(app)] == [1]


def test_the_story_of_issue_13_ends_with_a_version_2_that_says_what_changed(app, client, sent):
    """Asked for twice-weekly updates and more rounds; version 2 says so, marked as changed."""
    ask_for_changes(app, sent["token"])
    second = send(client, sent["public_id"], revised=True)  # 4 rounds instead of 3
    first, latest = versions(app)
    assert first["status"] == "superseded" and latest["status"] == "sent"
    red = latest["redline"]
    assert {"term": "Revision rounds", "from": "3", "to": "4"} in red["values"]
    changed = {c["id"]: c for c in red["clauses"]}
    assert changed["included_revisions"]["change"] == "changed"
    assert ["-", "three"] in changed["included_revisions"]["diff"]
    assert ["+", "four"] in changed["included_revisions"]["diff"]

    # The prospect's page: what changed, at the top, before the agreement.
    page = app.test_client().get(f"/agreement/{second}")
    assert page.status_code == 200
    text = page.text
    assert "What changed since version 1" in text
    assert text.index('class="redline"') < text.index('class="cover"')
    assert '<th scope="row">Revision rounds</th>' in text
    assert '<del><span class="visually-hidden">removed: </span>three</del>' in text
    assert '<ins><span class="visually-hidden">added: </span>four</ins>' in text
    assert 'href="#clause-' in text
    assert " style=" not in text and "<style" not in text  # the strict CSP holds
    # The old version's page does not claim any change.
    assert "What changed since" not in app.test_client().get(f"/agreement/{sent['token']}").text

    # The PDF sent: "Changes since version 1" right under the cover (no near-empty page).
    data = app.test_client().get(f"/agreement/{second}/pdf").data
    reader = PdfReader(io.BytesIO(data))
    assert "/StructTreeRoot" in reader.trailer["/Root"]  # still a tagged PDF
    pages = [p.extract_text() for p in reader.pages]
    assert "Changes since version 1" in pages[0]
    assert "Revision rounds" in pages[0] + pages[1]
    assert all("Changes since version" not in p for p in pages[1:])

    # The workspace's list of versions: the count, and a link to see them.
    url = f"/workspace/intakes/{sent['public_id']}"
    listing = client.get(url).text
    count = len(red["values"]) + len(red["clauses"])
    assert f"{count} changes" in listing
    assert f'href="{url}/versions/2/changes"' in listing
    detail = client.get(f"{url}/versions/2/changes")
    assert detail.status_code == 200
    assert "What changed since version 1" in detail.text and "Revision rounds" in detail.text
    assert 'href="#clause-' not in detail.text  # the agreement is not on that page
    assert "nothing to compare" in client.get(f"{url}/versions/1/changes").text
    assert client.get(f"{url}/versions/9/changes").status_code == 404


def test_the_link_is_sent_again_without_a_new_version(app, client, sent):
    url = f"/workspace/intakes/{sent['public_id']}"
    page = client.get(url).text
    assert "Send the link of version 1 again" in page
    again = post(client, url + "/agreement/resend", {}, url)
    assert again.status_code == 302
    shown = client.get(url).text
    assert "The link of version 1 is sent again: we emailed the private link to" in shown
    assert f"/agreement/{sent['token']}" in shown.split("prospect's link: ", 1)[1]
    assert [v["number"] for v in versions(app)] == [1]
    with app.app_context():
        events = db.session.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars().all()
        resent = [e for e in events if e.kind == "agreement_link_resent"]
        assert len(resent) == 1 and resent[0].to_value == "version 1"
    # CSRF: refused without the token.
    assert client.post(url + "/agreement/resend").status_code == 400


def test_a_link_is_not_sent_again_once_the_prospect_answered(app, client, sent):
    # A comment leaves the version open (issue 26); an acceptance answers it.
    _, accepted = answer(
        app, f"/agreement/{sent['token']}/accept", {"name": "Daniel Okafor", "consent": "yes"}
    )
    assert accepted.status_code == 302
    url = f"/workspace/intakes/{sent['public_id']}"
    assert "Send the link of version 1 again" not in client.get(url).text
    refused = post(client, url + "/agreement/resend", {}, url)
    assert "is not waiting for the prospect&#39;s answer" in refused.text
    with app.app_context():
        kinds = [
            e.kind for e in db.session.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars()
        ]
        assert "agreement_link_resent" not in kinds


def test_a_send_prepared_before_another_version_went_out_is_redone(app, client, sent):
    """Prepared (rendered) against version 1, recorded after version 2 was sent: the send
    renders again against the newest version, or is refused when nothing changed."""
    from onboarding.services.agreement import send as agreement_send
    from onboarding.services.intake.workspace import WorkspaceError, intake_by_public_id
    from tests.web.helpers import revise

    ask_for_changes(app, sent["token"])
    revise(app, sent["public_id"])
    with app.app_context():
        intake = intake_by_public_id(sent["public_id"])
        prepared = agreement_send.prepare_send(intake, agency=app.config["AGENCY_NAME"])
        assert prepared.previous_id is not None and prepared.redline is not None
        db.session.rollback()
    # Someone else sends version 2 meanwhile (the same changes).
    url = f"/workspace/intakes/{sent['public_id']}"
    assert post(client, url + "/agreement/send", {"paper": "a4"}, url).status_code == 302
    assert [v["number"] for v in versions(app)] == [1, 2]
    with app.app_context():
        from onboarding.db.models import User

        intake = intake_by_public_id(sent["public_id"])
        user = db.session.execute(select(User)).scalars().first()
        with pytest.raises(WorkspaceError, match="Nothing changed since version 2"):
            agreement_send.send_agreement(
                intake, user, agency=app.config["AGENCY_NAME"], prepared=prepared
            )
        db.session.rollback()
