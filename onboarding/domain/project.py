"""The project after the signature: the agreement's promises, tracked (pure Python).

A countersigned agreement holds a plan (the roadmap's phases, from a start date), an
update rhythm, a review window and a number of revision rounds. This module turns that
content into a :class:`Plan` and answers what the project page shows:

- each milestone's agreed dates, its state, and (once moved) the new date beside the
  agreed one with the reason the client is given;
- a fixed date (the launch date the agreement promises) flagged when the plan puts a
  milestone after it;
- when the next update is due by the agreed cadence, and whether one is overdue;
- the day a deliverable counts as accepted if the client says nothing within the review
  window, and how many of the included revision rounds are left.

Nothing here reads a clock: every function takes ``today`` (or a moment) from its
caller, so a test can fix it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

STATES = ("planned", "in_progress", "waiting_for_client", "done")
"""A milestone's states, as the manager sets them (``moved`` is shown from its dates)."""

STATE_LABELS = {
    "planned": "Planned",
    "in_progress": "In progress",
    "waiting_for_client": "Waiting for you",
    "done": "Done",
}

CADENCE_DAYS = {"daily": 1, "few_per_week": 3, "weekly": 7, "biweekly": 14}
"""Calendar days between updates for each agreed cadence (milestones only: none)."""

DEFAULT_ACCEPTANCE_DAYS = 5
DEFAULT_REVISION_ROUNDS = 2


class PlanError(ValueError):
    """A change to the plan that cannot be made; ``field`` names what to correct."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Milestone:
    id: str  # "m1", "m2", ... in plan order
    name: str
    deliverable: str
    agreed_start: dt.date
    agreed_end: dt.date
    state: str = "planned"
    due: dt.date | None = None  # the current date when it was moved, else None
    reason: str = ""  # why it moved, as the client reads it

    @property
    def end(self) -> dt.date:
        """The date the milestone is now due (the agreed one unless it moved)."""
        return self.due or self.agreed_end

    @property
    def moved(self) -> bool:
        return self.due is not None and self.due != self.agreed_end

    @property
    def state_label(self) -> str:
        return STATE_LABELS[self.state]


@dataclass(frozen=True)
class Plan:
    milestones: tuple[Milestone, ...]
    start: dt.date
    fixed_date: dt.date | None  # a date the agreement fixed (the launch date)
    cadence: str  # the agreed update cadence key ("weekly", "milestones_only", ...)
    acceptance_days: int  # working days the client has to review a deliverable
    revision_rounds: int  # included per deliverable

    def milestone(self, milestone_id: str) -> Milestone:
        for m in self.milestones:
            if m.id == milestone_id:
                return m
        raise PlanError("milestone", f"There is no milestone {milestone_id!r} in this plan.")

    def at_risk(self) -> tuple[Milestone, ...]:
        """Milestones now due after the fixed date (none when the agreement fixed none)."""
        if self.fixed_date is None:
            return ()
        return tuple(m for m in self.milestones if m.end > self.fixed_date)


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _whole(value: Any, default: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return default
    return value


def plan_from(content: Mapping[str, Any], *, fallback_start: dt.date) -> Plan:
    """The plan a countersigned agreement's ``content`` agreed (the version's JSON, as
    ``onboarding agreement --json`` prints it: ``resolved_terms`` and ``roadmap``).

    Phases run in whole weeks from the terms' ``start_date`` (``fallback_start`` when the
    agreement named none): week ``n`` starts ``7 * (n - 1)`` days after the start, and a
    phase ends on the last working day (Friday) of its last week.
    """
    terms = content.get("resolved_terms") or content.get("terms") or {}
    levels = terms.get("service_levels") or {}
    start = _date(terms.get("start_date")) or fallback_start
    roadmap = content.get("roadmap") or {}
    milestones = []
    for i, phase in enumerate(roadmap.get("phases") or (), start=1):
        first = max(1, int(phase.get("start_week") or 1))
        last = max(first, int(phase.get("end_week") or first))
        week_start = start + dt.timedelta(days=7 * (first - 1))
        week_end = start + dt.timedelta(days=7 * (last - 1))
        milestones.append(
            Milestone(
                id=f"m{i}",
                name=str(phase.get("name") or f"Phase {i}"),
                deliverable=str(phase.get("deliverable") or ""),
                agreed_start=week_start,
                agreed_end=_friday_of(week_end),
            )
        )
    cadence = levels.get("update_cadence") or roadmap.get("update_frequency") or "weekly"
    return Plan(
        milestones=tuple(milestones),
        start=start,
        fixed_date=_date(terms.get("launch_date")),
        cadence=str(cadence),
        acceptance_days=_whole(levels.get("acceptance_days"), DEFAULT_ACCEPTANCE_DAYS),
        revision_rounds=_whole(levels.get("revision_rounds"), DEFAULT_REVISION_ROUNDS),
    )


def _friday_of(day: dt.date) -> dt.date:
    """The working week's last day for the week holding ``day`` (Monday-based)."""
    return day + dt.timedelta(days=4 - day.weekday())


