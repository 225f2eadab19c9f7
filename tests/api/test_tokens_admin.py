"""Admins make and revoke API tokens: the workspace page (CSRF, shown once) and the CLI."""

from __future__ import annotations

import re

from click.testing import CliRunner
from sqlalchemy import select

from onboarding.cli import main
from onboarding.db import db
from onboarding.db.models import ApiToken
from tests.factories import PASSWORD, csrf_of


def sign_in(client, email):
    page = client.get("/login")
    client.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf_token": csrf_of(page.text)}
    )


def test_an_admin_makes_a_token_that_is_shown_once_and_works(api, client, staff):
    sign_in(client, staff["admin"])
    page = client.get("/workspace/api")
    assert page.status_code == 200 and "No tokens yet" in page.text
    assert 'href="/workspace/api"' in page.text and 'href="/workspace/webhooks"' in page.text
    made = client.post(
        "/workspace/api", data={"name": "Our website", "csrf_token": csrf_of(page.text)}
    )
    assert made.status_code == 200 and made.headers["Cache-Control"] == "no-store"
    token = re.search(r'id="new-token">(onb_[\w-]+)<', made.text).group(1)
    listed = client.get("/workspace/api").text
    assert token not in listed and token[:12] in listed and "Our website" in listed
    other = api.test_client()  # no cookies: the token alone
    response = other.get("/api/v1/intakes", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    with api.app_context():
        row = db.session.execute(select(ApiToken)).scalar_one()
        assert row.created_by.email == staff["admin"] and row.last_used_at is not None
    assert "never" not in client.get("/workspace/api").text.split("Our website")[1][:300]


def test_an_admin_revokes_a_token(api, client, staff, token):
    sign_in(client, staff["admin"])
    page = client.get("/workspace/api")
    with api.app_context():
        token_id = db.session.execute(select(ApiToken.id)).scalar_one()
    response = client.post(
        "/workspace/api/revoke", data={"token_id": token_id, "csrf_token": csrf_of(page.text)}
    )
    assert response.status_code == 302
    assert "Revoked" in client.get("/workspace/api").text
    refused = api.test_client().get("/api/v1/intakes", headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 401


def test_token_forms_need_csrf_and_a_name(client, staff):
    sign_in(client, staff["admin"])
    assert client.post("/workspace/api", data={"name": "x"}).status_code == 400
    assert client.post("/workspace/api/revoke", data={"token_id": "1"}).status_code == 400
    page = client.get("/workspace/api")
    blank = client.post("/workspace/api", data={"name": "  ", "csrf_token": csrf_of(page.text)})
    assert blank.status_code == 422 and "Give the token a name" in blank.text


def test_managers_and_strangers_cannot_make_tokens(client, staff):
    assert client.get("/workspace/api").status_code == 302
    sign_in(client, staff["manager"])
    assert client.get("/workspace/api").status_code == 403
    assert 'href="/workspace/api"' not in client.get("/workspace/").text


def test_the_command_line_makes_lists_and_revokes_tokens(api):
    runner = CliRunner()
    with api.app_context():
        made = runner.invoke(main, ["api-token", "create", "CRM sync"])
        assert made.exit_code == 0, made.output
        token = made.output.strip().splitlines()[-1]
        assert re.fullmatch(r"onb_[\w-]{43}", token)
        listed = runner.invoke(main, ["api-token", "list"])
        assert "CRM sync" in listed.output and token[:12] in listed.output
        assert token not in listed.output and "active" in listed.output
        token_id = db.session.execute(select(ApiToken.id)).scalar_one()
        db.session.remove()
    headers = {"Authorization": f"Bearer {token}"}
    assert api.test_client().get("/api/v1/intakes", headers=headers).status_code == 200
    with api.app_context():
        revoked = runner.invoke(main, ["api-token", "revoke", str(token_id)])
        assert revoked.exit_code == 0 and "Revoked" in revoked.output
        assert runner.invoke(main, ["api-token", "revoke", "999"]).exit_code == 2
        assert runner.invoke(main, ["api-token", "create", " "]).exit_code == 2
        db.session.remove()
    assert api.test_client().get("/api/v1/intakes", headers=headers).status_code == 401
