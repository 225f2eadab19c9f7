"""Webhooks: signed deliveries to a real receiver on loopback, retries, replays, SSRF,
re-sending from the workspace, and the documented verification snippet."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from onboarding.db import db
from onboarding.db.models import WebhookDelivery, WebhookEndpoint
from onboarding.integrations import webhooks, worker
from onboarding.integrations.webhook_verify import InvalidSignature, verify
from onboarding.services.intake.submission import create_intake, submit_intake
from onboarding.services.intake.workspace import change_status
from onboarding.web.extensions import app_playbooks
from tests.api.conftest import admin_client, deliveries, register, settled
from tests.factories import PASSWORD, csrf_of, example, wait_for

README = Path(__file__).resolve().parents[2] / "README.md"
VERIFY_FILE = Path(webhooks.__file__).with_name("webhook_verify.py")


@pytest.fixture
def private(api):
    api.config["WEBHOOK_ALLOW_PRIVATE"] = True
    return api


def test_a_web_submission_arrives_signed_and_verifies(private, client, receiver):
    secret = register(private, receiver.url)
    from tests.web.helpers import Prospect

    prospect = Prospect(client)  # through the web form: services.submit_by_token
    prospect.start()
    prospect.fill_all(example())
    assert prospect.submit().status_code == 302
    wait_for(lambda: receiver.requests)
    request = receiver.requests[0]
    assert request["path"] == "/hooks/onboarding"
    headers = request["headers"]
    assert headers["Content-Type"] == "application/json"
    assert headers["Onboarding-Event"] == "intake.submitted"
    assert re.fullmatch(r"t=\d+,v1=[0-9a-f]{64}", headers["Onboarding-Signature"])
    event = verify(secret, request["body"], headers["Onboarding-Signature"])
    assert event["event"] == "intake.submitted" and event["id"].startswith("evt_")
    data = event["data"]
    assert data["intake"]["status"] == "new"
    assert data["intake"]["company"] == example()["company"]
    assert data["assessment"]["band"] == "guarded"
    assert set(data["assessment"]["risks"]) == {
        "excess_free_time", "trust_deficit", "process_transparency", "frustrated_creative",
        "tactical_focus", "fear"}  # fmt: skip
    rows = wait_for(settled(private))
    assert rows[0].status == "delivered" and rows[0].attempts == 1
    assert rows[0].last_status_code == 200 and rows[0].delivered_at is not None


def test_a_tampered_body_or_another_secret_does_not_verify(private, client, auth, receiver):
    secret = register(private, receiver.url)
    client.post("/api/v1/intakes", json={"answers": example()}, headers=auth)
    wait_for(lambda: receiver.requests)
    request = receiver.requests[0]
    header = request["headers"]["Onboarding-Signature"]
    assert verify(secret, request["body"], header)["event"] == "intake.submitted"
    with pytest.raises(InvalidSignature):
        verify(secret, request["body"].replace(b'"new"', b'"accepted"'), header)
    with pytest.raises(InvalidSignature):
        verify("whsec_" + "x" * 43, request["body"], header)
    for broken in ("", "t=abc,v1=00", "v1=00", "t=1", "nonsense"):
        with pytest.raises(InvalidSignature):
            verify(secret, request["body"], broken)


def test_a_replayed_delivery_is_rejected_by_the_snippet(private, client, auth, receiver):
    secret = register(private, receiver.url)
    client.post("/api/v1/intakes", json={"answers": example()}, headers=auth)
    wait_for(lambda: receiver.requests)
    request = receiver.requests[0]
    header = request["headers"]["Onboarding-Signature"]
    sent = int(header.split(",")[0].removeprefix("t="))
    assert abs(sent - time.time()) < 60
    # Replayed six minutes later: the signature is right, the timestamp too old.
    with pytest.raises(InvalidSignature, match="timestamp"):
        verify(secret, request["body"], header, now=sent + 360)
    assert verify(secret, request["body"], header, now=sent + 299)
    # A replay with a fresh timestamp but the old signature fails the HMAC.
    forged = f"t={int(time.time())}," + header.split(",")[1]
    if forged != header:
        with pytest.raises(InvalidSignature, match="signature"):
            verify(secret, request["body"], forged, now=time.time())
    # An old delivery, signed then by us: valid signature, refused for its age.
    old = int(time.time()) - 3600
    with pytest.raises(InvalidSignature, match="timestamp"):
        verify(secret, request["body"], webhooks.sign(secret, request["body"], old))


def test_a_failed_delivery_is_retried_with_backoff(private, client, auth, receiver):
    receiver.codes = [500, 503]  # then 200
    secret = register(private, receiver.url)
    client.post("/api/v1/intakes", json={"answers": example()}, headers=auth)
    rows = wait_for(settled(private))
    assert len(receiver.requests) == 3
    assert rows[0].status == "delivered" and rows[0].attempts == 3
    assert rows[0].last_status_code == 200 and rows[0].last_error is None
    bodies = {r["body"] for r in receiver.requests}
    assert len(bodies) == 1  # the same body, re-signed each time
    for r in receiver.requests:
        verify(secret, r["body"], r["headers"]["Onboarding-Signature"])


def test_a_delivery_gives_up_after_the_last_attempt(private, client, auth, receiver):
    private.config["WEBHOOK_MAX_ATTEMPTS"] = 3
    receiver.codes = [500] * 10
    register(private, receiver.url)
    client.post("/api/v1/intakes", json={"answers": example()}, headers=auth)
    rows = wait_for(settled(private))
    assert len(receiver.requests) == 3
    assert rows[0].status == "failed" and rows[0].attempts == 3
    assert rows[0].last_status_code == 500 and "500" in rows[0].last_error
    assert rows[0].next_attempt_at is None


def test_an_unreachable_receiver_is_a_failed_attempt(private, client, auth, receiver):
    private.config["WEBHOOK_MAX_ATTEMPTS"] = 2
    url = receiver.url
    receiver.close()  # nothing listens there any more
    register(private, url)
    client.post("/api/v1/intakes", json={"answers": example()}, headers=auth)
    rows = wait_for(settled(private))
    assert rows[0].status == "failed" and rows[0].attempts == 2
    assert rows[0].last_status_code is None and "Connection" in rows[0].last_error


def test_redirects_are_not_followed(private, client, auth, receiver):
    private.config["WEBHOOK_MAX_ATTEMPTS"] = 1
    receiver.codes = [302]
    register(private, receiver.url)
    client.post("/api/v1/intakes", json={"answers": example()}, headers=auth)
    rows = wait_for(settled(private))
    assert rows[0].status == "failed" and rows[0].last_status_code == 302
    assert len(receiver.requests) == 1


def test_a_status_change_fires_in_the_workspace_and_the_api(private, client, auth, receiver):
    secret = register(private, receiver.url, ["intake.status_changed"])
    public_id = client.post("/api/v1/intakes", json={"answers": example()}, headers=auth).json[
        "public_id"
    ]
    client.patch(f"/api/v1/intakes/{public_id}", json={"status": "in_review"}, headers=auth)
    client.patch(f"/api/v1/intakes/{public_id}", json={"note": "no status"}, headers=auth)
    with private.app_context():  # the workspace's use case, as its status form calls it
        from onboarding.db.engine import begin_write
        from onboarding.services.intake.workspace import intake_by_public_id

        begin_write(db.session())  # as every POST does (the worker writes meanwhile)
        change_status(intake_by_public_id(public_id), "declined", None)
        db.session.commit()
    wait_for(lambda: len(receiver.requests) >= 2)
    time.sleep(0.2)
    events = [
        verify(secret, r["body"], r["headers"]["Onboarding-Signature"]) for r in receiver.requests
    ]
    changes = sorted((e["data"]["previous_status"], e["data"]["intake"]["status"]) for e in events)
    assert changes == [("in_review", "declined"), ("new", "in_review")]
    assert all(e["event"] == "intake.status_changed" for e in events)


def test_a_rolled_back_change_sends_nothing(private, receiver):
    register(private, receiver.url)
    with private.app_context():
        intake = create_intake(example())
        db.session.flush()
        submit_intake(intake, playbooks=app_playbooks(private), email=False)
        db.session.rollback()
    time.sleep(0.3)
    assert deliveries(private) == [] and receiver.requests == []


def test_a_disabled_endpoint_gets_nothing(private, client, auth, receiver):
    register(private, receiver.url)
    with private.app_context():
        db.session.execute(select(WebhookEndpoint)).scalar_one().active = False
        db.session.commit()
    client.post("/api/v1/intakes", json={"answers": example()}, headers=auth)
    time.sleep(0.3)
    assert deliveries(private) == [] and receiver.requests == []


# --- SSRF -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1:8080/hook",
        "https://127.0.0.1/hook",
        "https://localhost/hook",
        "https://10.1.2.3/hook",
        "https://172.16.0.1/hook",
        "https://192.168.1.10/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://100.64.0.1/hook",
        "https://0.0.0.0/hook",
        "https://[::1]/hook",
        "https://[fe80::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://[fd00::1]/hook",
        "https://224.0.0.1/hook",
        "https://240.0.0.1/hook",
    ],
)
def test_private_and_reserved_addresses_are_refused_at_registration(api, url):
    with api.app_context(), pytest.raises(webhooks.WebhookError) as caught:
        webhooks.create_endpoint(url, ["intake.submitted"], None, None, allow_private=False)
    assert caught.value.field == "url" and "Refused" in str(caught.value)


@pytest.mark.parametrize(
    "url",
    ["http://hooks.example/x", "ftp://hooks.example/x", "https://user:pw@hooks.example/x",
     "https:///x", "", "https://hooks.example/x#frag", "javascript:alert(1)"],
)  # fmt: skip
def test_malformed_urls_are_refused(api, url):
    with api.app_context(), pytest.raises(webhooks.WebhookError):
        webhooks.create_endpoint(url, ["intake.submitted"], None, None, allow_private=False)


def test_public_addresses_are_allowed():
    assert webhooks.address_allowed("93.184.216.34")
    assert webhooks.address_allowed("2606:2800:220:1:248:1893:25c8:1946")
    for address in ("127.0.0.1", "10.0.0.1", "169.254.169.254", "::1", "::ffff:10.0.0.1"):
        assert not webhooks.address_allowed(address)
        assert webhooks.address_allowed(address, allow_private=True)


def test_private_addresses_are_refused_again_at_send_time(private, client, auth, receiver):
    """Registered while allowed (or while the name pointed elsewhere), refused when sent."""
    register(private, receiver.url)
    private.config.update(WEBHOOK_ALLOW_PRIVATE=False, WEBHOOK_MAX_ATTEMPTS=1)
    client.post("/api/v1/intakes", json={"answers": example()}, headers=auth)
    rows = wait_for(settled(private))
    assert rows[0].status == "failed" and rows[0].last_status_code is None
    assert rows[0].last_error.startswith("refused: 127.0.0.1 resolves to 127.0.0.1")
    assert receiver.requests == []


def test_a_name_resolving_to_a_private_address_is_refused(monkeypatch):
    def fake(host, port, **kw):
        return [(2, 1, 6, "", ("93.184.216.34", port)), (2, 1, 6, "", ("10.0.0.7", port))]

    monkeypatch.setattr(webhooks.socket, "getaddrinfo", fake)
    with pytest.raises(webhooks.UnsafeAddress, match="10.0.0.7"):
        webhooks.resolve("hooks.example", 443)
    code, error = webhooks.post(
        "https://hooks.example/x", b"{}", {}, timeout=1, allow_private=False
    )
    assert code is None and error.startswith("refused")


# --- the workspace ----------------------------------------------------------------------------


def test_an_admin_registers_an_endpoint_and_sees_the_secret_once(private, client, staff):
    admin_client(client, staff)
    page = client.get("/workspace/webhooks")
    assert page.status_code == 200
    response = client.post(
        "/workspace/webhooks",
        data={
            "url": "http://127.0.0.1:9/hook",
            "events": ["intake.submitted"],
            "csrf_token": csrf_of(page.text),
        },
    )
    assert response.status_code == 200
    secret = re.search(r'id="new-secret">(whsec_[A-Za-z0-9+/=]+)<', response.text).group(1)
    assert response.headers["Cache-Control"] == "no-store"
    again = client.get("/workspace/webhooks")
    assert secret not in again.text and "http://127.0.0.1:9/hook" in again.text
    with private.app_context():
        endpoint = db.session.execute(select(WebhookEndpoint)).scalar_one()
        assert endpoint.secret == secret and endpoint.events == ["intake.submitted"]


def test_the_workspace_refuses_a_private_url_without_the_setting(api, client, staff):
    admin_client(client, staff)
    page = client.get("/workspace/webhooks")
    response = client.post(
        "/workspace/webhooks",
        data={"url": "https://10.0.0.5/hook", "events": ["intake.submitted"],
              "csrf_token": csrf_of(page.text)},
    )  # fmt: skip
    assert response.status_code == 422 and "private or reserved" in response.text


def test_a_delivery_is_sent_again_from_the_workspace(private, client, auth, staff, receiver):
    private.config["WEBHOOK_MAX_ATTEMPTS"] = 1
    receiver.codes = [500]
    secret = register(private, receiver.url)
    client.post("/api/v1/intakes", json={"answers": example()}, headers=auth)
    failed = wait_for(settled(private))[0]
    assert failed.status == "failed"
    admin_client(client, staff)
    page = client.get("/workspace/webhooks")
    assert f'name="delivery_id" value="{failed.id}"' in page.text
    response = client.post(
        "/workspace/webhooks/resend",
        data={"delivery_id": failed.id, "csrf_token": csrf_of(page.text)},
    )
    assert response.status_code == 302
    wait_for(lambda: len(receiver.requests) == 2)
    rows = wait_for(settled(private))
    assert [d.status for d in rows] == ["failed", "delivered"]
    assert rows[0].event_id == rows[1].event_id  # the same event, so receivers can dedupe
    first = verify(secret, receiver.requests[0]["body"],
                   receiver.requests[0]["headers"]["Onboarding-Signature"])  # fmt: skip
    second = verify(secret, receiver.requests[1]["body"],
                    receiver.requests[1]["headers"]["Onboarding-Signature"])  # fmt: skip
    assert first == second


def test_resending_needs_csrf_and_an_admin(private, client, staff):
    page_login = client.get("/login")
    client.post(
        "/login",
        data={"email": staff["manager"], "password": PASSWORD,
              "csrf_token": csrf_of(page_login.text)},
    )  # fmt: skip
    assert client.get("/workspace/webhooks").status_code == 403
    assert client.get("/workspace/api").status_code == 403
    assert client.post("/workspace/webhooks/resend", data={"delivery_id": 1}).status_code == 400


def test_pending_deliveries_are_swept_up_after_a_restart(private, receiver):
    """A delivery recorded but never handed to a worker (the process stopped) is sent by
    the next worker's sweep."""
    secret = register(private, receiver.url)
    with private.app_context():
        endpoint = db.session.execute(select(WebhookEndpoint)).scalar_one()
        db.session.add(
            WebhookDelivery(endpoint=endpoint, event="intake.submitted", event_id="evt_x",
                            payload='{"id":"evt_x"}', status="pending", attempts=0,
                            next_attempt_at=webhooks.utcnow())
        )  # fmt: skip
        db.session.commit()  # not tracked by emit: no worker was told
    time.sleep(0.2)
    assert receiver.requests == []
    running = worker.dispatcher(private)
    running.stop()
    running.start()  # a new process: it sweeps at start
    wait_for(lambda: receiver.requests)
    assert verify(
        secret,
        receiver.requests[0]["body"],
        receiver.requests[0]["headers"]["Onboarding-Signature"],
    ) == {"id": "evt_x"}


