"""The first requests a fresh gunicorn worker serves, against its repeats, with and
without the worker start-up hook (onboarding/gunicorn_conf.py), in one run.

    python bench/worker_start.py [--rounds 5] [--settle 10] [--no-write]

Each round starts gunicorn with one sync worker on a fresh SQLite database, twice: with
the app's hooks (``post_worker_init`` compiles every template and starts the PDF render
worker before the worker takes a connection), and with an empty config (the baseline:
templates compile inside the first requests that need them). After ``--settle``
seconds and once the worker has used no CPU for 1.5 s (booted, and warmed up with the
hook), it times the worker's first ``GET /start``, the first
intake step page (``GET /intake/<token>/step/about``, after the ``POST /start`` that
makes the intake), then 7 repeats of each; and, as the first request of another fresh
server, a manager's download of an agreement rendered beforehand (as the background
render does), then 7 repeats. Medians over the rounds; the target (issue 28) is a first
request within 3 times a cached repeat.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.results import write_section  # noqa: E402
from bench.server import BIN, free_port, init_db  # noqa: E402


def get(
    port: int, path: str, headers: dict | None = None
) -> tuple[float, http.client.HTTPResponse, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    start = time.perf_counter()
    conn.request("GET", path, headers=headers or {})
    response = conn.getresponse()
    body = response.read().decode()
    return (time.perf_counter() - start) * 1000, response, body


def _cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def _descendants(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            out += [int(child), *_descendants(int(child))]
    return out


def wait_idle(master: int, settle: float, quiet: float = 1.5) -> None:
    """Wait until the master's worker exists and it and its children (the render
    worker) have used no CPU for ``quiet`` seconds
    (booted, and warmed up when the hook runs), at least ``settle`` seconds in all."""
    start = time.monotonic()
    last, since = None, time.monotonic()
    while time.monotonic() - start < 180:
        time.sleep(0.25)
        try:
            family = _descendants(master)  # the worker and its render worker
            ticks = sum(_cpu_ticks(pid) for pid in family) if family else None
        except OSError:
            ticks = None
        if ticks is None or ticks != last:
            last, since = ticks, time.monotonic()
        elif time.monotonic() - since >= quiet and time.monotonic() - start >= settle:
            return


def start_server(env: dict, config: str) -> tuple[subprocess.Popen, int]:
    """gunicorn with one worker on a free loopback port, with ``config`` (hook or none)."""
    port = free_port()
    proc = subprocess.Popen(  # noqa: S603
        [str(BIN / "gunicorn"), "-w", "1", "-b", f"127.0.0.1:{port}", "-c", config,
         "onboarding.app:create_app()"],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    return proc, port


def first_download(env: dict, config: str, settle: float, cookie: str, public_id: str):
    """A fresh server's first request: the download of an agreement rendered in the
    background (its PDF in the cache, its inputs noted); then 7 repeats."""
    proc, port = start_server(env, config)
    path = f"/workspace/intakes/{public_id}/agreement.pdf"
    headers = {"Cookie": cookie}
    try:
        wait_idle(proc.pid, settle)
        first, response, _ = get_bytes(port, path, headers)
        assert response.status == 200, response.status
        repeat = statistics.median(get_bytes(port, path, headers)[0] for _ in range(7))
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return {"first_download": first, "repeat_download": repeat}


def get_bytes(port: int, path: str, headers: dict) -> tuple[float, http.client.HTTPResponse, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    start = time.perf_counter()
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    body = response.read()
    return (time.perf_counter() - start) * 1000, response, body


def rendered_intake(env: dict, tmp: str) -> tuple[str, str]:
    """A manager's session cookie and a submitted intake whose agreement was rendered
    as the background render renders it (in a helper process, so this one imports no
    app)."""
    code = (
        f"import os, sys; sys.path.insert(0, {str(ROOT)!r})\n"
        "from bench.pdf_http import prepare, PASSWORD\n"
        f"ids, _ = prepare(os.environ['DATABASE_URL'], {tmp!r}, 1, first=True)\n"
        "from onboarding.app import create_app\n"
        "from onboarding.services.agreement.compose import agreement_pdf\n"
        "from onboarding.services.intake.workspace import intake_by_public_id\n"
        "app = create_app({'SQLALCHEMY_DATABASE_URI': os.environ['DATABASE_URL']})\n"
        "with app.app_context():\n"
        "    agreement_pdf(intake_by_public_id(ids[0]), 'a4', agency=app.config['AGENCY_NAME'])\n"
        "print(ids[0])\n"
    )
    public_id = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code], env=dict(env, PDF_RENDER_TIMEOUT="180"), cwd=ROOT,
        check=True, capture_output=True,
        text=True,
    ).stdout.split()[-1]  # fmt: skip
    from bench.pdf_http import Client

    port = free_port()
    proc = subprocess.Popen(  # noqa: S603
        [str(BIN / "gunicorn"), "-w", "1", "-b", f"127.0.0.1:{port}",
         "onboarding.app:create_app()"],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_idle(proc.pid, 1.0)
        cookie = Client(port).cookie
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return cookie, public_id


def one_server(env: dict, config: str, settle: float) -> dict[str, float]:
    proc, port = start_server(env, config)
    try:
        wait_idle(proc.pid, settle)
        first_start, response, page = get(port, "/start")
        cookie = response.getheader("Set-Cookie").split(";", 1)[0]
        csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.request("POST", "/start", body=f"csrf_token={csrf}", headers={
            "Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
        r = conn.getresponse()
        r.read()
        token = r.getheader("Location").rstrip("/").rsplit("/", 1)[-1]
        headers = {"Cookie": (r.getheader("Set-Cookie") or cookie).split(";", 1)[0]}
        step = f"/intake/{token}/step/about"
        first_step = get(port, step, headers)[0]
        repeat_start = statistics.median(get(port, "/start")[0] for _ in range(7))
        repeat_step = statistics.median(get(port, step, headers)[0] for _ in range(7))
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return {
        "first_start": first_start,
        "repeat_start": repeat_start,
        "first_step": first_step,
        "repeat_step": repeat_step,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--settle", type=float, default=3.0)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-worker-") as tmp:
        empty = Path(tmp) / "empty_gunicorn_conf.py"
        empty.write_text("")
        env = dict(
            os.environ,
            INSTANCE_PATH=tmp,
            DATABASE_URL=f"sqlite:///{tmp}/bench.db",
            SECRET_KEY="bench",
            WEB_CONCURRENCY="1",
            STAFF_MFA="optional",  # the throwaway bench account signs in with its password
        )
        env.pop("REDIS_URL", None)
        init_db(env)
        cookie, public_id = rendered_intake(env, tmp)
        sides = {"hook": "python:onboarding.gunicorn_conf", "no hook": str(empty)}
        results: dict[str, list[dict]] = {name: [] for name in sides}
        for i in range(args.rounds):
            names = list(sides) if i % 2 == 0 else list(sides)[::-1]
            for name in names:
                result = one_server(env, sides[name], args.settle)
                result |= first_download(env, sides[name], args.settle, cookie, public_id)
                results[name].append(result)

    def med(name: str, key: str) -> float:
        return statistics.median(r[key] for r in results[name])

    lines = [
        f"gunicorn, 1 sync worker, SQLite; {args.rounds} rounds, a fresh server per side per "
        "round, first request once the worker is idle; medians",
        "",
        f"{'':10} {'first /start':>13} {'repeat':>8} {'ratio':>6}   "
        f"{'first step':>11} {'repeat':>8} {'ratio':>6}   "
        f"{'first PDF':>10} {'repeat':>8} {'ratio':>6}",
    ]
    for name in sides:
        fs, rs = med(name, "first_start"), med(name, "repeat_start")
        ft, rt = med(name, "first_step"), med(name, "repeat_step")
        fd, rd = med(name, "first_download"), med(name, "repeat_download")
        lines.append(
            f"{name:10} {fs:>10.1f} ms {rs:>5.1f} ms {fs / rs:>6.1f}   "
            f"{ft:>8.1f} ms {rt:>5.1f} ms {ft / rt:>6.1f}   "
            f"{fd:>7.1f} ms {rd:>5.1f} ms {fd / rd:>6.1f}"
        )
    lines += [
        "",
        "first PDF: a manager's download of an agreement rendered in the background, as",
        "the first request of another fresh server (signed in beforehand); repeat: 7 more",
        "target: first request within 3x a cached repeat (with the hook)",
    ]
    print("\n".join(lines))
    if not args.no_write:
        write_section(
            "First requests of a fresh worker (bench/worker_start.py)",
            "```\n" + "\n".join(lines) + "\n```",
        )


if __name__ == "__main__":
    main()
