"""The engagement agreement, composed from answers and their assessment (pure Python).

``compose(answers, assessment, agency=..., date=...)`` returns an :class:`Agreement`:
plain dataclasses that a template turns into the HTML preview and the PDF
(:mod:`onboarding.rendering.pdf`). Nothing here produces markup: every value is plain text and
the template escapes it.

The document
------------
- The twelve sections of :data:`~.playbooks.SECTIONS`, in that order, each holding its
  clauses from ``assessment["clauses"]`` (base clauses included), numbered ``1.1``,
  ``1.2`` ... Sections are numbered after empty ones are skipped; a section that holds a
  figure (the parties, the roadmap, the decision table) is never empty.
- Every clause keeps its trace: the answers that triggered it (``triggered_by``), as the
  question a person was asked and their answer (:class:`Reason`). Base clauses have none.
- ``sha256`` is the SHA-256 of the canonical content (the JSON of the whole document
  without ``sha256`` and ``document_id``, keys sorted, UTF-8); ``document_id`` is
  ``"AGR-"`` and its first ten hex digits, upper case. The same answers, assessment,
  agency and date always give the same id and hash.

Decision rights (the "who decides" table)
-----------------------------------------
One row per decision area of ``decisions_owned``, in questionnaire order:

- owned by the client and ``control_level >= 4``: **Client** (the agency recommends in
  writing, the client decides);
- owned and ``control_level <= 3``: **Jointly (client has the final say)**;
- not owned, and the area shapes what the client receives or pays (brand direction,
  copy, visual design, budget allocation, timeline): **Agency (client is consulted)**,
  the client's view is asked before the decision and every milestone is signed off;
- not owned, and the area is how the agency runs its own work (vendors and tools,
  day-to-day tasks): **Agency**.
- Day-to-day tasks owned by the client while the assessment holds the
  ``daily_tasks_with_agency`` clause (``set_boundaries``: "the agency's project lead
  plans and assigns the team's daily work; {company} sets its priorities once a
  week"): **Agency (client sets weekly priorities)**, pointing at that clause, so the
  table never contradicts the text the client signs.

These rules agree with the ``decision_rights`` clauses ("{company} makes the final
decision on ...; the agency leads every other decision").
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

from onboarding.domain import schedule
from onboarding.domain.playbooks import SECTIONS
from onboarding.domain.questionnaire import (
    AnswersInvalid,
    Questionnaire,
    get_questionnaire,
    join_words,
)
from onboarding.domain.templates import FACTS

DEFAULT_AGENCY = "Brightline Studio"
"""The agency's name when the caller gives none (the ``AGENCY_NAME`` setting's default)."""

DAILY_TASKS_CLAUSE = "daily_tasks_with_agency"
"""The set_boundaries clause that keeps day-to-day planning with the agency."""

CONSULTED_AREAS = frozenset(
    {"brand_direction", "copy", "visual_design", "budget_allocation", "timeline"}
)
"""Areas not owned by the client on which the agency still asks the client's view."""

WHO = {
    "client": "Client",
    "joint": "Jointly (client has the final say)",
    "consulted": "Agency (client is consulted)",
    "agency": "Agency",
    "weekly_priorities": "Agency (client sets weekly priorities)",
}

TRACE_ANSWER_MAX = 80
"""Free-text answers longer than this are shortened in a trace (the clause quotes them)."""

_MONTHS = (
    "January", "February", "March", "April", "May", "June", "July",
    "August", "September", "October", "November", "December",
)  # fmt: skip


@dataclass(frozen=True)
class Reason:
    """One answer that triggered a clause: the question as asked, the answer as read."""

    question: str
    label: str
    answer: str


@dataclass(frozen=True)
class Clause:
    id: str
    number: str  # "4.2"
    anchor: str  # "clause-4-2", an HTML id
    title: str
    text: str
    playbook: str
    triggered_by: tuple[str, ...]
    reasons: tuple[Reason, ...]

    @property
    def standard(self) -> bool:
        """A clause every agreement has (no answer triggered it)."""
        return not self.triggered_by


@dataclass(frozen=True)
class Section:
    id: str
    number: int
    anchor: str  # "section-4"
    title: str
    clauses: tuple[Clause, ...]


