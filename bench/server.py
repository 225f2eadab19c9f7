"""Starting the app (or a baseline) under gunicorn on loopback, for the benchmarks."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parent.parent
WORKERS = 2 * (os.cpu_count() or 1) + 1
"""gunicorn's advice for sync workers: 2 x cores + 1."""


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def gunicorn(
    target: str, env: dict, port: int, *extra: str, ready: str = "/healthz"
) -> subprocess.Popen:
    """Start gunicorn serving ``target`` and wait until ``ready`` answers."""
    proc = subprocess.Popen(  # noqa: S603
        [str(BIN / "gunicorn"), "-w", str(WORKERS), "-b", f"127.0.0.1:{port}", *extra, target],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    for _ in range(400):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", ready)
            conn.getresponse().read()
            return proc
        except OSError:
            time.sleep(0.05)
    proc.terminate()
    raise SystemExit(f"gunicorn did not start {target}")


def init_db(env: dict) -> None:
    """Create the schema of the database named in ``env``."""
    subprocess.run(  # noqa: S603
        [str(BIN / "onboarding"), "init-db"], env=env, check=True, capture_output=True
    )
