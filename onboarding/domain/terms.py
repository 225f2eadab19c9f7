"""What turns a tailored draft into a contract: the agency profile, the terms of one
engagement, and the one *resolved terms* object every clause reads (pure Python).

Contract: ``shared/spec/terms.md``. Three layers, resolved once by :func:`resolve`:

1. the **agency profile** (:func:`load_profile`; the shipped defaults in
   ``domain/data/agency_default.yaml`` fill what a profile leaves out);
2. the **playbooks**, which choose among what the agency offers (they never turn a
   client's wish into the agency's promise: a wish is quoted only as ``asked_*``);
3. the **terms of this engagement** (:func:`parse_terms`), entered by the account
   manager; a value set there wins.

Errors come all at once, each with a ``field`` path such as
``payment_schedule[1].percent`` (:class:`TermsInvalid`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache
from typing import Any

import yaml

from onboarding.domain.resources import DATA

SERVICE_LEVEL_KEYS = (
    "response_hours",
    "update_cadence",
    "revision_rounds",
    "notice_days",
    "acceptance_days",
)
RESPONSE_HOURS = (1, 4, 24, 48)
UPDATE_CADENCES = ("daily", "few_per_week", "weekly", "biweekly", "milestones_only")
FEE_MODELS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # model: (required money keys, optional money keys)
    "fixed": (("amount",), ()),
    "time_and_materials": (("day_rate", "estimate_days"), ("cap",)),
    "retainer": (("monthly", "months"), ()),
}
PAYMENT_WHEN = ("on_signing", "on_completion", "monthly")
EXPENSES = ("included", "at_cost_with_approval", "none")
IP_OPTIONS = ("limited_license", "exclusive_license", "assignment_on_payment", "work_for_hire")
SUPPLEMENTS = ("print", "interactive", "motion", "environmental")
SUPPLEMENT_BY_PROJECT = {
    "website": ("interactive",),
    "product_design": ("interactive",),
    "campaign": ("print", "motion"),
    "content": (),
    "branding": ("print",),
}
"""The discipline terms an engagement gets by default, from the answers' project type."""

STANDARD_SECTIONS: dict[str, str] = {
    "fees_payment": "Fees and payment",
    "expenses": "Expenses and third-party costs",
    "scope": "Deliverables and exclusions",
    "client_responsibilities": "The Client's responsibilities",
    "acceptance": "Review and acceptance",
    "changes": "Change requests",
    "intellectual_property": "Intellectual property",
    "confidentiality": "Confidentiality",
    "data_protection": "Data protection",
    "warranties": "Warranties",
    "liability": "Limitation of liability",
    "termination": "Termination",
    "non_solicitation": "Non-solicitation",
    "general": "General",
    "supplements": "Discipline terms",
}
"""The standard terms' sections, in the order the agreement sets them."""

CURRENCY_SYMBOLS = {"GBP": "£", "USD": "$", "EUR": "€", "AUD": "A$", "CAD": "C$", "NZD": "NZ$"}
ISO_4217 = re.compile(r"^[A-Z]{3}$")
MONEY = re.compile(r"^\d{1,12}(\.\d{1,2})?$", re.ASCII)  # not full-width digits
PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
_WHEN_EQ = re.compile(r'^\s*([a-z_]+)\s*==\s*"([a-z_]+)"\s*$')
_WHEN_IN = re.compile(r'^\s*"([a-z_]+)"\s+in\s+([a-z_]+)\s*$')
MAX_TEXT = 4000
MAX_ITEMS = 50


@dataclass(frozen=True)
class TermError:
    """One problem in a profile or an engagement's terms, at a field path."""

    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


class TermsInvalid(ValueError):
    """Terms or a profile that do not validate; ``errors`` lists every problem."""

    def __init__(self, errors: Sequence[TermError]):
        self.errors = list(errors)
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in self.errors))

    def as_dict(self) -> dict[str, list[dict[str, str]]]:
        return {"errors": [e.as_dict() for e in self.errors]}


# --- the agency profile ----------------------------------------------------------------


