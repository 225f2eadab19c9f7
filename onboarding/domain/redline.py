"""What changed between two versions of an agreement (pure Python).

``redline(previous, current)`` compares two :func:`~.agreement.agreement_json` dicts and
returns the shape of the API (issue 13)::

    {"values": [{"term": "Revision rounds", "from": "2", "to": "3"}, ...],
     "clauses": [{"id": "...", "title": "...", "change": "added|removed|changed",
                  "diff": [["=", "text"], ["-", "text"], ["+", "text"]]}, ...]}

Values
    The resolved terms (fee, payment schedule, dates, scope lists, service levels,
    currency, ownership, expenses, the agency's legal details ...), each in the words a
    client reads ("Update cadence": "Weekly" -> "Twice a week"), in a fixed order; a
    term absent from one side reads "Not set". Keys this module does not know are
    compared too, under a name made from the key.

Clauses
    Matched by id (tailored sections first, then the standard terms, in document
    order; removed clauses after the others). A clause's number is not part of the
    comparison: one that only moved (a clause added before it) is not changed. Texts
    are compared word by word with :mod:`difflib`, whitespace normalised: ``diff`` is
    a list of ``[op, words]`` where ``op`` is ``"="`` (kept), ``"-"`` (removed) or
    ``"+"`` (added), consecutive runs of one kind merged, a removal before the
    addition that replaces it. The words of the entries, joined by single spaces, give
    back the texts: ``"="`` and ``"-"`` the previous one, ``"="`` and ``"+"`` the
    current one. An added clause is one ``"+"`` entry, a removed one one ``"-"``.
    A clause whose title alone changed is "changed", its diff all ``"="``.

:func:`changes` adds what a page or the PDF shows beside this (the clause numbers and
the version compared with), :func:`count` the number of changes.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from onboarding.domain import terms as terms_mod
from onboarding.domain.agreement import as_date, display_date
from onboarding.domain.term_fields import TermField, table

NOT_SET = "Not set"

SMALL_WORD = 3
"""A kept run of one word this short between two changes is folded into them, so a
change reads as one phrase ("a weekly report" -> "an update twice a week")."""


# --- values ------------------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None or value == "" or value == [] or value == {}:
        return NOT_SET
    if isinstance(value, list | tuple):
        return "; ".join(_text(v) for v in value)
    if isinstance(value, Mapping):
        return "; ".join(f"{k}: {_text(v)}" for k, v in sorted(value.items()))
    return " ".join(str(value).split())


def _date(value: Any) -> str:
    if not value:
        return NOT_SET
    try:
        return display_date(as_date(value))
    except (TypeError, ValueError):
        return _text(value)


def _money_terms(data: Mapping[str, Any]) -> terms_mod.EngagementTerms | None:
    """The fee and payment schedule of resolved terms, as checked terms (None if they
    do not check: then the raw values are compared)."""
    keys = ("currency", "fee", "payment_schedule")
    try:
        return terms_mod.parse_terms({k: data[k] for k in keys if data.get(k) is not None})
    except (terms_mod.TermsInvalid, TypeError, ValueError):
        return None


def _fee(data: Mapping[str, Any]) -> str:
    if not data.get("fee"):
        return NOT_SET
    parsed = _money_terms(data)
    if parsed is None or parsed.fee is None:
        return _text(data.get("fee"))
    lines = terms_mod.fee_lines(parsed, data.get("currency") or "GBP")
    if len(lines) == 1:
        return lines[0][1]
    return "; ".join(f"{label}: {text}" for label, text in lines)


def _schedule(data: Mapping[str, Any]) -> str:
    if not data.get("payment_schedule"):
        return NOT_SET
    parsed = _money_terms(data)
    if parsed is None:
        return _text(data.get("payment_schedule"))
    currency = data.get("currency") or "GBP"
    return "; ".join(
        f"{when}: {amount}" for when, amount in terms_mod.instalment_rows(parsed, currency)
    )


def _agency(data: Mapping[str, Any]) -> Mapping[str, Any]:
    return data.get("agency") or {}


def _count(value: Any, one: str) -> str:
    if value is None or value == "":
        return NOT_SET
    try:
        return terms_mod.plural(int(value), one)
    except (TypeError, ValueError):
        return _text(value)


def _supplements(value: Any) -> str:
    if not value:
        return "None"
    return ", ".join(str(v).replace("_", " ").capitalize() for v in value)


def _in_words(row: TermField) -> Callable[[Any], str]:
    spec = row.redline or {}

    def read(value: Any) -> str:
        if value is None or value == "":
            return NOT_SET
        if isinstance(value, Mapping | list):
            return _text(value)
        words = (spec.get("words") or {}).get(value) or row.words(value)
        if not words:
            return _text(value)
        return words[:1].upper() + words[1:] if spec.get("capitalise") else words

    return read


def _reader(row: TermField) -> Callable[[Mapping[str, Any]], str]:
    """How one table row reads in a redline, from an agreement's resolved terms."""
    form = (row.redline or {}).get("format", "text")
    if form == "fee":
        return _fee
    if form == "schedule":
        return _schedule
    if form == "count":
        show: Callable[[Any], str] = lambda value: _count(value, row.get("unit") or "")  # noqa: E731
    elif form == "percent":
        show = lambda value: NOT_SET if value in (None, "") else f"{value}%"  # noqa: E731
    elif form == "date":
        show = _date
    elif form == "words":
        show = _in_words(row)
    elif form == "names":
        show = _supplements
    else:
        show = _text
    group, name = row.group, row.name
    if group is None:
        return lambda d: show(d.get(name))
    return lambda d: show((d.get(group) or {}).get(name))


