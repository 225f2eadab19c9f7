"""The workspace's playbook editor: rule weights and reasons edited by admins, the
impact on stored intakes shown before saving, each save a new playbook version.

The files in ``PLAYBOOKS_DIR`` stay the source of the conditions, clauses and actions;
the latest :class:`~onboarding.db.models.PlaybookVersion` holds the edits over them.
:func:`effective` is what every process runs (the files' set with the latest edits, one
small query to see whether a newer version was saved); a save is applied to the stored
intakes by re-assessing them (the Re-assess page), like a change of the files.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from onboarding.db import db
from onboarding.db.models import PlaybookVersion, User
from onboarding.domain.impact import Change, Impact
from onboarding.domain.playbook_edits import (
    EditError,
    apply_edits,
    normalise,
    rule_changes,
)
from onboarding.domain.playbooks import PlaybookSet
from onboarding.services.intake.impact import compare_playbooks

__all__ = ["EditError", "effective", "history", "preview", "save"]


_APPLIED: dict[tuple[str, int, str], PlaybookSet] = {}
"""The edited sets this process has built, by files' version, saved version and edits
(a database rebuilt under a running process may reuse an id)."""


def _applied(base: PlaybookSet, version_id: int, edits: dict[str, Any]) -> PlaybookSet:
    key = (base.version, version_id, json.dumps(edits, sort_keys=True))
    if key not in _APPLIED:
        if len(_APPLIED) > 8:
            _APPLIED.clear()
        _APPLIED[key] = apply_edits(base, edits)
    return _APPLIED[key]


def latest() -> PlaybookVersion | None:
    """The latest saved version of the editor, or None."""
    return db.session.execute(
        select(PlaybookVersion).order_by(PlaybookVersion.id.desc()).limit(1)
    ).scalar_one_or_none()


def effective(base: PlaybookSet) -> PlaybookSet:
    """The playbooks this installation runs: the files' ``base`` with the latest saved
    edits (the files alone when none were saved, or edits that no longer apply)."""
    row = db.session.execute(
        select(PlaybookVersion.id, PlaybookVersion.edits)
        .order_by(PlaybookVersion.id.desc())
        .limit(1)
    ).first()
    if row is None or not row.edits:
        return base
    try:
        return _applied(base, row.id, row.edits)
    except EditError:  # the files changed under the edits: run the files
        return base


def edits_now(base: PlaybookSet) -> dict[str, dict[str, Any]]:
    """The edits of the latest saved version that still apply to the files."""
    row = latest()
    return normalise(base, row.edits) if row else {}


def preview(base: PlaybookSet, edits: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """What saving ``edits`` would do, before it is saved: the rules that change (in
    words) and the stored intakes that change band, named by company and public id.
    Raises EditError listing every problem of the edits."""
    current = effective(base)
    candidate = apply_edits(base, edits)
    changes: list[Change] = []
    report: Impact = compare_playbooks(current, candidate, on_change=changes.append)
    return {
        "rules": rule_changes(current, candidate),
        "impact": report.as_dict(),
        "band_changes": [c.as_dict() for c in changes],
        "version": candidate.version,
    }


def save(
    base: PlaybookSet, edits: dict[str, dict[str, Any]], user: User, reason: str = ""
) -> PlaybookVersion:
    """Save ``edits`` as a new playbook version (raises EditError; the caller commits).
    Refused when nothing changes."""
    current = effective(base)
    candidate = apply_edits(base, edits)
    changes = rule_changes(current, candidate)
    if not changes:
        raise EditError(["nothing changed: the rules are as the current version has them"])
    row = PlaybookVersion(
        base_version=base.version,
        version=candidate.version,
        edits=normalise(base, edits),
        changes=changes,
        reason=(reason or "").strip()[:500] or None,
        user_id=user.id,
    )
    db.session.add(row)
    db.session.flush()
    return row


def history(limit: int = 50) -> list[PlaybookVersion]:
    """The saved versions, newest first."""
    return list(
        db.session.execute(
            select(PlaybookVersion).order_by(PlaybookVersion.id.desc()).limit(limit)
        ).scalars()
    )
