"""The outbox's worker: sent after commit, once even with two workers, retried when
the server refuses for now or is away, failed with the server's answer when it refuses
for good; never a 500 in the request that wrote the message."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select, update

from onboarding.db import db
from onboarding.db.models import utcnow
from onboarding.db.outbox import OutboxMessage
from onboarding.integrations import mail as smtp
from onboarding.integrations import outbox, worker
from onboarding.services.agreement import prerender
from onboarding.services.intake.submission import create_intake
from onboarding.services.notify import mail
from tests.factories import example
from tests.mail.conftest import EMAIL, free_port, rows, settled
from tests.web.helpers import Prospect, form_data


def write_link(app, address: str = EMAIL) -> int:
    """A draft with ``address`` and its resume link written (committed); the id."""
    with app.app_context():
        intake = create_intake({"contact_name": "Daniel Okafor", "contact_email": address})
        db.session.flush()
        row = mail.resume_link_on_save(intake)
        assert row is not None
        db.session.commit()
        return row.id


def give_email(client):
    prospect = Prospect(client)
    prospect.start()
    response = prospect.step("about", form_data("about", example()))
    assert response.status_code == 302  # whatever the mail server does
    return prospect


def test_the_request_writes_and_the_worker_sends_after_commit(mail_app, recorder, client, inbox):
    give_email(client)
    [row] = rows(mail_app)
    assert recorder.handed == [row.id] and row.status == "queued"
    assert inbox.messages == []  # nothing is sent inside the request
    with mail_app.app_context():  # the worker's turn
        assert outbox.deliver(row.id) is None
    assert len(inbox.to(EMAIL)) == 1 and rows(mail_app)[0].status == "sent"


def test_a_second_worker_does_not_resend(mail_app, recorder, inbox, monkeypatch):
    message_id = write_link(mail_app)
    inside = threading.Event()
    release = threading.Event()
    real_send = smtp.send

    def slow_send(message, server):
        inside.set()
        assert release.wait(10)
        return real_send(message, server)

    monkeypatch.setattr(smtp, "send", slow_send)
    results = {}

    def first():
        with mail_app.app_context():
            results["first"] = outbox.deliver(message_id)

    worker = threading.Thread(target=first)
    worker.start()
    assert inside.wait(10)  # the first worker holds the lease and is sending
    with mail_app.app_context():
        assert outbox.deliver(message_id) is None  # the second finds it claimed
        assert db.session.get(OutboxMessage, message_id).status == "sending"
    assert inbox.messages == []
    release.set()
    worker.join(10)
    assert results["first"] is None
    with mail_app.app_context():
        assert outbox.deliver(message_id) is None  # sent: nothing to do
        assert outbox.due_ids() == []
    assert len(inbox.to(EMAIL)) == 1


def test_a_worker_killed_mid_send_leaves_it_to_the_sweep_under_the_same_id(
    mail_app, recorder, inbox
):
    message_id = write_link(mail_app)
    with mail_app.app_context():  # a worker claimed it, then died (no outcome recorded)
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id)
            .values(status="sending", attempts=1, locked_until=utcnow() + timedelta(seconds=60))
        )
        db.session.commit()
        assert outbox.due_ids() == [] and outbox.deliver(message_id) is None  # lease held
        db.session.execute(
            update(OutboxMessage).values(locked_until=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()
        assert outbox.due_ids() == [message_id]  # the lease ran out: the sweep's again
        assert outbox.deliver(message_id) is None
        row = db.session.get(OutboxMessage, message_id)
        assert row.status == "sent" and row.attempts == 2
    [message] = inbox.to(EMAIL)
    assert message["Message-ID"] == row.message_id


def test_a_temporary_refusal_is_retried_under_the_same_message_id(mail_app, client, inbox):
    inbox.data = ["451 4.3.0 Try again later"]  # the server refuses the first attempt
    give_email(client)
    [row] = settled(mail_app)
    assert row.status == "sent" and row.attempts == 2
    [refused] = inbox.refused_data
    [message] = inbox.to(EMAIL)
    assert refused["Message-ID"] == message["Message-ID"] == row.message_id
    assert row.last_answer.startswith("250")


def test_a_refused_recipient_is_retried_then_sent(mail_app, client, inbox):
    inbox.rcpt = ["450 4.2.1 Mailbox busy", "421 4.7.0 Too many connections"]
    give_email(client)
    [row] = settled(mail_app)
    assert row.status == "sent" and row.attempts == 3 and len(inbox.to(EMAIL)) == 1


def test_an_unknown_recipient_fails_at_once_with_the_servers_answer(mail_app, client, inbox):
    inbox.unknown = {EMAIL}
    give_email(client)
    [row] = settled(mail_app)
    assert row.status == "failed" and row.attempts == 1  # 5xx: permanent, not retried
    assert row.last_code is None or row.last_code == 550
    assert row.last_answer.startswith("550 5.1.1") and "User unknown" in row.last_answer
    assert inbox.messages == []


def test_a_server_that_is_away_is_retried_then_failed(mail_app, client, inbox):
    mail_app.config.update(MAIL_PORT=free_port(), MAIL_MAX_ATTEMPTS=3)  # nobody listens
    give_email(client)
    [row] = settled(mail_app)
    assert row.status == "failed" and row.attempts == 3
    assert "ConnectionRefusedError" in row.last_answer


def test_a_server_that_does_not_answer_in_time_is_retried(mail_app, client, inbox):
    mail_app.config.update(MAIL_TIMEOUT=0.5, MAIL_MAX_ATTEMPTS=2)
    inbox.delay = 2.0
    give_email(client)
    [row] = settled(mail_app, timeout=30)
    assert row.status == "failed" and row.attempts == 2
    assert "no answer from 127.0.0.1 in 0.5 s" in row.last_answer


def test_a_bad_address_fails_without_reaching_the_server(mail_app, recorder, inbox):
    message_id = write_link(mail_app)
    with mail_app.app_context():
        db.session.execute(update(OutboxMessage).values(to_address="not an address"))
        db.session.commit()
        assert outbox.deliver(message_id) is None
        row = db.session.get(OutboxMessage, message_id)
    assert row.status == "failed" and row.last_answer.startswith("not a valid email address")
    assert inbox.messages == [] and inbox.refused_data == []


def test_a_rollback_writes_and_hands_over_nothing(mail_app, recorder, inbox):
    with mail_app.app_context():
        intake = create_intake({"contact_name": "Daniel Okafor", "contact_email": EMAIL})
        db.session.flush()
        assert mail.resume_link_on_save(intake) is not None
        db.session.rollback()
        assert db.session.execute(select(OutboxMessage)).first() is None
    assert recorder.handed == [] and inbox.messages == []


def test_queued_messages_are_swept_up_after_a_restart(mail_app, recorder, inbox):
    message_id = write_link(mail_app)  # handed to a worker that never sent it
    assert recorder.handed == [message_id]
    mail_app.extensions.pop("outbox")  # a new process: a fresh in-process worker
    worker = outbox.dispatcher(mail_app)
    worker.start()  # it sweeps the database at start
    [row] = settled(mail_app)
    assert row.status == "sent" and len(inbox.to(EMAIL)) == 1


@pytest.fixture
def rq_app(mail_app, redis_server):
    """The app with REDIS_URL on this run's own Redis (no other run's jobs in its
    queue), and no in-process worker."""
    import redis

    lanes = tuple(lane.thread for lane in worker.LANES.values())
    running = [t.name for t in threading.enumerate() if t.name.startswith(lanes)]
    assert running == [], "an in-process worker from an earlier test would sweep this one's rows"
    url = f"{redis_server}/14"
    connection = redis.Redis.from_url(url)
    connection.flushdb()
    mail_app.extensions.pop("outbox", None)
    mail_app.config.update(REDIS_URL=url)
    yield mail_app
    mail_app.extensions.pop("outbox", None)
    connection.flushdb()


def test_with_redis_messages_are_rq_jobs_on_the_workers_queue(rq_app, client, inbox):
    from rq import SimpleWorker
    from rq.registry import ScheduledJobRegistry

    inbox.data = ["451 4.3.0 Try again later"]
    give_email(client)
    dispatcher = outbox.dispatcher(rq_app)
    assert isinstance(dispatcher, outbox.RqDispatcher)
    queue = dispatcher.queue()
    assert queue.name == "onboarding-webhooks"  # the one `onboarding worker` works
    assert queue.count == 1 and inbox.messages == []
    with rq_app.app_context():
        SimpleWorker([queue], connection=queue.connection).work(burst=True)
    [row] = rows(rq_app)
    assert row.status == "queued" and row.attempts == 1 and row.last_answer.startswith("451")
    assert ScheduledJobRegistry(queue=queue).count == 1  # the retry, at next_attempt_at
    with rq_app.app_context():  # what the scheduler does when it is due
        db.session.execute(update(OutboxMessage).values(next_attempt_at=utcnow()))
        db.session.commit()
        assert worker.rq_send("email", row.id) == "done"
    assert rows(rq_app)[0].status == "sent" and len(inbox.to(EMAIL)) == 1


@pytest.fixture
def slow_render(monkeypatch):
    """Every render blocks until the test releases it (a render taking its full 20 s):
    ``inside`` is set once one is running, ``lanes`` names the threads that ran them."""
    inside, release, lanes = threading.Event(), threading.Event(), []

    def render(job_id, **_):
        lanes.append(threading.current_thread().name)
        inside.set()
        assert release.wait(120)
        return None

    monkeypatch.setattr(prerender, "deliver", render)  # behind the registered channel
    yield SimpleNamespace(inside=inside, release=release, lanes=lanes)
    release.set()


def sent_while(app, message_id: int, still: threading.Event, timeout: float = 30) -> None:
    """Wait for the message to be sent, failing if ``still`` is set first or in time."""
    deadline = time.monotonic() + timeout
    while rows(app)[-1].status != "sent":
        assert not still.is_set() and time.monotonic() < deadline, rows(app)[-1].status
        time.sleep(0.05)
    assert rows(app)[-1].id == message_id


def test_a_message_is_sent_while_a_render_is_still_running(mail_app, inbox, slow_render):
    dispatcher = outbox.dispatcher(mail_app)
    dispatcher.enqueue([1], channel="render")  # a render job, handed after its commit
    assert slow_render.inside.wait(30)  # and being rendered
    message_id = write_link(mail_app)
    sent_while(mail_app, message_id, slow_render.release)
    assert len(inbox.to(EMAIL)) == 1
    assert slow_render.lanes == ["onboarding-render"]  # not the thread that sends mail
    assert not dispatcher.idle() and not dispatcher.drain(timeout=0.2)  # drain waits for it
    slow_render.release.set()
    assert dispatcher.drain(timeout=30) and dispatcher.idle()
    names = sorted(t.name for t in dispatcher.threads())
    assert names == ["onboarding-outbox", "onboarding-render"]
    dispatcher.stop(timeout=30)
    assert dispatcher.threads() == []


def test_a_channel_names_a_lane_there_is(monkeypatch):
    monkeypatch.setattr(worker, "CHANNELS", dict(worker.CHANNELS))
    channel = worker.Channel("fax", list, lambda row_id: None, lane="fax")
    with pytest.raises(ValueError, match="channel 'fax': unknown lane 'fax'"):
        worker.register(channel)
    assert "fax" not in worker.CHANNELS


def test_with_redis_renders_have_a_queue_and_a_worker_of_their_own(rq_app, inbox, slow_render):
    dispatcher = outbox.dispatcher(rq_app)
    dispatcher.enqueue([1], channel="render")
    renders, messages = dispatcher.queue("render"), dispatcher.queue()
    assert renders.name == "onboarding-renders" and renders.count == 1 and messages.count == 0
    lane_worker, thread = dispatcher.start_lane("render")  # what `onboarding worker` starts
    assert slow_render.inside.wait(30)
    message_id = write_link(rq_app)
    assert messages.count == 1 and renders.count == 0
    [job] = messages.jobs
    with rq_app.app_context():  # what the command's own worker does with it
        job.perform()
    assert rows(rq_app)[-1].id == message_id and rows(rq_app)[-1].status == "sent"
    assert len(inbox.to(EMAIL)) == 1
    assert thread.is_alive() and not slow_render.release.is_set()  # the render still runs
    assert slow_render.lanes == ["onboarding-render-rq"]
    slow_render.release.set()
    worker.stop_lane(lane_worker, thread, timeout=180)  # after its job, as Ctrl+C does
    assert not thread.is_alive()
