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

import contextlib
import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, is_dataclass, replace
from typing import Any

from onboarding.domain import options as options_mod
from onboarding.domain import parties as party_details
from onboarding.domain import readiness, schedule
from onboarding.domain import terms as terms_mod
from onboarding.domain.playbooks import SECTIONS
from onboarding.domain.questionnaire import (
    AnswersInvalid,
    Questionnaire,
    get_questionnaire,
    join_words,
)
from onboarding.domain.readiness import DraftProblem
from onboarding.domain.templates import FACTS, TemplateError, compile_template
from onboarding.domain.terms import (
    STANDARD_SECTIONS,
    AgencyProfile,
    EngagementTerms,
    is_draft,
    plural,
)
from onboarding.domain.wishes import AskedItem, offers_for

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
    "fixed_fee": "Agency (fixed fee: client is consulted)",
}

FIXED_FEE_AREAS = {
    "timeline": (
        "On a fixed fee the Agency sets the plan and its dates, after consulting the "
        "Client; a date the Client moves is a change request."
    ),
    "vendor_choice": (
        "On a fixed fee the Agency chooses its suppliers and tools, after consulting the "
        "Client; a supplier the Client requires is a change request if it costs more or "
        "takes longer."
    ),
}
"""Areas the Agency keeps on a fixed fee, whoever asked for them: the fee is priced on
the Agency's plan and suppliers, and what happens when the Client takes them."""

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
    source: str = ""  # "playbook:<id>", "standard" (agency terms) or "manager"

    @property
    def standard(self) -> bool:
        """A clause every agreement has (no answer triggered it)."""
        return not self.triggered_by


def _heading_key(title: str) -> str:
    """A heading as compared for repetition: case, spacing and end punctuation aside."""
    return " ".join(title.casefold().split()).rstrip(".:")


@dataclass(frozen=True)
class Section:
    id: str
    number: int
    anchor: str  # "section-4"
    title: str
    clauses: tuple[Clause, ...]

    def repeats_title(self, clause: Clause) -> bool:
        """True when the clause's title is the section's heading again ("1 Parties" /
        "1.1 Parties"): the document then shows the clause under its number alone."""
        return _heading_key(clause.title) == _heading_key(self.title)


@dataclass(frozen=True)
class Milestone:
    """A phase of the roadmap: its weeks and what the client sees at its end."""

    name: str
    start_week: int
    end_week: int
    deliverable: str
    cycle: bool = False  # weeks of each month of a retainer, not of a project

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
    cycle: bool = False  # a retainer's month, repeated each month of the term
    minimum_months: int = 0  # a retainer's minimum term

    @property
    def phase_count(self) -> str:
        """The number of phases in words (``"five"``)."""
        return number_word(len(self.phases))

    @property
    def length(self) -> str:
        """The plan's length (``"eight weeks"``, ``"12 weeks"``)."""
        return terms_mod.plural(self.weeks, "week")


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
    address: str = ""
    company_number: str = ""
    trading_as: str = ""  # the name the party trades under, when not its legal name
    legal_form: str = ""  # "private limited company", "S.L." (when known)
    number_label: str = "Company number"  # what company_number is ("LLP number")
    vat_number: str = ""
    po_number: str = ""  # the client's purchase order number, quoted on invoices


@dataclass(frozen=True)
class OptionLine:
    """An option of the rate card offered with the agreement, or chosen by the Client
    (``quantity`` and ``total`` then say how many and what they cost)."""

    id: str
    title: str
    description: str
    price: str  # "£450.00 a month", "Included in the fee"
    amount: str  # "450.00"
    per: str  # project | month | unit
    unit: str
    max_quantity: int
    included: bool
    levels: str  # the service levels it sets, in words ("" when none)
    quantity: int = 0
    total: str = ""  # chosen: "2 rounds at £600.00 each: £1,200.00"

    def line(self) -> str:
        """How Scope and fees lists a chosen option."""
        text = f"{self.title}: {self.total or self.price}"
        return text + (f" ({self.levels})" if self.levels else "")


