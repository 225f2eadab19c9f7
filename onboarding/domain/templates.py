"""Sentence templates of playbooks: ``"Updates by {preferred_channel}, {update_cadence}."``

A placeholder names a question (its answer is filled in as a person reads it: labels,
not codes) or a *fact* (the registry below): a value of the resolved terms (what the
agency promises: ``{response_time}``, ``{included_revisions}``...), a client's wish
quoted as a wish (``{asked_response_time}``), or the plan derived from the timeline. Templates are
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
from onboarding.domain.sections import SECTIONS
from onboarding.domain.terms import (
    STANDARD_SECTIONS,
    EngagementTerms,
    default_profile,
    number_text,
    plural,
    table,
    values,
    written,
)


def default_values(answers: Mapping[str, Any]) -> dict[str, Any]:
    """The resolved terms of the shipped agency profile and no engagement terms."""
    return values(default_profile(), EngagementTerms(), answers)


ASKED_RESPONSE = {
    "1": "within an hour",
    "4": "within four hours",
    "24": "within a working day",
    "48": "within two working days",
}
"""The client's wish for reply times, as the client put it (never the agency's promise)."""


def _n(n: int, one: str) -> str:
    """``two rounds``: a count written the one way the agreement writes numbers."""
    return plural(n, one)


def _value(name: str) -> Fact:
    """A fact that writes a resolved value exactly as a standard clause's placeholder of
    the same name does (the term table's format): one value, one wording."""

    def fact(a: Mapping[str, Any], r: Mapping[str, Any]) -> str:
        return written(r.get(name), table().placeholders().get(name) or {}, r)

    return fact


def _asked_cadence(a: Mapping[str, Any], r: Mapping[str, Any]) -> str:
    key = a.get("update_frequency")
    return schedule.ASKED_CADENCE.get(key, "no particular rhythm")


def _discovery_length(a: Mapping[str, Any], r: Mapping[str, Any]) -> str:
    first = schedule.plan(a.get("timeline_weeks") or 1, r.get("fee_model"))[0]
    return _n(first.end_week - first.start_week + 1, "week")


FIXED_FEE_KEPT = ("timeline", "vendor_choice")
"""Decision areas the agency keeps on a fixed fee (the decision table's rule)."""


def client_decisions(answers: Mapping[str, Any], fee_model: str | None = None) -> list[str]:
    """The decision areas the Client keeps the final say on, as the decision table
    gives them: those it asked to own, except day-to-day tasks, which stay with the
    agency's project lead (the table's "client sets weekly priorities" row), and, on a
    fixed fee, the timeline and the choice of vendors."""
    from onboarding.domain.questionnaire import get_questionnaire

    labels = get_questionnaire().questions["decisions_owned"].values
    owned = answers.get("decisions_owned") or ()
    kept = ("daily_tasks", *(FIXED_FEE_KEPT if fee_model == "fixed" else ()))
    return [labels[v] for v in labels if v in owned and v not in kept]


def _client_decisions(a: Mapping[str, Any], r: Mapping[str, Any]) -> str:
    from onboarding.domain.questionnaire import join_words

    return join_words(client_decisions(a, r.get("fee_model"))) or (
        "the weekly priorities of the team's work"
    )


def _when(day: Any) -> str:
    import datetime as dt

    if isinstance(day, str):
        try:
            day = dt.date.fromisoformat(day)
        except ValueError:
            return day
    return f"{day.day} {_MONTH_NAMES[day.month - 1]} {day.year}"


_MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August",
                "September", "October", "November", "December")  # fmt: skip


def _fixed_launch_date(a: Mapping[str, Any], r: Mapping[str, Any]) -> str:
    day = r.get("fixed_launch_date") or a.get("launch_date")
    return _when(day) if day else "the launch date to be written here before signing"


def _engagement_term(a: Mapping[str, Any], r: Mapping[str, Any]) -> str:
    """How long the agreement lasts, as the fee model has it. How it ends early (by
    notice, or for the Agency only for cause) and the retainer's minimum term and notice
    are the standard terms' Termination clause of the fee model, stated there once; the
    clause names that section. When it takes effect is Signature and counterparts'."""
    if r.get("fee_model") == "retainer":
        return "This agreement lasts for the retainer's minimum term and its renewals."
    return "This agreement lasts until the agreed work is delivered, accepted and paid for."


def _milestone_schedule(a: Mapping[str, Any], r: Mapping[str, Any]) -> str:
    if r.get("fee_model") == "retainer":
        return schedule.cycle_sentence()
    return schedule.milestone_sentence(a.get("timeline_weeks") or 1)


