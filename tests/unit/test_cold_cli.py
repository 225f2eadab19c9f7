"""The commands that serve nothing print only what they are for (issue 26 item 12)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_assess_prints_the_report_and_no_server_warnings(tmp_path):
    # Settings that make the server warn (several workers, no Redis, no BASE_URL).
    env = {
        k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "BASE_URL", "DATABASE_URL")
    }
    env |= {"WEB_CONCURRENCY": "4", "INSTANCE_PATH": str(tmp_path)}
    run = subprocess.run(
        [
            sys.executable,
            "-c",
            "from onboarding.cli import main; main()",
            "assess",
            str(ROOT / "examples" / "calm-founder.json"),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert run.stderr == ""
    assert run.stdout.startswith("Lumen Bakery — Priya Raman\n\nFit score")
    for word in ("rate limit", "Rate limit", "BASE_URL", "WARNING", "REDIS_URL"):
        assert word not in run.stdout
    assert not any(tmp_path.iterdir())  # no app built: no instance folder, key or database
