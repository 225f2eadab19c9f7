"""Sentence templates of playbooks: ``"Updates by {preferred_channel}, {update_cadence}."``

A placeholder names a question (its answer is filled in as a person reads it: labels,
not codes) or a *fact* derived from the answers (the registry below). Templates are
checked when a playbook loads; the output is plain text, never markup (the agreement
escapes it when it renders HTML). ``{{`` and ``}}`` stand for literal braces.

A placeholder may end in a filter: ``{decisions_owned|lower}`` gives "brand direction,
copy and wording" for use mid-sentence.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from onboarding.domain import schedule
from onboarding.domain.questionnaire import Questionnaire

RESPONSE_TIME = {
    "1": "within one working hour",
    "4": "within four working hours",
    "24": "within one working day",
    "48": "within two working days",
}


def _included_revisions(a: Mapping[str, Any]) -> str:
    asked = a.get("revision_rounds") or 0
    included = max(1, min(int(asked), 3))
    return f"{included} round{'s' if included != 1 else ''}"


FACTS: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "response_time": lambda a: RESPONSE_TIME.get(a.get("expected_response_hours"), "promptly"),
    "update_cadence": lambda a: schedule.CADENCE.get(
        a.get("update_frequency"), schedule.CADENCE["weekly"]
    )[1],
    "milestone_schedule": lambda a: schedule.milestone_sentence(a.get("timeline_weeks") or 1),
    "review_count": lambda a: str(len(schedule.review_weeks(a.get("timeline_weeks") or 1))),
    "included_revisions": _included_revisions,
    "working_hours": lambda a: "Monday to Friday, 9:00 to 17:30 (agency local time)",
}
"""Derived values a template may use, by name. Adding one is one entry."""

FILTERS: dict[str, Callable[[str], str]] = {
    "lower": str.lower,
}
"""Filters a placeholder may name after a ``|``. Adding one is one entry."""

_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")


class TemplateError(ValueError):
    """A template naming an unknown question or fact, or with a stray brace."""


@dataclass(frozen=True)
class Template:
    """A compiled template: literal parts and the names filled in between them."""

    source: str
    parts: tuple[tuple[str, str | None, str | None], ...]  # (literal, name, filter)
    uses: tuple[str, ...]  # question ids filled in

    def render(self, answers: Mapping[str, Any], questionnaire: Questionnaire) -> str:
        """The text with every placeholder filled in from ``answers``."""
        out = []
        questions = questionnaire.questions
        for literal, name, filter_name in self.parts:
            out.append(literal)
            if name is None:
                continue
            fact = FACTS.get(name)
            if fact is not None:
                value = fact(answers)
            else:
                value = questions[name].display(answers.get(name))
            out.append(FILTERS[filter_name](value) if filter_name else value)
        return "".join(out)


def compile_template(text: str, questionnaire: Questionnaire) -> Template:
    """Check and compile a template; raise TemplateError naming the bad placeholder."""
    if not isinstance(text, str):
        raise TemplateError("must be text")
    parts: list[tuple[str, str | None, str | None]] = []
    uses: list[str] = []
    literal: list[str] = []
    pos = 0
    for m in _TOKEN.finditer(text):
        literal.append(text[pos : m.start()])
        pos = m.end()
        token = m.group(0)
        if token in ("{{", "}}"):
            literal.append(token[0])
            continue
        if m.group(1) is None:
            raise TemplateError(f"stray {token!r} at character {m.start() + 1} (write {token * 2})")
        name, _, filter_name = (part.strip() for part in m.group(1).partition("|"))
        if filter_name and filter_name not in FILTERS:
            known = ", ".join(FILTERS)
            raise TemplateError(
                f"unknown filter |{filter_name} in {{{m.group(1)}}} (known: {known})"
            )
        if name not in FACTS and name not in questionnaire.questions:
            raise TemplateError(f"unknown placeholder {{{name}}} (not a question or a fact)")
        if name in questionnaire.questions and name not in uses:
            uses.append(name)
        parts.append(("".join(literal), name, filter_name or None))
        literal = []
    literal.append(text[pos:])
    parts.append(("".join(literal), None, None))
    return Template(text, tuple(parts), tuple(uses))
