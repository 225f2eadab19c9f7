"""The negotiation story of issue 13, end to end in Chromium.

The manager sends version 1 (2 revision rounds, weekly updates); the prospect asks,
naming a clause, for "updates twice a week, 3 revision rounds"; the manager changes the
terms and sends version 2, whose page shows what changed; the prospect accepts; a staff
member with signing rights countersigns; `onboarding verify` confirms the signed PDF.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

from sqlalchemy import select

from onboarding.cli import main
from onboarding.db import db
from onboarding.db.models import AgreementVersion, Intake, User
from onboarding.services.agreement import terms as agreement_terms
from onboarding.services.intake.submission import create_intake, submit_intake
from onboarding.services.people.accounts import create_user
from onboarding.web.extensions import app_playbooks
from tests.browser.checks import no_serious_violations, screenshots
from tests.factories import EXAMPLES, example

PASSWORD = "a long pass phrase 42"


def sign_in(page, live_server, email):
    page.goto(f"{live_server}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")


def test_send_negotiate_redline_accept_countersign_verify(browser, live_server, app, tmp_path):
    with app.app_context():
        manager, _ = create_user(
            "sam@agency.example", "manager", PASSWORD, "Sam Lee", settings=app.config
        )
        manager.title, manager.can_sign = "Account Director", True
        intake = create_intake(example("calm-founder"))
        db.session.flush()
        submit_intake(intake, playbooks=app_playbooks(app), email=False)
        agreement_terms.seed_profile(app.config["AGENCY_NAME"])
        terms = json.loads((EXAMPLES / "calm-founder.terms.json").read_text())
        agreement_terms.save_terms(intake, terms, None)
        db.session.commit()
        public_id = intake.public_id

    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    staff = context.new_page()
    sign_in(staff, live_server, "sam@agency.example")
    intake_url = f"{live_server}/workspace/intakes/{public_id}"

    # Version 1: the agency's standard two rounds and weekly updates.
    staff.goto(intake_url)
    staff.click("a:has-text('Send to the prospect')")  # the send page (issue 26)
    staff.click("button:has-text('Send version 1')")
    link = re.search(r"/agreement/[A-Za-z0-9_-]+", staff.inner_text("main")).group(0)
    prospect = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    prospect.goto(live_server + link)
    assert "two rounds" in prospect.inner_text("main")

    # The prospect comments on the revisions clause, from the link beside it (issue 26).
    prospect.get_by_role(
        "link", name=re.compile(r"^Comment on this clause .*revision", re.I)
    ).first.click()
    prospect.wait_for_url("**/comment?clause=**")
    prospect.fill("#changes-comment", "Updates twice a week, please, and 3 revision rounds.")
    prospect.click("button:has-text('Send my comment')")
    prospect.wait_for_url("**#conversation")
    assert "your comment is sent" in prospect.inner_text("main").lower()

    # It lands in the manager's queue; the manager changes the terms and re-sends.
    staff.goto(f"{live_server}/workspace/")
    assert "Needs your attention" in staff.inner_text("nav")
    staff.goto(f"{intake_url}/terms")
    staff.select_option("#f-service-levels-update-cadence", "few_per_week")
    staff.fill("#f-service-levels-revision-rounds", "3")
    staff.click("button:has-text('Save the terms')")
    assert "Terms saved" in staff.inner_text("main")
    staff.goto(intake_url)
    staff.fill("#reply", "Twice-weekly updates are fine; I've put 3 rounds in version 2.")
    staff.click("button:has-text('Add reply')")
    staff.click("a:has-text('Send a new version')")
    assert "What changed since version 1" in staff.inner_text("main")  # before it goes
    staff.click("button:has-text('Send version 2')")
    link2 = re.search(r"/agreement/[A-Za-z0-9_-]+", staff.inner_text("main")).group(0)
    assert link2 != link

    # Version 2 shows, at the top, what changed; the text says three rounds.
    prospect.goto(live_server + link2)
    text = prospect.inner_text("main")
    assert "What changed since version 1" in text
    assert "Revision rounds" in text and "Update cadence" in text
    assert prospect.locator("ins").count() >= 1
    assert "three rounds" in text and "twice a week" in text.lower()
    no_serious_violations(prospect)
    screenshots(prospect, tmp_path, "version-2")

    # The prospect accepts; the confirmation says what happens next.
    prospect.fill("#accept-name", "Priya Raman")
    prospect.check("#accept-consent")
    prospect.click("button:has-text('Accept the agreement')")
    assert "countersign" in prospect.inner_text("main").lower()

    # The agency countersigns; the intake is signed.
    staff.goto(intake_url)
    staff.click("button:has-text('Countersign for the agency')")
    assert "being prepared" in staff.inner_text("main") or "Signed PDF" in staff.inner_text("main")
    # The server's outbox worker makes the signed PDF in the background.
    deadline = time.monotonic() + 60
    while True:
        with app.app_context():
            version = db.session.execute(
                select(AgreementVersion).where(AgreementVersion.number == 2)
            ).scalar_one()
            if version.signed_pdf is not None or time.monotonic() > deadline:
                break
        time.sleep(0.2)
    with app.app_context():
        version = db.session.execute(
            select(AgreementVersion).where(AgreementVersion.number == 2)
        ).scalar_one()
        assert version.signed_pdf and version.countersigned_name == "Sam Lee"
        intake = db.session.execute(select(Intake)).scalar_one()
        assert intake.status == "signed"
        signer = db.session.execute(select(User)).scalar_one()
        assert version.countersigned_by_id == signer.id
        signed = tmp_path / "signed.pdf"
        signed.write_bytes(version.signed_pdf)

    runner = app.test_cli_runner()  # the command line, on this app's database
    result = runner.invoke(main, ["verify", str(signed)])
    assert result.exit_code == 0, result.output
    assert "fully signed" in result.output and "version 2" in result.output
    tampered = tmp_path / "tampered.pdf"
    tampered.write_bytes(Path(signed).read_bytes() + b"\n%")
    assert runner.invoke(main, ["verify", str(tampered)]).exit_code != 0
    context.close()
