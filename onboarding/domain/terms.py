"""What turns a tailored draft into a contract: the agency profile, the terms of one
engagement, and the one *resolved terms* object every clause reads (pure Python).

Contract: ``shared/spec/terms.md``. Three layers, resolved once by :func:`values`:

1. the **agency profile** (:func:`load_profile`; the shipped defaults in
   ``domain/data/agency_default.yaml`` fill what a profile leaves out);
2. the **playbooks**, which choose among what the agency offers (they never turn a
   client's wish into the agency's promise: a wish is quoted only as ``asked_*``);
3. the **terms of this engagement** (:func:`parse_terms`), entered by the account
   manager; a value set there wins.

Each term of an engagement is a row of the term table (``domain/data/terms.yaml``,
read by :mod:`onboarding.domain.term_fields`): its type, bounds and choices drive the
checks here, how it is resolved (the agency's value when unset) and how a standard
clause writes it (``{payment_days}`` reads "30 days"). Adding a simple term is a row
there plus the clause text that names it.

Errors come all at once, each with a ``field`` path such as
``payment_schedule[1].percent`` (:class:`TermsInvalid`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from typing import Any

import yaml

from onboarding.domain import options as options_mod
from onboarding.domain.resources import DATA
from onboarding.domain.term_fields import TermField, table

_TABLE = table()  # the shipped table: the module-level names below are read from it
SERVICE_LEVEL_KEYS = tuple(f.name for f in _TABLE.members("service_levels"))
RESPONSE_HOURS = tuple(_TABLE.row("service_levels.response_hours").get("one_of"))  # type: ignore[union-attr]
UPDATE_CADENCES = tuple(_TABLE.row("service_levels.update_cadence").choices)  # type: ignore[union-attr]
FEE_MODELS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = _TABLE.fee_models
"""model: (required money keys, optional money keys), from the table's fee rows."""
PAYMENT_WHEN = ("on_signing", "on_completion", "monthly")
EXPENSES = tuple(_TABLE.row("expenses").choices)  # type: ignore[union-attr]
IP_OPTIONS = tuple(_TABLE.row("ip_option").choices)  # type: ignore[union-attr]
SUPPLEMENTS = tuple(_TABLE.row("supplements").choices)  # type: ignore[union-attr]
PROFILE_NUMBERS = (
    ("payment_days", 0, 365),
    ("change_margin_percent", 0, 100),
    ("non_solicitation_months", 1, 36),
    ("cancellation_fee_percent", 0, 100),
    ("escalation_days", 1, 30),
)
"""The agency profile's whole-number settings, with their bounds."""
SUPPLEMENT_BY_PROJECT = {
    "website": ("interactive",),
    "product_design": ("interactive",),
    "campaign": (),
    "content": (),
    "branding": (),
}
"""The discipline terms an engagement gets from its project type alone, when neither the
answers nor the terms list what it delivers (print and motion terms need a deliverable
that is printed or moves: :func:`default_supplements`)."""

SUPPLEMENT_BY_DELIVERABLE = {
    "website": ("interactive",),
    "ecommerce": ("interactive",),
    "app": ("interactive",),
    "broadcast_video": ("motion",),
    "online_video": ("motion",),
    "print_packaging": ("print",),
    "events": ("environmental",),
}
"""The discipline terms each of the questionnaire's ``deliverables`` calls for."""

SUPPLEMENT_WORDS: dict[str, re.Pattern[str]] = {
    "print": re.compile(
        r"\b(print(ed|ing)?|print-ready|packaging|brochures?|leaflets?|flyers?|posters?|"
        r"stationery|business cards?|catalogues?|catalogs?|labels?|magazines?)\b",
        re.IGNORECASE,
    ),
    "motion": re.compile(
        r"\b(videos?|animations?|animated|motion|film(s|ed)?|footage|commercials?|"
        r"TV spots?|cinema ads?|gifs?)\b",
        re.IGNORECASE,
    ),
    "interactive": re.compile(
        r"\b(websites?|web ?sites?|apps?|online shops?|"
        r"e-?commerce|web applications?|digital products?|microsites?)\b",
        re.IGNORECASE,
    ),
    "environmental": re.compile(
        r"\b(signage|shop ?fronts?|exhibitions?|(exhibition|trade ?show|event) stands?|"
        r"interiors?|wayfinding|installations?|events?|pop-ups?)\b",
        re.IGNORECASE,
    ),
}
"""Words in the terms' own ``deliverables`` that call for each discipline's terms."""

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
_WHEN_EQ = re.compile(r'^\s*([a-z_]+)\s*(==|!=)\s*"([a-z_]+)"\s*$')
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
        """Whether the clause belongs in an agreement with these resolved values (every
        part of a condition joined by ``and`` holds)."""
        if not self.when:
            return True
        return all(_holds(part, values) for part in self.when.split(" and "))


def _holds(condition: str, values: Mapping[str, Any]) -> bool:
    m = _WHEN_EQ.match(condition)
    if m:
        equal = values.get(m.group(1)) == m.group(3)
        return equal if m.group(2) == "==" else not equal
    m = _WHEN_IN.match(condition)
    if m:
        return m.group(1) in (values.get(m.group(2)) or ())
    return False  # pragma: no cover - refused when the profile loads