def _review_count(a: Mapping[str, Any], r: Mapping[str, Any]) -> str:
    if r.get("fee_model") == "retainer":
        return "one a month"
    return number_text(len(schedule.review_weeks(a.get("timeline_weeks") or 1)))


def _plan_phases(a: Mapping[str, Any], r: Mapping[str, Any]) -> str:
    """The plan in sentences: a project's five phases and their reviews, or a
    retainer's month."""
    # The phases and their weeks are the table of Process and milestones (the roadmap,
    # stated once): the clause says what the table cannot, the reviews.
    if r.get("fee_model") == "retainer":
        return (
            "Each month of the retainer runs in the three phases of the table above and ends "
            "with a review in which the Client sees the month's work and the allowance used, "
            "and the parties agree the next month's priorities."
        )
    return (
        "Each phase of the table above ends with a review in which the Client sees the work "
        "and signs off the milestone (phases ending in the same week share one review: "
        f"{_review_count(a, r)} in all)."
    )


def _discovery_stop(a: Mapping[str, Any], r: Mapping[str, Any]) -> str:
    """What the Client pays if either party stops after a paid discovery."""
    if r.get("fee_model") == "retainer":
        return (
            "The Client then pays only the monthly fee of the month begun, whatever the "
            "minimum term, and receives the results"
        )
    if r.get("paid_discovery") == "on":
        # The price is the scope table's and what is paid the standard clause's (present
        # under this same condition): named by its title, not said again.
        return (
            "What the Client then pays and receives is set out in Stopping after the paid "
            f"discovery ({_section_ref('termination', r)})"
        )
    return (
        "The Client then pays for the work done and the costs committed up to that point, "
        "and receives the results"
    )


Fact = Callable[[Mapping[str, Any], Mapping[str, Any]], str]

FACTS: dict[str, Fact] = {
    # What the agency promises: the resolved terms (agency profile, then the engagement's).
    # The reply time in the term table's words, as a standard clause's {response_hours}.
    "response_time": lambda a, r: r["response_time"],
    "update_cadence": lambda a, r: schedule.CADENCE[r["update_cadence_key"]][1],
    "included_revisions": lambda a, r: _n(r["revision_rounds"], "round"),
    "notice_period": lambda a, r: _n(r["notice_days"], "day"),
    "acceptance_window": lambda a, r: _n(r["acceptance_days"], "working day"),
    "milestone_window": lambda a, r: _n(
        schedule.milestone_review_days(a.get("timeline_weeks") or 1, r["acceptance_days"])
        if r.get("fee_model") != "retainer"
        else r["acceptance_days"],
        "working day",
    ),
    # Escalation and the standard terms' dispute procedure: one period for each step.
    "escalation_period": lambda a, r: _value("escalation_days")(a, r),
    "agency": lambda a, r: r["agency"],
    "client_decisions": _client_decisions,
    "safeguard": lambda a, r: (
        (r.get("safeguard") or "").rstrip(" .")  # the clause ends the sentence itself
        or "to be agreed with the Client and written here before signing"
    ),
    # What the client asked for: quoted as a wish, never as an obligation.
    "asked_response_time": lambda a, r: ASKED_RESPONSE.get(
        a.get("expected_response_hours"), "no particular time"
    ),
    "asked_update_cadence": _asked_cadence,
    "asked_revisions": lambda a, r: _n(int(a.get("revision_rounds") or 0), "round"),
    # The plan, from the timeline.
    "milestone_schedule": _milestone_schedule,
    "plan_phases": _plan_phases,
    "discovery_stop": _discovery_stop,
    "review_count": _review_count,
    "discovery_length": _discovery_length,
    # What the fee model and the dates decide.
    "engagement_term": _engagement_term,
    "fixed_launch_date": _fixed_launch_date,
    "working_hours": lambda a, r: "Monday to Friday, 9:00 to 17:30 (agency local time)",
}
"""Derived values a template may use, by name. Adding one is one entry."""

FACT_ANSWERS: dict[str, tuple[str, ...]] = {
    "response_time": (),
    "update_cadence": (),
    "included_revisions": (),
    "notice_period": (),
    "acceptance_window": (),
    "agency": (),
    "client_decisions": ("decisions_owned",),
    "safeguard": (),
    "asked_response_time": ("expected_response_hours",),
    "asked_update_cadence": ("update_frequency",),
    "asked_revisions": ("revision_rounds",),
    "milestone_schedule": ("timeline_weeks",),
    "review_count": ("timeline_weeks",),
    "discovery_length": ("timeline_weeks",),
    "working_hours": (),
    "milestone_window": ("timeline_weeks",),
    "escalation_period": (),
    "plan_phases": ("timeline_weeks",),
    "discovery_stop": (),
    "engagement_term": (),
    "fixed_launch_date": ("launch_date",),
}
"""The answers each fact reads. Of the resolved values a fact reads only what the agency
profile and the engagement terms set, never a value derived from an answer (the client's
name, the wishes quoted as ``asked_*``: it reads the answer, listed here, instead), so
given the profile and the terms its text follows from these answers alone and an
assessment keeps each text by the answers it reads. Every fact is listed (a text with a
fact not listed would be worked out afresh at every assessment: correct, several times
slower); tests/unit/test_template_answers.py checks that and every entry against the
fact's code."""