def with_changes(plan: Plan, changes: Iterable[Mapping[str, Any]]) -> Plan:
    """The plan with the recorded changes applied in order (state, moves with reasons).

    Each change is ``{"milestone": id, "state": ..., "due": date|None, "reason": str}``;
    keys may be missing. A later change wins; a move back to the agreed date clears it.
    """
    by_id = {m.id: m for m in plan.milestones}
    for change in changes:
        current = by_id.get(str(change.get("milestone")))
        if current is None:
            continue
        state = change.get("state") or current.state
        due, reason = current.due, current.reason
        if "due" in change:
            due = _date(change.get("due"))
            reason = str(change.get("reason") or "")
            if due == current.agreed_end:
                due, reason = None, ""
        by_id[current.id] = replace(current, state=state, due=due, reason=reason)
    return replace(plan, milestones=tuple(by_id[m.id] for m in plan.milestones))


def check_change(
    plan: Plan, milestone_id: str, *, state: str | None, due: Any, reason: str
) -> dict[str, Any]:
    """A manager's change to one milestone, checked; the recorded change or PlanError.

    A move needs a reason the client can read (at least a few words) and a real date
    no earlier than the plan's start.
    """
    current = plan.milestone(milestone_id)
    change: dict[str, Any] = {"milestone": current.id}
    if state not in (None, ""):
        if state not in STATES:
            raise PlanError("state", "Choose one of: " + ", ".join(STATE_LABELS.values()) + ".")
        change["state"] = state
    if due not in (None, ""):
        day = _date(due)
        if day is None:
            raise PlanError("due", "Enter the new date as a date, for example 2027-03-12.")
        if day < plan.start or day.year >= 2100:
            raise PlanError("due", "Enter a date between the project's start and 2099.")
        if day != current.end:
            if len(reason.strip()) < 10:
                raise PlanError(
                    "reason", "Say why the date moves: the client reads this beside both dates."
                )
            change["due"] = day.isoformat()
            change["reason"] = reason.strip()
    if len(change) == 1:
        raise PlanError("state", "Change the state or the date (nothing was changed).")
    return change


def add_working_days(day: dt.date, count: int) -> dt.date:
    """``count`` working days (Monday to Friday) after ``day``."""
    out = day
    left = max(0, count)
    while left:
        out += dt.timedelta(days=1)
        if out.weekday() < 5:
            left -= 1
    return out


def accepted_on(requested: dt.date, plan: Plan) -> dt.date:
    """The day a deliverable counts as accepted if the client says nothing by then."""
    return add_working_days(requested, plan.acceptance_days)


def next_update_due(plan: Plan, last_update: dt.date | None) -> dt.date | None:
    """When the next update is due by the agreed cadence (None: at milestones only)."""
    days = CADENCE_DAYS.get(plan.cadence)
    if days is None:
        return None
    return (last_update or plan.start) + dt.timedelta(days=days)


def update_overdue(plan: Plan, last_update: dt.date | None, today: dt.date) -> bool:
    due = next_update_due(plan, last_update)
    return due is not None and today > due


@dataclass(frozen=True)
class Rounds:
    included: int
    used: int

    @property
    def left(self) -> int:
        return max(0, self.included - self.used)

    @property
    def beyond(self) -> bool:
        """Whether the next revision asked for is beyond those included."""
        return self.used >= self.included


def rounds(plan: Plan, revisions_asked: int) -> Rounds:
    return Rounds(included=plan.revision_rounds, used=max(0, revisions_asked))
