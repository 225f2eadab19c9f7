"""Nothing lost, in Chromium (issue 26): terms typed as the session lapses come back
after signing in again; the session warns a minute before it lapses and can be kept;
leaving a changed form asks first; a prospect's answer survives a closed tab; the send
page says what goes out before anything does."""

from __future__ import annotations

import time

import pytest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from playwright.sync_api import expect

from onboarding.db import db
from onboarding.domain.questionnaire import get_questionnaire
from onboarding.services.agreement import terms as agreement_terms
from onboarding.services.agreement.versions import latest_version
from onboarding.services.intake.submission import create_intake, submit_intake
from onboarding.services.intake.workspace import intake_by_public_id
from onboarding.services.people.accounts import create_user
from onboarding.web.extensions import app_playbooks
from tests.browser.checks import AXE, screenshots
from tests.factories import answer, example
from tests.web.helpers import make_sendable, revise

pytestmark = pytest.mark.browser
PASSWORD = "a long pass phrase 42"
EMAIL = "sam@agency.example"
LIVE_SECRET = "browser-test-key"  # the live server's SECRET_KEY (tests/browser/conftest.py)


def no_violations(page) -> None:
    """axe-core finds no violation at all on the page (of any impact)."""
    violations = AXE.run(page).response["violations"]
    found = [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}" for v in violations
    ]
    assert not found, f"{page.url}: " + "; ".join(found)


def _serializer():
    signer = Flask("forger")
    signer.secret_key = LIVE_SECRET
    return SecureCookieSessionInterface().get_signing_serializer(signer)


def idle_for(context, seconds: int) -> None:
    """Make the browser's session look idle for ``seconds`` (its server-side clock, the
    signed cookie's ``seen``, moved back): no minute-long sleep."""
    [cookie] = [c for c in context.cookies() if c["name"] == "session"]
    serializer = _serializer()
    data = serializer.loads(cookie["value"])
    moment = int(time.time())
    data["seen"] = moment - seconds
    data["login_at"] = min(int(data.get("login_at") or moment), moment - seconds)
    context.add_cookies([{**cookie, "value": serializer.dumps(data)}])


def sign_in(page, live_server: str, then: str | None = None) -> None:
    if then is None:
        page.goto(live_server + "/login")
    page.get_by_label("Email address").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def submitted(app, sendable: bool = False) -> str:
    with app.app_context():
        create_user(EMAIL, "manager", PASSWORD, "Sam Lee", settings=app.config)
        intake = create_intake(example("burned-marketer"))
        db.session.flush()
        submit_intake(intake, playbooks=app_playbooks(app), email=False)
        db.session.commit()
        public_id = intake.public_id
    if sendable:
        make_sendable(app, public_id)
    return public_id


def test_terms_typed_as_the_session_lapses_are_there_after_signing_in(
    browser, live_server, app, tmp_path
):
    public_id = submitted(app)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sign_in(page, live_server)
    page.wait_for_url("**/workspace/")
    terms = f"{live_server}/workspace/intakes/{public_id}/terms"
    page.goto(terms)
    page.locator("#f-fee-model").select_option("fixed")
    page.locator("#f-fee-amount").fill("24000")
    page.locator("#f-start-date").fill("2027-03-01")

    # Leaving with changes not saved asks first.
    asked = []
    page.on("dialog", lambda dialog: (asked.append(dialog.type), dialog.dismiss()))
    # close() with run_before_unload returns before the page has asked: wait for the
    # dialog (asserting at once failed whenever the browser was slower than the test).
    with page.expect_event("dialog", timeout=10_000):
        page.close(run_before_unload=True)
    page = context.new_page()
    assert asked == ["beforeunload"]
    page.goto(terms)
    page.locator("#f-fee-model").select_option("fixed")
    page.locator("#f-fee-amount").fill("24000")
    page.locator("#f-start-date").fill("2027-03-01")

    idle_for(context, 31 * 60)  # the session lapsed while the manager typed
    page.get_by_role("button", name="Save the terms").click()
    page.wait_for_url("**/login?next=**")
    expect(page.get_by_text("They are kept: sign in again")).to_be_visible()
    with app.app_context():
        assert agreement_terms.stored_terms(intake_by_public_id(public_id)) in ({}, None)
    sign_in(page, live_server, then="here")
    page.wait_for_url(f"**/workspace/intakes/{public_id}/terms?kept=*")
    expect(page.locator("#kept-notice")).to_contain_text("Nothing you typed is lost")
    assert page.locator("#f-fee-amount").input_value() in ("24000", "24000.00")  # as an amount
    assert page.locator("#f-start-date").input_value() == "2027-03-01"
    no_violations(page)
    screenshots(page, tmp_path, "terms-kept")
    page.get_by_role("button", name="Save the terms").click()
    page.wait_for_url("**/terms#summary")
    assert page.locator("#f-fee-amount").input_value() in ("24000", "24000.00")  # as an amount
    with app.app_context():
        stored = agreement_terms.stored_terms(intake_by_public_id(public_id))
        assert stored["fee"]["amount"] in ("24000", "24000.00", 24000)
        assert stored["start_date"] == "2027-03-01"
    context.close()