def test_a_claimed_delivery_is_not_sent_twice(private, receiver):
    register(private, receiver.url)
    with private.app_context():
        endpoint = db.session.execute(select(WebhookEndpoint)).scalar_one()
        delivery = WebhookDelivery(endpoint=endpoint, event="intake.submitted", event_id="e",
                                   payload="{}", status="pending", attempts=0,
                                   next_attempt_at=webhooks.utcnow())  # fmt: skip
        db.session.add(delivery)
        db.session.commit()
        delivery_id = delivery.id
        assert webhooks.deliver(delivery_id) is None
        assert webhooks.deliver(delivery_id) is None  # delivered: nothing more to do
    assert len(receiver.requests) == 1


# --- the documented snippet ------------------------------------------------------------------


def test_the_readme_quotes_the_verification_code_the_tests_use():
    text = README.read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert VERIFY_FILE.read_text(encoding="utf-8") in blocks


def test_the_docs_quote_it_too(client):
    from markupsafe import escape

    page = client.get("/api/docs").text
    assert str(escape(VERIFY_FILE.read_text(encoding="utf-8"))) in page


def test_the_payload_is_a_documented_webhook_event(private, client, auth, receiver):
    import jsonschema_rs

    register(private, receiver.url)
    client.post("/api/v1/intakes", json={"answers": example()}, headers=auth)
    wait_for(lambda: receiver.requests)
    document = client.get("/api/v1/openapi.json").json
    schema = {
        "$ref": "#/components/schemas/WebhookEvent",
        "components": document["components"],
    }
    event = json.loads(receiver.requests[0]["body"])
    assert jsonschema_rs.validator_for(schema).is_valid(event)


