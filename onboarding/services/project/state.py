"""A project and what its page shows (read side). Callers commit what they change."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from onboarding.db import db
from onboarding.db.models import AgreementVersion, Intake, Project, ProjectEntry, utcnow
from onboarding.domain import project as plans
from onboarding.domain import schedule
from onboarding.domain.terms import plural

LINK_DAYS = 365
"""Days the client's project link lasts after it was last renewed (each update email
renews it), unless ``PROJECT_LINK_DAYS`` says otherwise."""


def signed_version(intake: Intake) -> AgreementVersion | None:
    """The latest version signed by both parties, or None."""
    return db.session.scalars(
        select(AgreementVersion)
        .where(
            AgreementVersion.intake_id == intake.id,
            AgreementVersion.countersigned_at.is_not(None),
        )
        .order_by(AgreementVersion.number.desc())
        .limit(1)
    ).first()


def project_of(intake: Intake, *, create: bool = True) -> Project | None:
    """The intake's project: None until an agreement is signed by both parties; made
    (and flushed) the first time it is asked for after that."""
    found = db.session.scalars(select(Project).where(Project.intake_id == intake.id)).first()
    if found is not None or not create:
        return found
    version = signed_version(intake)
    if version is None:
        return None
    found = Project(intake=intake, version=version)
    db.session.add(found)
    db.session.flush()
    return found


def by_token(token: str, *, link_days: int = LINK_DAYS, now: datetime | None = None):
    """The project of a client's link; None for an unknown or lapsed one."""
    if not token or len(token) > 64:
        return None
    found = db.session.scalars(select(Project).where(Project.token == token)).first()
    if found is None:
        return None
    if (now or utcnow()) - found.link_renewed_at > timedelta(days=link_days):
        return None
    return found


def plan_of(project: Project) -> plans.Plan:
    """The agreed plan with the recorded milestone changes applied."""
    version = project.version
    start = (version.countersigned_at or version.sent_at or utcnow()).date()
    content = dict(version.content or {})
    if not content.get("roadmap"):  # sent before versions kept their plan
        weeks = (version.answers or {}).get("timeline_weeks") or 12
        content["roadmap"] = {
            "phases": [
                {
                    "name": p.name,
                    "start_week": p.start_week,
                    "end_week": p.end_week,
                    "deliverable": p.deliverable,
                }
                for p in schedule.phases(int(weeks))
            ]
        }
    plan = plans.plan_from(content, fallback_start=start)
    changes = [e.data for e in project.entries if e.kind == "milestone"]
    return plans.with_changes(plan, changes)


@dataclass(frozen=True)
class Update:
    entry: ProjectEntry
    done: str
    next: str
    needs: str
    decisions: tuple[Decision, ...]


@dataclass(frozen=True)
class Decision:
    text: str
    area: str  # a decision table area ("" when not one of them)
    area_label: str
    by: str  # "client" | "agency"
    at: datetime
    outside_table: bool  # the table gives the area to the agency, the client took it


@dataclass(frozen=True)
class SignOff:
    request: ProjectEntry
    milestone: plans.Milestone
    note: str
    answer: ProjectEntry | None
    accepted_on: dt.date  # the day silence counts as acceptance

    @property
    def state(self) -> str:
        if self.answer is not None:
            return str(self.answer.data.get("decision"))
        return "waiting"

    def state_on(self, today: dt.date) -> str:
        """``approved``, ``revision``, ``accepted`` (by silence) or ``waiting``."""
        if self.answer is None and today > self.accepted_on:
            return "accepted"
        return self.state


@dataclass(frozen=True)
class ExtraRound:
    """What a revision beyond those included costs (from the agency's rate card)."""

    title: str
    price: str  # "£600.00 a round"


@dataclass(frozen=True)
class ProjectView:
    project: Project
    plan: plans.Plan
    updates: tuple[Update, ...]
    signoffs: tuple[SignOff, ...]
    decisions: tuple[Decision, ...]
    next_update_due: dt.date | None
    update_overdue: bool
    rounds: Mapping[str, plans.Rounds]  # per milestone id
    extra_round: ExtraRound | None
    education: tuple[tuple[str, str], ...]  # (title, text) pages
    today: dt.date
    moves: tuple[ProjectEntry, ...] = field(default=())

    @property
    def open_signoffs(self) -> tuple[SignOff, ...]:
        return tuple(s for s in self.signoffs if s.state_on(self.today) == "waiting")

    def signoff_state(self, signoff: SignOff) -> str:
        return signoff.state_on(self.today)


