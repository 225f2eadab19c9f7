"""The playbook editor in Chromium (issue 25): an admin changes a rule's points, sees
which intakes change band before saving, saves, re-assesses; the history shows it."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from onboarding.db import db
from onboarding.db.models import Intake
from onboarding.services.intake.submission import create_intake, submit_intake
from onboarding.services.people.accounts import create_user
from onboarding.web.extensions import app_playbooks
from tests.browser.steps import sign_in
from tests.factories import APPROVER, empty_tables

pytestmark = pytest.mark.browser
PASSWORD = "a long and careful passphrase 25"
EMAIL = "editor-admin@agency.example"


@pytest.fixture
def approver(session_app, live_server):
    """An admin, and a submitted intake that is strong until deciding the agency's daily
    tasks weighs more; returns the intake's public id."""
    empty_tables(session_app)
    with session_app.app_context():
        create_user(EMAIL, "admin", PASSWORD, "Edith Editor", settings=session_app.config)
        intake = create_intake(APPROVER)
        db.session.flush()
        _, errors = submit_intake(intake, playbooks=app_playbooks(session_app))
        assert not errors and intake.band == "strong"
        db.session.commit()
        public_id = intake.public_id
    yield public_id
    empty_tables(session_app)


def band_of(app, public_id: str) -> str:
    with app.app_context():
        db.session.remove()
        return db.session.scalar(select(Intake.band).where(Intake.public_id == public_id))


def test_an_admin_changes_a_rule_previews_saves_and_reassesses(
    browser, live_server, session_app, approver
):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sign_in(page, live_server, EMAIL, PASSWORD)  # admins set up an authenticator first

    page.goto(live_server + "/workspace/")
    page.get_by_role("link", name="Playbooks").first.click()
    page.wait_for_url("**/workspace/playbooks")
    points = page.get_by_label("Points of set_boundaries/directs_daily_tasks")
    assert points.input_value() == "-5"
    points.fill("-8")
    page.get_by_label("Risk of set_boundaries/directs_daily_tasks").fill("45")
    page.get_by_role("button", name="Preview the impact").click()
    page.wait_for_load_state()

    # Before saving: what changes, and which intake changes band, by company.
    assert "points −5 → −8" in page.inner_text("#preview-rules")
    intakes = page.inner_text("#preview-intakes")
    assert "Daily Tasks Ltd" in intakes and approver in intakes
    assert re.search(r"strong → guarded", intakes)
    assert band_of(session_app, approver) == "strong"  # nothing saved or applied yet

    page.get_by_label("Why (kept in the history)").fill("Daily tasks weigh more")
    page.get_by_role("button", name="Save as a new version").click()
    page.wait_for_url("**/workspace/reassess")
    assert "Saved playbook version" in page.inner_text("body")
    page.get_by_role("button", name=re.compile(r"Re-assess 1 intake now")).click()
    page.wait_for_load_state()
    assert band_of(session_app, approver) == "guarded"

    page.goto(live_server + "/workspace/playbooks")
    history = page.inner_text("#history")
    assert "Daily tasks weigh more" in history and "Edith Editor" in history
    assert "set_boundaries/directs_daily_tasks points −5 → −8" in history
    assert page.get_by_label("Points of set_boundaries/directs_daily_tasks").input_value() == "-8"
    context.close()