def _valid_when(when: Any) -> bool:
    """A standard clause's condition: ``name == "value"``, ``name != "value"`` or
    ``"value" in name``, several joined by ``and``."""
    return isinstance(when, str) and all(
        _WHEN_EQ.match(part) or _WHEN_IN.match(part) for part in when.split(" and ")
    )


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
    late_interest_percent: str = ""  # "8": a yearly rate (late_interest_base: over what)
    late_interest_base: str = ""
    cancellation_fee_percent: int = 0
    non_refundable_deposit: bool = False
    non_solicitation: bool = True
    insurance_cover: str = ""
    data_protection_cap: str = ""
    legal_form: str = ""  # "private limited company", "limited liability partnership"
    registration_label: str = ""  # "LLP number"; blank: from the legal form or name
    vat_number: str = ""
    escalation_days: int = 5  # working days for each step of an escalation or dispute
    demo: bool = False  # the shipped demo profile: never sent to a client
    options: tuple[options_mod.RateOption, ...] = ()  # the rate card (proposal.md)

    def as_dict(self) -> dict[str, Any]:
        """The contract form (terms.md), as the API and the admin page show it."""
        return {
            "legal_name": self.legal_name,
            "trading_name": self.trading_name,
            "address": self.address,
            "company_number": self.company_number,
            **{  # the optional legal details, when set
                key: getattr(self, key)
                for key in ("legal_form", "registration_label", "vat_number")
                if getattr(self, key)
            },
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
            "late_interest_percent": self.late_interest_percent,
            "late_interest_base": self.late_interest_base,
            "cancellation_fee_percent": self.cancellation_fee_percent,
            "non_refundable_deposit": self.non_refundable_deposit,
            "non_solicitation": self.non_solicitation,
            "insurance_cover": self.insurance_cover,
            "data_protection_cap": self.data_protection_cap,
            "escalation_days": self.escalation_days,
            "standard_clauses": [
                {k: v for k, v in vars(c).items() if v not in (None, False)}
                for c in self.standard_clauses
            ],
            "options": [o.as_dict() for o in self.options],
        }

    def option(self, oid: str) -> options_mod.RateOption | None:
        """The rate card's option of this id (None when the card has none)."""
        return next((o for o in self.options if o.id == oid), None)

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
        # libyaml's safe loader where PyYAML has it: the same data, ~10x faster (every
        # process reads this file once, on its first assessment or page).
        return yaml.load(fh, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506


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


def _standard_clauses(items: Any, path: str, errors: list) -> tuple[StandardClause, ...]:
    if not isinstance(items, list):
        errors.append(TermError(path, "must be a list of clauses"))
        return ()
    out, seen = [], set()
    known = standard_placeholders()
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
            if name not in known:
                errors.append(
                    TermError(
                        f"{where}.text",
                        f"unknown placeholder {{{name}}} (known: {', '.join(sorted(known))})",
                    )  # fmt: skip
                )
        when = item.get("when")
        if when is not None and not _valid_when(when):
            errors.append(
                TermError(
                    f"{where}.when",
                    'must read name == "value", name != "value" or "value" in name '
                    '(several joined by "and")',
                )
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
    for key, low, high in PROFILE_NUMBERS:
        value = data.get(key, shipped[key])
        if (n := _whole(value, key, errors, low, high)) is not None:
            extra[key] = n
    for key, allowed in (("ip_option", IP_OPTIONS), ("expenses", EXPENSES)):
        if _choice(data.get(key, shipped[key]), key, errors, allowed):
            extra[key] = data.get(key, shipped[key])
    for key in ("late_interest", "liability_cap", "insurance_cover", "data_protection_cap"):
        extra[key] = _text(data, key, key, errors, required=False) or shipped.get(key, "")
    extra["late_interest_base"] = (
        _text(data, "late_interest_base", "late_interest_base", errors, required=False)
        if "late_interest_base" in data
        else shipped.get("late_interest_base", "")
    )
    rate = data.get("late_interest_percent", shipped.get("late_interest_percent"))
    if "late_interest" in data and "late_interest_percent" not in data:
        rate = None  # the profile words its own rate
    if rate not in (None, ""):
        text = str(rate).strip()
        if isinstance(rate, bool) or not re.fullmatch(r"\d{1,2}(\.\d{1,2})?", text):
            errors.append(
                TermError("late_interest_percent", "must be a yearly rate such as 8 or 4.5")
            )
        else:
            extra["late_interest_percent"] = text
    for key in ("non_refundable_deposit", "non_solicitation"):
        flag = data.get(key, shipped.get(key))
        if flag is not None and not isinstance(flag, bool):
            errors.append(TermError(key, "must be true or false"))
        elif flag is not None:
            extra[key] = flag
    for key, limit in (("legal_form", 80), ("registration_label", 40), ("vat_number", 40)):
        extra[key] = _text(data, key, key, errors, required=False, limit=limit)
    card, problems = options_mod.parse_card(data.get("options"), "options", _option_levels)
    errors += [TermError(f, m) for f, m in problems]
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
        options=card,
        **extra,
    )
    if errors:
        raise TermsInvalid(errors)
    return profile


def _option_levels(data: Any, path: str) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """An option's ``sets``, checked as service levels (the term table's rows)."""
    errors: list[TermError] = []
    checked = service_levels(data, path, errors)
    return checked, [(e.field, e.message) for e in errors]


@cache
def default_profile() -> AgencyProfile:
    """The shipped demo profile (what the command line uses without ``--agency``)."""
    return load_profile(None)


# --- the terms of one engagement ----------------------------------------------------------


_MONEY_MARK = re.compile(r"^(?:[£$€]|[A-Z]{3})\s*|\s*(?:[£$€]|[A-Z]{3})$")
_GROUPED = re.compile(r"^\d{1,3}(?:(,)\d{3})+$|^\d{1,3}(?:( )\d{3})+$", re.ASCII)
_COMMA_DECIMALS = re.compile(r"^[\d. ]*\d,\d{1,2}$", re.ASCII)
_POINT_THOUSANDS = re.compile(r"^\d{1,3}(?:\.\d{3})+$", re.ASCII)
CENTS = Decimal("0.01")
MONEY_EXAMPLE = 'such as "24000", "24,000.50" or "£24 000"'


def read_money(value: str) -> Decimal:
    """An amount as people type it: ``24000``, ``24000.5``, ``24,000.50``, ``24 000``,
    ``£24,000`` or ``24000 GBP`` (a currency sign or ISO code before or after is
    allowed and ignored: the terms' ``currency`` says which). Commas or spaces group the
    thousands (in threes, one kind per amount); a point marks the decimals (at most two).
    Ambiguous input is refused, never guessed: a comma before the last one or two
    digits (``24,5``, ``1.234,50``: decimals written the continental way) and points
    grouping thousands (``1.234``). Raises ValueError with what to write instead (a
    phrase after the field's name: "must be ...")."""
    text = " ".join(value.replace("\u00a0", " ").replace("\u202f", " ").split())
    text = _MONEY_MARK.sub("", text, count=1).strip()
    if _COMMA_DECIMALS.match(text):
        raise ValueError(
            'must use a point for the decimals, not a comma: write "1250.50" or "1,250.50"'
        )
    if _POINT_THOUSANDS.match(text):
        raise ValueError(
            "is ambiguous: a point marks the decimals (at most two), so write a thousand as "
            '"1000" or "1,000"'
        )
    whole, point, decimals = text.partition(".")
    if _GROUPED.match(whole):
        whole = whole.replace(",", "").replace(" ", "")
    elif "," in whole or " " in whole:
        raise ValueError(f"must group its thousands in threes, {MONEY_EXAMPLE}")
    plain = whole + point + decimals
    if not MONEY.match(plain):
        raise ValueError(f"must be an amount {MONEY_EXAMPLE} (up to two decimals)")
    return Decimal(plain).quantize(CENTS)  # "24000" is stored as "24000.00"


def _money(value: Any, path: str, errors: list) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, str | int):
        errors.append(TermError(path, 'must be an amount written as text, such as "24000.00"'))
        return None
    try:
        return read_money(str(value))
    except ValueError as exc:
        errors.append(TermError(path, str(exc)))
        return None


