"""Agreement PDFs downloaded through gunicorn: first renders and cached repeats.

    python bench/pdf_http.py [--intakes 24] [--threads 4]

Fills a fresh SQLite database with submitted intakes, serves the app under gunicorn
(sync workers, 2 x cores + 1), signs in, then downloads every intake's agreement PDF
(A4) with concurrent clients — each one a real render — and then all of them again
(from the database cache). Prints PDFs per second and p50/p95 for both.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import statistics
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

PASSWORD = "bench pdf pass phrase"  # noqa: S105 - a throwaway benchmark account


def prepare(url: str, instance: str, count: int) -> list[str]:
    """Submitted intakes and a manager in a fresh database; returns the public ids."""
    os.environ.update(DATABASE_URL=url, INSTANCE_PATH=instance, SECRET_KEY="bench")
    from onboarding.app import create_app
    from onboarding.db import db
    from onboarding.db.engine import upgrade_schema
    from onboarding.domain.samples import random_answers
    from onboarding.services.accounts import create_user
    from onboarding.services.intakes import create_intake, submit_intake
    from onboarding.web.extensions import app_playbooks

    app = create_app({"TESTING": True, "PASSWORD_HASH_METHOD": "scrypt:16384:8:1"})
    rng = random.Random(11)  # noqa: S311 - benchmark data
    ids = []
    with app.app_context():
        upgrade_schema()
        create_user("bench@agency.example", "manager", PASSWORD, settings=app.config)
        for _ in range(count):
            intake = create_intake(random_answers(rng))
            db.session.flush()
            submit_intake(intake, playbooks=app_playbooks(app))
            ids.append(intake.public_id)
        db.session.commit()
        db.engine.dispose()
    return ids


def signed_in_cookie(port: int) -> str:
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("GET", "/login")
    r = c.getresponse()
    page = r.read().decode()
    cookie = r.getheader("Set-Cookie").split(";", 1)[0]
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    body = urlencode({"email": "bench@agency.example", "password": PASSWORD, "csrf_token": csrf})
    c.request("POST", "/login", body=body, headers={
        "Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
    r = c.getresponse()
    r.read()
    assert r.status == 302, r.status
    return r.getheader("Set-Cookie").split(";", 1)[0]


def download_all(port: int, cookie: str, ids: list[str], threads: int) -> tuple[float, list]:
    queue = list(ids)
    lock = threading.Lock()
    latencies: list[float] = []

    def loop() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        while True:
            with lock:
                if not queue:
                    return
                public_id = queue.pop()
            t0 = time.perf_counter()
            conn.request(
                "GET", f"/workspace/intakes/{public_id}/agreement.pdf", headers={"Cookie": cookie}
            )
            response = conn.getresponse()
            data = response.read()
            assert response.status == 200 and data.startswith(b"%PDF"), response.status
            with lock:
                latencies.append(time.perf_counter() - t0)

    start = time.perf_counter()
    workers = [threading.Thread(target=loop) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return time.perf_counter() - start, latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--intakes", type=int, default=24)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="bench-pdf-http-")
    url = f"sqlite:///{tmp}/pdf.db"
    ids = prepare(url, tmp, args.intakes)
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "INSTANCE_PATH": tmp, "SECRET_KEY": "bench"}
    proc = gunicorn("onboarding.app:create_app()", env, port, "--timeout", "120")
    try:
        cookie = signed_in_cookie(port)
        first_time, first = download_all(port, cookie, ids, args.threads)
        again_time, again = download_all(port, cookie, ids, args.threads)
    finally:
        proc.terminate()
        proc.wait(timeout=30)

    def line(name: str, total: float, lat: list[float]) -> str:
        lat = sorted(lat)
        p95 = statistics.quantiles(lat, n=20)[-1] * 1000
        return (
            f"{name:<16} {len(lat)} PDFs in {total:.1f} s = {len(lat) / total:.1f} PDFs/s; "
            f"p50 {statistics.median(lat) * 1000:.0f} ms, p95 {p95:.0f} ms"
        )

    lines = [
        f"gunicorn {WORKERS} sync workers, {args.threads} concurrent clients, SQLite, A4",
        line("first render", first_time, first),
        line("cached repeat", again_time, again),
    ]
    print("\n".join(lines))
    if not args.no_write:
        write_section(
            "PDFs through gunicorn (bench/pdf_http.py)", "```\n" + "\n".join(lines) + "\n```"
        )


if __name__ == "__main__":
    main()