def test_endpoint_actions_in_the_workspace(private, client, staff):
    old_secret = register(private, "http://127.0.0.1:9/hook")
    with private.app_context():
        endpoint = db.session.execute(select(WebhookEndpoint)).scalar_one()
        db.session.add(
            WebhookDelivery(endpoint=endpoint, event="intake.submitted", event_id="evt_1",
                            payload="{}", status="failed", attempts=6)
        )  # fmt: skip
        db.session.commit()
        endpoint_id = endpoint.id
    admin_client(client, staff)

    def act(action):
        page = client.get("/workspace/webhooks")
        return client.post(
            "/workspace/webhooks/endpoint",
            data={"endpoint_id": endpoint_id, "action": action, "csrf_token": csrf_of(page.text)},
        )

    assert act("disable").status_code == 302
    assert "Disabled" in client.get("/workspace/webhooks").text
    assert act("enable").status_code == 302
    rolled = act("roll")
    new_secret = re.search(r'id="new-secret">(whsec_[A-Za-z0-9+/=]+)<', rolled.text).group(1)
    assert new_secret != old_secret and "old one no longer verifies" in rolled.text
    assert act("explode").status_code == 400
    assert act("delete").status_code == 302
    with private.app_context():
        assert db.session.execute(select(WebhookEndpoint)).first() is None
        assert db.session.execute(select(WebhookDelivery)).first() is None  # cascaded