def _number(value: Any, path: str, errors: list) -> Decimal | None:
    """A count that may have decimals (an allowance of 7.5 hours)."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        errors.append(TermError(path, "must be a number such as 6 or 7.5"))
        return None
    text = repr(value) if isinstance(value, float) else str(value).strip()
    if not re.fullmatch(r"\d{1,6}(\.\d{1,2})?", text, re.ASCII):
        errors.append(TermError(path, "must be a number such as 6 or 7.5 (up to two decimals)"))
        return None
    return Decimal(text)


EARLIEST_DATE, LATEST_DATE = dt.date(1900, 1, 1), dt.date(2099, 12, 31)
"""The dates an engagement's terms may hold: a plan computed from a year-9999 start date
overflows the calendar (and no agreement runs that far)."""


def _date(value: Any, path: str, errors: list) -> dt.date | None:
    if value in (None, ""):
        return None
    try:
        day = dt.date.fromisoformat(str(value).strip())
    except ValueError:
        errors.append(TermError(path, "must be a date written YYYY-MM-DD"))
        return None
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        errors.append(TermError(path, "must be a date from 1900-01-01 to 2099-12-31"))
        return None
    return day


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
        items = data.get(kind)
        items = [] if items is None else items  # {} or "" is no list: refused below
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
                from onboarding.domain.sections import SECTIONS

                known = tuple(SECTIONS) + tuple(STANDARD_SECTIONS)
                if item.get("section") not in known:
                    errors.append(
                        TermError(f"{where}.section", f"must be one of: {', '.join(known)}")
                    )
            out[kind].append(entry)
    return ClauseChanges(*(tuple(out[k]) for k in ("add", "remove", "replace")))


def _empty(row: TermField) -> Any:
    """What an unset term reads as on :class:`EngagementTerms`."""
    if row.type in ("list", "schedule"):
        return ()
    if row.type == "group":
        return {}
    if row.type == "clauses":
        return ClauseChanges()
    if row.type == "options":
        return options_mod.OptionChanges()
    return None


@dataclass(frozen=True)
class EngagementTerms:
    """The account manager's terms for one engagement; every key may be missing.

    ``by_key`` holds the checked values of the terms that are set, by the table's key
    (:mod:`~onboarding.domain.term_fields`); each term also reads as an attribute
    (``terms.payment_schedule``), an unset one as empty (None, ``()``, ``{}``).
    """

    by_key: Mapping[str, Any] = field(default_factory=dict)
    rejected: tuple[TermError, ...] = ()
    """Stored terms that no longer pass the checks (left out; the agreement names them)."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name in ("by_key", "rejected"):
            raise AttributeError(name)
        row = table().row(name)
        if row is None or row.group is not None:
            raise AttributeError(f"{name!r} is not a term")
        return self.by_key[name] if name in self.by_key else _empty(row)

    def as_dict(self) -> dict[str, Any]:
        """The contract form (terms.md), with only the keys that are set."""
        out: dict[str, Any] = {}
        for row in table().top:
            if row.key not in self.by_key:
                continue
            value = _contract_value(row, self.by_key[row.key])
            if value is not None:
                out[row.key] = value
        return out


