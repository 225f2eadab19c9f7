"""The interpreted path of validation and evaluation, kept to check the compiled one.

Before issue 28 each answer was checked by a per-type validator raising ValueError, each
condition was a chain of closures (:func:`onboarding.domain.rules.interpreted`), and
each template walked its parts at every render. Those are kept here, with the two
message changes of issue 25 (every problem of a list; a number given for a choice), so
tests/unit/test_compiled.py can compare the compiled path's JSON with them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Mapping
from typing import Any

from email_validator import EmailNotValidError, validate_email

from onboarding.domain import templates
from onboarding.domain.playbooks import PlaybookSet
from onboarding.domain.questionnaire import FieldError, Question, Questionnaire
from onboarding.domain.rules import interpreted
from onboarding.domain.text import control_problem


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
