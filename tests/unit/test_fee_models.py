"""Each engagement model stated the way it is billed (terms.md "v2 additions",
proposal.md "Engagement models"), for clients and an agency that are not the examples:
the fixtures in ``tests/unit/fee_models/`` (a Norwegian content retainer, a Portuguese
app design on time and materials, a tea campaign on a fixed fee with a paid discovery
and a launch date, all for a Dutch agency with its own terms)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from onboarding import assess
from onboarding.cli import main
from onboarding.domain.agreement import agreement_json, compose
from onboarding.domain.consistency import check_agreement
from onboarding.domain.terms import (
    TermsInvalid,
    default_profile,
    default_supplements,
    load_profile,
    parse_terms,
)

HERE = Path(__file__).parent / "fee_models"
DAY = "2026-12-01"


def answers_of(name: str) -> dict:
    return json.loads((HERE / f"{name}.json").read_text())


def terms_of(name: str) -> dict:
    return json.loads((HERE / f"{name}.terms.json").read_text())


@pytest.fixture(scope="module")
def agency():
    return load_profile(yaml.safe_load((HERE / "agency.yaml").read_text()))


def agreement(name: str, profile, terms: dict | None = None):
    answers = answers_of(name)
    engagement = parse_terms(terms_of(name) if terms is None else terms)
    return compose(answers, assess(answers), date=DAY, profile=profile, terms=engagement)


def every_text(a) -> str:
    """Everything a reader sees: summary, scope table, roadmap, clauses."""
    parts = [f"{i.label}: {i.text}" for i in a.summary]
    parts += [f"{r.label}: {' | '.join(r.lines)}" for r in a.scope]
    parts += [f"{p.name} {p.weeks} {p.deliverable}" for p in a.roadmap.phases]
    parts += [f"{c.title}: {c.text}" for c in a.clauses]
    return "\n".join(parts)


def scope(a) -> dict[str, str]:
    return {r.label: " | ".join(r.lines) for r in a.scope}


def glance(a) -> dict[str, str]:
    return {i.label: i.text for i in a.summary}


# --- a retainer -----------------------------------------------------------------------


def test_a_retainer_states_fee_allowance_term_renewal_and_unused_time(agency):
    a = agreement("retainer", agency)
    assert not a.draft
    rows = scope(a)
    assert rows["Monthly fee"] == "€4,200.00 a month, invoiced monthly in advance"
    assert rows["Monthly allowance"] == "6 days of work a month"
    assert rows["Minimum term"].startswith("three months from the start date")
    assert "60 days' written notice" in rows["Renewal"]  # the agency's notice period
    assert rows["Unused allowance"].startswith("Up to 50% of a month's unused allowance")
    assert "Payment schedule" not in rows
    fee = glance(a)["Fee"]
    for label in ("Monthly fee: €4,200.00", "Monthly allowance: 6 days",
                  "Minimum term: three months",
                  "then month by month until either party gives 60 days' notice",
                  "Unused allowance: up to 50%"):  # fmt: skip
        assert label in fee
    assert "minimum term runs to 31 May 2027" in glance(a)["Dates"]
    term = next(c for c in a.clauses if c.id == "termination_retainer")
    assert "minimum term of three months" in term.text and "renews month by month" in term.text


def test_a_retainer_is_a_monthly_cycle_never_a_project(agency):
    a = agreement("retainer", agency)
    assert [p.name for p in a.roadmap.phases] == ["Planning", "Delivery", "Review"]
    assert a.roadmap.cycle and a.roadmap.minimum_months == 3
    text = every_text(a)
    project = ("Final delivery and handover", "until the agreed work is delivered", "100%",
               "12 weeks", "Discovery", "Planned end", "five phases")  # fmt: skip
    for words in project:
        assert words not in text, words
    assert "The project" not in glance(a) and "The retainer" in glance(a)
    # The minimum term is stated once, in the termination clause (checked above for its
    # wording); the project's term clause names it and points at Termination.
    term_and_exit = next(c for c in a.clauses if c.id == "term_and_exit")
    assert "minimum term" in term_and_exit.text and "three months" not in term_and_exit.text
    assert "Termination (section" in term_and_exit.text
    ended = next(c for c in a.clauses if c.id == "termination_retainer")
    assert "minimum term of three months" in ended.text


def test_a_retainer_with_no_rollover_says_unused_time_lapses(agency):
    data = terms_of("retainer")
    data["fee"] = {
        "model": "retainer",
        "monthly": "1500",
        "allowance": "12.5",
        "allowance_unit": "hours",
        "months": 6,
    }  # fmt: skip  (v1 key: months)
    rows = scope(agreement("retainer", agency, data))
    assert rows["Monthly allowance"] == "12.5 hours of work a month"
    assert rows["Minimum term"].startswith("six months")
    assert rows["Unused allowance"].startswith("Unused allowance does not carry over")


def test_a_retainer_has_no_payment_schedule():
    with pytest.raises(TermsInvalid) as info:
        parse_terms(
            {
                "fee": {
                    "model": "retainer",
                    "monthly": "1800",
                    "allowance": 4,
                    "minimum_months": 3,
                },  # fmt: skip
                "payment_schedule": [{"when": "monthly", "percent": 100}],
            }
        )
    assert [e.field for e in info.value.errors] == ["payment_schedule"]
    assert "monthly in advance" in info.value.errors[0].message


# --- time and materials ---------------------------------------------------------------


def test_time_and_materials_labels_rate_estimate_cap_and_deposit(agency):
    a = agreement("time", agency)
    assert not a.draft
    rows = scope(a)
    assert rows["Day rate"] == "€850.00"
    assert rows["Estimate"].startswith("40 days (€34,000.00)")
    assert rows["Cap"].startswith("€36,000.00, a limit")
    assert rows["Deposit"].startswith("€5,000.00, invoiced on signing and credited against")
    assert rows["Billing"] == "Time worked is invoiced monthly in arrears, with the time records"
    fee = glance(a)["Fee"]
    for label in ("Day rate: €850.00", "Estimate: 40 days (€34,000.00)", "Cap: €36,000.00",
                  "Deposit: €5,000.00", "monthly in arrears"):  # fmt: skip
        assert label in fee
    text = every_text(a)
    assert "Payment schedule" not in rows and "%" not in fee
    # The cap is a limit, never the base of a percentage.
    assert "(€36,000.00)" not in text and "€7,200.00" not in text


def test_an_hourly_rate_reads_as_hours(agency):
    data = dict(terms_of("time"), fee={"model": "time_and_materials", "rate": "95",
                                       "rate_unit": "hour", "estimate": 120})  # fmt: skip
    rows = scope(agreement("time", agency, data))
    assert rows["Hourly rate"] == "€95.00"
    assert rows["Estimate"].startswith("120 hours (€11,400.00)")
    assert "Cap" not in rows and "Deposit" not in rows


def test_time_and_materials_refuses_a_percentage_schedule_and_a_cap_below_the_estimate():
    with pytest.raises(TermsInvalid) as info:
        parse_terms(
            {
                "fee": {
                    "model": "time_and_materials",
                    "rate": "850",
                    "estimate": 40,
                    "cap": "30000",
                },  # fmt: skip
                "payment_schedule": [
                    {"when": "on_signing", "percent": 20},
                    {"when": "on_completion", "percent": 80},
                ],
            }
        )
    fields = {e.field: e.message for e in info.value.errors}
    assert "monthly in arrears" in fields["payment_schedule"]
    assert "at least the estimate" in fields["fee.cap"]


def test_the_v1_time_and_materials_keys_are_still_read_as_a_day_rate():
    fee = parse_terms(
        {"fee": {"model": "time_and_materials", "day_rate": "700", "estimate_days": 10}}
    ).fee
    assert fee.amounts["rate"] == 700 and fee.amounts["rate_unit"] == "day"
    assert fee.amounts["estimate"] == 10
    for bad, field in (
        ({"day_rate": "700", "rate": "700", "estimate": 3}, "fee.day_rate"),
        ({"rate": "90", "rate_unit": "hour", "estimate_days": 3}, "fee.estimate_days"),
        ({"rate": "90", "rate_unit": "week", "estimate": 3}, "fee.rate_unit"),
        ({"rate": "90", "estimate": 3, "monthly": "10"}, "fee.monthly"),
    ):
        with pytest.raises(TermsInvalid) as info:
            parse_terms({"fee": {"model": "time_and_materials", **bad}})
        assert field in {e.field for e in info.value.errors}, bad


# --- a fixed fee ----------------------------------------------------------------------


def test_a_fixed_fee_shows_percent_with_amounts_and_its_paid_discovery(agency):
    a = agreement("fixed", agency)
    assert not a.draft
    rows = scope(a)
    assert rows["Fee"] == "€22,000.00, a fixed fee for the deliverables listed"
    assert rows["Payment schedule"] == (
        "On signing: 30% (€6,600.00) | At the end of the Production phase: 40% (€8,800.00) "
        "| On completion: 30% (€6,600.00)"
    )
    assert rows["Paid discovery"] == "€3,500.00, part of the fixed fee, for the Discovery phase"
    # What is paid on stopping at the Discovery review: once, in the standard clause; the
    # project's decision point names it by its title.
    stop = next(c for c in a.clauses if c.id == "paid_discovery_stop")
    assert "no more" in stop.text and "in place of any deposit or cancellation fee" in stop.text
    assert "price of the paid discovery" in stop.text
    discovery = next(c for c in a.clauses if c.id == "paid_discovery")
    assert "Stopping after the paid discovery (section" in discovery.text
    assert "no more" not in discovery.text and "price" not in discovery.text
    text = every_text(a)
    assert "charged by time" not in text and "cap" not in text.lower().replace("capital", "")


def test_a_fixed_fee_keeps_the_timeline_and_vendors_with_the_agency(agency):
    a = agreement("fixed", agency)
    who = {r.area: r for r in a.decisions}
    assert who["timeline"].owner == "fixed_fee" and who["vendor_choice"].owner == "fixed_fee"
    assert "change request" in who["timeline"].how
    assert who["copy"].owner == "client"
    decision = next(c for c in a.clauses if c.id == "decision_rights")
    assert "Timeline" not in decision.text and "Choice of vendors" not in decision.text
    answers = answers_of("fixed")
    assert check_agreement(a, answers, assess(answers), parse_terms(terms_of("fixed"))) == []


def test_a_fixed_launch_date_is_stated_wherever_it_is_promised(agency):
    a = agreement("fixed", agency)  # the date is in the answers, not the terms
    clause = next(c for c in a.clauses if c.id == "fixed_launch_date")
    assert "The launch date, 19 March 2027, cannot move" in clause.text
    assert "19 March 2027" in scope(a)["Dates"] and "19 March 2027" in glance(a)["Dates"]
    late = dict(terms_of("fixed"), start_date="2027-03-01")
    dates = scope(agreement("fixed", agency, late))["Dates"]
    assert "ends on 9 April 2027, after it" in dates


def test_a_fixed_fee_ends_early_for_the_client_with_a_cancellation_fee(agency):
    a = agreement("fixed", agency)
    ids = {c.id for c in a.clauses}
    assert {"termination_fixed_fee", "cancellation_fee"} <= ids
    assert "termination_by_notice" not in ids and "termination_time_and_materials" not in ids
    end = next(c for c in a.clauses if c.id == "termination_fixed_fee")
    assert "Agency may end it early only for cause" in end.text
    fee = next(c for c in a.clauses if c.id == "cancellation_fee")
    assert "20% of the part of the fixed fee not yet invoiced" in fee.text
    assert "signing_deposit" not in ids  # this agency takes no non-refundable deposit


# --- the agency's standard terms ---------------------------------------------------------


def test_the_shipped_terms_are_balanced_for_an_agency():
    answers = answers_of("fixed")
    a = compose(answers, assess(answers), date=DAY, profile=default_profile(),
                terms=parse_terms(terms_of("fixed")))  # fmt: skip
    by_id = {c.id: c.text for c in a.clauses}
    assert "8% a year above the Bank of England base rate" in by_id["late_payment"]
    assert "non_solicitation" in by_id  # on by default
    assert "£1,000,000" in by_id["professional_insurance"]
    assert "not refunded" in by_id["signing_deposit"]
    assert "25%" in by_id["cancellation_fee"]
    exclusions = by_id["liability_exclusions"]
    assert "Claims from third parties" in exclusions and "data protection" in exclusions
    assert "does not apply" not in by_id["limitation_of_liability"]
    assert "does not turn them into a promise" in by_id["no_guarantee_of_results"]


def test_the_profile_can_turn_non_solicitation_and_insurance_off(agency):
    ids = {c.id for c in agreement("time", agency).clauses}
    assert "non_solicitation" not in ids
    profile = load_profile(dict(yaml.safe_load((HERE / "agency.yaml").read_text()),
                                insurance_cover=""))  # fmt: skip
    assert profile.insurance_cover == "£1,000,000"  # blank: the shipped default fills it
    with pytest.raises(TermsInvalid) as info:
        load_profile(dict(yaml.safe_load((HERE / "agency.yaml").read_text()),
                          non_solicitation="no", late_interest_percent="eight"))  # fmt: skip
    assert {e.field for e in info.value.errors} == {"non_solicitation", "late_interest_percent"}


# --- supplements from the deliverables ----------------------------------------------------


@pytest.mark.parametrize(
    ("answers", "deliverables", "expected"),
    [
        ({"project_type": "campaign", "deliverables": ["social_media", "paid_media"]},
         ["A pitch deck", "Copy for the landing page"], ()),
        ({"project_type": "campaign", "deliverables": ["online_video"]}, [], ("motion",)),
        ({"project_type": "branding", "deliverables": ["brand_identity"]},
         ["Packaging for the tea tins (print-ready files)"], ("print",)),
        ({"project_type": "branding"}, [], ()),
        ({"project_type": "website"}, [], ("interactive",)),
        ({"project_type": "content", "deliverables": ["social_media"]},
         ["A 30-second animation for the launch"], ("motion",)),
    ],
)  # fmt: skip
def test_supplements_follow_what_is_delivered(answers, deliverables, expected):
    assert default_supplements(answers, deliverables) == expected


def test_a_campaign_of_posts_and_copy_gets_no_print_or_motion_terms(agency):
    data = dict(terms_of("fixed"), deliverables=["A pitch deck", "Six social posts"])
    answers = dict(answers_of("fixed"), deliverables=["social_media"])
    a = compose(answers, assess(answers), date=DAY, profile=agency, terms=parse_terms(data))
    ids = {c.id for c in a.clauses}
    assert not ids & {"supplement_print", "supplement_motion"}
    motion = next(c for c in agreement("fixed", agency).clauses if c.id == "supplement_motion")
    assert "set out in Scope and fees" not in motion.text.split(".")[0]


# --- the command line ---------------------------------------------------------------------


@pytest.mark.parametrize("name", ["retainer", "time", "fixed"])
def test_the_command_line_states_each_model_as_billed(name):
    out = CliRunner().invoke(
        main,
        ["agreement", str(HERE / f"{name}.json"), "--terms", str(HERE / f"{name}.terms.json"),
         "--agency", str(HERE / "agency.yaml"), "--json"],
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["draft"] is False
    fee = data["resolved_terms"]["fee"]
    assert fee["model"] == {"retainer": "retainer", "time": "time_and_materials",
                            "fixed": "fixed"}[name]  # fmt: skip
    assert ("payment_schedule" in data["resolved_terms"]) == (name == "fixed")
    texts = " ".join(c["text"] for s in data["sections"] for c in s["clauses"])
    assert "Noordlicht" in texts or data["resolved_terms"]["agency"]["trading_name"] == "Noordlicht"
    if name == "retainer":
        assert fee["minimum_months"] == "3" and fee["allowance_unit"] == "days"
        assert "until the agreed work is delivered" not in texts


def test_agreement_json_of_each_model_is_stable(agency):
    for name in ("retainer", "time", "fixed"):
        first, second = agreement(name, agency), agreement(name, agency)
        assert agreement_json(first) == agreement_json(second)


# --- dates the plan can hold ----------------------------------------------------------------


def test_review_windows_fit_the_phases_they_gate(agency):
    from onboarding.domain import schedule

    assert schedule.milestone_review_days(6, 5) == 2  # one-week phases: a 2-day sign-off
    assert schedule.milestone_review_days(20, 5) == 5  # three-week phases hold the full window
    assert schedule.milestone_review_days(20, 3) == 3  # never longer than the agency's window
    answers = dict(answers_of("fixed"), fears=["loss_of_control"])
    a = compose(answers, assess(answers), date=DAY, profile=default_profile(),
                terms=parse_terms(terms_of("fixed")))  # fmt: skip
    veto = next(c for c in a.clauses if c.id == "veto_points")
    assert "once two working days after the milestone review" in veto.text
    assert "5 working days" not in veto.text


def test_a_time_and_materials_agency_cannot_walk_away_before_a_fixed_launch(agency):
    plain = {c.id for c in agreement("time", agency).clauses}
    assert "launch_date_protected" not in plain
    dated = dict(terms_of("time"), launch_date="2027-04-30")
    clause = next(c for c in agreement("time", agency, dated).clauses
                  if c.id == "launch_date_protected")  # fmt: skip
    assert "no earlier than the day after the launch date" in clause.text


def test_the_examples_state_their_launch_date_and_their_discipline_terms():
    from tests.factories import EXAMPLES

    def example(name):
        answers = json.loads((EXAMPLES / f"{name}.json").read_text())
        terms = parse_terms(json.loads((EXAMPLES / f"{name}.terms.json").read_text()))
        return compose(answers, assess(answers), date=DAY, terms=terms)

    director = example("hands-on-director")  # the launch date is in the answers only
    launch = next(c for c in director.clauses if c.id == "fixed_launch_date")
    assert "The launch date, 22 February 2027, cannot move" in launch.text
    founder = example("calm-founder")  # packaging is printed, signage is built
    assert founder.terms["supplements"] == ["print", "environmental"]
    marketer = example("burned-marketer")
    assert marketer.terms["supplements"] == ["interactive"]
    assert "Paid discovery" in scope(marketer)
