"""Random valid answer sets, generated from the questionnaire (benchmarks, demo data)."""

from __future__ import annotations

import random
from typing import Any

from onboarding.domain.questionnaire import Question, Questionnaire, get_questionnaire

FIRST = ["Alex", "Priya", "Daniel", "Margot", "Kenji", "Amara", "Luca", "Sofia", "Omar", "Ines"]
LAST = ["Morgan", "Raman", "Okafor", "Lindqvist", "Sato", "Mensah", "Rossi", "Novak", "Haddad"]
COMPANY = ["Studio", "Logistics", "Bakery", "Cosmetics", "Health", "Labs", "Outdoor", "Press"]
PREFIX = ["Northwind", "Harbour", "Lumen", "Velvet", "Cedar", "Blue Fern", "Orbit", "Kestrel"]


def _value(q: Question, rng: random.Random, person: dict[str, str]) -> Any:
    if q.type == "text":
        if q.id in person:
            return person[q.id]
        if not q.required and rng.random() < 0.4:
            return None
        return f"{q.label.rstrip('?')} — sample answer {rng.randint(1, 999)}"[: q.max_length]
    if q.type == "email":
        return person["contact_email"]
    if q.type in ("integer", "scale"):
        lo, hi = q.bounds()
        if q.type == "integer" and hi > 20:
            hi = min(hi, lo + 30)
        return rng.randint(lo, hi)
    if q.type == "choice":
        return rng.choice(list(q.values))
    if q.type == "multi":
        return [v for v in q.values if rng.random() < 0.3]
    if q.type == "yesno":
        return rng.random() < 0.5
    if q.type == "date":
        if rng.random() < 0.6:
            return None
        return f"2027-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    raise ValueError(q.type)  # pragma: no cover


def random_answers(rng: random.Random, questionnaire: Questionnaire | None = None) -> dict:
    """A complete, valid answer set with plausible names (hidden questions left out)."""
    q = questionnaire or get_questionnaire()
    first, last = rng.choice(FIRST), rng.choice(LAST)
    company = f"{rng.choice(PREFIX)} {rng.choice(COMPANY)}"
    person = {
        "contact_name": f"{first} {last}",
        "contact_email": f"{first.lower()}.{last.lower()}{rng.randint(1, 9999)}@example.com",
        "company": company,
    }
    answers = {qid: _value(question, rng, person) for qid, question in q.questions.items()}
    clean, _ = q.validate(answers)
    return {k: v for k, v in answers.items() if q.shown(k, clean) and v is not None}
