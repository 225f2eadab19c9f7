"""The interpreted path of validation and evaluation, kept to check the compiled one.

Before issue 28 each answer was checked by a per-type validator raising ValueError, each
condition was a chain of closures (:func:`onboarding.domain.rules.interpreted`), and
each template walked its parts at every render. Those are kept here, with the two
message changes of issue 25 (every problem of a list; a number given for a choice), so
tests/unit/test_compiled.py can compare the compiled path's JSON with them. So is the
rule-by-rule loop of ``assessment.evaluate`` (:func:`evaluate`), which the assessment
replaced by one function generated per playbook set.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Mapping
from typing import Any

from email_validator import EmailNotValidError, validate_email

from onboarding.domain import templates
from onboarding.domain.assessment import (
    _SCOPE_ACTION,
    BASE_SCORE,
    CAP_RISK,
    RECOMMENDATION,
    SCOPE_ACTION_ID,
    band_of,
    one_step,
    risk_labels,
)
from onboarding.domain.playbooks import CAUSES, SECTIONS, PlaybookSet, Rule
from onboarding.domain.questionnaire import FieldError, Question, Questionnaire, join_words
from onboarding.domain.rules import interpreted
from onboarding.domain.terms import AgencyProfile, EngagementTerms, default_profile, values
from onboarding.domain.text import control_problem
from onboarding.domain.wishes import wish_phrase


class Problems(ValueError):
    """Several problems with one answer (issue 25: every one is listed)."""

    def __init__(self, messages: list[str]):
        self.messages = messages
        super().__init__(messages[0])


def _text(q: Question, value: Any) -> Any:
    if not isinstance(value, str):
        raise ValueError("must be text")
    value = value.strip()
    problems = []
    if "\x00" in value:
        problems.append("must not contain NUL characters")
    else:
        problem = control_problem(value, multiline=q.long)
        if problem:
            problems.append(problem)
    if q.max_length and len(value) > q.max_length:
        problems.append(f"must be at most {q.max_length} characters (got {len(value)})")
    if problems:
        raise Problems(problems)
    return value or None


def _email(q: Question, value: Any) -> Any:
    if not isinstance(value, str):
        raise ValueError("must be an email address")
    value = value.strip()
    if not value:
        return None
    if len(value) > 254:
        raise ValueError("must be at most 254 characters")
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValueError(f"is not a valid email address ({exc})") from None


def _whole(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a whole number")
    if isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            raise ValueError("must be a whole number")
        value = int(value)
    return value


def _integer(q: Question, value: Any) -> Any:
    value = _whole(value)
    lo, hi = q.bounds()
    if not lo <= value <= hi:
        raise ValueError(f"must be between {lo} and {hi} (got {value})")
    return value


def _choice(q: Question, value: Any) -> Any:
    if not isinstance(value, str):
        try:
            text = str(_whole(value))
        except ValueError:
            text = None
        if text in q.values:
            raise ValueError(f'give one of the listed values as text: "{text}"')
        raise ValueError(f"must be one of: {', '.join(q.values)}")
    if value not in q.values:
        raise ValueError(f"{value!r} is not one of: {', '.join(q.values)}")
    return value


def _multi(q: Question, value: Any) -> Any:
    if not isinstance(value, list):
        raise ValueError(f"must be a list of values from: {', '.join(q.values)}")
    seen: list[str] = []
    problems: list[str] = []
    for item in value:
        if not isinstance(item, str) or item not in q.values:
            problem = f"{item!r} is not one of: {', '.join(q.values)}"
        elif item in seen:
            problem = f"{item!r} is listed more than once"
        else:
            seen.append(item)
            continue
        if problem not in problems:
            problems.append(problem)
    if problems:
        raise Problems(problems)
    return [v for v in q.values if v in seen]


DATE_MIN, DATE_MAX = dt.date(2000, 1, 1), dt.date(2100, 12, 31)


def _date(q: Question, value: Any) -> Any:
    if not isinstance(value, str):
        raise ValueError("must be a date written YYYY-MM-DD")
    value = value.strip()
    if not value:
        return None
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value[:20]!r} is not a date written YYYY-MM-DD") from None
    if len(value) != 10 or not DATE_MIN <= day <= DATE_MAX:
        raise ValueError(f"must be a date written YYYY-MM-DD, from {DATE_MIN} to {DATE_MAX}")
    return day.isoformat()


def _yesno(q: Question, value: Any) -> Any:
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


VALIDATORS = {
    "text": _text,
    "email": _email,
    "integer": _integer,
    "scale": _integer,
    "choice": _choice,
    "multi": _multi,
    "yesno": _yesno,
    "date": _date,
}


def _shown(questionnaire: Questionnaire, qid: str, clean, *, form: bool = False) -> bool:
    """``Questionnaire.shown`` with the conditions interpreted."""
    for condition in (
        questionnaire.condition_of(qid),
        questionnaire.condition_of(qid, form=True) if form else None,
    ):
        if condition is not None and not interpreted(condition.tree, questionnaire)(clean):
            return False
    return True


def validate(
    questionnaire: Questionnaire, answers: Any, *, partial: bool = False, form: bool = False
) -> tuple[dict[str, Any], list[FieldError]]:
    """``Questionnaire.validate`` as it was interpreted, question by question."""
    self = questionnaire
    if not isinstance(answers, Mapping):
        return {}, [FieldError("answers", "must be a JSON object of question ids")]
    errors: list[FieldError] = []
    for key in answers:
        if key not in self.questions:
            errors.append(FieldError(str(key), "is not a question of this questionnaire"))
    clean: dict[str, Any] = {}
    for q in self.questions.values():
        value = answers.get(q.id)
        try:
            value = None if value is None else VALIDATORS[q.type](q, value)
        except Problems as exc:
            errors += [FieldError(q.id, f"{q.label.rstrip('?')}: {m}") for m in exc.messages]
            clean[q.id] = None
            continue
        except ValueError as exc:
            errors.append(FieldError(q.id, f"{q.label.rstrip('?')}: {exc}"))
            clean[q.id] = None
            continue
        clean[q.id] = value
    for q in self.questions.values():
        if not _shown(self, q.id, clean):
            clean[q.id] = None
            errors = [e for e in errors if e.question != q.id]
            continue
        if form and not _shown(self, q.id, clean, form=True):
            clean[q.id] = q.form_hidden_value
            errors = [e for e in errors if e.question != q.id]
            continue
        asked = form and q.form_required and not partial
        if (
            (q.required or asked)
            and not partial
            and clean[q.id] is None
            and not any(e.question == q.id for e in errors)
        ):
            errors.append(FieldError(q.id, f"{q.label.rstrip('?')}: an answer is required"))
        elif asked and q.type == "multi" and clean[q.id] == []:
            errors.append(FieldError(q.id, f"{q.label.rstrip('?')}: choose at least one"))
    order = {qid: i for i, qid in enumerate(self.questions)}
    errors.sort(key=lambda e: order.get(e.question, -1))
    return clean, errors


@dataclasses.dataclass(frozen=True)
class InterpretedTemplate(templates.Template):
    """A template that walks its parts at every render (as before issue 28)."""

    def render(self, answers, questionnaire, resolved=None) -> str:
        if resolved is None:
            resolved = templates.default_values(answers)
        out = []
        questions = questionnaire.questions
        for literal, name, filter_name in self.parts:
            out.append(literal)
            if name is None:
                continue
            fact = templates.FACTS.get(name)
            if fact is not None:
                value = fact(answers, resolved)
            elif name.startswith("section:"):
                value = templates._section_ref(name[8:], resolved)
            elif name.startswith("phase:"):
                value = templates._phase_ref(name[6:], answers)
            else:
                value = questions[name].display(answers.get(name))
            out.append(templates.FILTERS[filter_name](value) if filter_name else value)
        return "".join(out)


def _template(template):
    if template is None:
        return None
    fields = {f.name: getattr(template, f.name) for f in dataclasses.fields(template)}
    return InterpretedTemplate(**fields)


def playbooks(compiled: PlaybookSet, questionnaire: Questionnaire) -> PlaybookSet:
    """The same playbooks with interpreted conditions and templates."""
    out = []
    for pb in compiled.playbooks:
        rules = []
        for rule in pb.rules:
            condition = rule.condition
            if condition is not None:
                condition = dataclasses.replace(
                    condition, evaluate=interpreted(condition.tree, questionnaire)
                )
            rules.append(
                dataclasses.replace(
                    rule,
                    condition=condition,
                    because=_template(rule.because),
                    clauses=tuple(
                        dataclasses.replace(c, text=_template(c.text)) for c in rule.clauses
                    ),
                    actions=tuple(
                        dataclasses.replace(a, text=_template(a.text)) for a in rule.actions
                    ),
                )
            )
        out.append(dataclasses.replace(pb, rules=tuple(rules)))
    return PlaybookSet(tuple(out), compiled.version, compiled.baseline, compiled.directory)


# --- the rule-by-rule evaluation (before the rules ran as one generated function) -------

_SECTION_ORDER = {s: i for i, s in enumerate(SECTIONS)}


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
            same = next((o for o in offers if o["id"] == oid), None)
            if same is None:
                offers.append(
                    {"id": oid, "playbook": rule.playbook, "rule": rule.id, "questions": reads,
                     "because": wish_phrase(reads, clean, questionnaire)}
                )  # fmt: skip
            else:  # another wish the same option answers: say both
                same["questions"] = list(dict.fromkeys([*same["questions"], *reads]))
                because = wish_phrase(reads, clean, questionnaire)
                if because and because not in same["because"]:
                    same["because"] = f"{same['because']} {because}".strip()
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
