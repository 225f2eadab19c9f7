"""What changed between two versions of an agreement (domain.redline): pure and fast."""

from __future__ import annotations

import copy
import datetime as dt
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from onboarding import assess
from onboarding.domain.agreement import agreement_json, compose
from onboarding.domain.redline import (
    NOT_SET,
    changes,
    clause_numbers,
    count,
    diff_words,
    redline,
)
from onboarding.domain.terms import parse_terms
from tests.factories import EXAMPLES

DAY = dt.date(2026, 11, 27)


def load(name: str, kind: str = "json"):
    return json.loads((EXAMPLES / f"{name}.{kind}").read_text())


@pytest.fixture(scope="module")
def marketer():
    answers = load("burned-marketer")
    return answers, assess(answers)


def content(marketer, terms=None) -> dict:
    answers, assessment = marketer
    return agreement_json(
        compose(answers, assessment, date=DAY, terms=parse_terms(terms) if terms else None)
    )


def terms(**changes):
    data = load("burned-marketer", "terms.json")
    data.update(changes)
    return data


def agreement_of(*sections):
    """A small agreement_json dict: sections of (id, [(clause id, title, text)])."""
    return {
        "resolved_terms": {},
        "sections": [
            {
                "id": sid,
                "title": sid.title(),
                "clauses": [
                    {"id": cid, "title": title, "text": text, "source": "standard"}
                    for cid, title, text in clauses
                ],
            }
            for sid, clauses in sections
        ],
    }


def reads(diff, side):
    """The text one side of a diff gives back (its words joined by single spaces)."""
    skip = "+" if side == "before" else "-"
    return " ".join(text for op, text in diff if op != skip)


# --- the story of issue 13 -----------------------------------------------------------------


def test_the_requested_service_levels_show_as_changed_values_and_clauses(marketer):
    before = content(marketer, terms(service_levels={"revision_rounds": 2}))
    after = content(
        marketer, terms(service_levels={"revision_rounds": 3, "update_cadence": "few_per_week"})
    )
    red = redline(before, after)
    assert {"term": "Revision rounds", "from": "2", "to": "3"} in red["values"]
    assert {"term": "Update cadence", "from": "Weekly", "to": "Twice a week"} in red["values"]
    # Nothing else moved but the offer: updates twice a week meet the client's wish for
    # frequent updates, so the weekly call is no longer offered (proposal.md).
    offers = [v for v in red["values"] if v["term"] == "Options offered"]
    assert len(red["values"]) == 2 + len(offers)
    assert offers and "Weekly progress call" in offers[0]["from"]
    assert "Weekly progress call" not in offers[0]["to"]
    by_id = {c["id"]: c for c in red["clauses"]}
    assert {c["change"] for c in red["clauses"]} == {"changed"}
    cadence = by_id["update_cadence"]
    assert ["-", "status report every Friday,"] in cadence["diff"]
    assert ["+", "update twice a week (Tuesday and Friday),"] in cadence["diff"]
    rounds = by_id["included_revisions"]["diff"]
    assert ["-", "two"] in rounds and ["+", "three"] in rounds
    assert set(red) == {"values", "clauses"}
    for c in red["clauses"]:
        assert set(c) == {"id", "title", "change", "diff"}
        assert all(op in "=-+" and isinstance(text, str) for op, text in c["diff"])


def test_the_same_agreement_has_no_changes(marketer):
    one = content(marketer, terms())
    assert redline(one, copy.deepcopy(one)) == {"values": [], "clauses": []}
    assert count(redline(one, one)) == 0 and count(None) == 0


def test_the_shape_is_json(marketer):
    red = redline(content(marketer), content(marketer, terms()))
    assert json.loads(json.dumps(red)) == red


# --- values ------------------------------------------------------------------------------


