"""With REDIS_URL, deliveries are RQ jobs (what `onboarding worker` runs), on a Redis of
the test run's own (``redis_server``; skipped when there is no Redis at all)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from onboarding.db import db
from onboarding.db.models import WebhookDelivery
from onboarding.integrations import webhooks, worker
from onboarding.integrations.webhook_verify import verify
from tests.factories import example


@pytest.fixture
def rq_app(api, redis_server):
    """The app with REDIS_URL on this run's own Redis (no other run's jobs in its
    queue) and its in-process worker stopped (put back, unstarted, afterwards)."""
    import redis

    url = f"{redis_server}/15"
    connection = redis.Redis.from_url(url)
    connection.flushdb()
    thread = api.extensions.pop("outbox", None)
    if thread is not None:
        thread.stop()
    api.config.update(REDIS_URL=url, WEBHOOK_ALLOW_PRIVATE=True)
    yield api
    api.extensions["outbox"] = thread or worker.ThreadDispatcher(api)
    connection.flushdb()


def test_deliveries_are_rq_jobs_and_retries_are_scheduled(rq_app, client, auth, receiver):
    from rq import SimpleWorker
    from rq.registry import ScheduledJobRegistry

    dispatcher = worker.dispatcher(rq_app)
    assert isinstance(dispatcher, worker.RqDispatcher)
    receiver.codes = [500]
    with rq_app.app_context():
        _, secret = webhooks.create_endpoint(
            receiver.url, ["intake.submitted"], None, None, allow_private=True
        )
        db.session.commit()
    assert (
        client.post("/api/v1/intakes", json={"answers": example()}, headers=auth).status_code == 201
    )
    queue = dispatcher.queue()
    # One queue for the messages, the delivery and the prospect's receipt; the
    # agreement's render on a queue of its own (a slow render never holds them up).
    channels = sorted(job.args[0] for job in queue.jobs)
    assert channels == ["email", "webhook"] and receiver.requests == []
    renders = dispatcher.queue("render")
    assert renders.name == "onboarding-renders"
    assert [job.args[0] for job in renders.jobs] == ["render"]
    with rq_app.app_context():
        SimpleWorker([queue], connection=queue.connection).work(burst=True)
        delivery = db.session.execute(select(WebhookDelivery)).scalar_one()
        assert delivery.status == "pending" and delivery.attempts == 1
        assert delivery.last_status_code == 500
    assert len(receiver.requests) == 1
    assert ScheduledJobRegistry(queue=queue).count == 1  # the retry, at next_attempt_at
    # What the scheduler does when the retry is due: the job runs again.
    with rq_app.app_context():
        db.session.execute(
            WebhookDelivery.__table__.update().values(next_attempt_at=webhooks.utcnow())
        )
        db.session.commit()
        assert worker.rq_send("webhook", delivery.id) == "done"
        db.session.expire_all()
        assert db.session.get(WebhookDelivery, delivery.id).status == "delivered"
    verify(
        secret,
        receiver.requests[1]["body"],
        receiver.requests[1]["headers"]["Onboarding-Signature"],
    )