def _decision_owner(content: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    """area -> (owner key, label) from the signed agreement's decision table."""
    return {
        str(row.get("area")): (str(row.get("owner")), str(row.get("label") or row.get("area")))
        for row in content.get("decisions") or ()
    }


def _decisions(entry: ProjectEntry, table: Mapping[str, tuple[str, str]]) -> list[Decision]:
    out = []
    for item in entry.data.get("decisions") or ():
        area = str(item.get("area") or "")
        owner, label = table.get(area, ("", ""))
        by = str(item.get("by") or "agency")
        out.append(
            Decision(
                text=str(item.get("text") or ""),
                area=area,
                area_label=label,
                by=by,
                at=entry.created_at,
                outside_table=by == "client" and owner in ("agency", "consulted"),
            )
        )
    return out


def extra_round_of(version: AgreementVersion) -> ExtraRound | None:
    """The rate card's extra revision round (``extra_revision_round``, else an option
    priced per round), if the agency offers one: what a round beyond those included
    costs."""
    from onboarding.domain.options import price_text
    from onboarding.services.profile import profile_for_version

    profile = profile_for_version(version)
    card = profile.options
    option = next((o for o in card if o.id == "extra_revision_round"), None) or next(
        (o for o in card if o.per == "unit" and o.unit == "round"), None
    )
    if option is None:
        return None
    return ExtraRound(title=option.title, price=price_text(option, profile.currency))


def education(content: Mapping[str, Any], plan: plans.Plan) -> tuple[tuple[str, str], ...]:
    """Short "How we work" pages: the educate step's clauses the agreement holds, then
    how reviews, rounds and updates work under this agreement."""
    pages: list[tuple[str, str]] = []
    for section in content.get("sections") or ():
        for clause in section.get("clauses") or ():
            if clause.get("source") == "playbook:educate" and clause.get("text"):
                pages.append((str(clause.get("title")), str(clause.get("text"))))
    days = plural(plan.acceptance_days, "working day")
    pages.append(
        (
            "How sign-offs work",
            f"When a phase is ready we ask you to sign it off here. You have {days} to "
            "approve it or ask for a revision; if we hear nothing by then, the work counts "
            f"as accepted. Each deliverable includes {plural(plan.revision_rounds, 'round')}"
            " of revisions.",
        )
    )
    due = plans.CADENCE_DAYS.get(plan.cadence)
    rhythm = (
        f"every {due} days" if due and due != 7 else "every week" if due else "at each milestone"
    )
    pages.append(
        (
            "How updates work",
            f"We post an update {rhythm}: what is done, what comes next, what we need from "
            "you and the decisions taken. Each one is emailed to you and kept on this page.",
        )
    )
    return tuple(pages)


def view(project: Project, today: dt.date | None = None) -> ProjectView:
    """Everything the project page shows, as of ``today``."""
    today = today or utcnow().date()
    plan = plan_of(project)
    content = project.version.content or {}
    table = _decision_owner(content)
    updates, decisions, signoffs = [], [], []
    answers = {int(e.data.get("request", 0)): e for e in project.entries if e.kind == "answer"}
    revisions: dict[str, int] = {}
    for entry in project.entries:
        if entry.kind == "update":
            made = _decisions(entry, table)
            decisions.extend(made)
            updates.append(
                Update(
                    entry,
                    str(entry.data.get("done") or ""),
                    str(entry.data.get("next") or ""),
                    str(entry.data.get("needs") or ""),
                    tuple(made),
                )
            )
        elif entry.kind == "signoff":
            try:
                milestone = plan.milestone(str(entry.data.get("milestone")))
            except plans.PlanError:
                continue
            answer = answers.get(entry.id)
            signoffs.append(
                SignOff(
                    entry,
                    milestone,
                    str(entry.data.get("note") or ""),
                    answer,
                    plans.accepted_on(entry.created_at.date(), plan),
                )
            )
            if answer is not None and answer.data.get("decision") == "revision":
                revisions[milestone.id] = revisions.get(milestone.id, 0) + 1
            if answer is not None and answer.data.get("decision") == "approved":
                decisions.append(
                    Decision(
                        text=f"{milestone.name} signed off",
                        area="",
                        area_label="",
                        by="client",
                        at=answer.created_at,
                        outside_table=False,
                    )
                )
    last = max((u.entry.created_at.date() for u in updates), default=None)
    due = plans.next_update_due(plan, last)
    return ProjectView(
        project=project,
        plan=plan,
        updates=tuple(reversed(updates)),
        signoffs=tuple(reversed(signoffs)),
        decisions=tuple(sorted(decisions, key=lambda d: d.at, reverse=True)),
        next_update_due=due,
        update_overdue=plans.update_overdue(plan, last, today),
        rounds={m.id: plans.rounds(plan, revisions.get(m.id, 0)) for m in plan.milestones},
        extra_round=extra_round_of(project.version),
        education=education(content, plan),
        today=today,
        moves=tuple(e for e in project.entries if e.kind == "milestone" and "due" in e.data),
    )


def client_decisions(decisions: Sequence[Decision]) -> list[Decision]:
    """The decisions the client's page lists: those the table allows as taken."""
    return [d for d in decisions if not d.outside_table]


def _open(intake: Intake, **_: Any) -> None:
    project_of(intake)


def subscribe() -> None:
    """Open the project in the countersignature's transaction: its link is then stable
    for the signed email and the agreement page (an intake signed before projects
    existed gets one when staff first open its Project tab)."""
    from onboarding.services import signals

    signals.agreement_signed.connect(_open, weak=False)