@dataclass(frozen=True)
class StandardClause:
    id: str
    section: str
    title: str
    text: str
    when: str | None = None
    optional: bool = False

    def applies(self, values: Mapping[str, Any]) -> bool:
        """Whether the clause belongs in an agreement with these resolved values."""
        if not self.when:
            return True
        m = _WHEN_EQ.match(self.when)
        if m:
            return values.get(m.group(1)) == m.group(2)
        m = _WHEN_IN.match(self.when)
        if m:
            return m.group(1) in (values.get(m.group(2)) or ())
        return False  # pragma: no cover - refused when the profile loads


@dataclass(frozen=True)
class Signatory:
    name: str
    title: str
    email: str


@dataclass(frozen=True)
class AgencyProfile:
    legal_name: str
    trading_name: str
    address: str
    company_number: str
    signatory: Signatory
    currency: str
    governing_law: str
    service_levels: Mapping[str, Any]
    standard_clauses: tuple[StandardClause, ...]
    ip_option: str = "assignment_on_payment"
    expenses: str = "at_cost_with_approval"
    payment_days: int = 30
    late_interest: str = "the statutory rate"
    change_margin_percent: int = 10
    liability_cap: str = "the fees paid and payable under this agreement"
    non_solicitation_months: int = 12
    demo: bool = False  # the shipped demo profile: never sent to a client

    def as_dict(self) -> dict[str, Any]:
        """The contract form (terms.md), as the API and the admin page show it."""
        return {
            "legal_name": self.legal_name,
            "trading_name": self.trading_name,
            "address": self.address,
            "company_number": self.company_number,
            "signatory": {
                "name": self.signatory.name,
                "title": self.signatory.title,
                "email": self.signatory.email,
            },
            "currency": self.currency,
            "governing_law": self.governing_law,
            "service_levels": dict(self.service_levels),
            "ip_option": self.ip_option,
            "expenses": self.expenses,
            "payment_days": self.payment_days,
            "late_interest": self.late_interest,
            "change_margin_percent": self.change_margin_percent,
            "liability_cap": self.liability_cap,
            "non_solicitation_months": self.non_solicitation_months,
            "standard_clauses": [
                {k: v for k, v in vars(c).items() if v not in (None, False)}
                for c in self.standard_clauses
            ],
        }

    def missing_for_sending(self) -> list[str]:
        """What must be filled in before an agreement with this profile may be sent."""
        missing = []
        if self.demo:
            missing.append("the agency's own details (this is the shipped demo profile)")
        for label, value in (
            ("legal name", self.legal_name),
            ("address", self.address),
            ("signatory's name", self.signatory.name),
            ("signatory's title", self.signatory.title),
            ("signatory's email", self.signatory.email),
            ("governing law", self.governing_law),
        ):
            if not value.strip():
                missing.append(label)
        return missing


@cache
def _shipped() -> dict[str, Any]:
    with (DATA / "agency_default.yaml").open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def _text(data: Mapping[str, Any], key: str, path: str, errors: list, *, required: bool,
          limit: int = 300) -> str:  # fmt: skip
    value = data.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            errors.append(TermError(path, "is required"))
        return ""
    if not isinstance(value, str):
        errors.append(TermError(path, "must be text"))
        return ""
    value = " ".join(value.split())
    if len(value) > limit:
        errors.append(TermError(path, f"must be at most {limit} characters"))
    return value


def _whole(value: Any, path: str, errors: list, low: int, high: int) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
            value = int(value.strip())
        else:
            errors.append(TermError(path, f"must be a whole number from {low} to {high}"))
            return None
    if not low <= value <= high:
        errors.append(TermError(path, f"must be a whole number from {low} to {high}"))
        return None
    return value


def _choice(value: Any, path: str, errors: list, allowed: Sequence[str]) -> str | None:
    if value not in allowed:
        errors.append(TermError(path, f"must be one of: {', '.join(map(str, allowed))}"))
        return None
    return value


