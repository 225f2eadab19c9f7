"""The intake questionnaire as typed objects, and validation of a whole answer set.

The questions come from one data file (``onboarding/data/questionnaire.yaml``); the
web forms, the API and the command line are all generated from it. Validation returns
every problem at once as :class:`FieldError` values (question id + a sentence).
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from email_validator import EmailNotValidError, validate_email

from onboarding.domain.text import control_problem

DATA_FILE = Path(__file__).resolve().parent / "data" / "questionnaire.yaml"

SCALE_MIN, SCALE_MAX = 1, 5


@dataclass(frozen=True)
class FieldError:
    """One problem with one answer (or one playbook field)."""

    question: str
    message: str

    def as_dict(self) -> dict[str, str]:
        """The contract form: ``{"question": ..., "message": ...}``."""
        return {"question": self.question, "message": self.message}


class AnswersInvalid(ValueError):
    """Raised by :func:`onboarding.assess` when answers do not validate."""

    def __init__(self, errors: list[FieldError]):
        self.errors = errors
        super().__init__("; ".join(f"{e.question}: {e.message}" for e in errors))

    def as_dict(self) -> dict[str, list[dict[str, str]]]:
        """``{"errors": [{"question", "message"}, ...]}`` as the API and CLI print it."""
        return {"errors": [e.as_dict() for e in self.errors]}


@dataclass(frozen=True)
class Question:
    """One question of the questionnaire."""

    id: str
    type: str
    section: str
    label: str
    help: str = ""
    required: bool = True
    max_length: int | None = None
    min: int | None = None
    max: int | None = None
    values: dict[str, str] = field(default_factory=dict)
    ends: tuple[str, str] | None = None
    show_if: str | None = None
    monotone: str | None = None
    long: bool = False
    suffix: str = ""
    suffix_one: str = ""
    autocomplete: str = ""
    # Asked, and required, by the web form; optional in answer files and the API
    # (questions added after v1: an answer file valid under v1 stays valid).
    form_required: bool = False
    # What the answer is, in a few words, for the web form's error messages
    # ("Enter <name>", "<Name> must be between 1 and 104"): never the label repeated.
    name: str = ""
    # The web form asks this question only while ``form_show_if`` holds and records
    # ``form_hidden_value`` otherwise (answer files and the API still answer it).
    form_show_if: str | None = None
    form_hidden_value: Any = None

    def bounds(self) -> tuple[int, int]:
        """The inclusive range of a numeric question."""
        if self.type == "scale":
            return SCALE_MIN, SCALE_MAX
        return int(self.min), int(self.max)

    def display(self, value: Any) -> str:
        """The answer as a person reads it (labels, not codes)."""
        if value is None or value == "":
            return "not answered"
        if self.type == "yesno":
            return "Yes" if value else "No"
        if self.type == "choice":
            return self.values.get(value, str(value))
        if self.type == "multi":
            if not value:
                return "none"
            return join_words([self.values.get(v, str(v)) for v in value])
        if self.type == "scale":
            return f"{value} of 5"
        if self.type == "date":
            day = dt.date.fromisoformat(value)
            return f"{day.day} {day:%B %Y}"
        if self.type == "integer" and self.suffix:
            return f"{value} {self.suffix_one if value == 1 and self.suffix_one else self.suffix}"
        return str(value)

    def instruction(self, raw: Any) -> str:
        """The web form's message for a refused or missing answer ``raw``, written as an
        instruction in plain words (the GOV.UK pattern): it says what to do, never
        repeats the label, and quotes no library text."""
        name = self.name or "an answer"
        subject = name[0].upper() + name[1:]
        if raw is None or raw == [] or (isinstance(raw, str) and not raw.strip()):
            if self.type == "multi":
                return f"Select {name}"
            verb = "Enter" if self.type in ("text", "email", "integer", "date") else "Select"
            return f"{verb} {name}"
        if self.type == "email":
            if isinstance(raw, str) and len(raw.strip()) > 254:
                return f"{subject} must be 254 characters or fewer"
            return "Enter an email address in the correct format, like name@example.com"
        if self.type == "integer":
            lo, hi = self.bounds()
            try:
                _whole(raw)
            except ValueError:
                return f"{subject} must be a whole number, like {max(lo, min(hi, 3))}"
            return f"{subject} must be between {lo} and {hi}"
        if self.type == "text":
            if isinstance(raw, str) and self.max_length and len(raw.strip()) > self.max_length:
                return f"{subject} must be {self.max_length:,} characters or fewer"
            return f"Enter {name} without invisible control characters"
        if self.type == "date":
            return f"{subject} must be a real date between {DATE_MIN.year} and {DATE_MAX.year}"
        return f"Select {name} using the options given"


def join_words(items: list[str]) -> str:
    """``["a", "b", "c"]`` -> ``"a, b and c"``."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    intro: str
    questions: tuple[Question, ...]


