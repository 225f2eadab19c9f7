"""Demo data for a fresh database: an admin to sign in with and a few intakes."""

from __future__ import annotations

import json
import random
import secrets
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from onboarding.db import db
from onboarding.db.models import utcnow
from onboarding.domain.playbooks import PlaybookSet
from onboarding.domain.resources import project_dir
from onboarding.domain.samples import random_answers
from onboarding.services.agreement.terms import seed_profile
from onboarding.services.intake.submission import create_intake, submit_intake
from onboarding.services.people.accounts import count_users, create_user

DEMO_ADMIN = "admin@example.com"


def example_answers() -> list[dict]:
    """The bundled example answer files."""
    folder = project_dir("examples")
    return [
        json.loads(p.read_text())
        for p in sorted(Path(folder).glob("*.json"))
        if not p.name.endswith(".terms.json")
    ]


def seed_demo(
    *, settings: Mapping[str, Any], playbooks: PlaybookSet, random_intakes: int = 9
) -> tuple[str, str, int] | None:
    """Create the demo admin and intakes on an empty database; commits.

    ``settings`` (the app's config) hash the passwords; ``playbooks`` (the app's)
    assess the intakes.

    Returns ``(email, password, intakes)``, or None when users already exist.
    """
    if count_users():
        return None
    password = secrets.token_urlsafe(9)
    admin, _ = create_user(DEMO_ADMIN, "admin", password, "Demo Admin", settings=settings)
    manager, _ = create_user(
        "manager@example.com", "manager", secrets.token_urlsafe(12), "Sam Lee", settings=settings
    )
    db.session.flush()
    rng = random.Random(42)  # noqa: S311 - demo data, not secrets
    answer_sets = example_answers() + [random_answers(rng) for _ in range(random_intakes)]
    now = utcnow()
    for i, answers in enumerate(answer_sets):
        intake = create_intake(answers)
        db.session.flush()
        # The demo data: no receipt, no staff notice.
        assessment, errors = submit_intake(intake, playbooks=playbooks, email=False)
        assert not errors, errors
        intake.submitted_at = now - timedelta(days=i, hours=rng.randint(0, 8))
        intake.owner_id = (admin if i % 2 else manager).id
    # Two prospects still filling in the questionnaire.
    for step in ("time", "goals"):
        answers = random_answers(rng)
        draft = create_intake({k: answers[k] for k in ("contact_name", "contact_email", "company")})
        draft.current_step = step
    seed_profile(settings.get("AGENCY_NAME") or "", admin)
    db.session.commit()
    return DEMO_ADMIN, password, len(answer_sets)
