"""Step 10 of the method, walk away from bad fits: a short, polite decline letter.

Written from the causes the assessment found, in general words: it never quotes the
client's answers back at them, names no score and no risk, and leaves the door open.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

REASONS = {
    "frustrated_creative": (
        "Our way of working relies on the client setting the goals and the direction, "
        "while our team leads the day-to-day creative decisions, and we sense that you "
        "would like to direct more of the work yourselves."
    ),
    "tactical_focus": (
        "We work best when we can propose the approach against an agreed goal, and you "
        "already have a clear view of how the project should be carried out."
    ),
    "excess_free_time": (
        "The project would be best served by closer, day-to-day involvement than our "
        "way of working offers."
    ),
    "trust_deficit": (
        "The project calls for a level of reporting and oversight that we could not "
        "offer without slowing the work down."
    ),
    "fear": (
        "The project carries a weight of expectation on timing and results that we "
        "would not feel able to promise to meet."
    ),
    "process_transparency": (
        "We sense that the way we run projects would not give you the kind of "
        "involvement you are looking for."
    ),
}
ALTERNATIVE = (
    "A team that works closely to a detailed brief, or an in-house team, may suit the "
    "project better, and we would be glad to suggest names if that would help."
)


def decline_letter(
    answers: Mapping[str, Any],
    assessment: Mapping[str, Any],
    *,
    agency: str,
    sender: str,
    sender_title: str = "",
) -> str:
    """The letter as plain text (to copy now, or to send by email)."""
    name = (answers.get("contact_name") or "").split()
    greeting = f"Dear {name[0]}," if name else "Hello,"
    company = answers.get("company") or "your company"
    risks = assessment.get("risks") or {}
    causes = [c for c, v in sorted(risks.items(), key=lambda kv: -kv[1]) if v >= 30][:2]
    reasons = (
        " ".join(REASONS[c] for c in causes if c in REASONS) or REASONS["process_transparency"]
    )
    signature = sender + (f"\n{sender_title}" if sender_title else "") + f"\n{agency}"
    return (
        f"{greeting}\n\n"
        f"Thank you for the time you and the team at {company} gave us, and for telling us "
        "so openly about the project.\n\n"
        "We have thought carefully about how we would work together, and we don't "
        f"believe we are the right agency for this project. {reasons} We would rather "
        f"say so now than start an engagement that would not serve {company} well.\n\n"
        f"{ALTERNATIVE}\n\n"
        "We wish you every success with the project, and we would be glad to hear from "
        "you about future work.\n\n"
        f"Kind regards,\n{signature}\n"
    )