def _contract_value(row: TermField, value: Any) -> Any:
    """A checked value in the contract's JSON form (None: leave the key out)."""
    kind = row.type
    if kind == "fee":
        out = {"model": value.model}
        for k, v in value.amounts.items():
            member = table().row(f"fee.{k}")
            if member is not None and member.type == "number" and isinstance(v, Decimal):
                out[k] = format(v.normalize(), "f")  # an allowance reads as given: "7.5"
            else:
                out[k] = _json(v)
        return out
    if kind == "schedule":
        return [{"when": p.when, "percent": p.percent} for p in value] or None
    if kind == "clauses":
        changes = value.as_dict()
        return {k: v for k, v in changes.items() if v} or None
    if kind == "options":
        return value.as_dict() or None
    if kind == "group":
        return dict(value) or None
    if kind == "choices":
        return list(value)
    if kind == "list":
        return list(value) or None
    if value is None or value == "":
        return None
    return _json(value)


def _json(value: Any) -> Any:
    if isinstance(value, Decimal):
        return _plain(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _scalar(row: TermField, value: Any, path: str, errors: list) -> Any:
    """One checked value of a row (None when it does not check: the error is noted)."""
    kind = row.type
    if kind == "currency":
        if not isinstance(value, str) or not ISO_4217.match(value):
            errors.append(TermError(path, "must be an ISO 4217 code such as GBP, EUR or USD"))
            return None
        return value
    if kind == "money":
        amount = _money(value, path, errors)
        if amount is not None and row.get("positive") and amount <= 0:
            errors.append(TermError(path, "must be more than zero"))
        return amount
    if kind == "number":
        number = _number(value, path, errors)
        if number is not None and row.get("positive") and number <= 0:
            errors.append(TermError(path, "must be more than zero"))
        return number
    if kind == "whole":
        n = _whole(value, path, errors, row.get("min"), row.get("max"))
        one_of = row.get("one_of")
        if n is not None and one_of and n not in one_of:
            message = row.get("one_of_message") or f"must be one of {', '.join(map(str, one_of))}"
            errors.append(TermError(path, message))
            return None
        return n
    if kind == "date":
        return _date(value, path, errors)
    if kind == "choice":
        return _choice(value, path, errors, tuple(row.choices))
    if kind == "choices":
        allowed = tuple(row.choices)
        if not isinstance(value, list):
            errors.append(TermError(path, f"must be a list of: {', '.join(allowed)}"))
            return None
        for i, item in enumerate(value):
            _choice(item, f"{path}[{i}]", errors, allowed)
        return tuple(c for c in allowed if c in value)
    if kind == "text":
        holder = {"v": value}
        return _text(holder, "v", path, errors, required=False, limit=row.get("limit", 300)) or None
    if kind == "person":
        return _person(value, path, errors)
    if kind == "list":
        return _list_of_text(value, path, errors)
    raise ValueError(f"{row.key}: {kind} is not a scalar type")  # pragma: no cover


PERSON_KEYS = ("name", "title", "email")
"""The members of a person (a party's signatory)."""


def _person(value: Any, path: str, errors: list) -> dict[str, str] | None:
    """A person: any of name, title and email (None when none is given)."""
    if not isinstance(value, Mapping):
        errors.append(TermError(path, "must be an object with name, title and email"))
        return None
    out = {}
    for key in value:
        if key not in PERSON_KEYS:
            errors.append(TermError(f"{path}.{key}", "is not one of (name, title, email)"))
    for key in PERSON_KEYS:
        limit = 254 if key == "email" else 120
        text = _text(value, key, f"{path}.{key}", errors, required=False, limit=limit)
        if key == "email" and text and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", text):
            errors.append(TermError(f"{path}.{key}", "must be an email address"))
            continue
        if text:
            out[key] = text
    return out or None


def group_values(group: str, data: Any, path: str, errors: list) -> dict[str, Any]:
    """The checked members of an object term (``service_levels``), any subset."""
    if data is None:
        return {}
    head = table().row(group)
    messages = (head.get("messages") if head else None) or {}
    if not isinstance(data, Mapping):
        errors.append(TermError(path, messages.get("not_object", "must be an object")))
        return {}
    rows = {f.name: f for f in table().members(group)}
    out: dict[str, Any] = {}
    for key, value in data.items():
        where = f"{path}.{key}"
        row = rows.get(key)
        if row is None:
            unknown = messages.get("unknown", "is not one of ({known})")
            errors.append(TermError(where, unknown.format(known=", ".join(rows))))
            continue
        checked = _scalar(row, value, where, errors)
        if checked is not None:
            out[key] = checked
    return out


def service_levels(data: Any, path: str, errors: list) -> dict[str, Any]:
    """Checked service levels (any subset of the table's ``service_levels`` rows)."""
    return group_values("service_levels", data, path, errors)


UNSET_ALLOWANCE = "to be set before signing"
"""A v1 retainer's allowance until the manager sets it (the agreement is a draft)."""

FEE_DEFAULTS = {"rate_unit": "day", "allowance_unit": "days", "rollover_percent": Decimal(0)}
"""The fee members a model's fee holds when unset (a rate per day, an allowance in days,
no unused allowance carried over)."""


def _fee(raw: Any, errors: list) -> Fee | None:
    if not isinstance(raw, Mapping):
        errors.append(TermError("fee", "must be an object with a model and its amounts"))
        return None
    current = table()
    models = current.fee_models
    if not _choice(raw.get("model"), "fee.model", errors, tuple(models)):
        return None
    model = raw["model"]
    required, optional = models[model]
    for key in raw:
        if key != "model" and key not in required + optional:
            errors.append(TermError(f"fee.{key}", "does not belong to this fee model"))
    given = {k: v for k, v in raw.items() if k != "model" and v not in (None, "")}
    # A member still accepted under an older name is read as the member it names.
    for key in list(given):
        row = current.row(f"fee.{key}")
        alias = row.get("alias_of") if row else None
        if not alias or key not in required + optional:
            continue
        if alias in given:
            errors.append(TermError(f"fee.{key}", f"give {alias} or {key}, not both"))
            given.pop(key)
            continue
        for other, value in (row.get("alias_sets") or {}).items():  # type: ignore[union-attr]
            if given.get(other, value) != value:
                errors.append(
                    TermError(f"fee.{key}", f"is a {value} rate: {other} must be {value}")
                )
            given[other] = value
        unit = row.get("alias_unit")  # type: ignore[union-attr]
        if unit and given.get("rate_unit", unit) != unit:
            errors.append(
                TermError(f"fee.{key}", f"counts {unit}s: with an hourly rate give the estimate")
            )
        given[alias] = given.pop(key)
        given[f"__from_{alias}"] = key
    amounts: dict[str, Any] = {}
    for key in required + optional:
        row = current.row(f"fee.{key}")
        if row is None or row.get("alias_of"):
            continue
        if key not in given:
            if key in required:
                errors.append(TermError(f"fee.{key}", "is required for this fee model"))
            elif key in FEE_DEFAULTS:
                amounts[key] = FEE_DEFAULTS[key]
            continue
        path = f"fee.{given.get(f'__from_{key}', key)}"
        value = _scalar(row, given[key], path, errors)
        if value is not None:
            amounts[key] = Decimal(value) if isinstance(value, int) else value
    fee = Fee(model, amounts)
    _fee_figures(fee, errors)
    return fee


def _fee_figures(fee: Fee, errors: list) -> None:
    """Figures of one fee that cannot both hold (a cap below the estimate it limits)."""
    a = fee.amounts
    discovery, amount = a.get("discovery"), a.get("amount")
    if (
        fee.model == "fixed"
        and discovery is not None
        and amount is not None
        and discovery >= amount
    ):
        errors.append(TermError("fee.discovery", "must be less than the fixed fee it is part of"))
    if fee.model == "time_and_materials" and "rate" in a and "estimate" in a:
        estimate = a["rate"] * a["estimate"]
        if "cap" in a and a["cap"] < estimate:
            errors.append(
                TermError("fee.cap", f"must be at least the estimate it limits ({estimate:,.2f})")
            )
        if "deposit" in a and a["deposit"] > a.get("cap", estimate):
            errors.append(
                TermError("fee.deposit", "must not be more than the estimate (or the cap)")
            )


def _schedule(raw: Any, errors: list) -> tuple[Instalment, ...]:
    if not isinstance(raw, list) or not raw:
        errors.append(TermError("payment_schedule", "must be a list of instalments"))
        return ()
    schedule: list[Instalment] = []
    total = 0
    for i, item in enumerate(raw[:24]):
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
    if total != 100 and len(schedule) == len(raw):
        errors.append(
            TermError("payment_schedule", f"percents must add up to 100 (they add up to {total})")
        )
    return tuple(schedule)


def parse_terms(data: Mapping[str, Any] | None) -> EngagementTerms:
    """Check an engagement's terms (terms.md) against the term table; raise
    :class:`TermsInvalid` with every problem at once. Every key is optional: without
    ``fee``, ``payment_schedule`` and ``start_date`` the agreement is a draft."""
    if data is None:
        return EngagementTerms()
    if not isinstance(data, Mapping):
        raise TermsInvalid([TermError("terms", "must be an object")])
    errors: list[TermError] = []
    keys = table().term_keys
    for key in data:
        if key not in keys:
            errors.append(TermError(key, f"is not a term (known: {', '.join(keys)})"))
    out: dict[str, Any] = {}
    for row in table().top:
        raw = data.get(row.key)
        kind = row.type
        if kind == "group":
            out[row.key] = group_values(row.key, raw, row.key, errors)
        elif kind == "clauses":
            out[row.key] = _clause_changes(raw, errors)
        elif kind == "options":
            changes, problems = options_mod.parse_changes(raw, row.key)
            errors += [TermError(f, m) for f, m in problems]
            out[row.key] = changes
        elif kind == "list":
            out[row.key] = _list_of_text(raw, row.key, errors)
        elif raw is None or (raw == "" and kind in ("date", "text")):
            continue
        elif kind == "fee":
            value = _fee(raw, errors)
        elif kind == "schedule":
            value = _schedule(raw, errors)
        else:
            value = _scalar(row, raw, row.key, errors)
        if kind in ("group", "clauses", "list", "options") or value is None:
            continue
        after = row.get("after")
        if after and out.get(after["key"]) and value <= out[after["key"]]:
            errors.append(TermError(row.key, after["message"]))
        out[row.key] = value
    fee = out.get("fee")
    if fee is not None and fee.model != "fixed" and out.get("payment_schedule"):
        how = PAYMENT_WORDS[fee.model]
        errors.append(
            TermError(
                "payment_schedule",
                f"a {FEE_NAMES[fee.model]} is invoiced {how}: it has no payment schedule "
                "(leave it out; a deposit is set as fee.deposit)"
                if fee.model == "time_and_materials"
                else f"a {FEE_NAMES[fee.model]} is invoiced {how}: it has no payment "
                "schedule (leave it out)",
            )
        )
    if errors:
        raise TermsInvalid(errors)
    return EngagementTerms(out)


TERM_KEYS = _TABLE.term_keys
"""The top-level keys of the shipped table (:func:`table` ``.term_keys`` for the one in use)."""


# --- resolved terms -----------------------------------------------------------------------

RESPONSE_WORDS: dict[int, str] = dict(_TABLE.row("service_levels.response_hours").get("words"))  # type: ignore[union-attr]
"""A reply time in words, by working hours (the table's ``words``)."""

STANDARD_PLACEHOLDERS = frozenset(_TABLE.placeholders())
"""The values a standard clause may name in the shipped table (each decided once, in
the resolved terms); :func:`standard_placeholders` for the table in use."""


def money(amount: Decimal, currency: str) -> str:
    """``£24,000.00``; a currency without a symbol is written ``24,000.00 CHF``."""
    amount = amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    text = f"{amount:,.2f}"
    symbol = CURRENCY_SYMBOLS.get(currency)
    return f"{symbol}{text}" if symbol else f"{text} {currency}"


NUMBER_WORDS = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
)  # fmt: skip
"""Whole numbers the agreement writes in words; from 11 on, in figures."""