def service_levels(data: Any, path: str, errors: list) -> dict[str, Any]:
    """Checked service levels (any subset of :data:`SERVICE_LEVEL_KEYS`)."""
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        errors.append(TermError(path, "must be an object"))
        return {}
    out: dict[str, Any] = {}
    for key, value in data.items():
        where = f"{path}.{key}"
        if key == "response_hours":
            hours = _whole(value, where, errors, 1, 48)
            if hours is not None and hours not in RESPONSE_HOURS:
                errors.append(TermError(where, "must be one of 1, 4, 24, 48 (working hours)"))
            elif hours is not None:
                out[key] = hours
        elif key == "update_cadence":
            if _choice(value, where, errors, UPDATE_CADENCES):
                out[key] = value
        elif key == "revision_rounds":
            if (n := _whole(value, where, errors, 0, 10)) is not None:
                out[key] = n
        elif key in ("notice_days", "acceptance_days"):
            if (n := _whole(value, where, errors, 1, 365)) is not None:
                out[key] = n
        else:
            errors.append(
                TermError(where, f"is not a service level ({', '.join(SERVICE_LEVEL_KEYS)})")
            )
    return out


def _standard_clauses(items: Any, path: str, errors: list) -> tuple[StandardClause, ...]:
    if not isinstance(items, list):
        errors.append(TermError(path, "must be a list of clauses"))
        return ()
    out, seen = [], set()
    for i, item in enumerate(items):
        where = f"{path}[{i}]"
        if not isinstance(item, Mapping):
            errors.append(TermError(where, "must be an object with id, section, title and text"))
            continue
        cid = item.get("id")
        if not isinstance(cid, str) or not re.fullmatch(r"[a-z][a-z0-9_]{0,63}", cid):
            errors.append(TermError(f"{where}.id", "must be a lower-case identifier"))
            continue
        if cid in seen:
            errors.append(TermError(f"{where}.id", f"{cid} appears twice"))
        seen.add(cid)
        section = _choice(item.get("section"), f"{where}.section", errors, tuple(STANDARD_SECTIONS))
        title = _text(item, "title", f"{where}.title", errors, required=True, limit=120)
        text = _text(item, "text", f"{where}.text", errors, required=True, limit=MAX_TEXT)
        for name in PLACEHOLDER.findall(text):
            if name not in STANDARD_PLACEHOLDERS:
                errors.append(
                    TermError(
                        f"{where}.text",
                        f"unknown placeholder {{{name}}} "
                        f"(known: {', '.join(sorted(STANDARD_PLACEHOLDERS))})",
                    )  # fmt: skip
                )
        when = item.get("when")
        if when is not None and not (
            isinstance(when, str) and (_WHEN_EQ.match(when) or _WHEN_IN.match(when))
        ):
            errors.append(
                TermError(f"{where}.when", 'must read name == "value" or "value" in name')
            )
        if section:
            out.append(
                StandardClause(cid, section, title, text, when or None, bool(item.get("optional")))
            )
    return tuple(out)


