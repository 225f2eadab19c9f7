"""The project's emails (issue 30), written to the outbox in the caller's transaction:

- ``project_update``: each update the manager posts, to the client, with the link to the
  project page (:func:`update_posted`);
- ``signoff_requested``: the client is asked to sign off a milestone, with the day the
  work counts as accepted if nothing is said (:func:`signoff_requested`);
- ``project_signed_off``: the staff's notice (the owner, else as ``NOTIFY_UNOWNED``
  says) that the client approved a milestone or asked for a revision;
- ``update_due``: the owner's reminder, on the day an update falls due by the agreed
  cadence, once per due date (:func:`remind_updates`, run by the scheduled job).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from onboarding.db import db
from onboarding.db.engine import begin_write
from onboarding.db.models import Intake, Project, ProjectEntry, utcnow
from onboarding.domain.agreement import display_date
from onboarding.services import signals
from onboarding.services.notify.mail import (
    bound,
    staff_to_tell,
    write,
    write_to_prospect,
)
from onboarding.services.project import state


def _client(intake: Intake, kind: str, dedupe: str, **context: Any):
    if not intake.contact_email:
        return None
    with db.session.no_autoflush:
        return write_to_prospect(kind, intake, dedupe_key=dedupe, **context)


def update_posted(intake: Intake, *, project: Project, entry: ProjectEntry, **_: Any) -> None:
    current = state.view(project)
    due = current.next_update_due
    _client(
        intake,
        "project_update",
        f"project_update:{entry.id}",
        done=entry.data.get("done", ""),
        next_up=entry.data.get("next", ""),
        needs=entry.data.get("needs", ""),
        decisions=[
            d.text for d in state.client_decisions(current.decisions) if d.at == entry.created_at
        ],
        next_due=display_date(due) if due else "",
        url=bound().links.project(project.token),
    )


def signoff_requested(intake: Intake, *, project: Project, entry: ProjectEntry, **_: Any) -> None:
    current = state.view(project)
    signoff = next(s for s in current.signoffs if s.request.id == entry.id)
    _client(
        intake,
        "signoff_requested",
        f"signoff_requested:{entry.id}",
        milestone=signoff.milestone.name,
        deliverable=signoff.milestone.deliverable,
        note=signoff.note,
        accepted_on=display_date(signoff.accepted_on),
        url=bound().links.project(project.token),
    )


def signed_off(intake: Intake, *, project: Project, entry: ProjectEntry, **_: Any) -> None:
    milestone = state.plan_of(project).milestone(str(entry.data.get("milestone")))
    for user in staff_to_tell(intake, bound().settings):
        write(
            "project_signed_off",
            user.email,
            to_name=user.display_name,
            intake=intake,
            user=user,
            dedupe_key=f"project_signed_off:{entry.id}:{user.id}",
            name=user.display_name.split()[0],
            company=intake.company or intake.contact_name or "The client",
            milestone=milestone.name,
            decision=entry.data.get("decision"),
            comment=entry.data.get("comment", ""),
            extra_round=entry.data.get("extra_round", ""),
            url=bound().links.workspace_intake(intake.public_id),
        )


def remind_updates(now: datetime | None = None) -> int:
    """Remind each project's owner on the day an update falls due (once per due date:
    the dedupe key and ``reminded_for`` keep two workers from both writing it);
    commits; returns how many reminders were written."""
    today = (now or utcnow()).date()
    written = 0
    ids = list(db.session.scalars(select(Project.id).order_by(Project.id)))
    db.session.rollback()
    for project_id in ids:
        begin_write(db.session())
        project = db.session.get(Project, project_id)
        if project is None:
            db.session.rollback()
            continue
        owner = project.intake.owner
        due = state.view(project, today).next_update_due if owner and owner.active else None
        if due is None or due > today or project.reminded_for == due.isoformat():
            db.session.rollback()
            continue
        project.reminded_for = due.isoformat()
        write(
            "update_due",
            owner.email,
            to_name=owner.display_name,
            intake=project.intake,
            dedupe_key=f"update_due:{project.id}:{due.isoformat()}",
            name=owner.display_name.split()[0],
            company=project.intake.company or project.intake.contact_name or "A client",
            due=display_date(due),
            overdue=due < today,
            url=bound().links.workspace_intake(project.intake.public_id),
        )
        try:
            db.session.commit()
        except IntegrityError:  # another worker wrote it first
            db.session.rollback()
            continue
        written += 1
    return written


def subscribe() -> None:
    signals.project_update_posted.connect(update_posted, weak=False)
    signals.project_signoff_requested.connect(signoff_requested, weak=False)
    signals.project_signed_off.connect(signed_off, weak=False)