FILTERS: dict[str, Callable[[str], str]] = {
    "lower": str.lower,
}
"""Filters a placeholder may name after a ``|``. Adding one is one entry."""

_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")


class TemplateError(ValueError):
    """A template naming an unknown question or fact, or with a stray brace."""


REFERENCES = ("section", "phase")
"""Cross-references a template may make: ``{section:scope}`` ("section 3", or "the
Scope and fees section" before the agreement is numbered) and ``{phase:Discovery}``
("the Discovery phase (weeks 1–2)"). The agreement's consistency check reports a
reference to a section the agreement does not have."""


def _section_ref(target: str, resolved: Mapping[str, Any]) -> str:
    numbers = resolved.get("section_numbers") or {}
    if target in numbers:
        return f"section {numbers[target]}"
    title = SECTIONS.get(target) or STANDARD_SECTIONS.get(target, target)
    return f"the {title} section"


def _phase_ref(target: str, answers: Mapping[str, Any], fee_model: str | None = None) -> str:
    cycle = fee_model == "retainer"
    for phase in schedule.plan(answers.get("timeline_weeks") or 1, fee_model):
        if phase.name == target:
            if cycle:
                return f"the {phase.name.lower()} {_cycle_weeks(phase)} of each month"
            if phase.start_week == phase.end_week:
                return f"the {phase.name} phase (week {phase.end_week})"
            return f"the {phase.name} phase (weeks {phase.start_week}\u2013{phase.end_week})"
    if cycle and target in PROJECT_IN_CYCLE:
        phase = next(p for p in schedule.monthly_cycle() if p.name == PROJECT_IN_CYCLE[target])
        return f"the {phase.name.lower()} {_cycle_weeks(phase)} of the first month"
    return f"the {target} phase"


PROJECT_IN_CYCLE = {
    "Discovery": "Planning",
    "Strategy": "Planning",
    "Production": "Delivery",
    "Refinement": "Review",
    "Launch": "Review",
}
"""Where a project phase a clause names falls in a retainer's month."""


def _cycle_weeks(phase: schedule.Phase) -> str:
    if phase.start_week == phase.end_week:
        return f"week (week {phase.end_week})"
    return f"weeks (weeks {phase.start_week}\u2013{phase.end_week})"


@dataclass(frozen=True)
class Template:
    """A compiled template: literal parts and the names filled in between them."""

    source: str
    parts: tuple[tuple[str, str | None, str | None], ...]  # (literal, name, filter)
    uses: tuple[str, ...]  # question ids filled in
    facts: tuple[str, ...] = ()  # facts filled in
    refs: tuple[tuple[str, str], ...] = ()  # (kind, target) cross-references

    def render(
        self,
        answers: Mapping[str, Any],
        questionnaire: Questionnaire,
        resolved: Mapping[str, Any] | None = None,
    ) -> str:
        """The text with every placeholder filled in from ``answers`` and ``resolved``
        (the resolved terms of :func:`onboarding.domain.terms.values`; the shipped agency
        profile with no engagement terms when omitted)."""
        if resolved is None:
            resolved = default_values(answers)
        fast = self.__dict__.get("_render")
        if fast is None:  # made at the first render: one function per template
            fast = _renderer(self.parts)
            object.__setattr__(self, "_render", fast)
        return fast(answers, questionnaire, resolved)

    def renderer(self) -> Filler:
        """The function :meth:`render` calls, keeping no texts of its own: for a caller
        that keeps them by :meth:`answer_keys` (the assessment)."""
        if type(self).render is not Template.render:  # a subclass renders its own way
            return lambda a, q, r: self.render(a, q, r)
        return _renderer(self.parts, keep=False)

    def answer_keys(self) -> tuple[str, ...] | None:
        """The answers this template's text follows from, given the agency profile and
        the engagement terms (its questions, the answers its facts read, the timeline
        for a phase); None when a fact does not say what it reads (:data:`FACT_ANSWERS`)."""
        keys = list(self.uses)
        for name in self.facts:
            reads = FACT_ANSWERS.get(name)
            if reads is None:
                return None
            keys += reads
        if any(kind == "phase" for kind, _ in self.refs):
            keys.append("timeline_weeks")
        return tuple(dict.fromkeys(keys))

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_render", None)  # a closure: made again after unpickling
        return state


