"""What the client asked for, in its own terms, and how the engagement answers it (pure
Python). Moved here from :mod:`onboarding.domain.agreement`: a wish belongs in the
proposal (a letter), never in the binding agreement (``shared/spec/proposal.md``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from onboarding.domain import options as options_mod
from onboarding.domain.questionnaire import Questionnaire, get_questionnaire, join_words
from onboarding.domain.schedule import ASKED_CADENCE
from onboarding.domain.templates import ASKED_RESPONSE, FACTS
from onboarding.domain.terms import agreed_levels, plural


@dataclass(frozen=True)
class AskedItem:
    """One thing the Client asked for, and how the agreement handles it."""

    topic: str
    asked: str
    handled: str


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def asked_items(
    clean: Mapping[str, Any],
    q: Questionnaire,
    resolved: Mapping[str, Any],
    decisions: Sequence[Any],  # agreement.DecisionRow (owner, label)
    numbers: Mapping[str, int],
) -> tuple[AskedItem, ...]:
    """What the Client asked for in its own terms, beside what the agreement does about
    it: the client's copy has this instead of an answer-by-answer trace (no scores,
    ratings or risk words)."""
    items = []
    asked_hours = clean.get("expected_response_hours")
    if asked_hours:
        handled = f"Messages are answered {resolved['response_time']}"
        if int(asked_hours) < int(resolved["response_hours"]):
            handled += (
                "; a matter that cannot wait is raised by phone with the project lead, "
                "who deals with it first"
            )
        items.append(
            AskedItem(
                "Replies",
                _sentence(FACTS["asked_response_time"](clean, resolved)),
                handled + f" (section {numbers.get('availability', numbers['parties'])}).",
            )
        )
    if clean.get("update_frequency"):
        items.append(
            AskedItem(
                "Updates",
                _sentence(FACTS["asked_update_cadence"](clean, resolved)),
                f"{_sentence(FACTS['update_cadence'](clean, resolved))}, and a review at the "
                f"end of each phase (section {numbers['process']}).",
            )
        )
    if clean.get("revision_rounds") is not None:
        asked_rounds = int(clean["revision_rounds"])
        included = int(resolved["revision_rounds"])
        handled = f"{_sentence(FACTS['included_revisions'](clean, resolved))} per deliverable"
        handled += (
            " are included; further rounds are change requests, estimated and approved "
            "before work starts."
            if asked_rounds > included
            else " are included."
        )
        items.append(
            AskedItem(
                "Revisions",
                _sentence(FACTS["asked_revisions"](clean, resolved)) + " per deliverable",
                handled,
            )
        )
    owned = clean.get("decisions_owned") or []
    if owned:
        labels = q.questions["decisions_owned"].values
        kept = [r.label.lower() for r in decisions if r.owner in ("client", "joint")]
        handled = (
            f"The Client has the final say on {join_words(kept)}" if kept else "The Agency leads"
        )
        if "daily_tasks" in owned:
            handled += (
                "; the Agency's project lead plans the team's daily work, with priorities "
                "the Client sets each week"
            )
        items.append(
            AskedItem(
                "Decisions",
                "To decide " + join_words([labels[v].lower() for v in labels if v in owned]),
                handled + f" (section {numbers['decision_rights']}).",
            )
        )
    if clean.get("after_hours_contact"):
        items.append(
            AskedItem(
                "Outside working hours",
                "Replies outside working hours",
                "Emergencies agreed at kickoff are handled through an emergency number; "
                "everything else is answered on the next working day.",
            )
        )
    if clean.get("biggest_worry"):
        safeguard = resolved.get("safeguard")
        items.append(
            AskedItem(
                "Your main concern",
                f"\u201c{_short_text(clean['biggest_worry'], 160)}\u201d",
                (_sentence(safeguard) if safeguard else "A safeguard agreed with the Client")
                + (f" (section {numbers['concerns']})." if "concerns" in numbers else "."),
            )
        )
    return tuple(items)


def _short_text(text: str, limit: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


# --- a wish in the client's terms (a proposal's "offered because") ---------------------------


def _one_wish(qid: str, clean: Mapping[str, Any], q: Questionnaire) -> str:
    value = clean.get(qid)
    if qid == "expected_response_hours" and value:
        return f"you would like replies {ASKED_RESPONSE.get(value, 'quickly')}"
    if qid == "update_frequency" and value:
        return f"you would like {ASKED_CADENCE.get(value, 'regular updates')}"
    if qid == "revision_rounds" and value is not None:
        n = int(value)
        return f"you expect up to {n} round{'s' if n != 1 else ''} of revisions per deliverable"
    if qid == "after_hours_contact" and value:
        return "you may need us outside working hours"
    if qid == "visibility_preference" and value == "live_dashboard":
        return "you would like to see the work as it progresses"
    if qid == "preferred_channel" and value == "meetings":
        return "you prefer to talk things through in meetings"
    if qid == "preferred_channel" and value == "portal":
        return "you would like to follow the project in a portal"
    question = q.questions.get(qid)
    if question is None or value in (None, "", [], False):
        return ""
    return f"{question.name}: {question.display(value).lower()}"


def wish_phrase(questions: Sequence[str], clean: Mapping[str, Any], q: Questionnaire) -> str:
    """The wish a rule's answers express, as a sentence in the second person ("You would
    like replies within an hour."); "" when the answers express none."""
    parts = [p for p in (_one_wish(qid, clean, q) for qid in questions) if p]
    return _sentence(join_words(list(dict.fromkeys(parts)))) + "." if parts else ""