def load_profile(data: Mapping[str, Any] | None = None) -> AgencyProfile:
    """An agency profile from its contract form; the shipped defaults fill the gaps.

    ``None`` gives the shipped demo profile. Raises :class:`TermsInvalid` listing every
    problem. A profile may leave out ``standard_clauses``, any service level,
    ``company_number`` and ``trading_name`` (then the legal name).
    """
    shipped = _shipped()
    demo = data is None
    data = shipped if data is None else data
    errors: list[TermError] = []
    if not isinstance(data, Mapping):
        raise TermsInvalid([TermError("profile", "must be an object")])
    legal = _text(data, "legal_name", "legal_name", errors, required=True)
    trading = _text(data, "trading_name", "trading_name", errors, required=False) or legal
    signatory = data.get("signatory") or {}
    if not isinstance(signatory, Mapping):
        errors.append(TermError("signatory", "must be an object with name, title and email"))
        signatory = {}
    currency = data.get("currency") or shipped["currency"]
    if not isinstance(currency, str) or not ISO_4217.match(currency):
        errors.append(TermError("currency", "must be an ISO 4217 code such as GBP, EUR or USD"))
    levels = dict(shipped["service_levels"])
    levels.update(service_levels(data.get("service_levels"), "service_levels", errors))
    clauses = data.get("standard_clauses")
    standard = _standard_clauses(
        shipped["standard_clauses"] if clauses is None else clauses, "standard_clauses", errors
    )
    extra: dict[str, Any] = {}
    for key, low, high in (
        ("payment_days", 0, 365),
        ("change_margin_percent", 0, 100),
        ("non_solicitation_months", 1, 36),
    ):
        value = data.get(key, shipped[key])
        if (n := _whole(value, key, errors, low, high)) is not None:
            extra[key] = n
    for key, allowed in (("ip_option", IP_OPTIONS), ("expenses", EXPENSES)):
        if _choice(data.get(key, shipped[key]), key, errors, allowed):
            extra[key] = data.get(key, shipped[key])
    for key in ("late_interest", "liability_cap"):
        extra[key] = _text(data, key, key, errors, required=False) or shipped[key]
    profile = AgencyProfile(
        legal_name=legal,
        trading_name=trading,
        address=_text(data, "address", "address", errors, required=False),
        company_number=_text(data, "company_number", "company_number", errors, required=False),
        signatory=Signatory(
            _text(signatory, "name", "signatory.name", errors, required=False, limit=120),
            _text(signatory, "title", "signatory.title", errors, required=False, limit=120),
            _text(signatory, "email", "signatory.email", errors, required=False, limit=254),
        ),
        currency=currency if isinstance(currency, str) else "GBP",
        governing_law=_text(data, "governing_law", "governing_law", errors, required=False)
        or shipped["governing_law"],
        service_levels=levels,
        standard_clauses=standard,
        demo=demo,
        **extra,
    )
    if errors:
        raise TermsInvalid(errors)
    return profile


@cache
def default_profile() -> AgencyProfile:
    """The shipped demo profile (what the command line uses without ``--agency``)."""
    return load_profile(None)


# --- the terms of one engagement ----------------------------------------------------------


def _money(value: Any, path: str, errors: list) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, str | int):
        errors.append(TermError(path, 'must be an amount written as text, such as "24000.00"'))
        return None
    text = str(value).strip().replace(",", "")
    if not MONEY.match(text):
        errors.append(TermError(path, 'must be an amount such as "24000.00" (up to two decimals)'))
        return None
    return Decimal(text)


def _date(value: Any, path: str, errors: list) -> dt.date | None:
    if value in (None, ""):
        return None
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        errors.append(TermError(path, "must be a date written YYYY-MM-DD"))
        return None


def _list_of_text(value: Any, path: str, errors: list) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        errors.append(TermError(path, "must be a list of short texts"))
        return ()
    if len(value) > MAX_ITEMS:
        errors.append(TermError(path, f"may hold at most {MAX_ITEMS} items"))
    out = []
    for i, item in enumerate(value[:MAX_ITEMS]):
        if not isinstance(item, str) or not item.strip():
            errors.append(TermError(f"{path}[{i}]", "must be a short text"))
        elif len(item) > 300:
            errors.append(TermError(f"{path}[{i}]", "must be at most 300 characters"))
        else:
            out.append(" ".join(item.split()))
    return tuple(out)


@dataclass(frozen=True)
class Fee:
    model: str
    amounts: Mapping[str, Decimal]  # the money keys of the model


@dataclass(frozen=True)
class Instalment:
    when: str  # on_signing, on_completion, monthly, phase:<name>
    percent: int


@dataclass(frozen=True)
class ClauseChanges:
    add: tuple[Mapping[str, str], ...] = ()
    remove: tuple[Mapping[str, str], ...] = ()
    replace: tuple[Mapping[str, str], ...] = ()

    def as_dict(self) -> dict[str, list[dict[str, str]]]:
        return {
            "add": [dict(x) for x in self.add],
            "remove": [dict(x) for x in self.remove],
            "replace": [dict(x) for x in self.replace],
        }


