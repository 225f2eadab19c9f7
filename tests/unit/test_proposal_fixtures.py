"""The proposal for clients and agencies unlike the examples (tests/fixtures/proposal):
each wish beyond the agency's standard is either an option with its price or a sentence
saying what the agency does instead; never dropped, never promised unpriced; the letter
stays warm, second person, free of the assessment's language, and reads right when a
section has nothing in it (issue 24)."""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from onboarding.cli import main
from onboarding.domain.assessment import assess
from onboarding.domain.proposal import Proposal, assessment_words, compose_proposal
from onboarding.domain.terms import load_profile, parse_terms

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "proposal"
CLIENTS = ("tidewater-saas", "maison-vigne", "kookaburra-dental", "prairie-literacy",
           "alpen-ledger", "taniwha-brewing", "osaka-draft")  # fmt: skip
AGENCIES = ("demo", "agency-two-options", "agency-no-options", "agency-look-alikes")
LOOK_ALIKES = ("Extra storyboard", "Campaign analytics dashboard",
               "Community response management", "Website updates")  # fmt: skip
"""Options of agency-look-alikes whose names only resemble a wish: never offered."""


def answers_of(client: str) -> dict:
    return json.loads((FIXTURES / f"{client}.json").read_text())


def agency_of(agency: str) -> dict | None:
    return None if agency == "demo" else yaml.safe_load((FIXTURES / f"{agency}.yaml").read_text())


def terms_of(client: str, agency: str) -> dict | None:
    """The client's terms; in the agency's currency (the rate card's prices are in the
    agency's currency), so a client of another agency drops its own."""
    path = FIXTURES / f"{client}.terms.json"
    if not path.exists():
        return None
    terms = json.loads(path.read_text())
    if terms.get("currency") != load_profile(agency_of(agency)).currency:
        terms.pop("currency", None)
    return terms


@functools.cache
def letter(client: str, agency: str) -> Proposal:
    """One client's letter from one agency, composed once for all the tests that read it."""
    answers = answers_of(client)
    terms = terms_of(client, agency)
    return compose_proposal(
        answers,
        assess(answers),
        date="2027-01-04",
        profile=load_profile(agency_of(agency)),
        terms=parse_terms(terms) if terms is not None else None,
    )


def words(p: Proposal) -> str:
    return " ".join(p.text().split())


def wishes_beyond(client: str, agency: str) -> list[str]:
    """The wishes a reader of the answers sees beyond the agency's standard, as the
    letter states them (an oracle written apart from the code under test)."""
    a = answers_of(client)
    levels = load_profile(agency_of(agency)).service_levels
    terms = terms_of(client, agency) or {}
    levels = dict(levels) | dict(terms.get("service_levels") or {})
    out = []
    hours = int(a["expected_response_hours"])
    if hours < int(levels["response_hours"]):
        spoken = {1: "within an hour", 4: "within four hours", 24: "within a working day"}
        out.append(f"You would like replies {spoken[hours]}.")
    if a["revision_rounds"] > int(levels["revision_rounds"]):
        n = a["revision_rounds"]
        out.append(
            f"You expect up to {n} round{'s' if n != 1 else ''} of revisions per deliverable."
        )
    order = ["milestones_only", "biweekly", "weekly", "few_per_week", "daily"]
    if order.index(a["update_frequency"]) > order.index(levels["update_cadence"]):
        spoken = {
            "daily": "You would like an update every day.",
            "few_per_week": "You would like updates a few times a week.",
            "weekly": "You would like a weekly update.",
        }
        out.append(spoken[a["update_frequency"]])
    if a["after_hours_contact"]:
        out.append("You may need us outside working hours.")
    if a["visibility_preference"] == "live_dashboard":
        out.append("You would like to see the work as it progresses.")
    if a["preferred_channel"] == "meetings":
        out.append("You prefer to talk things through in meetings.")
    return out


PAIRS = [(c, a) for c in CLIENTS for a in AGENCIES]


@pytest.mark.parametrize(("client", "agency"), PAIRS)
def test_every_wish_beyond_the_standard_is_priced_or_answered(client, agency):
    p = letter(client, agency)
    answered = [o.offered_because for o in p.options] + [i.title for i in p.instead]
    for wish in wishes_beyond(client, agency):
        assert any(wish in a for a in answered), (wish, answered)
    text = words(p)
    for o in p.options:  # each option says which wish it answers and what it costs
        assert o.offered_because in answered and re.search(r"\d", o.price["text"])
    for i in p.instead:  # each fallback is in the letter, under the wish it answers
        assert f"{i.title} {i.text}" in text


