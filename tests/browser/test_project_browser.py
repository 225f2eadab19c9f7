"""Issue 30 in a browser: from a countersigned agreement, the client opens the project
page from the signed email and sees the agreed plan; the manager posts an update and
moves a milestone with a reason; the client gets the update by email, sees both dates,
signs off a phase and asks for revisions until the included rounds are used, after which
the next round is offered, never taken silently. 0 axe violations, no sideways scroll
at 320 px, and the client's page works without JavaScript."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from onboarding.db import db
from onboarding.db.models import AgreementVersion, User
from onboarding.db.outbox import OutboxMessage
from onboarding.services.agreement import answers, countersign
from onboarding.services.people.accounts import create_user, set_signing
from tests.browser.checks import no_serious_violations, screenshots
from tests.browser.steps import PASSWORD, send_to_prospect, sign_in, submit_example

pytestmark = pytest.mark.browser
NO_SIDEWAYS_SCROLL = """() => {
  const root = document.documentElement;
  return {scroll: root.scrollWidth, client: root.clientWidth};
}"""


def signed_agreement(app, email: str) -> str:
    """The calm founder's agreement sent, accepted and countersigned; its public id."""
    with app.app_context():
        admin, _ = create_user(
            "boss@" + email.split("@")[1], "admin", PASSWORD, settings=app.config
        )
        manager, _ = create_user(email, "manager", PASSWORD, "Rosa Lead", settings=app.config)
        set_signing(manager, admin, can_sign=True, title="Studio Director")
        intake = submit_example(app, "calm-founder", owner=manager)
        public_id, manager_id = intake.public_id, manager.id
    token = send_to_prospect(app, public_id, manager_id, "calm-founder").token
    with app.app_context():
        version = db.session.execute(
            select(AgreementVersion).where(AgreementVersion.token == token)
        ).scalar_one()
        prepared = answers.prepare_acceptance(
            version, answers.Acceptance("Priya Raman", True, "127.0.0.1", "test")
        )
        answers.record_acceptance(version, prepared)
        db.session.commit()
        user = db.session.get(User, manager_id)
        ready = countersign.prepare_countersignature(
            version, user, countersign.Countersignature("127.0.0.1", "test")
        )
        countersign.record_countersignature(version, user, ready)
        db.session.commit()
    return public_id


def latest_mail(app, kind: str) -> str:
    with app.app_context():
        row = db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.kind == kind)
            .order_by(OutboxMessage.id.desc())
        ).first()
        return row.text if row else ""


WIDE = """(w) => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > w + 1).slice(0, 8)
  .map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))"""
"""What sticks out of a page ``w`` px wide (the first few elements)."""


def fits(page, width: int) -> None:
    assert not page.evaluate(WIDE, width), page.evaluate(WIDE, width)
    size = page.evaluate(NO_SIDEWAYS_SCROLL)
    assert size["scroll"] <= size["client"] <= width, f"{page.url} scrolls sideways: {size}"


def test_the_project_page_keeps_the_agreements_promises(browser, live_server, app, tmp_path):
    public_id = signed_agreement(app, "rosa@studio.example")
    staff = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    sign_in(staff, live_server, "rosa@studio.example")
    staff.goto(f"{live_server}/workspace/intakes/{public_id}")
    staff.get_by_role("link", name="Project: plan, updates and sign-offs").click()
    assert "Project:" in staff.inner_text("h1")
    no_serious_violations(staff)

    # The client opens the page from the signed email (made with the signed copy).
    staff.goto(f"{live_server}/workspace/intakes/{public_id}/project")
    link = re.search(r"(/project/[A-Za-z0-9_-]+)", staff.inner_text("main")).group(1)
    client = browser.new_context(
        viewport={"width": 320, "height": 700}, java_script_enabled=False
    ).new_page()
    client.goto(live_server + link)
    plan = client.inner_text("main")
    for phase in ("Discovery", "Strategy", "Production", "Refinement", "Launch"):
        assert phase in plan

    # The manager posts an update and moves Strategy with a reason.
    staff.get_by_label("Done since the last update").fill("Discovery workshop held; notes shared.")
    staff.get_by_label("Next", exact=True).fill("Strategy draft by Friday.")
    staff.get_by_label("What we need from the client").fill("Your sales figures.")
    staff.get_by_role("button", name="Post and email the client").click()
    assert "Discovery workshop held" in latest_mail(app, "project_update")
    assert link in latest_mail(app, "project_update")
    staff.get_by_text("Change Strategy").click()
    staff.locator("#milestone-m2-due").fill("2027-03-05")
    staff.locator("#milestone-m2-reason").fill("Your board meets a week later than planned.")
    staff.get_by_role("button", name="Save Strategy").click()

    client.reload()
    text = client.inner_text("main")
    assert "Discovery workshop held" in text and "5 March 2027" in text
    assert "Your board meets a week later than planned." in text

    # Sign-off of Discovery: approved on the page, without JavaScript.
    staff.get_by_label("Milestone").select_option(label="Discovery")
    staff.get_by_role("button", name="Ask the client to sign off").click()
    client.reload()
    client.get_by_label("Approve Discovery").check()
    client.get_by_role("button", name="Send my answer").click()
    assert "approved on" in client.inner_text("main")

    # Strategy: revisions until the included rounds are used; then the next is priced.
    for _ in range(10):
        staff.get_by_label("Milestone").select_option(label="Strategy")
        staff.get_by_role("button", name="Ask the client to sign off").click()
        client.reload()
        if "are used" in client.inner_text("main"):
            break
        client.get_by_label("Ask for a revision").check()
        client.get_by_label("What should change?").fill("Warmer wording in the positioning.")
        client.get_by_role("button", name="Send my answer").click()
    text = client.inner_text("main")
    assert "are used" in text
    client.get_by_label("Ask for a revision").check()
    client.get_by_label("What should change?").fill("One more pass, please.")
    client.get_by_role("button", name="Send my answer").click()
    assert "There is a problem" in client.inner_text("main")
    assert "One more pass, please." in client.inner_html("main")  # what was typed is kept
    checked = browser.new_context(viewport={"width": 320, "height": 700}).new_page()
    checked.goto(live_server + link)
    no_serious_violations(checked)
    fits(checked, 320)
    screenshots(checked, tmp_path, "project-client")
    screenshots(staff, tmp_path, "project-staff")