@dataclass(frozen=True)
class ScopeRow:
    """A row of the scope-and-fees table: a label and one or more lines."""

    label: str
    lines: tuple[str, ...]


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
    scope: tuple[ScopeRow, ...] = ()
    scope_section: int = 0
    standard_sections: tuple[Section, ...] = ()
    draft: bool = True
    terms: Mapping[str, Any] | None = None  # the resolved terms (terms.md), as JSON
    asked: tuple[AskedItem, ...] = ()  # always empty: wishes are the proposal's
    problems: tuple[DraftProblem, ...] = ()  # why it is a draft (readiness.problems)
    options_offered: tuple[OptionLine, ...] = ()  # the proposal's options (proposal.md)
    options_chosen: tuple[OptionLine, ...] = ()  # chosen (or included): in Scope and fees
    document_id: str = ""
    sha256: str = ""

    @property
    def clauses(self) -> list[Clause]:
        """Every clause: the tailored sections', then the standard terms'."""
        return [c for s in (*self.sections, *self.standard_sections) for c in s.clauses]

    @property
    def tailored_clauses(self) -> list[Clause]:
        """The clauses of the engagement's own sections (not the standard terms)."""
        return [c for s in self.sections for c in s.clauses]

    @property
    def traced_clauses(self) -> list[Clause]:
        return [c for c in self.clauses if not c.standard]

    @property
    def standard_clauses(self) -> list[Clause]:
        """Tailored-section clauses every agreement has (no answer triggered them)."""
        return [c for s in self.sections for c in s.clauses if c.standard]

    @property
    def estimated_pages(self) -> float:
        """A rough page count (a layout heuristic, so not part of the hashed content)."""
        tailored = _estimate_pages(self.sections, len(self.traced_clauses))
        terms = sum(len(c.text) + 60 for s in self.standard_sections for c in s.clauses)
        return round(tailored + terms / 8500, 2)

    @property
    def has_contents(self) -> bool:
        """Whether the document gets a table of contents: only one longer than the page
        budget (issue 24: six pages for a fixed fee, seven for the other models); a
        shorter one is read by its section numbers, and its cover leads to the text."""
        return self.estimated_pages > CONTENTS_OVER_PAGES

    def content(self) -> dict[str, Any]:
        """The canonical content: everything but the id and hash derived from it."""
        data = _plain(self)
        del data["document_id"], data["sha256"]
        return data


CONTENTS_OVER_PAGES = 7
"""A document estimated longer than this gets a table of contents."""


_SCALARS = frozenset({str, int, float, bool, type(None)})
_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _plain(value: Any) -> Any:
    """``dataclasses.asdict`` for JSON: dataclasses as dicts, sequences as lists, each
    value as it is (they are JSON's own types), without asdict's deep copies (every
    download computes the content's hash, and asdict was half of each compose)."""
    kind = type(value)
    if kind in _SCALARS:
        return value
    names = _FIELD_NAMES.get(kind)
    if names is None and is_dataclass(kind):
        names = _FIELD_NAMES[kind] = tuple(f.name for f in fields(kind))
    if names is not None:
        return {name: _plain(getattr(value, name)) for name in names}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


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
    clean: Mapping[str, Any],
    clause_numbers: Mapping[str, str],
    q: Questionnaire,
    company: str,
    fee_model: str | None = None,
) -> tuple[DecisionRow, ...]:
    """The decision-rights table (rules in the module docstring; on a fixed fee the
    Agency keeps the timeline and the choice of vendors, :data:`FIXED_FEE_AREAS`)."""
    owned = set(clean.get("decisions_owned") or ())
    control = clean.get("control_level") or 1
    rows = []
    for area, label in q.questions["decisions_owned"].values.items():
        if fee_model == "fixed" and area in FIXED_FEE_AREAS:
            owner = (
                "fixed_fee"
                if area in owned
                else ("consulted" if area in CONSULTED_AREAS else "agency")
            )
            how = FIXED_FEE_AREAS[area]
        elif area == "daily_tasks" and area in owned and DAILY_TASKS_CLAUSE in clause_numbers:
            owner = "weekly_priorities"
            # Stated once, in the clause; the row points to it.
            how = f"As clause {clause_numbers[DAILY_TASKS_CLAUSE]} sets out."
        elif area in owned and control >= 4:
            owner = "client"
            how = "The Agency recommends; the Client decides."
        elif area in owned:
            owner = "joint"
            how = "Decided together; the Client has the final say."
        elif area in CONSULTED_AREAS:
            owner = "consulted"
            how = "The Agency decides after consulting the Client."
        else:
            owner = "agency"
            how = "The Agency decides within the agreed scope."
        rows.append(DecisionRow(area, label, owner, WHO[owner], how))
    return tuple(rows)


