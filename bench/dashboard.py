"""The account managers' dashboard at 100,000 submitted intakes.

    python bench/dashboard.py [--rows 100000] [--db sqlite|postgresql|both] [--requests 30]
                              [--no-write]

Fills a fresh database (a SQLite file; PostgreSQL database ``onboarding_dash_bench``,
dropped and created) migrated by ``upgrade_schema``: a few hundred random answer sets
are assessed once and reused with varied names, companies, emails, dates, statuses and
owners, and inserted in bulk (plus 2,000 drafts). Then, through the real app in this
process (Flask's test client, signed in as a manager; no network), it times each page
over ``--requests`` requests and prints p50/p95: the first page, a filtered + sorted
page, two searches, a deep page (2000), the drafts list and an intake's detail page;
then the whole CSV export (every row) with its time and memory (peak RSS growth while
streaming, and the tracemalloc peak of a second run). Baselines in the same process:
a bare ``SELECT count(*)`` and the minimal ``/healthz`` route.
Targets: list pages p95 < 100 ms; CSV of 100,000 rows < 10 s with flat memory.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import secrets
import shutil
import statistics
import sys
import tempfile
import threading
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.results import write_section  # noqa: E402
from onboarding.domain.assessment import evaluate  # noqa: E402
from onboarding.domain.playbooks import get_playbooks  # noqa: E402
from onboarding.domain.questionnaire import get_questionnaire  # noqa: E402
from onboarding.domain.samples import COMPANY, FIRST, LAST, PREFIX, random_answers  # noqa: E402

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/onboarding_dash_bench"
PASSWORD = "quiet harbour lantern seven"
TEMPLATES = 400  # distinct answer sets actually assessed
STATUS_MIX = {
    "new": 30,
    "in_review": 25,
    "agreement_sent": 15,
    "accepted": 15,
    "declined": 10,
    "walked_away": 5,
}
SUFFIX = ["", " Ltd", " Group", " & Co", " Collective", " Partners", " GmbH", " Studio"]
MORE_FIRST = FIRST + ["Noah", "Mia", "Yusuf", "Chloe", "Mateo", "Hana", "Femi", "Astrid"]
MORE_LAST = LAST + ["García", "Kowalski", "Nguyen", "O'Brien", "Fischer", "Dubois", "Ahmed"]


def rss_kib() -> int:
    """Resident memory of this process now, in KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def fresh_database(kind: str, folder: str) -> str:
    from sqlalchemy import create_engine, text

    if kind == "sqlite":
        return f"sqlite:///{folder}/dash.db"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS onboarding_dash_bench WITH (FORCE)"))
        conn.execute(text("CREATE DATABASE onboarding_dash_bench"))
    admin.dispose()
    return PG_URL


def make_app(url: str, folder: str):
    from onboarding import create_app
    from onboarding.config import TestConfig
    from onboarding.db.engine import upgrade_schema

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "INSTANCE_PATH": folder,
            "SECRET_KEY": "bench",
            "PASSWORD_HASH_METHOD": TestConfig.PASSWORD_HASH_METHOD,
            "WTF_CSRF_ENABLED": False,
            # As the test suite runs it: no background webhook worker polling the database
            # (which would outlive this run's database).
            "TESTING": True,
        }
    )
    with app.app_context():
        upgrade_schema()
    return app


def answer_templates(rng: random.Random) -> list[tuple[dict, dict, str]]:
    """(stored answers, assessment result, top risk) for TEMPLATES random answer sets."""
    q, playbooks = get_questionnaire(), get_playbooks()
    out = []
    for _ in range(TEMPLATES):
        clean, errors = q.validate(random_answers(rng))
        assert not errors, errors
        result = evaluate(clean, playbooks, q)
        risks = result["risks"]
        top = max(risks, key=lambda cause: (risks[cause], cause))
        out.append(({k: v for k, v in clean.items() if v is not None}, result, top))
    return out


