"""Staff choose how they hear of their intakes (each email, a daily digest, none) on
their Account page; who hears of an intake nobody owns is a setting."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, update

from onboarding.db import db
from onboarding.db.engine import begin_write
from onboarding.db.models import User
from onboarding.services.notify import digests as notify_digests
from tests.factories import PASSWORD, csrf_of, example
from tests.mail.conftest import (
    BASE_URL,
    EMAIL,
    reads_well,
    rows,
    settled,
    started,
    text_part,
    words,
)

MORNING = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
NIGHT = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)


def choose(app, email: str, notices: str) -> None:
    with app.app_context():
        begin_write(db.session())
        db.session.execute(update(User).where(User.email == email).values(notices=notices))
        db.session.commit()


def submit_one(client, company: str = "Harbour Freight Logistics") -> None:
    prospect = started(client)
    prospect.fill_all({**example(), "company": company})
    assert prospect.submit().status_code == 302


def digests(app, now: datetime) -> int:
    with app.app_context():
        return notify_digests.send_digests(now)


def test_a_manager_who_chose_the_digest_gets_one_email_a_day_listing_every_notice(
    mail_app, client, inbox, staff
):
    choose(mail_app, "max@agency.example", "digest")
    submit_one(client)
    submit_one(client, "Northwind Traders")
    settled(mail_app)
    # Mia hears of each at once; Max's are held for his digest.
    assert len(inbox.to("mia@agency.example")) == 2
    assert inbox.to("max@agency.example") == []
    held = [r for r in rows(mail_app) if r.status == "held"]
    assert len(held) == 2 and {r.to_address for r in held} == {"max@agency.example"}

    assert digests(mail_app, NIGHT) == 0  # before DIGEST_HOUR (8 UTC by default)
    assert digests(mail_app, MORNING) == 1
    settled(mail_app)
    [digest] = inbox.to("max@agency.example")
    assert digest["Subject"].startswith("Your daily digest: 2 updates from ")
    text = text_part(digest)
    reads_well(text)
    assert "New intake: Harbour Freight Logistics" in text
    assert "New intake: Northwind Traders" in text
    assert text.count(f"{BASE_URL}/workspace/intakes/") == 2
    assert f"{BASE_URL}/workspace/account" in text
    found = rows(mail_app)
    carried = [r for r in found if r.kind == "new_submission" and r.to_address.startswith("max")]
    assert {r.status for r in carried} == {"digested"}
    assert {r.digest_id for r in carried} == {next(r.id for r in found if r.kind == "digest")}

    # Once a day: a later run that day writes nothing, even with a new notice held.
    submit_one(client, "Contoso Pharma")
    settled(mail_app)
    assert digests(mail_app, MORNING.replace(hour=17)) == 0
    assert len(inbox.to("max@agency.example")) == 1
    assert digests(mail_app, MORNING.replace(day=3)) == 1  # the next day's
    settled(mail_app)
    assert "Contoso Pharma" in text_part(inbox.to("max@agency.example")[1])


def test_notices_off_means_no_email_and_going_back_to_each_keeps_what_was_held(
    mail_app, client, inbox, staff
):
    choose(mail_app, "max@agency.example", "off")
    choose(mail_app, "mia@agency.example", "digest")
    submit_one(client)
    settled(mail_app)
    assert inbox.to("max@agency.example") == [] and inbox.to("mia@agency.example") == []
    assert [r.to_address for r in rows(mail_app) if r.kind == "new_submission"] == [
        "mia@agency.example"
    ]
    choose(mail_app, "mia@agency.example", "each")
    assert digests(mail_app, MORNING) == 1  # what was held still reaches her
    settled(mail_app)
    [digest] = inbox.to("mia@agency.example")
    assert "Harbour Freight Logistics" in text_part(digest)


def test_who_hears_of_an_intake_nobody_owns_is_a_setting(mail_app, client, inbox, staff):
    mail_app.config["NOTIFY_UNOWNED"] = "admins"
    submit_one(client)
    settled(mail_app)
    assert len(inbox.to(staff["admin"])) == 1
    assert all(inbox.to(m) == [] for m in staff["managers"])
    inbox.reset()
    mail_app.config["NOTIFY_UNOWNED"] = "none"
    submit_one(client, "Northwind Traders")
    settled(mail_app)
    assert inbox.messages and all(EMAIL in str(m["To"]) for m in inbox.messages)


def sign_in(client, email: str):
    page = client.get("/login")
    client.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf_token": csrf_of(page.text)}
    )
    return client


def test_the_account_page_saves_the_choice_and_names_a_bad_one(mail_app, client, staff):
    assert client.get("/workspace/account").status_code == 302  # signed in only
    sign_in(client, "max@agency.example")
    page = client.get("/workspace/account")
    assert page.status_code == 200
    assert 'value="each" checked' in page.text
    saved = client.post(
        "/workspace/account",
        data={"notices": "digest", "csrf_token": csrf_of(page.text)},
        follow_redirects=True,
    )
    assert "Saved: one daily digest." in words(saved.text)
    assert 'value="digest" checked' in saved.text
    bad = client.post(
        "/workspace/account", data={"notices": "hourly", "csrf_token": csrf_of(page.text)}
    )
    assert bad.status_code == 400
    assert "Choose how you want to hear of your intakes" in bad.text
    no_token = client.post("/workspace/account", data={"notices": "off"})
    assert no_token.status_code == 400
    with mail_app.app_context():
        notices = db.session.execute(
            select(User.notices).where(User.email == "max@agency.example")
        ).scalar_one()
    assert notices == "digest"


def test_a_digest_for_a_disabled_account_is_not_sent(mail_app, client, inbox, staff):
    choose(mail_app, "max@agency.example", "digest")
    submit_one(client)
    settled(mail_app)
    with mail_app.app_context():
        begin_write(db.session())
        db.session.execute(
            update(User).where(User.email == "max@agency.example").values(active=False)
        )
        db.session.commit()
    assert digests(mail_app, MORNING) == 0
    held = [r for r in rows(mail_app) if r.to_address == "max@agency.example"]
    assert [r.status for r in held] == ["cancelled"]
    assert "disabled" in words(held[0].last_answer)