def _roadmap(clean: Mapping[str, Any], resolved: Mapping[str, Any]) -> Roadmap:
    """The plan: phases from the timeline, updates at the agreed (resolved) cadence; a
    retainer's plan is its monthly cycle (planning, delivery, review)."""
    frequency = resolved["update_cadence_key"]
    if resolved.get("fee_model") == "retainer":
        weeks = schedule.CYCLE_WEEKS
        return Roadmap(
            weeks=weeks,
            phases=tuple(
                Milestone(p.name, p.start_week, p.end_week, p.deliverable, cycle=True)
                for p in schedule.monthly_cycle()
            ),
            review_weeks=(weeks,),
            update_weeks=tuple(schedule.update_weeks(weeks, frequency)),
            update_frequency=frequency,
            cadence=FACTS["update_cadence"](clean, resolved),
            cycle=True,
            minimum_months=int(resolved.get("minimum_months") or 0),
        )
    weeks = int(clean.get("timeline_weeks") or 1)
    return Roadmap(
        weeks=weeks,
        phases=tuple(
            Milestone(p.name, p.start_week, p.end_week, p.deliverable)
            for p in schedule.phases(weeks)
        ),
        review_weeks=tuple(schedule.review_weeks(weeks)),
        update_weeks=tuple(schedule.update_weeks(weeks, frequency)),
        update_frequency=frequency,
        cadence=FACTS["update_cadence"](clean, resolved),
    )


def number_word(n: int) -> str:
    """``5`` -> ``"five"`` (figures from 11 on): :func:`onboarding.domain.terms.number_text`,
    the one way the agreement writes a number."""
    return terms_mod.number_text(n)


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _summary(
    clean: Mapping[str, Any],
    q: Questionnaire,
    company: str,
    roadmap: Roadmap,
    decisions: Sequence[DecisionRow],
    numbers: Mapping[str, int],
    resolved: Mapping[str, Any],
    engagement: EngagementTerms,
) -> tuple[SummaryItem, ...]:
    kind = clean.get("project_type")
    noun = "project"
    if kind not in (None, "other"):
        noun = f"{q.questions['project_type'].values[kind].lower()} project"
    weeks = roadmap.length
    phase_names = join_words([p.name for p in roadmap.phases])
    if roadmap.cycle:
        kind = "" if noun == "project" else noun.removesuffix(" project") + " "
        months = plural(roadmap.minimum_months, "month")
        items = [
            SummaryItem(
                "The retainer",
                f"A monthly {kind}retainer for {company}: each month is planned, delivered "
                f"and reviewed ({phase_names.lower()}), for a minimum term of {months} "
                "and then month by month.",
            ),
        ]
        informed = (
            f"{_sentence(roadmap.cadence)}, and a monthly review of the work done and the "
            "allowance used."
        )
    else:
        items = [
            SummaryItem(
                "The project",
                f"A {noun} for {company}, planned over {weeks} in "
                f"{number_word(len(roadmap.phases))} phases: {phase_names}.",
            ),
        ]
        informed = (
            f"{_sentence(roadmap.cadence)}, and a review with sign-off at the end of each "
            f"phase ({number_word(len(roadmap.review_weeks))} in all)."
        )
    items += [
        *_money_summary(engagement, resolved, numbers),
        SummaryItem("Staying informed", informed),
        SummaryItem(
            "Response times",
            f"Messages are answered {FACTS['response_time'](clean, resolved)}. Working hours "
            f"are {FACTS['working_hours'](clean, resolved)}.",
        ),
    ]
    kept = [r.label.lower() for r in decisions if r.owner in ("client", "joint")]
    where = f" (section {numbers['decision_rights']})" if "decision_rights" in numbers else ""
    if kept:
        items.append(
            SummaryItem(
                "Who decides",
                f"The Client has the final say on {join_words(kept)}; the Agency leads "
                f"the rest of the work{where}.",
            )
        )
    else:
        items.append(
            SummaryItem(
                "Who decides",
                "The Agency leads the decisions on how the work is done, and the Client "
                f"signs off every milestone{where}.",
            )
        )
    items.append(
        SummaryItem(
            "Revisions",
            f"Each deliverable includes {FACTS['included_revisions'](clean, resolved)} of "
            "revisions; "
            "anything more is a change request, estimated and approved before work starts.",
        )
    )
    return tuple(items)