@dataclass(frozen=True)
class EngagementTerms:
    """The account manager's terms for one engagement; every key may be missing."""

    currency: str | None = None
    fee: Fee | None = None
    payment_schedule: tuple[Instalment, ...] = ()
    payment_days: int | None = None
    start_date: dt.date | None = None
    launch_date: dt.date | None = None
    valid_until: dt.date | None = None
    deliverables: tuple[str, ...] = ()
    exclusions: tuple[str, ...] = ()
    client_responsibilities: tuple[str, ...] = ()
    expenses: str | None = None
    ip_option: str | None = None
    supplements: tuple[str, ...] | None = None
    service_levels: Mapping[str, Any] = field(default_factory=dict)
    clauses: ClauseChanges = field(default_factory=ClauseChanges)
    safeguard: str | None = None  # the concrete safeguard for the client's biggest worry
    extra: Mapping[str, Any] = field(default_factory=dict)  # keys this version does not know

    def as_dict(self) -> dict[str, Any]:
        """The contract form (terms.md), with only the keys that are set."""
        out: dict[str, Any] = {}
        if self.currency:
            out["currency"] = self.currency
        if self.fee:
            out["fee"] = {"model": self.fee.model} | {
                k: _plain(v) for k, v in self.fee.amounts.items()
            }
        if self.payment_schedule:
            out["payment_schedule"] = [
                {"when": p.when, "percent": p.percent} for p in self.payment_schedule
            ]
        if self.payment_days is not None:
            out["payment_days"] = self.payment_days
        for key in ("start_date", "launch_date", "valid_until"):
            if getattr(self, key):
                out[key] = getattr(self, key).isoformat()
        for key in ("deliverables", "exclusions", "client_responsibilities"):
            if getattr(self, key):
                out[key] = list(getattr(self, key))
        for key in ("expenses", "ip_option", "safeguard"):
            if getattr(self, key):
                out[key] = getattr(self, key)
        if self.supplements is not None:
            out["supplements"] = list(self.supplements)
        if self.service_levels:
            out["service_levels"] = dict(self.service_levels)
        changes = self.clauses.as_dict()
        if any(changes.values()):
            out["clauses"] = {k: v for k, v in changes.items() if v}
        return out


def _plain(amount: Decimal) -> str:
    """A decimal as the contract writes money: ``"24000.00"`` (days stay whole)."""
    if amount == amount.to_integral_value() and amount.as_tuple().exponent >= 0:
        return str(amount)
    return str(amount.quantize(Decimal("0.01")))


def _clause_changes(data: Any, errors: list) -> ClauseChanges:
    if data is None:
        return ClauseChanges()
    if not isinstance(data, Mapping):
        errors.append(TermError("clauses", "must be an object with add, remove and replace"))
        return ClauseChanges()
    out: dict[str, list[dict[str, str]]] = {"add": [], "remove": [], "replace": []}
    for key in data:
        if key not in out:
            errors.append(TermError(f"clauses.{key}", "must be add, remove or replace"))
    for kind, needs in (
        ("add", ("section", "title", "text")),
        ("remove", ("id", "reason")),
        ("replace", ("id", "text", "reason")),
    ):
        items = data.get(kind) or []
        if not isinstance(items, list):
            errors.append(TermError(f"clauses.{kind}", "must be a list"))
            continue
        for i, item in enumerate(items[:MAX_ITEMS]):
            where = f"clauses.{kind}[{i}]"
            if not isinstance(item, Mapping):
                errors.append(TermError(where, f"must be an object with {', '.join(needs)}"))
                continue
            entry = {}
            for key in needs + (("title",) if kind == "replace" else ()):
                limit = MAX_TEXT if key == "text" else 300
                value = _text(item, key, f"{where}.{key}", errors,
                              required=key in needs, limit=limit)  # fmt: skip
                if value:
                    entry[key] = value
            if kind == "add" and item.get("section") not in (None, ""):
                from onboarding.domain.playbooks import SECTIONS

                known = tuple(SECTIONS) + tuple(STANDARD_SECTIONS)
                if item.get("section") not in known:
                    errors.append(
                        TermError(f"{where}.section", f"must be one of: {', '.join(known)}")
                    )
            out[kind].append(entry)
    return ClauseChanges(*(tuple(out[k]) for k in ("add", "remove", "replace")))


