"""The JSON Schema of an ``answers`` object, generated from the questionnaire data.

The same data ``Questionnaire.validate`` checks answers with: types, enums, ranges,
lengths and the required list. No Flask here.
"""

from __future__ import annotations

from typing import Any

from onboarding.domain.questionnaire import (
    SCALE_MAX,
    SCALE_MIN,
    Question,
    Questionnaire,
    get_questionnaire,
)

# Answers are trimmed (Python's ``str.strip``: these characters) before they are checked;
# a trimmed answer that is empty is unanswered.
_SPACE = (
    "[\\t\\n\\u000b\\u000c\\r\\u001c-\\u001f \\u0085\\u00a0\\u1680\\u2000-\\u200a"
    "\\u2028\\u2029\\u202f\\u205f\\u3000]"
)
# What a text may hold once trimmed (domain.text.control_problem): no control character
# but tab; a long answer may have line breaks too (LF, or CR before LF).
_LINE = "[^\\u0000-\\u0008\\u000a-\\u001f\\u007f-\\u009f\\u2028\\u2029]"
_LINES = "(?:[^\\u0000-\\u0008\\u000b-\\u001f\\u007f-\\u009f\\u2028\\u2029]|\\r\\n)"
# ... and one that is not a space (a text of only spaces is empty once trimmed).
_SOLID = (
    "[^\\u0000-\\u0020\\u007f-\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]"
)
_ATEXT = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_LABEL = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,38}[A-Za-z0-9])?"
_SPECIAL_USE = (
    "(?:[Aa][Rr][Pp][Aa]|[Ii][Nn][Vv][Aa][Ll][Ii][Dd]|[Ll][Oo][Cc][Aa][Ll]"
    "|[Ll][Oo][Cc][Aa][Ll][Hh][Oo][Ss][Tt]|[Oo][Nn][Ii][Oo][Nn]|[Tt][Ee][Ss][Tt])"
)
EMAIL = (
    f"{_ATEXT}{{1,30}}(?:\\.{_ATEXT}{{1,16}}){{0,2}}@(?:{_LABEL}\\.){{1,4}}"
    # The top-level domain ends with a letter and is not a special-use name (RFC 6761).
    f"(?!{_SPECIAL_USE}(?:{_SPACE}|$))[A-Za-z](?:[A-Za-z0-9-]{{0,22}}[A-Za-z])?"
)
"""An email address the API takes (email-validator, without its deliverability check,
takes more: quoted or international addresses; they are not documented): a dot-atom of
at most 64 characters, ``@``, a domain of two to five labels of at most 40 characters
whose last (at most 24) begins and ends with a letter and is not a special-use name: at
most 253 characters in all."""
DATE = "(?:20[0-9]{2}|2100)-[0-9]{2}-[0-9]{2}"
"""A day from 2000-01-01 to 2100-12-31 (with ``format: date``: a real day)."""


def text_pattern(*, multiline: bool, required: bool, max_length: int | None = None) -> str:
    """The pattern of a typed text as it is checked: trimmed, then no control character
    (``domain.text.control_problem``) and at most ``max_length`` characters (a line
    break written CR LF counts as one here); ``required``: not empty once trimmed."""
    char = _LINES if multiline else _LINE
    between = "*" if max_length is None else f"{{0,{max_length - 2}}}"
    # What is left once trimmed: from the first character that is not a space to the last.
    core = _SOLID if max_length == 1 else f"{_SOLID}(?:(?:{char}){between}{_SOLID})?"
    return f"^{_SPACE}*{core}{_SPACE}*$" if required else f"^{_SPACE}*(?:{core})?{_SPACE}*$"


def _blank() -> dict[str, Any]:
    """A text that is empty once trimmed: unanswered."""
    return {"type": "string", "pattern": f"^{_SPACE}*$"}


