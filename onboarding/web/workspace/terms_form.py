"""The "Prepare the agreement" form's term fields, made from the term table
(``domain/data/terms.yaml``): which fields each card shows, their labels and hints,
the terms object read back from a post, and the values a saved object shows.

Field names are the terms' own paths (``fee.amount``, ``service_levels.notice_days``),
so an error from the domain lands beside the field it names. The clause changes (a
form of their own, not a table row) stay in :mod:`.contracts`.
"""

from __future__ import annotations

from typing import Any

from onboarding.domain.term_fields import TermField, TermTable, table

SCHEDULE_ROWS = 5
"""Instalment rows the form offers."""
PLACED_CARDS = ("fees", "dates", "scope", "levels", "safeguard")
"""Cards the page places and words itself; any other card of the table follows them."""

WIDGET_LOOKS: dict[str, dict[str, str]] = {
    "text": {"cls": "input"},
    "code": {"cls": "input input--short", "attrs": 'maxlength="3" autocomplete="off"'},
    "money": {"cls": "input input--short", "attrs": 'inputmode="decimal"'},
    "number": {"cls": "input input--short", "attrs": 'inputmode="numeric"'},
    "date": {"cls": "input", "type": "date"},
}
"""How each text-like widget looks (its CSS class, input type and attributes)."""


def whole(value: str):
    """A typed whole number as an int (up to 18 digits), else the text as typed, for the
    terms' checks to name."""
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 18 else value


def lines(text: str) -> list[str]:
    """The non-blank lines of a text area, trimmed."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _typed(row: TermField, value: str) -> Any:
    if row.type == "whole":
        return whole(value)
    if row.type == "currency":
        return value.upper()
    if row.type == "list":  # a list inside an object term: one item per line
        return lines(value)
    if row.type == "text" and row.get("join"):  # an address typed on several lines
        return row.get("join").join(lines(value))
    return value


PERSON_KEYS = ("name", "title", "email")


def _person(form, key: str) -> dict[str, str]:
    """A person's fields (``client.signatory.name``, ...) as typed, blanks left out."""
    out = {}
    for name in PERSON_KEYS:
        value = form.get(f"{key}.{name}", "").strip()
        if value:
            out[name] = value
    return out


def terms_from_form(form, terms: TermTable | None = None) -> dict[str, Any]:
    """The terms object (terms.md) from the posted form's table fields; blanks are
    left out (the clause changes are read by the caller)."""
    terms = terms or table()
    data: dict[str, Any] = {}
    for row in terms.top:
        key = row.key
        if row.type == "fee":
            model = form.get("fee.model", "")
            if model:
                required, optional = terms.fee_models.get(model, ((), ()))
                fee: dict[str, Any] = {"model": model}
                for member in terms.members(key):
                    value = form.get(member.key, "").strip()
                    if member.name != "model" and value and member.name in required + optional:
                        fee[member.name] = _typed(member, value)
                data[key] = fee
        elif row.type == "group":
            members = {}
            for member in terms.members(key):
                if member.type == "person" and member.widget:
                    if person := _person(form, member.key):
                        members[member.name] = person
                    continue
                value = form.get(member.key, "").strip()
                if member.widget and value:
                    members[member.name] = _typed(member, value)
            if members:
                data[key] = members
        elif row.type == "schedule" and row.widget:
            schedule = []
            for i in range(SCHEDULE_ROWS):
                when = form.get(f"{key}[{i}].when", "")
                percent = form.get(f"{key}[{i}].percent", "").strip()
                if when or percent:
                    schedule.append({"when": when, "percent": whole(percent)})
            if schedule:
                data[key] = schedule
        elif not row.widget:
            continue
        elif row.type == "list":
            items = lines(form.get(key, ""))
            if items:
                data[key] = items
        elif row.type == "choices":
            # A box ticked sets the choice; none ticked clears it only where it was set
            # (``.set``), else the default (from the work delivered) stands.
            if form.get(f"{key}.set") or form.getlist(key):
                data[key] = form.getlist(key)
        else:
            value = form.get(key, "").strip()
            if value:
                data[key] = _typed(row, value)
    return data


