"""The declared table of an engagement's term fields (``domain/data/terms.yaml``).

One row per field says what the term is (key, type, bounds, unit, choices), how a
person edits it (label, help, widget, form placement), how a redline names it and how
the agreement writes it. :mod:`onboarding.domain.terms` checks terms from it, the
workspace form, the API's model and the redline are made from it (pure Python).

The table in use is :func:`table`; :func:`use_table` swaps in another file (a test
adding a term to a copy of the table; an installation's own table).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from onboarding.domain.resources import DATA

TABLE_FILE = DATA / "terms.yaml"

TYPES = frozenset(
    {"currency", "money", "number", "whole", "date", "choice", "choices", "text", "list",
     "fee", "group", "schedule", "clauses", "person", "options"}
)  # fmt: skip
"""The kinds of value a term may hold (the table's ``type``)."""
OBJECT_TYPES = frozenset({"fee", "group"})
"""Types whose value is an object of member rows (``fee.amount``)."""
WIDGETS = frozenset(
    {"text", "code", "money", "number", "date", "select", "area", "checkboxes", "schedule",
     "person"}
)  # fmt: skip
REDLINE_FORMATS = frozenset(
    {"text", "count", "percent", "date", "words", "names", "list", "fee", "schedule"}
)
DOCUMENT_FORMATS = frozenset({"text", "count", "percent", "money", "date", "words"})
MODEL_NEEDS = ("required", "optional")


class TableInvalid(ValueError):
    """A term table that does not make sense (a broken row is found when it loads)."""


@dataclass(frozen=True)
class TermField:
    """One row of the table: a term, or a member of an object term (``fee.amount``)."""

    key: str
    type: str
    label: str
    spec: Mapping[str, Any] = field(repr=False)

    @property
    def group(self) -> str | None:
        """The object term this row is a member of (``fee``), else None."""
        return self.key.split(".", 1)[0] if "." in self.key else None

    @property
    def name(self) -> str:
        """The row's own name: ``amount`` for ``fee.amount``."""
        return self.key.rsplit(".", 1)[-1]

    def get(self, name: str, default: Any = None) -> Any:
        """A property of the row as the table states it."""
        return self.spec.get(name, default)

    @property
    def choices(self) -> dict[Any, str]:
        """``{value: label}`` of a choice, in the table's order."""
        return dict(self.spec.get("choices") or {})

    @property
    def form(self) -> Mapping[str, Any]:
        return self.spec.get("form") or {}

    @property
    def widget(self) -> str | None:
        return self.spec.get("widget")

    @property
    def form_label(self) -> str:
        """The label beside the form's field (the row's label unless the form says)."""
        return self.form.get("label") or self.label

    @property
    def redline(self) -> Mapping[str, Any] | None:
        return self.spec.get("redline")

    @property
    def document(self) -> Mapping[str, Any] | None:
        return self.spec.get("document")

    @property
    def resolved_name(self) -> str:
        """The name of the resolved value (what a clause or condition reads)."""
        return self.spec.get("resolved_as") or self.name

    @property
    def from_profile(self) -> bool:
        """Unset, the agency profile's value applies."""
        return self.spec.get("default") == "profile"

    def words(self, value: Any) -> str | None:
        """What a value reads as (its ``words``, else its choice label)."""
        table = {**self.choices, **(self.spec.get("words") or {})}
        for candidate in (value, str(value)):
            if candidate in table:
                return table[candidate]
        with contextlib.suppress(TypeError, ValueError):
            return table.get(int(value))
        return None


@dataclass(frozen=True)
class TermTable:
    """The rows of a term table, with the views every layer needs of them."""

    fields: tuple[TermField, ...]
    profile_placeholders: Mapping[str, Any]
    path: Path | None = None
    form_sections: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Views every compose reads many times, made once per table.
        object.__setattr__(self, "_by_key", {f.key: f for f in self.fields})
        object.__setattr__(self, "_placeholders", self._make_placeholders())

    def row(self, key: str) -> TermField | None:
        """The row of a key (``currency``, ``fee.amount``), else None."""
        return self._by_key.get(key)  # type: ignore[attr-defined]

    @property
    def top(self) -> tuple[TermField, ...]:
        """The top-level terms, in contract order."""
        return tuple(f for f in self.fields if f.group is None)

    @property
    def term_keys(self) -> tuple[str, ...]:
        """The top-level keys a terms object may hold."""
        return tuple(f.key for f in self.top)

    def members(self, group: str) -> tuple[TermField, ...]:
        """The member rows of an object term, in table order."""
        return tuple(f for f in self.fields if f.group == group)

    @property
    def fee_models(self) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
        """``{model: (required keys, optional keys)}`` from the fee members' ``models``."""
        model_row = self.row("fee.model")
        models = list(model_row.choices) if model_row else []
        out: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}
        for model in models:
            needs = {
                f.name: f.get("models", {}).get(model)
                for f in self.members("fee")
                if f.name != "model"
            }
            out[model] = tuple(  # type: ignore[assignment]
                tuple(k for k, v in needs.items() if v == need) for need in MODEL_NEEDS
            )
        return out

    def placeholders(self) -> dict[str, dict[str, Any]]:
        """``{name: {"format", "unit", ...}}``: every value a standard clause may name."""
        return self._placeholders  # type: ignore[attr-defined]

    def _make_placeholders(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for f in self.fields:
            if f.document:
                out[f.resolved_name] = {
                    "unit": f.get("unit"), "unset": f.get("unset"), "words": f.get("words"),
                    **f.document,
                }  # fmt: skip
        for name, spec in self.profile_placeholders.items():
            out[name] = dict(spec) if isinstance(spec, Mapping) else {"format": spec}
        return out

    def redline_rows(self) -> list[TermField]:
        """The rows a redline compares, in the order it lists them."""
        rows = [f for f in self.fields if f.redline]
        return sorted(rows, key=lambda f: f.redline.get("rank", 1000))  # type: ignore[union-attr]

    def form_rows(self, section: str) -> list[TermField]:
        """The form's fields in one card ("fees", "dates", ...), in page order."""
        rows = [f for f in self.fields if f.widget and f.form.get("section") == section]
        return sorted(rows, key=lambda f: f.form.get("rank", 1000))


def _check(rows: list[TermField], path: Path | None) -> None:
    """Refuse a table a layer could not use (names the row, so a typo is found)."""
    where = str(path or "terms table")
    keys = [r.key for r in rows]
    problems = []
    if len(set(keys)) != len(keys):
        problems.append("a key appears twice")
    tops = {r.key: r for r in rows if r.group is None}
    for r in rows:
        if r.type not in TYPES:
            problems.append(f"{r.key}: unknown type {r.type!r}")
        if r.group is not None and (r.group not in tops or tops[r.group].type not in OBJECT_TYPES):
            problems.append(f"{r.key}: {r.group} is not an object term (fee or group) above it")
        if r.widget is not None and r.widget not in WIDGETS:
            problems.append(f"{r.key}: unknown widget {r.widget!r}")
        if r.redline and r.redline.get("format") not in REDLINE_FORMATS:
            problems.append(f"{r.key}: unknown redline format {r.redline.get('format')!r}")
        if r.document and r.document.get("format") not in DOCUMENT_FORMATS:
            problems.append(f"{r.key}: unknown document format {r.document.get('format')!r}")
        if r.document and r.document.get("format") == "count" and not r.get("unit"):
            problems.append(f"{r.key}: a count needs a unit")
        if r.type in ("choice", "choices") and not r.choices:
            problems.append(f"{r.key}: a choice needs choices")
        if r.type == "whole" and (r.get("min") is None or r.get("max") is None):
            problems.append(f"{r.key}: a whole number needs min and max")
        alias = r.get("alias_of")
        if alias and (r.group is None or f"{r.group}.{alias}" not in keys):
            problems.append(f"{r.key}: alias_of {alias!r} is not a member beside it")
        for model, need in (r.get("models") or {}).items():
            if need not in MODEL_NEEDS:
                problems.append(f"{r.key}: models.{model} must be required or optional")
    if problems:
        raise TableInvalid(f"{where}: " + "; ".join(problems))


_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_table(path: Path | str = TABLE_FILE) -> TermTable:
    """A term table from its YAML file (:class:`TableInvalid` when it cannot be used)."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    try:  # libyaml's loader where installed: the same data, several times faster
        data = yaml.load(text, Loader=_FAST_LOADER) or {}  # noqa: S506 - a safe loader
    except yaml.YAMLError:
        data = yaml.safe_load(text) or {}  # the pure-Python loader's message
    rows = []
    for raw in data.get("fields") or []:
        if not isinstance(raw, Mapping) or not raw.get("key") or not raw.get("type"):
            raise TableInvalid(f"{path}: every row needs a key and a type ({raw!r})")
        rows.append(TermField(raw["key"], raw["type"], raw.get("label") or raw["key"], raw))
    _check(rows, path)
    sections = dict(data.get("form_sections") or {})
    for r in rows:
        section = r.form.get("section")
        if r.widget and section not in sections:
            raise TableInvalid(
                f"{path}: {r.key}: form.section {section!r} is not a form_sections id"
            )
    return TermTable(tuple(rows), dict(data.get("profile_placeholders") or {}), path, sections)


_override: list[TermTable] = []


@cache
def _shipped() -> TermTable:
    return load_table(TABLE_FILE)


def table() -> TermTable:
    """The term table in use: the shipped one unless :func:`use_table` set another."""
    return _override[-1] if _override else _shipped()


@contextlib.contextmanager
def use_table(source: Path | str | TermTable) -> Iterator[TermTable]:
    """Use another term table (a file, or a loaded table) until the block ends."""
    chosen = source if isinstance(source, TermTable) else load_table(source)
    _override.append(chosen)
    try:
        yield chosen
    finally:
        _override.remove(chosen)