@dataclass(frozen=True)
class Milestone:
    """A phase of the roadmap: its weeks and what the client sees at its end."""

    name: str
    start_week: int
    end_week: int
    deliverable: str

    @property
    def weeks(self) -> str:
        if self.start_week == self.end_week:
            return f"Week {self.end_week}"
        return f"Weeks {self.start_week}\u2013{self.end_week}"


@dataclass(frozen=True)
class Roadmap:
    weeks: int
    phases: tuple[Milestone, ...]
    review_weeks: tuple[int, ...]
    update_weeks: tuple[int, ...]
    update_frequency: str
    cadence: str  # "a written status report every Friday"

    @property
    def phase_count(self) -> str:
        """The number of phases in words (``"five"``)."""
        return number_word(len(self.phases))


@dataclass(frozen=True)
class DecisionRow:
    area: str  # the decisions_owned value
    label: str  # as the questionnaire names it
    owner: str  # a key of WHO
    who: str  # "Client", "Jointly (client has the final say)", ...
    how: str  # one sentence


@dataclass(frozen=True)
class Party:
    role: str  # "Client" or "Agency"
    organisation: str
    representative: str  # "" when not known
    title: str  # "" when not known
    email: str  # "" when not known
    defined_as: str  # how the agreement refers to the party


@dataclass(frozen=True)
class SummaryItem:
    label: str
    text: str


@dataclass(frozen=True)
class Agreement:
    title: str
    agency: str
    company: str
    contact_name: str
    contact_role: str
    date: str  # ISO 8601, YYYY-MM-DD
    date_display: str  # "27 November 2026"
    summary: tuple[SummaryItem, ...]
    sections: tuple[Section, ...]
    roadmap: Roadmap
    roadmap_section: int  # number of the section that shows the roadmap
    decisions: tuple[DecisionRow, ...]
    decisions_section: int
    parties: tuple[Party, ...]
    playbook_version: str
    document_id: str = ""
    sha256: str = ""

    @property
    def clauses(self) -> list[Clause]:
        return [c for s in self.sections for c in s.clauses]

    @property
    def traced_clauses(self) -> list[Clause]:
        return [c for c in self.clauses if not c.standard]

    @property
    def standard_clauses(self) -> list[Clause]:
        return [c for c in self.clauses if c.standard]

    @property
    def estimated_pages(self) -> float:
        """A rough page count (a layout heuristic, so not part of the hashed content)."""
        return _estimate_pages(self.sections, len(self.traced_clauses))

    @property
    def has_contents(self) -> bool:
        """Whether the document gets a table of contents (longer than about 3 pages)."""
        return self.estimated_pages > 3

    def content(self) -> dict[str, Any]:
        """The canonical content: everything but the id and hash derived from it."""
        data = asdict(self)
        del data["document_id"], data["sha256"]
        return data


