"""The outside probe's twelve findings and its "also noted" items (issue 17), one test
each (findings 1, 2, 3 and 7 are in test_signin.py), every one failing before its fix."""

from __future__ import annotations

import io
import json
import logging
import os
import stat
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from onboarding.db import db
from onboarding.db.models import AgreementVersion, Intake, Invite, User, utcnow
from onboarding.domain.text import control_problem, printable
from tests.factories import csrf_of, login, make_app, new_token, post
from tests.web.helpers import Prospect


def disable(app, email: str) -> None:
    with app.app_context():
        db.session.execute(update(User).where(User.email == email).values(active=False))
        db.session.commit()


def make_invite(app, email: str) -> str:
    from onboarding.services.intake.workspace import create_invite
    from onboarding.services.people.accounts import user_by_email

    with app.app_context():
        invite = create_invite(
            user_by_email(email), "Pat Lee", "pat@client.example", "Acme", None, 30
        )
        db.session.commit()
        return invite.token


# --- 4. API tokens stop with their creator -----------------------------------------------------


def test_4_api_tokens_stop_when_their_creator_is_disabled(app, client, staff):
    from onboarding.services.people.accounts import user_by_email
    from onboarding.services.people.api_tokens import create_token

    with app.app_context():
        _, token = create_token("CRM", user_by_email(staff["manager"]))
        db.session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    cli_token = new_token(app, "Made on the command line")  # no creator: unaffected
    assert client.get("/api/v1/intakes", headers=headers).status_code == 200
    disable(app, staff["manager"])
    assert client.get("/api/v1/intakes", headers=headers).status_code == 401
    other = {"Authorization": f"Bearer {cli_token}"}
    assert client.get("/api/v1/intakes", headers=other).status_code == 200