def number_text(n: int) -> str:
    """A whole number as the agreement writes it, the one way everywhere: ``5`` ->
    ``"five"``, ``14`` -> ``"14"`` (words up to ten, figures from 11 on)."""
    return NUMBER_WORDS[n] if 0 <= n < len(NUMBER_WORDS) else str(n)


def agreed_levels(profile: AgencyProfile, terms: EngagementTerms) -> dict[str, Any]:
    """The engagement's service levels: the agency's, unless its terms set another."""
    return dict(profile.service_levels) | dict(terms.service_levels)


def plural(n: int, one: str, many: str | None = None) -> str:
    """``one round``, ``three rounds``, ``30 days`` (the number by :func:`number_text`)."""
    return f"{number_text(n)} {one if n == 1 else (many or one + 's')}"


def default_supplements(
    answers: Mapping[str, Any], deliverables: Sequence[str] = ()
) -> tuple[str, ...]:
    """The discipline terms the work calls for: from the answers' ``deliverables`` and
    the terms' own ``deliverables`` (print terms only when something is printed, motion
    terms only when video or animation is made); from the project type only when
    neither says what is delivered."""
    chosen: set[str] = set()
    for value in answers.get("deliverables") or ():
        chosen.update(SUPPLEMENT_BY_DELIVERABLE.get(value, ()))
    for text in deliverables:
        chosen.update(name for name, words in SUPPLEMENT_WORDS.items() if words.search(text))
    if not chosen and not answers.get("deliverables") and not deliverables:
        chosen.update(SUPPLEMENT_BY_PROJECT.get(answers.get("project_type") or "", ()))
    return tuple(c for c in SUPPLEMENTS if c in chosen)


