"""The prospect's signing page: the error summary at the top, what they typed kept, and
the confirmation page after accepting (what happens next, who, when, the PDF)."""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from onboarding.db import db
from onboarding.db.models import User
from onboarding.services.agreement import next_steps as after_acceptance
from onboarding.services.agreement import terms as agreement_terms
from onboarding.services.intake import workspace
from tests.factories import csrf_of, send_version
from tests.web.helpers import make_sendable

SCRIPT = re.compile(r"<script\b([^>]*)>", re.I)


def answer(app, token: str, path: str, data: dict):
    prospect = app.test_client()
    page = prospect.get(f"/agreement/{token}")
    response = prospect.post(
        f"/agreement/{token}/{path}", data={**data, "csrf_token": csrf_of(page.text)}
    )
    return prospect, response


def fonts_of(data: bytes) -> set[str]:
    """The base fonts a PDF's pages use (without the subset tag)."""
    names = set()
    for page in PdfReader(io.BytesIO(data)).pages:
        for font in ((page.get("/Resources") or {}).get("/Font") or {}).values():
            names.add(str(font.get_object().get("/BaseFont")).split("+")[-1])
    return names


def test_errors_are_summarised_first_linking_to_their_fields(app, two):
    _, refused = answer(app, two["token"], "accept", {"name": "", "consent": ""})
    assert refused.status_code == 422
    text = refused.text
    assert "<title>Error: " in text
    # At the top of the answer panel, by the button pressed (not 11,000 px above it);
    # the form posts to #answer, so the page comes back there.
    panel = text.split('<section class="signing-panel" id="answer"', 1)[1]
    summary = panel.split('<div class="error-summary" role="alert"', 1)[1].split("</div>", 1)[0]
    assert panel.index("error-summary") < panel.index("<form")
    assert 'action="/agreement/' in panel and '/accept#answer"' in panel
    assert 'tabindex="-1" data-autofocus' in summary
    assert re.findall(r'href="#([\w-]+)"', summary) == ["accept-name", "accept-consent"]
    for field in ("accept-name", "accept-consent"):
        assert f'id="{field}"' in text
    assert 'aria-describedby="accept-name-hint accept-name-error"' in text
    # intake.js focuses it: a script of our own, never an inline one (strict CSP)
    scripts = SCRIPT.findall(text)
    assert scripts and all('src="/static/intake.js"' in s for s in scripts)
    assert "default-src 'self'" in refused.headers["Content-Security-Policy"]


def test_every_clause_of_the_page_has_its_comment_link(app, two):
    # issue 26: a "Comment on this clause" link inside each clause, not a dropdown
    page = app.test_client().get(f"/agreement/{two['token']}").text
    assert 'id="changes-clause"' not in page
    numbers = re.findall(
        r'class="clause-comment" href="/agreement/[\w-]+/comment\?clause=([\d.]+)"', page
    )
    assert len(numbers) == len(set(numbers)) > 20
    # every clause heading of the page, in its order
    headings = re.findall(r'class="(?:terms-)?clause__num">([\d.]+)<', page)
    assert numbers == list(dict.fromkeys(headings))


def test_a_refused_change_request_keeps_the_comment_and_the_clause(app, two):
    prospect = app.test_client()
    page = prospect.get(f"/agreement/{two['token']}").text
    number = re.search(r"/comment\?clause=(\d+\.\d+)", page).group(1)
    long = "x" * 5001
    _, refused = answer(app, two["token"], "changes", {"comment": long, "clause": number})
    assert refused.status_code == 422
    assert f"<h1>Comment on clause {number}</h1>" in refused.text  # the clause's own form
    assert f'name="clause" value="{number}"' in refused.text
    assert 'href="#changes-comment"' in refused.text


def test_accepting_ends_on_the_confirmation_page(app, two):
    prospect, accepted = answer(
        app, two["token"], "accept", {"name": two["name"], "consent": "yes"}
    )
    assert accepted.status_code == 302
    assert accepted.headers["Location"].endswith(f"/agreement/{two['token']}/accepted")
    page = prospect.get(accepted.headers["Location"])
    assert page.status_code == 200
    text = page.text
    assert "<h1>Agreement accepted</h1>" in text and "What happens next" in text
    assert "countersigns the agreement" in text
    # nobody owns the intake: the agency's signatory (the profile it was sent with)
    with app.app_context():
        intake = workspace.intake_by_public_id(two["public_id"])
        signatory = agreement_terms.installation_profile().profile.signatory
        days = after_acceptance.next_steps(intake_version(intake)).within
    assert f"{signatory.name}, {signatory.title}, will contact you" in text
    assert f"<strong>{days}</strong>" in text
    assert f'href="/agreement/{two["token"]}/pdf"' in text
    assert '/static/fonts.css"' in text and "https://" not in text.split("</head>")[0]
    final = prospect.get(f"/agreement/{two['token']}/pdf").data
    sent = prospect.get(f"/agreement/{two['token']}/pdf?final=0").data
    assert fonts_of(final) and all(f.startswith("Inter") for f in fonts_of(final))
    assert fonts_of(sent) == fonts_of(final)
    # the agreement page leads back to it
    assert (
        f'href="/agreement/{two["token"]}/accepted"'
        in prospect.get(f"/agreement/{two['token']}").text
    )


def intake_version(intake):
    from onboarding.services.agreement.versions import latest_version

    return latest_version(intake)


def test_the_confirmation_names_the_owner_and_the_agencys_response_time(
    app,
    staff,
    submitted,
):
    make_sendable(app, submitted)
    with app.app_context():
        intake = workspace.intake_by_public_id(submitted)
        intake.owner_id = db.session.execute(
            select(User.id).where(User.email == staff["manager"])
        ).scalar_one()
        terms = agreement_terms.stored_terms(intake)
        terms["service_levels"] = dict(terms.get("service_levels") or {}) | {"response_hours": 48}
        agreement_terms.save_terms(intake, terms, None)
        db.session.commit()
        name = intake.contact_name
    token = send_version(app, submitted)
    prospect, accepted = answer(app, token, "accept", {"name": name, "consent": "yes"})
    text = prospect.get(accepted.headers["Location"]).text
    assert "Max Manager, your account manager, will contact you" in text
    assert "<strong>within two working days</strong>" in text
    assert 'href="mailto:manager@example.com"' in text


def test_the_confirmation_page_waits_for_an_acceptance(app, two):
    prospect = app.test_client()
    early = prospect.get(f"/agreement/{two['token']}/accepted")
    assert early.status_code == 302 and early.headers["Location"].endswith(two["token"])
    assert prospect.get("/agreement/not-a-token/accepted").status_code == 404


@pytest.mark.parametrize(
    ("resolved", "days"),
    [
        ({"response_hours": 1}, 1),
        ({"response_hours": 4}, 1),
        ({"response_hours": 24}, 1),
        ({"response_hours": 48}, 2),
        ({}, 2),
        ({"response_hours": None}, 2),
        ({"response_hours": True}, 2),
    ],
)
def test_working_days_from_the_response_time(resolved, days):
    assert after_acceptance.working_days(resolved) == days
