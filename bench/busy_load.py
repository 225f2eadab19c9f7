"""Term saves and sends under load on SQLite, with background renders running.

    python bench/busy_load.py [--intakes 20] [--rounds 2] [--no-write]

Issue 27: ``PUT /api/v1/intakes/<id>/terms`` answered 500 "database is locked" with two
gunicorn workers while the background renders of earlier saves wrote. This starts the
app under gunicorn with **two** sync workers on a fresh SQLite database with
``PRERENDER=true`` (every save queues a render the workers' outbox threads do), then
20 clients at once, one per intake, each ``--rounds`` times: save the terms (a new
number of revision rounds) and send the agreement (a new version, its PDF rendered).

It fails (exit 1) on any answer of 500, or when a save answered 200 is not what the
database holds at the end, and prints p50/p95 of the saves and sends, and how many
answers were 503 (the bounded retry's "send it again": none expected).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.pdf_http import REASON, TERMS, line, p, renders_pending, rows  # noqa: E402
from bench.results import write_section  # noqa: E402
from bench.server import free_port, gunicorn  # noqa: E402

WORKERS = 2


def prepare(url: str, instance: str, count: int) -> tuple[list[str], str]:
    """Submitted intakes with terms, the agency profile, a manager and an API token
    acting as them; returns the intakes' public ids and the token."""
    os.environ.update(DATABASE_URL=url, INSTANCE_PATH=instance, SECRET_KEY="bench")
    import random

    from onboarding.app import create_app
    from onboarding.db import db
    from onboarding.db.engine import upgrade_schema
    from onboarding.domain.samples import random_answers
    from onboarding.services.agreement import terms as contracts
    from onboarding.services.intake.submission import create_intake, submit_intake
    from onboarding.services.people import api_tokens
    from onboarding.services.people.accounts import create_user
    from onboarding.web.extensions import app_playbooks

    app = create_app(
        {
            "TESTING": True,
            "PASSWORD_HASH_METHOD": "scrypt:16384:8:1",
            "SQLALCHEMY_DATABASE_URI": url,
            "INSTANCE_PATH": instance,
        }
    )
    rng = random.Random(27)  # noqa: S311 - benchmark data
    terms = json.loads(TERMS.read_text())
    with app.app_context():
        upgrade_schema()
        user, _ = create_user(
            "bench@agency.example", "manager", "quiet harbour lantern seven", settings=app.config
        )
        contracts.seed_profile(app.config["AGENCY_NAME"])
        _, token = api_tokens.create_token("busy bench", user)
        ids = []
        for _ in range(count):
            intake = create_intake(random_answers(rng))
            db.session.flush()
            submit_intake(intake, playbooks=app_playbooks(app))
            contracts.save_terms(intake, terms, None)
            ids.append(intake.public_id)
        db.session.commit()
        db.engine.dispose()
    return ids, token


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--intakes", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()

    tmp = tempfile.mkdtemp(prefix="bench-busy-")
    url = f"sqlite:///{tmp}/busy.db"
    ids, token = prepare(url, tmp, args.intakes)
    base_terms = json.loads(TERMS.read_text())
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "INSTANCE_PATH": tmp,
        "SECRET_KEY": "bench",
        "PRERENDER": "true",
        "DRAFT_REMINDER_SWEEP_SECONDS": "0",
        "MAIL_SWEEP_SECONDS": "1",
        "API_RATE_LIMIT": "100000 per minute",
        "WEB_CONCURRENCY": str(WORKERS),
    }
    target = "onboarding.app:create_app()"
    proc = gunicorn(target, env, port, "-w", str(WORKERS), "--timeout", "600")
    statuses: dict[int, int] = {}
    saves: list[float] = []
    sends: list[float] = []
    saved: dict[str, int] = {}  # the revision rounds each intake's last 200 save stored
    lock = threading.Lock()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def client(public_id: str, offset: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=900)
        for round_ in range(args.rounds):
            rounds = 1 + (offset + round_) % 9
            body = dict(base_terms, service_levels={"revision_rounds": rounds})
            t0 = time.perf_counter()
            conn.request("PUT", f"/api/v1/intakes/{public_id}/terms", json.dumps(body), headers)
            response = conn.getresponse()
            response.read()
            elapsed = time.perf_counter() - t0
            with lock:
                statuses[response.status] = statuses.get(response.status, 0) + 1
                if response.status == 200:
                    saves.append(elapsed)
                    saved[public_id] = rounds
            send = json.dumps({"paper": "a4", "override_walk_away": REASON})
            t0 = time.perf_counter()
            conn.request("POST", f"/api/v1/intakes/{public_id}/agreement", send, headers)
            response = conn.getresponse()
            data = response.read()
            elapsed = time.perf_counter() - t0
            with lock:
                statuses[response.status] = statuses.get(response.status, 0) + 1
                if response.status == 201:
                    sends.append(elapsed)
                else:  # a 409 names why this intake cannot be sent (not a lost write)
                    print("send", response.status, data[:300], file=sys.stderr)

    try:
        threads = [
            threading.Thread(target=client, args=(public_id, i)) for i, public_id in enumerate(ids)
        ]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        took = time.perf_counter() - start
        renders_left = renders_pending(url)
    finally:
        proc.terminate()  # a worker mid-render finishes it first
        try:
            proc.wait(timeout=120)
        except Exception:  # noqa: BLE001 - never leave it running
            proc.kill()
            proc.wait()

    stored = {
        public_id: json.loads(data)["service_levels"]["revision_rounds"]
        for public_id, data in rows(
            url,
            "SELECT i.public_id, t.data FROM intakes i JOIN engagement_terms t "
            "ON t.intake_id = i.id",
        )
        if public_id in saved
    }
    lost = [public_id for public_id, rounds in saved.items() if stored.get(public_id) != rounds]
    errors = sum(count for status, count in statuses.items() if status >= 500 and status != 503)
    lines = [
        f"gunicorn {WORKERS} sync workers, SQLite, PRERENDER=true, {len(ids)} clients at once, "
        f"each {args.rounds} x (save terms by API, send the agreement by API), in {took:.1f} s",
        f"answers: {dict(sorted(statuses.items()))}; 500s: {errors}; "
        f"503s: {statuses.get(503, 0)}; saves answered 200 but not stored: {len(lost)}; "
        f"renders still queued at the end: {renders_left}",
        line("  PUT terms", saves),
        line("  POST agreement (send)", sends),
        f"save p95: {p(saves, 'p95'):.0f} ms; send p95: {p(sends, 'p95'):.0f} ms",
    ]
    print("\n".join(lines))
    if not args.no_write:
        write_section("Saves and sends on a busy SQLite (bench/busy_load.py)", "\n".join(lines))
    if errors or lost or statuses.get(200, 0) != len(ids) * args.rounds:
        raise SystemExit("a save or send was lost or answered 500")


if __name__ == "__main__":
    main()