def is_draft(terms: EngagementTerms) -> bool:
    """An agreement without fee, payment schedule and start date is a draft."""
    return not (
        terms.fee and (terms.payment_schedule or not schedule_needed(terms)) and terms.start_date
    )


def values(
    profile: AgencyProfile, terms: EngagementTerms, answers: Mapping[str, Any]
) -> dict[str, Any]:
    """The resolved values, by name: what every clause and figure reads.

    A term the table marks ``resolve`` is the engagement's value, else (``default:
    profile``) the agency's; service levels are the agency's (profile) unless this
    engagement's terms set another; the client's wishes appear only as ``asked_*``.
    """
    current = table()
    levels = agreed_levels(profile, terms)
    asked_hours = answers.get("expected_response_hours")
    out: dict[str, Any] = {
        "agency": profile.trading_name,
        "client": answers.get("company") or "the Client",
        "late_interest": profile.late_interest,
        "change_margin_percent": profile.change_margin_percent,
        "liability_cap": profile.liability_cap,
        "non_solicitation_months": profile.non_solicitation_months,
        "escalation_days": profile.escalation_days,
        "governing_law": profile.governing_law,
    }
    for row in current.top:
        if not row.get("resolve"):
            continue
        value = terms.by_key.get(row.key)
        if value is None and row.from_profile:
            value = getattr(profile, row.key, None)
        out[row.resolved_name] = row.get("unset") if value is None else value
    if terms.supplements is None:
        out["supplements"] = default_supplements(answers, terms.deliverables)
    out |= _commercial(profile, terms, answers)
    for row in current.members("service_levels"):
        out[row.resolved_name] = levels.get(row.name)
    hours = levels.get("response_hours")
    out["response_time"] = RESPONSE_WORDS.get(hours, "within one working day")  # type: ignore[arg-type]
    out |= {
        "asked_response_hours": int(asked_hours) if asked_hours else None,
        "asked_update_cadence_key": answers.get("update_frequency"),
        "asked_revision_rounds": answers.get("revision_rounds"),
    }
    return out


