"""The agency's rate card, the options a proposal offers, and the client's choice among
them (pure Python). Contract: ``shared/spec/proposal.md``.

A client's wish beyond the agency's standard becomes an **option with a price** the
client may choose, never a silent promise:

- the rate card is the agency profile's ``options`` (:func:`parse_card`);
- playbook rules name the options their wish calls for (``offer: [...]``); the
  assessment lists them under ``offers``;
- the account manager may add, withdraw or include one (the terms' ``options``,
  :func:`parse_changes`); :func:`offered` resolves the three into the offer;
- the client picks some (:func:`parse_choice`, :func:`choose`); the agreement states the
  chosen options and the service levels they set (:func:`levels_set`).

Problems are returned as ``(field, message)`` pairs, so the caller (the profile loader,
the terms checker, the command line) reports them in its own shape.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

PER = ("project", "month", "unit")
"""How an option is billed: once, each month, or per unit (a round, a call, ...)."""
MAX_OPTIONS = 30
MAX_QUANTITY = 99
OPTION_ID = re.compile(r"^[a-z][a-z0-9_]{0,63}$", re.ASCII)
_MONEY = re.compile(r"^\d{1,12}(\.\d{1,2})?$", re.ASCII)
_CHOICE_ITEM = re.compile(r"^([a-z][a-z0-9_]{0,63})(?::(\d{1,3}))?$", re.ASCII)

Problems = list[tuple[str, str]]


@dataclass(frozen=True)
class RateOption:
    """One priced option of the agency's rate card."""

    id: str
    title: str
    description: str
    amount: Decimal
    per: str  # project | month | unit
    unit: str = ""  # what one unit is ("round"), per: unit only
    sets: Mapping[str, Any] = field(default_factory=dict)  # service levels it changes
    max_quantity: int = 1

    def as_dict(self) -> dict[str, Any]:
        """The contract form (proposal.md, "The rate card")."""
        out: dict[str, Any] = {
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "price": {"amount": f"{self.amount:.2f}", "per": self.per},
        }
        if self.unit:
            out["unit"] = self.unit
        if self.sets:
            out["sets"] = dict(self.sets)
        if self.per == "unit":
            out["max_quantity"] = self.max_quantity
        return out


def _text(raw: Mapping[str, Any], key: str, where: str, problems: Problems, *,
          required: bool, limit: int) -> str:  # fmt: skip
    value = raw.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            problems.append((f"{where}.{key}", "is required"))
        return ""
    if not isinstance(value, str):
        problems.append((f"{where}.{key}", "must be text"))
        return ""
    value = " ".join(value.split())
    if len(value) > limit:
        problems.append((f"{where}.{key}", f"must be at most {limit} characters"))
    return value


def _amount(value: Any, where: str, problems: Problems) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, str | int):
        problems.append((where, 'must be an amount written as text, such as "450.00"'))
        return None
    text = str(value).strip().replace(",", "")
    if not _MONEY.match(text):
        problems.append((where, 'must be an amount such as "450.00" (up to two decimals)'))
        return None
    return Decimal(text)


def _whole(value: Any, where: str, problems: Problems, low: int, high: int) -> int | None:
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        problems.append((where, f"must be a whole number from {low} to {high}"))
        return None
    return value