def canonical_json(agreement: Agreement) -> bytes:
    """The JSON text the hash is computed over (sorted keys, compact, UTF-8)."""
    text = json.dumps(
        agreement.content(), sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    return text.encode("utf-8")


def display_date(day: dt.date) -> str:
    """``27 November 2026`` (English, whatever the process locale)."""
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def as_date(value: dt.date | str) -> dt.date:
    """A date from a ``date``/``datetime`` or an ISO ``YYYY-MM-DD`` string."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        return dt.date.fromisoformat(value.strip())
    raise TypeError(f"a date or YYYY-MM-DD string is needed, not {type(value).__name__}")


def _reasons(
    triggered_by: Sequence[str], clean: Mapping[str, Any], q: Questionnaire
) -> tuple[Reason, ...]:
    out = []
    for qid in triggered_by:
        question = q.questions.get(qid)
        if question is None:
            continue
        answer = question.display(clean.get(qid))
        if question.type == "text" and len(answer) > TRACE_ANSWER_MAX:
            answer = answer[: TRACE_ANSWER_MAX - 1].rstrip() + "\u2026"
        out.append(Reason(qid, question.label, answer))
    return tuple(out)


def decision_rows(
    clean: Mapping[str, Any], clause_numbers: Mapping[str, str], q: Questionnaire, company: str
) -> tuple[DecisionRow, ...]:
    """The decision-rights table (rules in the module docstring)."""
    owned = set(clean.get("decisions_owned") or ())
    control = clean.get("control_level") or 1
    rows = []
    for area, label in q.questions["decisions_owned"].values.items():
        if area == "daily_tasks" and area in owned and DAILY_TASKS_CLAUSE in clause_numbers:
            owner = "weekly_priorities"
            how = (
                f"The agency's project lead plans and assigns the team's daily work; "
                f"{company} sets the priorities once a week (clause "
                f"{clause_numbers[DAILY_TASKS_CLAUSE]})."
            )
        elif area in owned and control >= 4:
            owner = "client"
            how = f"The agency recommends, in writing when asked; {company} decides."
        elif area in owned:
            owner = "joint"
            how = f"Agreed together; where views differ, {company} decides."
        elif area in CONSULTED_AREAS:
            owner = "consulted"
            how = f"The agency decides after consulting {company}, who signs off each milestone."
        else:
            owner = "agency"
            how = "The agency decides, within the agreed goals, budget and dates."
        rows.append(DecisionRow(area, label, owner, WHO[owner], how))
    return tuple(rows)


def _roadmap(clean: Mapping[str, Any]) -> Roadmap:
    weeks = int(clean.get("timeline_weeks") or 1)
    frequency = clean.get("update_frequency") or "weekly"
    return Roadmap(
        weeks=weeks,
        phases=tuple(
            Milestone(p.name, p.start_week, p.end_week, p.deliverable)
            for p in schedule.phases(weeks)
        ),
        review_weeks=tuple(schedule.review_weeks(weeks)),
        update_weeks=tuple(schedule.update_weeks(weeks, frequency)),
        update_frequency=frequency,
        cadence=FACTS["update_cadence"](clean),
    )


_NUMBER_WORDS = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
)  # fmt: skip


def number_word(n: int) -> str:
    """``5`` -> ``"five"`` (figures from 11 on)."""
    return _NUMBER_WORDS[n] if 0 <= n < len(_NUMBER_WORDS) else str(n)


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _summary(
    clean: Mapping[str, Any],
    q: Questionnaire,
    company: str,
    roadmap: Roadmap,
    decisions: Sequence[DecisionRow],
    numbers: Mapping[str, int],
) -> tuple[SummaryItem, ...]:
    kind = clean.get("project_type")
    noun = "project"
    if kind not in (None, "other"):
        noun = f"{q.questions['project_type'].values[kind].lower()} project"
    weeks = q.questions["timeline_weeks"].display(roadmap.weeks)
    phase_names = join_words([p.name for p in roadmap.phases])
    items = [
        SummaryItem(
            "The project",
            f"A {noun} for {company}, planned over {weeks} in {number_word(len(roadmap.phases))} "
            "phases: "
            f"{phase_names}.",
        ),
        SummaryItem("The goal", f"\u201c{clean.get('primary_goal') or ''}\u201d"),
        SummaryItem(
            "Staying informed",
            f"{_sentence(roadmap.cadence)}, and a review with sign-off at the end of each "
            f"phase ({number_word(len(roadmap.review_weeks))} in all).",
        ),
        SummaryItem(
            "Response times",
            f"Messages are answered {FACTS['response_time'](clean)}. Working hours are "
            f"{FACTS['working_hours'](clean)}.",
        ),
    ]
    kept = [r.label.lower() for r in decisions if r.owner in ("client", "joint")]
    where = f" (section {numbers['decision_rights']})" if "decision_rights" in numbers else ""
    if kept:
        items.append(
            SummaryItem(
                "Who decides",
                f"{company} has the final say on {join_words(kept)}; the agency leads "
                f"the rest of the work{where}.",
            )
        )
    else:
        items.append(
            SummaryItem(
                "Who decides",
                f"The agency leads the decisions on how the work is done, and {company} "
                f"signs off every milestone{where}.",
            )
        )
    items.append(
        SummaryItem(
            "Revisions",
            f"Each deliverable includes {FACTS['included_revisions'](clean)} of revisions; "
            "anything more is a change request, estimated and approved before work starts.",
        )
    )
    if "concerns" in numbers:
        items.append(
            SummaryItem(
                "Your concerns",
                f"Each concern {company} raised is answered by a written safeguard in "
                f"section {numbers['concerns']}.",
            )
        )
    return tuple(items)


def _estimate_pages(sections: Sequence[Section], traced: int) -> float:
    """A rough page count (A4), to decide on a table of contents before rendering.

    Cover and summary, the roadmap, the decision table, the signatures, then the
    clauses by length and the appendix by rows; within about 15% of the real count for
    the examples (6, 9 and 10 pages).
    """
    chars = sum(len(c.title) + len(c.text) + 120 for s in sections for c in s.clauses)
    chars += 300 * len(sections)
    ids = {s.id for s in sections}
    figures = 0.45 * ("process" in ids) + 0.45 * ("decision_rights" in ids)
    return round(1.2 * (1.0 + figures + 0.4 + chars / 3600 + traced * 0.03), 2)


def compose(
    answers: Mapping[str, Any],
    assessment: Mapping[str, Any],
    *,
    agency: str = DEFAULT_AGENCY,
    date: dt.date | str,
    questionnaire: Questionnaire | None = None,
) -> Agreement:
    """Build the agreement of one engagement.

    ``answers`` are validated (raises :class:`AnswersInvalid` listing every problem);
    ``assessment`` is the contract dict :func:`onboarding.assess` returned for them;
    ``date`` is the document's date (a ``date`` or ``YYYY-MM-DD``), the only input
    that is not in the answers: pass a stored date (the submission date, the day the
    agreement was issued) so that the same agreement always has the same id.
    """
    q = questionnaire or get_questionnaire()
    clean, errors = q.validate(answers)
    if errors:
        raise AnswersInvalid(errors)
    day = as_date(date)
    agency = " ".join(str(agency).split()) or DEFAULT_AGENCY
    company = clean["company"]
    by_section: dict[str, list[Mapping[str, Any]]] = {s: [] for s in SECTIONS}
    for clause in assessment.get("clauses", ()):
        by_section.setdefault(clause["section"], []).append(clause)
    with_figure = {"parties", "process", "decision_rights"}

    sections: list[Section] = []
    numbers: dict[str, int] = {}
    for sid, title in SECTIONS.items():
        raw = by_section.get(sid) or []
        if not raw and sid not in with_figure:
            continue
        number = len(sections) + 1
        numbers[sid] = number
        clauses = tuple(
            Clause(
                id=c["id"],
                number=f"{number}.{i}",
                anchor=f"clause-{number}-{i}",
                title=c["title"],
                text=" ".join(str(c["text"]).split()),
                playbook=c.get("playbook", ""),
                triggered_by=tuple(c.get("triggered_by") or ()),
                reasons=_reasons(c.get("triggered_by") or (), clean, q),
            )
            for i, c in enumerate(raw, start=1)
        )
        sections.append(Section(sid, number, f"section-{number}", title, clauses))

    roadmap = _roadmap(clean)
    clause_numbers = {c.id: c.number for s in sections for c in s.clauses}
    decisions = decision_rows(clean, clause_numbers, q, company)
    role = clean.get("role") or ""
    parties = (
        Party(
            "Client",
            company,
            clean["contact_name"],
            role,
            clean.get("contact_email") or "",
            company,
        ),  # fmt: skip
        Party("Agency", agency, "", "", "", "the agency"),
    )
    agreement = Agreement(
        title=f"Engagement agreement between {company} and {agency}",
        agency=agency,
        company=company,
        contact_name=clean["contact_name"],
        contact_role=role,
        date=day.isoformat(),
        date_display=display_date(day),
        summary=_summary(clean, q, company, roadmap, decisions, numbers),
        sections=tuple(sections),
        roadmap=roadmap,
        roadmap_section=numbers["process"],
        decisions=decisions,
        decisions_section=numbers["decision_rights"],
        parties=parties,
        playbook_version=str(assessment.get("playbook_version", "")),
    )
    digest = hashlib.sha256(canonical_json(agreement)).hexdigest()
    return replace(agreement, sha256=digest, document_id="AGR-" + digest[:10].upper())
