"""The process a client can see: phases, milestones, reviews and update points.

Derived from ``timeline_weeks`` and ``update_frequency``; the agreement draws it as
a roadmap and the playbooks quote it in clauses (see :mod:`.templates`). A retainer
is no project: its plan is one month's cycle (planning, delivery, review), repeated
each month of the term (:func:`plan`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

# name, share of the timeline, what the client sees at its end
PHASES: tuple[tuple[str, float, str], ...] = (
    ("Discovery", 0.15, "Brief and goals confirmed in writing"),
    ("Strategy", 0.15, "Strategy and success measures signed off"),
    ("Production", 0.45, "Work in progress presented for review"),
    ("Refinement", 0.15, "Agreed revisions delivered"),
    ("Launch", 0.10, "Final delivery and handover"),
)

CYCLE_WEEKS = 4
"""The weeks of a retainer's monthly cycle as the roadmap draws it."""

MONTHLY_CYCLE: tuple[tuple[str, int, int, str], ...] = (
    ("Planning", 1, 1, "The month's priorities agreed and planned within the allowance"),
    ("Delivery", 2, 3, "The month's work delivered, the time used reported against the allowance"),
    ("Review", 4, 4, "Monthly review: work done, allowance used, next month's priorities"),
)
"""A retainer's month: name, first and last week, what the client sees at its end."""

# update_frequency -> (days between updates, how it reads in a sentence)
CADENCE: dict[str, tuple[float, str]] = {
    "daily": (1, "a short written update every working day"),
    "few_per_week": (2.5, "a written update twice a week (Tuesday and Friday)"),
    "weekly": (5, "a written status report every Friday"),
    "biweekly": (10, "a written status report every second Friday"),
    "milestones_only": (0, "a written report at each milestone"),
}

ASKED_CADENCE: dict[str, str] = {
    "daily": "an update every day",
    "few_per_week": "updates a few times a week",
    "weekly": "a weekly update",
    "biweekly": "an update every two weeks",
    "milestones_only": "updates at milestones only",
}
"""A client's wish for updates, as a wish (quoted by clauses that answer it)."""


@dataclass(frozen=True)
class Phase:
    name: str
    start_week: int  # 1-based, inclusive
    end_week: int  # inclusive
    deliverable: str


def phases(timeline_weeks: int) -> list[Phase]:
    """Split the engagement into the five phases, each at least one week when possible.

    Short engagements merge phases (a one-week project is one phase per working days
    in practice, but the schedule still lists each phase ending in week 1).
    """
    return list(_phases(max(1, int(timeline_weeks))))


@functools.lru_cache(maxsize=256)
def _phases(weeks: int) -> tuple[Phase, ...]:
    # Once per length of timeline: every clause and figure of an assessment asks again.
    out: list[Phase] = []
    start = 1
    elapsed = 0.0
    for i, (name, share, deliverable) in enumerate(PHASES):
        elapsed += share
        end = weeks if i == len(PHASES) - 1 else max(start, round(weeks * elapsed))
        end = min(end, weeks)
        out.append(Phase(name, min(start, end), end, deliverable))
        start = min(end + 1, weeks)
    return tuple(out)


def monthly_cycle() -> list[Phase]:
    """The phases of a retainer's month (the same every month)."""
    return [Phase(name, start, end, seen) for name, start, end, seen in MONTHLY_CYCLE]


def plan(timeline_weeks: int, fee_model: str | None = None) -> list[Phase]:
    """The phases the agreement plans: a retainer's monthly cycle, else the project's
    five phases over its timeline."""
    if fee_model == "retainer":
        return monthly_cycle()
    return phases(timeline_weeks)


def cycle_sentence() -> str:
    """``"each month, Planning in week 1, Delivery in weeks 2–3 and Review in week 4"``."""
    parts = []
    for p in monthly_cycle():
        weeks = (
            f"week {p.start_week}"
            if p.start_week == p.end_week
            else (f"weeks {p.start_week}\u2013{p.end_week}")
        )
        parts.append(f"{p.name} in {weeks}")
    return "each month, " + ", ".join(parts[:-1]) + " and " + parts[-1]


def milestone_review_days(timeline_weeks: int, acceptance_days: int) -> int:
    """The working days a milestone sign-off may take before the next phase starts: the
    review window, shortened so that it fits the phases it gates (at most half of the
    shortest phase, and never under two days): a 5-day review gating one-week phases
    would push the plan back a week at every review."""
    shortest = min(p.end_week - p.start_week + 1 for p in phases(timeline_weeks))
    return max(1, min(int(acceptance_days), max(2, shortest * 5 // 2)))


def review_weeks(timeline_weeks: int) -> list[int]:
    """Weeks with a formal review meeting: the end of every phase, without repeats."""
    seen: list[int] = []
    for p in phases(timeline_weeks):
        if p.end_week not in seen:
            seen.append(p.end_week)
    return seen


def update_weeks(timeline_weeks: int, update_frequency: str) -> list[int]:
    """Weeks in which a written update is due (for the roadmap's tick marks)."""
    days, _ = CADENCE.get(update_frequency, CADENCE["weekly"])
    weeks = max(1, int(timeline_weeks))
    if not days:
        return review_weeks(weeks)
    step = max(1, round(days / 5)) if days >= 5 else 1
    return list(range(1, weeks + 1, step))


@functools.lru_cache(maxsize=256)
def milestone_sentence(timeline_weeks: int) -> str:
    """``"Discovery ends in week 2, Strategy in week 4, ..."`` for clause texts."""
    parts = []
    for i, p in enumerate(phases(timeline_weeks)):
        parts.append(f"{p.name} {'ends ' if i == 0 else ''}in week {p.end_week}")
    return ", ".join(parts[:-1]) + " and " + parts[-1]