def parse_card(
    items: Any,
    path: str = "options",
    check_levels: Callable[[Any, str], tuple[dict[str, Any], Problems]] | None = None,
) -> tuple[tuple[RateOption, ...], Problems]:
    """The rate card from its contract form (a list of options), and every problem,
    each at its field path (``options[1].price.per``). ``check_levels(sets, path)``
    checks an option's ``sets`` as service levels (the profile loader passes the term
    table's check)."""
    problems: Problems = []
    if items is None:
        return (), problems
    if not isinstance(items, list):
        return (), [(path, "must be a list of options")]
    if len(items) > MAX_OPTIONS:
        problems.append((path, f"may hold at most {MAX_OPTIONS} options"))
    out: list[RateOption] = []
    seen: set[str] = set()
    for i, raw in enumerate(items[:MAX_OPTIONS]):
        where = f"{path}[{i}]"
        if not isinstance(raw, Mapping):
            problems.append((where, "must be an object with id, title, description and price"))
            continue
        for key in sorted(set(raw) - {"id", "title", "description", "price", "unit", "sets",
                                      "max_quantity"}):  # fmt: skip
            problems.append((f"{where}.{key}", "is not a key of an option (id, title, "
                             "description, price, unit, sets, max_quantity)"))  # fmt: skip
        oid = raw.get("id")
        if not isinstance(oid, str) or not OPTION_ID.match(oid):
            problems.append((f"{where}.id", "must be a lower-case identifier such as weekly_call"))
            oid = None
        elif oid in seen:
            problems.append((f"{where}.id", f"{oid} appears twice"))
        title = _text(raw, "title", where, problems, required=True, limit=80)
        description = _text(raw, "description", where, problems, required=True, limit=300)
        price = raw.get("price")
        amount, per = None, None
        if not isinstance(price, Mapping):
            problems.append((f"{where}.price", 'must be an object such as {amount: "450.00", '
                             "per: month}"))  # fmt: skip
        else:
            amount = _amount(price.get("amount"), f"{where}.price.amount", problems)
            per = price.get("per")
            if per not in PER:
                problems.append((f"{where}.price.per", f"must be one of: {', '.join(PER)}"))
                per = None
        unit = _text(raw, "unit", where, problems, required=per == "unit", limit=40)
        if unit and per in ("project", "month"):
            problems.append((f"{where}.unit", "belongs only to an option priced per unit"))
        quantity = 1
        if raw.get("max_quantity") not in (None, ""):
            q = _whole(raw["max_quantity"], f"{where}.max_quantity", problems, 1, MAX_QUANTITY)
            if q is not None and per in ("project", "month") and q != 1:
                problems.append((f"{where}.max_quantity",
                                 "belongs only to an option priced per unit"))  # fmt: skip
            quantity = q or 1
        elif per == "unit":
            quantity = 10
        sets: dict[str, Any] = {}
        if raw.get("sets") not in (None, {}):
            if check_levels is None:
                if isinstance(raw["sets"], Mapping):
                    sets = dict(raw["sets"])
                else:
                    problems.append((f"{where}.sets", "must be an object of service levels"))
            else:
                sets, more = check_levels(raw["sets"], f"{where}.sets")
                problems += more
        if oid and oid not in seen and title and description and amount is not None and per:
            out.append(RateOption(oid, title, description, amount, per, unit if per == "unit"
                                  else "", sets, quantity))  # fmt: skip
        if oid:
            seen.add(oid)
    return tuple(out), problems


# --- what a proposal offers -----------------------------------------------------------------


@dataclass(frozen=True)
class OptionChanges:
    """The account manager's changes to the offer (the terms' ``options``)."""

    offer: tuple[str, ...] = ()
    withdraw: tuple[str, ...] = ()
    include: tuple[str, ...] = ()
    reasons: Mapping[str, str] = field(default_factory=dict)  # include id -> reason

    def __bool__(self) -> bool:
        return bool(self.offer or self.withdraw or self.include)

    def as_dict(self) -> dict[str, Any]:
        """The contract form: ``{"offer", "withdraw", "include"}``, an inclusion with a
        reason written ``{"id", "reason"}``; only the keys that hold something."""
        out: dict[str, Any] = {}
        if self.offer:
            out["offer"] = list(self.offer)
        if self.withdraw:
            out["withdraw"] = list(self.withdraw)
        if self.include:
            out["include"] = [
                {"id": i, "reason": self.reasons[i]} if self.reasons.get(i) else i
                for i in self.include
            ]
        return out