@pytest.mark.parametrize(("client", "agency"), PAIRS)
def test_the_letter_is_warm_and_never_speaks_the_assessments_language(client, agency):
    p = letter(client, agency)
    text = words(p)
    assert assessment_words(text) == []
    assert p.greeting == f"Dear {answers_of(client)['contact_name'].split()[0]},"
    assert re.search(r"\byou\b", text) and re.search(r"\bwe\b", text)
    # The letter speaks to the client, not in the agreement's defined terms.
    assert not re.search(r"\bthe (Client|Agency)\b", text), text
    for title in LOOK_ALIKES:
        assert title not in [o.title for o in p.options]


@pytest.mark.parametrize(("client", "agency"), PAIRS)
def test_an_empty_options_section_reads_right(client, agency):
    p = letter(client, agency)
    section = next(s for s in p.sections if s.id == "options")
    text = words(p)
    if p.options:
        assert section.title == "Options"
        assert "tick any options you want" in text
    else:
        assert "tick any options" not in text and "what you can add" not in text
        assert " and what we will do about the things that matter most to you." in text
        assert "Accept" in [i.title for s in p.sections if s.id == "next" for i in s.items]
        if p.instead:
            assert section.title == "Beyond our standard way of working"
            assert "here is what we do instead" in " ".join(section.paragraphs)
        else:
            assert "nothing extra to choose" in " ".join(section.paragraphs)


def option_line(p: Proposal, title: str) -> tuple[str, str]:
    found = [o for o in p.options if o.title == title]
    assert found, (title, [o.title for o in p.options])
    return found[0].price["text"], found[0].offered_because


def test_a_two_option_card_prices_replies_and_rounds_and_answers_the_rest():
    p = letter("tidewater-saas", "agency-two-options")
    assert option_line(p, "Express answers") == (
        "$1,200.00 a month", "You would like replies within an hour.")  # fmt: skip
    assert option_line(p, "Additional design round") == (
        "$750.00 per round",
        "You expect up to 10 rounds of revisions per deliverable.",
    )
    instead = {i.title: i.text for i in p.instead}
    assert "You receive a written status report every Friday" in (
        instead["You would like an update every day."])  # fmt: skip
    assert (
        "You see the work at every review"
        in instead[
            "You would like to see the work as it progresses. "
            "You would like to follow the project in a portal."
        ]
    )
    assert "outside those hours is answered on the next working day" in (
        instead["You may need us outside working hours."])  # fmt: skip
    assert "We charge for the time we work, at $185.00 an hour." in words(p)
    assert "without your written approval" in words(p)


def test_an_agency_without_a_card_says_what_it_does_instead_of_each_wish():
    p = letter("alpen-ledger", "agency-no-options")
    assert p.options == ()
    instead = {i.title: i.text for i in p.instead}
    assert instead == {
        "You prefer to talk things through in meetings. You would like a weekly update.":
            "You receive a written status report every second Friday, and we meet at the end "
            "of every phase to review the work together; a call is always there when "
            "something needs talking through.",
        "You would like to see the work as it progresses.":
            "You see the work at every review, and each update tells you where every "
            "deliverable stands and what comes next.",
        "You expect up to 10 rounds of revisions per deliverable.":
            "Each deliverable includes one round of revisions. A further round is estimated "
            "and agreed with you before we start it, as a change request.",
        "You would like replies within a working day.":
            "We answer messages within two working days. Anything that cannot wait is best "
            "raised by phone with your project lead, who deals with it first.",
    }  # fmt: skip
    assert "at 1,450.00 CHF a day" in words(p)


def test_look_alike_options_are_never_sold_for_a_wish():
    p = letter("prairie-literacy", "agency-look-alikes")
    assert option_line(p, "Producer hotline") == (
        "A$950.00 a month", "You may need us outside working hours.")  # fmt: skip
    assert [o.title for o in p.options] == ["Producer hotline"]
    instead = {i.title: i.text for i in p.instead}
    assert instead["You would like replies within four hours."].startswith(
        "We answer messages within one working day.")  # fmt: skip
    assert instead["You would like an update every day."].startswith(
        "You receive a written status report every Friday")  # fmt: skip