def _money_summary(
    engagement: EngagementTerms, resolved: Mapping[str, Any], numbers: Mapping[str, int]
) -> list[SummaryItem]:
    """The fee and the dates, for the "at a glance" page."""
    where = f" (section {numbers['scope']})" if "scope" in numbers else ""
    if is_draft(engagement):
        return [
            SummaryItem(
                "Fee and dates",
                "To be agreed: this is a draft without commercial terms, not an offer to sign.",
            )
        ]
    currency = resolved["currency"]
    fee = terms_mod.fee_summary(engagement, currency, resolved.get("notice_days"))
    items = [SummaryItem("Fee", f"{fee}{where}.")]
    dates = [f"work starts on {display_date(engagement.start_date)}"]
    if engagement.fee.model == "retainer":
        end = _minimum_term_end(engagement)
        if end:
            dates.append(f"the minimum term runs to {display_date(end)}")
    launch = _launch_date(engagement, resolved)
    if launch:
        dates.append(f"launch by {display_date(launch)}, a date that cannot move")
    if engagement.valid_until:
        dates.append(f"this offer is open until {display_date(engagement.valid_until)}")
    items.append(SummaryItem("Dates", _sentence("; ".join(dates)) + "."))
    return items


def _launch_date(engagement: EngagementTerms, resolved: Mapping[str, Any]) -> dt.date | None:
    """The fixed launch date: the terms', else the one the answers give."""
    day = engagement.launch_date or resolved.get("fixed_launch_date")
    if day and not isinstance(day, dt.date):
        with contextlib.suppress(ValueError):
            day = dt.date.fromisoformat(str(day))
    return day if isinstance(day, dt.date) else None


def _minimum_term_end(engagement: EngagementTerms) -> dt.date | None:
    """The last day of a retainer's minimum term (the day before the same date, that
    many months on)."""
    fee, start = engagement.fee, engagement.start_date
    if fee is None or fee.model != "retainer" or not start:
        return None
    months = start.month - 1 + int(fee.amounts["minimum_months"])
    year, month = start.year + months // 12, months % 12 + 1
    day = start.day
    while True:
        try:
            end = dt.date(year, month, day)
            break
        except ValueError:
            day -= 1
    return end - dt.timedelta(days=1)


def _plan_end(engagement: EngagementTerms, roadmap: Roadmap) -> dt.date | None:
    """The last working day of a project's plan (None for a retainer or without a
    start date)."""
    if roadmap.cycle or not engagement.start_date:
        return None
    end = engagement.start_date + dt.timedelta(days=7 * roadmap.weeks - 1)
    while end.weekday() > 4:  # the last working day of the last week
        end -= dt.timedelta(days=1)
    return end


def _estimate_pages(sections: Sequence[Section], traced: int) -> float:
    """A rough page count (A4), to decide on a table of contents before rendering.

    Cover, parties, scope table, the phases and decision tables and the signatures,
    then the clauses by length; within about 10% of the real count for the examples
    and generated clients (5.2 to 6 pages in the layout of issue 24). ``traced`` is
    kept for callers; the client's PDF has no trace appendix.
    """
    chars = sum(len(c.title) + len(c.text) + 120 for s in sections for c in s.clauses)
    chars += 300 * len(sections)
    ids = {s.id for s in sections}
    tables = 0.2 * ("process" in ids) + 0.3 * ("decision_rights" in ids)
    return round(1.7 + tables + chars / 10200, 2)