TERM_KEYS = (
    "currency", "fee", "payment_schedule", "payment_days", "start_date", "launch_date",
    "valid_until", "deliverables", "exclusions", "client_responsibilities", "expenses",
    "ip_option", "supplements", "service_levels", "clauses", "safeguard",
)  # fmt: skip


def parse_terms(data: Mapping[str, Any] | None) -> EngagementTerms:
    """Check an engagement's terms (terms.md); raise :class:`TermsInvalid` with every
    problem at once. Every key is optional: without ``fee``, ``payment_schedule`` and
    ``start_date`` the agreement is a draft."""
    if data is None:
        return EngagementTerms()
    if not isinstance(data, Mapping):
        raise TermsInvalid([TermError("terms", "must be an object")])
    errors: list[TermError] = []
    for key in data:
        if key not in TERM_KEYS:
            errors.append(TermError(key, f"is not a term (known: {', '.join(TERM_KEYS)})"))
    currency = data.get("currency")
    if currency is not None and (not isinstance(currency, str) or not ISO_4217.match(currency)):
        errors.append(TermError("currency", "must be an ISO 4217 code such as GBP, EUR or USD"))
        currency = None
    fee = None
    raw_fee = data.get("fee")
    if raw_fee is not None:
        if not isinstance(raw_fee, Mapping):
            errors.append(TermError("fee", "must be an object with a model and its amounts"))
        elif _choice(raw_fee.get("model"), "fee.model", errors, tuple(FEE_MODELS)):
            required, optional = FEE_MODELS[raw_fee["model"]]
            amounts = {}
            for key in required + optional:
                if raw_fee.get(key) in (None, ""):
                    if key in required:
                        errors.append(TermError(f"fee.{key}", "is required for this fee model"))
                    continue
                if key in ("estimate_days", "months"):
                    n = _whole(raw_fee[key], f"fee.{key}", errors, 1, 1000)
                    if n is not None:
                        amounts[key] = Decimal(n)
                elif (money := _money(raw_fee[key], f"fee.{key}", errors)) is not None:
                    if money <= 0:
                        errors.append(TermError(f"fee.{key}", "must be more than zero"))
                    amounts[key] = money
            for key in raw_fee:
                if key != "model" and key not in required + optional:
                    errors.append(TermError(f"fee.{key}", "does not belong to this fee model"))
            fee = Fee(raw_fee["model"], amounts)
    schedule: list[Instalment] = []
    raw_schedule = data.get("payment_schedule")
    if raw_schedule is not None:
        if not isinstance(raw_schedule, list) or not raw_schedule:
            errors.append(TermError("payment_schedule", "must be a list of instalments"))
        else:
            total = 0
            for i, item in enumerate(raw_schedule[:24]):
                where = f"payment_schedule[{i}]"
                if not isinstance(item, Mapping):
                    errors.append(TermError(where, "must be an object with when and percent"))
                    continue
                when = item.get("when")
                if not isinstance(when, str) or not (
                    when in PAYMENT_WHEN or (when.startswith("phase:") and len(when) > 6)
                ):
                    errors.append(
                        TermError(
                            f"{where}.when",
                            "must be on_signing, on_completion, monthly or phase:<phase name>",
                        )  # fmt: skip
                    )
                    when = None
                percent = _whole(item.get("percent"), f"{where}.percent", errors, 1, 100)
                if percent is not None:
                    total += percent
                if when and percent is not None:
                    schedule.append(Instalment(when, percent))
            if total != 100 and len(schedule) == len(raw_schedule):
                errors.append(
                    TermError(
                        "payment_schedule", f"percents must add up to 100 (they add up to {total})"
                    )
                )
    payment_days = None
    if data.get("payment_days") is not None:
        payment_days = _whole(data["payment_days"], "payment_days", errors, 0, 365)
    dates = {k: _date(data.get(k), k, errors) for k in ("start_date", "launch_date", "valid_until")}
    if dates["start_date"] and dates["launch_date"] and dates["launch_date"] <= dates["start_date"]:
        errors.append(TermError("launch_date", "must be after the start date"))
    expenses = data.get("expenses")
    if expenses is not None:
        expenses = _choice(expenses, "expenses", errors, EXPENSES)
    ip_option = data.get("ip_option")
    if ip_option is not None:
        ip_option = _choice(ip_option, "ip_option", errors, IP_OPTIONS)
    supplements = data.get("supplements")
    if supplements is not None:
        if not isinstance(supplements, list):
            errors.append(TermError("supplements", f"must be a list of: {', '.join(SUPPLEMENTS)}"))
            supplements = None
        else:
            for i, s in enumerate(supplements):
                _choice(s, f"supplements[{i}]", errors, SUPPLEMENTS)
            supplements = tuple(s for s in SUPPLEMENTS if s in supplements)
    safeguard = _text(data, "safeguard", "safeguard", errors, required=False, limit=1000) or None
    terms = EngagementTerms(
        currency=currency,
        fee=fee,
        payment_schedule=tuple(schedule),
        payment_days=payment_days,
        start_date=dates["start_date"],
        launch_date=dates["launch_date"],
        valid_until=dates["valid_until"],
        deliverables=_list_of_text(data.get("deliverables"), "deliverables", errors),
        exclusions=_list_of_text(data.get("exclusions"), "exclusions", errors),
        client_responsibilities=_list_of_text(
            data.get("client_responsibilities"), "client_responsibilities", errors
        ),
        expenses=expenses,
        ip_option=ip_option,
        supplements=supplements,
        service_levels=service_levels(data.get("service_levels"), "service_levels", errors),
        clauses=_clause_changes(data.get("clauses"), errors),
        safeguard=safeguard,
    )
    if errors:
        raise TermsInvalid(errors)
    return terms