# --- one list of events, one way to emit them, one dispatcher per app ---------------------------


class Recorder:
    """A dispatcher that only records what it is handed."""

    def __init__(self):
        self.handed: list[list[int]] = []

    def enqueue(self, ids, at=None, *, channel="email"):
        if channel == "webhook":
            self.handed.append(list(ids))

    def stop(self, timeout=10):
        pass


@pytest.fixture
def recorder(private):
    """The app's dispatcher replaced by a Recorder (the real one put back afterwards)."""
    saved = private.extensions["outbox"]
    saved.stop()
    private.extensions["outbox"] = Recorder()
    yield private.extensions["outbox"]
    private.extensions["outbox"] = saved


def test_only_the_apps_own_sessions_hand_deliveries_over(private, recorder, client, auth):
    """The after-commit hand-off listens to Flask-SQLAlchemy's sessions, not to every
    SQLAlchemy session in the process."""
    from sqlalchemy.orm import Session

    register(private, "http://127.0.0.1:9/hook")
    with private.app_context():
        with Session(db.engine) as other:  # another library's or a script's session
            other.info["outbound_ids"] = [("webhook", 424242)]
            other.commit()
        assert recorder.handed == []
    client.post("/api/v1/intakes", json={"answers": example()}, headers=auth)
    ids = [d.id for d in deliveries(private)]
    assert len(ids) == 1 and recorder.handed == [ids]