def _commercial(
    profile: AgencyProfile, terms: EngagementTerms, answers: Mapping[str, Any]
) -> dict[str, Any]:
    """The resolved values the fee model and the agency's commercial options decide:
    which variant of a standard clause applies (``fee_model``), and what a clause names
    (``minimum_months``, ``late_interest``, ``insurance_cover``...)."""
    fee = terms.fee
    model = fee.model if fee else "none"
    out: dict[str, Any] = {
        "fee_model": model,
        "cancellation_fee_percent": profile.cancellation_fee_percent,
        "insurance_cover": profile.insurance_cover or None,
        "data_protection_cap": profile.data_protection_cap or profile.liability_cap,
        "non_solicitation": "on" if profile.non_solicitation else "off",
        "insurance": "on" if profile.insurance_cover else "off",
        "signing_deposit": "off",
        "paid_discovery": "off",
        "cancellation_fee": "on" if profile.cancellation_fee_percent else "off",
        "minimum_months": None,
    }
    if profile.late_interest_percent:
        base = profile.late_interest_base
        out["late_interest"] = f"{profile.late_interest_percent}% a year" + (
            f" above {base}" if base else ""
        )
    if fee and fee.model == "fixed":
        signing = any(p.when == "on_signing" for p in terms.payment_schedule)
        if signing and profile.non_refundable_deposit:
            out["signing_deposit"] = "on"
        if "discovery" in fee.amounts:
            out["paid_discovery"] = "on"
    if fee and fee.model == "retainer":
        out["minimum_months"] = int(fee.amounts["minimum_months"])
    day = terms.launch_date or answers.get("launch_date")
    out["fixed_launch_date"] = day if day else None
    out["fixed_launch"] = "on" if day else "off"
    return out


def resolved_terms(resolved: Mapping[str, Any], terms: EngagementTerms) -> dict[str, Any]:
    """The engagement's resolved terms in contract form (``--json``'s ``resolved_terms``
    without the agency): the terms set, each resolved value in place of an unset one,
    nothing the table keeps out of them (clause changes, the safeguard)."""
    out = terms.as_dict()
    for row in table().top:
        if row.get("resolved_terms") is False:
            out.pop(row.key, None)
        elif row.get("resolve") and resolved.get(row.resolved_name) is not None:
            value = resolved[row.resolved_name]
            out[row.key] = list(value) if isinstance(value, tuple) else value
        elif row.type == "group":
            members = [m for m in table().members(row.key) if m.from_profile]
            if members:
                out[row.key] = {m.name: resolved.get(m.resolved_name) for m in members}
    return out


def standard_placeholders() -> frozenset[str]:
    """The values a standard clause may name, by the term table in use."""
    return frozenset(table().placeholders())


_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")  # fmt: skip


def written(value: Any, spec: Mapping[str, Any], resolved: Mapping[str, Any]) -> str:
    """A value as the agreement writes it (a row's ``document`` format: ``30 days``,
    ``10%``, ``£1,200.00``, ``4 May 2027``)."""
    if value is None or value == "":
        return spec.get("unset") or "to be agreed"
    form = spec.get("format", "text")
    if form == "count":
        return plural(int(value), spec["unit"])
    if form == "words":  # a row's own wording of each value ("within one working day")
        return str((spec.get("words") or {}).get(value, value))
    if form == "percent":
        return f"{value}%"
    if form == "money":
        return money(Decimal(str(value)), str(resolved.get("currency") or "GBP"))
    if form == "date":
        day = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
        return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"
    return str(value)


def fill(text: str, resolved: Mapping[str, Any]) -> str:
    """A standard clause's text with its placeholders filled from the resolved values,
    each written as the term table says."""
    specs = table().placeholders()

    def one(m: re.Match) -> str:
        name = m.group(1)
        return written(resolved.get(name), specs.get(name) or {}, resolved)

    return PLACEHOLDER.sub(one, text)


