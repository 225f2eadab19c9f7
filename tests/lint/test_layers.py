"""The layer rule is enforced: the linter refuses a module that breaks it.

Each test copies the package to a temporary folder, adds one offending module and
runs import-linter there with the project's own contracts (pyproject.toml).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT = Path(sys.executable).with_name("lint-imports")


def run_linter(
    tmp_path: Path, offender: str | None = None, source: str = ""
) -> subprocess.CompletedProcess:
    """Run import-linter on a copy of the package, with ``offender`` (a path inside the
    package) holding ``source``."""
    shutil.copytree(
        ROOT / "onboarding",
        tmp_path / "onboarding",
        ignore=shutil.ignore_patterns("__pycache__", "_bundled", "static", "migrations"),
    )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    if offender:
        (tmp_path / "onboarding" / offender).write_text(source)
    return subprocess.run(
        [str(LINT), "--no-cache"],
        cwd=tmp_path,
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_shipped_package_keeps_every_contract(tmp_path):
    result = run_linter(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" not in result.stdout


@pytest.mark.parametrize(
    ("offender", "source", "contract"),
    [
        (
            "domain/leaky.py",
            "from flask import request\n",
            "The domain is pure",
        ),
        (
            "domain/orm.py",
            "import sqlalchemy\n",
            "The domain is pure",
        ),
        (
            "services/reaches_up.py",
            "from onboarding.web.public import intake\n",
            "Layers",
        ),
        (
            "services/reads_request.py",
            "from flask import request\n",
            "Only web and app touch the request",
        ),
    ],
    ids=[
        "domain-imports-flask",
        "domain-imports-sqlalchemy",
        "services-import-web",
        "services-read-the-request",
    ],
)
def test_a_module_breaking_the_rule_is_refused(tmp_path, offender, source, contract):
    result = run_linter(tmp_path, offender, source)
    assert result.returncode != 0
    broken = [line for line in result.stdout.splitlines() if line.endswith("BROKEN")]
    assert any(line.startswith(contract) for line in broken), result.stdout
    assert offender.removesuffix(".py").replace("/", ".") in result.stdout


def test_a_cycle_between_feature_packages_is_refused(tmp_path):
    """The agreement uses the intake's services; an intake module reaching back into
    the agreement would close a cycle between the two packages."""
    result = run_linter(
        tmp_path, "services/intake/loops.py", "from onboarding.services.agreement import send\n"
    )
    assert result.returncode != 0
    broken = [line for line in result.stdout.splitlines() if line.endswith("BROKEN")]
    assert any(line.startswith("No import cycles") for line in broken), result.stdout
    assert ".intake -> .agreement" in result.stdout
