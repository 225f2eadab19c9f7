"""The playbook editor (issue 25): admins edit a rule's points, risk, on/off and reason in
the browser, see which stored intakes change band before saving, save a new playbook
version with its history, and apply it by re-assessing; `playbooks impact` names the
changed rules first."""

from __future__ import annotations

import html
import re
import shutil

from sqlalchemy import select

from onboarding.cli import main
from onboarding.db import db
from onboarding.db.models import Intake, PlaybookVersion
from onboarding.domain.playbooks import default_playbooks_dir
from onboarding.web.extensions import app_playbooks
from tests.conftest import csrf_of
from tests.factories import APPROVER, login, submit

RULE = "set_boundaries--directs_daily_tasks"
CHANGE = "set_boundaries/directs_daily_tasks points −5 → −8, frustrated_creative risk 40 → 45"


def text_of(page: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def form_of(page: str) -> dict[str, str]:
    """Every field of the editor as the page fills it in (checkboxes that are on)."""
    data: dict[str, str] = {}
    for m in re.finditer(r'<input [^>]*name="([^"]+)"[^>]*>', page):
        tag, name = m.group(0), m.group(1)
        if 'type="checkbox"' in tag:
            if " checked" in tag:
                data[name] = "on"
            continue
        value = re.search(r'value="([^"]*)"', tag)
        data[name] = html.unescape(value.group(1)) if value else ""
    for m in re.finditer(r'<textarea [^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', page, re.S):
        data[m.group(1)] = html.unescape(m.group(2))
    return data


def test_only_admins_edit_the_playbooks(app, client, staff):
    assert client.get("/workspace/playbooks").status_code in (302, 401)
    login(client, staff["manager"])
    assert client.get("/workspace/playbooks").status_code == 403


def test_an_admin_previews_saves_and_reassesses(app, client, staff):
    public_id = submit(app, APPROVER)
    login(client, staff["admin"])
    page = client.get("/workspace/playbooks").text
    assert "directs_daily_tasks" in page and "decisions_owned" in page  # the condition, read-only
    data = form_of(page)
    assert data[f"{RULE}--points"] == "-5"
    data[f"{RULE}--points"] = "-8"
    data[f"{RULE}--risk"] = "45"
    preview = client.post("/workspace/playbooks", data={**data, "action": "preview"})
    assert preview.status_code == 200
    shown = text_of(preview.text)
    assert CHANGE in shown
    assert f"Daily Tasks Ltd — Dana Daily [{public_id}]: strong → guarded" in shown
    with app.app_context():
        assert db.session.scalar(select(PlaybookVersion)) is None  # nothing saved yet
    saved = client.post(
        "/workspace/playbooks",
        data={**form_of(preview.text), "action": "save", "reason": "daily tasks cap the band"},
    )
    assert saved.status_code == 302 and saved.headers["Location"].endswith("/workspace/reassess")
    with app.app_context():
        version = db.session.scalar(select(PlaybookVersion))
        assert version.changes == [CHANGE]
        assert app_playbooks().version == version.version  # what the app runs now
        intake = db.session.scalar(select(Intake).where(Intake.public_id == public_id))
        assert intake.band == "strong"  # applied only by re-assessing
    token = csrf_of(client.get("/workspace/reassess").text)
    client.post("/workspace/reassess", data={"csrf_token": token})
    with app.app_context():
        intake = db.session.scalar(select(Intake).where(Intake.public_id == public_id))
        assert intake.band == "guarded"
    history = text_of(client.get("/workspace/playbooks").text)
    assert "daily tasks cap the band" in history
    assert CHANGE in history


def test_bad_values_are_refused_naming_the_rule(app, client, staff):
    login(client, staff["admin"])
    data = form_of(client.get("/workspace/playbooks").text)
    data[f"{RULE}--points"] = "lots"
    data["set_boundaries--high_control--points"] = "+9"  # a penalty turned bonus
    refused = client.post("/workspace/playbooks", data={**data, "action": "preview"})
    assert refused.status_code == 422
    shown = text_of(refused.text)
    assert f"{RULE.replace('--', '/')}: points must be a whole number from -50 to 50" in shown
    data[f"{RULE}--points"] = "-5"
    refused = client.post("/workspace/playbooks", data={**data, "action": "save"})
    assert refused.status_code == 422
    shown = text_of(refused.text)
    assert "high_control: a rule on 'control_level' cannot both raise the score and add" in shown
    with app.app_context():
        assert db.session.scalar(select(PlaybookVersion)) is None


def test_a_rule_switched_off_no_longer_fires(app, client, staff):
    login(client, staff["admin"])
    data = form_of(client.get("/workspace/playbooks").text)
    data.pop(f"{RULE}--enabled")
    preview = client.post("/workspace/playbooks", data={**data, "action": "preview"})
    assert "set_boundaries/directs_daily_tasks switched off" in text_of(preview.text)
    client.post("/workspace/playbooks", data={**form_of(preview.text), "action": "save"})
    with app.app_context():
        rules = {r.id for r in app_playbooks().rules}
        assert "directs_daily_tasks" not in rules and "high_control" in rules


def test_playbooks_impact_prints_the_changed_rules_first(app, tmp_path):
    public_id = submit(app, APPROVER)
    copy = tmp_path / "playbooks"
    shutil.copytree(default_playbooks_dir(), copy)
    path = copy / "set_boundaries.yaml"
    text = path.read_text()
    old = "    risk: 40\n    points: -5\n"
    assert old in text
    path.write_text(text.replace(old, "    risk: 45\n    points: -8\n"))
    with app.app_context():
        result = app.test_cli_runner().invoke(main, ["playbooks", "impact", str(copy)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    changed = lines.index("Rules that change:")
    assert lines[changed + 1].strip() == (
        "set_boundaries/directs_daily_tasks points −5 → −8, frustrated_creative risk 40 → 45"
    )
    assert changed < lines.index("Intakes whose band changes:")
    assert f"Daily Tasks Ltd — Dana Daily [{public_id}]: strong → guarded" in result.output
