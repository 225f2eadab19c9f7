"""Edits over the playbook files (the workspace's editor): applied and checked as the
loader checks the files, with what changed in words."""

import pytest

from onboarding import assess
from onboarding.domain.playbook_edits import EditError, apply_edits, rule_changes, version_of
from onboarding.domain.playbooks import load_playbooks

FILES = load_playbooks()
KEY = "set_boundaries/directs_daily_tasks"


def test_an_edit_changes_the_rule_the_version_and_says_what_changed():
    edited = apply_edits(FILES, {KEY: {"points": -8, "because": "You would like to plan our days"}})
    rule = next(r for r in edited.rules if r.id == "directs_daily_tasks")
    assert (rule.points, rule.risk, rule.because.source) == (
        -8,
        40,
        "You would like to plan our days",
    )
    assert edited.version != FILES.version
    assert edited.version == version_of(
        FILES.version, {KEY: {"points": -8, "because": "You would like to plan our days"}}
    )
    assert rule_changes(FILES, edited) == [f"{KEY} points −5 → −8, reason reworded"]
    answers = {**FILES.baseline, "decisions_owned": ["daily_tasks"]}
    assert assess(answers, edited)["score"] == assess(answers, FILES)["score"] - 3


def test_an_edit_back_to_the_files_is_no_edit():
    assert apply_edits(FILES, {KEY: {"points": -5, "enabled": True}}) is FILES


@pytest.mark.slow  # each edit checks the whole playbook set again
def test_a_rule_switched_off_is_gone():
    edited = apply_edits(FILES, {KEY: {"enabled": False}})
    assert "directs_daily_tasks" not in {r.id for r in edited.rules}
    assert rule_changes(FILES, edited) == [f"{KEY} switched off (or removed)"]


@pytest.mark.slow  # each of the five edits checks the whole playbook set again
@pytest.mark.parametrize(
    "edit, message",
    [({"points": 80}, "points must be a whole number from -50 to 50"),
     ({"risk": 75}, "one answer can move the frustrated_creative risk by 90"),
     ({"because": "You plan {weekly_hours_available}"}, "the reason names weekly_hours_available"),
     ({"because": "You {nonsense}"}, "unknown placeholder {nonsense}"),
     ({"because": "  "}, "the reason is empty")],
)  # fmt: skip
def test_an_edit_the_files_would_refuse_is_refused(edit, message):
    with pytest.raises(EditError) as caught:
        apply_edits(FILES, {KEY: edit})
    assert any(message in p for p in caught.value.problems), caught.value.problems
