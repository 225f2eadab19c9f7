"""Concurrent prospects completing intakes against gunicorn on loopback.

    python bench/http_load.py [--prospects 50] [--rounds 2] [--db sqlite|postgresql|both]

Starts the real app under gunicorn (sync workers, 2 x cores + 1) on a fresh database,
drives N concurrent prospects through the whole intake (start, 7 steps each GET +
POST, review, submit), then reads every intake back and counts lost steps (an answer
that was saved but is not in the database). Prints completed intakes per second,
p50/p95/p99 step latency and the error count, per database.
Targets: 50 concurrent prospects, 0 errors, 0 lost steps, p95 step latency < 50 ms.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.results import write_section  # noqa: E402
from bench.server import WORKERS, free_port, gunicorn, init_db  # noqa: E402
from onboarding.domain.questionnaire import get_questionnaire  # noqa: E402
from onboarding.domain.samples import random_answers  # noqa: E402

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def form_fields(section_id: str, answers: dict) -> list[tuple[str, str]]:
    """The form fields a browser sends for one section."""
    out = []
    for q in get_questionnaire().section(section_id).questions:
        value = answers.get(q.id)
        if value is None:
            continue
        if q.type == "multi":
            out += [(q.id, v) for v in value]
        elif q.type == "yesno":
            out.append((q.id, "yes" if value else "no"))
        else:
            out.append((q.id, str(value)))
    return out


RETRIES = {"count": 0}


class Browser:
    """One prospect's keep-alive connection with its session cookie.

    A request whose connection breaks (a worker killed mid-request) is sent again
    once, as a person would press the button again; retries are counted.
    """

    def __init__(self, port: int):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookie = ""

    def request(self, method: str, path: str, body: str | None = None):
        headers = {"Cookie": self.cookie} if self.cookie else {}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        start = time.perf_counter()
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
            text = response.read().decode()
        except (ConnectionError, http.client.HTTPException):
            RETRIES["count"] += 1
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
            text = response.read().decode()
        elapsed = time.perf_counter() - start
        cookie = response.getheader("Set-Cookie")
        if cookie:
            self.cookie = cookie.split(";", 1)[0]
        return response.status, response.getheader("Location"), text, elapsed


def encode(fields: list[tuple[str, str]]) -> str:
    from urllib.parse import urlencode

    return urlencode(fields)


def prospect(
    port: int, answers: dict, stats: dict, lock: threading.Lock, think: float, seed: int
) -> None:
    """Complete one intake; record latencies, errors and the token.

    ``think`` is the mean pause in seconds between a page and the next request (a
    person reading and typing); 0 hammers the server as fast as it answers.
    """
    pause = random.Random(seed)

    def wait() -> None:
        if think:
            time.sleep(pause.uniform(0.5 * think, 1.5 * think))

    if think:
        time.sleep(pause.uniform(0, 2 * think))  # prospects arrive over time, not at once
    b = Browser(port)
    latencies: list[float] = []
    errors = 0
    try:
        status, _, page, t = b.request("GET", "/start")
        token_csrf = CSRF.search(page).group(1)
        status, location, _, t = b.request("POST", "/start", encode([("csrf_token", token_csrf)]))
        token = location.rstrip("/").rsplit("/", 1)[-1]
        for section in get_questionnaire().sections:
            path = f"/intake/{token}/step/{section.id}"
            status, _, page, t = b.request("GET", path)
            latencies.append(t)
            errors += status != 200
            wait()
            csrf = CSRF.search(page).group(1)
            fields = [("csrf_token", csrf), ("action", "next"), *form_fields(section.id, answers)]
            status, _, _, t = b.request("POST", path, encode(fields))
            latencies.append(t)
            errors += status != 302
        status, _, page, t = b.request("GET", f"/intake/{token}/review")
        csrf = CSRF.search(page).group(1)
        status, location, _, t = b.request(
            "POST", f"/intake/{token}/submit", encode([("csrf_token", csrf)])
        )
        errors += status != 302 or not location.endswith("/thanks")
    except Exception as exc:  # noqa: BLE001 - a benchmark counts every failure
        errors += 1
        token = None
        print("prospect failed:", repr(exc), file=sys.stderr)
    with lock:
        stats["latencies"] += latencies
        stats["errors"] += errors
        if token:
            stats["done"].append((token, answers))


def start_server(url: str, port: int, instance: str) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench", "INSTANCE_PATH": instance}
    # Every simulated prospect comes from 127.0.0.1: lift the per-address limits.
    env |= {"START_LIMIT": "100000 per minute", "STEP_LIMIT": "100000 per minute"}
    init_db(env)
    return gunicorn("onboarding.app:create_app()", env, port)


def lost_steps(url: str, done: list[tuple[str, dict]]) -> int:
    """Answers sent and acknowledged but not found in the database, read back."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    lost = 0
    q = get_questionnaire()
    with engine.connect() as conn:
        for token, answers in done:
            row = conn.execute(
                text("SELECT answers, status FROM intakes WHERE token = :t"), {"t": token}
            ).one_or_none()
            if row is None:
                lost += len(q.sections)
                continue
            stored = row[0] if isinstance(row[0], dict) else json.loads(row[0])
            for qid, value in answers.items():
                if stored.get(qid) != value:
                    lost += 1
            lost += row[1] != "new"
    engine.dispose()
    return lost