def test_4_a_password_change_leaves_tokens_working(app, client, staff):
    from onboarding.services.people.accounts import set_password, user_by_email
    from onboarding.services.people.api_tokens import create_token

    with app.app_context():
        person = user_by_email(staff["manager"])
        _, token = create_token("CRM", person)
        set_password(person, "violet kettle orbit 7", settings=app.config, actor=person)
        db.session.commit()
    response = client.get("/api/v1/intakes", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


# --- 5. no forged log lines --------------------------------------------------------------------


def test_5_a_path_with_cr_lf_cannot_forge_a_log_line(client, caplog):
    caplog.set_level(logging.INFO)
    client.post("/invite/x%0aERROR:root:FORGED admin login%0d%1b[2J")
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "FORGED" in text  # the line is written ...
    assert "\nERROR:root:FORGED" not in text and "\x1b" not in text and "\r" not in text
    assert "\\nERROR:root:FORGED" in text  # ... with the newline shown, not acted on


def test_5_the_forbidden_unhandled_and_render_lines_escape_the_path(app, client, staff, caplog):
    caplog.set_level(logging.WARNING)
    login(client, staff["manager"])
    client.get("/workspace/users%0aFORGED")
    client.get("/workspace/users")
    forbidden = [r.getMessage() for r in caplog.records if "forbidden" in r.getMessage()]
    assert forbidden and all("\n" not in line for line in forbidden)
    for record in caplog.records:
        assert "\n" not in record.getMessage()
    assert printable("a\r\nb\x1b[0m\u2028") == "a\\r\\nb\\x1b[0m\\u2028"


# --- 6. rate limits shared by every worker ---------------------------------------------------


def test_6_rate_limits_live_in_redis_when_there_is_one(database_url, tmp_path):
    app = make_app(database_url, str(tmp_path), REDIS_URL="redis://127.0.0.1:6379/15",
                   RATELIMIT_STORAGE_URI=None)  # fmt: skip
    assert app.config["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/15"
    with app.app_context():
        db.engine.dispose()


def test_6_per_worker_counters_with_several_workers_fail_check_deploy(app, caplog):
    from onboarding.app import shared_limits_missing
    from onboarding.cli import deploy_problems
    from onboarding.config import Config

    config = {**app.config, "RATELIMIT_STORAGE_URI": "memory://", "WEB_CONCURRENCY": 3}
    assert shared_limits_missing(config)
    errors, _ = deploy_problems(config, Config)
    assert any(e.startswith("REDIS_URL") for e in errors)
    one = {**config, "WEB_CONCURRENCY": 1}
    assert not any(e.startswith("REDIS_URL") for e in deploy_problems(one, Config)[0])
    shared = {**config, "RATELIMIT_STORAGE_URI": "redis://redis.internal:6379/0"}
    assert not any(e.startswith("REDIS_URL") for e in deploy_problems(shared, Config)[0])


def test_6_the_app_warns_at_start_with_per_worker_counters(database_url, tmp_path, caplog):
    caplog.set_level(logging.WARNING)
    app = make_app(database_url, str(tmp_path), TESTING=False, WEB_CONCURRENCY=4)
    assert any("memory://" in r.getMessage() for r in caplog.records)
    with app.app_context():
        db.engine.dispose()


def test_6_sign_in_failures_are_counted_in_the_database_by_every_worker(database_url, tmp_path):
    """Two apps (two workers, each with its own memory) count the same failures."""

    one = make_app(database_url, str(tmp_path / "a"))
    two = make_app(database_url, str(tmp_path / "b"))
    env = {"REMOTE_ADDR": "203.0.113.77"}
    try:
        codes = []
        for i in range(11):
            worker = (one if i % 2 else two).test_client()
            codes.append(login(worker, "ghost@example.com", "nope", environ_base=env).status_code)
        assert codes == [401] * 10 + [429]
    finally:
        for app in (one, two):
            with app.app_context():
                db.session.execute(db.text("DELETE FROM login_failures"))
                db.session.commit()
                db.engine.dispose()


# --- 8. Verify takes a genuine large PDF -------------------------------------------------------


def test_8_verify_takes_a_pdf_over_256_kib(app, client, sent):
    big = b"%PDF-1.7\n" + os.urandom(600 * 1024)
    with app.app_context():
        db.session.execute(
            update(AgreementVersion).values(
                pdf=big, pdf_sha256=__import__("hashlib").sha256(big).hexdigest()
            )
        )
        db.session.commit()
    from werkzeug.datastructures import FileStorage
    from werkzeug.test import stream_encode_multipart

    page = client.get("/workspace/verify")
    body, length, boundary = stream_encode_multipart(
        {"csrf_token": csrf_of(page.text), "pdf": FileStorage(io.BytesIO(big), "agreement.pdf")},
        use_tempfile=False,  # in memory: nothing for the test to leave open
    )
    response = client.post(
        "/workspace/verify",
        input_stream=body,
        content_length=length,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert response.status_code == 200, response.text[response.text.find("error-summary") :][:600]
    assert "version 1" in response.text.lower()
    # Other routes keep the small limit.
    assert client.post("/login", data={"email": "a" * 300_000}).status_code == 413


# --- 9. no terminal escapes from `onboarding verify` ------------------------------------------


def test_9_verify_output_escapes_terminal_sequences():
    from onboarding.cli import printable as shown

    forged = "Acme\x1b[2J\x1b[HMATCH: fake\u202e"
    assert "\x1b" not in shown(forged) and "\u202e" not in shown(forged)
    # (tests/web/test_signing.py::test_verify_escapes_control_characters runs the command.)


# --- 10. a disabled manager's invites stop ------------------------------------------------------


def test_10_invites_of_a_disabled_manager_open_no_intake(app, client, staff):
    token = make_invite(app, staff["manager"])
    assert client.get(f"/invite/{token}").status_code == 200
    disable(app, staff["manager"])
    page = client.get(f"/invite/{token}")
    assert page.status_code == 410
    response = client.post(
        f"/invite/{token}", data={"csrf_token": csrf_of(client.get("/start").text)}
    )
    assert response.status_code == 410
    with app.app_context():
        assert db.session.execute(select(Intake)).first() is None
        assert not db.session.execute(select(Invite)).scalar_one().usable()


# --- 11. anti-automation on /start and the steps --------------------------------------


def test_11_one_address_cannot_start_drafts_by_the_dozen(app, client):
    page = client.get("/start")
    token = csrf_of(page.text)
    codes = [client.post("/start", data={"csrf_token": token}).status_code for _ in range(40)]
    assert codes.count(302) == 10 and codes[-1] == 429
    other = app.test_client()  # another address is not affected
    response = other.post(
        "/start",
        data={"csrf_token": csrf_of(other.get("/start").text)},
        environ_base={"REMOTE_ADDR": "192.0.2.44"},
    )
    assert response.status_code == 302


def test_11_step_saves_are_limited_per_address(app, client):
    app.config["STEP_LIMIT"] = "5 per minute"
    try:
        prospect = Prospect(client)
        prospect.start()
        codes = [prospect.step("about", {"contact_name": "Pat"}).status_code for _ in range(7)]
    finally:
        app.config["STEP_LIMIT"] = "120 per minute"
    assert codes[:5] != [429] * 5 and codes[-1] == 429


# --- 12. 64-bit bounds on ids and cursors -------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/workspace/invites/99999999999999999999999/revoke",
        "/workspace/users/18446744073709551616/active",
        "/workspace/users/9223372036854775808/password",
    ],
)
def test_12_ids_beyond_64_bits_are_404_not_500(app, client, staff, path):
    login(client, staff["admin"])
    assert post(client, path, {}, "/workspace/").status_code == 404


def test_12_form_ids_beyond_64_bits_are_404(app, client, staff):
    login(client, staff["admin"])
    for path, field in (
        ("/workspace/api/revoke", "token_id"),
        ("/workspace/webhooks/endpoint", "endpoint_id"),
        ("/workspace/webhooks/resend", "delivery_id"),
    ):
        response = post(client, path, {field: "9" * 40, "action": "disable"}, "/workspace/")
        assert response.status_code == 404, path


def test_12_a_cursor_beyond_64_bits_is_422(app, client):
    import base64

    auth = {"Authorization": f"Bearer {new_token(app)}"}
    for row_id in (2**64, 10**30):
        raw = json.dumps({"s": "-submitted_at", "v": None, "i": row_id}).encode()
        cursor = base64.urlsafe_b64encode(raw).decode().rstrip("=")
        response = client.get(f"/api/v1/intakes?cursor={cursor}", headers=auth)
        assert response.status_code == 422, response.text
        assert response.json["errors"][0]["field"] == "cursor"


# --- also noted -------------------------------------------------------------------------------


def test_api_errors_are_in_plain_words(app, client):
    auth = {"Authorization": f"Bearer {new_token(app)}", "Content-Type": "application/json"}
    deep = client.post("/api/v1/assessments", data="[" * 100_000 + "]" * 100_000, headers=auth)
    huge = client.post("/api/v1/assessments", data='{"a": ' + "9" * 5000 + "}", headers=auth)
    for response in (deep, huge):
        assert response.status_code in (400, 413)
        message = response.json["errors"][0]["message"]
        assert "sys." not in message and "recursion" not in message and "int_max" not in message


def test_nul_is_refused_in_api_notes(app, client, submitted):
    auth = {"Authorization": f"Bearer {new_token(app)}", "Content-Type": "application/json"}
    response = client.patch(
        f"/api/v1/intakes/{submitted}", data=json.dumps({"note": "a\u0000b"}), headers=auth
    )
    assert response.status_code == 422
    assert response.json["errors"][0]["field"] == "note"


def test_typed_text_refuses_control_characters(app):
    assert control_problem("line one\nline two\ttab", multiline=True) is None
    assert control_problem("bell\x07", multiline=True)
    assert control_problem("two\nlines", multiline=False) == "must be on one line"
    assert control_problem("Tab\tName", multiline=False) is None
    from onboarding.domain.questionnaire import get_questionnaire

    clean, errors = get_questionnaire().validate(
        {
            **__import__("tests.web.helpers", fromlist=["example"]).example(),
            "company": "Acme\x1b[2J",
        }  # fmt: skip
    )
    assert any(e.question == "company" for e in errors)


def test_resume_links_lapse_after_resume_days(app, client):
    prospect = Prospect(client)
    prospect.start()
    assert client.get(prospect.url("/step/about")).status_code == 200
    with app.app_context():
        db.session.execute(update(Intake).values(updated_at=utcnow() - timedelta(days=91)))
        db.session.commit()
    assert client.get(prospect.url("/step/about")).status_code == 410
    assert client.get(prospect.url()).status_code == 410


def test_an_unsigned_agreement_link_lapses_and_the_manager_renews_it(app, client, sent):
    path = f"/agreement/{sent['token']}"
    assert app.test_client().get(path).status_code == 200
    with app.app_context():
        db.session.execute(update(AgreementVersion).values(sent_at=utcnow() - timedelta(days=31)))
        db.session.commit()
    lapsed = app.test_client().get(path)
    assert lapsed.status_code == 410 and "ask your account manager" in lapsed.text
    url = f"/workspace/intakes/{sent['public_id']}"
    assert post(client, url + "/agreement/resend", {}, url).status_code == 302
    assert app.test_client().get(path).status_code == 200


def test_a_signed_or_accepted_agreement_stays_reachable(app, sent):
    from onboarding.services.agreement.versions import link_lapsed

    with app.app_context():
        version = db.session.execute(select(AgreementVersion)).scalar_one()
        version.sent_at = utcnow() - timedelta(days=400)
        assert link_lapsed(version, 30)
        version.status = "accepted"
        assert not link_lapsed(version, 30)
        version.status = "sent"
        version.sent_at = utcnow()
        version.terms = {**(version.terms or {}), "valid_until": "2001-01-01"}
        assert link_lapsed(version, 30)  # the offer closed before SIGNING_DAYS
        db.session.rollback()


def test_the_sqlite_file_is_created_private(tmp_path):
    path = tmp_path / "fresh" / "onboarding.db"
    app = make_app(f"sqlite:///{path}", str(tmp_path / "instance"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with app.app_context():
        db.engine.dispose()


def test_the_api_docs_page_is_not_handed_the_config(app, client, monkeypatch):
    captured = {}
    import onboarding.web.api.docs as docs

    real = docs.render_template

    def spy(name, **context):
        captured.update(context)
        return real(name, **context)

    monkeypatch.setattr(docs, "render_template", spy)
    assert client.get("/api/docs").status_code == 200
    assert "SECRET_KEY" not in captured["settings"]
    assert set(captured["settings"]) == set(docs.PUBLIC_SETTINGS)