def scope_lines(terms: EngagementTerms, resolved: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The (label, text) rows the term table adds to the scope-and-fees table (after
    the fee and payment schedule), each shown when the term it depends on is set."""
    rows = []
    for row in table().fields:
        scope = row.get("scope")
        if not scope or (scope.get("if") and not terms.by_key.get(scope["if"])):
            continue
        if not scope.get("if") and terms.by_key.get(row.key) is None:
            continue
        rows.append((scope["label"], fill(scope["text"], resolved)))
    return rows


FEE_NAMES = {
    "fixed": "fixed fee",
    "time_and_materials": "time-and-materials fee",
    "retainer": "monthly retainer",
}

PAYMENT_WORDS = {
    "on_signing": "On signing",
    "on_completion": "On completion",
    "monthly": "Monthly, in arrears",
    "time_and_materials": "monthly in arrears",
    "retainer": "monthly in advance",
}


def _count(value: Decimal, unit: str) -> str:
    """``40 days``, ``7.5 hours``, ``1 day`` (a count that may have decimals)."""
    n = value.normalize() if value != value.to_integral_value() else value.to_integral_value()
    text = f"{n:,}" if n == n.to_integral_value() else f"{n:f}"
    return f"{text} {unit if n == 1 else unit + 's'}"


def rollover_rule(percent: int) -> str:
    """What happens to a retainer month's unused allowance, as a sentence."""
    if not percent:
        return "Unused allowance does not carry over: each month's allowance lapses at its end"
    if percent >= 100:
        return (
            "Unused allowance carries over to the next month only, and lapses at the end of "
            "that month"
        )
    return (
        f"Up to {percent}% of a month's unused allowance carries over to the next month "
        "only; the rest lapses at the end of the month"
    )


def fee_lines(
    terms: EngagementTerms, currency: str, notice_days: int | None = None
) -> list[tuple[str, str]]:
    """The fee as (label, text) rows, each figure labelled, stated the way the model is
    billed: a fixed fee (and any paid discovery within it); a rate, an estimate, a cap
    and a deposit invoiced monthly in arrears; a monthly fee, an allowance, a minimum
    term, renewal and unused allowance, invoiced monthly in advance."""
    fee = terms.fee
    if fee is None:
        return [("Fee", "To be agreed: this draft states no fee")]
    a = fee.amounts
    if fee.model == "fixed":
        rows = [("Fee", f"{money(a['amount'], currency)}, a fixed fee for the deliverables listed")]
        if "discovery" in a:
            rows.append(
                (
                    "Paid discovery",
                    # What is paid if either party stops at the Discovery review is
                    # the standard terms' Stopping after the paid discovery.
                    f"{money(a['discovery'], currency)}, part of the fixed fee, for the "
                    "Discovery phase",
                )
            )
        return rows
    if fee.model == "time_and_materials":
        unit = str(a.get("rate_unit") or "day")
        estimate = a["estimate"] * a["rate"]
        rows = [
            (f"{'Hourly' if unit == 'hour' else 'Day'} rate", money(a["rate"], currency)),
            (
                "Estimate",
                f"{_count(a['estimate'], unit)} ({money(estimate, currency)}), an "
                "estimate, not a fixed price",
            ),
        ]
        if "cap" in a:
            rows.append(
                (
                    "Cap",
                    f"{money(a['cap'], currency)}, a limit: time beyond it is not charged "
                    "without the Client's written approval",
                )
            )
        if "deposit" in a:
            rows.append(
                (
                    "Deposit",
                    f"{money(a['deposit'], currency)}, invoiced on signing and credited "
                    "against the invoices for time worked; any part not used when this "
                    "agreement ends is refunded",
                )
            )
        rows.append(
            ("Billing", "Time worked is invoiced monthly in arrears, with the time records")
        )
        return rows
    unit = str(a.get("allowance_unit") or "days")
    months = int(a["minimum_months"])
    notice = f"{plural(notice_days, 'day')}' written notice" if notice_days else "written notice"
    return [
        ("Monthly fee", f"{money(a['monthly'], currency)} a month, invoiced monthly in advance"),
        (
            "Monthly allowance",
            f"{_count(a['allowance'], unit[:-1])} of work a month"
            if "allowance" in a
            else UNSET_ALLOWANCE,
        ),
        (
            "Minimum term",
            f"{plural(months, 'month')} from the start date "
            f"({money(a['monthly'] * months, currency)} over the minimum term)",
        ),
        (
            "Renewal",
            f"After the minimum term, month by month until either party gives {notice}",
        ),
        ("Unused allowance", rollover_rule(int(a.get("rollover_percent") or 0))),
    ]


def fee_summary(terms: EngagementTerms, currency: str, notice_days: int | None = None) -> str:
    """The fee in one short sentence for "At a glance", each figure labelled, as the
    model is billed (the scope table holds the full rows)."""
    fee = terms.fee
    if fee is None:
        return "To be agreed"
    a = fee.amounts
    if fee.model == "fixed":
        text = f"{money(a['amount'], currency)}, a fixed fee"
        if "discovery" in a:
            text += f"; Paid discovery: {money(a['discovery'], currency)} of it"
        schedule = ", ".join(
            f"{amount} {when[:1].lower()}{when[1:]}"
            for when, amount in instalment_rows(terms, currency)
        )
        return text + (f". Payment: {schedule}" if schedule else "")
    if fee.model == "time_and_materials":
        unit = str(a.get("rate_unit") or "day")
        parts = [
            f"{'Hourly' if unit == 'hour' else 'Day'} rate: {money(a['rate'], currency)}",
            f"Estimate: {_count(a['estimate'], unit)} "
            f"({money(a['estimate'] * a['rate'], currency)})",
        ]
        if "cap" in a:
            parts.append(f"Cap: {money(a['cap'], currency)}")
        if "deposit" in a:
            parts.append(f"Deposit: {money(a['deposit'], currency)}, credited against the invoices")
        return "; ".join(parts) + ". Time worked is invoiced monthly in arrears"
    unit = str(a.get("allowance_unit") or "days")
    notice = (
        f" until either party gives {plural(notice_days, 'day')}' notice" if notice_days else ""
    )
    percent = int(a.get("rollover_percent") or 0)
    unused = (
        "does not carry over"
        if not percent
        else "carries over to the next month"
        if percent >= 100
        else f"up to {percent}% carries over to the next month"
    )
    return (
        f"Monthly fee: {money(a['monthly'], currency)}, invoiced monthly in advance; "
        "Monthly allowance: "
        + (_count(a["allowance"], unit[:-1]) if "allowance" in a else UNSET_ALLOWANCE)
        + "; "
        f"Minimum term: {plural(int(a['minimum_months']), 'month')}, then month by month"
        f"{notice}; Unused allowance: {unused}"
    )


def fee_total(terms: EngagementTerms) -> Decimal | None:
    """The amount a payment schedule's percents apply to: a fixed fee only (None
    otherwise: a time-and-materials fee and a retainer are invoiced monthly, and a cap
    is a limit, never the base of a percentage)."""
    fee = terms.fee
    if fee is None or fee.model != "fixed":
        return None
    return fee.amounts["amount"]


def schedule_needed(terms: EngagementTerms) -> bool:
    """Whether the fee is paid on a payment schedule (a fixed fee; an agreement without a
    fee needs one too): the other models are invoiced monthly."""
    return terms.fee is None or terms.fee.model == "fixed"


def instalment_rows(terms: EngagementTerms, currency: str) -> list[tuple[str, str]]:
    """The payment schedule as (when, amount) rows: ``25% (£21,000.00)``."""
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
