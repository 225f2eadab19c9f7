"""A prospect driving the intake through the Flask test client, and an intake made ready
to send (``example`` is ``tests.factories.example``, kept here for the tests importing it)."""

from __future__ import annotations

import json
from contextlib import contextmanager
from typing import Any

from onboarding.domain.questionnaire import get_questionnaire
from tests.factories import EXAMPLES, csrf_of, example

__all__ = ["Prospect", "example", "form_data", "make_files", "make_sendable", "revise", "writing"]


def form_data(section_id: str, answers: dict[str, Any]) -> dict[str, Any]:
    """The form fields a browser would send for one section's answers."""
    data: dict[str, Any] = {}
    for q in get_questionnaire().section(section_id).questions:
        value = answers.get(q.id)
        if value is None:
            continue
        if q.type == "yesno":
            data[q.id] = "yes" if value else "no"
        elif q.type == "multi":
            data[q.id] = list(value)
        else:
            data[q.id] = str(value)
    return data


class Prospect:
    """Start, fill in, review and submit an intake like a browser would."""

    def __init__(self, client):
        self.client = client
        self.token: str | None = None

    def start(self) -> str:
        page = self.client.get("/start")
        response = self.client.post("/start", data={"csrf_token": csrf_of(page.text)})
        assert response.status_code == 302
        self.token = response.headers["Location"].rsplit("/", 1)[-1]
        return self.token

    def url(self, tail: str = "") -> str:
        return f"/intake/{self.token}{tail}"

    def step(self, section_id: str, data: dict[str, Any], action: str = "next", **extra):
        page = self.client.get(self.url(f"/step/{section_id}"))
        payload = {**data, "csrf_token": csrf_of(page.text), "action": action, **extra}
        return self.client.post(self.url(f"/step/{section_id}"), data=payload)

    def fill_all(self, answers: dict[str, Any]) -> None:
        for section in get_questionnaire().sections:
            response = self.step(section.id, form_data(section.id, answers))
            assert response.status_code == 302, response.text

    def submit(self):
        page = self.client.get(self.url("/review"))
        return self.client.post(self.url("/submit"), data={"csrf_token": csrf_of(page.text)})


@contextmanager
def writing(app):
    """An app context whose transactions start as write transactions, as the app's own
    writes do (``onboarding.db.engine.begin_write``): for tests that write beside a running
    server (the browser tests' gunicorn and its outbox worker). On SQLite a transaction that
    read first and then writes, after the server wrote, fails at once with "database is
    locked" whatever the busy timeout; one that takes the lock up front waits for it."""
    from onboarding.db import db
    from onboarding.db.engine import WRITE

    with app.app_context():
        db.engine.update_execution_options(**{WRITE: True})
        try:
            yield
        finally:
            db.session.remove()
            db.engine.update_execution_options(**{WRITE: False})


def make_sendable(app, public_id: str, name: str = "burned-marketer") -> None:
    """Give an intake what its agreement needs before it can be sent: a saved agency
    profile (the shipped one) and the example's commercial terms."""
    from onboarding.db import db
    from onboarding.services.agreement import terms as agreement_terms
    from onboarding.services.intake import workspace

    with writing(app):
        agreement_terms.seed_profile(app.config["AGENCY_NAME"])
        intake = workspace.intake_by_public_id(public_id)
        terms = json.loads((EXAMPLES / f"{name}.terms.json").read_text())
        agreement_terms.save_terms(intake, terms, None)
        db.session.commit()


def revise(app, public_id: str, **service_levels) -> None:
    """Change an intake's saved terms (by default one more revision round), so the next
    send is a new version: sending an unchanged agreement again is refused."""
    from onboarding.db import db
    from onboarding.services.agreement import terms as agreement_terms
    from onboarding.services.intake import workspace

    with writing(app):
        intake = workspace.intake_by_public_id(public_id)
        terms = agreement_terms.stored_terms(intake)
        levels = dict(terms.get("service_levels") or {})
        if not service_levels:
            service_levels = {"revision_rounds": int(levels.get("revision_rounds", 2)) + 1}
        terms["service_levels"] = levels | service_levels
        agreement_terms.save_terms(intake, terms, None)
        db.session.commit()


def make_files(app, timeout: float = 60) -> int:
    """What the outbox worker does with the accepted and signed files waiting to be made
    (tests run no render thread of their own; one started by another channel may take a
    job first: then this waits for it); returns how many jobs ran here."""
    import time

    from sqlalchemy import func, select

    from onboarding.db import db
    from onboarding.db.renders import RenderJob
    from onboarding.services.agreement import prerender

    ran, deadline = 0, time.monotonic() + timeout
    with app.app_context():
        while True:
            for job_id in prerender.due_ids(agreements=False):
                prerender.deliver(job_id, agency=app.config["AGENCY_NAME"], agreements=False)
                ran += 1
            waiting = db.session.execute(
                select(func.count(RenderJob.id)).where(
                    RenderJob.kind != "agreement", RenderJob.status.in_(("queued", "rendering"))
                )
            ).scalar_one()
            db.session.rollback()
            if not waiting or time.monotonic() > deadline:
                return ran
            time.sleep(0.05)