# --- resolved terms -----------------------------------------------------------------------

RESPONSE_WORDS = {
    1: "within one working hour",
    4: "within four working hours",
    24: "within one working day",
    48: "within two working days",
}

STANDARD_PLACEHOLDERS = frozenset(
    {
        "agency", "client", "payment_days", "late_interest", "acceptance_days",
        "revision_rounds", "notice_days", "change_margin_percent", "liability_cap",
        "non_solicitation_months", "governing_law", "currency", "response_hours",
    }
)  # fmt: skip
"""The values a standard clause may name (each decided once, in the resolved terms)."""


def money(amount: Decimal, currency: str) -> str:
    """``£24,000.00``; a currency without a symbol is written ``24,000.00 CHF``."""
    amount = amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    text = f"{amount:,.2f}"
    symbol = CURRENCY_SYMBOLS.get(currency)
    return f"{symbol}{text}" if symbol else f"{text} {currency}"


def plural(n: int, one: str, many: str | None = None) -> str:
    """``1 round``, ``3 rounds``."""
    return f"{n} {one if n == 1 else (many or one + 's')}"


def default_supplements(answers: Mapping[str, Any]) -> tuple[str, ...]:
    """The discipline terms the answers' project type calls for."""
    return SUPPLEMENT_BY_PROJECT.get(answers.get("project_type") or "", ())


def is_draft(terms: EngagementTerms) -> bool:
    """An agreement without fee, payment schedule and start date is a draft."""
    return not (terms.fee and terms.payment_schedule and terms.start_date)