def compose(
    answers: Mapping[str, Any],
    assessment: Mapping[str, Any],
    *,
    agency: str | None = None,
    date: dt.date | str,
    questionnaire: Questionnaire | None = None,
    profile: AgencyProfile | None = None,
    terms: EngagementTerms | None = None,
    chosen: Mapping[str, int] | None = None,
) -> Agreement:
    """Build the agreement of one engagement.

    ``answers`` are validated (raises :class:`AnswersInvalid` listing every problem);
    ``assessment`` is the contract dict :func:`onboarding.assess` returned for them;
    ``date`` is the document's date (a ``date`` or ``YYYY-MM-DD``), the only input
    that is not in the answers: pass a stored date (the submission date, the day the
    agreement was issued) so that the same agreement always has the same id.
    ``profile`` is the agency profile (the shipped demo profile when None; ``agency``
    overrides its trading name) and ``terms`` the engagement's terms: without a fee,
    a payment schedule and a start date the agreement is a draft. ``chosen`` is the
    Client's choice among the options offered (``{id: quantity}``): the agreement then
    lists them under Scope and fees and states the service levels they set (an option
    included in the fee is always chosen); raises TermsInvalid for an option not
    offered or a quantity over its maximum.
    """
    q = questionnaire or get_questionnaire()
    clean, errors = q.validate(answers)
    if errors:
        raise AnswersInvalid(errors)
    day = as_date(date)
    profile = profile or terms_mod.default_profile()
    if agency is not None and " ".join(str(agency).split()):
        profile = replace(profile, trading_name=" ".join(str(agency).split()))
    engagement = terms or EngagementTerms()
    offers, _ = offers_for(clean, assessment, profile, engagement)
    picked, problems = options_mod.choose(offers, chosen or {})
    if problems:
        raise terms_mod.TermsInvalid([terms_mod.TermError(f, m) for f, m in problems])
    sets = options_mod.levels_set(picked)
    if sets:  # the chosen options' levels are the agreed ones
        levels = dict(engagement.service_levels) | sets
        engagement = EngagementTerms(dict(engagement.by_key) | {"service_levels": levels})
    resolved = terms_mod.values(profile, engagement, clean)
    currency = str(resolved.get("currency") or profile.currency)
    offered_lines = tuple(_option_line(o.option, o.included, currency) for o in offers)
    chosen_lines = tuple(_option_line(c.option, c.included, currency, c.quantity) for c in picked)
    agency = profile.trading_name
    company = clean["company"]
    changes = engagement.clauses
    removed = {c["id"] for c in changes.remove}
    replaced = {c["id"]: c for c in changes.replace}

    by_section: dict[str, list[dict[str, Any]]] = {s: [] for s in SECTIONS}
    for clause in assessment.get("clauses", ()):
        if clause["id"] in removed:
            continue
        by_section.setdefault(clause["section"], []).append(
            dict(clause, source=f"playbook:{clause.get('playbook', '')}")
        )
    standard: dict[str, list[dict[str, Any]]] = {s: [] for s in STANDARD_SECTIONS}
    optional_added = {c.get("id") for c in changes.add if c.get("id")}
    for sc in profile.standard_clauses:
        if sc.id in removed or not sc.applies(resolved):
            continue
        if sc.optional and sc.id not in optional_added:
            continue
        standard[sc.section].append(
            {
                "id": sc.id,
                "title": sc.title,
                "text": terms_mod.fill(sc.text, resolved),
                "source": "standard",
                "playbook": "",
            }  # fmt: skip
        )
    for i, added in enumerate(changes.add, start=1):
        if added.get("id") in {sc.id for sc in profile.standard_clauses}:
            continue
        entry = {"id": f"manager_{i}", "title": added["title"], "text": added["text"],
                 "source": "manager", "playbook": ""}  # fmt: skip
        target = standard if added["section"] in standard else by_section
        target.setdefault(added["section"], []).append(entry)
    for group in (by_section, standard):
        for items in group.values():
            for c in items:
                if c["id"] in replaced:
                    c["text"] = replaced[c["id"]]["text"]
                    c["title"] = replaced[c["id"]].get("title") or c["title"]
                    c["source"] = "manager"
    with_figure = {"parties", "scope", "process", "decision_rights"}

    # Number the sections first, so clause texts can refer to them ({section:scope}).
    # A tailored section's id wins over a standard section of the same name ("scope").
    present = [s for s in SECTIONS if by_section.get(s) or s in with_figure]
    present += [s for s in STANDARD_SECTIONS if standard.get(s)]
    numbers_by_id: dict[str, int] = {}
    for i, sid in enumerate(present, start=1):
        numbers_by_id.setdefault(sid, i)
    resolved["section_numbers"] = numbers_by_id
    for items in by_section.values():
        for c in items:
            if c.get("template") and c["source"].startswith("playbook:"):
                # A template of an older playbook that no longer compiles keeps its text.
                with contextlib.suppress(TemplateError):
                    c["text"] = compile_template(c["template"], q).render(clean, q, resolved)

    sections: list[Section] = []
    numbers: dict[str, int] = {}

    def build(sid: str, title: str, raw: list[dict[str, Any]]) -> Section:
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
                source=c.get("source", ""),
            )
            for i, c in enumerate(raw, start=1)
        )
        return Section(sid, number, f"section-{number}", title, clauses)

    for sid, title in SECTIONS.items():
        raw = by_section.get(sid) or []
        if raw or sid in with_figure:
            sections.append(build(sid, title, raw))
    tailored = len(sections)
    for sid, title in STANDARD_SECTIONS.items():
        if standard.get(sid):
            sections.append(build(f"terms_{sid}", title, standard[sid]))
    standard_sections = tuple(sections[tailored:])
    sections = sections[:tailored]

    roadmap = _roadmap(clean, resolved)
    clause_numbers = {c.id: c.number for s in sections for c in s.clauses}
    decisions = decision_rows(
        clean,
        clause_numbers,
        q,
        company,
        fee_model=engagement.fee.model if engagement.fee else None,
    )
    role = clean.get("role") or ""
    parties = _parties(clean, profile, engagement, agency)
    problems = tuple(readiness.problems(engagement, clean, day))
    mixed = readiness.options_currency_problem(profile.currency, currency, bool(offers))
    problems += (mixed,) if mixed else ()
    draft = bool(problems)
    agreement = Agreement(
        title=f"Engagement agreement between {company} and {agency}",
        agency=agency,
        company=company,
        contact_name=clean["contact_name"],
        contact_role=role,
        date=day.isoformat(),
        date_display=display_date(day),
        summary=_summary(clean, q, company, roadmap, decisions, numbers, resolved, engagement),
        sections=tuple(sections),
        roadmap=roadmap,
        roadmap_section=numbers["process"],
        decisions=decisions,
        decisions_section=numbers["decision_rights"],
        parties=parties,
        playbook_version=str(assessment.get("playbook_version", "")),
        scope=_scope_rows(
            clean, engagement, resolved, roadmap, offered_lines, chosen_lines, picked
        ),
        scope_section=numbers["scope"],
        standard_sections=standard_sections,
        draft=draft,
        terms=resolved_json(resolved, engagement, profile, offered_lines, chosen_lines),
        # The agreement is binding text only: what the Client asked for is answered in
        # the proposal (``wishes.asked_items`` serves it), never quoted here.
        asked=(),
        problems=problems,
        options_offered=offered_lines,
        options_chosen=chosen_lines,
    )
    digest = hashlib.sha256(canonical_json(agreement)).hexdigest()
    return replace(agreement, sha256=digest, document_id="AGR-" + digest[:10].upper())