def parse_changes(data: Any, path: str = "options") -> tuple[OptionChanges, Problems]:
    """``{"offer": [...], "withdraw": [...], "include": [...]}``; an ``include`` item is an
    option id or ``{"id", "reason"}`` (the reason is kept in the history, never shown
    to the client)."""
    problems: Problems = []
    if data is None:
        return OptionChanges(), problems
    if not isinstance(data, Mapping):
        return OptionChanges(), [(path, "must be an object with offer, withdraw and include")]
    for key in data:
        if key not in ("offer", "withdraw", "include"):
            problems.append((f"{path}.{key}", "must be offer, withdraw or include"))
    lists: dict[str, list[str]] = {"offer": [], "withdraw": [], "include": []}
    reasons: dict[str, str] = {}
    for key in lists:
        items = data.get(key)
        if items is None:
            continue
        if not isinstance(items, list):
            problems.append((f"{path}.{key}", "must be a list of option ids"))
            continue
        for i, item in enumerate(items[:MAX_OPTIONS]):
            where = f"{path}.{key}[{i}]"
            reason = ""
            if key == "include" and isinstance(item, Mapping):
                reason = _text(item, "reason", where, problems, required=False, limit=300)
                item = item.get("id")
            if not isinstance(item, str) or not OPTION_ID.match(item):
                problems.append((where, "must be an option id such as weekly_call"))
                continue
            if item not in lists[key]:
                lists[key].append(item)
            if reason:
                reasons[item] = reason
    both = set(lists["withdraw"]) & (set(lists["offer"]) | set(lists["include"]))
    for oid in sorted(both):
        problems.append((f"{path}.withdraw", f"{oid} cannot be both withdrawn and offered"))
    changes = OptionChanges(
        tuple(lists["offer"]), tuple(lists["withdraw"]), tuple(lists["include"]), reasons
    )
    return changes, problems


@dataclass(frozen=True)
class Offer:
    """An option the proposal offers: the card's option, why (the wish it answers, in
    the client's terms) and whether it is included in the fee."""

    option: RateOption
    offered_because: str  # "" when the account manager added it
    included: bool = False
    source: str = ""  # "playbook:<id>/<rule>" or "manager"


Phrase = tuple[str, ...]
"""Words that must all start a word of an option's id or title (``("task", "board")``)."""

ALIASES: dict[str, tuple[str | None, tuple[Phrase, ...], tuple[Phrase, ...]]] = {
    "priority_replies": (
        "response_hours",
        (("repl",), ("answer",), ("response", "time"), ("priority", "response"),
         ("priority", "support"), ("priority", "access"), ("rush", "response"),
         ("fast", "response")),
        (("community",), ("social",), ("comment",), ("review", "response")),
    ),
    "extra_revision_round": (
        "revision_rounds",
        (("revision",), ("amend",), ("round",)),
        (("golf",),),
    ),
    "weekly_call": (
        None,
        (("call",), ("meeting",), ("check", "in"), ("checkin",), ("catch", "up"),
         ("stand", "up"), ("standup",)),
        (("on", "call"), ("hotline",), ("emergency",), ("sales",)),
    ),
    "daily_status_note": (
        "update_cadence",
        (("daily",), ("status",), ("progress", "report"), ("progress", "note"),
         ("progress", "update")),
        (("website",), ("site",), ("software",), ("maintenance",), ("rate",)),
    ),
    "shared_task_board": (
        None,
        (("task",), ("board",), ("portal",), ("tracker",), ("project", "dashboard"),
         ("progress", "dashboard"), ("live", "dashboard"), ("work", "progress")),
        (("analytics",), ("presentation",), ("deck",), ("customer",), ("mood",),
         ("directors",)),
    ),
    "out_of_hours_cover": (
        None,
        (("out", "hours"), ("after", "hours"), ("outside", "hours"), ("emergency",),
         ("on", "call"), ("evening",), ("weekend",), ("hotline",), ("24", "7")),
        (),
    ),
}  # fmt: skip
"""What stands in for a playbook's option on another agency's card: an option that sets
the same service level, else one whose id or title names the same thing (each phrase's
words start words of the id or title; an option that also names an excluded phrase,
a storyboard or an analytics dashboard, is a look-alike and never stands in)."""

