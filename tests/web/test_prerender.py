"""The agreement is ready before anyone asks for it: a submit queues exactly one render,
the outbox worker renders it, and the manager's download, the send and a second request
for the same content render nothing; two requests at once render once."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from onboarding.db import db
from onboarding.db.models import AgreementVersion, Intake, RenderedPdf
from onboarding.db.outbox import OutboxMessage
from onboarding.db.renders import RenderJob
from onboarding.rendering import pdf as pdf_module
from onboarding.services.agreement import compose as agreements
from onboarding.services.agreement import files as agreement_files
from onboarding.services.agreement import prerender
from tests.factories import STAND_IN, answer, countersign, grant, login, send
from tests.web.helpers import make_files, make_sendable


class Counter:
    """Counts the renderer's renders (the real renderer still renders)."""

    def __init__(self, renderer):
        self.renderer, self.count, self.lock = renderer, 0, threading.Lock()
        self.original = renderer.render

    def __call__(self, *args, **kwargs):
        with self.lock:
            self.count += 1
        return self.original(*args, **kwargs)


@pytest.fixture
def renders(monkeypatch):
    renderer = pdf_module.get_renderer()
    counter = Counter(renderer)
    monkeypatch.setattr(renderer, "render", counter)
    return counter


@pytest.fixture
def prerendering(app):
    app.config["PRERENDER"] = True
    yield app
    app.config["PRERENDER"] = False


def jobs(app) -> list[RenderJob]:
    with app.app_context():
        found = list(db.session.execute(select(RenderJob).order_by(RenderJob.id)).scalars())
        db.session.expunge_all()
        return found


def work(app) -> None:
    """What the outbox worker does with the render jobs that are due."""
    with app.app_context():
        for job_id in prerender.due_ids():
            prerender.deliver(job_id, agency=app.config["AGENCY_NAME"])


