"""The ``onboarding`` command line (also ``flask --app onboarding ...``).

Commands are thin click wrappers over the domain and the services.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from .domain.assessment import BASE_SCORE, assess, to_json
from .domain.playbooks import (
    DUE,
    SECTIONS,
    PlaybookError,
    default_playbooks_dir,
    get_playbooks,
    load_playbooks,
)
from .domain.questionnaire import AnswersInvalid, FieldError, get_questionnaire

CAUSE_NAMES = {
    "excess_free_time": "Excess free time",
    "trust_deficit": "Trust deficit",
    "process_transparency": "Unclear process",
    "frustrated_creative": "Frustrated creative",
    "tactical_focus": "Tactics over goals",
    "fear": "Fear",
}


class AnswersFileError(click.ClickException):
    """Answers that cannot be read or do not validate: exit 2 with every error."""

    exit_code = 2

    def __init__(self, errors: list[FieldError], as_json: bool):
        self.errors = errors
        self.as_json = as_json
        super().__init__("invalid answers")

    def show(self, file=None) -> None:
        if self.as_json:
            payload = {"errors": [e.as_dict() for e in self.errors]}
            click.echo(json.dumps(payload, indent=2, ensure_ascii=False))
            return
        click.echo(f"The answers have {len(self.errors)} problem(s):", err=True)
        for e in self.errors:
            click.echo(f"  {e.question}: {e.message}", err=True)


def read_answers(path: str, as_json: bool = False) -> Any:
    """Read a JSON answers file (``-`` for stdin); raise AnswersFileError if unreadable."""
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise AnswersFileError(
            [FieldError("answers", f"cannot read {path}: {exc.strerror}")], as_json
        ) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise AnswersFileError(
            [FieldError("answers", f"not valid JSON: {exc.msg} at line {exc.lineno}")], as_json
        ) from None


def assess_or_exit(answers: Any, as_json: bool) -> dict[str, Any]:
    """The assessment, or exit 2 printing every validation error."""
    try:
        return assess(answers)
    except AnswersInvalid as exc:
        raise AnswersFileError(exc.errors, as_json) from None


def bar(value: int, width: int = 20) -> str:
    """A text bar for a 0..100 value."""
    filled = round(value * width / 100)
    return "█" * filled + "·" * (width - filled)


def report(answers: dict[str, Any], result: dict[str, Any]) -> str:
    """The assessment as a readable report for a terminal."""
    lines = [
        f"{answers.get('company')} — {answers.get('contact_name')}",
        "",
        f"Fit score   {result['score']}/100  ({result['band']})",
        f"Recommend   {result['recommendation'].replace('_', ' ')}",
        "",
        "Risk profile (0 none … 100 severe)",
    ]
    for cause, value in result["risks"].items():
        lines.append(f"  {CAUSE_NAMES[cause]:<20} {bar(value)} {value:>3}")
    if result["red_flags"]:
        lines += ["", "Red flags"]
        lines += [f"  ! {flag}" for flag in result["red_flags"]]
    lines += ["", f"Why this score (base {BASE_SCORE}, then each rule that fired)"]
    for c in result["contributions"]:
        points = f"{c['points']:+d}" if c["points"] else "  0"
        risk = f"  [+{c['risk']} {CAUSE_NAMES[c['cause']].lower()}]" if c["risk"] else ""
        lines.append(f"  {points:>4}  {c['because']}{risk}")
        lines.append(f"        ({c['playbook']}/{c['rule']}, reads {', '.join(c['questions'])})")
    lines += ["", f"Agreement clauses ({len(result['clauses'])})"]
    for clause in result["clauses"]:
        trace = ", ".join(clause["triggered_by"]) or "every agreement"
        lines.append(f"  - [{SECTIONS[clause['section']]}] {clause['title']}  ← {trace}")
    if result["actions"]:
        lines += ["", "Actions for the account manager"]
        for action in result["actions"]:
            lines.append(f"  [ ] {action['text']}  ({DUE[action['due']].lower()})")
    lines += ["", f"Playbook version {result['playbook_version'][:12]}"]
    return "\n".join(lines) + "\n"


@click.group()
def main() -> None:
    """Client onboarding: assess intake answers, check playbooks, render agreements."""


@main.command("assess")
@click.argument("answers_file", metavar="ANSWERS.json")
@click.option("--json", "as_json", is_flag=True, help="Print the contract JSON.")
def assess_command(answers_file: str, as_json: bool) -> None:
    """Assess an answers file (``-`` reads stdin) and explain the score."""
    answers = read_answers(answers_file, as_json)
    result = assess_or_exit(answers, as_json)
    click.echo(to_json(result) if as_json else report(answers, result), nl=False)


@main.group()
def playbooks() -> None:
    """Check and explain playbook files."""


@playbooks.command("check")
@click.argument("directory", required=False, type=click.Path(file_okay=False))
def playbooks_check(directory: str | None) -> None:
    """Validate a playbook folder and run its examples (exit 1 on any problem)."""
    from .domain.checking import check

    directory = directory or str(default_playbooks_dir())
    problems = check(directory)
    if problems:
        for line in problems:
            click.echo(line)
        click.echo(f"{len(problems)} problem(s) in {directory}", err=True)
        sys.exit(1)
    pbs = load_playbooks(directory)
    examples = sum(len(p.examples) for p in pbs.playbooks)
    click.echo(
        f"OK: {len(pbs.playbooks)} playbooks, {len(pbs.rules)} rules, "
        f"{examples} examples passed ({directory})"
    )


@playbooks.command("explain")
@click.argument("directory", required=False, type=click.Path(file_okay=False))
def playbooks_explain(directory: str | None) -> None:
    """List every rule: when it fires, what it reads, what it feeds."""
    try:
        pbs = get_playbooks(directory)
    except PlaybookError as exc:
        click.echo(str(exc))
        sys.exit(1)
    for pb in pbs.playbooks:
        click.echo(f"{pb.step}. {pb.title} ({pb.id})")
        if pb.summary:
            click.echo(f"   {pb.summary}")
        for rule in pb.rules:
            when = rule.condition.source if rule.condition else "always (every engagement)"
            click.echo(f"   • {rule.id}")
            click.echo(f"       when:  {when}")
            if rule.reads:
                click.echo(f"       reads: {', '.join(rule.reads)}")
            feeds = []
            if rule.points:
                feeds.append(f"score {rule.points:+d}")
            if rule.risk:
                feeds.append(f"{rule.cause} risk +{rule.risk}")
            if rule.red_flag:
                feeds.append("red flag")
            feeds += [f"clause {c.id} ({c.section})" for c in rule.clauses]
            feeds += [f"action {a.id}" for a in rule.actions]
            click.echo(f"       feeds: {', '.join(feeds) or 'nothing'}")
        click.echo("")
    click.echo(f"playbook version {pbs.version}")


@main.command("questionnaire")
def questionnaire_command() -> None:
    """Print the questionnaire definition as JSON."""
    click.echo(json.dumps(get_questionnaire().as_dict(), indent=2, ensure_ascii=False))


def current_or_new_app():
    """The running Flask app (under ``flask``), or a new one (under ``onboarding``)."""
    from flask import current_app, has_app_context

    if has_app_context():
        return current_app._get_current_object()
    from .app import create_app

    return create_app()


@main.command("init-db")
def init_db_command() -> None:
    """Create or upgrade the database schema (runs the migrations)."""
    from .database import upgrade_schema

    app = current_or_new_app()
    with app.app_context():
        upgrade_schema()
        click.echo(f"Database ready: {app.config['SQLALCHEMY_DATABASE_URI'].split('@')[-1]}")


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=3, show_default=True, type=int)
def serve_command(host: str, port: int, workers: int) -> None:
    """Run the app under gunicorn (the production server)."""
    import os
    import shutil

    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
    click.echo(f"Onboarding is running at http://{host}:{port}/  (Ctrl+C stops it)")
    sys.stdout.flush()
    os.execv(  # noqa: S606 - replaces this process with the server
        gunicorn,
        [
            gunicorn,
            "--workers", str(workers),
            "--bind", f"{host}:{port}",
            "--access-logfile", "-",
            "onboarding.app:create_app()",
        ],
    )  # fmt: skip