_LEVELS = {level for level, _, _ in ALIASES.values() if level}


def _words(option: RateOption) -> list[str]:
    text = f"{option.id} {option.title}".lower()
    return [w for w in re.split(r"[^a-z0-9]+", text) if w]


def _names(words: Sequence[str], phrase: Phrase) -> bool:
    return all(any(w.startswith(p) for w in words) for p in phrase)


def stand_in(oid: str, card: Sequence[RateOption]) -> RateOption | None:
    """The card's option for a playbook's option id: the same id, else by
    :data:`ALIASES` (the service level it sets, then the words of its id or title; an
    option that sets another of these levels stands in only for its own)."""
    for o in card:
        if o.id == oid:
            return o
    level, phrases, excluded = ALIASES.get(oid, (None, (), ()))
    if level:
        for o in card:
            if level in o.sets:
                return o
    for o in card:
        if any(k in _LEVELS and k != level for k in o.sets):
            continue
        words = _words(o)
        if any(_names(words, p) for p in excluded):
            continue
        if any(_names(words, p) for p in phrases):
            return o
    return None


def offered(
    card: Sequence[RateOption],
    playbook_offers: Sequence[Mapping[str, Any]],
    changes: OptionChanges | None = None,
) -> tuple[list[Offer], list[Mapping[str, Any]]]:
    """``(offers, unpriced)``: the options offered (the card's order), and the playbook
    offers the card has no option for (the proposal says what the agency does
    instead, as it does for an offer the manager withdrew). ``playbook_offers`` are the
    assessment's ``offers``
    (``{"id", "playbook", "rule", "because"}``); an id the card lacks is matched to a
    card option that stands in for it (:func:`stand_in`)."""
    changes = changes or OptionChanges()
    by_id = {o.id: o for o in card}
    why: dict[str, str] = {}
    source: dict[str, str] = {}
    unpriced = []
    for item in playbook_offers:
        found = stand_in(str(item.get("id")), card)
        oid = found.id if found else item.get("id")
        if oid not in by_id or oid in changes.withdraw or item.get("id") in changes.withdraw:
            same = next((u for u in unpriced if u.get("id") == item.get("id")), None)
            if same is None:
                unpriced.append(item)
            elif item.get("because") and item["because"] not in str(same.get("because")):
                unpriced[unpriced.index(same)] = dict(same) | {
                    "because": f"{same.get('because') or ''} {item['because']}".strip()
                }
            continue
        because = str(item.get("because") or "")
        if oid not in why:
            why[oid] = because
        elif because and because not in why[oid]:
            why[oid] = f"{why[oid]} {because}".strip()
        source.setdefault(oid, f"playbook:{item.get('playbook', '')}/{item.get('rule', '')}")
    for oid in (*changes.offer, *changes.include):
        if oid in by_id and oid not in why:
            why[oid], source[oid] = "", "manager"
    offers = [
        Offer(o, why[o.id], o.id in changes.include, source[o.id]) for o in card if o.id in why
    ]
    return offers, unpriced


def unknown_ids(card: Sequence[RateOption], changes: OptionChanges) -> Problems:
    """The manager's changes that name an option the card lacks (a field problem each)."""
    known = {o.id for o in card}
    out: Problems = []
    for key in ("offer", "withdraw", "include"):
        for i, oid in enumerate(getattr(changes, key)):
            if oid not in known:
                out.append((f"options.{key}[{i}]", f"{oid} is not an option of the rate card"))
    return out


# --- the client's choice ------------------------------------------------------------------