def test_a_minute_before_the_session_lapses_it_warns_and_can_be_kept(
    browser, live_server, app, tmp_path
):
    submitted(app)
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.clock.install()
    sign_in(page, live_server)
    page.wait_for_url("**/workspace/")
    page.wait_for_load_state("load")  # the page's script has set its timer
    # 58 seconds left as the server counts: inside the page's warning (65 s or less), with
    # as long as it can be for the test's own steps on a busy machine.
    idle_for(context, 29 * 60 + 2)
    page.clock.fast_forward("30:00")  # the page's timer comes due: it asks, then warns
    dialog = page.get_by_role("dialog", name="Still there?")
    expect(dialog).to_be_visible(timeout=30_000)  # after the page asks the server
    expect(dialog).to_contain_text("your session ends in")
    assert page.evaluate("document.activeElement.id") == "session-stay"
    no_violations(page)
    screenshots(page, tmp_path, "session-dialog")
    page.get_by_role("button", name="Stay signed in").click()
    expect(dialog).to_be_hidden()
    expect(page.locator("#session-status")).to_have_text("You are still signed in.")
    left = page.request.get(live_server + "/workspace/session").json()["seconds_left"]
    assert left > 29 * 60
    context.close()


def test_a_prospects_answer_survives_a_closed_tab(browser, live_server, app, tmp_path):
    answers = example("burned-marketer")
    with app.app_context():
        done = ("about", "time")  # the steps before creative control, saved
        ids = [q.id for s in done for q in get_questionnaire().section(s).questions]
        intake = create_intake({k: answers[k] for k in ids if k in answers})
        intake.current_step = "time"
        db.session.commit()
        token = intake.token
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(f"{live_server}/intake/{token}/step/control")
    expect(page.locator("#save-note")).to_have_text("Your answers are saved as you give them.")
    page.locator("label[for='control_level-3']").click()  # the creative-control answer
    page.locator("#revision_rounds").fill("7")
    page.locator("#revision_rounds").blur()
    expect(page.locator("#autosave-status")).to_contain_text("were saved at")
    # "were saved at" may still be the radio's save: let the rounds' save finish too.
    page.wait_for_load_state("networkidle")
    no_violations(page)
    page.close()
    context.close()

    fresh = browser.new_context(viewport={"width": 1280, "height": 900})
    page = fresh.new_page()
    page.goto(f"{live_server}/intake/{token}")
    page.wait_for_url("**/step/control")
    assert page.locator("#control_level-3").is_checked()
    assert page.locator("#revision_rounds").input_value() == "7"

    # An invalid answer from an earlier visit comes back as typed, with its message.
    page.locator("#revision_rounds").fill("lots")
    page.locator("#revision_rounds").blur()
    expect(page.locator("#autosave-status")).to_contain_text("were saved at")
    page.goto(f"{live_server}/intake/{token}/step/about")
    page.goto(f"{live_server}/intake/{token}/step/control")
    assert page.locator("#revision_rounds").input_value() == "lots"
    expect(page.locator("#revision_rounds-error")).to_be_visible()
    no_violations(page)
    screenshots(page, tmp_path, "step-kept")

    # Typed and the tab closed at once, before any pause: what was typed is sent as the
    # page goes (sendBeacon), and is there in yet another browser.
    page.locator("#revision_rounds").fill("5")
    page.close()
    fresh.close()
    last = browser.new_context()
    page = last.new_page()
    # The beacon is sent as the tab goes, not waited for: a busy server may handle it a
    # moment after this page's request (a person takes longer to open another browser).
    # Ask again for up to 10 s; a lost beacon still fails.
    for _ in range(20):
        page.goto(f"{live_server}/intake/{token}/step/control")
        if page.locator("#revision_rounds").input_value() == "5":
            break
        page.wait_for_timeout(500)
    assert page.locator("#revision_rounds").input_value() == "5"
    last.close()


def test_the_send_page_says_what_goes_out_before_anything_does(browser, live_server, app, tmp_path):
    public_id = submitted(app, sendable=True)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sign_in(page, live_server)
    page.wait_for_url("**/workspace/")
    page.goto(f"{live_server}/workspace/intakes/{public_id}")
    page.get_by_role("link", name="Send to the prospect…").click()
    page.wait_for_url("**/agreement/send")
    expect(page.locator("#send-recipient")).to_contain_text("d.okafor@harbourfreight.example")
    expect(page.get_by_role("heading", name="At a glance")).to_be_visible()
    page.get_by_label("A personal message (optional)").fill(
        "Daniel, here it is as we discussed on Tuesday."
    )
    no_violations(page)
    screenshots(page, tmp_path, "send-page")
    page.get_by_role("button", name="Send version 1 to d.okafor@harbourfreight.example").click()
    page.wait_for_url(f"**/workspace/intakes/{public_id}#agreement")
    expect(page.get_by_text("Agreement version 1 is sent")).to_be_visible()
    expect(page.get_by_text("here it is as we discussed on Tuesday")).to_be_visible()

    # The client asks for a change; version 2's send page shows the redline they will see.
    with app.app_context():
        token = latest_version(intake_by_public_id(public_id)).token
    _, asked = answer(app, f"/agreement/{token}/changes", {"comment": "Four rounds, please"})
    assert asked.status_code == 302
    revise(app, public_id)
    page.goto(f"{live_server}/workspace/intakes/{public_id}/agreement/send")
    expect(page.get_by_role("heading", name="What changed since version 1")).to_be_visible()
    expect(page.locator(".redline-values")).to_contain_text("Revision rounds")
    no_violations(page)
    screenshots(page, tmp_path, "send-page-v2")
    context.close()