# --- per-type validators: (question, raw value) -> clean value, or raise ValueError ----


def _text(q: Question, value: Any) -> Any:
    if not isinstance(value, str):
        raise ValueError("must be text")
    value = value.strip()
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    problem = control_problem(value, multiline=q.long)
    if problem:
        raise ValueError(problem)
    if q.max_length and len(value) > q.max_length:
        raise ValueError(f"must be at most {q.max_length} characters (got {len(value)})")
    return value or None


def _email(q: Question, value: Any) -> Any:
    if not isinstance(value, str):
        raise ValueError("must be an email address")
    value = value.strip()
    if not value:
        return None
    if len(value) > 254:
        raise ValueError("must be at most 254 characters")
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValueError(f"is not a valid email address ({exc})") from None


def _whole(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a whole number")
    if isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            raise ValueError("must be a whole number")
        value = int(value)
    return value


def _integer(q: Question, value: Any) -> Any:
    value = _whole(value)
    lo, hi = q.bounds()
    if not lo <= value <= hi:
        raise ValueError(f"must be between {lo} and {hi} (got {value})")
    return value


def _choice(q: Question, value: Any) -> Any:
    if not isinstance(value, str):
        raise ValueError(f"must be one of: {', '.join(q.values)}")
    if value not in q.values:
        raise ValueError(f"{value!r} is not one of: {', '.join(q.values)}")
    return value


def _multi(q: Question, value: Any) -> Any:
    if not isinstance(value, list):
        raise ValueError(f"must be a list of values from: {', '.join(q.values)}")
    seen: list[str] = []
    for item in value:
        if not isinstance(item, str) or item not in q.values:
            raise ValueError(f"{item!r} is not one of: {', '.join(q.values)}")
        if item in seen:
            raise ValueError(f"{item!r} is listed more than once")
        seen.append(item)
    # Canonical order (the questionnaire's), so equal sets give equal assessments.
    return [v for v in q.values if v in seen]


DATE_MIN, DATE_MAX = dt.date(2000, 1, 1), dt.date(2100, 12, 31)


def _date(q: Question, value: Any) -> Any:
    if not isinstance(value, str):
        raise ValueError("must be a date written YYYY-MM-DD")
    value = value.strip()
    if not value:
        return None
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value[:20]!r} is not a date written YYYY-MM-DD") from None
    if len(value) != 10 or not DATE_MIN <= day <= DATE_MAX:
        raise ValueError(f"must be a date written YYYY-MM-DD, from {DATE_MIN} to {DATE_MAX}")
    return day.isoformat()


def _yesno(q: Question, value: Any) -> Any:
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


VALIDATORS: dict[str, Callable[[Question, Any], Any]] = {
    "text": _text,
    "email": _email,
    "integer": _integer,
    "scale": _integer,
    "choice": _choice,
    "multi": _multi,
    "yesno": _yesno,
    "date": _date,
}


