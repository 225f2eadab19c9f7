"""Forgetting prospects: deleting an intake with all that derives from it, and purging
stale drafts. What remains is a tombstone in the audit trail, with no personal data.
Callers commit (the command line's purge commits in batches).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select

from onboarding.db import db
from onboarding.db.models import AuditEvent, Intake, KeptForm, User, WebhookDelivery, utcnow


def delete_intake(intake: Intake, user: User | None) -> None:
    """Delete an intake and everything derived from it; leave a tombstone."""
    public_id, status, invite = intake.public_id, intake.status, intake.invite
    db.session.execute(delete(AuditEvent).where(AuditEvent.intake_id == intake.id))
    # Webhook deliveries carry a copy of the prospect's data in their payload.
    db.session.execute(delete(WebhookDelivery).where(WebhookDelivery.intake_id == intake.id))
    # Answers kept as typed because they did not pass their checks (services.kept).
    db.session.execute(delete(KeptForm).where(KeptForm.intake_id == intake.id))
    # Answers, assessments, versions, notes, checks and cached PDFs cascade (the cached
    # PDFs belong to their intake, whatever the agency name or templates are today).
    db.session.delete(intake)
    if invite is not None:  # the invite holds the prospect's name and email
        db.session.flush()
        db.session.delete(invite)
    db.session.add(
        AuditEvent(
            intake_id=None,
            user_id=user.id if user else None,
            kind="intake_deleted",
            from_value=public_id,
            to_value=None,
            detail=f"deleted with all its data (status was {status})",
        )
    )


def purge_drafts(days: int, batch: int = 500) -> int:
    """Delete drafts not saved for ``days`` days; returns how many (commits per batch)."""
    cutoff = utcnow() - timedelta(days=days)
    total = 0
    while True:
        stale = db.session.execute(
            select(Intake)
            .where(Intake.status == "draft", Intake.updated_at < cutoff)
            .order_by(Intake.id)
            .limit(batch)
        ).scalars().all()  # fmt: skip
        if not stale:
            return total
        for intake in stale:
            delete_intake(intake, None)
        total += len(stale)
        db.session.commit()