def test_values_read_as_a_client_reads_them(marketer):
    before = content(marketer, terms())
    after = content(
        marketer,
        terms(
            fee={"model": "fixed", "amount": "90000.00"},
            start_date="2027-02-01",
            launch_date=None,
            exclusions=["Paid media"],
            expenses="included",
            ip_option="exclusive_license",
            currency="EUR",
            payment_days=14,
            service_levels={"revision_rounds": 3, "response_hours": 4, "notice_days": 60},
        ),
    )
    values = {v["term"]: (v["from"], v["to"]) for v in redline(before, after)["values"]}
    assert values["Fee"] == (
        "Fee: £84,000.00, a fixed fee for the deliverables listed; Paid discovery: £9,500.00, "
        "part of the fixed fee, for the Discovery phase",
        "€90,000.00, a fixed fee for the deliverables listed",
    )
    assert values["Start date"] == ("18 January 2027", "1 February 2027")
    assert values["Launch date"] == ("14 May 2027", NOT_SET)
    assert values["Not included"] == (
        "Hosting and domain fees; Copywriting of new pages; Paid media",
        "Paid media",
    )
    assert values["Expenses"] == ("At cost, approved in advance", "Included in the fee")
    assert values["Ownership of the work"] == (
        "Assigned to the Client on full payment",
        "Exclusive licence",
    )
    assert values["Currency"] == ("GBP", "EUR")
    assert values["Invoices payable within"] == ("30 days", "14 days")
    assert values["Reply time"] == ("Within one working day", "Within four working hours")
    assert values["Notice period"] == ("30 days", "60 days")
    first, second = values["Payment schedule"]
    assert first.startswith("On signing: 25% (£21,000.00)")
    assert second.startswith("On signing: 25% (€22,500.00)")
    assert "Revision rounds" not in values  # 3 before and after


def test_a_time_and_materials_fee_lists_its_parts(marketer):
    # The v1 keys (day_rate, estimate_days) still read; no payment schedule: time worked
    # is invoiced monthly in arrears.
    fee = {"model": "time_and_materials", "day_rate": "800", "estimate_days": 30, "cap": "26000"}
    after = terms(fee=fee)
    del after["payment_schedule"]
    red = redline(content(marketer, terms()), content(marketer, after))
    row = next(v for v in red["values"] if v["term"] == "Fee")
    assert row["to"] == (
        "Day rate: £800.00; Estimate: 30 days (£24,000.00), an estimate, not a fixed price; "
        "Cap: £26,000.00, a limit: time beyond it is not charged without the Client's "
        "written approval; Billing: Time worked is invoiced monthly in arrears, with the "
        "time records"
    )


def test_terms_the_module_does_not_know_are_still_compared():
    before = {"resolved_terms": {"travel_budget": "1000", "service_levels": {"x_days": 2}}}
    after = {"resolved_terms": {"travel_budget": "1500", "service_levels": {"x_days": 2}}}
    assert redline(before, after)["values"] == [
        {"term": "Travel budget", "from": "1000", "to": "1500"}
    ]


# --- clauses -----------------------------------------------------------------------------


def test_clauses_are_matched_by_id_and_a_moved_clause_is_not_changed():
    before = agreement_of(("scope", [("a", "A", "First."), ("b", "B", "Second.")]))
    after = agreement_of(
        ("scope", [("new", "New", "Inserted first."), ("a", "A", "First."), ("b", "B", "Second.")])
    )
    red = redline(before, after)
    assert red["clauses"] == [
        {"id": "new", "title": "New", "change": "added", "diff": [["+", "Inserted first."]]}
    ]
    assert clause_numbers(before)["a"] == "1.1" and clause_numbers(after)["a"] == "1.2"
    # Moved to another section, same words: not changed either.
    moved = agreement_of(("intro", [("b", "B", "Second.")]), ("scope", [("a", "A", "First.")]))
    assert redline(before, moved)["clauses"] == []


def test_a_removed_clause_keeps_its_last_words_and_title():
    gone = ("open_books", "Open books", "We  show\ntimesheets.")
    before = agreement_of(("scope", [("a", "A", "First."), gone]))
    after = agreement_of(("scope", [("a", "A", "First.")]))
    assert redline(before, after)["clauses"] == [
        {
            "id": "open_books",
            "title": "Open books",
            "change": "removed",
            "diff": [["-", "We show timesheets."]],
        }
    ]


