"""What was typed and not yet saved, kept server-side so nothing is lost (issue 26).

Two kinds of rows of :class:`~onboarding.db.models.KeptForm`:

- a staff member's form posted after their session lapsed: kept under their user and
  the form's path for :data:`STAFF_MINUTES`, then restored *into the form* after a fresh
  sign-in (never replayed: the post is not acted on, so a forged or stale post does
  nothing; the person reads what was kept and presses Save themselves);
- a prospect's answers that did not pass their checks (an email address without an
  ``@``): kept under the intake and the step, shown again with their message when the
  step opens, and dropped once the question is answered validly.

Callers commit.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select

from onboarding.db import db
from onboarding.db.models import Intake, KeptForm, utcnow

STAFF_MINUTES = 120
"""How long a lapsed session's form is kept for its author to sign in again."""
MAX_FIELDS = 2000
"""Fields of one kept form (a forged huge post is not stored whole)."""
MAX_VALUE = 100_000
"""Characters of one kept value."""
NOT_KEPT = frozenset({"csrf_token"})


def _plain(form: Any) -> dict[str, list[str]]:
    """A posted form (a MultiDict, or a dict of lists) as JSON: ``{name: [values]}``,
    bounded, without its CSRF token."""
    items = form.lists() if hasattr(form, "lists") else form.items()
    out: dict[str, list[str]] = {}
    for name, values in items:
        if name in NOT_KEPT or len(out) >= MAX_FIELDS:
            continue
        values = values if isinstance(values, list | tuple) else [values]
        out[str(name)[:300]] = [str(v)[:MAX_VALUE] for v in values]
    return out


# --- a staff member's form, posted after their session lapsed ------------------------------


def keep_for_user(user_id: int, place: str, form: Any) -> KeptForm:
    """Keep ``form`` (what ``user_id`` posted to ``place``) for them to find after a
    fresh sign-in; one row per user and place (the latest post wins); anyone's rows
    past :data:`STAFF_MINUTES` go (they hold prospects' terms: kept no longer)."""
    cutoff = utcnow() - timedelta(minutes=STAFF_MINUTES)
    db.session.execute(  # this place's earlier post, and everyone's lapsed rows
        delete(KeptForm).where(
            ((KeptForm.user_id == user_id) & (KeptForm.place == place[:300]))
            | ((KeptForm.user_id.is_not(None)) & (KeptForm.created_at < cutoff))
        )
    )
    row = KeptForm(user_id=user_id, place=place[:300], data=_plain(form))
    db.session.add(row)
    db.session.flush()
    return row


def kept_for_user(user_id: int, place: str, kept_id: Any) -> dict[str, list[str]] | None:
    """The form ``user_id`` posted to ``place`` as their session lapsed (row
    ``kept_id``, named in the link they were sent back to), while it is kept; None for
    another user's, another place's, an unknown or an expired row. Reading does not
    delete it: a reload shows it again, until the form is saved (:func:`forget_for_user`)."""
    try:
        number = int(kept_id)
    except (TypeError, ValueError):
        return None
    row = db.session.get(KeptForm, number)
    if (
        row is None
        or row.user_id != user_id
        or row.place != place[:300]
        or utcnow() - row.created_at > timedelta(minutes=STAFF_MINUTES)
    ):
        return None
    return dict(row.data or {})


def forget_for_user(user_id: int, place: str) -> None:
    """The form at ``place`` was saved: what was kept of it for ``user_id`` goes."""
    db.session.execute(
        delete(KeptForm).where(KeptForm.user_id == user_id, KeptForm.place == place[:300])
    )


class KeptValues:
    """A kept form read like a posted one (``get``, ``getlist``, ``in``, iterating its
    names), for the views that turn a post into data (``terms_from_form``)."""

    def __init__(self, data: dict[str, list[str]]):
        self._data = data

    def get(self, name: str, default: Any = None) -> Any:
        values = self._data.get(name)
        return values[0] if values else default

    def getlist(self, name: str) -> list[str]:
        return list(self._data.get(name) or [])

    def __contains__(self, name: object) -> bool:
        return name in self._data

    def __iter__(self):
        """The field names, as iterating a posted form gives them."""
        return iter(self._data)


# --- a prospect's answers that did not pass their checks ----------------------------------------


def _step_row(intake: Intake, section_id: str) -> KeptForm | None:
    return db.session.execute(
        select(KeptForm).where(KeptForm.intake_id == intake.id, KeptForm.place == section_id)
    ).scalar_one_or_none()


def keep_invalid(intake: Intake, section_id: str, raw: dict[str, Any], invalid: set[str]) -> None:
    """Keep the raw answers of step ``section_id`` that did not pass their checks
    (``invalid``, question ids; their other answers are stored as answers), and drop
    the ones now answered validly."""
    row = _step_row(intake, section_id)
    kept = dict(row.data) if row is not None else {}
    for qid in raw:
        kept.pop(qid, None)
    for qid in invalid:
        value = raw.get(qid)
        if value is None or value == [] or (isinstance(value, str) and not value.strip()):
            continue
        kept[qid] = value if isinstance(value, list) else str(value)[:MAX_VALUE]
    if not kept:
        if row is not None:
            db.session.delete(row)
        return
    if row is None:
        db.session.add(KeptForm(intake_id=intake.id, place=section_id, data=kept))
    else:
        row.data = kept
        row.created_at = utcnow()


def invalid_kept(intake: Intake, section_id: str) -> dict[str, Any]:
    """The raw answers of a step kept because they did not pass their checks."""
    if intake.id is None:
        return {}
    row = _step_row(intake, section_id)
    return dict(row.data) if row is not None else {}


def forget_intake(intake: Intake) -> None:
    """The intake was sent: the answers kept as typed on its steps go."""
    if intake.id is not None:
        # No autoflush: the submit's assessment is flushed at its commit, where a second
        # concurrent submit's duplicate is caught (submission.submit_by_token).
        with db.session.no_autoflush:
            db.session.execute(delete(KeptForm).where(KeptForm.intake_id == intake.id))