def values(
    profile: AgencyProfile, terms: EngagementTerms, answers: Mapping[str, Any]
) -> dict[str, Any]:
    """The resolved values, by name: what every clause and figure reads.

    Service levels are the agency's (profile), unless this engagement's terms set
    another; the client's wishes appear only as ``asked_*``.
    """
    levels = dict(profile.service_levels) | dict(terms.service_levels)
    currency = terms.currency or profile.currency
    supplements = (
        terms.supplements if terms.supplements is not None else default_supplements(answers)
    )
    asked_hours = answers.get("expected_response_hours")
    return {
        "agency": profile.trading_name,
        "client": answers.get("company") or "the Client",
        "currency": currency,
        "payment_days": terms.payment_days
        if terms.payment_days is not None
        else profile.payment_days,
        "late_interest": profile.late_interest,
        "change_margin_percent": profile.change_margin_percent,
        "liability_cap": profile.liability_cap,
        "non_solicitation_months": profile.non_solicitation_months,
        "governing_law": profile.governing_law,
        "expenses": terms.expenses or profile.expenses,
        "ip_option": terms.ip_option or profile.ip_option,
        "supplements": tuple(supplements),
        "response_hours": levels["response_hours"],
        "response_time": RESPONSE_WORDS.get(levels["response_hours"], "within one working day"),
        "update_cadence_key": levels["update_cadence"],
        "revision_rounds": levels["revision_rounds"],
        "notice_days": levels["notice_days"],
        "acceptance_days": levels["acceptance_days"],
        "asked_response_hours": int(asked_hours) if asked_hours else None,
        "asked_update_cadence_key": answers.get("update_frequency"),
        "asked_revision_rounds": answers.get("revision_rounds"),
        "safeguard": terms.safeguard or "",
    }


def fill(text: str, resolved: Mapping[str, Any]) -> str:
    """A standard clause's text with its placeholders filled from the resolved values."""

    def one(m: re.Match) -> str:
        name = m.group(1)
        value = resolved.get(name)
        if name == "revision_rounds":
            return plural(int(value), "round")
        if name in ("payment_days", "notice_days"):
            return plural(int(value), "day")
        if name == "acceptance_days":
            return plural(int(value), "working day")
        if name == "non_solicitation_months":
            return plural(int(value), "month")
        if name == "response_hours":
            return plural(int(value), "working hour")
        if name == "change_margin_percent":
            return f"{value}%"
        return str(value)

    return PLACEHOLDER.sub(one, text)


def fee_lines(terms: EngagementTerms, currency: str) -> list[tuple[str, str]]:
    """The fee as (label, text) rows for the scope-and-fees table."""
    fee = terms.fee
    if fee is None:
        return [("Fee", "To be agreed: this draft states no fee")]
    a = fee.amounts
    if fee.model == "fixed":
        return [("Fee", f"{money(a['amount'], currency)}, a fixed fee for the deliverables listed")]
    if fee.model == "time_and_materials":
        days = int(a["estimate_days"])
        total = a["day_rate"] * days
        rows = [
            ("Day rate", money(a["day_rate"], currency)),
            ("Estimate", f"{plural(days, 'day')} ({money(total, currency)})"),
        ]
        if "cap" in a:
            rows.append(("Cap", f"{money(a['cap'], currency)}: no more is charged without "
                                "the Client's written approval"))  # fmt: skip
        return rows
    months = int(a["months"])
    return [
        ("Retainer", f"{money(a['monthly'], currency)} a month for {plural(months, 'month')}"),
        ("Total", money(a["monthly"] * months, currency)),
    ]


def fee_total(terms: EngagementTerms) -> Decimal | None:
    """The amount the payment schedule's percents apply to (None without a fee)."""
    fee = terms.fee
    if fee is None:
        return None
    a = fee.amounts
    if fee.model == "fixed":
        return a["amount"]
    if fee.model == "time_and_materials":
        return a.get("cap") or a["day_rate"] * a["estimate_days"]
    return a["monthly"] * a["months"]


PAYMENT_WORDS = {
    "on_signing": "On signing",
    "on_completion": "On completion",
    "monthly": "Monthly, in arrears",
}


def instalment_rows(terms: EngagementTerms, currency: str) -> list[tuple[str, str]]:
    """The payment schedule as (when, amount) rows."""
    total = fee_total(terms)
    rows = []
    for p in terms.payment_schedule:
        when = PAYMENT_WORDS.get(p.when) or f"At the end of the {p.when[6:]} phase"
        amount = f"{p.percent}%"
        if total is not None:
            share = (total * p.percent / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
            amount = f"{p.percent}% ({money(share, currency)})"
        rows.append((when, amount))
    return rows


def as_decimal(value: str) -> Decimal:
    """A money string as a Decimal (for callers holding contract JSON)."""
    try:
        return Decimal(value)
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {value!r}") from exc