def _parties(
    clean: Mapping[str, Any], profile: AgencyProfile, engagement: EngagementTerms, agency: str
) -> tuple[Party, Party]:
    """The party block: the client as the terms name it (its legal name, form, number,
    address, VAT and PO numbers where known; its signatory, else the contact), then the
    agency as its profile does (its number labelled by what it is)."""
    client = party_details.client_details(engagement.client)
    signer = client.get("signatory") or {}
    company = clean["company"]
    legal_name = client.get("legal_name") or company
    legal_form = client.get("legal_form") or ""
    return (
        Party(
            "Client",
            legal_name,
            signer.get("name") or clean["contact_name"],
            signer.get("title") if signer.get("name") else (clean.get("role") or ""),
            signer.get("email") or clean.get("contact_email") or "",
            "the Client",
            address=client.get("address") or "",
            company_number=client.get("company_number") or "",
            trading_as=company if legal_name != company and company not in legal_name else "",
            legal_form=legal_form,
            number_label=party_details.number_label(legal_name, legal_form),
            vat_number=client.get("vat_number") or "",
            po_number=client.get("po_number") or "",
        ),
        Party(
            "Agency",
            profile.legal_name or agency,
            profile.signatory.name,
            profile.signatory.title,
            profile.signatory.email,
            "the Agency",
            address=profile.address,
            company_number=profile.company_number,
            trading_as=agency if agency != profile.legal_name else "",
            legal_form=profile.legal_form,
            number_label=party_details.number_label(
                profile.legal_name, profile.legal_form, profile.registration_label
            ),
            vat_number=profile.vat_number,
        ),
    )


def levels_text(sets: Mapping[str, Any]) -> str:
    """The service levels an option sets, in words: ``replies within four working hours``."""
    words = []
    for key, value in sets.items():
        if key == "response_hours":
            words.append(f"replies {terms_mod.RESPONSE_WORDS.get(value, f'within {value} hours')}")
        elif key == "update_cadence":
            words.append(schedule.CADENCE.get(value, (0, str(value)))[1])
        elif key == "revision_rounds":
            words.append(f"{terms_mod.plural(int(value), 'revision round')} per deliverable")
        elif key == "notice_days":
            words.append(f"{terms_mod.plural(int(value), 'day')}' notice")
        elif key == "acceptance_days":
            words.append(f"a review window of {terms_mod.plural(int(value), 'working day')}")
    return join_words(words)


def _option_line(
    option: options_mod.RateOption, included: bool, currency: str, quantity: int = 0
) -> OptionLine:
    total = ""
    if quantity:
        total = options_mod.price_text(option, currency, quantity, included)
    return OptionLine(
        id=option.id,
        title=option.title,
        description=option.description,
        price=options_mod.price_text(option, currency, included=included),
        amount=f"{option.amount:.2f}",
        per=option.per,
        unit=option.unit,
        max_quantity=option.max_quantity if option.per == "unit" else 1,
        included=included,
        levels=levels_text(option.sets),
        quantity=quantity,
        total=total,
    )


