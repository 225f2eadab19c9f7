"""No write lost to a busy database (issue 27): a write that meets SQLite's write lock
waits for it; a request that cannot get it in ``DB_BUSY_SECONDS`` answers 503, keeps
what the form sent, and stores nothing."""

from __future__ import annotations

import json
import sqlite3
import threading
import time

import pytest
from sqlalchemy.exc import OperationalError
from werkzeug.datastructures import MultiDict

from onboarding.db import db
from onboarding.services.agreement import terms as contracts
from onboarding.services.intake import workspace
from tests.api.conftest import new_token
from tests.web.helpers import EXAMPLES, Prospect, example, form_data


def sqlite_only(app):
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("SQLite's single writer")


def hold_write_lock(app, seconds: float) -> threading.Thread:
    """Another process's writer: holds SQLite's write lock for ``seconds``."""
    path = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    taken = threading.Event()

    def hold():
        connection = sqlite3.connect(path, isolation_level=None, timeout=10)
        connection.execute("BEGIN IMMEDIATE")
        taken.set()
        time.sleep(seconds)
        connection.execute("COMMIT")
        connection.close()

    thread = threading.Thread(target=hold)
    thread.start()
    taken.wait(5)
    return thread


def terms_body() -> dict:
    return json.loads((EXAMPLES / "burned-marketer.terms.json").read_text())


def stored_terms(app, public_id: str) -> dict:
    with app.app_context():
        data = contracts.stored_terms(workspace.intake_by_public_id(public_id))
        db.session.rollback()
        return data


def test_a_terms_save_waits_for_another_writer_instead_of_answering_500(
    app,
    submitted,  # noqa: F811
    monkeypatch,
):
    """The probe's 500: the PUT read first, then could not upgrade to a write while a
    background render's write held the lock (SQLite refuses that upgrade at once). It now
    takes the lock first, and waits for it (no retry needed: DB_BUSY_SECONDS=0)."""
    sqlite_only(app)
    monkeypatch.setitem(app.config, "DB_BUSY_SECONDS", 0)
    token = new_token(app)
    client = app.test_client()
    holder = hold_write_lock(app, 0.8)
    answer = client.put(
        f"/api/v1/intakes/{submitted}/terms",
        json=terms_body(),
        headers={"Authorization": f"Bearer {token}"},
    )
    holder.join()
    assert answer.status_code == 200, answer.text
    assert stored_terms(app, submitted)["payment_schedule"] == terms_body()["payment_schedule"]


def always_locked(*args, **kwargs):
    raise OperationalError("UPDATE ...", {}, sqlite3.OperationalError("database is locked"))


def test_past_the_bounded_retries_the_api_says_to_retry_and_stores_nothing(
    app,
    submitted,  # noqa: F811
    monkeypatch,
):
    token = new_token(app)
    calls = []

    def locked(*args, **kwargs):
        calls.append(1)
        always_locked()

    monkeypatch.setattr(contracts, "save_terms", locked)
    monkeypatch.setitem(app.config, "DB_BUSY_SECONDS", 0.3)
    answer = app.test_client().put(
        f"/api/v1/intakes/{submitted}/terms",
        json=terms_body(),
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 503 and answer.headers["Retry-After"]
    assert "nothing of this request was stored" in answer.json["errors"][0]["message"]
    assert len(calls) >= 2  # retried (the same body each time) before giving up
    assert stored_terms(app, submitted) in (None, {})


def test_a_retry_that_gets_the_lock_stores_the_change_once(app, submitted, monkeypatch):  # noqa: F811
    token = new_token(app)
    real, calls = contracts.save_terms, []

    def locked_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            always_locked()
        return real(*args, **kwargs)

    monkeypatch.setattr(contracts, "save_terms", locked_once)
    answer = app.test_client().put(
        f"/api/v1/intakes/{submitted}/terms",
        json=terms_body(),
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 200 and len(calls) == 2
    with app.app_context():
        from sqlalchemy import func, select

        from onboarding.db.models import AuditEvent

        saved = db.session.execute(
            select(func.count(AuditEvent.id)).where(AuditEvent.kind == "terms_saved")
        ).scalar_one()
    assert saved == 1  # the failed attempt left nothing behind


def test_a_page_past_the_retries_keeps_what_the_form_sent(app, client, monkeypatch):
    from onboarding.web.public import intake as intake_views

    prospect = Prospect(client)
    prospect.start()
    monkeypatch.setattr(intake_views, "save_step", always_locked)
    monkeypatch.setitem(app.config, "DB_BUSY_SECONDS", 0.2)
    first = get_first_section()
    data = form_data(first, example())
    answer = prospect.step(first, data)
    assert answer.status_code == 503
    assert "Send it again" in answer.text
    for name, value in data.items():
        if isinstance(value, str) and value:
            assert f'name="{name}"' in answer.text, name
    assert 'name="csrf_token"' in answer.text
    monkeypatch.undo()
    # Sent again from that page, it is saved.
    import re

    fields = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', answer.text)
    action = re.search(r'<form method="post" action="([^"]+)"', answer.text).group(1)
    import html

    again = client.post(
        html.unescape(action), data=MultiDict([(k, html.unescape(v)) for k, v in fields])
    )
    assert again.status_code == 302


def get_first_section() -> str:
    from onboarding.domain.questionnaire import get_questionnaire

    return get_questionnaire().sections[0].id