def test_a_retainer_is_planned_month_by_month_and_priced_by_the_card():
    p = letter("maison-vigne", "demo")
    assert option_line(p, "Extra revision round") == (
        "£600.00 per round", "You expect up to 6 rounds of revisions per deliverable.")  # fmt: skip
    assert option_line(p, "Weekly progress call") == (
        "£300.00 a month",
        "You would like updates a few times a week. You prefer to talk things through in meetings.",
    )  # fmt: skip
    text = words(p)
    assert "Planning (week 1)" in text and "Final delivery and handover" not in text
    assert "The fee is £3,800.00 a month, invoiced monthly in advance." in text
    other = letter("maison-vigne", "agency-two-options")
    assert "we meet at each monthly review" in words(other)
    assert "end of every phase" not in words(other)


def test_a_wish_no_playbook_rule_names_is_still_priced_when_beyond_the_standard():
    # Three rounds where the agency includes two: no rule fires (it takes four), the
    # agency's level does.
    p = letter("taniwha-brewing", "agency-two-options")
    assert option_line(p, "Additional design round") == (
        "$750.00 per round", "You expect up to 3 rounds of revisions per deliverable.")  # fmt: skip
    assert option_line(p, "Express answers")[1] == "You would like replies within an hour."


def test_no_wishes_and_no_worries_make_a_short_plain_letter():
    for agency in AGENCIES:
        p = letter("kookaburra-dental", agency)
        assert p.options == () and p.instead == ()
        assert "worries" not in [s.id for s in p.sections]
        assert "Everything you described fits our standard way of working" in words(p)


def test_a_draft_with_every_worry_answers_each_and_confirms_the_fee_later():
    p = letter("osaka-draft", "demo")
    assert option_line(p, "Shared task board") == (
        "£150.00 for the project", "You would like to see the work as it progresses.")  # fmt: skip
    assert option_line(p, "Out-of-hours cover") == (
        "£400.00 a month", "You may need us outside working hours.")  # fmt: skip
    worries = next(s for s in p.sections if s.id == "worries")
    assert len(worries.items) == 8  # the biggest worry, quoted, and all seven fears
    assert "We will confirm the fee and the dates with you" in words(p)


def test_the_json_lists_the_options_with_offered_because(tmp_path):
    terms = tmp_path / "terms.json"
    terms.write_text(json.dumps(terms_of("tidewater-saas", "agency-two-options")))
    result = CliRunner().invoke(main, [
        "proposal", str(FIXTURES / "tidewater-saas.json"), "--terms", str(terms),
        "--agency", str(FIXTURES / "agency-two-options.yaml"), "--json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [(o["id"], o["price"]["text"], o["offered_because"], o["included"])
            for o in data["options"]] == [
        ("express_answers", "$1,200.00 a month", "You would like replies within an hour.",
         False),
        ("additional_design_round", "$750.00 per round",
         "You expect up to 10 rounds of revisions per deliverable.", False),
    ]  # fmt: skip
    assert len(data["instead"]) == 3


def test_an_option_short_of_the_wish_says_it_is_the_most_the_agency_offers():
    """Replies within the hour, ten rounds: the demo card's options reach four working
    hours and two plus six rounds; the letter says so rather than letting the client
    believe the wish is met. An option that meets its wish says nothing more."""
    p = letter("tidewater-saas", "demo")
    closest = {o.title: o.closest for o in p.options}
    assert closest["Priority replies"] == "This is the fastest reply we offer."
    assert closest["Extra revision round"] == (
        "With the two rounds the fee includes, that makes up to eight rounds per "
        "deliverable, the most we offer."
    )
    assert closest["Daily status note"] == ""  # daily, as asked
    assert "This is the fastest reply we offer." in words(p)
    # a four-hour wish is met by the four-hour option; three rounds by the extra round
    assert {o.title: o.closest for o in letter("prairie-literacy", "demo").options}[
        "Priority replies"
    ] == ""
    assert {o.title: o.closest for o in letter("taniwha-brewing", "demo").options}[
        "Extra revision round"
    ] == ""
    # an agency whose option meets the hour says nothing more
    assert option_line(letter("tidewater-saas", "agency-two-options"), "Express answers")
    assert all(not o.closest for o in letter("tidewater-saas", "agency-two-options").options
               if o.title == "Express answers")  # fmt: skip


def test_a_client_who_prefers_a_project_portal_is_offered_the_shared_board():
    answers = dict(answers_of("kookaburra-dental"), preferred_channel="portal")
    p = compose_proposal(answers, assess(answers), date="2027-01-04")
    board = [o for o in p.options if o.id == "shared_task_board"]
    assert board and board[0].offered_because == (
        "You would like to follow the project in a portal."
    )