LEVELS_APPLY = (
    "A service level a chosen option sets applies in place of the one stated elsewhere in "
    "this agreement."
)
OPTIONS_LABEL = "Options"
"""The Scope-and-fees row of the options (the accepted copy fills in the Client's choice)."""


def option_rows(
    offered: Sequence[OptionLine],
    chosen: Sequence[OptionLine],
    picked: Sequence[options_mod.Chosen],
    currency: str,
) -> tuple[ScopeRow, ...]:
    """The options row of Scope and fees: the chosen options with their prices and the
    levels they set, and what they add to the fee; none chosen yet, a sentence saying
    how they are chosen."""
    if chosen:
        lines = [c.line() for c in chosen]
        added = options_mod.totals(picked)
        parts = []
        if added["once"]:
            parts.append(f"{options_mod.money(added['once'], currency)}, invoiced with the "
                         "next instalment")  # fmt: skip
        if added["monthly"]:
            parts.append(f"{options_mod.money(added['monthly'], currency)} a month, invoiced "
                         "monthly in advance from the start date")  # fmt: skip
        if parts:
            lines.append("Added to the fee: " + "; ".join(parts))
        if any(c.levels for c in chosen):
            lines.append(LEVELS_APPLY)
        return (ScopeRow(OPTIONS_LABEL, tuple(lines)),)
    if offered:
        return (
            ScopeRow(
                OPTIONS_LABEL,
                (
                    "None chosen. Options the Client chooses when accepting are listed here "
                    "in the accepted copy, with their prices and the service levels they set.",
                ),  # fmt: skip
            ),
        )
    return ()


def _rate_option(line: Mapping[str, Any]) -> options_mod.RateOption:
    from decimal import Decimal

    return options_mod.RateOption(
        str(line["id"]), str(line["title"]), str(line.get("description", "")),
        Decimal(str(line["amount"])), str(line["per"]), str(line.get("unit") or ""), {},
        int(line.get("max_quantity") or 1),
    )  # fmt: skip


def choose_from_offer(
    offered: Sequence[Mapping[str, Any]], choice: Mapping[str, int], currency: str
) -> tuple[list[OptionLine], list[options_mod.Chosen], list[tuple[str, str]]]:
    """The Client's choice among the options a sent version offered (its content's
    ``options_offered``): ``(chosen lines, chosen, problems)``; an included option is
    always chosen."""
    offers = [
        options_mod.Offer(_rate_option(o), "", bool(o.get("included"))) for o in offered or ()
    ]
    picked, problems = options_mod.choose(offers, choice)
    levels = {str(o["id"]): str(o.get("levels") or "") for o in offered or ()}
    lines = [
        replace(
            _option_line(c.option, c.included, currency, c.quantity), levels=levels[c.option.id]
        )
        for c in picked
    ]
    return lines, picked, problems


def chosen_option_lines(
    content: Mapping[str, Any], chosen: Sequence[Mapping[str, Any]] | None
) -> list[str]:
    """The Scope-and-fees lines of the options chosen with an acceptance
    (``[{"id", "quantity"}]``) among those a version's ``content`` offered: each with
    its price and the levels it sets, then what they add to the fee; [] for none."""
    currency = str((content.get("resolved_terms") or {}).get("currency") or "GBP")
    choice = {str(o["id"]): int(o["quantity"]) for o in chosen or ()}
    lines, picked, _ = choose_from_offer(content.get("options_offered") or (), choice, currency)
    rows = option_rows((), lines, picked, currency)
    return list(rows[0].lines) if rows else []


