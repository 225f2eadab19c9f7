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
  follow the agreed update cadence.

Each problem names the clauses involved (:class:`Problem`). :func:`check_playbooks`
runs the template-level checks over every clause of a playbook set (for
``onboarding playbooks check``); :func:`check_agreement` runs everything over one
composed agreement.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from onboarding.domain import schedule
from onboarding.domain.agreement import Agreement
from onboarding.domain.playbooks import PlaybookSet
from onboarding.domain.questionnaire import Questionnaire, get_questionnaire
from onboarding.domain.templates import client_decisions, compile_template
from onboarding.domain.terms import EngagementTerms

WISHES = {
    "revision_rounds": "asked_revisions or included_revisions",
    "expected_response_hours": "asked_response_time or response_time",
    "update_frequency": "asked_update_cadence or update_cadence",
}
"""Questions the agreement resolves to its own value: a clause may not state the raw
answer (the client's wish) as if it were the agreement's value."""


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


def template_problems(
    clause_id: str, section: str, template_source: str, q: Questionnaire
) -> list[Problem]:
    """The problems a clause template carries wherever it is used."""
    template = compile_template(template_source, q)
    out = []
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
            out += template_problems(name, clause.section, clause.text.source, q)
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
) -> list[Problem]:
    """Every contradiction in one composed agreement (empty when it is consistent)."""
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
        for problem in template_problems(label, clause["section"], source, q):
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