class Questionnaire:
    """All sections and questions, with ``show_if`` conditions compiled."""

    def __init__(self, sections: list[Section], version: int = 1):
        self.version = version
        self.sections = tuple(sections)
        self.questions: dict[str, Question] = {q.id: q for s in self.sections for q in s.questions}
        self.section_of = {q.id: s.id for s in self.sections for q in s.questions}
        self._show_if: dict[str, Any] = {}
        self._form_show_if: dict[str, Any] = {}

    def compile_conditions(self) -> None:
        """Compile every ``show_if`` (after all questions are known)."""
        from onboarding.domain.rules import (
            compile_condition,  # the condition language reads questions
        )

        for q in self.questions.values():
            if q.show_if:
                self._show_if[q.id] = compile_condition(q.show_if, self)
            if q.form_show_if:
                self._form_show_if[q.id] = compile_condition(q.form_show_if, self)

    def shown(self, question_id: str, answers: Mapping[str, Any], *, form: bool = False) -> bool:
        """Whether a question is shown given (clean) answers to the others; with
        ``form=True``, whether the web form asks it (its ``form_show_if`` too)."""
        condition = self._show_if.get(question_id)
        if condition is not None and not condition(answers):
            return False
        condition = self._form_show_if.get(question_id) if form else None
        return condition is None or condition(answers)

    def condition_of(self, question_id: str, *, form: bool = False):
        """The compiled ``show_if`` of a question (with ``form=True``, the web form's
        ``form_show_if`` when it has one), or None."""
        if form and question_id in self._form_show_if:
            return self._form_show_if[question_id]
        return self._show_if.get(question_id)

    def section(self, section_id: str) -> Section:
        """The section with this id; KeyError if none."""
        for s in self.sections:
            if s.id == section_id:
                return s
        raise KeyError(section_id)

    def clean_value(self, question_id: str, value: Any) -> Any:
        """One answer checked and normalised; raise ValueError with a sentence."""
        q = self.questions[question_id]
        if value is None:
            return None
        return VALIDATORS[q.type](q, value)

    def validate(
        self, answers: Any, *, partial: bool = False, form: bool = False
    ) -> tuple[dict[str, Any], list[FieldError]]:
        """Check a whole answer set.

        Returns ``(clean, errors)``: ``clean`` maps every question id to its normalised
        value (``None`` when unanswered or hidden); ``errors`` lists every problem in
        questionnaire order. With ``partial=True`` missing answers are not errors (a
        draft). Hidden questions are never required and their answers are dropped.
        With ``form=True`` (the web form) the questions marked ``form_required`` are
        required too; answer files and the API may leave them out.
        """
        if not isinstance(answers, Mapping):
            return {}, [FieldError("answers", "must be a JSON object of question ids")]
        errors: list[FieldError] = []
        for key in answers:
            if key not in self.questions:
                errors.append(FieldError(str(key), "is not a question of this questionnaire"))
        clean: dict[str, Any] = {}
        for q in self.questions.values():
            try:
                value = self.clean_value(q.id, answers.get(q.id))
            except ValueError as exc:
                errors.append(FieldError(q.id, f"{q.label.rstrip('?')}: {exc}"))
                clean[q.id] = None
                continue
            clean[q.id] = value
        for q in self.questions.values():
            if not self.shown(q.id, clean):
                clean[q.id] = None
                errors = [e for e in errors if e.question != q.id]
                continue
            if form and not self.shown(q.id, clean, form=True):
                clean[q.id] = q.form_hidden_value  # not asked: the answer it implies
                errors = [e for e in errors if e.question != q.id]
                continue
            asked = form and q.form_required and not partial
            if (
                (q.required or asked)
                and not partial
                and clean[q.id] is None
                and not any(e.question == q.id for e in errors)
            ):
                errors.append(FieldError(q.id, f"{q.label.rstrip('?')}: an answer is required"))
            elif asked and q.type == "multi" and clean[q.id] == []:
                errors.append(FieldError(q.id, f"{q.label.rstrip('?')}: choose at least one"))
        order = {qid: i for i, qid in enumerate(self.questions)}
        errors.sort(key=lambda e: order.get(e.question, -1))
        return clean, errors

    def validate_step(
        self,
        section_id: str,
        stored: Mapping[str, Any],
        submitted: Mapping[str, Any],
        *,
        form: bool = False,
    ) -> tuple[dict[str, Any], list[FieldError]]:
        """Check one section's submitted answers against the rest of the stored set.

        Returns ``(values, errors)``: ``values`` holds the valid answers of this section
        (to store; hidden questions as ``None``), ``errors`` this section's problems,
        including required questions shown but left unanswered.
        """
        section = self.section(section_id)
        ids = [q.id for q in section.questions]
        merged = {k: v for k, v in stored.items() if k in self.questions}
        merged.update({k: submitted.get(k) for k in ids})
        clean, errors = self.validate(merged, form=form)
        errors = [e for e in errors if e.question in ids]
        bad = {e.question for e in errors}
        values = {qid: clean[qid] for qid in ids if qid not in bad}
        return values, errors

    def form_errors(
        self, errors: list[FieldError], submitted: Mapping[str, Any]
    ) -> list[FieldError]:
        """``errors`` of the web form with :meth:`Question.instruction` messages, for the
        answers ``submitted`` (the API and the command line keep the contract's words)."""
        out = []
        for e in errors:
            q = self.questions.get(e.question)
            message = q.instruction(submitted.get(q.id)) if q else e.message
            out.append(FieldError(e.question, message))
        return out

    def as_dict(self) -> dict[str, Any]:
        """The questionnaire as plain data (for the API and front ends)."""
        out = []
        for s in self.sections:
            qs = []
            for q in s.questions:
                item: dict[str, Any] = {
                    "id": q.id,
                    "type": q.type,
                    "label": q.label,
                    "required": q.required,
                }
                if q.form_required:
                    item["form_required"] = True
                if q.help:
                    item["help"] = q.help
                if q.max_length:
                    item["max_length"] = q.max_length
                if q.type in ("integer", "scale"):
                    item["min"], item["max"] = q.bounds()
                if q.values:
                    item["values"] = [{"value": k, "label": v} for k, v in q.values.items()]
                if q.ends:
                    item["ends"] = list(q.ends)
                if q.show_if:
                    item["show_if"] = q.show_if
                qs.append(item)
            out.append({"id": s.id, "title": s.title, "intro": s.intro, "questions": qs})
        return {"version": self.version, "sections": out}


