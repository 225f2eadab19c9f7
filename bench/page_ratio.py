"""Our intake step page against a bare Flask + WTForms page, both under gunicorn.

    python bench/page_ratio.py [--seconds 5] [--threads 8]

Serves GET /intake/<token>/step/about (ours, on SQLite, with its real lookup, form,
templates and headers) and GET /form (bench/bare_app.py: the same fields, one inline
template, no database) with the same gunicorn settings, hammers each with the same
closed-loop client in alternating rounds, and prints requests per second, p50/p95 and
the ratio ours / bare (target: ours >= 0.8 x bare).
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.results import write_section  # noqa: E402
from bench.server import WORKERS, free_port, gunicorn, init_db  # noqa: E402


def hammer(port: int, path: str, seconds: float, threads: int, headers: dict) -> list[float]:
    """Closed loop: each thread sends the next GET as soon as the last one answers."""
    latencies: list[float] = []
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def loop() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        mine = []
        while time.perf_counter() < deadline:
            t0 = time.perf_counter()
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            assert response.status == 200, response.status
            mine.append(time.perf_counter() - t0)
        with lock:
            latencies.extend(mine)

    workers = [threading.Thread(target=loop) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()

    tmp = tempfile.mkdtemp(prefix="bench-ratio-")
    env = {**os.environ, "SECRET_KEY": "ratio", "INSTANCE_PATH": tmp,
           "DATABASE_URL": f"sqlite:///{tmp}/ratio.db"}  # fmt: skip
    init_db(env)
    ours_port, bare_port = free_port(), free_port()
    ours = gunicorn("onboarding.app:create_app()", env, ours_port)
    bare = gunicorn("bench.bare_app:app", env, bare_port, ready="/form")
    try:
        # A prospect with a started intake: its session cookie and resume token.
        c = http.client.HTTPConnection("127.0.0.1", ours_port)
        c.request("GET", "/start")
        r = c.getresponse()
        page = r.read().decode()
        cookie = r.getheader("Set-Cookie").split(";", 1)[0]
        csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        c.request("POST", "/start", body=f"csrf_token={csrf}", headers={
            "Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
        r = c.getresponse()
        r.read()
        token = r.getheader("Location").rstrip("/").rsplit("/", 1)[-1]
        headers = {"Cookie": (r.getheader("Set-Cookie") or cookie).split(";", 1)[0]}
        ours_path = f"/intake/{token}/step/about"
        for port, path in ((ours_port, ours_path), (bare_port, "/form")):  # warm every worker
            hammer(port, path, 1, args.threads, headers)
        results = {"ours": [], "bare": []}
        for _ in range(args.rounds):
            for name, port, path in (("bare", bare_port, "/form"), ("ours", ours_port, ours_path)):
                lat = hammer(port, path, args.seconds, args.threads, headers)
                results[name].append((len(lat) / args.seconds, lat))
    finally:
        for proc in (ours, bare):
            proc.terminate()
            proc.wait(timeout=20)

    lines = []
    rps = {}
    for name in ("bare", "ours"):
        rps[name] = statistics.median(r for r, _ in results[name])
        lat = sorted(x for _, ls in results[name] for x in ls)
        p95 = statistics.quantiles(lat, n=20)[-1] * 1000
        what = "/form (Flask + WTForms, no DB)" if name == "bare" else "/intake/<token>/step/about"
        p50 = statistics.median(lat) * 1000
        lines.append(
            f"{name:<5} GET {what}: {rps[name]:,.0f} req/s (median of {args.rounds} rounds of "
            f"{args.seconds:g} s, {args.threads} client threads), "
            f"p50 {p50:.1f} ms, p95 {p95:.1f} ms"
        )
    lines.append(f"ratio ours / bare = {rps['ours'] / rps['bare']:.2f}  (target >= 0.80)")
    print("\n".join(lines))
    if not args.no_write:
        write_section(
            "Step page against bare Flask + WTForms (bench/page_ratio.py)",
            f"Both under gunicorn with {WORKERS} sync workers on loopback; the client runs on the "
            "same machine.\n\n```\n" + "\n".join(lines) + "\n```",
        )


if __name__ == "__main__":
    main()
