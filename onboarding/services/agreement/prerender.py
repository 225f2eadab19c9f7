"""Agreements rendered before anyone asks for them: the outbox's ``render`` channel.

Whenever what an agreement is made from changes — a submit, a re-assessment, terms or
clauses saved, and, after an agency profile is saved, every intake still open — a
:class:`~onboarding.db.renders.RenderJob` is written in the same transaction
(:func:`queue`), and the outbox worker (:mod:`onboarding.integrations.worker`) renders
it after the commit: the PDF a manager downloads or previews, and the PDF of the next
version to send (with its page of changes), in the paper the intake uses. The request
that wants the PDF then finds it in the shared cache; should it come first, it renders
itself, and the cache's claims (:class:`~onboarding.services.agreement.compose.
SharedDatabaseCache`) make sure the same content is never rendered twice at once.

The render queue subscribes to what the use cases announce (:func:`subscribe`): an
assessment stored, terms or the agency profile saved, an acceptance and a
countersignature (their files). Settings arrive as parameters (``agency``), never from
Flask: the web layer registers the channel with them (:func:`channel`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select

from onboarding.db import db
from onboarding.db.models import AgreementVersion, Intake, utcnow
from onboarding.db.renders import RenderJob
from onboarding.domain.agreement import DEFAULT_AGENCY
from onboarding.integrations import worker
from onboarding.services import signals
from onboarding.services.agreement import compose as agreements
from onboarding.services.agreement import files, send
from onboarding.services.agreement.compose import PAPERS
from onboarding.services.intake.workspace import WorkspaceError

log = logging.getLogger(__name__)

CLOSED = ("accepted", "signed", "declined", "walked_away")
"""Statuses whose agreement will not be sent again (no render after a profile save)."""
LEASE_SECONDS = 180
MAX_ATTEMPTS = 3
BACKOFF_SECONDS = 30
SWEEP_BATCH = 50


def paper_of(intake: Intake) -> str:
    """The paper the intake uses: its latest version's, else A4."""
    latest = db.session.execute(
        select(AgreementVersion.paper)
        .where(AgreementVersion.intake_id == intake.id)
        .order_by(AgreementVersion.number.desc())
        .limit(1)
    ).scalar_one_or_none()
    return latest if latest in PAPERS else "a4"


def queue(intake: Intake, reason: str) -> RenderJob | None:
    """Render ``intake``'s agreement (an assessed intake) after the caller commits;
    nothing when a render of it is already waiting. Written in the caller's session."""
    with db.session.no_autoflush:
        if intake.id is not None:
            waiting = db.session.execute(
                select(RenderJob.id).where(
                    RenderJob.intake_id == intake.id,
                    RenderJob.kind == "agreement",
                    RenderJob.status == "queued",
                    RenderJob.attempts == 0,
                )
            ).first()
            if waiting is not None:
                return None
        paper = paper_of(intake) if intake.id is not None else "a4"
    job = RenderJob(
        kind="agreement",
        paper=paper,
        reason=reason[:40],
        status="queued",
        attempts=0,
        next_attempt_at=utcnow(),
    )
    job.intake = intake  # its id, once the intake has one
    db.session.add(job)
    worker.track("render", [job])
    return job


def queue_file(version: AgreementVersion, kind: str) -> RenderJob:
    """Make the ``accepted`` or ``signed`` PDF of ``version`` after the caller commits
    (the page confirms at once; the file follows). Written in the caller's session."""
    job = RenderJob(
        intake_id=version.intake_id,
        version_id=version.id,
        kind=kind,
        paper=version.paper or "a4",
        reason=kind,
        status="queued",
        attempts=0,
        next_attempt_at=utcnow(),
    )
    db.session.add(job)
    worker.track("render", [job])
    return job


def queue_open_intakes(reason: str) -> int:
    """Queue the agreement of every submitted intake still open (after the agency
    profile changed); returns how many. Written in the caller's session."""
    intakes = db.session.execute(
        select(Intake).where(Intake.status != "draft", Intake.status.not_in(CLOSED))
    ).scalars()
    return sum(1 for intake in intakes if queue(intake, reason) is not None)


# --- the worker's side ---------------------------------------------------------------------------


def _due(now: datetime):
    return (
        RenderJob.status == "queued",
        or_(RenderJob.next_attempt_at.is_(None), RenderJob.next_attempt_at <= now),
        or_(RenderJob.locked_until.is_(None), RenderJob.locked_until < now),
    )


def due_ids(limit: int = SWEEP_BATCH, *, agreements: bool = True) -> list[int]:
    """Render jobs due and not being worked, oldest first (``agreements=False``: only
    the accepted and signed files, which are never optional)."""
    where = _due(utcnow())
    if not agreements:
        where += (RenderJob.kind != "agreement",)
    ids = db.session.execute(
        select(RenderJob.id)
        .where(*where)
        .order_by(RenderJob.next_attempt_at, RenderJob.id)
        .limit(limit)
    ).scalars().all()  # fmt: skip
    db.session.rollback()
    return list(ids)


