"""The proposal: a warm letter, in the second person, that goes with the agreement (pure
Python). Contract: ``shared/spec/proposal.md``.

``compose_proposal(answers, assessment, profile=..., terms=..., date=...)`` returns a
:class:`Proposal`: plain text by section, which ``templates/proposal/letter.html`` turns
into the page and the PDF. The letter holds what we heard (the client's goals may be
quoted here), how we will work together (the plan explained, the update rhythm, who
decides what and why), the answer to each worry, the fee, the options with their
prices (one for each wish beyond the agency's standard; where the rate card has none,
what the agency does instead), what happens next and until when the offer stands.

It is not binding (the agreement's entire-agreement clause leaves it out), and it never
carries the assessment's language: no score, band, risk or reason-code.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from onboarding.domain import options as options_mod
from onboarding.domain import schedule
from onboarding.domain import terms as terms_mod
from onboarding.domain.agreement import as_date, decision_rows, display_date, number_word
from onboarding.domain.questionnaire import (
    AnswersInvalid,
    Questionnaire,
    get_questionnaire,
    join_words,
)
from onboarding.domain.terms import AgencyProfile, EngagementTerms
from onboarding.domain.wishes import closest_to_wish, offers_for

VALID_DAYS = 30
"""How long an offer stands when the terms set no ``valid_until``."""

FORBIDDEN_WORDS = ("score", "band", "risk", "because you told us", "red flag", "walk away")
"""The assessment's language: never in a proposal (checked by :func:`assessment_words`)."""

FEAR_ANSWERS = {
    "failure": (
        "That the project fails",
        "We agree in writing, in the first weeks, what success looks like and how we "
        "will measure it, and every review checks the work against it.",
    ),
    "unknown_process": (
        "Not knowing how the work is done",
        "The plan above shows every phase and what you see at its end, and each update "
        "says what was done, what comes next and anything waiting on you.",
    ),
    "skills_gap": (
        "That the team lacks the right skills",
        "You meet the people who will do the work before it starts, and if a task needs a "
        "specialist we tell you first and name them.",
    ),
    "budget_overrun": (
        "Going over budget",
        "The fee is set out in the agreement, and anything outside the agreed scope is "
        "estimated and approved by you in writing before any work on it starts.",
    ),
    "missed_deadlines": (
        "Missed deadlines",
        "The dates are in the agreement. If one is in doubt you hear it from us as soon "
        "as we know, with a plan to recover the time.",
    ),
    "loss_of_control": (
        "Losing control of the outcome",
        "Nothing goes out without your sign-off, and the decisions that are yours stay "
        "yours (see \u201cWho decides what\u201d above).",
    ),
    "brand_damage": (
        "Harm to your brand",
        "Nothing is published without your approval, and your brand guidelines are the "
        "first thing we confirm with you.",
    ),
}
"""Each worry of the questionnaire's ``fears``, named as the client would, and our answer."""

INSTEAD = {
    "priority_replies": (
        "We answer messages {response_time}. Anything that cannot wait is best raised by "
        "phone with your project lead, who deals with it first."
    ),
    "extra_revision_round": (
        "Each deliverable includes {revision_rounds}. A further round is estimated and "
        "agreed with you before we start it, as a change request."
    ),
    "weekly_call": (
        "You receive {cadence}, and we meet {review} to review the work together; a call "
        "is always there when something needs talking through."
    ),
    "daily_status_note": (
        "You receive {cadence}, and your project lead answers any question in between "
        "{response_time}."
    ),
    "shared_task_board": (
        "You see the work at every review, and each update tells you where every "
        "deliverable stands and what comes next."
    ),
    "out_of_hours_cover": (
        "We work {working_hours}; a message sent outside those hours is answered on the "
        "next working day, first thing, and an urgent matter agreed at kickoff goes to "
        "your project lead by phone."
    ),
}
"""What the agency does instead of a playbook's option when its rate card has none."""
INSTEAD_DEFAULT = (
    "We will talk this through with you before you decide, and agree how to handle it."
)