AGENCY_VALUES: tuple[tuple[str, Callable[[Mapping[str, Any]], str]], ...] = (
    ("Agency (legal name)", lambda d: _text(_agency(d).get("legal_name"))),
    ("Agency (trading name)", lambda d: _text(_agency(d).get("trading_name"))),
    ("Governing law", lambda d: _text(_agency(d).get("governing_law"))),
)
KNOWN_AGENCY = frozenset({"legal_name", "trading_name", "governing_law"})


def values_read() -> tuple[tuple[str, Callable[[Mapping[str, Any]], str]], ...]:
    """Each term a client reads, in the order a table shows them, and how it reads:
    the term table's ``redline`` rows, then the agency's legal details."""
    rows = table().redline_rows()
    return tuple((row.redline["label"], _reader(row)) for row in rows) + AGENCY_VALUES  # type: ignore[index]


def _known() -> tuple[frozenset[str], dict[str, frozenset[str]]]:
    """The top-level keys the redline reads, and the members it reads of each object."""
    rows = table().redline_rows()
    groups: dict[str, set[str]] = {"agency": set(KNOWN_AGENCY)}
    for row in rows:
        if row.group is not None:
            groups.setdefault(row.group, set()).add(row.name)
    top = {row.key for row in rows if row.group is None} | set(groups)
    return frozenset(top), {k: frozenset(v) for k, v in groups.items()}


def _label(key: str) -> str:
    return key.replace("_", " ").capitalize()


def value_changes(previous: Mapping[str, Any], current: Mapping[str, Any]) -> list[dict[str, str]]:
    """The resolved terms that differ, as ``{"term", "from", "to"}`` in a client's words."""
    out = []
    for term, read in values_read():
        before, after = read(previous), read(current)
        if before != after:
            out.append({"term": term, "from": before, "to": after})
    # Keys added to the contract later: compared as they are, never silently dropped.
    known_keys, known_members = _known()
    extra: list[tuple[str, Any, Any]] = []
    for key in sorted((set(previous) | set(current)) - known_keys):
        extra.append((_label(key), previous.get(key), current.get(key)))
    for group, known in known_members.items():
        old, new = previous.get(group) or {}, current.get(group) or {}
        if not isinstance(old, Mapping) or not isinstance(new, Mapping):
            continue
        for key in sorted((set(old) | set(new)) - known):
            extra.append((_label(key), old.get(key), new.get(key)))
    for term, old, new in extra:
        if _text(old) != _text(new):
            out.append({"term": term, "from": _text(old), "to": _text(new)})
    return out


