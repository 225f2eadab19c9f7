"""A prospect asks for a change about one clause; the manager finds it waiting (the count
in the navigation, the badge, the filter), reads the thread and answers it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from onboarding.db import db
from onboarding.db.models import Intake, User
from onboarding.services.agreement.send import send_agreement
from onboarding.services.intake.submission import create_intake, submit_intake
from onboarding.services.people.accounts import create_user
from onboarding.web.extensions import app_playbooks
from tests.browser.checks import no_serious_violations, screenshots
from tests.factories import example
from tests.web.helpers import make_sendable

pytestmark = pytest.mark.browser
PASSWORD = "a long pass phrase 42"


def test_a_change_request_waits_for_the_manager(browser, live_server, app, tmp_path):
    with app.app_context():
        manager, _ = create_user(
            "ines@agency.example", "manager", PASSWORD, "Ines Duarte", settings=app.config
        )
        intake = create_intake(example("calm-founder"))
        db.session.flush()
        submit_intake(intake, playbooks=app_playbooks(app), email=False)
        db.session.commit()
        public_id, manager_id = intake.public_id, manager.id
    make_sendable(app, public_id, "calm-founder")
    with app.app_context():
        intake = db.session.execute(
            select(Intake).where(Intake.public_id == public_id)
        ).scalar_one()
        version = send_agreement(intake, db.session.get(User, manager_id))
        db.session.commit()
        token, name = version.token, intake.contact_name

    prospect = browser.new_context(viewport={"width": 320, "height": 640})
    page = prospect.new_page()
    page.goto(f"{live_server}/agreement/{token}")
    # The clause's own "Comment on this clause" link (issue 26), not a dropdown.
    comment = page.locator(".clause-comment").first
    label = comment.get_attribute("href").rsplit("=", 1)[1]  # the clause's number
    comment.click()
    page.wait_for_url("**/comment?clause=**")
    page.get_by_label("Your comment or question about this clause").fill(
        "Updates twice a week, please"
    )
    page.get_by_role("button", name="Send my comment").click()
    page.wait_for_url("**#conversation")
    assert "Your comment is sent" in page.inner_text("main")
    no_serious_violations(page)
    prospect.close()

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(live_server + "/login")
    page.get_by_label("Email address").fill("ines@agency.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/workspace/")
    nav = page.get_by_role("navigation", name="Workspace")
    link = nav.get_by_role("link", name="Needs your attention")
    assert link.locator(".nav-count").text_content() == "(1)"  # "(", ")" for screen readers
    row = page.locator("tr", has=page.get_by_role("link", name=name, exact=True))
    assert row.locator(".attention-badge").is_visible()
    no_serious_violations(page)
    screenshots(page, tmp_path, "attention-dashboard")

    nav.get_by_role("link", name="Needs your attention").click()
    page.wait_for_url("**needs_attention=1**")
    assert page.get_by_label("Needs your attention").is_checked()
    assert page.locator("tbody tr").count() == 1
    row = page.locator("tbody tr").first
    row.locator(".attention-badge").click()
    page.wait_for_url("**/workspace/intakes/**")
    thread = page.locator("ol.thread")
    text = thread.inner_text()
    assert text.index("Version 1 sent") < text.index(f"About clause {label.split(' ', 1)[0]}")
    assert "is waiting for your answer" in page.inner_text("#agreement")
    no_serious_violations(page)
    screenshots(page, tmp_path, "attention-thread")

    page.get_by_label("Reply in the thread").fill(
        "Twice weekly is fine; I will send a new version."
    )
    page.get_by_role("button", name="Add reply").click()
    page.wait_for_load_state()
    assert "is waiting for your answer" not in page.inner_text("#agreement")
    assert nav.locator(".nav-count").text_content() == "(0)"
    context.close()