WORKING_HOURS = "on working days, Monday to Friday"
"""The agency's hours as the letter states them (a profile carries no office hours)."""


@dataclass(frozen=True)
class Item:
    """A line of a section: an optional lead-in (bold) and its text."""

    title: str
    text: str


@dataclass(frozen=True)
class LetterSection:
    id: str
    title: str
    paragraphs: tuple[str, ...] = ()
    items: tuple[Item, ...] = ()
    after: tuple[str, ...] = ()  # paragraphs after the items


@dataclass(frozen=True)
class OfferedOption:
    """An option of the proposal, as the letter and ``--json`` show it."""

    id: str
    title: str
    description: str
    price: Mapping[str, str]  # {"amount", "per", "text"}
    unit: str
    max_quantity: int
    offered_because: str
    included: bool
    sets: Mapping[str, Any] = field(default_factory=dict)
    # "" when the option meets the wish; else that it is the most the agency offers
    closest: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "price": dict(self.price),
            "unit": self.unit,
            "max_quantity": self.max_quantity,
            "offered_because": self.offered_because,
            "included": self.included,
            "sets": dict(self.sets),
            "closest": self.closest,
        }


@dataclass(frozen=True)
class Proposal:
    title: str
    agency: str
    company: str
    contact_name: str
    greeting: str
    date: str
    date_display: str
    valid_until: str
    valid_until_display: str
    sections: tuple[LetterSection, ...]
    options: tuple[OfferedOption, ...]
    instead: tuple[Item, ...]  # a wish the card has no option for, and what we do instead
    signatory: str
    signatory_title: str
    draft: bool

    def as_json(self) -> dict[str, Any]:
        """``onboarding proposal --json`` (proposal.md)."""
        return {
            "options": [o.as_dict() for o in self.options],
            "instead": [{"wish": i.title, "instead": i.text} for i in self.instead],
            "sections": [
                {
                    "id": s.id,
                    "title": s.title,
                    "paragraphs": list(s.paragraphs),
                    "items": [{"title": i.title, "text": i.text} for i in s.items],
                    "after": list(s.after),
                }
                for s in self.sections
            ],
            "valid_until": self.valid_until,
            "draft": self.draft,
            "letter": {
                "title": self.title,
                "agency": self.agency,
                "company": self.company,
                "contact_name": self.contact_name,
                "greeting": self.greeting,
                "date": self.date,
                "signatory": self.signatory,
                "signatory_title": self.signatory_title,
            },
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Proposal:
        """The letter again from :meth:`as_json` (a version keeps it as sent)."""
        head = data["letter"]
        day = as_date(head["date"])
        valid = as_date(data["valid_until"])
        return cls(
            title=head["title"],
            agency=head["agency"],
            company=head["company"],
            contact_name=head["contact_name"],
            greeting=head["greeting"],
            date=day.isoformat(),
            date_display=display_date(day),
            valid_until=valid.isoformat(),
            valid_until_display=display_date(valid),
            sections=tuple(
                LetterSection(
                    s["id"],
                    s["title"],
                    tuple(s["paragraphs"]),
                    tuple(Item(i["title"], i["text"]) for i in s["items"]),
                    tuple(s["after"]),
                )
                for s in data["sections"]
            ),
            options=tuple(
                OfferedOption(
                    o["id"],
                    o["title"],
                    o["description"],
                    o["price"],
                    o["unit"],
                    o["max_quantity"],
                    o["offered_because"],
                    o["included"],
                    o.get("sets") or {},
                    o.get("closest") or "",
                )  # fmt: skip
                for o in data["options"]
            ),
            instead=tuple(Item(i["wish"], i["instead"]) for i in data["instead"]),
            signatory=head["signatory"],
            signatory_title=head["signatory_title"],
            draft=bool(data["draft"]),
        )

    def text(self) -> str:
        """Every word of the letter, for checks (no assessment language)."""
        parts = [self.greeting]
        for s in self.sections:
            parts += [s.title, *s.paragraphs, *(f"{i.title} {i.text}" for i in s.items), *s.after]
            if s.id == "options":  # the table of options, as the letter prints it
                parts += [
                    " ".join(filter(None, (o.title, o.description, o.offered_because, o.closest)))
                    for o in self.options
                ]
        return "\n".join(parts)


def assessment_words(text: str) -> list[str]:
    """The assessment's words found in ``text`` (whole words, any case)."""
    import re

    return [w for w in FORBIDDEN_WORDS if re.search(rf"\b{re.escape(w)}", text, re.IGNORECASE)]


def _first_name(name: str) -> str:
    return (name or "").split()[0] if (name or "").split() else "there"


def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return text
    text = text[:1].upper() + text[1:]
    return text if text[-1] in ".!?\u201d" else text + "."


_VERB_IRREGULAR = {"is": "are", "has": "have", "does": "do", "goes": "go", "was": "were"}


def _plain_verb(word: str) -> str:
    """``checks`` -> ``check``: the verb after "we" or "you" in place of a party."""
    if word in _VERB_IRREGULAR:
        return _VERB_IRREGULAR[word]
    if re.search(r"(ss|sh|ch|x|z|o)es$", word):
        return word[:-2]
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith("ss") and len(word) > 2:
        return word[:-1]
    return word


_PARTY = re.compile(r"(?:\b(\w+) )?\b[Tt]he (Agency|Client)\b(?: ([a-z]+)\b)?")
_OBJECT_AFTER = {"to", "with", "by", "from", "for", "of", "on", "about", "than"}


def letter_voice(text: str) -> str:
    """Text written for the agreement ("the Agency checks", "the Client's approval") in
    the letter's voice ("we check", "your approval"). Safeguards and fee lines are
    written once, in the agreement's defined terms; the letter speaks to the client."""

    def party(m: re.Match[str]) -> str:
        lead, who, word = m.group(1), m.group(2), m.group(3)
        after = bool(lead) and lead.lower() in _OBJECT_AFTER
        pronoun = "you" if who == "Client" else ("us" if after else "we")
        out = (f"{lead} " if lead else "") + pronoun
        if word:
            verb = not after and (word in _VERB_IRREGULAR or word.endswith("s"))
            out += " " + (_plain_verb(word) if verb else word)
        return out

    text = re.sub(r"\b[Tt]he Agency's\b", "our", text)
    text = re.sub(r"\b[Tt]he Client's\b", "your", text)
    text = re.sub(r"\beither party\b", "either of us", text)
    text = _PARTY.sub(party, text)
    text = re.sub(r"([.!?] )(we|you|our|your|us)\b", lambda m: m[1] + m[2].capitalize(), text)
    return text[:1].upper() + text[1:] if text else text


def compose_proposal(
    answers: Mapping[str, Any],
    assessment: Mapping[str, Any],
    *,
    date: dt.date | str,
    profile: AgencyProfile | None = None,
    terms: EngagementTerms | None = None,
    questionnaire: Questionnaire | None = None,
) -> Proposal:
    """The proposal letter of one engagement (raises AnswersInvalid for bad answers)."""
    q = questionnaire or get_questionnaire()
    clean, errors = q.validate(answers)
    if errors:
        raise AnswersInvalid(errors)
    day = as_date(date)
    profile = profile or terms_mod.default_profile()
    engagement = terms or EngagementTerms()
    resolved = terms_mod.values(profile, engagement, clean)
    currency = resolved.get("currency") or profile.currency
    company = clean["company"]
    agency = profile.trading_name
    offers, unpriced = offers_for(clean, assessment, profile, engagement)
    levels = terms_mod.agreed_levels(profile, engagement)
    words = {
        "response_time": resolved["response_time"],
        "revision_rounds": _rounds(int(resolved["revision_rounds"])),
        "cadence": schedule.CADENCE.get(resolved["update_cadence_key"], schedule.CADENCE["weekly"])[
            1
        ],
        "working_hours": WORKING_HOURS,
    }
    model = engagement.fee.model if engagement.fee is not None else None
    words["review"] = (
        "at each monthly review" if model == "retainer" else "at the end of every phase"
    )
    valid = engagement.valid_until or (day + dt.timedelta(days=VALID_DAYS))
    sections = [
        _heard(clean, q, company, bool(offers), model),
        _together(clean, q, company, resolved, words, model),
        *_worries(clean, resolved),
        *_fee(engagement, currency),
        _options_section(offers, unpriced, words),
        _next(engagement, valid, profile, bool(offers)),
    ]
    instead = tuple(
        Item(
            _sentence(str(u.get("because") or "")),
            INSTEAD.get(str(u.get("id")), INSTEAD_DEFAULT).format(**words),
        )
        for u in unpriced
    )
    shown = tuple(
        OfferedOption(
            id=o.option.id,
            title=o.option.title,
            description=o.option.description,
            price=options_mod.price_dict(o.option)
            # in the rate card's currency, whatever the fee's (readiness keeps an agreement
            # in another currency with options a draft until the two agree)
            | {"text": options_mod.price_text(o.option, profile.currency, included=o.included)},
            unit=o.option.unit,
            max_quantity=o.option.max_quantity if o.option.per == "unit" else 1,
            offered_because=o.offered_because,
            included=o.included,
            sets=dict(o.option.sets),
            closest=closest_to_wish(o.option, clean, levels) if o.offered_because else "",
        )
        for o in offers
    )
    return Proposal(
        title=f"Our proposal for {company}",
        agency=agency,
        company=company,
        contact_name=clean.get("contact_name") or "",
        greeting=f"Dear {_first_name(clean.get('contact_name') or '')},",
        date=day.isoformat(),
        date_display=display_date(day),
        valid_until=valid.isoformat(),
        valid_until_display=display_date(valid),
        sections=tuple(s for s in sections if s is not None),
        options=shown,
        instead=instead,
        signatory=profile.signatory.name,
        signatory_title=profile.signatory.title,
        draft=terms_mod.is_draft(engagement),
    )


def _heard(clean: Mapping[str, Any], q: Questionnaire, company: str, options: bool,
           model: str | None) -> LetterSection:  # fmt: skip
    kind = clean.get("project_type")
    noun = "project"
    if kind not in (None, "other"):
        noun = f"{q.questions['project_type'].values[kind].lower()} project"
    where = f"on your {noun}"
    if model == "retainer":  # ongoing work, not a project
        where = "month by month" + (
            "" if kind in (None, "other") else f" on your {noun.replace(' project', ' work')}"
        )
    weeks = q.questions["timeline_weeks"].display(clean.get("timeline_weeks") or 1)
    paragraphs = [
        f"Thank you for the time you gave us. This letter sets out how we would work with "
        f"{company} {where}"
        + (
            ", what we will do about the things that matter most to you, and what you can "
            "add if you would like more"
            if options
            else " and what we will do about the things that matter most to you"
        )
        + ". The agreement that comes with it is the contract; this letter is our way of "
        "explaining it."
    ]
    goal = " ".join(str(clean.get("primary_goal") or "").split())
    if goal:
        paragraphs.append(
            f"In your words, the goal is \u201c{goal.rstrip('.')}\u201d. Everything below is "
            "planned around it."
        )
    metrics = " ".join(str(clean.get("success_metrics") or "").split())
    if metrics:
        paragraphs.append(
            f"You will judge success by \u201c{metrics.rstrip('.')}\u201d, and so will we."
        )
    if clean.get("deliverables"):
        labels = q.questions["deliverables"].values
        made = [labels[v].lower() for v in labels if v in clean["deliverables"]]
        if made and model == "retainer":
            paragraphs.append(f"You are looking for {join_words(made)}, month after month.")
        elif made:
            paragraphs.append(f"You are looking for {join_words(made)}, over about {weeks}.")
    return LetterSection("heard", "What we heard", tuple(paragraphs))


def _together(
    clean: Mapping[str, Any],
    q: Questionnaire,
    company: str,
    resolved: Mapping[str, Any],
    words: Mapping[str, str],
    model: str | None = None,
) -> LetterSection:
    weeks = int(clean.get("timeline_weeks") or 1)
    phases = schedule.plan(weeks, model)
    items = tuple(Item(f"{p.name} ({_weeks(p.start_week, p.end_week)})", _sentence(p.deliverable))
                  for p in phases)  # fmt: skip
    paragraphs = (
        (
            "Every month runs in the same three steps, so you always know where the work "
            "stands and what your allowance is buying:"
        )
        if model == "retainer"
        else (
            f"The work runs in {number_word(len(phases))} phases. Each ends with something "
            "you can see and judge, and we review it together before the next one starts, "
            "so nothing moves on without you:"
        ),
    )
    rows = decision_rows(clean, {}, q, company)
    yours = [r.label.lower() for r in rows if r.owner in ("client", "joint")]
    ours = [
        r.label.lower() for r in rows if r.owner in ("agency", "consulted", "weekly_priorities")
    ]
    after = [
        f"{'Between monthly reviews' if model == 'retainer' else 'Between reviews'} you "
        f"receive {words['cadence']}, and we answer messages "
        f"{words['response_time']}. Each deliverable includes {words['revision_rounds']}.",
    ]
    if yours:
        after.append(
            f"Who decides what: you have the final say on {join_words(yours)}. "
            + _why_yours(yours)
            + "; we recommend, in writing when it helps, and you decide."
            + (
                f" We lead on {join_words(ours)}, so that your time goes on the decisions "
                "only you can make and the team keeps its pace."
                if ours
                else ""
            )
        )
    else:
        after.append(
            "Who decides what: we lead the day-to-day decisions so the work keeps its pace, "
            "and you sign off every phase before the next begins."
        )
    if "daily_tasks" in (clean.get("decisions_owned") or ()):
        after.append(
            "Your project lead plans the team's daily work, and you set its priorities each "
            "week: you steer, without having to manage the detail."
        )
    return LetterSection("together", "How we will work together", paragraphs, items, tuple(after))


FACING = ("brand direction", "copy and wording", "visual design")
"""The decisions that shape what the client's customers see."""


def _why_yours(yours: Sequence[str]) -> str:
    """Why the client's decisions are theirs, true of the ones they keep: only the brand,
    the words and the design shape what their customers see (a budget does not)."""
    many = len(yours) > 1
    if any(d in FACING for d in yours):
        return (
            f"{'They shape' if many else 'It shapes'} what your customers will see, so "
            f"{'they are' if many else 'it is'} yours to judge"
        )
    return f"{'They are' if many else 'It is'} your business's call"


def _rounds(n: int) -> str:
    return f"{number_word(n)} round{'' if n == 1 else 's'} of revisions"


def _weeks(start: int, end: int) -> str:
    return f"week {end}" if start == end else f"weeks {start}\u2013{end}"


def _worries(clean: Mapping[str, Any], resolved: Mapping[str, Any]) -> list[LetterSection]:
    items = []
    worry = " ".join(str(clean.get("biggest_worry") or "").split())
    if worry:
        safeguard = str(resolved.get("safeguard") or "").strip()
        answer = (
            _sentence(letter_voice(safeguard))
            if safeguard
            else "We will agree a specific safeguard with you before you sign, and write it "
            "into the agreement."
        )
        items.append(Item(f"\u201c{worry.rstrip('.')}\u201d", answer))
    for fear in clean.get("fears") or ():
        if fear in FEAR_ANSWERS:
            items.append(Item(*FEAR_ANSWERS[fear]))
    if not items:
        return []
    return [
        LetterSection(
            "worries",
            "Your concerns, and our answer to each",
            (
                "Every project carries worries, and it helps to name them. Here is what we "
                "will do about yours:",
            ),
            tuple(items),
        )
    ]


def _fee(engagement: EngagementTerms, currency: str) -> list[LetterSection]:
    if terms_mod.is_draft(engagement) or engagement.fee is None:
        return [
            LetterSection(
                "fee",
                "The fee",
                ("We will confirm the fee and the dates with you before anything is signed.",),
            )
        ]
    lines = terms_mod.fee_lines(engagement, currency)
    (label, first), rest = lines[0], lines[1:]
    if label.endswith(" rate"):  # time and materials: the rate, then each figure labelled
        per = "an hour" if label.startswith("Hourly") else "a day"
        fee = f"We charge for the time we work, at {first} {per}."
    else:
        fee = _sentence(f"The fee is {first}")
    paragraphs = [" ".join([fee, *(_sentence(letter_voice(f"{lab}: {text}")) for lab, text
                                   in rest)])]  # fmt: skip
    rows = terms_mod.instalment_rows(engagement, currency)
    paid = ", ".join(f"{amount} {when[:1].lower()}{when[1:]}" for when, amount in rows)
    if paid:
        paragraphs.append(f"It is paid {paid}.")
    dates = f"We would start on {display_date(engagement.start_date)}"
    if engagement.launch_date:
        dates += f" and launch by {display_date(engagement.launch_date)}"
    paragraphs.append(dates + ".")
    return [LetterSection("fee", "The fee", tuple(paragraphs))]


def _options_section(
    offers: Sequence[options_mod.Offer],
    unpriced: Sequence[Mapping[str, Any]],
    words: Mapping[str, str],
) -> LetterSection:
    """The options with their prices (the template draws the table), then each wish the
    card has no option for with what we do instead; a heading that fits what is there."""
    if not offers and not unpriced:
        return LetterSection(
            "options",
            "Options",
            (
                "Everything you described fits our standard way of working, so there is "
                "nothing extra to choose.",
            ),
        )
    paragraphs = []
    if offers:
        paragraphs.append(
            "The fee covers the way of working above. Where you would like more than that, "
            "here is what you can add, and what it costs. Choose any of them, or none, on "
            "the agreement page before you accept; the agreement then lists the ones you "
            "chose."
        )
    instead = tuple(
        Item(
            _sentence(str(u.get("because") or "")),
            INSTEAD.get(str(u.get("id")), INSTEAD_DEFAULT).format(**words),
        )
        for u in unpriced
    )
    if not offers:
        lead = (
            "You would like a little more than our standard way of working in one respect. "
            "It is not something we sell as an extra, so here is what we do instead:"
            if len(instead) == 1
            else "You would like more than our standard way of working in a few respects. "
            "They are not things we sell as extras, so here is what we do instead:"
        )
        return LetterSection("options", "Beyond our standard way of working", (lead,), instead)
    after = ()
    if instead:
        after = (
            "For the rest of what you would like, we have no option to offer; here is what "
            "we do instead:",
        )
    return LetterSection("options", "Options", tuple(paragraphs), instead, after)


def _next(engagement: EngagementTerms, valid: dt.date, profile: AgencyProfile,
          options: bool = True) -> LetterSection:  # fmt: skip
    start = (
        f", ready to start on {display_date(engagement.start_date)}"
        if engagement.start_date
        else ""
    )
    items = (
        Item(
            "Read the agreement",
            "It comes with this letter and is the contract: it states the fee, the dates, "
            "what we deliver and the terms we both keep.",
        ),
        Item(
            "Choose and accept",
            "On the agreement page, tick any options you want, then accept by typing your "
            "name. If anything should change, ask there and we will send a new version.",
        )
        if options
        else Item(
            "Accept",
            "On the agreement page, accept by typing your name. If anything should change, "
            "ask there and we will send a new version.",
        ),
        Item(
            "We countersign and begin",
            f"We countersign, send you the signed copy and book the kickoff{start}.",
        ),
    )
    return LetterSection(
        "next",
        "What happens next",
        (),
        items,
        (
            f"This offer stands until {display_date(valid)}. If you have a question about "
            f"anything here, reply to this letter or call {profile.signatory.name or 'us'}: "
            "we would much rather talk it through than have you guess.",
        ),
    )