def form_values(data: dict[str, Any], terms: TermTable | None = None) -> dict[str, Any]:
    """Field values to show, by field name, from a terms object (saved or just posted)."""
    terms = terms or table()
    values: dict[str, Any] = {}
    for row in terms.top:
        key = row.key
        if row.type in ("fee", "group"):
            for name, value in (data.get(key) or {}).items():
                if isinstance(value, dict):  # a person: one field per member
                    for part, text in value.items():
                        values[f"{key}.{name}.{part}"] = text
                else:
                    values[f"{key}.{name}"] = value
        elif row.type == "schedule":
            for i, item in enumerate(data.get(key) or []):
                values[f"{key}[{i}].when"] = item.get("when", "")
                values[f"{key}[{i}].percent"] = item.get("percent", "")
        elif row.type == "list":
            values[key] = "\n".join(data.get(key) or [])
        elif row.type == "choices":
            values[key] = data.get(key)
        elif row.type != "clauses" and key in data:
            values[key] = data[key]
    return values


def field_labels(terms: TermTable | None = None) -> dict[str, str]:
    """``{path: label}`` of every term field (what an error names)."""
    return {row.key: row.label for row in (terms or table()).fields}


def member_labels(group: str, terms: TermTable | None = None) -> dict[str, str]:
    """``{member: label}`` of an object term's rows (the service levels' labels)."""
    return {row.name: row.label for row in (terms or table()).members(group)}


def choice_labels(key: str, terms: TermTable | None = None) -> dict[Any, str]:
    """``{value: label}`` of a choice row (the update cadences)."""
    row = (terms or table()).row(key)
    return row.choices if row else {}


def _default(row: TermField, profile: Any) -> str:
    """The agency's own value of a term, as the form names it beside a blank field."""
    if not row.from_profile or profile is None:
        return ""
    if row.group is not None:
        value = (getattr(profile, row.group, None) or {}).get(row.name)
    else:
        value = getattr(profile, row.key, None)
    return str(row.choices.get(value, value)) if value is not None else ""


def _widget(row: TermField, profile: Any) -> dict[str, Any]:
    default = _default(row, profile)
    form = row.form
    hint = row.get("help")
    widget: dict[str, Any] = {
        "name": row.key,
        "label": row.form_label,
        "widget": row.widget,
        "hint": hint.format(default=default) if hint else None,
        "rows": form.get("rows", 4),
        "models": list(row.get("models") or ()),  # a fee member: the fee models it is for
    }
    widget |= WIDGET_LOOKS.get(row.widget or "", {})
    if row.widget in ("select", "checkboxes"):
        if row.choices:
            order = form.get("options") or list(row.choices)
            widget["options"] = [(value, row.choices[value]) for value in order]
        else:
            widget["options"] = [(n, str(n)) for n in row.get("one_of") or ()]
        blank = form.get("blank")
        widget["blank"] = blank.format(default=default) if blank is not None else None
    return widget


def cards(*, placed: bool | None = None, terms: TermTable | None = None) -> dict[str, str]:
    """``{card id: title}`` of the form's cards: all, only the page's own
    (``placed=True``) or only those the table adds (``placed=False``)."""
    sections = (terms or table()).form_sections
    return {
        card: title
        for card, title in sections.items()
        if placed is None or (card in PLACED_CARDS) == placed
    }


def form_blocks(section: str, profile: Any = None, terms: TermTable | None = None) -> list:
    """The fields of one card of the form ("fees", "dates", "scope", "levels",
    "safeguard"), in page order: a list of blocks, each ``{"inline": bool, "fields":
    [widget, ...]}`` (consecutive fields of one ``inline`` group share a row)."""
    blocks: list[dict[str, Any]] = []
    for row in (terms or table()).form_rows(section):
        inline = row.form.get("inline")
        widget = _widget(row, profile)
        if inline and blocks and blocks[-1]["inline"] == inline:
            blocks[-1]["fields"].append(widget)
        else:
            blocks.append({"inline": inline, "fields": [widget]})
    return blocks
