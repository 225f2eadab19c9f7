"""The command line: readable reports, contract JSON, exit 2 with every error."""

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from onboarding.cli import main
from tests.factories import EXAMPLES

PLAYBOOKS = Path(__file__).resolve().parents[2] / "playbooks"


def run(*args, input=None):
    return CliRunner().invoke(main, list(args), input=input)


def test_assess_prints_a_readable_report():
    result = run("assess", str(EXAMPLES / "burned-marketer.json"))
    assert result.exit_code == 0, result.output
    assert "Harbour Freight Logistics" in result.output
    assert "Fit score" in result.output and "(guarded)" in result.output
    assert "You rated your past agency work 2 of 5" in result.output  # the why, in words
    assert "build_trust/burned_before" in result.output


def test_assess_json_is_the_contract():
    result = run("assess", str(EXAMPLES / "calm-founder.json"), "--json")
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert data["band"] == "strong" and data["recommendation"] == "proceed"


def test_assess_reads_stdin():
    text = (EXAMPLES / "calm-founder.json").read_text()
    result = run("assess", "-", "--json", input=text)
    assert json.loads(result.output)["score"] >= 70


def test_invalid_answers_exit_2_with_every_error_and_no_traceback():
    answers = json.loads((EXAMPLES / "calm-founder.json").read_text())
    answers.update(control_level=9, fears=["failure", "failure"], colour="red")
    del answers["company"]
    result = run("assess", "-", "--json", input=json.dumps(answers))
    assert result.exit_code == 2
    errors = json.loads(result.output)["errors"]
    assert {e["question"] for e in errors} == {"colour", "company", "control_level", "fears"}
    plain = run("assess", "-", input=json.dumps(answers))
    assert plain.exit_code == 2 and "control_level:" in plain.output
    assert "Traceback" not in plain.output


def test_unreadable_or_broken_json_exits_2():
    assert run("assess", "/nonexistent.json").exit_code == 2
    result = run("assess", "-", "--json", input="{not json")
    assert result.exit_code == 2
    assert json.loads(result.output)["errors"][0]["question"] == "answers"


@pytest.mark.slow
def test_playbooks_check_ok_and_broken(tmp_path):
    ok = run("playbooks", "check", str(PLAYBOOKS))
    assert ok.exit_code == 0 and ok.output.startswith("OK: 10 playbooks")
    broken = tmp_path / "pb"
    shutil.copytree(PLAYBOOKS, broken)
    path = broken / "value_time.yaml"
    path.write_text(path.read_text().replace("weekly_hours_available >=", "weekly_hour >=", 1))
    bad = run("playbooks", "check", str(broken))
    assert bad.exit_code == 1
    assert "value_time.yaml: " in bad.output and "unknown question 'weekly_hour'" in bad.output


def test_playbooks_explain_lists_rules_with_reads_and_feeds():
    result = run("playbooks", "explain")
    assert result.exit_code == 0
    assert "burned_before" in result.output
    assert "reads: worked_with_agency_before, past_experience_rating" in result.output
    assert "trust_deficit risk +30" in result.output


@pytest.mark.slow
def test_a_broken_playbook_folder_is_reported_not_a_traceback(tmp_path, monkeypatch):
    from onboarding.domain import playbooks

    broken = tmp_path / "pb"
    shutil.copytree(PLAYBOOKS, broken)
    path = broken / "set_boundaries.yaml"
    path.write_text(path.read_text().replace('"daily_tasks" in', '"daily_task" in', 1))
    # As `PLAYBOOKS_DIR=... onboarding assess` would (Config reads the environment once).
    monkeypatch.setattr("onboarding.config.Config.PLAYBOOKS_DIR", str(broken))
    playbooks._cached.cache_clear()
    try:
        result = run("assess", str(EXAMPLES / "calm-founder.json"))
    finally:
        playbooks._cached.cache_clear()
    assert result.exit_code == 1
    assert "The playbooks do not load" in result.output
    assert "set_boundaries.yaml: directs_daily_tasks: condition: 'daily_task'" in result.output
    assert "Traceback" not in result.output