def _value_schema(q: Question, *, required: bool) -> dict[str, Any]:
    """The schema of an answer to ``q``, as ``Questionnaire.clean_value`` checks it;
    ``required``: a text that is empty once trimmed (unanswered) is refused."""
    if q.type == "text":
        # The length is the trimmed text's: in the pattern, not a maxLength.
        pattern = text_pattern(multiline=q.long, required=required, max_length=q.max_length)
        schema: dict[str, Any] = {"type": "string", "pattern": pattern}
    elif q.type == "email":
        email = {"type": "string", "pattern": f"^{_SPACE}*{EMAIL}{_SPACE}*$"}  # <= 253 trimmed
        schema = email if required else {"anyOf": [email, _blank()]}
    elif q.type in ("integer", "scale"):
        lo, hi = q.bounds()
        schema = {"type": "integer", "minimum": lo, "maximum": hi}
    elif q.type == "choice":
        schema = {"type": "string", "enum": list(q.values)}
    elif q.type == "multi":
        schema = {
            "type": "array",
            "items": {"type": "string", "enum": list(q.values)},
            "uniqueItems": True,
        }
    elif q.type == "date":
        day = {"type": "string", "format": "date", "pattern": f"^{DATE}$"}
        schema = day if required else {"anyOf": [day, _blank()]}
    else:  # yesno
        schema = {"type": "boolean"}
    return schema


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema``, or null."""
    if "anyOf" in schema:
        return {"anyOf": [*schema["anyOf"], {"type": "null"}]}
    schema = {**schema, "type": [schema["type"], "null"]}
    if "enum" in schema:
        schema["enum"] = [*schema["enum"], None]
    return schema


def _when(condition: str, questionnaire: Questionnaire) -> dict[str, Any]:
    """The answers in which ``condition`` (a ``show_if``) holds, as a JSON Schema: the
    questionnaire's conditions are a yes/no question's id (true: shown)."""
    q = questionnaire.questions.get(condition.strip())
    if q is None or q.type != "yesno":
        raise ValueError(f"show_if {condition!r}: the schema can only say a yes/no question")
    return {"properties": {q.id: {"const": True}}, "required": [q.id]}


def _describe(q: Question, section_title: str, *, required: bool, partial: bool) -> str:
    parts = [f"{q.label} ({section_title})."]
    if q.help:
        parts.append(q.help)
    if q.type == "scale" and q.ends:
        parts.append(f"{SCALE_MIN} = {q.ends[0]}; {SCALE_MAX} = {q.ends[1]}.")
    if q.values:
        parts.append("Values: " + "; ".join(f"`{k}` {v}" for k, v in q.values.items()) + ".")
    if q.type == "multi":
        parts.append("No repeats; may be empty.")
    if q.type == "date":
        parts.append("A date, YYYY-MM-DD (2000-01-01 to 2100-12-31).")
    if q.max_length:
        parts.append(f"At most {q.max_length:,} characters once trimmed.")
    if q.show_if:
        when = "required when shown" if q.required else "optional"
        parts.append(
            f"Shown only when `{q.show_if}` ({when}); when the condition does not hold the "
            "answer is ignored."
        )
    elif q.form_required:
        parts.append(
            "Optional here (a question added after v1): may be absent or null; the web form "
            "asks it."
        )
    elif not q.required:
        parts.append("Optional: may be absent or null.")
    elif partial:
        parts.append("Required to submit.")
    return " ".join(parts)


def answers_schema(questionnaire: Questionnaire | None = None, *, partial: bool = False) -> dict:
    """The JSON Schema of an answers object, generated from the questionnaire data.

    ``partial=False``: a complete set (what an assessment needs): every required
    question listed in ``required``, non-null. ``partial=True``: a draft's answers, where
    any question may be missing or null. A question with a ``show_if`` is checked (and
    required, if required) only while its condition holds (``allOf``: ``if``, ``then``);
    when it does not, its answer is ignored, whatever it is.
    """
    questionnaire = questionnaire or get_questionnaire()
    properties: dict[str, Any] = {}
    required: list[str] = []
    shown: dict[str, dict[str, Any]] = {}  # condition -> the `then` of its questions
    for section in questionnaire.sections:
        for q in section.questions:
            must = q.required and not partial
            schema = _value_schema(q, required=must)
            if not must:
                schema = _nullable(schema)
            about = {
                "title": q.label,
                "description": _describe(q, section.title, required=must, partial=partial),
            }
            if q.show_if:
                # Checked (and required) only while shown; ignored, whatever it is, when not.
                then = shown.setdefault(q.show_if, {"properties": {}, "required": []})
                then["properties"][q.id] = schema
                if must:
                    then["required"].append(q.id)
                properties[q.id] = about
                continue
            properties[q.id] = schema | about
            if must:
                required.append(q.id)
    conditional = [q.id for q in questionnaire.questions.values() if q.show_if and q.required]
    if partial:
        description = (
            "A draft's answers: `{question_id: value}`, any subset, null for unanswered. "
            "Values are checked as for a complete set; unknown question ids are errors."
        )
    else:
        description = (
            "A complete answer set, `{question_id: value}`, as the questionnaire defines "
            "it (`GET /api/v1/questionnaire`). "
            "Optional questions may be absent or null; unknown question ids are errors. "
            "Texts are trimmed (an empty text is unanswered). "
            + (
                f"Conditional questions ({', '.join(conditional)}) are required when shown "
                "(`allOf`: if the condition holds, then ...); a question not shown is ignored."
                if conditional
                else ""
            )
        )
    out: dict[str, Any] = {
        "type": "object",
        "title": "DraftAnswers" if partial else "Answers",
        "description": description,
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        out["required"] = required
    if shown:
        out["allOf"] = [
            {"if": _when(condition, questionnaire), "then": {k: v for k, v in then.items() if v}}
            for condition, then in shown.items()
        ]
    return out
