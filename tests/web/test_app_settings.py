"""Settings belong to the app that was given them: two apps in one process keep their own."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

import onboarding
from onboarding.db import db
from onboarding.db.models import Assessment
from onboarding.domain.playbooks import load_playbooks
from onboarding.domain.resources import project_dir
from tests.factories import example, make_app
from tests.web.helpers import Prospect


def playbook_folder(tmp_path, name: str, note: str):
    """A copy of the shipped playbooks; ``note`` (a YAML comment) gives it its own version."""
    folder = tmp_path / name
    shutil.copytree(project_dir("playbooks"), folder)
    lead = folder / "lead.yaml"
    lead.write_text(lead.read_text() + f"\n# {note}\n")
    return folder


@pytest.fixture
def two_apps(tmp_path, monkeypatch):
    """Two apps, each on its own SQLite file with its own playbook folder."""
    monkeypatch.delenv("PLAYBOOKS_DIR", raising=False)  # whatever an app writes is undone
    apps = []
    for name in ("first", "second"):
        folder = playbook_folder(tmp_path, f"{name}-playbooks", f"the {name} agency's edit")
        app = make_app(
            f"sqlite:///{tmp_path / name}.db",
            str(tmp_path / f"{name}-instance"),
            PLAYBOOKS_DIR=str(folder),
            API_PUBLIC=True,
        )
        apps.append((app, load_playbooks(folder).version))
    yield apps
    for app, _ in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_two_apps_with_their_own_playbooks_keep_their_own_playbook_version(two_apps):
    (first, first_version), (second, second_version) = two_apps
    assert first_version != second_version
    for app, version in ((first, first_version), (second, second_version)):
        # Assessed on request (nothing stored) ...
        response = app.test_client().post("/api/v1/assessments", json=example())
        assert response.status_code == 200, response.text
        assert response.json["playbook_version"] == version
        # ... and stored when a prospect submits.
        prospect = Prospect(app.test_client())
        prospect.start()
        prospect.fill_all(example())
        assert prospect.submit().status_code == 302
        with app.app_context():
            stored = db.session.execute(select(Assessment)).scalar_one()
            assert stored.playbook_version == version


def test_pdf_render_caps_reach_the_renderer_from_the_apps_config(tmp_path):
    """PDF_RENDER_* come from the app's config (create_app configures the renderer)."""
    from onboarding.rendering.isolation import configure, get_renderer

    app = make_app(
        f"sqlite:///{tmp_path / 'caps'}.db",
        str(tmp_path / "caps-instance"),
        PDF_RENDER_TIMEOUT=7.5,
        PDF_RENDER_MEMORY_MB=512,
        PDF_RENDER_MAX_RENDERS=3,
    )
    try:
        renderer = get_renderer()
        assert (renderer.timeout, renderer.memory_mb, renderer.max_renders) == (7.5, 512, 3)
        with pytest.raises(ValueError, match="PDF_RENDER_TIMEOUT"):
            make_app(
                f"sqlite:///{tmp_path / 'bad'}.db", str(tmp_path / "bad"), PDF_RENDER_TIMEOUT=0
            )
    finally:
        configure()  # the defaults, for the tests that follow
        with app.app_context():
            db.engine.dispose()
    assert (get_renderer().timeout, get_renderer().memory_mb) == (20.0, 1024)


def settings_in_a_fresh_process(env: dict[str, str], *names: str) -> subprocess.CompletedProcess:
    """Config read from ``env`` by a new interpreter (Config reads the environment once)."""
    code = (
        "from onboarding.config import Config; print(*(getattr(Config, n) for n in sys.argv[1:]))"
    )
    return subprocess.run(  # noqa: S603 - our interpreter, our code
        [sys.executable, "-c", f"import sys; {code}", *names],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_settings_are_read_from_the_environment_into_config_with_their_names():
    names = ("PDF_RENDER_TIMEOUT", "PDF_RENDER_MEMORY_MB", "PDF_RENDER_MAX_RENDERS")
    given = {"PDF_RENDER_TIMEOUT": "7.5", "PDF_RENDER_MEMORY_MB": "512"}
    given |= {"PDF_RENDER_MAX_RENDERS": "", "INSTANCE_PATH": "/srv/onboarding"}
    read = settings_in_a_fresh_process(given, *names, "INSTANCE_PATH", "PLAYBOOKS_DIR")
    assert read.stdout.split() == ["7.5", "512.0", "500", "/srv/onboarding", "None"], read.stderr
    for name, value in [("PDF_RENDER_TIMEOUT", "soon"), ("PER_PAGE", "ten")]:
        refused = settings_in_a_fresh_process({name: value}, name)
        assert refused.returncode != 0 and f"{name} must be" in refused.stderr


def test_only_the_config_reads_the_environment():
    """Settings reach the code through the app's config (or Config), never os.environ."""
    package = Path(onboarding.__file__).resolve().parent
    readers = sorted(
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        if re.search(r"os\.environ|os\.getenv|getenv\(", path.read_text(encoding="utf-8"))
    )
    assert readers == ["config.py"]


def test_every_template_compiles_ahead_of_the_first_request(app):
    """The warm-up compiles every page, email and document template (a broken one
    fails here, not in a prospect's request)."""
    from onboarding.web.warmup import compile_all

    root = project_dir("templates")
    files = [p for p in root.rglob("*") if p.is_file()]
    documents = [p for p in files if p.relative_to(root).parts[0] == "agreement"]
    # Every file once, and the agreement's in both the app's and the documents' environments.
    assert compile_all(app) == len(files) + len(documents)
