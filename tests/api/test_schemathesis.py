"""Schemathesis, the outside property-based tester, with every one of its checks against
the app's own document (GET /api/v1/openapi.json): the document says exactly what the
server does. The app is served on a local port and the command line run against it as
anyone would (schemathesis.toml: what a JSON Schema cannot say), with a fixed seed and
a bounded number of examples per operation, on each database under test."""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
from pathlib import Path

from werkzeug.serving import make_server

from tests.api.conftest import make_submitted, new_token

ROOT = Path(__file__).resolve().parents[2]
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
SEED = 22
EXAMPLES = 5
"""Per operation and phase: enough to reach every rule of the document, few enough to
stay within a minute."""


def test_schemathesis_with_all_its_checks_finds_nothing(api, staff):
    api.config.update(API_RATE_LIMIT="100000 per minute")  # the tester is not a flood
    token = new_token(api)
    make_submitted(api)  # intakes to read, change and send (besides the 404s)
    make_submitted(api, "calm-founder")
    requests_log = logging.getLogger("werkzeug")
    level = requests_log.level
    requests_log.setLevel(logging.WARNING)  # not a line per request
    server = make_server("127.0.0.1", 0, api, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    command = [
        str(SCHEMATHESIS), "run", f"http://127.0.0.1:{server.port}/api/v1/openapi.json",
        "--checks", "all",
        # Its own version of resource availability (the hooks: a project exists only
        # once signed).
        "--exclude-checks", "ensure_resource_availability",
        "--header", f"Authorization: Bearer {token}",
        "--seed", str(SEED),
        "--max-examples", str(EXAMPLES),
        "--workers", "1",
        "--request-timeout", "120",  # a PDF renders in a second; longer on a busy machine
        "--max-response-time", "120",  # the same: speed is the benchmarks' business
        "--no-color",
    ]  # fmt: skip
    try:
        run = subprocess.run(  # noqa: S603 - our own tool, fixed arguments
            command, cwd=ROOT, capture_output=True, text=True, timeout=900, check=False
        )  # cwd: its schemathesis.toml
    finally:
        server.shutdown()
        thread.join()
        requests_log.setLevel(level)
    report = run.stdout + run.stderr
    assert run.returncode == 0, report[-15000:]
    assert "16 selected / 16 total" in report  # every operation of the document
