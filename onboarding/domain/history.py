"""An intake's history in words: each audit event as a sentence a manager reads
("moved it from New to In review"), never its stored codes ("override: score 55, None").
"""

from __future__ import annotations

from collections.abc import Mapping

from onboarding.domain.workflow import RECOMMENDATIONS, STATUS_LABELS


def _none(value: str | None) -> str | None:
    return None if value in (None, "", "None") else value


def _override(value: str | None) -> str:
    """``"score 55, guarded, proceed"`` (as stored) in words."""
    parts = [_none(p.strip()) for p in (value or "").split(",")]
    score = parts[0].removeprefix("score").strip() if parts and parts[0] else None
    band = parts[1] if len(parts) > 1 else None
    recommendation = parts[2] if len(parts) > 2 else None
    words = []
    if _none(score):
        words.append(f"score {score}")
    if band:
        words.append(f"{band} band")
    if recommendation:
        words.append(RECOMMENDATIONS.get(recommendation, recommendation).lower())
    return ", ".join(words) or "no change"


def describe(
    kind: str,
    before: str | None,
    after: str | None,
    detail: str | None,
    *,
    actions: Mapping[str, str] | None = None,
    outcomes: Mapping[str, str] | None = None,
) -> str:
    """One event as a sentence (without who and when). ``actions`` maps the checklist's
    action ids to their text, ``outcomes`` the outcome codes to their labels."""
    status = STATUS_LABELS
    quoted = f": “{detail}”" if _none(detail) else ""
    if kind == "status":
        moved = (
            f"moved it from {status.get(before or '', before)} to {status.get(after or '', after)}"
        )
        return moved + (f" ({detail})" if _none(detail) else "")
    if kind == "override":
        return f"overrode the assessment with {_override(after)}" + quoted
    if kind == "override_cleared":
        return "removed the override: the computed assessment applies"
    if kind == "reassessed":
        return f"re-assessed it with the current playbooks: score {before} → {after}"
    if kind == "note":
        return f"added a note: “{after}”" if _none(after) else "added a note"
    if kind == "action":
        action_id, _, state = (after or "").rpartition(": ")
        text = (actions or {}).get(action_id)
        what = f"“{text}”" if text else "an action"
        return f"marked {what} as {'done' if state == 'done' else 'not done'}"
    if kind == "owner":
        if _none(after):
            return f"made {after} the owner"
        return "removed the owner"
    if kind == "agreement_sent":
        return f"sent the agreement ({after})" if _none(after) else "sent the agreement"
    if kind == "prospect_commented":
        return f"commented on {after} or asked for changes" if _none(after) else "commented"
    if kind == "agreement_link_resent":
        return f"sent the link of {after} again" if _none(after) else "sent the link again"
    if kind == "walk_away_overridden":
        return "sent the agreement although the assessment recommends walking away" + quoted
    if kind == "agreement_countersigned":
        return f"countersigned {after} for the agency" if _none(after) else "countersigned"
    if kind == "terms_saved":
        state = "a draft" if after == "draft" else "complete"
        return f"saved the agreement's terms ({state})"
    if kind == "clause_removed":
        return "removed a clause from the agreement" + quoted
    if kind == "clause_replaced":
        return "replaced a clause of the agreement" + quoted
    if kind == "clause_added":
        return f"added the clause “{after}”" if _none(after) else "added a clause"
    if kind == "option_offer":
        return f"added the option {after} to the proposal's offer"
    if kind == "option_withdraw":
        return f"withdrew the option {after} from the proposal"
    if kind == "option_include":
        return f"included the option {after} in the fee" + quoted
    if kind == "options_chosen":
        return f"the client chose: {after}" if _none(after) else "the client chose no options"
    if kind == "outcome":
        label = (outcomes or {}).get(after or "", after)
        return f"recorded how the engagement went: {label}"
    words = kind.replace("_", " ")
    return f"{words}: {after}" if _none(after) else words
