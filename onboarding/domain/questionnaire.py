"""The intake questionnaire as typed objects, and validation of a whole answer set.

The questions come from one data file (``onboarding/domain/data/questionnaire.yaml``); the
web forms, the API and the command line are all generated from it. Validation returns
every problem at once as :class:`FieldError` values (question id + a sentence).
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import email_validator
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


# --- helpers of the checks below --------------------------------------------------------


def _whole(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a whole number")
    if isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            raise ValueError("must be a whole number")
        value = int(value)
    return value


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


# --- compiled checks: (raw value) -> clean value, or an _Invalid listing every problem ----
# Built once per question when the questionnaire loads. The common answer is checked
# by a few type tests and comparisons, with no exception raised; anything unusual falls
# through to the full check, which words each problem as the per-type validators did
# (tests/interpreted.py keeps them, and tests/unit/test_compiled.py compares the two).


class _Invalid:
    """The problems of one answer (sentences without the question's label)."""

    __slots__ = ("messages",)

    def __init__(self, messages: list[str] | tuple[str, ...]):
        self.messages = tuple(messages)


# The characters text.control_problem looks at: none of them, no problem.
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# Addresses email_validator accepts and leaves as typed but for the domain's case: plain
# ASCII dot-atoms, letters-only top-level domain, no "--" (punycode); anything else is
# given to the library (tests/unit/test_compiled.py compares the two).
_PLAIN_EMAIL = re.compile(
    r"([A-Za-z0-9_+-]{1,64}(?:\.[A-Za-z0-9_+-]+)*)@"
    r"((?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+([A-Za-z]{2,63}))"
)


def _plain_email(value: str) -> str | None:
    """``value`` normalised as email_validator would, when it is a plain address."""
    m = _PLAIN_EMAIL.fullmatch(value)
    if (
        m is None
        or len(m.group(1)) > 64
        or len(m.group(2)) > 253
        or "--" in m.group(2)
        or m.group(3).lower() in email_validator.SPECIAL_USE_DOMAIN_NAMES
    ):
        return None
    return f"{m.group(1)}@{m.group(2).lower()}"


@functools.lru_cache(maxsize=2048)
def _library_email(value: str) -> str | _Invalid:
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        return _Invalid([f"is not a valid email address ({exc})"])


def _check_text(q: Question) -> Callable[[Any], Any]:
    limit = q.max_length or None
    multiline = q.long
    search = _CONTROL_CHARS.search

    def full(value: str) -> Any:
        problems = []
        if "\x00" in value:
            problems.append("must not contain NUL characters")
        else:
            problem = control_problem(value, multiline=multiline)
            if problem:
                problems.append(problem)
        if limit and len(value) > limit:
            problems.append(f"must be at most {limit} characters (got {len(value)})")
        return _Invalid(problems) if problems else value or None

    def check(value: Any) -> Any:
        if not isinstance(value, str):
            return _Invalid(["must be text"])
        value = value.strip()
        if search(value) is None and (limit is None or len(value) <= limit):
            return value or None
        return full(value)

    return check


def _check_email(q: Question) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if not isinstance(value, str):
            return _Invalid(["must be an email address"])
        value = value.strip()
        if not value:
            return None
        if len(value) > 254:
            return _Invalid(["must be at most 254 characters"])
        return _plain_email(value) or _library_email(value)

    return check


def _check_integer(q: Question) -> Callable[[Any], Any]:
    lo, hi = q.bounds()

    def check(value: Any) -> Any:
        if value.__class__ is not int:
            try:
                value = _whole(value)
            except ValueError as exc:
                return _Invalid([str(exc)])
        if lo <= value <= hi:
            return value
        return _Invalid([f"must be between {lo} and {hi} (got {value})"])

    return check


def _as_text(value: Any) -> str | None:
    """A whole number given where text was asked for, as that text ("24")."""
    try:
        return str(_whole(value))
    except ValueError:
        return None


def _check_choice(q: Question) -> Callable[[Any], Any]:
    values = q.values
    listed = ", ".join(values)

    def check(value: Any) -> Any:
        if value.__class__ is str and value in values:
            return value
        if not isinstance(value, str):
            text = _as_text(value)
            if text is not None and text in values:
                return _Invalid([f'give one of the listed values as text: "{text}"'])
            return _Invalid([f"must be one of: {listed}"])
        if value in values:  # a str subclass
            return value
        return _Invalid([f"{value!r} is not one of: {listed}"])

    return check


def _check_multi(q: Question) -> Callable[[Any], Any]:
    values = q.values
    order = tuple(values)
    listed = ", ".join(values)

    def full(value: Any) -> Any:
        if not isinstance(value, list):
            return _Invalid([f"must be a list of values from: {listed}"])
        problems: list[str] = []
        seen: list[str] = []
        for item in value:
            if not isinstance(item, str) or item not in values:
                problem = f"{item!r} is not one of: {listed}"
            elif item in seen:
                problem = f"{item!r} is listed more than once"
            else:
                seen.append(item)
                continue
            if problem not in problems:
                problems.append(problem)
        if problems:
            return _Invalid(problems)
        return [v for v in order if v in seen]

    def check(value: Any) -> Any:
        if value.__class__ is list:
            for item in value:
                if item.__class__ is not str or item not in values:
                    return full(value)
            chosen = set(value)
            if len(chosen) == len(value):
                # Canonical order (the questionnaire's): equal sets, equal assessments.
                return [v for v in order if v in chosen]
        return full(value)

    return check


def _check_yesno(q: Question) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if value is True or value is False:
            return value
        return _Invalid(["must be true or false"])

    return check


def _check_date(q: Question) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        try:
            return _date(q, value)
        except ValueError as exc:
            return _Invalid([str(exc)])

    return check


CHECKS: dict[str, Callable[[Question], Callable[[Any], Any]]] = {
    "text": _check_text,
    "email": _check_email,
    "integer": _check_integer,
    "scale": _check_integer,
    "choice": _check_choice,
    "multi": _check_multi,
    "yesno": _check_yesno,
    "date": _check_date,
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
        # Each question's compiled check, and "Label: " before its messages.
        self._checks = tuple(
            (q.id, CHECKS[q.type](q), f"{q.label.rstrip('?')}: ") for q in self.questions.values()
        )
        self._after: tuple = ()
        self._fast: Callable[[dict[str, Any]], dict[str, Any] | None] | None = None

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
        self._plan_after()

    def _plan_after(self) -> None:
        """What :meth:`validate` does after the checks, per question, in order."""
        self._after = tuple(
            (
                q.id,
                self._show_if[q.id].evaluate if q.id in self._show_if else None,
                self._form_show_if[q.id].evaluate if q.id in self._form_show_if else None,
                q.required,
                q.form_required,
                q.type == "multi",
                q.form_hidden_value,
                f"{q.label.rstrip('?')}: ",
            )
            for q in self.questions.values()
        )

    def _fast_path(self) -> Callable[[dict[str, Any]], dict[str, Any] | None]:
        """:meth:`validate` of a complete answer set as one generated function: each
        answer's common case checked in place (a listed choice, a whole number in range,
        plain text), the others by their compiled check, each ``show_if`` inline over
        the answers read once. It gives up (None) at the first answer that is not valid,
        a required one missing or a key that is not a question: :meth:`validate` then
        takes the long way, which words every problem (tests/unit/test_compiled.py
        compares both with the interpreted path)."""
        from onboarding.domain.rules import NAMESPACE, to_python

        names = {qid: f"v{i}" for i, qid in enumerate(self.questions)}
        namespace: dict[str, Any] = dict(NAMESPACE)
        namespace.update(_Invalid=_Invalid, _search=_CONTROL_CHARS.search)
        namespace["_known"] = frozenset(self.questions)
        lines = ["def fast(a):", "    if not a.keys() <= _known:", "        return None"]
        lines.append("    g = a.get")
        for (qid, check, _), q in zip(self._checks, self.questions.values(), strict=True):
            v = names[qid]
            lines += [f"    {v} = g({qid!r})", f"    if {v} is not None:"]
            if q.type == "yesno":
                lines.append(f"        if {v} is not True and {v} is not False: return None")
            elif q.type in ("integer", "scale"):
                lo, hi = q.bounds()
                lines.append(
                    f"        if {v}.__class__ is not int or not {lo!r} <= {v} <= {hi!r}: "
                    "return None"
                )
            elif q.type == "choice":
                namespace[f"C_{v}"] = q.values
                lines.append(
                    f"        if {v}.__class__ is not str or {v} not in C_{v}: return None"
                )
            elif q.type == "text":
                limit = q.max_length or None
                too_long = f" or len({v}) > {limit!r}" if limit is not None else ""
                lines += [
                    f"        if {v}.__class__ is not str: return None",
                    f"        {v} = {v}.strip()",
                    f"        if _search({v}) is not None{too_long}: return None",
                    f"        {v} = {v} or None",
                ]
            else:
                namespace[f"K_{v}"] = check
                lines += [
                    f"        {v} = K_{v}({v})",
                    f"        if {v}.__class__ is _Invalid: return None",
                ]
        for qid, _, _, needed, *_ in self._after:
            v = names[qid]
            condition = self._show_if.get(qid)
            if condition is not None:
                lines += [
                    f"    if not {to_python(condition.tree, names.__getitem__)}:",
                    f"        {v} = None",
                ]
                if needed:
                    lines.append(f"    elif {v} is None: return None")
            elif needed:
                lines.append(f"    if {v} is None: return None")
        lines.append("    return {" + ", ".join(f"{qid!r}: {v}" for qid, v in names.items()) + "}")
        code = compile("\n".join(lines) + "\n", "<validate>", "exec")
        exec(code, namespace)  # noqa: S102 - generated from the checked questionnaire
        return namespace["fast"]

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
        """One answer checked and normalised; raise ValueError with a sentence (the
        first problem, when there are several)."""
        q = self.questions[question_id]
        if value is None:
            return None
        result = CHECKS[q.type](q)(value)
        if result.__class__ is _Invalid:
            raise ValueError(result.messages[0])
        return result

    def validate(
        self, answers: Any, *, partial: bool = False, form: bool = False
    ) -> tuple[dict[str, Any], list[FieldError]]:
        """Check a whole answer set.

        Returns ``(clean, errors)``: ``clean`` maps every question id to its normalised
        value (``None`` when unanswered or hidden); ``errors`` lists every problem in
        questionnaire order, every problem of each answer (a list with an unknown value
        and a repeated one has both). With ``partial=True`` missing answers are not
        errors (a draft). Hidden questions are never required and their answers are
        dropped. With ``form=True`` (the web form) the questions marked
        ``form_required`` are required too; answer files and the API may leave them out.
        """
        if answers.__class__ is not dict and not isinstance(answers, Mapping):
            return {}, [FieldError("answers", "must be a JSON object of question ids")]
        if not self._after:
            self._plan_after()
        if not partial and not form and answers.__class__ is dict:
            if self._fast is None:
                self._fast = self._fast_path()
            clean = self._fast(answers)
            if clean is not None:  # every answer valid at first sight, none missing
                return clean, []
        questions = self.questions
        unknown = [
            FieldError(str(key), "is not a question of this questionnaire")
            for key in answers
            if key not in questions
        ]
        clean: dict[str, Any] = {}
        bad: dict[str, list[FieldError]] = {}
        get = answers.get
        for qid, check, prefix in self._checks:
            value = get(qid)
            if value is not None:
                value = check(value)
                if value.__class__ is _Invalid:
                    bad[qid] = [FieldError(qid, prefix + m) for m in value.messages]
                    value = None
            clean[qid] = value
        required = not partial
        for qid, show_if, form_show_if, needed, form_needed, multi, hidden, prefix in self._after:
            if show_if is not None and not show_if(clean):
                clean[qid] = None
                bad.pop(qid, None)
                continue
            if form and form_show_if is not None and not form_show_if(clean):
                clean[qid] = hidden  # not asked: the answer it implies
                bad.pop(qid, None)
                continue
            asked = form and form_needed and required
            if (needed or asked) and required and clean[qid] is None and qid not in bad:
                bad[qid] = [FieldError(qid, f"{prefix}an answer is required")]
            elif asked and multi and clean[qid] == []:
                bad[qid] = [FieldError(qid, f"{prefix}choose at least one")]
        if not bad:
            return clean, unknown
        return clean, unknown + [e for qid in questions if qid in bad for e in bad[qid]]

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
            if raw.get("type") not in CHECKS:
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