_CADENCE_ORDER = ("milestones_only", "biweekly", "weekly", "few_per_week", "daily")


def beyond_standard(qid: str, clean: Mapping[str, Any], levels: Mapping[str, Any]) -> bool:
    """Whether the answer to ``qid`` asks for more than the agency's ``levels`` give as
    standard (a reply time shorter, more revision rounds, more frequent updates); an
    answer no service level measures counts as beyond (the playbook decided)."""
    value = clean.get(qid)
    if qid == "expected_response_hours":
        return bool(value) and int(value) < int(levels.get("response_hours") or 24)
    if qid == "revision_rounds":
        return value is not None and int(value) > int(levels.get("revision_rounds") or 0)
    if qid == "update_frequency":
        standard = levels.get("update_cadence") or "weekly"
        if value not in _CADENCE_ORDER or standard not in _CADENCE_ORDER:
            return bool(value)
        return _CADENCE_ORDER.index(value) > _CADENCE_ORDER.index(standard)
    return True


LEVEL_WISHES: dict[str, str] = {
    "expected_response_hours": "priority_replies",
    "revision_rounds": "extra_revision_round",
    "update_frequency": "weekly_call",
}
"""The answers a service level measures, and the option that answers a wish beyond the
agency's level when no playbook rule offers one (``update_frequency`` "daily" asks for
``daily_status_note``)."""


def level_wishes(
    clean: Mapping[str, Any],
    levels: Mapping[str, Any],
    covered: set[str],
    q: Questionnaire,
) -> list[dict[str, Any]]:
    """A wish beyond the agency's standard ``levels`` that no playbook rule offers an
    option for (``covered``: the questions the rules' offers read): three rounds where the
    agency includes two, replies within a working day from an agency that answers within
    two, weekly updates from one that reports every second week. Each is offered (or
    answered by what the agency does instead) like a playbook's offer."""
    out = []
    for qid, oid in LEVEL_WISHES.items():
        if qid in covered or not beyond_standard(qid, clean, levels):
            continue
        if qid == "update_frequency" and clean.get(qid) == "daily":
            oid = "daily_status_note"
        because = wish_phrase([qid], clean, q)
        if because:
            out.append({"id": oid, "playbook": "standard_levels", "rule": qid,
                        "questions": [qid], "because": because})  # fmt: skip
    return out


def offers_for(
    clean: Mapping[str, Any],
    assessment: Mapping[str, Any],
    profile: Any,
    terms: Any,
    questionnaire: Questionnaire | None = None,
) -> tuple[list[options_mod.Offer], list[Mapping[str, Any]]]:
    """The options offered for these answers (:func:`options.offered`): the playbooks'
    offers kept only for a wish beyond the agency's standard levels, and a wish beyond
    those levels no playbook rule names (:func:`level_wishes`)."""
    levels = agreed_levels(profile, terms)
    offers = list(assessment.get("offers") or ())
    wished = [
        o
        for o in offers
        if not o.get("questions") or any(beyond_standard(q, clean, levels) for q in o["questions"])
    ]
    covered = {q for o in offers for q in (o.get("questions") or ())}
    wished += level_wishes(clean, levels, covered, questionnaire or get_questionnaire())
    return options_mod.offered(profile.options, wished, terms.options)


def closest_to_wish(
    option: options_mod.RateOption, clean: Mapping[str, Any], levels: Mapping[str, Any]
) -> str:
    """A sentence when the option offered for a wish gives less than the wish asks, and is
    the most the agency offers: replies within four working hours for a client who would
    like them within the hour, up to eight rounds in all for one who expects ten, a
    weekly note for one who would like a daily update. "" when it meets the wish (the
    letter then says nothing more)."""
    sets = option.sets
    wished = clean.get("expected_response_hours")
    hours = sets.get("response_hours")
    if wished and hours and int(wished) < int(hours):
        return "This is the fastest reply we offer."
    cadence = sets.get("update_cadence")
    wish = clean.get("update_frequency")
    if (
        cadence in _CADENCE_ORDER
        and wish in _CADENCE_ORDER
        and _CADENCE_ORDER.index(wish) > _CADENCE_ORDER.index(cadence)
    ):
        return "These are the most frequent updates we offer."
    rounds = clean.get("revision_rounds")
    if rounds is not None and option.per == "unit" and "round" in option.unit:
        included = int(levels.get("revision_rounds") or 0)
        most = included + option.max_quantity
        if int(rounds) > most:
            return (
                f"With the {plural(included, 'round')} the fee includes, that makes up to "
                f"{plural(most, 'round')} per deliverable, the most we offer."
                if included
                else f"Up to {plural(most, 'round')} per deliverable is the most we offer."
            )
    return ""
