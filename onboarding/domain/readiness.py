"""Draft or sendable (terms.md, "Draft or sendable" and its v2 additions), pure Python.

An agreement is a draft, every page says so and it cannot be sent, while anything on
this list is missing or wrong: the fee, the payment schedule (none for a retainer,
invoiced monthly in advance) and the start date; the client's legal name and address;
a safeguard for the client's biggest worry when the answers name one; a start date
that is not in the past on the day the agreement is dated (the day it is sent); every
date before 2100-01-01; and any stored term that no longer reads (named, never an
error page). :func:`problems` lists each, with the ``field`` it is about.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from onboarding.domain.term_fields import table
from onboarding.domain.terms import schedule_needed

LAST_DAY = dt.date(2099, 12, 31)
"""Every date of an agreement is before 2100-01-01."""


@dataclass(frozen=True)
class DraftProblem:
    """One reason the agreement is still a draft, about one field of the terms."""

    field: str
    message: str
    what: str = ""  # what is still to settle, as the draft banner names it

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}

    def line(self) -> str:
        return f"{self.field}: {self.message}"


def _day(value: dt.date) -> str:
    return f"{value.day} {value.strftime('%B')} {value.year}"


def problems(terms: Any, answers: Mapping[str, Any], today: dt.date) -> list[DraftProblem]:
    """What keeps the agreement of these terms (an ``EngagementTerms``) and answers from
    being sendable on ``today`` (the agreement's date), in the order a manager fixes
    them; empty: it may be sent (the consistency check aside)."""
    out = [
        DraftProblem(
            e.field,
            f"the stored value could not be read ({e.message}): set it again",
            f"{e.field} (its stored value could not be read)",
        )
        for e in getattr(terms, "rejected", ())
    ]
    fee = terms.fee
    if fee is None:
        out.append(
            DraftProblem("fee", "is not set: choose the fee model and its amounts", "the fee")
        )
    if fee is not None and fee.model == "retainer" and not fee.amounts.get("allowance"):
        out.append(
            DraftProblem(
                "fee.allowance",
                "is not set: give the days or hours of work each month",
                "the retainer's monthly allowance",
            )
        )
    if not terms.payment_schedule and schedule_needed(terms):  # a fixed fee's instalments
        out.append(
            DraftProblem(
                "payment_schedule", "is not set: add the instalments", "the payment schedule"
            )
        )
    if terms.start_date is None:
        out.append(
            DraftProblem("start_date", "is not set: give the day work starts", "the start date")
        )
    elif terms.start_date < today:
        out.append(
            DraftProblem(
                "start_date",
                f"is in the past ({_day(terms.start_date)}, before the agreement's date, "
                f"{_day(today)}): give the day work starts",
                "the start date (the one given is in the past)",
            )
        )
    for row in table().top:
        value = terms.by_key.get(row.key)
        if row.type == "date" and isinstance(value, dt.date) and value > LAST_DAY:
            out.append(
                DraftProblem(
                    row.key, "must be a date before 2100-01-01", f"the {row.label.lower()}"
                )
            )
    client = terms.client or {}
    if not client.get("legal_name"):
        out.append(
            DraftProblem(
                "client.legal_name",
                "is not set: give the client's registered legal name",
                "the Client's legal name",
            )
        )
    if not client.get("address"):
        out.append(
            DraftProblem(
                "client.address",
                "is not set: give the client's registered address",
                "the Client's registered address",
            )
        )
    if answers.get("biggest_worry") and not (terms.safeguard or "").strip():
        out.append(
            DraftProblem(
                "safeguard",
                "is not written: the client named a worry, and the agreement must state the "
                "safeguard that answers it",
                "the safeguard for the Client's main concern",
            )
        )
    return out


def is_sendable(terms: Any, answers: Mapping[str, Any], today: dt.date) -> bool:
    """Whether nothing on :func:`problems`' list stands in the way."""
    return not problems(terms, answers, today)


def options_currency_problem(
    card_currency: str, currency: str, offered: bool
) -> DraftProblem | None:
    """The rate card prices its options in the agency's currency: an agreement in another
    currency that offers options would state them in two currencies, or (worse) relabel
    the card's amounts. It stays a draft until the two agree (or no option is offered)."""
    if not offered or card_currency == currency:
        return None
    return DraftProblem(
        "currency",
        f"is {currency}, but the rate card's options are priced in {card_currency}: bill this "
        f"engagement in {card_currency}, or withdraw the options offered",
        f"the currency ({currency}; the options are priced in {card_currency})",
    )
