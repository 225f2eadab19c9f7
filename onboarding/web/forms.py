"""WTForms built from the questionnaire data (dynamic form composition).

Fields render and carry what the prospect typed; checking is the domain's
(:meth:`Questionnaire.validate_step`), so the web, the API and the command line give
the same messages. Every input's ``name`` is its question id.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    EmailField,
    Field,
    RadioField,
    SelectChoice,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)

from onboarding.domain.questionnaire import Question, Section


class MultiCheckboxField(SelectMultipleField):
    """A group of checkboxes (a ``multi`` question)."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class WholeNumberField(StringField):
    """A number input that keeps what was typed, so a bad value can be shown back."""

    widget = widgets.NumberInput(step="1")


def _text(q: Question) -> Field:
    cls = TextAreaField if q.long else StringField
    return cls(q.label, render_kw={"maxlength": q.max_length, "autocomplete": q.autocomplete})


def _email(q: Question) -> Field:
    return EmailField(q.label, render_kw={"autocomplete": q.autocomplete, "spellcheck": "false"})


def _integer(q: Question) -> Field:
    lo, hi = q.bounds()
    return WholeNumberField(q.label, render_kw={"min": lo, "max": hi, "inputmode": "numeric"})


def choices(pairs) -> list[SelectChoice]:
    """``[(value, label), ...]`` as WTForms choices."""
    return [SelectChoice(value, label) for value, label in pairs]


def _scale(q: Question) -> Field:
    return RadioField(q.label, choices=choices((str(i), str(i)) for i in range(1, 6)))


def _choice(q: Question) -> Field:
    return RadioField(q.label, choices=choices(q.values.items()))


def _multi(q: Question) -> Field:
    return MultiCheckboxField(q.label, choices=choices(q.values.items()))


def _yesno(q: Question) -> Field:
    return RadioField(q.label, choices=choices([("yes", "Yes"), ("no", "No")]))


def _date(q: Question) -> Field:
    return StringField(q.label, widget=widgets.DateInput())


FIELDS: dict[str, Callable[[Question], Field]] = {
    "text": _text,
    "email": _email,
    "integer": _integer,
    "scale": _scale,
    "choice": _choice,
    "multi": _multi,
    "yesno": _yesno,
    "date": _date,
}
"""Question type -> field factory. Adding a type is one entry here and one in the domain."""


class StepForm(FlaskForm):
    """Base of every step form: CSRF only; fields are added per section."""


def step_form_class(section: Section) -> type[StepForm]:
    """A form class with one field per question of ``section``."""
    attrs = {q.id: FIELDS[q.type](q) for q in section.questions}
    return type(f"{section.id.title()}StepForm", (StepForm,), attrs)


def to_form_value(q: Question, value: Any) -> Any:
    """A stored answer as the field's data (to fill the form in)."""
    if value is None:
        return [] if q.type == "multi" else None
    if q.type == "yesno":
        return "yes" if value else "no"
    if q.type in ("scale", "integer"):
        return str(value)
    return value


def from_form_value(q: Question, raw: Any) -> Any:
    """What the prospect sent, as an answer for the domain to check.

    Numbers that do not parse are passed on as text, so the domain reports
    "must be a whole number" in the same words as everywhere else.
    """
    if q.type == "multi":
        return list(raw or [])
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if q.type in ("integer", "scale"):
        try:
            return int(raw.strip()) if raw.isascii() else raw  # int() reads "５" too
        except ValueError:
            return raw
    if q.type == "yesno":
        return {"yes": True, "no": False}.get(raw, raw)
    return raw


def submitted_answers(section: Section, form: StepForm) -> dict[str, Any]:
    """The section's answers from a posted form (before checking)."""
    return {q.id: from_form_value(q, form[q.id].data) for q in section.questions}


def fill_form(section: Section, form: StepForm, answers: dict[str, Any]) -> None:
    """Put stored answers into a fresh form."""
    for q in section.questions:
        form[q.id].data = to_form_value(q, answers.get(q.id))
