"""The project page after the signature (issue 30): the client's page and the staff tab."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select

from onboarding.db import db
from onboarding.db.models import Project, ProjectEntry, utcnow
from onboarding.db.outbox import OutboxMessage
from tests.factories import csrf_of, post
from tests.web.helpers import make_files


def project_url(public_id):
    return f"/workspace/intakes/{public_id}/project"


def client_link(client, public_id):
    page = client.get(project_url(public_id)).text
    return re.search(r'href="http://[^"]+(/project/[^"]+)"', page).group(1)


def mails(app, kind):
    with app.app_context():
        rows = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind))
        return [(m.to_address, m.subject, m.text) for m in rows]


def test_nothing_exists_before_the_countersignature(app, client, accepted):
    assert client.get(project_url(accepted["public_id"])).status_code == 404
    with app.app_context():
        assert db.session.scalars(select(Project)).first() is None
    assert app.test_client().get("/project/" + "x" * 40).status_code == 404


def test_the_client_sees_the_agreed_plan_from_the_signed_email(app, client, signed):
    link = client_link(client, signed["public_id"])
    page = app.test_client().get(link)
    assert page.status_code == 200
    assert "Your project" in page.text and "The plan" in page.text
    for phase in ("Discovery", "Strategy", "Production", "Refinement", "Launch"):
        assert phase in page.text
    assert "How sign-offs work" in page.text
    # the agreement page links to it once signed, and so does the signed email
    make_files(app)  # the worker makes the signed copy, emailed with it
    signed_mail = mails(app, "agreement_signed")
    assert signed_mail and link in signed_mail[0][2]
    assert link in app.test_client().get(f"/agreement/{signed['token']}").text


def test_an_update_is_posted_emailed_and_shown(app, client, signed):
    url = project_url(signed["public_id"])
    refused = post(client, url + "/updates", {"done": "", "next": ""}, url)
    assert refused.status_code == 422
    assert "Say what is done since the last update" in refused.text
    done = post(
        client,
        url + "/updates",
        {
            "done": "Moodboards shared.",
            "next": "Logo sketches.",
            "needs": "Your feedback by Friday.",
            "decision-0-text": "Palette narrowed to two",
            "decision-0-area": "visual_design",
            "decision-0-by": "agency",
        },
        url,
    )
    assert done.status_code == 303
    (mail,) = mails(app, "project_update")
    assert mail[0] == "morgan@harbourfreight.example" or "@" in mail[0]
    assert "Moodboards shared." in mail[2] and "Your feedback by Friday." in mail[2]
    assert "Palette narrowed to two" in mail[2]
    page = app.test_client().get(client_link(client, signed["public_id"])).text
    assert "Moodboards shared." in page and "Logo sketches." in page


def test_a_client_decision_outside_the_table_is_shown_to_the_manager_only(app, client, signed):
    url = project_url(signed["public_id"])
    post(
        client,
        url + "/updates",
        {
            "done": "Vendors shortlisted.",
            "next": "Print quotes.",
            "decision-0-text": "Printer chosen by the client",
            "decision-0-area": "vendor_choice",
            "decision-0-by": "client",
        },
        url,
    )
    staff_page = client.get(url).text
    assert "Printer chosen by the client" in staff_page
    assert "Outside the agreement" in staff_page
    client_page = app.test_client().get(client_link(client, signed["public_id"])).text
    assert "Printer chosen by the client" not in client_page


def test_a_move_needs_a_reason_and_the_client_sees_both_dates(app, client, signed):
    url = project_url(signed["public_id"])
    refused = post(client, url + "/milestones/m2", {"due": "2031-05-02", "reason": ""}, url)
    assert refused.status_code == 422 and "Say why the date moves" in refused.text
    impossible = post(
        client, url + "/milestones/m2", {"due": "9999-01-01", "reason": "x" * 20}, url
    )
    assert impossible.status_code == 422 and "between the project" in impossible.text
    with app.app_context():
        assert db.session.scalars(select(ProjectEntry)).first() is None
    moved = post(
        client,
        url + "/milestones/m2",
        {"due": "2031-05-02", "reason": "The brand workshop moved at your request."},
        url,
    )
    assert moved.status_code == 303
    page = app.test_client().get(client_link(client, signed["public_id"])).text
    assert "2 May 2031" in page and "The brand workshop moved at your request." in page


def test_sign_off_then_revisions_until_the_included_rounds_are_used(app, client, signed):
    url = project_url(signed["public_id"])
    link = client_link(client, signed["public_id"])
    assert (
        post(
            client, url + "/signoffs", {"milestone": "m1", "note": "Brief attached."}, url
        ).status_code
        == 303
    )
    (asked,) = mails(app, "signoff_requested")
    assert "Discovery" in asked[1] and "counts as accepted" in asked[2]
    prospect = app.test_client()
    page = prospect.get(link).text
    assert "Sign off: Discovery" in page
    form = re.search(r'action="(/project/[^"]+/signoffs/\d+)"', page).group(1)
    answer = prospect.post(form, data={"decision": "approved", "csrf_token": csrf_of(page)})
    assert answer.status_code == 303
    assert "approved on" in prospect.get(link).text
    assert mails(app, "project_signed_off")

    # Strategy: ask for revisions until the included rounds are used
    with app.app_context():
        included = (
            db.session.scalars(select(Project))
            .one()
            .version.content["resolved_terms"]["service_levels"]["revision_rounds"]
        )
    for _ in range(included):
        post(client, url + "/signoffs", {"milestone": "m2"}, url)
        page = prospect.get(link).text
        form = re.search(r'action="(/project/[^"]+/signoffs/\d+)"', page).group(1)
        empty = prospect.post(
            form, data={"decision": "revision", "comment": "", "csrf_token": csrf_of(page)}
        )
        assert empty.status_code == 422 and "Say what you would like revised" in empty.text
        ok = prospect.post(
            form,
            data={
                "decision": "revision",
                "comment": "Warmer colours.",
                "csrf_token": csrf_of(page),
            },
        )
        assert ok.status_code == 303
    post(client, url + "/signoffs", {"milestone": "m2"}, url)
    page = prospect.get(link).text
    assert f"{included} of {included} used" in page
    assert (
        "revision rounds included for this are used" in page or "Another round is offered" in page
    )
    form = re.search(r'action="(/project/[^"]+/signoffs/\d+)"', page).group(1)
    beyond = prospect.post(
        form, data={"decision": "revision", "comment": "One more.", "csrf_token": csrf_of(page)}
    )
    assert beyond.status_code == 422 and "rounds included are used" in beyond.text


def test_the_overdue_update_is_flagged_and_the_owner_reminded_once(
    app, client, signed, monkeypatch
):
    from onboarding.services.notify import project_mail
    from onboarding.services.project import state

    url = project_url(signed["public_id"])
    client.get(url)
    later = utcnow() + dt.timedelta(days=400)
    with app.app_context():
        project = db.session.scalars(select(Project)).one()
        project.version.intake.owner_id = project.version.sent_by_id
        db.session.commit()
        assert project_mail.remind_updates(later) == 1
        assert project_mail.remind_updates(later) == 0
    (reminder,) = mails(app, "update_due")
    assert "overdue" in reminder[1] and reminder[0] == "manager@example.com"
    assert "An update is overdue" not in client.get(url).text
    monkeypatch.setattr(state, "utcnow", lambda: later)  # the workspace's clock, a year on
    assert "An update is overdue" in client.get(url).text


def test_a_lapsed_or_foreign_link_finds_nothing(app, client, signed):
    link = client_link(client, signed["public_id"])
    with app.app_context():
        project = db.session.scalars(select(Project)).one()
        project.link_renewed_at = utcnow() - dt.timedelta(days=app.config["PROJECT_LINK_DAYS"] + 1)
        db.session.commit()
    assert app.test_client().get(link).status_code == 404
    assert app.test_client().get(link + "x").status_code == 404
