"""The change-request loop: a prospect's request waits in "needs your attention" (a badge
on the dashboard row, a filter, the count in the navigation) until the manager answers
it with a reply or a new version; the thread shows it all in time order."""

from __future__ import annotations

import html
import re

from sqlalchemy import select

from onboarding.db import db
from onboarding.db.models import AgreementMessage, Intake
from onboarding.services.agreement import versions
from onboarding.services.agreement.change_requests import clause_choices
from onboarding.services.intake import attention, listing, workspace
from tests.factories import csrf_of, post, send_version

BADGE = "attention-badge"
OPTION = re.compile(  # each clause's "Comment on this clause" link: (number, "number title")
    r'comment\?clause=([\d.]+)">Comment on this clause<span class="visually-hidden"> \(([^)]+)\)'
)
NAV = re.compile(r'Needs your attention <span class="nav-count[^"]*">.*?([\d,]+)<span')


def ask(app, token: str, comment: str, clause: str = ""):
    prospect = app.test_client()
    page = prospect.get(f"/agreement/{token}")
    data = {"comment": comment, "clause": clause, "csrf_token": csrf_of(page.text)}
    return page, prospect.post(f"/agreement/{token}/changes", data=data)


def nav_count(page_html: str) -> int:
    match = NAV.search(page_html)
    assert match, "no count in the navigation"
    return int(match.group(1).replace(",", ""))


def row_of(page_html: str, name: str) -> str:
    """The dashboard's table row of the prospect named ``name``."""
    rows = [r for r in page_html.split("<tr>") if f">{name}</a>" in r]
    assert len(rows) == 1, f"{name} is not listed once"
    return rows[0].split("</tr>", 1)[0]


def test_a_change_request_waits_for_an_answer_and_a_reply_answers_it(app, client, two):
    dashboard = client.get("/workspace/").text
    assert nav_count(dashboard) == 0
    assert BADGE not in row_of(dashboard, two["name"])

    page, asked = ask(app, two["token"], "Updates twice a week, please", "")
    options = OPTION.findall(page.text)
    assert options, "each clause has its comment link"
    number, label = options[0]
    assert asked.status_code == 302
    # The version stays open to more comments (issue 26): see tests/web/test_conversation.py.

    dashboard = client.get("/workspace/").text
    assert nav_count(dashboard) == 1
    assert BADGE in row_of(dashboard, two["name"])
    assert BADGE not in row_of(dashboard, "Quentin Quiet")
    only = client.get("/workspace/?needs_attention=1").text
    assert f">{two['name']}</a>" in only and "Quentin Quiet" not in only
    assert 'aria-current="page">Needs your attention' in only.replace('class="nav-attention" ', "")
    assert 'id="f-attention" name="needs_attention" type="checkbox" value="1" checked' in only
    with app.app_context():
        assert attention.attention_count(db.session) == 1

    intake_page = client.get(f"/workspace/intakes/{two['public_id']}").text
    assert "is waiting for your answer" in intake_page

    url = f"/workspace/intakes/{two['public_id']}"
    replied = post(client, url + "/agreement/reply", {"reply": "Twice weekly is fine."}, url)
    assert replied.status_code == 302

    dashboard = client.get("/workspace/").text
    assert nav_count(dashboard) == 0
    assert BADGE not in row_of(dashboard, two["name"])
    assert "Nobody is waiting for your answer" in client.get("/workspace/?needs_attention=1").text
    intake_page = client.get(url).text
    assert "is waiting for your answer" not in intake_page
    thread = intake_page.split('id="thread"', 1)[1].split("</ol>", 1)[0]
    assert (
        thread.index("Version 1 sent")
        < thread.index("Updates twice a week")
        < thread.index("Twice weekly is fine.")
    )


