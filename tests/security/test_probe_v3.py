"""Issue 27's remaining findings, each as the outside probe tried it."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select, update

from onboarding.db import db
from onboarding.db.models import AgreementVersion, Intake, utcnow
from onboarding.db.outbox import OutboxMessage
from tests.factories import answer, login, post
from tests.security.conftest import events


def lapse(app) -> None:
    with app.app_context():
        db.session.execute(update(AgreementVersion).values(sent_at=utcnow() - timedelta(days=31)))
        db.session.commit()


def test_a_lapsed_link_takes_no_change_request(app, client, sent):  # noqa: F811
    lapse(app)
    _, changed = answer(app, f"/agreement/{sent['token']}/changes", {"comment": "Cheaper"})
    assert changed.status_code == 410
    with app.app_context():
        intake = db.session.execute(select(Intake)).scalar_one()
        assert intake.status == "agreement_sent"  # not back in review
        kinds = [m.kind for m in db.session.execute(select(OutboxMessage)).scalars()]
        assert "change_request" not in kinds  # nobody was emailed


def test_every_action_of_a_lapsed_link_is_refused(app, client, sent):  # noqa: F811
    lapse(app)
    token = sent["token"]
    for path in ("/accept", "/changes"):
        _, answered = answer(app, f"/agreement/{token}{path}", {"comment": "x", "name": "A B"})
        assert answered.status_code == 410, path
    for path in ("", "/pdf"):
        assert app.test_client().get(f"/agreement/{token}{path}").status_code == 410, path


def test_renewing_a_link_is_in_the_security_log(app, client, sent):  # noqa: F811
    lapse(app)
    url = f"/workspace/intakes/{sent['public_id']}"
    assert post(client, url + "/agreement/resend", {}, url).status_code == 302
    (event,) = events(app, "agreement_link_renewed")
    assert event.actor == "manager@example.com" and event.subject == sent["public_id"]


def test_throttled_sign_ins_are_one_row_not_one_per_guess(app, client, staff):  # noqa: F811
    for _ in range(14):
        login(client, staff["manager"], "wrong password", environ_base={"REMOTE_ADDR": "192.0.2.7"})
    (row,) = events(app, "signin_throttled")
    assert row.subject == staff["manager"] and row.address == "192.0.2.7"


def test_reaching_the_account_ceiling_is_one_row(app, staff):  # noqa: F811
    app.config["LOGIN_ACCOUNT_CEILING"] = "5 per hour"
    try:
        for i in range(8):
            login(
                app.test_client(),
                staff["manager"],
                "bad",
                environ_base={"REMOTE_ADDR": f"192.0.2.{i}"},
            )
    finally:
        app.config["LOGIN_ACCOUNT_CEILING"] = "50 per hour"
    rows = events(app, "signin_second_factor")
    assert len(rows) == 1 and "ceiling" in rows[0].detail


def test_an_emailed_sign_in_code_is_not_logged_as_the_command_line(app, client, staff, caplog):  # noqa: F811
    caplog.set_level(logging.INFO, logger="onboarding.security")
    app.config["LOGIN_ACCOUNT_CEILING"] = "3 per hour"
    try:
        for i in range(3):
            login(
                app.test_client(),
                staff["manager"],
                "bad",
                environ_base={"REMOTE_ADDR": f"192.0.2.{i}"},
            )
        assert login(client, staff["manager"]).headers["Location"] == "/login/code"
    finally:
        app.config["LOGIN_ACCOUNT_CEILING"] = "50 per hour"
    lines = [r.getMessage() for r in caplog.records if "signin_code_sent" in r.getMessage()]
    assert lines and "command line" not in lines[0] and "someone signing in" in lines[0]


# --- rate limits shared by every worker ----------------------------------------------------


def serve(app, monkeypatch, *args, redis=None):
    from onboarding.cli import main
    from onboarding.config import Config

    monkeypatch.setattr(Config, "REDIS_URL", redis)
    monkeypatch.setattr(Config, "RATELIMIT_STORAGE_URI", None)
    monkeypatch.setattr(Config, "WEB_CONCURRENCY", 3)
    started = []
    monkeypatch.setattr("os.execv", lambda path, argv: started.append(argv))
    result = app.test_cli_runner().invoke(main, ["serve", *args])
    return result, started


def test_serve_refuses_several_workers_with_per_worker_counters(app, monkeypatch):
    refused, started = serve(app, monkeypatch, "--workers", "2")
    assert refused.exit_code == 2 and "REDIS_URL" in refused.output and not started
    told, started = serve(app, monkeypatch, "--workers", "2", "--per-worker-limits")
    assert told.exit_code == 0 and started
    assert "WEB_CONCURRENCY=2" in started[0]  # the app counts the workers that really run
    shared, started = serve(app, monkeypatch, "--workers", "2", redis="redis://r.internal/0")
    assert shared.exit_code == 0 and started
    one, started = serve(app, monkeypatch, "--workers", "1")
    assert one.exit_code == 0 and started
    default, started = serve(app, monkeypatch)  # WEB_CONCURRENCY (3) was not asked for
    assert default.exit_code == 0 and "Starting 1 worker" in default.output
    assert started[0][started[0].index("--workers") + 1] == "1"


def test_check_deploy_reads_the_workers_gunicorn_will_start(app):
    from onboarding.app import worker_count
    from onboarding.cli import deploy_problems
    from onboarding.config import Config

    config = {**app.config, "RATELIMIT_STORAGE_URI": "memory://", "WEB_CONCURRENCY": 1}
    assert worker_count(config) == 1
    config["GUNICORN_CMD_ARGS"] = "--timeout 60 --workers 2"
    assert worker_count(config) == 2
    errors, _ = deploy_problems(config, Config)
    (line,) = [e for e in errors if e.startswith("REDIS_URL")]
    assert "with 2 gunicorn workers" in line
    assert worker_count({**config, "GUNICORN_CMD_ARGS": "-w3"}) == 3


# --- API tokens made on the command line ------------------------------------------------------


def cli(app, *args):
    from onboarding.cli import main

    return app.test_cli_runner().invoke(main, list(args))


def test_a_token_made_with_user_sends_as_them_and_one_without_says_how(app, staff, submitted):  # noqa: F811
    import re

    made = cli(app, "api-token", "create", "Website", "--user", staff["manager"])
    assert made.exit_code == 0 and "acting as manager@example.com" in made.output
    with_user = made.output.strip().splitlines()[-1]
    bare = cli(app, "api-token", "create", "Bare").output.strip().splitlines()[-1]
    url = f"/api/v1/intakes/{submitted}/agreement"
    refused = app.test_client().post(url, json={}, headers={"Authorization": f"Bearer {bare}"})
    assert refused.status_code == 409
    message = refused.json["errors"][0]["message"]
    assert "made without a user: make one with --user to send" in message
    assert "no longer exists" not in message
    sent = app.test_client().post(url, json={}, headers={"Authorization": f"Bearer {with_user}"})
    # It acts as the manager: refused only for what the agreement lacks, never for who.
    assert sent.json.get("errors", [{}])[0].get("field") != "authorization"
    unknown = cli(app, "api-token", "create", "X", "--user", "nobody@example.com")
    assert unknown.exit_code == 2 and "no active staff account" in unknown.output
    assert re.search(r"acting as", [e.detail for e in events(app, "api_token_created")][0])


# --- control and format characters ------------------------------------------------------------


RLO_NAME = "\u202etsivqdniL xelA"  # displays as "Alex Lindqvist"


def test_a_right_to_left_override_is_refused_in_an_acceptance_name(app, sent):  # noqa: F811
    _, refused = answer(
        app,
        f"/agreement/{sent['token']}/accept",
        {"name": RLO_NAME, "consent": "yes", "authority": "yes", "title": "Director"},
    )
    assert refused.status_code == 422 and "invisible formatting character" in refused.text
    with app.app_context():
        assert db.session.execute(select(AgreementVersion.accepted_at)).scalar() is None


def test_token_names_refuse_format_characters_and_the_cli_escapes_old_ones(app):
    refused = cli(app, "api-token", "create", RLO_NAME)
    assert refused.exit_code == 2 and "invisible formatting character" in refused.output
    from onboarding.db.models import ApiToken

    with app.app_context():  # one stored before names were checked, with an OSC title
        db.session.add(
            ApiToken(
                name="evil \x1b]0;pwned\x07 \u202eeman", prefix="obt_xxxx", token_hash="h" * 64
            )
        )
        db.session.commit()
        token_id = db.session.execute(select(ApiToken.id)).scalar_one()
    listed = cli(app, "api-token", "list").output
    assert (
        "\x1b" not in listed and "\u202e" not in listed and "\\x1b" in listed or "\\u001b" in listed
    )
    revoked = cli(app, "api-token", "revoke", str(token_id)).output
    assert "\x1b" not in revoked and "\u202e" not in revoked


def test_user_names_refuse_bidi_controls(app):
    from onboarding.services.people.accounts import AccountError, create_user

    with app.app_context():
        try:
            create_user(
                "x@example.com", "manager", "violet kettle orbit 7", RLO_NAME, settings=app.config
            )
        except AccountError as exc:
            assert exc.field == "name"
        else:
            raise AssertionError("a name with U+202E was stored")
        db.session.rollback()


# --- anonymous uploads to Verify ----------------------------------------------------------------


def test_an_anonymous_upload_to_verify_is_refused_before_it_is_read(app, client, monkeypatch):
    import io
    import os

    from werkzeug import formparser
    from werkzeug.datastructures import FileStorage
    from werkzeug.test import stream_encode_multipart

    spooled = []
    real = formparser.default_stream_factory

    def watch(*args, **kwargs):
        spooled.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(formparser, "default_stream_factory", watch)
    big = b"%PDF-1.7\n" + os.urandom(2 * 1024 * 1024)
    body, length, boundary = stream_encode_multipart(
        {"pdf": FileStorage(io.BytesIO(big), "agreement.pdf")}, use_tempfile=False
    )
    response = client.post(
        "/workspace/verify",
        input_stream=body,
        content_length=length,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert response.status_code == 413  # the ordinary limit: not the staff's 32 MiB
    assert not spooled  # nothing of the file was stored, in memory or on disk


def test_the_host_header_is_not_reflected_into_the_openapi_servers(app, client):
    answer_ = client.get("/api/v1/openapi.json", headers={"Host": "evil.example"})
    assert answer_.status_code == 200
    assert "evil.example" not in answer_.text
    assert answer_.json["servers"] == [{"url": "/"}]
    app.config["BASE_URL"] = "https://onboarding.agency.example"
    try:
        served = client.get("/api/v1/openapi.json", headers={"Host": "evil.example"}).json
    finally:
        app.config["BASE_URL"] = None
    assert served["servers"] == [{"url": "https://onboarding.agency.example"}]


# --- full-width digits ----------------------------------------------------------------------------


def test_full_width_digits_are_refused_in_score_and_fee_fields(app, client, staff, submitted):  # noqa: F811
    from onboarding.domain.terms import TermsInvalid, parse_terms

    login(client, staff["manager"])
    url = f"/workspace/intakes/{submitted}"
    refused = post(client, url + "/override", {"score": "\uff18\uff10", "reason": "Known"}, url)
    assert refused.status_code == 422 and 'id="override-score-error"' in refused.text
    with app.app_context():
        assert db.session.execute(select(Intake.override_score)).scalar() is None
    for fee in ("\uff12\uff14\uff10\uff10\uff10.00", "２４０００"):
        try:
            parse_terms({"currency": "GBP", "fee": {"model": "fixed", "amount": fee}})
        except TermsInvalid as exc:
            assert any("fee.amount" in e.as_dict()["field"] for e in exc.errors)
        else:
            raise AssertionError(f"{fee!r} was read as an amount")
    try:
        parse_terms({"currency": "GBP", "payment_days": "\uff13\uff10"})
    except TermsInvalid as exc:
        assert any(e.as_dict()["field"] == "payment_days" for e in exc.errors)
    else:
        raise AssertionError("full-width payment days were read")


# --- one wording for errors -----------------------------------------------------------------------


def test_api_validation_errors_are_in_the_apis_own_words(app, submitted):  # noqa: F811
    from tests.api.conftest import new_token

    token = new_token(app)
    answer_ = app.test_client().post(
        f"/api/v1/intakes/{submitted}/agreement",
        json={"override_walk_away": "x" * 1001, "paper": "a5"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer_.status_code == 422
    messages = {e["field"]: e["message"] for e in answer_.json["errors"]}
    assert messages["override_walk_away"] == "must be at most 1000 characters"
    assert messages["paper"].startswith("must be one of")
    assert "should" not in answer_.text.lower()  # pydantic's "String should have at most..."


def test_start_has_a_global_cap_beside_the_per_address_one(app):
    from tests.conftest import csrf_of

    app.config["START_GLOBAL_LIMIT"] = "3 per minute"
    try:
        answers = []
        for i in range(4):  # four addresses, each well under START_LIMIT
            browser = app.test_client()
            env = {"REMOTE_ADDR": f"198.51.100.{i + 1}"}
            page = browser.get("/start", environ_base=env)
            answers.append(
                browser.post(
                    "/start", data={"csrf_token": csrf_of(page.text)}, environ_base=env
                ).status_code
            )
    finally:
        app.config["START_GLOBAL_LIMIT"] = "300 per minute"
    assert answers == [302, 302, 302, 429]