def test_whitespace_alone_is_no_change_and_a_title_change_is():
    before = agreement_of(("s", [("a", "Title", "Some  words\n here.")]))
    same = agreement_of(("s", [("a", "Title", "Some words here.")]))
    retitled = agreement_of(("s", [("a", "New title", "Some words here.")]))
    assert redline(before, same)["clauses"] == []
    assert redline(before, retitled)["clauses"] == [
        {"id": "a", "title": "New title", "change": "changed", "diff": [["=", "Some words here."]]}
    ]


def test_a_word_diff_merges_runs_and_puts_removals_first():
    diff = diff_words(
        "The Agency sends a written status report every Friday, covering what was done.",
        "The Agency sends a written update twice a week (Tuesday and Friday), covering what was done.",  # noqa: E501
    )
    assert diff == [
        ["=", "The Agency sends a written"],
        ["-", "status report every Friday,"],
        ["+", "update twice a week (Tuesday and Friday),"],
        ["=", "covering what was done."],
    ]


def test_a_short_kept_word_between_two_changes_joins_them():
    diff = diff_words("pay in thirty days by cheque", "pay in fourteen days by transfer")
    assert diff == [
        ["=", "pay in"],
        ["-", "thirty"],
        ["+", "fourteen"],
        ["=", "days by"],
        ["-", "cheque"],
        ["+", "transfer"],
    ]
    folded = diff_words("one red fox ran", "one big red cat ran")
    assert folded[0] == ["=", "one"] and folded[-1] == ["=", "ran"]
    assert reads(folded, "before") == "one red fox ran"
    assert reads(folded, "after") == "one big red cat ran"


words = st.lists(st.sampled_from(["a", "the", "Agency", "Client", "pays", "3", "rounds", "x."]))


@given(words, words)
def test_a_diff_gives_back_both_texts_with_no_two_runs_alike(old, new):
    diff = diff_words(" ".join(old), " ".join(new))
    assert reads(diff, "before") == " ".join(old)
    assert reads(diff, "after") == " ".join(new)
    ops = [op for op, _ in diff]
    assert all(text for _, text in diff)
    assert all(a != b for a, b in zip(ops, ops[1:], strict=False))
    assert "+-" not in "".join(ops)  # a removal comes before the addition replacing it


# --- for a page or the PDF ---------------------------------------------------------------


def test_changes_number_the_clauses_and_shorten_long_kept_text():
    long = " ".join(f"w{i}" for i in range(60))
    before = agreement_of(
        ("one", [("a", "A", "Keep.")]),
        ("two", [("b", "B", f"{long} old {long}"), ("gone", "Gone", "Bye.")]),
    )
    after = agreement_of(
        ("one", [("a", "A", "Keep."), ("c", "C", "Hello.")]),
        ("two", [("b", "B", f"{long} new {long}")]),
    )
    shown = changes(redline(before, after), 1, before, after, context=5)
    assert shown.since == 1 and shown.count == 3
    numbers = {c.id: (c.number, c.change) for c in shown.clauses}
    assert numbers == {"b": ("2.1", "changed"), "c": ("1.2", "added"), "gone": ("2.2", "removed")}
    b = next(c for c in shown.clauses if c.id == "b")
    assert b.diff == (
        ("=", "\u2026 w55 w56 w57 w58 w59"),
        ("-", "old"),
        ("+", "new"),
        ("=", "w0 w1 w2 w3 w4 \u2026"),
    )
    assert len(shown.digest()) == 64
    assert shown.digest() != changes(redline(before, after), 2, before, after).digest()


def test_offers_and_inclusions_show_in_the_redline(marketer):
    before = content(marketer, terms())
    after = content(
        marketer,
        terms(
            options={
                "withdraw": ["shared_task_board"],
                "include": [{"id": "weekly_call", "reason": "Goodwill"}],
            }
        ),  # fmt: skip
    )
    values = {v["term"]: v for v in redline(before, after)["values"]}
    offered = values["Options offered"]
    assert "Shared task board" in offered["from"] and "Shared task board" not in offered["to"]
    assert "Weekly progress call: Included in the fee" in offered["to"]
    chosen = values["Options chosen"]
    assert (chosen["from"], chosen["to"]) == (
        "Not set",
        "Weekly progress call: Included in the fee",
    )
    assert "Goodwill" not in json.dumps(after)  # the reason stays in the history
