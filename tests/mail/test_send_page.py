"""Sending is a decision (issue 26): the send page shows who it goes to, the subject,
a personal message and what the client will see (with the redline for a later
version); its confirm button sends, and the message arrives in the email and is kept
in the negotiation thread."""

from __future__ import annotations

import pytest

from tests.factories import answer, csrf_of, login
from tests.mail.conftest import BASE_URL, reads_well, settled, text_part, words
from tests.web.helpers import make_sendable, revise

PROSPECT = "d.okafor@harbourfreight.example"
MESSAGE = (
    "Daniel, as promised on Tuesday's call: the fee now covers the warehouse pilot, and "
    "the launch moves to March.\n\nCall me with anything at all."
)


@pytest.fixture
def ready(mail_app, client, staff, submitted):
    login(client, staff["managers"][0])
    make_sendable(mail_app, submitted)
    return f"/workspace/intakes/{submitted}"


def agreement_mail(inbox):
    return [m for m in inbox.to(PROSPECT) if "agreement" in str(m["Subject"]).lower()]


def test_the_intake_page_leads_to_the_send_page_and_nothing_is_sent_before_confirming(
    mail_app, client, ready, inbox
):
    page = client.get(ready)
    assert f'href="{ready}/agreement/send"' in page.text
    assert f'action="{ready}/agreement/send"' not in page.text  # no one-click send
    send_page = client.get(ready + "/agreement/send")
    assert send_page.status_code == 200
    text = send_page.text
    assert "Send version 1 of the agreement" in text
    assert f"Daniel Okafor &lt;{PROSPECT}&gt;" in text  # the recipient
    assert 'name="subject"' in text and "Your agreement with Brightline Studio" in text
    assert 'name="message"' in text
    assert "At a glance" in text  # the summary the client reads first
    assert f"Send version 1 to {PROSPECT}" in text
    settled(mail_app)
    assert agreement_mail(inbox) == []


def test_the_email_carries_the_subject_and_message_and_the_thread_keeps_it(
    mail_app, client, ready, inbox
):
    page = client.get(ready + "/agreement/send")
    response = client.post(
        ready + "/agreement/send",
        data={
            "csrf_token": csrf_of(page.text),
            "paper": "a4",
            "subject": "Our agreement for Harbour Freight, as discussed",
            "message": MESSAGE,
        },
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("#agreement")
    settled(mail_app)
    [message] = agreement_mail(inbox)
    assert str(message["Subject"]) == "Our agreement for Harbour Freight, as discussed"
    text = text_part(message)
    reads_well(text)
    assert "as promised on Tuesday's call" in words(text)
    assert "Call me with anything at all." in text
    assert text.index("Tuesday's call") < text.index(f"{BASE_URL}/agreement/")
    html = message.get_body(("html",)).get_content()
    assert "Call me with anything at all." in html
    intake_page = client.get(ready).text
    assert "Agreement version 1 is sent" in intake_page
    assert "as promised on Tuesday&#39;s call" in intake_page  # the thread keeps it
    token = intake_page.split("prospect's link: <a href=\"", 1)[1].split('"', 1)[0]
    prospect_page = mail_app.test_client().get(token.replace(BASE_URL, ""))
    assert "Call me with anything at all." in prospect_page.text


def test_a_later_version_shows_the_redline_the_client_will_see(mail_app, client, ready, inbox):
    page = client.get(ready + "/agreement/send")
    client.post(ready + "/agreement/send", data={"csrf_token": csrf_of(page.text)})
    settled(mail_app)
    revise(mail_app, ready.rsplit("/", 1)[-1])
    second = client.get(ready + "/agreement/send").text
    assert "Send version 2 of the agreement" in second
    assert "What changed since version 1" in second
    assert "Revision rounds" in second
    assert "<del>" in second or "<ins>" in second or "redline-values" in second


def test_a_message_too_long_is_refused_beside_its_field_and_kept(mail_app, client, ready, inbox):
    page = client.get(ready + "/agreement/send")
    long = "word " * 1200
    refused = client.post(
        ready + "/agreement/send",
        data={"csrf_token": csrf_of(page.text), "message": long, "subject": "Mine"},
    )
    assert refused.status_code == 422
    assert 'id="send-message-error"' in refused.text and "Shorten the message" in refused.text
    assert long.strip() in refused.text and 'value="Mine"' in refused.text
    assert "data-unsaved" in refused.text
    settled(mail_app)
    assert agreement_mail(inbox) == []


def test_no_send_while_waiting_or_when_nothing_changed(mail_app, client, ready, inbox):
    page = client.get(ready + "/agreement/send")
    client.post(ready + "/agreement/send", data={"csrf_token": csrf_of(page.text)})
    waiting = client.get(ready + "/agreement/send").text  # a new version may replace it
    assert "Nothing changed since version 1" in waiting
    assert "It cannot be sent yet" in waiting and "Send version 2 to" not in waiting
    token = client.get(ready).text.split("prospect's link: <a href=\"", 1)[1].split('"', 1)[0]
    token = token.rsplit("/", 1)[-1]
    _, asked = answer(mail_app, f"/agreement/{token}/changes", {"comment": "4 rounds"})
    assert asked.status_code == 302
    unchanged = client.get(ready + "/agreement/send").text
    assert "Nothing changed since version 1" in unchanged
    assert "It cannot be sent yet" in unchanged