# --- clauses -----------------------------------------------------------------------------


def _clauses(content: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The clauses of an agreement_json dict by id, in document order (a repeated id,
    which compose never makes, gets ``#2``, ``#3`` ...)."""
    out: dict[str, dict[str, Any]] = {}
    for section in content.get("sections") or ():
        for clause in section.get("clauses") or ():
            key, n = str(clause.get("id")), 1
            while key in out:
                n += 1
                key = f"{clause.get('id')}#{n}"
            out[key] = clause
    return out


def _words(text: Any) -> list[str]:
    return str(text or "").split()


def diff_words(before: str, after: str) -> list[list[str]]:
    """The word-level diff of two texts (see the module docstring)."""
    old, new = _words(before), _words(after)
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    runs: list[tuple[str, list[str]]] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            runs.append(("=", old[i1:i2]))
            continue
        if i2 > i1:
            runs.append(("-", old[i1:i2]))
        if j2 > j1:
            runs.append(("+", new[j1:j2]))
    runs = _fold_small_words(runs)
    return [[op, " ".join(words)] for op, words in _merge(runs)]


def _merge(runs: Sequence[tuple[str, list[str]]]) -> list[tuple[str, list[str]]]:
    """One entry per run: adjacent changes grouped, removals first, then additions."""
    out: list[tuple[str, list[str]]] = []
    removed: list[str] = []
    added: list[str] = []

    def flush() -> None:
        if removed:
            out.append(("-", list(removed)))
        if added:
            out.append(("+", list(added)))
        removed.clear()
        added.clear()

    for op, words in runs:
        if not words:
            continue
        if op == "=":
            flush()
            if out and out[-1][0] == "=":
                out[-1] = ("=", out[-1][1] + words)
            else:
                out.append(("=", list(words)))
        else:
            (removed if op == "-" else added).extend(words)
    flush()
    return out


def _fold_small_words(runs: list[tuple[str, list[str]]]) -> list[tuple[str, list[str]]]:
    """Fold a one-short-word kept run between two changes into both sides."""
    out: list[tuple[str, list[str]]] = []
    for i, (op, words) in enumerate(runs):
        between = 0 < i < len(runs) - 1 and runs[i - 1][0] != "=" and runs[i + 1][0] != "="
        if op == "=" and between and len(words) == 1 and len(words[0]) <= SMALL_WORD:
            out += [("-", words), ("+", words)]
        else:
            out.append((op, words))
    return out


def clause_changes(previous: Mapping[str, Any], current: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The clauses added, removed and changed (see the module docstring)."""
    old, new = _clauses(previous), _clauses(current)
    out: list[dict[str, Any]] = []
    for key, clause in new.items():
        before = old.get(key)
        if before is None:
            out.append(_entry(clause, "added", [["+", " ".join(_words(clause.get("text")))]]))
            continue
        same_text = _words(before.get("text")) == _words(clause.get("text"))
        same_title = _words(before.get("title")) == _words(clause.get("title"))
        if not (same_text and same_title):
            diff = diff_words(before.get("text") or "", clause.get("text") or "")
            out.append(_entry(clause, "changed", diff))
    for key, clause in old.items():
        if key not in new:
            out.append(_entry(clause, "removed", [["-", " ".join(_words(clause.get("text")))]]))
    return out


def _entry(clause: Mapping[str, Any], change: str, diff: list[list[str]]) -> dict[str, Any]:
    return {
        "id": str(clause.get("id")),
        "title": " ".join(_words(clause.get("title"))),
        "change": change,
        "diff": [d for d in diff if d[1]],
    }


def redline(previous: Mapping[str, Any], current: Mapping[str, Any]) -> dict[str, Any]:
    """What changed from ``previous`` to ``current`` (two agreement_json dicts)."""
    return {
        "values": value_changes(
            previous.get("resolved_terms") or {}, current.get("resolved_terms") or {}
        ),
        "clauses": clause_changes(previous, current),
    }


def count(red: Mapping[str, Any] | None) -> int:
    """How many changes a redline holds (each value and each clause is one)."""
    if not red:
        return 0
    return len(red.get("values") or ()) + len(red.get("clauses") or ())


# --- for a page or the PDF ----------------------------------------------------------------


def clause_numbers(content: Mapping[str, Any] | None) -> dict[str, str]:
    """Each clause's number (``"4.2"``) in an agreement_json dict: its sections are the
    agreement's, numbered in order, as compose numbers them."""
    out: dict[str, str] = {}
    for i, section in enumerate((content or {}).get("sections") or (), start=1):
        for j, clause in enumerate(section.get("clauses") or (), start=1):
            out.setdefault(str(clause.get("id")), f"{i}.{j}")
    return out


@dataclass(frozen=True)
class ClauseChange:
    id: str
    number: str  # in the version that has it: the current one, or the previous if removed
    title: str
    change: str  # "added" | "removed" | "changed"
    diff: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Changes:
    """A redline ready to show: the version it compares with, the values, the clauses
    with their numbers."""

    since: int  # the previous version's number
    values: tuple[Mapping[str, str], ...]
    clauses: tuple[ClauseChange, ...]

    @property
    def count(self) -> int:
        return len(self.values) + len(self.clauses)

    def digest(self) -> str:
        """A SHA-256 of what is shown (part of the sent PDF's cache key)."""
        data = {
            "since": self.since,
            "values": [dict(v) for v in self.values],
            "clauses": [
                [c.id, c.number, c.title, c.change, [list(d) for d in c.diff]] for c in self.clauses
            ],
        }
        text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


CONTEXT_WORDS = 12
"""Kept words shown on each side of a change (a longer kept run is shortened with "…")."""


def _shorten(diff: Sequence[Sequence[str]], context: int) -> tuple[tuple[str, str], ...]:
    """A changed clause's diff with long kept runs shortened around the changes."""
    out = []
    last = len(diff) - 1
    for i, (op, text) in enumerate(diff):
        words = text.split()
        if op == "=" and len(words) > context:
            if i == 0:
                text = "\u2026 " + " ".join(words[-context:])
            elif i == last:
                text = " ".join(words[:context]) + " \u2026"
            elif len(words) > 2 * context:
                text = " ".join(words[:context]) + " \u2026 " + " ".join(words[-context:])
        out.append((op, text))
    return tuple(out)


def changes(
    red: Mapping[str, Any],
    since: int,
    previous: Mapping[str, Any] | None = None,
    current: Mapping[str, Any] | None = None,
    *,
    context: int = CONTEXT_WORDS,
) -> Changes:
    """A stored redline ready to show: clause numbers from the two versions' content,
    and in a changed clause the kept text shortened to ``context`` words around each
    change (an added or removed clause keeps its whole text)."""
    old, new = clause_numbers(previous), clause_numbers(current)
    clauses = tuple(
        ClauseChange(
            id=c["id"],
            number=(old if c["change"] == "removed" else new).get(c["id"], ""),
            title=c["title"],
            change=c["change"],
            diff=_shorten(c["diff"], context)
            if c["change"] == "changed"
            else tuple((op, text) for op, text in c["diff"]),
        )
        for c in red.get("clauses") or ()
    )
    values = tuple(dict(v) for v in red.get("values") or ())
    return Changes(since=since, values=values, clauses=clauses)