def fill(app, rows: int, seed: int = 11) -> dict:
    """Users, ``rows`` submitted intakes and 2,000 drafts, inserted in bulk; returns facts."""
    from sqlalchemy import insert, select, text

    from onboarding.db import db
    from onboarding.db.models import Assessment, Intake, User
    from onboarding.services.people.accounts import create_user

    rng = random.Random(seed)
    started = time.perf_counter()
    templates = answer_templates(rng)
    assessed = time.perf_counter() - started
    with app.app_context():
        create_user("bench@example.com", "manager", PASSWORD, "Bench Manager", settings=app.config)
        for i in range(7):
            name = f"{MORE_FIRST[i]} Lee"
            create_user(f"manager{i}@example.com", "manager", PASSWORD, name, settings=app.config)
        db.session.commit()
        user_ids = db.session.execute(select(User.id)).scalars().all()
        statuses = list(STATUS_MIX)
        weights = list(STATUS_MIX.values())
        now = datetime.now(UTC)
        batch: list[dict] = []
        detail_ids: list[tuple[int, dict]] = []
        for n in range(1, rows + 1):
            stored, result, top = templates[rng.randrange(TEMPLATES)]
            first, last = rng.choice(MORE_FIRST), rng.choice(MORE_LAST)
            company = f"{rng.choice(PREFIX)} {rng.choice(COMPANY)}{rng.choice(SUFFIX)}"
            email = f"{first.lower()}.{last.lower()}{n}@example.com".replace("'", "")
            submitted = now - timedelta(seconds=rng.randrange(730 * 86400))
            answers = {
                **stored,
                "contact_name": f"{first} {last}",
                "contact_email": email,
                "company": company,
            }
            overridden = rng.random() < 0.03
            batch.append(
                {
                    "public_id": secrets.token_urlsafe(24),
                    "token": secrets.token_urlsafe(24),
                    "status": rng.choices(statuses, weights)[0],
                    "current_step": "process",
                    "answers": answers,
                    "contact_name": answers["contact_name"],
                    "contact_email": email,
                    "company": company,
                    "score": result["score"],
                    "band": result["band"],
                    "recommendation": result["recommendation"],
                    "top_risk": top,
                    "created_at": submitted - timedelta(hours=rng.randrange(1, 72)),
                    "updated_at": submitted,
                    "submitted_at": submitted,
                    "owner_id": None if rng.random() < 0.2 else rng.choice(user_ids),
                    "override_score": rng.randrange(0, 101) if overridden else None,
                    "override_reason": "Known client, vouched for" if overridden else None,
                    "override_by_id": user_ids[0] if overridden else None,
                    "override_at": submitted + timedelta(days=1) if overridden else None,
                }
            )
            if n % 3000 == 0:  # intakes whose detail page is timed get an assessment
                detail_ids.append((n, result))
            if len(batch) == 5000 or n == rows:
                db.session.execute(insert(Intake), batch)
                batch = []
        for _ in range(2000):
            first, last = rng.choice(MORE_FIRST), rng.choice(MORE_LAST)
            saved = now - timedelta(seconds=rng.randrange(60 * 86400))
            step = rng.choice([None, "about", "time", "control", "goals", "fears", "history"])
            batch.append(
                {
                    "public_id": secrets.token_urlsafe(24),
                    "token": secrets.token_urlsafe(24),
                    "status": "draft",
                    "current_step": step,
                    "answers": {"contact_name": f"{first} {last}"} if step else {},
                    "contact_name": f"{first} {last}" if step else None,
                    "created_at": saved - timedelta(hours=rng.randrange(1, 200)),
                    "updated_at": saved,
                }
            )
        db.session.execute(insert(Intake), batch)
        version = get_playbooks().version
        for n, result in detail_ids:
            db.session.add(
                Assessment(
                    intake_id=n,
                    playbook_version=version,
                    result=result,
                    score=result["score"],
                    band=result["band"],
                )
            )
        db.session.commit()
        detail = db.session.execute(
            select(Intake.public_id).where(Intake.id.in_([n for n, _ in detail_ids]))
        ).scalars().all()  # fmt: skip
        # PostgreSQL: statistics and visibility map as autovacuum keeps them. SQLite: no
        # ANALYZE, as the app never runs it (the plans are those of a fresh database).
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
        db.session.remove()
    return {"detail": detail, "assessed": assessed, "load": time.perf_counter() - started}


def timed(client, url: str, n: int) -> tuple[float, float]:
    """p50 and p95 in ms of ``n`` GETs of ``url`` (after two warm-up requests)."""
    for _ in range(2):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
    times = []
    for _ in range(n):
        start = time.perf_counter()
        response = client.get(url)
        response.get_data()
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    cuts = statistics.quantiles(times, n=20, method="inclusive")
    return statistics.median(times), cuts[18]


def export(client, url: str, trace: bool) -> tuple[float, int, int, int]:
    """Stream the CSV: (seconds, data rows, peak RSS growth KiB, tracemalloc peak KiB)."""
    gc.collect()
    base = rss_kib()
    peak = [base]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], rss_kib())
            time.sleep(0.01)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    if trace:
        tracemalloc.start()
    start = time.perf_counter()
    response = client.get(url)
    assert response.is_streamed and response.status_code == 200
    lines = 0
    for chunk in response.iter_encoded():
        lines += chunk.count(b"\r\n")
    response.close()
    elapsed = time.perf_counter() - start
    traced = 0
    if trace:
        traced = tracemalloc.get_traced_memory()[1] // 1024
        tracemalloc.stop()
    done.set()
    sampler.join()
    return elapsed, lines - 1, peak[0] - base, traced