Filler = Callable[[Mapping[str, Any], Questionnaire, Mapping[str, Any]], str]


def _filler(name: str, filter_name: str | None) -> Filler:
    """What fills one placeholder, decided once (the parts of :meth:`Template.render`)."""
    fact = FACTS.get(name)
    if fact is not None:
        fill: Filler = lambda a, q, r: fact(a, r)  # noqa: E731
    elif name.startswith("section:"):
        target = name[8:]
        fallback = _section_ref(target, {})

        def fill(a, q, r):
            numbers = r.get("section_numbers")
            if numbers and target in numbers:
                return f"section {numbers[target]}"
            return fallback

    elif name.startswith("phase:"):
        target = name[6:]
        seen: dict[Any, str] = {}  # by timeline: the phases follow from it alone

        def fill(a, q, r):
            key = (a.get("timeline_weeks"), r.get("fee_model"))
            text = seen.get(key)
            if text is None:
                if len(seen) > 512:
                    seen.clear()
                text = seen[key] = _phase_ref(target, a, r.get("fee_model"))
            return text

    else:
        fill = lambda a, q, r: q.questions[name].display(a.get(name))  # noqa: E731
    if filter_name:
        use, apply = fill, FILTERS[filter_name]
        fill = lambda a, q, r: apply(use(a, q, r))  # noqa: E731
    return fill


def answer_key(value: Any) -> Any:
    """An answer as part of a key of kept texts: a list as a tuple, anything else with
    its type (``True`` and ``1`` are different answers)."""
    return tuple(value) if value.__class__ is list else (value.__class__, value)


MEMO_SIZE = 4096
"""Texts kept per template that fills in answers only (a few distinct answers each)."""


def _renderer(parts: tuple[tuple[str, str | None, str | None], ...], keep: bool = True) -> Filler:
    """A template's parts as one function of (answers, questionnaire, resolved).

    A template that fills in nothing but answers to questions is a function of those
    answers alone: its texts are kept by answer, so the common ones are made once
    (unless ``keep`` is false: a caller that keeps the texts itself)."""
    if len(parts) == 1:
        text = parts[0][0]
        return lambda a, q, r: text
    first = parts[0][0]
    steps = tuple(
        (_filler(name, filter_name), parts[i + 1][0])
        for i, (_, name, filter_name) in enumerate(parts[:-1])
    )

    def render(a, q, r):
        out = [first]
        for fill, literal in steps:
            out.append(fill(a, q, r))
            out.append(literal)
        return "".join(out)

    names = tuple(name for _, name, _ in parts[:-1])
    if not keep or any(name in FACTS or ":" in name for name in names):
        return render
    kept: dict[Any, str] = {}

    def memo(a, q, r):
        key = (q, *map(answer_key, map(a.get, names)))
        text = kept.get(key)
        if text is None:
            if len(kept) >= MEMO_SIZE:
                kept.clear()
            text = kept[key] = render(a, q, r)
        return text

    return memo


def compile_template(text: str, questionnaire: Questionnaire) -> Template:
    """Check and compile a template; raise TemplateError naming the bad placeholder."""
    if not isinstance(text, str):
        raise TemplateError("must be text")
    parts: list[tuple[str, str | None, str | None]] = []
    uses: list[str] = []
    facts: list[str] = []
    refs: list[tuple[str, str]] = []
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
        kind, _, target = name.partition(":")
        if target and kind in REFERENCES:
            _check_reference(kind, target)
            refs.append((kind, target))
        elif name not in FACTS and name not in questionnaire.questions:
            raise TemplateError(f"unknown placeholder {{{name}}} (not a question or a fact)")
        if name in questionnaire.questions and name not in uses:
            uses.append(name)
        if name in FACTS and name not in facts:
            facts.append(name)
        parts.append(("".join(literal), name, filter_name or None))
        literal = []
    literal.append(text[pos:])
    parts.append(("".join(literal), None, None))
    return Template(text, tuple(parts), tuple(uses), tuple(facts), tuple(refs))


def _check_reference(kind: str, target: str) -> None:
    if kind == "section" and target not in SECTIONS and target not in STANDARD_SECTIONS:
        known = ", ".join([*SECTIONS, *STANDARD_SECTIONS])
        raise TemplateError(f"{{section:{target}}} names no section (known: {known})")
    if kind == "phase" and target not in [name for name, _, _ in schedule.PHASES]:
        known = ", ".join(name for name, _, _ in schedule.PHASES)
        raise TemplateError(f"{{phase:{target}}} names no phase of the roadmap (known: {known})")
