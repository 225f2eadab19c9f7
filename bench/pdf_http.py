"""Agreement PDFs through gunicorn, with and without the background render.

    python bench/pdf_http.py [--intakes 40] [--threads 4] [--no-write] [--postgres URL]

One run, two servers under gunicorn (sync workers, 2 x cores + 1), 4 concurrent
clients, SQLite (``--postgres``: two databases of its own on that PostgreSQL server, the
production database), A4, each on a fresh database of submitted intakes that can be sent
(an agency profile and terms saved):

- **baseline** (``PRERENDER=false``, how the app worked before): the first download
  renders in the request;
- **background render** (the default): each submit queued a render, which the outbox
  worker (each app process's thread) does after the commit. Measured: the first
  download once the renders finished (as when a manager opens the page a while after
  the submit), the first download of intakes submitted just now (the manager is faster
  than the render: the request renders itself or waits for the render under way, never
  both), a cached repeat, sending each agreement (a new version from the cached PDF),
  and each prospect accepting it (the page confirms at once; the worker makes the
  accepted file after the commit).

Prints p50/p95 of each, the ratio of the first download's p95 to the baseline's, the
render cost in ms per page, and the ratio to LibreOffice converting the same HTML when
``soffice`` is installed (skipped with a message when it is not).
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.results import write_section  # noqa: E402
from bench.server import WORKERS, free_port, gunicorn  # noqa: E402

PASSWORD = "quiet harbour lantern seven"  # noqa: S105 - a throwaway benchmark account
TERMS = ROOT / "examples" / "burned-marketer.terms.json"
REASON = "We agreed a phased scope on the call"  # a walk-away client is sent anyway


def prepare(url: str, instance: str, count: int, *, first: bool) -> tuple[list[str], list[str]]:
    """Submitted intakes with terms (and, ``first``, a manager and the agency profile)
    in the database at ``url``; returns their public ids, and those the send accepts
    (a walk-away client needs a reason, which a manager types). Render jobs are queued
    as a submit queues them; nothing renders here."""
    os.environ.update(DATABASE_URL=url, INSTANCE_PATH=instance, SECRET_KEY="bench")
    from onboarding.app import create_app
    from onboarding.db import db
    from onboarding.db.engine import upgrade_schema
    from onboarding.domain.samples import random_answers
    from onboarding.services.agreement import terms as agreement_terms
    from onboarding.services.intake.submission import create_intake, submit_intake
    from onboarding.services.people.accounts import create_user
    from onboarding.web.extensions import app_playbooks

    app = create_app(
        {
            "TESTING": True,
            "PASSWORD_HASH_METHOD": "scrypt:16384:8:1",
            # The settings were read when first imported: name this run's database.
            "SQLALCHEMY_DATABASE_URI": url,
            "INSTANCE_PATH": instance,
        }
    )
    rng = random.Random(11 if first else 12)  # noqa: S311 - benchmark data
    terms = json.loads(TERMS.read_text())
    ids, sendable = [], []
    with app.app_context():
        upgrade_schema()
        if first:
            create_user("bench@agency.example", "manager", PASSWORD, settings=app.config)
            agreement_terms.seed_profile(app.config["AGENCY_NAME"])
            db.session.commit()
        for _ in range(count):
            intake = create_intake(random_answers(rng))
            db.session.flush()
            submit_intake(intake, playbooks=app_playbooks(app), email=False)
            agreement_terms.save_terms(intake, terms, None)
            ids.append(intake.public_id)
            if not agreement_terms.send_blockers(
                intake, app.config["AGENCY_NAME"], walk_away_reason=REASON
            ):
                sendable.append(intake.public_id)
        db.session.commit()
        db.engine.dispose()
    return ids, sendable


class Client:
    """A signed-in manager's connection (its cookie and a CSRF token)."""

    def __init__(self, port: int):
        self.port = port
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        c.request("GET", "/login")
        r = c.getresponse()
        page = r.read().decode()
        cookie = r.getheader("Set-Cookie").split(";", 1)[0]
        csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        body = urlencode(
            {"email": "bench@agency.example", "password": PASSWORD, "csrf_token": csrf}
        )
        c.request("POST", "/login", body=body, headers={
            "Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
        r = c.getresponse()
        r.read()
        assert r.status == 302, r.status
        self.cookie = r.getheader("Set-Cookie").split(";", 1)[0]
        for attempt in range(20):  # a busy server answers 503 for a while: ask again
            c.request("GET", "/workspace/", headers={"Cookie": self.cookie})
            r = c.getresponse()
            page = r.read().decode()
            if r.getheader("Set-Cookie"):  # the session now holds the CSRF secret
                self.cookie = r.getheader("Set-Cookie").split(";", 1)[0]
            found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
            if found:
                break
            print(f"/workspace/ answered {r.status} without a form; again", file=sys.stderr)
            time.sleep(1 + attempt)
        else:
            raise RuntimeError(f"/workspace/ answered {r.status} without a form")
        self.csrf = found.group(1)


def run(port: int, client: Client, ids: list[str], threads: int, what: str):
    """``what`` (download or send) for every id with ``threads`` concurrent clients;
    returns (seconds, latencies, PDFs)."""
    queue = list(ids)
    lock = threading.Lock()
    latencies: list[float] = []
    pdfs: list[bytes] = []

    def loop() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        while True:
            with lock:
                if not queue:
                    return
                public_id = queue.pop()
            t0 = time.perf_counter()
            if what == "download":
                conn.request(
                    "GET",
                    f"/workspace/intakes/{public_id}/agreement.pdf",
                    headers={"Cookie": client.cookie},
                )
            else:
                body = urlencode(
                    {"paper": "a4", "walk_away_reason": REASON, "csrf_token": client.csrf}
                )
                conn.request(
                    "POST",
                    f"/workspace/intakes/{public_id}/agreement/send",
                    body=body,
                    headers={
                        "Cookie": client.cookie,
                        "Content-Type": "application/x-www-form-urlencoded",
                    },
                )
            response = conn.getresponse()
            data = response.read()
            elapsed = time.perf_counter() - t0
            if what == "download":
                assert response.status == 200 and data.startswith(b"%PDF"), response.status
            else:
                assert response.status == 302, (response.status, data[:300])
            with lock:
                latencies.append(elapsed)
                if what == "download":
                    pdfs.append(data)

    start = time.perf_counter()
    workers = [threading.Thread(target=loop) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return time.perf_counter() - start, latencies, pdfs


def fresh_database(postgres: str | None, name: str, tmp: str) -> str:
    """A new, empty database: a SQLite file in ``tmp``, or ``name`` on the PostgreSQL
    server at ``postgres`` (dropped first if it is there)."""
    if not postgres:
        return f"sqlite:///{tmp}/pdf.db"
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    # A URL naming a database (.../h_perf) names this run's: h_perf_bench_pdf_http, so
    # runs against one server from several checkouts never drop each other's.
    url = make_url(postgres)
    if url.database and url.database != "postgres":
        name = f"{url.database}_{name}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def rows(url: str, sql: str) -> list[tuple]:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(sql))]
    finally:
        engine.dispose()


def sent_tokens(url: str) -> list[str]:
    return [
        row[0] for row in rows(url, "SELECT token FROM agreement_versions WHERE status = 'sent'")
    ]


def accept_all(port: int, tokens: list[str], threads: int) -> list[float]:
    """Each prospect opens their agreement and accepts it (``threads`` at once, a stand-in
    signer with a title and authority); returns the accepting POSTs' latencies."""
    queue = list(tokens)
    lock = threading.Lock()
    latencies: list[float] = []
    answer = {"name": "Bench Signer", "title": "Director", "authority": "yes", "consent": "yes"}

    def loop() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        while True:
            with lock:
                if not queue:
                    return
                token = queue.pop()
            conn.request("GET", f"/agreement/{token}")
            response = conn.getresponse()
            page = response.read().decode()
            cookie = (response.getheader("Set-Cookie") or "").split(";", 1)[0]
            csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
            body = urlencode({**answer, "csrf_token": csrf})
            t0 = time.perf_counter()
            conn.request("POST", f"/agreement/{token}/accept", body=body, headers={
                "Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
            response = conn.getresponse()
            data = response.read()
            elapsed = time.perf_counter() - t0
            assert response.status == 302, (response.status, data[:300])
            with lock:
                latencies.append(elapsed)

    workers = [threading.Thread(target=loop) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return latencies


def renders_pending(url: str) -> int:
    sql = "SELECT count(*) FROM render_jobs WHERE status IN ('queued', 'rendering')"
    return rows(url, sql)[0][0]


def wait_for_renders(url: str, timeout: float = 600) -> float:
    start = time.perf_counter()
    while renders_pending(url):
        if time.perf_counter() - start > timeout:
            raise SystemExit("the background renders did not finish")
        time.sleep(0.2)
    return time.perf_counter() - start


def pages(data: bytes) -> int:
    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(data)).pages)


def soffice_ratio(our_ms: float) -> str:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        return "LibreOffice: skipped (soffice is not installed)"
    from onboarding.domain.assessment import assess
    from onboarding.domain.samples import random_answers
    from onboarding.rendering import pdf

    answers = random_answers(random.Random(11))  # noqa: S311 - benchmark data
    agreement = pdf.compose_agreement(answers, assess(answers), pdf.DEFAULT_AGENCY, None)
    html = pdf.html_for(agreement, static_base=None)
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "agreement.html"
        source.write_text(html, encoding="utf-8")
        t0 = time.perf_counter()
        subprocess.run(  # noqa: S603
            [soffice, "--headless", "--convert-to", "pdf", "--outdir", tmp, str(source)],
            check=True,
            capture_output=True,
        )
        theirs = (time.perf_counter() - t0) * 1000
    return f"LibreOffice from cold: {theirs:.0f} ms for the same HTML; ours {our_ms:.0f} ms"


def p(lat: list[float], q: str) -> float:
    lat = sorted(lat)
    if q == "p50":
        return statistics.median(lat) * 1000
    # "inclusive": within the measured range (the default extrapolates past the largest
    # latency when there are few of them)
    return statistics.quantiles(lat, n=20, method="inclusive")[-1] * 1000


def line(name: str, lat: list[float]) -> str:
    return f"{name:<44} n={len(lat):<3} p50 {p(lat, 'p50'):7.0f} ms   p95 {p(lat, 'p95'):7.0f} ms"


def server(url: str, tmp: str, prerender: bool):
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "INSTANCE_PATH": tmp,
        "SECRET_KEY": "bench",
        "PRERENDER": "true" if prerender else "false",
        "DRAFT_REMINDER_SWEEP_SECONDS": "0",
        "MAIL_SWEEP_SECONDS": "1",  # the worker threads pick up queued renders at once
        "STAFF_MFA": "optional",  # the throwaway bench account signs in with its password
        # A render in the request on a loaded machine may take longer than production's
        # 20 s; the baseline measures it rather than answering 503.
        "PDF_RENDER_TIMEOUT": "180",
    }
    return gunicorn("onboarding.app:create_app()", env, port, "--timeout", "120"), port


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--intakes", type=int, default=40)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="run on this PostgreSQL server (postgresql+psycopg://postgres@127.0.0.1:5432), "
        "in two databases of its own, instead of SQLite",
    )
    args = parser.parse_args()
    n, threads, postgres = args.intakes, args.threads, args.postgres
    database = "PostgreSQL" if postgres else "SQLite"

    # Baseline: no background render; the first download renders in the request.
    tmp = tempfile.mkdtemp(prefix="bench-pdf-http-base-")
    base_db = fresh_database(postgres, "bench_pdf_http_base", tmp)
    base_ids, base_sendable = prepare(base_db, tmp, n, first=True)
    proc, port = server(base_db, tmp, prerender=False)
    try:
        client = Client(port)
        _, base_first, base_pdfs = run(port, client, base_ids, threads, "download")
        _, base_send, _ = run(port, client, base_sendable, threads, "send")
        base_accept = accept_all(port, sent_tokens(base_db), threads)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    per_page = [lat / pages(data) * 1000 for lat, data in zip(base_first, base_pdfs, strict=True)]

    # Background render (the default).
    tmp = tempfile.mkdtemp(prefix="bench-pdf-http-")
    db_file = fresh_database(postgres, "bench_pdf_http", tmp)
    ids, sendable = prepare(db_file, tmp, n, first=True)
    proc, port = server(db_file, tmp, prerender=True)
    try:
        client = Client(port)  # the first requests start the workers' threads
        for _ in range(WORKERS * 2):  # reach every worker process, so each one sweeps
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", "/healthz")
            conn.getresponse().read()
        settled = wait_for_renders(db_file)
        _, after, _ = run(port, client, ids, threads, "download")
        _, repeat, _ = run(port, client, ids, threads, "download")
        # Half the sends and accepts one at a time (one manager, one prospect), half
        # with every client at once.
        half = len(sendable) // 2
        _, sends_one, _ = run(port, client, sendable[:half], 1, "send")
        _, sends, _ = run(port, client, sendable[half:], threads, "send")
        tokens = sent_tokens(db_file)
        accepts_one = accept_all(port, tokens[:half], 1)
        accepts = accept_all(port, tokens[half:], threads)
        files = wait_for_renders(db_file)  # the accepted files, made after each accept
        # Intakes submitted just now: the manager is faster than the render.
        fresh, _ = prepare(db_file, tmp, n, first=False)
        _, racing, _ = run(port, client, fresh, threads, "download")
    finally:
        proc.terminate()
        proc.wait(timeout=30)

    lines = [
        f"gunicorn {WORKERS} sync workers, {threads} concurrent clients, {database}, A4, "
        f"{n} intakes per case",
        "baseline (PRERENDER=false): the request renders",
        line("  first download", base_first),
        line("  send", base_send),
        line("  accept", base_accept),
        f"background render: the {n} submits' renders done by the worker in {settled:.1f} s",
        line("  first download after the render", after),
        line("  first download, manager faster than render", racing),
        line("  cached repeat", repeat),
        line("  send, one at a time", sends_one),
        line(f"  send, {threads} at once", sends),
        line("  accept, one at a time (the page confirms; the file follows)", accepts_one),
        line(f"  accept, {threads} at once", accepts),
        f"  the {len(tokens)} accepted files made by the worker within {files:.1f} s "
        "of the last accept",
        f"first download p95: {p(after, 'p95'):.0f} ms vs {p(base_first, 'p95'):.0f} ms "
        f"baseline = {p(after, 'p95') / p(base_first, 'p95'):.3f}",
        f"send p95: {p(sends, 'p95'):.0f} ms vs {p(base_send, 'p95'):.0f} ms baseline = "
        f"{p(sends, 'p95') / p(base_send, 'p95'):.3f}; one at a time {p(sends_one, 'p95'):.0f} ms",
        f"accept p95: {p(accepts, 'p95'):.0f} ms; one at a time {p(accepts_one, 'p95'):.0f} ms "
        "(targets: first download <= 50 ms, send and accept <= 100 ms p95)",
        f"render cost: median {statistics.median(per_page):.0f} ms per page "
        f"(first downloads of the baseline, {statistics.median([pages(d) for d in base_pdfs])} "
        "pages median)",
        soffice_ratio(statistics.median(base_first) * 1000),
    ]
    print("\n".join(lines))
    if not args.no_write:
        title = "PDFs through gunicorn (bench/pdf_http.py)"
        if postgres:
            title = "PDFs through gunicorn on PostgreSQL (bench/pdf_http.py --postgres)"
        write_section(title, "```\n" + "\n".join(lines) + "\n```")


if __name__ == "__main__":
    main()