def parse_choice(
    text: str | Sequence[str] | Mapping[str, Any] | None,
) -> tuple[dict[str, int], Problems]:
    """``"priority_replies,extra_revision_round:2"`` (or a list of such items, or
    ``{id: quantity}``) as ``{id: quantity}``."""
    problems: Problems = []
    if not text:
        return {}, problems
    if isinstance(text, Mapping):
        items = [f"{k}:{v}" for k, v in text.items()]
    elif isinstance(text, str):
        items = [t.strip() for t in text.split(",") if t.strip()]
    else:
        items = [str(t).strip() for t in text]
    out: dict[str, int] = {}
    for i, item in enumerate(items):
        m = _CHOICE_ITEM.match(item)
        if not m:
            problems.append((f"options[{i}]", f"{item!r} must read id or id:quantity"))
            continue
        quantity = int(m.group(2) or 1)
        if quantity:
            out[m.group(1)] = out.get(m.group(1), 0) + quantity
    return out, problems


@dataclass(frozen=True)
class Chosen:
    """An option the client chose, with its quantity and cost."""

    option: RateOption
    quantity: int
    included: bool
    total: Decimal  # the quantity's price (0 when included)

    def as_dict(self, currency: str) -> dict[str, Any]:
        return {
            "id": self.option.id,
            "title": self.option.title,
            "quantity": self.quantity,
            "price": price_dict(self.option),
            "total": f"{self.total:.2f}",
            "total_text": price_text(self.option, currency, self.quantity, self.included),
            "included": self.included,
            "sets": dict(self.option.sets),
        }


def choose(offers: Sequence[Offer], choice: Mapping[str, int]) -> tuple[list[Chosen], Problems]:
    """The chosen options among those offered; an included option is always chosen."""
    by_id = {o.option.id: o for o in offers}
    problems: Problems = []
    out: list[Chosen] = []
    for oid in choice:
        if oid not in by_id:
            problems.append((f"options.{oid}", f"{oid} is not one of the options offered"))
    for offer in offers:
        o = offer.option
        quantity = choice.get(o.id, 0)
        if offer.included:
            quantity = max(quantity, 1)
        if not quantity:
            continue
        limit = o.max_quantity if o.per == "unit" else 1
        if quantity > limit:
            problems.append((f"options.{o.id}", f"at most {limit} of {o.title} may be chosen"))
            quantity = limit
        total = Decimal(0) if offer.included else o.amount * quantity
        out.append(Chosen(o, quantity, offer.included, total))
    return out, problems


def levels_set(chosen: Sequence[Chosen]) -> dict[str, Any]:
    """The service levels the chosen options set (the later option wins a clash)."""
    out: dict[str, Any] = {}
    for c in chosen:
        out.update(c.option.sets)
    return out


def totals(chosen: Sequence[Chosen]) -> dict[str, Decimal]:
    """What the chosen options add: ``{"once": ..., "monthly": ...}`` (zero when none)."""
    once = sum((c.total for c in chosen if c.option.per != "month"), Decimal(0))
    monthly = sum((c.total for c in chosen if c.option.per == "month"), Decimal(0))
    return {"once": once, "monthly": monthly}


# --- words ----------------------------------------------------------------------------------

_SYMBOLS = {"GBP": "£", "USD": "$", "EUR": "€", "AUD": "A$", "CAD": "C$", "NZD": "NZ$"}


def money(amount: Decimal, currency: str) -> str:
    """``£450.00`` (a currency without a symbol: ``450.00 CHF``)."""
    amount = amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    symbol = _SYMBOLS.get(currency)
    return f"{symbol}{amount:,.2f}" if symbol else f"{amount:,.2f} {currency}"


def price_dict(option: RateOption) -> dict[str, str]:
    return {"amount": f"{option.amount:.2f}", "per": option.per}


def price_text(option: RateOption, currency: str, quantity: int = 1, included: bool = False) -> str:
    """``£450.00 a month``, ``£600.00 per round`` (``2 rounds: £1,200.00``), ``£900.00``
    once; an included option reads ``Included in the fee``."""
    if included:
        return "Included in the fee"
    each = money(option.amount, currency)
    if option.per == "month":
        return f"{each} a month"
    if option.per == "project":
        return f"{each} for the project"
    unit = option.unit or "unit"
    if quantity > 1:
        return f"{quantity} {unit}s at {each} each: {money(option.amount * quantity, currency)}"
    return f"{each} per {unit}"