@pytest.mark.slow
def test_the_commands_that_need_no_app_never_build_one(tmp_path, monkeypatch):
    """assess, playbooks and questionnaire work with no app and no database (the
    agreement command, which renders, is checked in tests/integration/test_pdf.py)."""
    import onboarding.app

    def no_app(*args, **kwargs):
        raise AssertionError("this command built an app")

    monkeypatch.setattr(onboarding.app, "create_app", no_app)
    for args in [
        ["assess", str(EXAMPLES / "calm-founder.json")],
        ["assess", str(EXAMPLES / "calm-founder.json"), "--json"],
        ["playbooks", "check"],
        ["playbooks", "explain"],
        ["questionnaire"],
    ]:
        result = run(*args)
        assert result.exit_code == 0, (args, result.output)
    assert run("init-db").exit_code != 0  # a command that needs the app asks for one


def test_every_command_is_also_a_flask_command():
    """``flask --app onboarding <command>`` finds each one through its entry point."""
    from importlib.metadata import entry_points

    from flask.cli import FlaskGroup

    ours = {
        ep.name: ep.load()
        for ep in entry_points(group="flask.commands")
        if ep.value.startswith("onboarding.")
    }
    flask_own = set(FlaskGroup(create_app=lambda: None).commands)  # run, shell, routes
    assert ours == {name: cmd for name, cmd in main.commands.items() if name not in flask_own}


# --- the agreement as a contract (terms.md) ----------------------------------------------


def test_agreement_json_prints_resolved_terms_sections_and_draft():
    answers = str(EXAMPLES / "calm-founder.json")
    terms = str(EXAMPLES / "calm-founder.terms.json")
    data = json.loads(run("agreement", answers, "--terms", terms, "--json").output)
    assert data["draft"] is False and data["problems"] == []
    assert data["resolved_terms"]["fee"] == {"model": "fixed", "amount": "18500.00"}
    assert data["resolved_terms"]["service_levels"]["revision_rounds"] == 2
    sources = {c["source"] for s in data["sections"] for c in s["clauses"]}
    assert "standard" in sources and any(s.startswith("playbook:") for s in sources)
    assert {"id", "title", "text", "source", "triggered_by"} == set(
        data["sections"][0]["clauses"][0]
    )
    draft = json.loads(run("agreement", answers, "--json").output)
    assert draft["draft"] is True


def test_agreement_with_an_agency_file(tmp_path):
    agency = tmp_path / "agency.yaml"
    agency.write_text("legal_name: Northwind Design LLP\ntrading_name: Northwind\ncurrency: EUR\n")
    data = json.loads(
        run(
            "agreement", str(EXAMPLES / "calm-founder.json"), "--agency", str(agency), "--json"
        ).output
    )
    assert data["resolved_terms"]["currency"] == "EUR"
    assert data["resolved_terms"]["agency"]["legal_name"] == "Northwind Design LLP"


def test_invalid_terms_exit_2_with_every_field_path(tmp_path):
    bad = tmp_path / "terms.json"
    bad.write_text(json.dumps({"fee": {"model": "fixed"}, "start_date": "next week"}))
    result = run("agreement", str(EXAMPLES / "calm-founder.json"), "--terms", str(bad), "--json")
    assert result.exit_code == 2
    fields = {e["field"] for e in json.loads(result.output)["errors"]}
    assert fields == {"fee.amount", "start_date"}
    result = run(
        "agreement", str(EXAMPLES / "calm-founder.json"), "--terms", str(bad), "-o", "x.pdf"
    )
    assert result.exit_code == 2 and "fee.amount: is required" in result.output
    assert "Traceback" not in result.output


def test_agreement_needs_an_output_or_json():
    result = run("agreement", str(EXAMPLES / "calm-founder.json"))
    assert result.exit_code == 2 and "--output" in result.output


@pytest.mark.slow
def test_playbooks_check_reports_a_contradiction_introduced_into_the_playbooks(tmp_path):
    shipped = run("playbooks", "check", str(PLAYBOOKS))
    assert shipped.exit_code == 0 and "contradict nothing" in shipped.output
    folder = tmp_path / "playbooks"
    shutil.copytree(PLAYBOOKS, folder)
    path = folder / "set_boundaries.yaml"
    # The decision clause lists the raw answer instead of the decision table's rows.
    shipped_text = path.read_text()
    table = "The decision table above sets who decides each matter it lists, and how."
    assert table in shipped_text
    raw = "The Client makes the final decision on {decisions_owned|lower}."
    path.write_text(shipped_text.replace(table, raw))
    broken = run("playbooks", "check", str(folder))
    assert broken.exit_code == 1
    assert "set_boundaries.yaml: decision_rights: lists the decisions the client asked to own" in (
        broken.output
    )
