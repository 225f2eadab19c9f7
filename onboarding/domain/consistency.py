"""Does the agreement contradict itself? A check on structure, not on prose.

Every value is decided once, in the resolved terms; clauses name values through
placeholders, refer to sections and phases through references, and the decision table
is data. So the contradictions a reader finds can be found from that structure:

- **a client's wish stated as a value**: a clause that fills in the raw answer to a
  question the agreement resolves (``{revision_rounds}``, ``{expected_response_hours}``,
  ``{update_frequency}``) states the wish where the agreement has its own value; it
  must quote it as a wish (``{asked_revisions}``...) or state the agreed value;
- **the decision table**: a decision-rights clause must list the Client's decisions
  through ``{client_decisions}`` (the table's own rows), never the raw answer, and
  the areas it lists must be exactly the table's "Client" and "Jointly" rows;
- **references**: a ``{section:...}`` reference to a section the agreement does not
  have; a payment due at the end of a phase the roadmap does not have;
- **the roadmap and the clauses**: the review window must fit inside the shortest
  phase; the plan must end by a fixed launch date; the roadmap's update marks must
  follow the agreed update cadence;
- **one value, one wording** (the words a clause writes itself, between its
  placeholders): a reply time written out ("within 24 working hours") instead of the
  agreed reply time (``{response_time}``, ``{response_hours}`` in the standard terms),
  which the agreement states in one unit; an escalation or dispute clause with a period
  of its own ("within two working days", "within 14 days") instead of the one
  escalation period (``{escalation_period}``, ``{escalation_days}``); a number up to ten
  in figures ("5 in all") where the agreement writes it in words ("five in all").

Each problem names the clauses involved (:class:`Problem`). :func:`check_playbooks`
runs the template-level checks over every clause of a playbook set (for
``onboarding playbooks check``); :func:`check_agreement` runs everything over one
composed agreement.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from onboarding.domain import schedule
from onboarding.domain.agreement import Agreement
from onboarding.domain.playbooks import PlaybookSet
from onboarding.domain.questionnaire import Questionnaire, get_questionnaire
from onboarding.domain.templates import client_decisions, compile_template
from onboarding.domain.terms import NUMBER_WORDS, AgencyProfile, EngagementTerms, default_profile

WISHES = {
    "revision_rounds": "asked_revisions or included_revisions",
    "expected_response_hours": "asked_response_time or response_time",
    "update_frequency": "asked_update_cadence or update_cadence",
}
"""Questions the agreement resolves to its own value: a clause may not state the raw
answer (the client's wish) as if it were the agreement's value."""


_NUMBER = "|".join(
    [r"\d+", *NUMBER_WORDS, "eleven", "twelve", "fourteen", "twenty", "twenty-four",
     "thirty", "forty-eight", "sixty"]
)  # fmt: skip
LITERAL_REPLY = re.compile(
    rf"\bwithin\s+(?:an?|{_NUMBER})\s+(?:working\s+|business\s+)?hours?\b"
    rf"|\b(?:{_NUMBER})\s+(?:working|business)\s+hours?\b"
    r"|\b(?:answer\w*|repl(?:y|ies|ied)|respond\w*|acknowledg\w*)\b[^.;]{0,60}?"
    rf"\bwithin\s+(?:a|an|{_NUMBER})\s+(?:working\s+|business\s+)?(?:hours?|days?)\b",
    re.IGNORECASE,
)
"""A reply time a clause writes itself ("within 24 working hours", "answered within a
working day"): the agreement states its reply time in one unit, from one value."""
LITERAL_PERIOD = re.compile(
    rf"\b(?:{_NUMBER})\s+(?:working\s+|business\s+|calendar\s+)?(?:days?|weeks?)\b",
    re.IGNORECASE,
)
ESCALATION = re.compile(r"\b(?:escalat\w*|disputes?)\b", re.IGNORECASE)
"""A clause about escalation or disputes (by its section, title or id)."""
SMALL_FIGURE = re.compile(r"(?<![\w:.,/£$€\u2013-])(?:[0-9]|10)(?![\w:.,/%\u2013-])(?=\s+[A-Za-z])")
"""A number up to ten in figures, followed by a word ("5 in all", "2 rounds")."""


@dataclass(frozen=True)
class Problem:
    """One contradiction, naming the clauses (or the part of the plan) involved."""

    clauses: tuple[str, ...]
    message: str

    def line(self) -> str:
        """``clause a, clause b: message`` (one line, as the command line prints it)."""
        return f"{', '.join(self.clauses)}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {"clauses": list(self.clauses), "message": self.message}


def wording_problems(
    clause_id: str, section: str, title: str, literal: str, *, standard: bool = False
) -> list[Problem]:
    """What a clause writes itself (``literal``: its text with each placeholder as
    ``{}``) that should come from one resolved value, written one way."""
    out = []
    reply, period = (
        ("{response_hours}", "{escalation_days}") if standard
        else ("{response_time}", "{escalation_period}")
    )  # fmt: skip
    escalation = section == "escalation" or bool(
        ESCALATION.search(f"{title} {clause_id.replace('_', ' ')}")
    )
    if not escalation and (m := LITERAL_REPLY.search(literal)):
        out.append(
            Problem(
                (clause_id,),
                f'states a reply time of its own ("{m.group(0)}"); write {reply}, the '
                "agreed reply time, so the agreement gives every reply time in one unit",
            )
        )
    if escalation:  # its periods are the escalation period, reply times included
        for m in LITERAL_PERIOD.finditer(literal):
            out.append(
                Problem(
                    (clause_id,),
                    f'states an escalation or dispute period of its own ("{m.group(0)}"); '
                    f"write {period}, so escalation and the dispute procedure take their "
                    "periods from one value",
                )
            )
    for m in SMALL_FIGURE.finditer(literal):
        context = literal[m.start() : m.start() + 24].split(".")[0].strip()
        out.append(
            Problem(
                (clause_id,),
                f'writes a number in figures ("{context}"); the agreement writes numbers up '
                "to ten in words (five) and takes counts from their placeholders "
                "({review_count}, {included_revisions}...), so each is written one way",
            )
        )
    return out


def _literal(text: str) -> str:
    """A clause text with each placeholder (and literal brace) as ``{}``."""
    return re.sub(r"\{\{|\}\}|\{[^{}]*\}", "{}", text)


def standard_problems(
    profile: AgencyProfile | None = None, names: Mapping[str, str] | None = None
) -> list[Problem]:
    """The wording problems of an agency profile's standard clauses (``names``: the
    label of each clause id, else ``standard terms/<id>``; only those clauses then)."""
    profile = profile or default_profile()
    out = []
    for sc in profile.standard_clauses:
        if names is not None and sc.id not in names:
            continue
        label = names[sc.id] if names is not None else f"standard terms/{sc.id}"
        out += wording_problems(label, sc.section, sc.title, _literal(sc.text), standard=True)
    return out


def template_problems(
    clause_id: str, section: str, template_source: str, q: Questionnaire, title: str = ""
) -> list[Problem]:
    """The problems a clause template carries wherever it is used."""
    template = compile_template(template_source, q)
    literal = "{}".join(part[0] for part in template.parts)
    out = wording_problems(clause_id, section, title, literal)
    for qid in template.uses:
        if qid in WISHES:
            out.append(
                Problem(
                    (clause_id,),
                    f"states the client's answer to {qid} as a value of the agreement; "
                    f"use {{{WISHES[qid].split(' or ')[0]}}} to quote the wish or "
                    f"{{{WISHES[qid].split(' or ')[1]}}} for the agreed value",
                )
            )
    if section == "decision_rights" and "decisions_owned" in template.uses:
        out.append(
            Problem(
                (clause_id,),
                "lists the decisions the client asked to own, which the decision table may "
                "give to the agency (day-to-day tasks); use {client_decisions}",
            )
        )
    return out


def check_playbooks(playbooks: PlaybookSet, q: Questionnaire | None = None) -> list[Problem]:
    """The template-level problems of every clause of a playbook set."""
    q = q or get_questionnaire()
    out = []
    for rule in playbooks.rules:
        for clause in rule.clauses:
            name = f"{rule.playbook}/{clause.id}"
            out += template_problems(name, clause.section, clause.text.source, q, clause.title)
    return out


def _label(agreement: Agreement, clause_id: str) -> str:
    for clause in agreement.clauses:
        if clause.id == clause_id:
            return f"clause {clause.number} ({clause_id})"
    return clause_id


def check_agreement(
    agreement: Agreement,
    answers: Mapping[str, Any],
    assessment: Mapping[str, Any],
    terms: EngagementTerms | None = None,
    q: Questionnaire | None = None,
    profile: AgencyProfile | None = None,
) -> list[Problem]:
    """Every contradiction in one composed agreement (empty when it is consistent);
    ``profile``: the agency profile it was composed with (the shipped one when None)."""
    q = q or get_questionnaire()
    terms = terms or EngagementTerms()
    clean, _ = q.validate(answers)
    out: list[Problem] = []
    present = {s.id for s in agreement.sections} | {
        s.id.removeprefix("terms_") for s in agreement.standard_sections
    }
    tailored = {c.id for c in agreement.tailored_clauses}
    for clause in assessment.get("clauses", ()):
        source = clause.get("template")
        if not source or clause["id"] not in tailored:
            continue
        label = _label(agreement, clause["id"])
        title = clause.get("title") or ""
        for problem in template_problems(label, clause["section"], source, q, title):
            out.append(problem)
        template = compile_template(source, q)
        for kind, target in template.refs:
            if kind == "section" and target not in present:
                out.append(Problem((label,), f"refers to the {target} section, which this "
                                   "agreement does not have"))  # fmt: skip
        if clause["section"] == "decision_rights" and "client_decisions" in template.facts:
            table = {r.label for r in agreement.decisions if r.owner in ("client", "joint")}
            listed = set(client_decisions(clean, terms.fee.model if terms.fee else None))
            if table != listed:
                out.append(
                    Problem(
                        (label, "the decision table"),
                        "the clause and the decision table give the client different "
                        f"decisions ({', '.join(sorted(listed ^ table))})",
                    )
                )
    standard = {
        c.id: f"clause {c.number} ({c.id})"
        for s in agreement.standard_sections
        for c in s.clauses
        if c.source == "standard"
    }
    out += standard_problems(profile, standard)
    out += _plan_problems(agreement, terms)
    return out


def _plan_problems(agreement: Agreement, terms: EngagementTerms) -> list[Problem]:
    """The roadmap against the resolved terms: windows, launch date, payments, cadence."""
    out = []
    resolved = agreement.terms or {}
    levels = resolved.get("service_levels") or {}
    roadmap = agreement.roadmap
    shortest = min((p.end_week - p.start_week + 1 for p in roadmap.phases), default=1)
    window = levels.get("acceptance_days")
    if window and roadmap.weeks >= len(roadmap.phases) and window > shortest * 5:
        out.append(
            Problem(
                ("the review window", "the roadmap"),
                f"a review window of {window} working days does not fit inside the "
                f"shortest phase ({shortest} week{'s' if shortest != 1 else ''}); shorten the "
                "window (service_levels.acceptance_days) or lengthen the timeline",
            )
        )
    if terms.start_date and terms.launch_date:
        end = terms.start_date + dt.timedelta(days=7 * roadmap.weeks - 3)
        if end > terms.launch_date:
            out.append(
                Problem(
                    ("the roadmap", "the launch date"),
                    f"the plan of {roadmap.weeks} weeks from {terms.start_date.isoformat()} "
                    f"ends after the launch date {terms.launch_date.isoformat()}; move the "
                    "start date or the launch date, or shorten the scope",
                )
            )
    names = [p.name for p in roadmap.phases]
    for i, instalment in enumerate(terms.payment_schedule):
        if instalment.when.startswith("phase:") and instalment.when[6:] not in names:
            out.append(
                Problem(
                    (f"payment_schedule[{i}]",),
                    f"is due at the end of the {instalment.when[6:]} phase, which the "
                    f"roadmap does not have (phases: {', '.join(names)})",
                )
            )
    cadence = levels.get("update_cadence")
    if cadence and list(roadmap.update_weeks) != schedule.update_weeks(roadmap.weeks, cadence):
        out.append(
            Problem(
                ("the roadmap", "the update cadence"),
                "the roadmap's update marks do not follow the agreed update cadence",
            )
        )
    return out


def lines(problems: Iterable[Problem]) -> list[str]:
    """One line per problem."""
    return [p.line() for p in problems]
