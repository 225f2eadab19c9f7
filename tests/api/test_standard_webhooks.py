"""Webhooks on the Standard Webhooks spec, checked with the ``standardwebhooks`` package
itself (what receivers install), not with our own code; endpoints registered before
keep today's header until an admin rolls their secret; the ``webhook`` commands."""

from __future__ import annotations

import base64
import json
import re
import secrets

import pytest
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from onboarding.cli import main
from onboarding.db import db
from onboarding.db.models import WebhookDelivery, WebhookEndpoint
from onboarding.integrations import webhooks
from onboarding.integrations.webhook_verify import verify
from tests.api.conftest import admin_client, deliveries, register, settled
from tests.factories import csrf_of, example, wait_for

SPEC_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")


@pytest.fixture
def private(api):
    api.config["WEBHOOK_ALLOW_PRIVATE"] = True
    return api


def lower(headers: dict[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


def submit(client, auth) -> None:
    response = client.post("/api/v1/intakes", json={"answers": example()}, headers=auth)
    assert response.status_code == 201


def test_a_new_endpoints_secret_is_whsec_base64_and_deliveries_verify_with_the_library(
    private, client, auth, receiver
):
    secret = register(private, receiver.url)
    assert re.fullmatch(r"whsec_[A-Za-z0-9+/]+={0,2}", secret)
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    submit(client, auth)
    wait_for(lambda: receiver.requests)
    request = receiver.requests[0]
    headers = lower(request["headers"])
    event = Webhook(secret).verify(request["body"], request["headers"])
    assert event["event"] == "intake.submitted"
    assert headers["webhook-id"] == event["id"]  # the event's id: receivers drop repeats by it
    assert headers["webhook-signature"].startswith("v1,")
    # Altered in transit: the library refuses it.
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(request["body"].replace(b"submitted", b"withdrawn"), headers)
    # Another endpoint's secret does not verify it.
    with pytest.raises(WebhookVerificationError):
        Webhook(webhooks.new_secret()).verify(request["body"], headers)


def test_a_retry_carries_the_same_webhook_id_and_a_fresh_signature(private, client, auth, receiver):
    secret = register(private, receiver.url)
    receiver.codes = [503]
    submit(client, auth)
    wait_for(settled(private), timeout=15)
    assert len(receiver.requests) == 2
    first, second = (lower(r["headers"]) for r in receiver.requests)
    assert first["webhook-id"] == second["webhook-id"]
    for r in receiver.requests:
        Webhook(secret).verify(r["body"], r["headers"])
    assert [d.status for d in deliveries(private)] == ["delivered"]


def legacy_endpoint(app, url: str) -> str:
    """An endpoint as registered before Standard Webhooks: a secret that is not base64
    (``whsec_`` and URL-safe characters), signing ``legacy``."""
    old_secret = "whsec_" + secrets.token_urlsafe(32)
    with app.app_context():
        db.session.add(
            WebhookEndpoint(
                url=url,
                events=["intake.submitted"],
                secret=old_secret,
                signing="legacy",
                active=True,
            )
        )
        db.session.commit()
    return old_secret


def test_an_endpoint_registered_before_gets_only_todays_header_until_its_secret_is_rolled(
    private, client, auth, receiver, staff
):
    old_secret = legacy_endpoint(private, receiver.url)
    submit(client, auth)
    wait_for(lambda: receiver.requests)
    request = receiver.requests[0]
    headers = lower(request["headers"])
    assert not any(name in headers for name in SPEC_HEADERS)
    assert verify(old_secret, request["body"], headers["onboarding-signature"])["event"] == (
        "intake.submitted"
    )

    # An admin rolls the secret on the Webhooks page: shown once, Standard Webhooks.
    admin = admin_client(private.test_client(), staff)
    hooks = admin.get("/workspace/webhooks")
    assert "Old signature only" in hooks.text
    with private.app_context():
        endpoint_id = db.session.execute(select(WebhookEndpoint.id)).scalar_one()
    rolled = admin.post(
        "/workspace/webhooks/endpoint",
        data={"endpoint_id": endpoint_id, "action": "roll", "csrf_token": csrf_of(hooks.text)},
    )
    new_secret = re.search(r'id="new-secret">(whsec_[A-Za-z0-9+/=]+)<', rolled.text).group(1)
    assert "Standard Webhooks signature" in rolled.text
    submit(client, auth)
    wait_for(lambda: len(receiver.requests) == 2)
    request = receiver.requests[1]
    assert Webhook(new_secret).verify(request["body"], request["headers"])["event"] == (
        "intake.submitted"
    )
    # Today's header still comes (keyed with the new secret) until it goes.
    assert verify(new_secret, request["body"], lower(request["headers"])["onboarding-signature"])


def run(app, *args):
    """``onboarding *args`` against ``app``."""
    with app.app_context():
        return app.test_cli_runner().invoke(main, list(args))


def test_the_webhook_commands_add_list_and_remove(private, receiver):
    added = run(private, "webhook", "add", receiver.url, "--events", "intake.submitted")
    assert added.exit_code == 0, added.output
    secret = added.output.strip().splitlines()[-1]
    assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:])) == 32
    listed = run(private, "webhook", "list")
    assert receiver.url in listed.output and "intake.submitted" in listed.output
    assert "Standard Webhooks" in listed.output and secret not in listed.output
    with private.app_context():
        endpoint = db.session.execute(select(WebhookEndpoint)).scalar_one()
        db.session.add(
            WebhookDelivery(endpoint_id=endpoint.id, event="intake.submitted", event_id="evt_1",
                            payload=json.dumps({"id": "evt_1"}), status="delivered")
        )  # fmt: skip
        db.session.commit()
        endpoint_id = endpoint.id

    wrong = run(private, "webhook", "add", receiver.url, "--events", "intake.eaten")
    assert wrong.exit_code == 2 and "events: unknown intake.eaten" in wrong.output
    unsafe = run(private, "webhook", "add", "ftp://x", "--events", "all")
    assert unsafe.exit_code == 2 and unsafe.output.startswith("url:")

    removed = run(private, "webhook", "remove", str(endpoint_id))
    assert removed.exit_code == 0 and receiver.url in removed.output
    with private.app_context():
        assert db.session.execute(select(WebhookEndpoint)).first() is None
        assert db.session.execute(select(WebhookDelivery)).first() is None
    missing = run(private, "webhook", "remove", str(endpoint_id))
    assert missing.exit_code == 2 and f"No webhook endpoint {endpoint_id}" in missing.output
    assert run(private, "webhook", "list").output.strip() == "No webhook endpoints."
