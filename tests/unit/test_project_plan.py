"""The project plan kept from a countersigned agreement (onboarding.domain.project)."""

import datetime as dt
import json
from pathlib import Path

import pytest

from onboarding import assess
from onboarding.domain import project
from onboarding.domain.agreement import compose
from onboarding.domain.terms import parse_terms

ROOT = Path(__file__).resolve().parents[2]
MONDAY = dt.date(2027, 1, 11)


def shipped_content():
    """The canonical content of the calm-founder agreement with its terms, as stored."""
    answers = json.loads((ROOT / "examples/calm-founder.json").read_text())
    terms = parse_terms(json.loads((ROOT / "examples/calm-founder.terms.json").read_text()))
    return compose(answers, assess(answers), date="2027-01-04", terms=terms).content()


ROADMAP = {
    "weeks": 6,
    "update_frequency": "weekly",
    "phases": [
        {"name": "Discovery", "start_week": 1, "end_week": 1, "deliverable": "Brief confirmed"},
        {"name": "Production", "start_week": 2, "end_week": 5, "deliverable": "Designs"},
        {"name": "Launch", "start_week": 6, "end_week": 6, "deliverable": "Files handed over"},
    ],
}


def plan(**levels):
    terms = {
        "start_date": MONDAY.isoformat(),
        "launch_date": "2027-02-19",
        "service_levels": {
            "update_cadence": "weekly",
            "acceptance_days": 5,
            "revision_rounds": 2,
            **levels,
        },
    }
    return project.plan_from({"terms": terms, "roadmap": ROADMAP}, fallback_start=MONDAY)


def test_phases_become_milestones_with_agreed_dates_ending_on_a_friday():
    p = plan()
    assert [m.name for m in p.milestones] == ["Discovery", "Production", "Launch"]
    assert [m.agreed_end for m in p.milestones] == [
        dt.date(2027, 1, 15),
        dt.date(2027, 2, 12),
        dt.date(2027, 2, 19),
    ]
    assert p.milestones[1].agreed_start == dt.date(2027, 1, 18)
    assert all(m.agreed_end.weekday() == 4 for m in p.milestones)
    assert p.at_risk() == ()


def test_a_move_needs_a_reason_and_shows_both_dates():
    p = plan()
    with pytest.raises(project.PlanError) as refused:
        project.check_change(p, "m2", state=None, due="2027-02-19", reason="")
    assert refused.value.field == "reason"
    change = project.check_change(
        p, "m2", state="in_progress", due="2027-02-19", reason="Photography arrived a week late."
    )
    moved = project.with_changes(p, [change]).milestone("m2")
    assert moved.moved and moved.agreed_end == dt.date(2027, 2, 12)
    assert moved.end == dt.date(2027, 2, 19) and moved.reason.startswith("Photography")
    assert moved.state_label == "In progress"


def test_the_fixed_launch_date_is_flagged_when_a_move_passes_it():
    p = plan()
    change = project.check_change(
        p, "m3", state=None, due="2027-02-26", reason="Waiting for the printer's proofs."
    )
    risky = project.with_changes(p, [change])
    assert [m.name for m in risky.at_risk()] == ["Launch"]
    back = project.check_change(risky, "m3", state=None, due="2027-02-19", reason="Proofs came.")
    assert project.with_changes(risky, [change, back]).at_risk() == ()


@pytest.mark.parametrize(
    ("due", "field"), [("9999-01-01", "due"), ("next week", "due"), ("2026-01-01", "due")]
)
def test_impossible_dates_are_refused_naming_the_field(due, field):
    with pytest.raises(project.PlanError) as refused:
        project.check_change(plan(), "m1", state=None, due=due, reason="A good long reason.")
    assert refused.value.field == field


def test_unknown_state_or_milestone_or_no_change_is_refused():
    with pytest.raises(project.PlanError, match="Choose one of"):
        project.check_change(plan(), "m1", state="finished", due=None, reason="")
    with pytest.raises(project.PlanError, match="no milestone"):
        project.check_change(plan(), "m9", state="done", due=None, reason="")
    with pytest.raises(project.PlanError, match="nothing was changed"):
        project.check_change(plan(), "m1", state=None, due=None, reason="")


def test_updates_fall_due_by_the_agreed_cadence():
    weekly = plan()
    assert project.next_update_due(weekly, None) == dt.date(2027, 1, 18)
    assert not project.update_overdue(weekly, None, dt.date(2027, 1, 18))
    assert project.update_overdue(weekly, None, dt.date(2027, 1, 19))
    assert project.next_update_due(weekly, dt.date(2027, 1, 22)) == dt.date(2027, 1, 29)
    fortnightly = plan(update_cadence="biweekly")
    assert project.next_update_due(fortnightly, None) == dt.date(2027, 1, 25)
    at_milestones = plan(update_cadence="milestones_only")
    assert project.next_update_due(at_milestones, None) is None
    assert not project.update_overdue(at_milestones, None, dt.date(2030, 1, 1))


def test_silence_counts_as_acceptance_after_the_review_window_in_working_days():
    friday = dt.date(2027, 1, 15)
    assert project.accepted_on(friday, plan()) == dt.date(2027, 1, 22)
    assert project.accepted_on(friday, plan(acceptance_days=2)) == dt.date(2027, 1, 19)


def test_rounds_beyond_those_included_are_told_not_taken():
    p = plan(revision_rounds=2)
    assert project.rounds(p, 1).left == 1 and not project.rounds(p, 1).beyond
    assert project.rounds(p, 2).left == 0 and project.rounds(p, 2).beyond


def test_the_plan_reads_the_shipped_agreement_content():
    data = shipped_content()
    p = project.plan_from(data, fallback_start=dt.date(2030, 1, 7))
    assert p.start == MONDAY and p.cadence == "weekly" and p.revision_rounds == 2
    assert [m.name for m in p.milestones] == [ph["name"] for ph in data["roadmap"]["phases"]]
    assert p.milestones[-1].agreed_end >= p.milestones[0].agreed_end