def download(client, public_id):
    response = client.get(f"/workspace/intakes/{public_id}/agreement.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    return response.data


def test_a_submit_queues_exactly_one_render(app, submitted):
    queued = jobs(app)
    assert [(j.kind, j.status, j.paper, j.reason) for j in queued] == [
        ("agreement", "queued", "a4", "assessed")
    ]


def test_the_worker_renders_it_and_the_download_renders_nothing(
    prerendering,
    client,
    staff,
    submitted,
    renders,
):
    work(prerendering)
    assert renders.count == 1 and [j.status for j in jobs(prerendering)] == ["done"]
    login(client, staff["manager"])
    first = download(client, submitted)
    second = download(client, submitted)
    assert renders.count == 1 and first == second  # both from the cache
    work(prerendering)  # nothing left to do
    assert renders.count == 1


def test_saved_terms_and_profile_queue_one_render_and_the_send_finds_it_ready(
    prerendering,
    client,
    staff,
    submitted,
    renders,
):
    work(prerendering)
    make_sendable(prerendering, submitted)  # saves the profile, then the terms
    # One render waits for both changes (the terms found it queued).
    assert [(j.reason, j.status) for j in jobs(prerendering)] == [
        ("assessed", "done"),
        ("profile saved", "queued"),
    ]
    work(prerendering)
    before = renders.count
    assert before == 2  # the first agreement, then the one with terms
    login(client, staff["manager"])
    send(client, submitted)
    download(client, submitted)
    assert renders.count == before  # the send and the download rendered nothing


def test_two_requests_at_once_render_once(app, staff, submitted, renders):
    clients = [app.test_client(), app.test_client()]
    for c in clients:
        login(c, staff["manager"])
    results: list[bytes] = []
    start = threading.Barrier(2)

    def fetch(c):
        start.wait()
        results.append(download(c, submitted))

    threads = [threading.Thread(target=fetch, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(results) == 2 and results[0] == results[1]
    assert renders.count == 1
    with app.app_context():
        assert db.session.execute(select(RenderedPdf.key)).scalars().all()


def test_a_profile_save_queues_the_open_intakes_only(app, client, staff, submitted):
    from onboarding.domain.terms import default_profile
    from onboarding.services.agreement import terms as agreement_terms

    with app.app_context():
        intake = db.session.execute(select(Intake)).scalar_one()
        intake.status = "signed"
        db.session.commit()
        db.session.execute(RenderJob.__table__.delete())
        db.session.commit()
        agreement_terms.save_profile(default_profile().as_dict(), None)
        db.session.commit()
    assert jobs(app) == []  # a signed intake's agreement will not be sent again
    with app.app_context():
        intake = db.session.execute(select(Intake)).scalar_one()
        intake.status = "in_review"
        db.session.commit()
        agreement_terms.save_profile(default_profile().as_dict(), None)
        db.session.commit()
    assert [j.reason for j in jobs(app)] == ["profile saved"]


def test_accept_and_countersign_confirm_at_once_and_their_files_follow(
    app,
    client,
    staff,
    submitted,
    renders,
):
    login(client, staff["manager"])
    token = send(client, submitted)
    status_url = f"/agreement/{token}/file-status"
    before = renders.count
    prospect, accepted = answer(app, f"/agreement/{token}/accept", STAND_IN)
    assert accepted.status_code == 302 and renders.count == before  # confirmed, no render
    page = prospect.get(f"/agreement/{token}/accepted").text
    assert "We are preparing your signed copy" in page and "data-file-status" in page
    assert prospect.get(status_url).get_json() == {
        "ready": False,
        "sha256": None,
        "kind": "accepted",
    }
    files = [(j.kind, j.status) for j in jobs(app) if j.kind != "agreement"]
    assert files == [("accepted", "queued")]

    assert make_files(app) == 1 and renders.count == before + 1  # what the worker does
    ready = prospect.get(status_url).get_json()
    assert ready["ready"] and ready["kind"] == "accepted" and len(ready["sha256"]) == 64
    page = prospect.get(f"/agreement/{token}/accepted").text
    assert ready["sha256"] in page and "We are preparing" not in page

    grant(app, "manager@example.com")
    before = renders.count
    assert countersign(client, submitted).status_code == 302
    assert renders.count == before  # the countersignature is recorded at once
    assert prospect.get(status_url).get_json()["ready"] is False  # the signed file follows
    assert "We are preparing your signed copy" in prospect.get(f"/agreement/{token}").text
    with app.app_context():
        kinds = db.session.execute(select(OutboxMessage.kind)).scalars().all()
    assert "agreement_signed" not in kinds  # the client's copy goes with the file
    assert make_files(app) == 1 and renders.count == before + 1
    signed = prospect.get(status_url).get_json()
    assert signed["ready"] and signed["kind"] == "signed" and signed["sha256"] != ready["sha256"]
    with app.app_context():
        kinds = db.session.execute(select(OutboxMessage.kind)).scalars().all()
    assert kinds.count("agreement_signed") == 1
    assert prospect.get("/agreement/not-a-token/file-status").status_code == 404


def test_a_download_that_waits_for_the_worker_serves_the_file_it_made(
    app,
    client,
    staff,
    submitted,
    renders,
    monkeypatch,
):
    """The prospect downloads while the worker is making the accepted file: the download
    waits for the worker's claim, then serves the file the worker stored (it renders
    nothing itself, and never reads the version as it was before the file was made)."""
    login(client, staff["manager"])
    token = send(client, submitted)
    prospect, accepted = answer(app, f"/agreement/{token}/accept", STAND_IN)
    assert accepted.status_code == 302
    real_claim, threads = agreements.claim, []

    def worker_makes_it() -> None:
        with app.app_context():
            version_id = db.session.execute(select(AgreementVersion.id)).scalar_one()
            agreement_files.ensure_file(version_id, "accepted")

    def claim(key, *args, **kwargs):
        if threads and threading.current_thread() is threads[0]:
            return True  # the worker: its claim is the one taken below
        if not threads:  # the download asks first: the worker holds the claim now
            real_claim(key, *args, **kwargs)
            threads.append(threading.Thread(target=worker_makes_it))
            threads[0].start()
            return False
        return real_claim(key, *args, **kwargs)

    monkeypatch.setattr(agreements, "claim", claim)
    before = renders.count
    response = prospect.get(f"/agreement/{token}/pdf")
    threads[0].join(60)
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    assert renders.count == before + 1  # the worker's render only
    with app.app_context():
        stored = db.session.execute(select(AgreementVersion.final_pdf)).scalar_one()
    assert response.data == stored


def test_the_download_after_the_render_is_one_statement_and_follows_every_change(
    prerendering, client, staff, submitted, renders
):
    """The background render notes what it rendered from; the download then finds the
    PDF with one statement (after the signed-in user's), without composing. Once the
    intake's data change, the noted inputs no longer match: the download composes and
    renders the new agreement, as before, and notes it for the next one."""
    from sqlalchemy import event

    work(prerendering)
    login(client, staff["manager"])
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        if statement.split(None, 1)[0].upper() not in ("BEGIN", "COMMIT", "ROLLBACK"):
            statements.append(statement)  # queries (SQLite's engine says BEGIN itself)

    with prerendering.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        first = download(client, submitted)
        assert len([s for s in statements if "agreement_pdf_inputs" in s]) == 1
        assert len(statements) == 2, statements  # the user's row, then the PDF's
        assert renders.count == 1
        with prerendering.app_context():
            found = agreements.prerendered_pdf(
                submitted, "a4", agency=prerendering.config["AGENCY_NAME"]
            )
            assert found is not None and found[0] == first
            # Another agency name (no profile saved: it names the agreement) or paper.
            assert agreements.prerendered_pdf(submitted, "a4", agency="Other Ltd") is None
            assert agreements.prerendered_pdf(submitted, "letter", agency="x") is None
        make_sendable(prerendering, submitted)  # a profile and terms: another agreement
        with prerendering.app_context():
            assert (
                agreements.prerendered_pdf(
                    submitted, "a4", agency=prerendering.config["AGENCY_NAME"]
                )
                is None
            )
        statements.clear()
        second = download(client, submitted)  # composed and rendered in the request
        assert second != first and renders.count == 2
        statements.clear()
        assert download(client, submitted) == second  # noted: one statement again
        assert len(statements) == 2 and renders.count == 2
    finally:
        event.remove(engine, "before_cursor_execute", count)
