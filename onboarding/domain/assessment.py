"""The fit assessment (contract: shared/spec/assessment.md, v1.1).

``score = clamp(BASE_SCORE + sum(points of the rules that fired), 0, 100)``; each
cause's risk is the clamped sum of the ``risk`` of the rules that fired for it. Every
rule that moved the score or a risk is listed in ``contributions`` with the answers
its condition read and a sentence saying why.

The band follows the score, except that a concentrated risk is not cancelled by
unrelated good signs: when one cause's risk is :data:`CAP_RISK` or more the band is
at most ``guarded`` and ``band_note`` says which cause capped it (v1.1). Consumers
read ``band``; nothing else derives it from the score.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from onboarding.domain.playbooks import CAUSE_LABELS, CAUSES, SECTIONS, PlaybookSet, get_playbooks
from onboarding.domain.questionnaire import (
    AnswersInvalid,
    Questionnaire,
    get_questionnaire,
    join_words,
)
from onboarding.domain.terms import AgencyProfile, EngagementTerms, default_profile, values

BASE_SCORE = 70
"""The score of a client no rule has anything to say about."""

STRONG, GUARDED = 70, 40
CAP_RISK = 60
"""A cause at this risk or more caps the band at ``guarded`` (assessment.md v1.1)."""
_SECTION_ORDER = {s: i for i, s in enumerate(SECTIONS)}


def band_of(score: int) -> str:
    """``strong`` (>= 70), ``guarded`` (40..69) or ``poor`` (< 40)."""
    if score >= STRONG:
        return "strong"
    if score >= GUARDED:
        return "guarded"
    return "poor"


RECOMMENDATION = {"strong": "proceed", "guarded": "proceed_with_guardrails", "poor": "walk_away"}


def capped_band(score: int, risks: Mapping[str, int]) -> tuple[str, str | None]:
    """The band of an assessment and its ``band_note``: the score's band, capped at
    ``guarded`` when a cause's risk is :data:`CAP_RISK` or more (the note names it)."""
    band = band_of(score)
    high = [(cause, value) for cause, value in risks.items() if value >= CAP_RISK]
    if band != "strong" or not high:
        return band, None
    high.sort(key=lambda item: -item[1])  # stable: the contract's order among equals
    named = join_words([f"{CAUSE_LABELS[c].lower()} risk is {v}" for c, v in high])
    return "guarded", (
        f"Guarded rather than strong: the {named}, and a risk of {CAP_RISK} or more is not "
        f"offset by good signs elsewhere (the score alone is {score})."
    )


def evaluate(
    clean: Mapping[str, Any],
    playbooks: PlaybookSet,
    questionnaire: Questionnaire,
    profile: AgencyProfile | None = None,
) -> dict[str, Any]:
    """Assess answers that already passed validation (``clean`` from ``validate``).

    Clause texts are resolved with the agency ``profile`` (the shipped one when None)
    and no engagement terms (assessment.md v1.1); each clause also keeps its
    ``template``, so the agreement can resolve it again with the engagement's terms.
    """
    resolved = values(profile or default_profile(), EngagementTerms(), clean)
    points = 0
    risks = dict.fromkeys(CAUSES, 0)
    red_flags: list[str] = []
    forced_walk_away = False
    contributions: list[dict[str, Any]] = []
    clauses: list[tuple[int, int, dict[str, Any]]] = []
    actions: list[dict[str, Any]] = []
    action_ids: set[str] = set()
    for index, rule in enumerate(playbooks.rules):
        if rule.condition is not None and not rule.condition.evaluate(clean):
            continue
        reads = list(rule.reads)
        because = rule.because.render(clean, questionnaire, resolved) if rule.because else ""
        if rule.points or rule.risk:
            points += rule.points
            if rule.risk:
                risks[rule.cause] += rule.risk
            contributions.append(
                {
                    "playbook": rule.playbook,
                    "rule": rule.id,
                    "points": rule.points,
                    "cause": rule.cause,
                    "risk": rule.risk,
                    "questions": reads,
                    "because": because,
                }
            )
        if rule.red_flag:
            red_flags.append(because)
            forced_walk_away = forced_walk_away or rule.playbook == "walk_away"
        for clause in rule.clauses:
            clauses.append(
                (
                    _SECTION_ORDER[clause.section],
                    index,
                    {
                        "id": clause.id,
                        "playbook": rule.playbook,
                        "section": clause.section,
                        "title": clause.title,
                        "text": clause.text.render(clean, questionnaire, resolved),
                        "template": clause.text.source,
                        "triggered_by": reads,
                        "uses": list(clause.text.uses),
                    },
                )
            )
        for action in rule.actions:
            if action.id in action_ids:
                continue
            action_ids.add(action.id)
            actions.append(
                {
                    "id": action.id,
                    "playbook": rule.playbook,
                    "text": action.text.render(clean, questionnaire, resolved),
                    "due": action.due,
                }
            )
    score = max(0, min(100, BASE_SCORE + points))
    risks = {cause: max(0, min(100, value)) for cause, value in risks.items()}
    band, band_note = capped_band(score, risks)
    clauses.sort(key=lambda c: (c[0], c[1]))  # stable: playbook order, then file order
    return {
        "score": score,
        "band": band,
        "band_note": band_note,
        "recommendation": "walk_away" if forced_walk_away else RECOMMENDATION[band],
        "risks": risks,
        "red_flags": red_flags,
        "contributions": contributions,
        "clauses": [c for _, _, c in clauses],
        "actions": actions,
        "base_score": BASE_SCORE,
        "playbook_version": playbooks.version,
    }


def assess(answers: Any, playbooks: PlaybookSet | None = None) -> dict[str, Any]:
    """Validate ``answers`` and return the assessment contract as a dict.

    Raises :class:`AnswersInvalid` (with ``.errors``, every problem at once) when the
    answers do not validate. Playbooks are loaded once per process unless given.
    """
    questionnaire = get_questionnaire()
    clean, errors = questionnaire.validate(answers)
    if errors:
        raise AnswersInvalid(errors)
    return evaluate(clean, playbooks or get_playbooks(), questionnaire)


def to_json(assessment: Mapping[str, Any]) -> str:
    """The canonical JSON text of an assessment (the same input gives the same bytes)."""
    return json.dumps(assessment, ensure_ascii=False, indent=2) + "\n"
