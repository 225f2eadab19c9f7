"""A conversation, not a form (issue 26, point 4): several comments per version, each
about the whole agreement or a clause picked beside the clause itself; the manager's
replies on the prospect's page; both sides in time order; the version open (to comment
on and to accept) until a new one is sent."""

from __future__ import annotations

import re

from sqlalchemy import select

from onboarding.db import db
from onboarding.db.models import AgreementMessage, AgreementVersion, Intake
from tests.factories import answer, csrf_of, post, send, text_of

ACCEPT = {"name": "Daniel Okafor", "consent": "yes"}


def comment_links(page: str) -> list[str]:
    return [
        link.replace("&amp;", "&")
        for link in re.findall(r'<a class="clause-comment" href="([^"]+)"', page)
    ]


def test_each_clause_has_its_own_comment_link_and_no_dropdown(app, sent):
    prospect = app.test_client()
    page = prospect.get(f"/agreement/{sent['token']}").text
    links = comment_links(page)
    assert len(links) > 20 and links[0].endswith("/comment?clause=1.1")
    # inside the clause's own markup, not at the bottom of the page
    clause = page.split('id="clause-1-1"', 1)[1].split("</article>", 1)[0]
    assert "Comment on this clause" in clause
    assert 'id="changes-clause"' not in page and "<optgroup" not in page


def test_comments_on_two_clauses_and_the_whole_keep_the_version_open(app, client, sent):
    prospect = app.test_client()
    token = sent["token"]
    first, second = comment_links(prospect.get(f"/agreement/{token}").text)[2:4]
    form = prospect.get(first)
    assert form.status_code == 200
    shown = text_of(form.text)
    number = first.rsplit("=", 1)[1]
    assert f"Comment on clause {number}" in shown
    # Nothing typed: the clause's own form again, the summary focused, the clause kept.
    refused = prospect.post(
        f"/agreement/{token}/changes", data={"clause": number, "csrf_token": csrf_of(form.text)}
    )
    assert refused.status_code == 422
    assert "There is a problem" in refused.text and "data-autofocus" in refused.text
    assert f'name="clause" value="{number}"' in refused.text
    sent_one = prospect.post(
        f"/agreement/{token}/changes",
        data={"clause": number, "comment": "Fortnightly, please", "csrf_token": csrf_of(form.text)},
    )
    assert sent_one.status_code == 302 and sent_one.headers["Location"].endswith("#conversation")
    after = prospect.get(sent_one.headers["Location"]).text
    assert "Your comment is sent" in text_of(after)
    other = prospect.get(second)
    other_number = second.rsplit("=", 1)[1]
    assert (
        prospect.post(
            f"/agreement/{token}/changes",
            data={
                "clause": other_number,
                "comment": "Who owns the photos?",
                "csrf_token": csrf_of(other.text),
            },
        ).status_code
        == 302
    )
    # The manager replies; the prospect adds a comment on the whole agreement.
    url = f"/workspace/intakes/{sent['public_id']}"
    assert post(client, url + "/agreement/reply", {"reply": "Yes to both."}, url).status_code == 302
    _, whole = answer(app, f"/agreement/{token}/changes", {"comment": "Thank you!"})
    assert whole.status_code == 302
    page = text_of(prospect.get(f"/agreement/{token}").text)
    conversation = page.split("Conversation", 1)[1]
    said = [
        f"About clause {number}",
        f"About clause {other_number}",
        "Yes to both.",
        "Thank you!",
    ]
    places = [conversation.find(s) for s in said]
    assert -1 not in places and places == sorted(places)  # both sides, in time order
    assert "Accept the agreement" in page  # still open
    with app.app_context():
        assert db.session.execute(select(AgreementVersion.status)).scalar_one() == "sent"
        assert db.session.execute(select(Intake.status)).scalar_one() == "agreement_sent"
        assert len(db.session.execute(select(AgreementMessage)).all()) == 4
    manager_page = text_of(client.get(url).text)
    assert "is waiting for your answer" in manager_page
    # The version is accepted as it stands after the conversation.
    _, accepted = answer(app, f"/agreement/{token}/accept", ACCEPT)
    assert accepted.status_code == 302


def test_a_new_version_closes_the_old_one_and_links_forward(app, client, sent):
    _, asked = answer(app, f"/agreement/{sent['token']}/changes", {"comment": "4 rounds"})
    assert asked.status_code == 302
    second = send(client, sent["public_id"], revised=True)
    prospect = app.test_client()
    old = prospect.get(f"/agreement/{sent['token']}").text
    assert f'href="/agreement/{second}"' in old and "read version 2" in old
    assert not comment_links(old) and "Accept the agreement" not in text_of(old)
    assert comment_links(prospect.get(f"/agreement/{second}").text)
    assert prospect.get(f"/agreement/{sent['token']}/comment?clause=1.1").status_code == 302


def test_the_private_link_tells_where_the_intake_stands(app, sent):
    with app.app_context():
        token = db.session.execute(select(Intake.token)).scalar_one()
    prospect = app.test_client()
    ready = text_of(prospect.get(f"/intake/{token}/thanks").text)
    assert "Your agreement is ready" in ready
    assert f'href="/agreement/{sent["token"]}"' in prospect.get(f"/intake/{token}/thanks").text
    assert "we send you an engagement agreement" not in ready
    _, accepted = answer(app, f"/agreement/{sent['token']}/accept", ACCEPT)
    assert accepted.status_code == 302
    done = text_of(prospect.get(f"/intake/{token}/thanks").text)
    assert "You accepted the agreement" in done and "Daniel Okafor accepted version 1" in done
