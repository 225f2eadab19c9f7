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


def _value_schema(q: Question, *, required: bool) -> dict[str, Any]:
    if q.type == "text":
        schema: dict[str, Any] = {"type": "string"}
        if q.max_length:
            schema["maxLength"] = q.max_length
        # No NUL characters; a required text needs a character that is not a space
        # (answers are trimmed and an empty one is unanswered).
        schema["pattern"] = "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$" if required else "^[^\\u0000]*$"
    elif q.type == "email":
        schema = {"type": "string", "format": "email", "maxLength": 254}
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
        schema = {"type": "string", "format": "date", "pattern": "^\\d{4}-\\d{2}-\\d{2}$"}
    else:  # yesno
        schema = {"type": "boolean"}
    return schema


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
    any question may be missing or null. ``show_if`` cannot be expressed per question
    here (``past_problems`` is required only when ``worked_with_agency_before`` is
    true), so such questions are left out of ``required`` and their description says it.
    """
    questionnaire = questionnaire or get_questionnaire()
    properties: dict[str, Any] = {}
    required: list[str] = []
    for section in questionnaire.sections:
        for q in section.questions:
            must = q.required and not partial and not q.show_if
            schema = _value_schema(q, required=must)
            if not must:
                schema["type"] = [schema["type"], "null"]
                if "enum" in schema:
                    schema["enum"] = [*schema["enum"], None]
            schema["title"] = q.label
            schema["description"] = _describe(q, section.title, required=must, partial=partial)
            properties[q.id] = schema
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
                f"Conditional questions ({', '.join(conditional)}) are required when shown, "
                "which this schema cannot express: the API names them in a 422 when missing."
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
    return out