QUESTION_KEYS = set(Question.__dataclass_fields__) - {"section"}


def load_questionnaire(path: Path | str = DATA_FILE) -> Questionnaire:
    """Load and check the questionnaire data file; raise ValueError naming the problem."""
    path = Path(path)
    # libyaml's loader where PyYAML has it: the same data, several times faster.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506 - safe
    sections = []
    seen: set[str] = set()
    for s in data["sections"]:
        questions = []
        for raw in s["questions"]:
            unknown = set(raw) - QUESTION_KEYS
            qid = raw.get("id", "?")
            if unknown:
                raise ValueError(f"{path.name}: {qid}: unknown keys {sorted(unknown)}")
            if raw.get("type") not in VALIDATORS:
                raise ValueError(f"{path.name}: {qid}: unknown type {raw.get('type')!r}")
            if qid in seen:
                raise ValueError(f"{path.name}: {qid}: defined twice")
            seen.add(qid)
            raw = dict(raw)
            if "values" in raw:
                raw["values"] = {str(k): str(v) for k, v in raw["values"].items()}
            if "ends" in raw:
                raw["ends"] = tuple(raw["ends"])
            questions.append(Question(section=s["id"], **raw))
        sections.append(Section(s["id"], s["title"], s.get("intro", ""), tuple(questions)))
    questionnaire = Questionnaire(sections, data.get("version", 1))
    questionnaire.compile_conditions()
    return questionnaire


@functools.cache
def get_questionnaire() -> Questionnaire:
    """The product's questionnaire, loaded once per process."""
    return load_questionnaire()