def render_agreement(intake: Intake, paper: str, agency: str) -> int:
    """Render (or find in the cache) what the requests will want of ``intake``: the
    PDF to download and, when one can be sent, the next version's. Returns how many
    PDFs were rendered (0 when the cache had them)."""
    rendered = 0
    download = agreements.agreement_pdf(intake, paper, agency=agency)
    rendered += not download.cached
    try:
        upcoming = send.prepare_send(intake, paper, agency=agency)
    except WorkspaceError:  # not sendable yet (or nothing changed): the download is all
        return rendered
    rendered += not upcoming.rendered.cached
    return rendered


def deliver(
    job_id: int,
    *,
    agency: str = DEFAULT_AGENCY,
    agreements: bool = True,
) -> datetime | None:
    """Work one render job if it is due and nobody else is working it; record the
    outcome. Returns when to retry, or None. Needs an app context; commits."""
    db.session.rollback()
    if not agreements:  # background renders are off: the files only, never a write else
        kind = db.session.execute(select(RenderJob.kind).where(RenderJob.id == job_id)).scalar()
        db.session.rollback()
        if kind in (None, "agreement"):
            return None
    if not worker.lease(
        RenderJob,
        job_id,
        _due,
        LEASE_SECONDS,
        status="rendering",
        attempts=RenderJob.attempts + 1,
    ):
        return None
    job = db.session.get(RenderJob, job_id, populate_existing=True)
    if job is None:
        db.session.rollback()
        return None
    attempts, kind, paper, version_id = job.attempts, job.kind, job.paper, job.version_id
    intake = db.session.get(Intake, job.intake_id)
    values: dict[str, Any] = {"locked_until": None}
    retry_at = None
    try:
        count = 0
        if intake is not None and intake.assessment is not None and kind == "agreement":
            count = render_agreement(intake, paper, agency)
        elif kind in ("accepted", "signed") and version_id is not None:
            db.session.rollback()
            files.ensure_file(version_id, kind)
            count = 1
        db.session.rollback()
        values.update(status="done", done_at=utcnow(), last_error=None)
        log.info("render job %s (%s): done, %d rendered", job_id, kind, count)
    except Exception as exc:  # a render that failed: retried, then recorded
        db.session.rollback()
        log.exception("render job %s (%s) failed", job_id, kind)
        error = f"{type(exc).__name__}: {exc}"[:500]
        if attempts < MAX_ATTEMPTS:
            retry_at = utcnow() + timedelta(seconds=BACKOFF_SECONDS * attempts)
            values.update(status="queued", next_attempt_at=retry_at, last_error=error)
        else:
            values.update(status="failed", last_error=error)
    worker.record(RenderJob, job_id, values, RenderJob.status == "rendering")
    return retry_at


def channel(agency: Callable[[], str], enabled: Callable[[], bool]) -> worker.Channel:
    """The ``render`` channel: ``agency`` gives the agency's name, ``enabled`` whether
    agreements render in the background (``PRERENDER``; the accepted and signed files
    always do), each read from the app's settings when called."""
    return worker.Channel(
        "render",
        lambda: due_ids(agreements=enabled()),
        lambda job_id: deliver(job_id, agency=agency(), agreements=enabled()),
        starts_in_tests=False,  # tests make the files on demand or run the jobs themselves
        lane="render",  # a slow render never holds up an email or a webhook
    )


# --- subscriptions -------------------------------------------------------------------------------


def _assessed(intake: Intake, **_: Any) -> None:
    queue(intake, "assessed")  # its agreement, rendered after the commit


def _terms_saved(intake: Intake, **_: Any) -> None:
    if intake.assessment is not None:
        queue(intake, "terms saved")  # its agreement, rendered after the commit


def _profile_saved(_: None, **__: Any) -> None:
    queue_open_intakes("profile saved")  # the open intakes' agreements change


def _accepted(_: Intake, *, version: AgreementVersion, **__: Any) -> None:
    queue_file(version, "accepted")  # its PDF, made after the commit


def _signed(_: Intake, *, version: AgreementVersion, **__: Any) -> None:
    # The signed PDF is made after the commit (by the worker, or the first download);
    # the prospect's copy is emailed with it (``file_issued``).
    queue_file(version, "signed")


def subscribe() -> None:
    """Queue the renders the use cases' signals call for."""
    signals.intake_assessed.connect(_assessed, weak=False)
    signals.terms_saved.connect(_terms_saved, weak=False)
    signals.profile_saved.connect(_profile_saved, weak=False)
    signals.agreement_accepted.connect(_accepted, weak=False)
    signals.agreement_signed.connect(_signed, weak=False)