def test_a_request_about_a_clause_is_answered_by_a_new_version(app, client, two):
    ask(app, two["token"], "Updates twice a week, please")
    second = send_version(app, two["public_id"], rounds=6)  # answers the first request
    assert nav_count(client.get("/workspace/").text) == 0

    page, asked = ask(app, second, "Three rounds, as agreed in the thread", "")
    number, label = OPTION.findall(page.text)[0]
    assert asked.status_code == 302
    # A third version replaces the second; ask about a clause on it.
    third = send_version(app, two["public_id"], rounds=7)
    page, asked = ask(app, third, "Say which week the rounds fall in", number)
    assert asked.status_code == 302
    with app.app_context():
        last = db.session.execute(
            select(AgreementMessage).order_by(AgreementMessage.id.desc()).limit(1)
        ).scalar_one()
        title = label.split(" ", 1)[1]
        assert last.text == f"About clause {number} ({html.unescape(title)}): " + (
            "Say which week the rounds fall in"
        )
        version = versions.latest_version(workspace.intake_by_public_id(two["public_id"]))
        assert [c.number for c in clause_choices(version)][0] == number

    dashboard = client.get("/workspace/").text
    assert nav_count(dashboard) == 1 and BADGE in row_of(dashboard, two["name"])
    intake_page = client.get(f"/workspace/intakes/{two['public_id']}").text
    thread = intake_page.split('id="thread"', 1)[1].split("</ol>", 1)[0]
    order = [
        "Version 1 sent",
        "Updates twice a week",
        "Version 2 sent",
        "Three rounds, as agreed",
        "Version 3 sent",
        f"About clause {number}",
    ]
    positions = [thread.index(text) for text in order]
    assert positions == sorted(positions)

    send_version(app, two["public_id"], rounds=8)
    dashboard = client.get("/workspace/").text
    assert nav_count(dashboard) == 0 and BADGE not in row_of(dashboard, two["name"])


def test_a_clause_not_in_the_version_or_an_empty_request_is_refused_and_kept(app, two):
    _, refused = ask(app, two["token"], "", "99.99")
    assert refused.status_code == 422
    text = refused.text
    summary = text.split('class="error-summary"', 1)[1].split("</div>", 1)[0]
    assert summary.count('href="#changes-comment"') == 2  # the box: no dropdown any more
    assert "That clause is not in this version" in summary
    # At the top of the answer panel, by its button (issue 16), before the forms.
    assert text.index('class="signing-panel"') < text.index('class="error-summary"')
    assert text.index('class="error-summary"') < text.index('class="signing-form"')
    with app.app_context():
        assert db.session.execute(select(AgreementMessage)).first() is None
        assert attention.attention_count(db.session) == 0
    _, kept = ask(app, two["token"], "Fortnightly updates", "99.99")
    assert kept.status_code == 422 and "Fortnightly updates</textarea>" in kept.text


def test_closed_intakes_leave_the_queue(app, client, two):
    ask(app, two["token"], "Updates twice a week, please")
    with app.app_context():
        intake = db.session.execute(
            select(Intake).where(Intake.public_id == two["public_id"])
        ).scalar_one()
        workspace.change_status(intake, "declined", None)
        db.session.commit()
        assert attention.attention_count(db.session) == 0
    assert nav_count(client.get("/workspace/").text) == 0


def test_the_workspace_filter_parameter(app, client, two):
    f, problems = listing.parse_filters({"needs_attention": "true"})
    assert f.needs_attention and not problems and f.filtered
    assert f.params() == {"needs_attention": "1"}
    f, problems = listing.parse_filters({"needs_attention": "maybe"})
    assert not f.needs_attention and problems
    page = client.get("/workspace/?needs_attention=maybe").text
    assert "Ignored &#39;needs_attention&#39;" in page or "Ignored 'needs_attention'" in page
    # every other parameter still works beside it
    mixed = client.get("/workspace/?needs_attention=1&band=poor&sort=name&dir=asc&q=zzz").text
    assert "No prospects match these filters" in mixed


HEADING = re.compile(
    r'<span class="section__num">[^<]+</span>\s*([^<]+)</h[23]>'
    r'|<span class="(?:clause__num|terms-clause__num)">([^<]+)</span>\s*'
    r'(?:<strong class="terms-clause__title">([^<]+?)\.?</strong>|([^<]+)</h3>|)'
)
"""A section's heading, or a clause's number and title (none when the title would
repeat its section's heading: the clause then reads under that heading)."""


def _shown_clauses(page):
    shown, section = [], ""
    for heading, number, a, b in HEADING.findall(page):
        if heading:
            section = heading
        else:
            title = a or b or section
            shown.append((number.strip(), html.unescape(" ".join(title.split())).rstrip(".")))
    return shown


def test_the_clauses_offered_are_the_clauses_the_page_shows(app, two):
    """The list is built from the version's content; the prospect sees the same numbers
    and titles on the page frozen with it, every clause once, in page order."""
    with app.app_context():
        version = versions.latest_version(workspace.intake_by_public_id(two["public_id"]))
        shown = _shown_clauses(version.html)
        offered = [(c.number, c.title) for c in clause_choices(version)]
    assert len(offered) > 20  # tailored clauses and the standard terms
    assert offered == shown
