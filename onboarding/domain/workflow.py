"""The life of an intake after submission: which status may follow which."""

from __future__ import annotations

STATUS_LABELS = {
    "draft": "Draft",
    "new": "New",
    "in_review": "In review",
    "agreement_sent": "Agreement sent",
    "accepted": "Accepted",
    "signed": "Signed",
    "declined": "Declined",
    "walked_away": "Walked away",
}

TRANSITIONS: dict[str, tuple[str, ...]] = {
    "draft": (),
    "new": ("in_review", "agreement_sent", "declined", "walked_away"),
    "in_review": ("agreement_sent", "declined", "walked_away"),
    "agreement_sent": ("accepted", "in_review", "declined", "walked_away"),
    "accepted": ("signed",),
    "signed": (),
    "declined": ("in_review",),
    "walked_away": ("in_review",),
}
"""status -> the statuses an intake may move to."""

SET_BY_ACTION = ("agreement_sent", "accepted", "signed")
"""Statuses reached by sending an agreement, by the prospect accepting it or by the
agency countersigning it, never by picking them from a list: the agreement must exist
and the signature be recorded."""


def may_send(status: str) -> bool:
    """Whether an agreement may be sent from ``status``: a first version, or a new one
    replacing the version that awaits the prospect (open until then: issue 26)."""
    return status == "agreement_sent" or "agreement_sent" in TRANSITIONS.get(status, ())


RECOMMENDATIONS = {
    "proceed": "Proceed",
    "proceed_with_guardrails": "Proceed with guardrails",
    "walk_away": "Walk away",
}


class TransitionError(ValueError):
    """A status change the workflow does not allow."""


def check_transition(current: str, target: str) -> None:
    """Raise TransitionError unless ``current`` may move to ``target``."""
    if target not in STATUS_LABELS:
        raise TransitionError(f"{target!r} is not a status")
    if target not in TRANSITIONS.get(current, ()):
        allowed = ", ".join(STATUS_LABELS[s] for s in TRANSITIONS.get(current, ())) or "none"
        raise TransitionError(
            f"An intake that is {STATUS_LABELS[current].lower()} cannot move to "
            f"{STATUS_LABELS[target].lower()} (allowed: {allowed})"
        )


def assessment_changes(old: dict, new: dict) -> list[str]:
    """What changed between two assessments, as sentences for the account manager."""
    lines = []
    if old["score"] != new["score"]:
        lines.append(f"Score {old['score']} → {new['score']}")
    if old["band"] != new["band"]:
        lines.append(f"Band {old['band']} → {new['band']}")
    if old["recommendation"] != new["recommendation"]:
        lines.append(
            f"Recommendation {RECOMMENDATIONS[old['recommendation']]} → "
            f"{RECOMMENDATIONS[new['recommendation']]}"
        )
    for cause, value in new["risks"].items():
        if old["risks"].get(cause) != value:
            lines.append(f"Risk {cause.replace('_', ' ')} {old['risks'].get(cause)} → {value}")
    before = {(c["playbook"], c["rule"]): c for c in old["contributions"]}
    after = {(c["playbook"], c["rule"]): c for c in new["contributions"]}
    for key in after.keys() - before.keys():
        c = after[key]
        lines.append(f"New: {c['because']} ({c['points']:+d})")
    for key in before.keys() - after.keys():
        c = before[key]
        lines.append(f"No longer applies: {c['because']} ({c['points']:+d})")
    for key in before.keys() & after.keys():
        if before[key]["points"] != after[key]["points"]:
            lines.append(
                f"{key[0]}/{key[1]}: {before[key]['points']:+d} → {after[key]['points']:+d} points"
            )
    old_clauses = {c["id"] for c in old["clauses"]}
    new_clauses = {c["id"] for c in new["clauses"]}
    for cid in sorted(new_clauses - old_clauses):
        lines.append(f"Clause added: {cid}")
    for cid in sorted(old_clauses - new_clauses):
        lines.append(f"Clause removed: {cid}")
    return lines