def run(kind: str, rows: int, requests: int) -> list[str]:
    from sqlalchemy import text

    from onboarding.db import db

    folder = tempfile.mkdtemp(prefix="bench-dash-")
    url = fresh_database(kind, folder)
    app = make_app(url, folder)
    facts = fill(app, rows)
    print(
        f"{kind}: filled {rows:,} intakes in {facts['load']:.1f} s "
        f"({TEMPLATES} answer sets assessed in {facts['assessed']:.1f} s)",
        flush=True,
    )
    client = app.test_client()
    response = client.post("/login", data={"email": "bench@example.com", "password": PASSWORD})
    assert response.status_code == 302, response.status_code

    def count_star() -> None:
        with app.app_context():
            db.session.execute(text("SELECT count(*) FROM intakes")).scalar_one()
            db.session.remove()

    times = []
    for _ in range(requests):
        start = time.perf_counter()
        count_star()
        times.append((time.perf_counter() - start) * 1000)
    load = os.getloadavg()[0]  # the machine is shared: a busy neighbour shows here
    lines = [
        f"{kind:<10} baseline: SELECT count(*) p50 {statistics.median(times):.1f} ms; "
        + "/healthz p50 {:.1f} ms".format(timed(client, "/healthz", requests)[0])
        + f"; load average {load:.2f} on {os.cpu_count()} cores"
    ]
    print(lines[0], flush=True)
    pages = [
        ("first page", "/workspace/"),
        ("band=guarded&status=new by score", "/workspace/?band=guarded&status=new&sort=score"),
        (
            "owner + date range by name",
            "/workspace/?owner=3&from=2025-01-01&to=2025-06-30&sort=name",
        ),
        ("search 'kestrel' (common)", "/workspace/?q=kestrel"),
        ("search 'okafor12' (rare)", "/workspace/?q=okafor12"),
        ("sorted by owner", "/workspace/?sort=owner&dir=asc"),
        ("deep page 2000", "/workspace/?page=2000"),
        ("drafts", "/workspace/drafts"),
    ]
    for label, page_url in pages:
        p50, p95 = timed(client, page_url, requests)
        lines.append(f"{kind:<10} {label:<34} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms")
        print(lines[-1], flush=True)
    detail_times = []
    for public_id in (facts["detail"] * requests)[:requests]:
        start = time.perf_counter()
        response = client.get(f"/workspace/intakes/{public_id}")
        assert response.status_code == 200
        detail_times.append((time.perf_counter() - start) * 1000)
    cuts = statistics.quantiles(detail_times, n=20, method="inclusive")
    lines.append(
        f"{kind:<10} {'intake detail page':<34} p50 {statistics.median(detail_times):6.1f} ms  "
        f"p95 {cuts[18]:6.1f} ms"
    )
    print(lines[-1], flush=True)
    seconds, exported, rss, _ = export(client, "/workspace/export.csv", trace=False)
    _, exported_small, rss_small, _ = export(client, "/workspace/export.csv?q=okafor1", False)
    _, _, _, traced = export(client, "/workspace/export.csv", trace=True)
    _, _, _, traced_small = export(client, "/workspace/export.csv?q=okafor1", trace=True)
    lines.append(
        f"{kind:<10} CSV export of {exported:,} rows: {seconds:.1f} s "
        f"({exported / seconds:,.0f} rows/s); peak RSS growth {rss / 1024:.1f} MiB, "
        f"tracemalloc peak {traced / 1024:.1f} MiB "
        f"(of {exported_small:,} rows: RSS {rss_small / 1024:.1f} MiB, "
        f"tracemalloc {traced_small / 1024:.1f} MiB)"
    )
    print(lines[-1], flush=True)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    shutil.rmtree(folder, ignore_errors=True)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    started = time.perf_counter()
    lines = []
    for kind in ["sqlite", "postgresql"] if args.db == "both" else [args.db]:
        lines += run(kind, args.rows, args.requests)
    print(f"total {time.perf_counter() - started:.0f} s")
    if not args.no_write:
        write_section(
            "Dashboard (bench/dashboard.py)",
            f"{args.rows:,} submitted intakes (+ 2,000 drafts); Flask test client in the "
            f"benchmark's process (no network, no gunicorn), signed in; {args.requests} "
            "requests per page after 2 warm-ups; one page = 25 rows (PER_PAGE). The CSV "
            "export streams every row; memory: peak RSS growth while streaming, and the "
            "tracemalloc peak (Python allocations) of a second run, beside a ~10-row export.\n\n"
            + "```\n" + "\n".join(lines) + "\n```",
        )  # fmt: skip


if __name__ == "__main__":
    main()
