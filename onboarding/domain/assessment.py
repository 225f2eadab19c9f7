"""The fit assessment (contract: shared/spec/assessment.md, v1.2).

``score = clamp(BASE_SCORE + sum(points of the rules that fired), 0, 100)``; each
cause's risk is the clamped sum of the ``risk`` of the rules that fired for it. Every
rule that moved the score or a risk is listed in ``contributions`` with the answers
its condition read and a sentence saying why.

The band follows the score, except that a concentrated risk is not cancelled by
unrelated good signs: when one cause's risk is :data:`CAP_RISK` or more the band is
at most ``guarded`` and ``band_note`` says which cause capped it (v1.1). Consumers
read ``band``; nothing else derives it from the score.

v1.2 adds two more caps, so that no verdict says "proceed" where an account director
would not: a scope the budget or the timeline cannot carry (a ``scope`` red flag: the
first action is then to agree a scope that fits), and answers one step away from a
reason to walk away (so that no single answer moves the recommendation from
``proceed`` to ``walk_away``). ``band_cap`` says which cap applied: a cause, ``scope``,
``walk_away`` or null.

Reasons: the rules that read the same answers are explained by one sentence (the
weightiest rule's), so the client reads one reason per answer, not one per rule.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from onboarding.domain.playbooks import (
    CAUSE_LABELS,
    CAUSES,
    SECTIONS,
    PlaybookSet,
    Rule,
    get_playbooks,
)
from onboarding.domain.questionnaire import (
    AnswersInvalid,
    Questionnaire,
    get_questionnaire,
    join_words,
)
from onboarding.domain.terms import AgencyProfile, EngagementTerms, default_profile, values
from onboarding.domain.wishes import wish_phrase

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
STEPS = {"proceed": 0, "proceed_with_guardrails": 1, "walk_away": 2}
"""The recommendations in order: one answer moves the verdict by at most one step."""
RECOMMENDATION_LABELS = {
    "proceed": "Proceed",
    "proceed_with_guardrails": "Proceed with guardrails",
    "walk_away": "Walk away",
}
SCOPE_FIRST = "Agree a scope that fits before signing"
"""How a readable verdict starts beside a scope red flag (never "proceed")."""
SCOPE_ACTION_ID = "agree_scope_that_fits"
_SCOPE_ACTION = (
    SCOPE_FIRST + ": go through what the engagement must deliver, the budget and the "
    "timeline with {name}, and send the agreement only once the three match."
)
# "Frustrated creative" names a client who wants a hand in the creative work; without a
# creative team of their own, the same answers say close control, and people read that.
_CONTEXT_LABELS = {("frustrated_creative", "in_house_creative", "none"): "Close control"}


def risk_labels(clean: Mapping[str, Any]) -> dict[str, str]:
    """The words people read for each cause, for these answers (``risk_labels``)."""
    labels = dict(CAUSE_LABELS)
    for (cause, qid, value), label in _CONTEXT_LABELS.items():
        if clean.get(qid) == value:
            labels[cause] = label
    return labels


def verdict_label(assessment: Mapping[str, Any]) -> str:
    """The recommendation in words; beside a scope red flag it starts by agreeing the
    scope and never says "proceed" (assessment.md v1.2)."""
    recommendation = assessment["recommendation"]
    if recommendation != "walk_away" and any(
        f.get("kind") == "scope" for f in assessment.get("red_flag_details") or ()
    ):
        return f"{SCOPE_FIRST}; the guardrails of the agreement come after"
    return RECOMMENDATION_LABELS[recommendation]


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


def one_step(question, value: Any) -> list[Any]:
    """The answers one step from ``value`` (assessment.md v1.2): one value of a choice,
    one point of a number or scale, one item added to or removed from a list."""
    kind = question.type
    if kind == "yesno":
        return [not value] if isinstance(value, bool) else [True, False]
    if kind == "choice":
        return [v for v in question.values if v != value]
    if kind in ("integer", "scale"):
        if value is None:
            return []
        lo, hi = question.bounds()
        return [v for v in (value - 1, value + 1) if lo <= v <= hi]
    if kind == "multi":
        current = list(value or [])
        out: list[Any] = [[v for v in current if v != item] for item in current]
        out += [[*current, item] for item in question.values if item not in current]
        return out
    return []


def near_walk_away(
    clean: Mapping[str, Any], rules: tuple[Rule, ...], questionnaire: Questionnaire
) -> list[tuple[Rule, str]]:
    """The walk-away red flags that do not fire but would with one answer changed by one
    step, each with the question whose change would fire it."""
    near = []
    for rule in rules:
        if rule.flag_kind != "walk_away" or rule.condition is None or rule.condition(clean):
            continue
        for qid in rule.reads:
            question = questionnaire.questions[qid]
            if any(
                rule.condition({**clean, qid: other})
                for other in one_step(question, clean.get(qid))
            ):
                near.append((rule, qid))
                break
    return near


def _one_sentence_per_answer(
    contributions: list[dict[str, Any]], questionnaire: Questionnaire
) -> None:
    """Rules that read the same answers share one sentence: the weightiest rule's (the
    first of equals), so the client reads each answer explained once. A list's items
    (each fear, each past problem) are answers of their own and keep their sentences."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for c in contributions:
        if any(questionnaire.questions[q].type == "multi" for q in c["questions"]):
            continue
        groups.setdefault(tuple(sorted(c["questions"])), []).append(c)
    for members in groups.values():
        if len(members) > 1:
            lead = max(members, key=lambda c: c["risk"] + abs(c["points"]))
            for c in members:
                c["because"] = lead["because"]


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
    flag_details: list[dict[str, Any]] = []
    contributions: list[dict[str, Any]] = []
    clauses: list[tuple[int, int, dict[str, Any]]] = []
    actions: list[dict[str, Any]] = []
    scope_actions: list[dict[str, Any]] = []
    action_ids: set[str] = set()
    offers: list[dict[str, Any]] = []
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
            flag_details.append(
                {"text": because, "kind": rule.flag_kind, "playbook": rule.playbook,
                 "rule": rule.id, "questions": reads}
            )  # fmt: skip
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
        for oid in rule.offer:
            if all(o["id"] != oid for o in offers):
                offers.append(
                    {"id": oid, "playbook": rule.playbook, "rule": rule.id, "questions": reads,
                     "because": wish_phrase(reads, clean, questionnaire)}
                )  # fmt: skip
        for action in rule.actions:
            if action.id in action_ids:
                continue
            action_ids.add(action.id)
            (scope_actions if rule.flag_kind == "scope" else actions).append(
                {
                    "id": action.id,
                    "playbook": rule.playbook,
                    "text": action.text.render(clean, questionnaire, resolved),
                    "due": action.due,
                }
            )
    _one_sentence_per_answer(contributions, questionnaire)
    score = max(0, min(100, BASE_SCORE + points))
    risks = {cause: max(0, min(100, value)) for cause, value in risks.items()}
    labels = risk_labels(clean)
    scope = [f for f in flag_details if f["kind"] == "scope"]
    forced_walk_away = any(f["kind"] == "walk_away" for f in flag_details)
    band, band_note, band_cap = _band(score, risks, labels, scope, clean, playbooks, questionnaire)
    if scope:  # v1.2: the first thing to do is to agree a scope that fits
        name = clean.get("contact_name") or "the client"
        first = {
            "id": SCOPE_ACTION_ID,
            "playbook": scope[0]["playbook"],
            "text": _SCOPE_ACTION.format(name=name),
            "due": "before_signing",
        }
        actions = [first, *scope_actions, *actions]
    else:
        actions = scope_actions + actions
    clauses.sort(key=lambda c: (c[0], c[1]))  # stable: playbook order, then file order
    return {
        "score": score,
        "band": band,
        "band_note": band_note,
        "band_cap": band_cap,
        "recommendation": "walk_away" if forced_walk_away else RECOMMENDATION[band],
        "risks": risks,
        "risk_labels": labels,
        "red_flags": red_flags,
        "red_flag_details": flag_details,
        "contributions": contributions,
        "clauses": [c for _, _, c in clauses],
        "actions": actions,
        "offers": offers,
        "base_score": BASE_SCORE,
        "playbook_version": playbooks.version,
    }


