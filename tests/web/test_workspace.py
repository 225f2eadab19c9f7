"""The account managers' workspace: sign-in, access control, acting on an intake."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from onboarding.db import db
from onboarding.db.models import (
    ActionCheck,
    Assessment,
    AuditEvent,
    Intake,
    Invite,
    Note,
    User,
    utcnow,
)
from tests.factories import PASSWORD, csrf_of, login, post
from tests.web.helpers import Prospect


def test_every_workspace_page_needs_a_signed_in_user(app, client, submitted):
    rules = [r for r in app.url_map.iter_rules() if r.rule.startswith("/workspace")]
    assert len(rules) >= 10
    for rule in rules:
        url = rule.rule.replace("<public_id>", submitted).replace("<action_id>", "x")
        url = url.replace("<int:invite_id>", "1").replace("<int:user_id>", "1")
        url = url.replace("<int:number>", "1").replace("<int:endpoint_id>", "1")
        url = url.replace("<int:token_id>", "1").replace("<int:delivery_id>", "1")
        url = url.replace("<int:message_id>", "1")
        if "GET" in rule.methods:
            response = client.get(url)
            assert response.status_code == 302, url
            assert "/login" in response.headers["Location"]
        if "POST" in rule.methods:
            assert client.post(url).status_code in (302, 400), url


def test_a_prospect_token_opens_no_workspace_page(client, submitted):
    prospect = Prospect(client)
    prospect.start()
    response = client.get(f"/workspace/intakes/{submitted}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_sign_in_and_out(client, staff):
    assert client.get("/workspace/").status_code == 302
    response = login(client, staff["manager"])
    assert response.status_code == 302 and response.headers["Location"] == "/workspace/"
    assert client.get("/workspace/").status_code == 200
    out = post(client, "/logout")
    assert out.status_code == 302
    assert client.get("/workspace/").status_code == 302


def test_a_wrong_password_is_refused_with_a_plain_message(client, staff):
    response = login(client, staff["manager"], "wrong password")
    assert response.status_code == 401
    assert "email address or password is not right" in response.text
    assert login(client, "nobody@example.com").status_code == 401


def test_the_eleventh_failed_login_is_refused_with_429(client, staff):
    env = {"REMOTE_ADDR": "10.20.30.40"}
    codes = [
        login(client, staff["manager"], "wrong", environ_base=env).status_code for _ in range(11)
    ]
    assert codes == [401] * 10 + [429]
    assert login(client, staff["manager"], environ_base=env).status_code == 429


def test_login_does_not_redirect_to_another_site(client, staff):
    page = client.get("/login")
    response = client.post(
        "/login?next=https://evil.example/x",
        data={"email": staff["manager"], "password": PASSWORD, "csrf_token": csrf_of(page.text)},
    )
    assert response.headers["Location"] == "/workspace/"


def test_only_admins_manage_users(client, staff):
    login(client, staff["manager"])
    assert client.get("/workspace/users").status_code == 403
    post(client, "/logout")
    login(client, staff["admin"])
    page = client.get("/workspace/users")
    assert page.status_code == 200 and "manager@example.com" in page.text
    created = post(
        client,
        "/workspace/users",
        {"email": "new@example.com", "role": "manager"},
        "/workspace/users",
    )
    assert created.status_code == 200 and "shown once" in created.text
    bad = post(client, "/workspace/users", {"email": "x", "role": "manager"}, "/workspace/users")
    assert bad.status_code == 422 and "valid email" in bad.text


def test_a_disabled_user_is_signed_out(app, client, staff):
    other = app.test_client()
    login(other, staff["manager"])
    assert other.get("/workspace/").status_code == 200
    login(client, staff["admin"])
    with app.app_context():
        manager_id = db.session.execute(
            select(User.id).where(User.email == staff["manager"])
        ).scalar_one()
    post(client, f"/workspace/users/{manager_id}/active", {"active": "0"}, "/workspace/users")
    assert other.get("/workspace/").status_code == 302


def test_the_detail_page_explains_the_score(client, staff, submitted):
    login(client, staff["manager"])
    page = client.get(f"/workspace/intakes/{submitted}")
    assert page.status_code == 200
    html = page.text
    assert "Harbour Freight Logistics" in html
    assert "Recommendation: Proceed with guardrails" in html
    assert 'class="risk-chart"' in html and "Trust deficit" in html
    assert "You rated your past agency work 2 of 5" in html  # a contribution's because
    assert "Recommended actions" in html
    assert client.get("/workspace/intakes/not-a-real-id").status_code == 404


def test_status_moves_along_the_workflow_with_an_audit_trail(app, client, staff, submitted):
    login(client, staff["manager"])
    url = f"/workspace/intakes/{submitted}"
    ok = post(client, url + "/status", {"status": "in_review"}, url)
    assert ok.status_code == 302
    # A refused change is shown on the page again, at its field (422), not as a redirect.
    refused = post(client, url + "/status", {"status": "new"}, url)
    assert refused.status_code == 422
    assert "cannot move to new" in refused.text and 'id="status-select-error"' in refused.text
    refused = post(client, url + "/status", {"status": "accepted"}, url)
    assert "let the prospect accept it" in refused.text
    with app.app_context():
        intake = db.session.execute(select(Intake)).scalar_one()
        assert intake.status == "in_review"
        events = db.session.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars().all()
        assert [(e.kind, e.from_value, e.to_value) for e in events] == [
            ("status", "new", "in_review")
        ]
        assert events[0].user.email == staff["manager"]


def test_ticking_an_action_is_stored_with_who_and_when(app, client, staff, submitted):
    login(client, staff["manager"])
    url = f"/workspace/intakes/{submitted}"
    with app.app_context():
        action_id = db.session.execute(select(Assessment)).scalar_one().result["actions"][0]["id"]
    post(client, f"{url}/actions/{action_id}", {"done": "1"}, url)
    with app.app_context():
        check = db.session.execute(select(ActionCheck)).scalar_one()
        assert check.done and check.user.email == staff["manager"] and check.at
    assert 'aria-pressed="true"' in client.get(url).text
    refused = post(client, f"{url}/actions/made_up", {"done": "1"}, url)
    assert refused.status_code == 422 and "not in this intake" in refused.text


def test_notes_are_kept_and_escaped(app, client, staff, submitted):
    login(client, staff["manager"])
    url = f"/workspace/intakes/{submitted}"
    post(client, url + "/notes", {"note": "Call <b>Tuesday</b>"}, url)
    html = client.get(url).text
    assert "Call &lt;b&gt;Tuesday&lt;/b&gt;" in html
    with app.app_context():
        assert db.session.execute(select(Note)).scalar_one().user.email == staff["manager"]


def test_an_override_needs_a_reason_and_sits_beside_the_computed_score(client, staff, submitted):
    login(client, staff["manager"])
    url = f"/workspace/intakes/{submitted}"
    # Refused: the page again with the error at the field and what was typed kept.
    refused = post(client, url + "/override", {"score": "75", "reason": ""}, url)
    assert refused.status_code == 422 and "Give a reason" in refused.text
    assert 'id="override-reason-error"' in refused.text and 'value="75"' in refused.text
    refused = post(client, url + "/override", {"score": "175", "reason": "Known client"}, url)
    assert "from 0 to 100" in refused.text and 'id="override-score-error"' in refused.text
    assert ">Known client</textarea>" in refused.text and 'value="175"' in refused.text
    post(client, url + "/override", {"score": "75", "reason": "Known client, low risk"}, url)
    html = client.get(url).text
    assert "Manager&#39;s override: score 75" in html or "Manager's override: score 75" in html
    assert "(computed: 51" in html


def test_reassessment_keeps_the_old_and_shows_what_changed(app, client, staff, submitted):
    with app.app_context():
        old = db.session.execute(select(Assessment)).scalar_one()
        result = dict(old.result)
        result["score"] = 50
        result["contributions"] = result["contributions"][1:]
        old.result, old.score, old.playbook_version = result, 50, "0" * 64
        db.session.commit()
    login(client, staff["manager"])
    url = f"/workspace/intakes/{submitted}"
    assert "playbooks have changed" in client.get(url).text
    post(client, url + "/reassess", {}, url)
    html = client.get(url).text
    assert "Re-assessed with new playbooks" in html and "Score 50 → 51" in html
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(Assessment)).scalar() == 2


def test_an_invite_opens_a_prefilled_intake_owned_by_its_manager(app, client, staff):
    login(client, staff["manager"])
    response = post(
        client,
        "/workspace/invites",
        {"name": "Rita Gomez", "email": "rita@acme.example", "company": "Acme"},
        "/workspace/invites",
    )
    assert response.status_code == 200
    link = response.text.split('id="invite-link" href="', 1)[1].split('"', 1)[0]
    path = link.split("localhost", 1)[1]
    visitor = app.test_client()
    page = visitor.get(path)
    assert page.status_code == 200 and "Welcome, Rita" in page.text
    started = visitor.post(path, data={"csrf_token": csrf_of(page.text)})
    assert started.status_code == 302
    step = visitor.get(started.headers["Location"], follow_redirects=True)
    assert 'value="Rita Gomez"' in step.text and 'value="Acme"' in step.text
    with app.app_context():
        intake = db.session.execute(select(Intake)).scalar_one()
        assert intake.owner.email == staff["manager"] and intake.answers["company"] == "Acme"


def test_invite_errors_name_the_field(client, staff):
    login(client, staff["manager"])
    response = post(
        client, "/workspace/invites", {"name": "", "email": "nope"}, "/workspace/invites"
    )
    assert response.status_code == 422 and 'href="#invite-email"' in response.text


def test_expired_and_revoked_invites_do_not_open(app, client, staff):
    with app.app_context():
        manager = db.session.execute(select(User)).scalars().first()
        expired = Invite(
            manager_id=manager.id, name="A", email="a@x.example", expires_at=utcnow() - timedelta(1)
        )
        revoked = Invite(
            manager_id=manager.id,
            name="B",
            email="b@x.example",
            expires_at=utcnow() + timedelta(1),
            revoked_at=utcnow(),
        )
        db.session.add_all([expired, revoked])
        db.session.commit()
        tokens = expired.token, revoked.token
    assert client.get(f"/invite/{tokens[0]}").status_code == 410
    assert "withdrawn" in client.get(f"/invite/{tokens[1]}").text
    assert client.get("/invite/unknown-token").status_code == 404


def test_the_agreement_preview_and_pdf_download(app, client, staff, submitted):
    import io

    from pypdf import PdfReader

    from onboarding.db.models import RenderedPdf

    login(client, staff["manager"])
    url = f"/workspace/intakes/{submitted}"
    preview = client.get(url + "/agreement")
    assert preview.status_code == 200 and "Harbour Freight Logistics" in preview.text
    pdf = client.get(url + "/agreement.pdf?paper=letter")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert "Harbour Freight Logistics" in pdf.headers["Content-Disposition"]
    reader = PdfReader(io.BytesIO(pdf.data))
    assert round(float(reader.pages[0].mediabox.width)) == 612
    assert "Harbour Freight Logistics" in reader.pages[0].extract_text()
    again = client.get(url + "/agreement.pdf?paper=letter")
    assert again.data == pdf.data  # from the database cache
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(RenderedPdf)).scalar() == 1


def test_a_bad_paper_falls_back_to_a4_and_a_disabled_user_cannot_own(app, client, staff, submitted):
    login(client, staff["admin"])
    url = f"/workspace/intakes/{submitted}"
    assert client.get(url + "/agreement?paper=x").status_code == 200
    with app.app_context():
        manager = db.session.execute(
            select(User).where(User.email == staff["manager"])
        ).scalar_one()
        manager.active = False
        db.session.commit()
        manager_id = manager.id
    assert post(client, url + "/owner", {"owner": str(manager_id)}, url).status_code == 400


def test_an_owner_id_too_long_for_the_database_is_a_400_not_a_500(app, client, staff, submitted):
    login(client, staff["manager"])
    url = f"/workspace/intakes/{submitted}"
    response = post(client, url + "/owner", {"owner": "9" * 40}, url)
    assert response.status_code == 400
