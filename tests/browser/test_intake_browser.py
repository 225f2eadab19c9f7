"""A prospect completes the intake in a real browser: keyboard and mouse, leave, resume."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from onboarding import assess
from onboarding.db import db
from onboarding.db.models import Assessment, Intake
from onboarding.domain.questionnaire import get_questionnaire
from tests.browser.checks import no_serious_violations, screenshots
from tests.factories import example

pytestmark = pytest.mark.browser


def fill_section(page, section_id: str, answers: dict) -> None:
    """Answer one step with the mouse (choices) and the keyboard (typing)."""
    questionnaire = get_questionnaire()
    for q in questionnaire.section(section_id).questions:
        value = answers.get(q.id)
        if value is None or not questionnaire.shown(q.id, answers):
            continue
        if q.type in ("text", "email", "integer"):
            field = page.locator(f"#{q.id}")
            field.click()
            page.keyboard.press("Control+A")
            page.keyboard.type(str(value))
        elif q.type == "date":
            page.locator(f"#{q.id}").fill(value)  # a date input takes YYYY-MM-DD
        elif q.type == "multi":
            for i, option in enumerate(q.values):
                box = page.locator(f"#{q.id}-{i}")
                if box.is_checked() != (option in value):
                    page.locator(f"label[for='{q.id}-{i}']").click()
        else:
            if q.type == "yesno":
                options = ["yes", "no"]
                value = "yes" if value else "no"
            elif q.type == "scale":
                options = [str(i) for i in range(1, 6)]
                value = str(value)
            else:
                options = list(q.values)
            page.locator(f"label[for='{q.id}-{options.index(value)}']").click()


def test_a_prospect_completes_leaves_resumes_and_submits(browser, live_server, app, tmp_path):
    answers = example("burned-marketer")
    sections = [s.id for s in get_questionnaire().sections]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(live_server + "/start")
    no_serious_violations(page)
    screenshots(page, tmp_path, "00-start")
    page.get_by_role("button", name="Start now").click()
    page.wait_for_url("**/step/about")

    # Step 1 by keyboard: type, Tab to the next field, Enter submits.
    page.locator("#contact_name").focus()
    page.keyboard.type(answers["contact_name"])
    page.keyboard.press("Tab")
    page.keyboard.type("not-an-email")  # a mistake, explained next to the field
    fill_section(page, "about", {k: v for k, v in answers.items() if k != "contact_email"})
    page.locator("#decision_makers").press("Enter")
    page.wait_for_load_state()
    assert page.locator("#contact_email-error").is_visible()
    assert (
        "Enter an email address in the correct format"
        in page.locator(".error-summary").inner_text()
    )
    no_serious_violations(page)
    screenshots(page, tmp_path, "01-about-error")
    assert page.locator("#contact_name").input_value() == answers["contact_name"]
    page.locator("#contact_email").fill(answers["contact_email"])
    page.get_by_role("button", name="Save and continue").click()
    page.wait_for_url("**/step/time")

    for index, section_id in enumerate(sections[1:4], start=2):
        no_serious_violations(page)
        screenshots(page, tmp_path, f"{index:02d}-{section_id}")
        fill_section(page, section_id, answers)
        page.get_by_role("button", name="Save and continue").click()
        page.wait_for_url(f"**/step/{sections[index]}")

    # The prospect closes the browser mid-way and comes back with the link.
    resume_link = page.locator("#resume-link").get_attribute("href")
    context.close()
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(resume_link)
    page.wait_for_url("**/step/fears")
    page.get_by_role("button", name="Back").click()
    page.wait_for_url("**/step/goals")
    assert page.locator("#primary_goal").input_value() == answers["primary_goal"]
    page.get_by_role("button", name="Save and continue").click()
    page.wait_for_url("**/step/fears")

    for index, section_id in enumerate(sections[4:], start=5):
        if section_id == "history":
            # The follow-up questions appear only once "Yes" is chosen.
            assert page.locator("#past_problems-group").is_hidden()
            page.locator("label[for='worked_with_agency_before-0']").click()
            assert page.locator("#past_problems-group").is_visible()
        no_serious_violations(page)
        screenshots(page, tmp_path, f"{index:02d}-{section_id}")
        fill_section(page, section_id, answers)
        label = "Save and review" if index == len(sections) else "Save and continue"
        page.get_by_role("button", name=label).click()
        page.wait_for_load_state()

    page.wait_for_url("**/review")
    assert "Harbour Freight Logistics" in page.inner_text("main")
    no_serious_violations(page)
    screenshots(page, tmp_path, "08-review")
    page.get_by_role("button", name="Send my answers").click()
    page.wait_for_url("**/thanks")
    assert "What happens next" in page.inner_text("main")
    no_serious_violations(page)
    screenshots(page, tmp_path, "09-thanks")
    context.close()

    with app.app_context():
        intake = db.session.execute(select(Intake)).scalar_one()
        assert intake.status == "new"
        stored = db.session.execute(select(Assessment)).scalar_one()
        assert stored.result == assess(answers)
    print(f"screenshots in {tmp_path}")