def _band(score, risks, labels, scope, clean, playbooks, questionnaire):
    """The band, its note and the cap that applied (v1.1 causes, v1.2 scope and walk-away
    one step away); only ever lowers ``strong`` to ``guarded``."""
    band = band_of(score)
    if band != "strong":
        return band, None, None
    if scope:
        return (
            "guarded",
            (
                "Guarded rather than strong: the scope does not fit the budget or the timeline, "
                f"so the first step is to agree a scope that fits before signing (the score "
                f"alone is {score})."
            ),
            "scope",
        )
    high = sorted(((c, v) for c, v in risks.items() if v >= CAP_RISK), key=lambda i: -i[1])
    if high:
        named = join_words([f"{labels[c].lower()} risk is {v}" for c, v in high])
        return (
            "guarded",
            (
                f"Guarded rather than strong: the {named}, and a risk of {CAP_RISK} or more is "
                f"not offset by good signs elsewhere (the score alone is {score})."
            ),
            high[0][0],
        )
    near = near_walk_away(clean, playbooks.rules, questionnaire)
    if near:
        names = join_words(sorted({questionnaire.questions[q].name for _, q in near}))
        return (
            "guarded",
            (
                "Guarded rather than strong: one answer away from a reason to walk away (a "
                f"step further in {names}), so the agreement's guardrails matter here (the "
                f"score alone is {score})."
            ),
            "walk_away",
        )
    return band, None, None


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


def reasons(assessment: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One reason per answer: the contributions that read the same answers with the same
    sentence, merged (their points added up, their risks by cause, the rules' ids), in
    the order the first of each appears."""
    out: dict[tuple[Any, ...], dict[str, Any]] = {}
    for c in assessment["contributions"]:
        key = (*sorted(c["questions"]), c["because"])
        reason = out.setdefault(
            key,
            {"because": c["because"], "points": 0, "risks": {}, "rules": [],
             "questions": list(c["questions"])},
        )  # fmt: skip
        reason["points"] += c["points"]
        if c.get("risk"):
            reason["risks"][c["cause"]] = reason["risks"].get(c["cause"], 0) + c["risk"]
        reason["rules"].append(f"{c['playbook']}/{c['rule']}")
    return list(out.values())


def to_json(assessment: Mapping[str, Any]) -> str:
    """The canonical JSON text of an assessment (the same input gives the same bytes)."""
    return json.dumps(assessment, ensure_ascii=False, indent=2) + "\n"
