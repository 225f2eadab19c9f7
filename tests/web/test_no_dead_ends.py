"""The workspace without dead ends or leaks (issue 16): the preview has Back and Send,
a draft's link can be copied or emailed again, the history and the score's reasons are
in words, checklist buttons are named by their action, and the chart's description is
escaped once."""

from __future__ import annotations

from sqlalchemy import select

from onboarding.db import db
from onboarding.db.outbox import OutboxMessage
from onboarding.services.intake.submission import create_intake
from tests.factories import example, login, post
from tests.web.helpers import make_sendable


def test_the_preview_has_back_and_send_and_no_internal_ids(app, client, staff, submitted):
    make_sendable(app, submitted)
    login(client, staff["manager"])
    html = client.get(f"/workspace/intakes/{submitted}/agreement").text
    assert f'href="/workspace/intakes/{submitted}"' in html and "← Back to" in html
    # The send is a decision (issue 26): the preview leads to the send page.
    assert f'href="/workspace/intakes/{submitted}/agreement/send?paper=a4"' in html
    assert ">Review and send</a>" in html
    assert "agency standard terms &middot;" not in html
    assert 'href="/static/preview.css"' in html and "<style>" not in html.split("</head>")[1]


def test_a_drafts_link_is_shown_and_emailed_again(app, client, staff):
    with app.app_context():
        draft = create_intake({"contact_name": "Rita Gomez", "contact_email": "rita@acme.example"})
        db.session.commit()
        public_id, token = draft.public_id, draft.token
    login(client, staff["manager"])
    page = client.get("/workspace/drafts").text
    assert f"/intake/{token}</code>" in page
    assert "Email the link again" in page
    sent = post(client, f"/workspace/drafts/{public_id}/email-link", {}, "/workspace/drafts")
    assert sent.status_code == 302 and sent.headers["Location"].endswith("/workspace/drafts")
    assert "We emailed Rita Gomez their private link again" in client.get("/workspace/drafts").text
    with app.app_context():
        message = db.session.execute(select(OutboxMessage)).scalar_one()
        assert message.kind == "resume_link" and message.to_address == "rita@acme.example"


def test_the_detail_page_speaks_in_words(app, client, staff, submitted):
    login(client, staff["manager"])
    url = f"/workspace/intakes/{submitted}"
    post(client, url + "/override", {"score": "55", "reason": "Known client"}, url)
    post(client, url + "/status", {"status": "in_review"}, url)
    html = client.get(url).text
    history = html.split('id="audit-title"', 1)[1]
    assert "overrode the assessment with score 55: “Known client”" in history
    assert "None" not in history and "moved it from New to In review" in history
    why = html.split('id="why-title"', 1)[1].split("</section>", 1)[0]
    assert "reads " not in why and "worked_with_agency_before" not in why
    assert "“Have you worked with an agency before?”" in why
    # The chart's description is text, escaped once (never shown as markup).
    desc = html.split('<desc id="risk-desc">', 1)[1].split("</desc>", 1)[0]
    assert "Excess free time: " in desc and "&lt;" not in desc and "&lt;desc" not in html
    # Each checklist button is named by its action.
    assert 'aria-labelledby="action-' in html and "Mark as done:" not in html
    # The budget with its currency.
    assert "(GBP)" in html.split('id="answers-title"', 1)[1]
    # The dashboard says which score a band goes with when only the score was overridden.
    listing = client.get("/workspace/").text
    assert "for 51" in listing


def test_the_staff_sign_in_has_no_privacy_line_for_prospects(client):
    page = client.get("/login").text
    assert "Your answers are kept private" not in page
    assert "Your answers are kept private" in client.get("/start").text


def test_a_refused_note_keeps_the_page_and_an_added_one_answers_without_reload(
    app,
    client,
    staff,
    submitted,
):
    login(client, staff["manager"])
    url = f"/workspace/intakes/{submitted}"
    refused = post(client, url + "/notes", {"note": "   "}, url)
    assert refused.status_code == 422 and 'id="note-error"' in refused.text
    token = client.get(url).text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    added = client.post(
        url + "/notes",
        data={"note": "Call Tuesday", "csrf_token": token},
        headers={"X-Requested-With": "fetch"},
    )
    assert added.status_code == 200 and added.json["text"] == "Call Tuesday"


def test_example_answers_still_submit_after_no(app):
    answers = example() | {"worked_with_agency_before": False}
    answers.pop("past_agencies_count")
    from onboarding.domain.questionnaire import get_questionnaire

    clean, errors = get_questionnaire().validate(answers, form=True)
    assert not errors and clean["past_agencies_count"] == 0