def killer(master: subprocess.Popen, every: float, stop: threading.Event, kills: list) -> None:
    """SIGKILL one gunicorn worker every ``every`` seconds until ``stop`` is set."""
    import signal

    rng = random.Random(3)
    while not stop.wait(every):
        children = subprocess.run(  # noqa: S603
            ["/usr/bin/pgrep", "-P", str(master.pid)], capture_output=True, text=True
        ).stdout.split()
        if children:
            pid = int(rng.choice(children))
            try:
                os.kill(pid, signal.SIGKILL)
                kills.append(pid)
            except ProcessLookupError:
                pass


def integrity(url: str) -> str:
    """The database's own consistency check (SQLite) or a row count check (PostgreSQL)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        if url.startswith("sqlite"):
            result = conn.execute(text("PRAGMA integrity_check")).scalar()
        else:
            orphans = conn.execute(
                text(
                    "SELECT count(*) FROM assessments a LEFT JOIN intakes i "
                    "ON i.id = a.intake_id WHERE i.id IS NULL"
                )
            ).scalar()
            result = "ok" if orphans == 0 else f"{orphans} orphan assessments"
    engine.dispose()
    return result


def run(db: str, prospects: int, rounds: int, think: float, chaos: float = 0) -> list[str]:
    from sqlalchemy import create_engine, text

    tmp = tempfile.mkdtemp(prefix="bench-http-")
    if db == "sqlite":
        url = f"sqlite:///{tmp}/bench.db"
    else:
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("DROP DATABASE IF EXISTS onboarding_bench WITH (FORCE)"))
            conn.execute(text("CREATE DATABASE onboarding_bench"))
        admin.dispose()
        url = "postgresql+psycopg://postgres@127.0.0.1:5432/onboarding_bench"
    port = free_port()
    proc = start_server(url, port, tmp)
    warm = Browser(port)
    for _ in range(30):  # every worker has served a page before timing starts
        warm.request("GET", "/start")
    rng = random.Random(7)
    stats = {"latencies": [], "errors": 0, "done": []}
    lock = threading.Lock()
    stop, kills = threading.Event(), []
    RETRIES["count"] = 0
    if chaos:
        threading.Thread(target=killer, args=(proc, chaos, stop, kills), daemon=True).start()
    try:
        start = time.perf_counter()
        for _ in range(rounds):
            threads = [
                threading.Thread(
                    target=prospect,
                    args=(port, random_answers(rng), stats, lock, think, rng.random()),
                )
                for _ in range(prospects)
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        elapsed = time.perf_counter() - start
    finally:
        stop.set()
        proc.terminate()
        proc.wait(timeout=20)
    lost = lost_steps(url, stats["done"])
    check = integrity(url)
    lat = sorted(stats["latencies"])
    cuts = statistics.quantiles(lat, n=100)
    completed = len(stats["done"])
    return [
        f"{db:<10} {prospects} concurrent prospects x {rounds} rounds, think {think:g} s; "
        f"completed {completed}; {completed / elapsed:.1f} intakes/s; "
        f"step latency p50 {statistics.median(lat) * 1000:.1f} ms, "
        f"p95 {cuts[94] * 1000:.1f} ms, p99 {cuts[98] * 1000:.1f} ms ({len(lat)} step requests); "
        f"errors {stats['errors']}; lost steps {lost}"
        + (
            f"; CHAOS: {len(kills)} workers killed (kill -9), {RETRIES['count']} requests "
            f"retried once, database check: {check}"
            if chaos
            else ""
        )
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--prospects", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--think", type=float, default=None, help="mean pause per step, s")
    parser.add_argument(
        "--chaos", type=float, default=0, help="kill -9 a gunicorn worker every N seconds"
    )
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    dbs = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    lines = []
    thinks = [args.think] if args.think is not None else [1.0, 0.0]
    for db in dbs:
        for think in thinks:
            for line in run(db, args.prospects, args.rounds, think):
                print(line, flush=True)
                lines.append(line)
        if args.chaos:
            for line in run(db, args.prospects, args.rounds, 0.3, chaos=args.chaos):
                print(line, flush=True)
                lines.append(line)
    if not args.no_write:
        write_section(
            "Intake under load (bench/http_load.py)",
            f"gunicorn, {WORKERS} sync workers; the load generator runs on the same 2 cores. "
            "think 1 s: each prospect pauses 0.5-1.5 s per page, as a person reading; "
            "think 0: every prospect fires its next request at once (saturation: latency is "
            "then queueing, throughput is the figure).\n\n"
            + "```\n" + "\n".join(lines) + "\n```",
        )  # fmt: skip


if __name__ == "__main__":
    main()