def test_each_app_picks_its_transport_behind_one_interface(private):
    from flask import Flask

    own = worker.dispatcher(private)
    assert isinstance(own, worker.ThreadDispatcher)
    other = Flask("other")
    other.config["REDIS_URL"] = "redis://127.0.0.1:6379/15"
    queued = worker.dispatcher(other)  # nothing connects until a delivery is queued
    assert isinstance(queued, worker.RqDispatcher)
    assert all(isinstance(d, worker.Dispatcher) for d in (own, queued))
    assert worker.dispatcher(private) is own and worker.dispatcher(other) is queued


def test_the_events_are_listed_once(client):
    from onboarding.services.notify import webhooks as events

    document = client.get("/api/v1/openapi.json").json
    assert list(document["webhooks"]) == list(webhooks.EVENTS) == list(events.EVENTS)
    schema = document["components"]["schemas"]["WebhookEvent"]["properties"]["event"]
    assert schema["enum"] == list(webhooks.EVENTS)
    with pytest.raises(ValueError, match="unknown webhook event"):
        events.emit("intake.deleted", None)


def test_an_event_carries_the_intake_as_the_api_lists_it(private, recorder, client, auth):
    register(private, "http://127.0.0.1:9/hook")
    created = client.post("/api/v1/intakes", json={"answers": example()}, headers=auth).json
    client.patch(f"/api/v1/intakes/{created['public_id']}", json={"status": "in_review"},
                 headers=auth)  # fmt: skip
    (item,) = client.get("/api/v1/intakes", headers=auth).json["items"]
    payloads = [json.loads(d.payload) for d in deliveries(private)]
    assert [p["event"] for p in payloads] == ["intake.submitted", "intake.status_changed"]
    assert all(list(p["data"]["intake"]) == list(item) for p in payloads)  # keys, in order
    # The same object, bar updated_at: an event is built before its change is flushed.
    listed = {k: v for k, v in item.items() if k != "updated_at"}
    sent = [{k: v for k, v in p["data"]["intake"].items() if k != "updated_at"} for p in payloads]
    assert sent == [{**listed, "status": "new"}, listed]
    assert payloads[1]["data"]["previous_status"] == "new"