def _scope_rows(
    clean: Mapping[str, Any],
    engagement: EngagementTerms,
    resolved: Mapping[str, Any],
    roadmap: Roadmap,
    offered: Sequence[OptionLine] = (),
    chosen: Sequence[OptionLine] = (),
    picked: Sequence[options_mod.Chosen] = (),
) -> tuple[ScopeRow, ...]:
    """The scope-and-fees table: what is delivered, what is not, who provides what,
    the fee, how it is paid and the dates."""
    currency = resolved["currency"]
    rows = [
        ScopeRow(
            "Deliverables",
            engagement.deliverables
            or (
                "To be listed before signing: the milestones of the roadmap below, "
                "as described in the goals",
            ),  # fmt: skip
        ),
    ]
    if engagement.exclusions:
        rows.append(ScopeRow("Not included", engagement.exclusions))
    if engagement.client_responsibilities:
        rows.append(ScopeRow("The Client provides", engagement.client_responsibilities))
    fee_rows = terms_mod.fee_lines(engagement, currency, resolved.get("notice_days"))
    rows += [ScopeRow(label, (text,)) for label, text in fee_rows]
    if engagement.payment_schedule and terms_mod.schedule_needed(engagement):
        rows.append(
            ScopeRow(
                "Payment schedule",
                tuple(
                    f"{when}: {amount}"
                    for when, amount in terms_mod.instalment_rows(engagement, currency)
                ),  # fmt: skip
            )
        )
    rows += option_rows(offered, chosen, picked, currency)
    # Rows the term table declares (how soon invoices are paid, ...).
    rows += [
        ScopeRow(label, (text,)) for label, text in terms_mod.scope_lines(engagement, resolved)
    ]
    dates = []
    end = _plan_end(engagement, roadmap)
    if engagement.start_date:
        dates.append(f"Start: {display_date(engagement.start_date)}")
    else:
        dates.append("Start: to be agreed")
    if end:
        dates.append(f"Planned end: {display_date(end)} (week {roadmap.weeks})")
    term_end = _minimum_term_end(engagement)
    if term_end:
        dates.append(f"Minimum term: to {display_date(term_end)}, then renewing month by month")
    launch = _launch_date(engagement, resolved)
    if launch:
        fit = ""
        if end and end > launch:
            fit = (
                f"; the plan as drawn ends on {display_date(end)}, after it: to be "
                "resolved before signing"
            )
        elif end:
            fit = "; the plan ends before it"
        dates.append(f"Launch: {display_date(launch)}, a fixed date that cannot move{fit}")
    if engagement.valid_until:
        dates.append(f"This offer is open until {display_date(engagement.valid_until)}")
    rows.append(ScopeRow("Dates", tuple(dates)))
    return tuple(rows)


def resolved_json(
    resolved: Mapping[str, Any],
    engagement: EngagementTerms,
    profile: AgencyProfile,
    offered: Sequence[OptionLine] = (),
    chosen: Sequence[OptionLine] = (),
) -> dict[str, Any]:
    """The resolved terms as the command line's ``--json`` prints them (terms.md)."""
    out = terms_mod.resolved_terms(resolved, engagement)
    if offered:
        out["options_offered"] = [f"{o.title}: {o.price}" for o in offered]
    if chosen:
        out["options_chosen"] = [o.line() for o in chosen]
    out.update(
        {
            "agency": {
                "legal_name": profile.legal_name,
                "trading_name": profile.trading_name,
                "governing_law": profile.governing_law,
                "address": profile.address,
                "company_number": profile.company_number,
                "number_label": party_details.number_label(
                    profile.legal_name, profile.legal_form, profile.registration_label
                ),
                **({"legal_form": profile.legal_form} if profile.legal_form else {}),
                **({"vat_number": profile.vat_number} if profile.vat_number else {}),
                "signatory": {
                    "name": profile.signatory.name,
                    "title": profile.signatory.title,
                    "email": profile.signatory.email,
                },
            },
        }
    )
    return out


def agreement_json(agreement: Agreement) -> dict[str, Any]:
    """The agreement as ``onboarding agreement --json`` prints it (terms.md): the resolved
    terms, the sections with their clauses (``source``: ``playbook:<id>``, ``standard``
    or ``manager``) and whether it is a draft."""
    return {
        "resolved_terms": dict(agreement.terms or {}),
        "sections": [
            {
                "id": s.id,
                "title": s.title,
                "clauses": [
                    {
                        "id": c.id,
                        "title": c.title,
                        "text": c.text,
                        "source": c.source,
                        "triggered_by": list(c.triggered_by),
                    }
                    for c in s.clauses
                ],
            }
            for s in (*agreement.sections, *agreement.standard_sections)
        ],
        "draft": agreement.draft,
        "problems": [p.as_dict() for p in agreement.problems],
        "options_offered": [_plain(o) for o in agreement.options_offered],
        "options_chosen": [_plain(o) for o in agreement.options_chosen],
        "document_id": agreement.document_id,
        "sha256": agreement.sha256,
        # The plan and the decision table as agreed: the project page tracks them.
        "roadmap": _plain(agreement.roadmap),
        "decisions": _plain(agreement.decisions),
    }
