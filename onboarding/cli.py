"""The ``onboarding`` command line: click commands over the domain and the services.

Commands are thin click wrappers. Those that need the app (:func:`onboarding.app.create_app`)
run in its context (:func:`with_appcontext`): the app is built on first use, or is the
one already running (``flask --app onboarding``, which finds these commands through the
``flask.commands`` entry points in pyproject.toml). The commands that need no app
(``assess``, ``agreement``, ``proposal``, ``playbooks``, ``questionnaire``, ``serve``) say
``with_appcontext=False`` and never build one, nor import Flask: they take their
settings (``PLAYBOOKS_DIR``, ``AGENCY_NAME``) from :class:`~onboarding.config.Config` and
touch no database; the PDFs render in this process (one WeasyPrint import, no render
worker to start). Flask's own commands (``run``, ``shell``, ``routes``, ``db``) are
found through a ``FlaskGroup`` made when one of them is asked for. Nothing imports this
module.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from onboarding.domain.assessment import BASE_SCORE, assess, reasons, to_json, verdict_label
from onboarding.domain.playbooks import (
    CAUSE_LABELS,
    DUE,
    SECTIONS,
    PlaybookError,
    PlaybookSet,
    default_playbooks_dir,
    get_playbooks,
    load_playbooks,
)
from onboarding.domain.questionnaire import AnswersInvalid, FieldError, get_questionnaire
from onboarding.domain.text import MAX_ID


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
    """The assessment with the configured playbooks, or exit 2 printing every
    validation error (exit 1 listing every problem if the playbooks do not load)."""
    playbooks = configured_playbooks()
    try:
        return assess(answers, playbooks)
    except AnswersInvalid as exc:
        raise AnswersFileError(exc.errors, as_json) from None


def bar(value: int, width: int = 20) -> str:
    """A text bar for a 0..100 value."""
    filled = round(value * width / 100)
    return "█" * filled + "·" * (width - filled)


def report(answers: dict[str, Any], result: dict[str, Any]) -> str:
    """The assessment as a readable report for a terminal: the verdict with its band
    note, then one reason per answer (the rules that read it, their points together)."""
    labels = result.get("risk_labels") or CAUSE_LABELS
    lines = [
        f"{answers.get('company')} — {answers.get('contact_name')}",
        "",
        f"Fit score   {result['score']}/100  ({result['band']})",
        f"Recommend   {verdict_label(result).lower()}",
    ]
    if result.get("band_note"):
        lines.append(f"            {result['band_note']}")
    lines += ["", "Risk profile (0 none … 100 severe)"]
    for cause, value in result["risks"].items():
        lines.append(f"  {labels[cause]:<20} {bar(value)} {value:>3}")
    if result["red_flags"]:
        lines += ["", "Red flags"]
        lines += [f"  ! {flag}" for flag in result["red_flags"]]
    lines += ["", f"Why this score (base {BASE_SCORE}, then one reason per answer)"]
    for r in reasons(result):
        points = f"{r['points']:+d}" if r["points"] else "  0"
        risk = "".join(f"  [+{v} {labels[cause].lower()}]" for cause, v in r["risks"].items() if v)
        lines.append(f"  {points:>4}  {r['because']}{risk}")
        lines.append(f"        ({', '.join(r['rules'])}; reads {', '.join(r['questions'])})")
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


class PlaybooksBroken(click.ClickException):
    """The playbooks do not load: exit 1 listing every problem, never a traceback."""

    exit_code = 1

    def __init__(self, error: PlaybookError):
        self.error = error
        super().__init__("the playbooks do not load")

    def show(self, file=None) -> None:
        click.echo("The playbooks do not load; fix these and try again:", err=True)
        for problem in self.error.problems:
            click.echo(f"  {problem}", err=True)


def settings() -> type:
    """:class:`~onboarding.config.Config`, the settings read from the environment; a
    value that does not parse exits 1 with one line naming it, not a traceback."""
    try:
        from onboarding.config import Config
    except ValueError as exc:  # raised while the environment is read, naming the setting
        raise click.ClickException(str(exc)) from None
    return Config


def configured_playbooks() -> PlaybookSet:
    """The playbooks of ``PLAYBOOKS_DIR`` (the shipped ones when unset), for the commands
    that need no app; exit 1 listing every problem if they do not load."""
    try:
        return get_playbooks(settings().PLAYBOOKS_DIR)
    except PlaybookError as exc:
        raise PlaybooksBroken(exc) from None


def make_app():
    """The app of the commands that need one, built from the settings (Config); a
    setting out of range exits 1 with one line naming it."""
    settings()
    from onboarding.app import create_app

    try:
        return create_app()
    except PlaybookError:
        raise  # every problem listed, by MainGroup
    except ValueError as exc:  # a setting out of range (PDF_RENDER_TIMEOUT=0, say)
        raise click.ClickException(str(exc)) from None


class _CurrentApp:
    """``current_app`` for the commands, without importing Flask at start-up (a command
    that needs no app never imports it): Flask's proxy, looked up on each use."""

    def __getattr__(self, name: str) -> Any:
        from flask import current_app

        return getattr(current_app, name)


current_app: Any = _CurrentApp()


def script_info(ctx: click.Context | None = None) -> Any:
    """The context's ``flask.cli.ScriptInfo`` (Flask's own under ``flask --app``), else
    one building our app (:func:`make_app`), kept on the root context."""
    from flask.cli import ScriptInfo

    ctx = ctx or click.get_current_context()
    info = ctx.find_object(ScriptInfo)
    if info is None:
        info = ScriptInfo(create_app=make_app, set_debug_flag=False, load_dotenv_defaults=False)
        ctx.find_root().obj = info
    return info


def with_appcontext(f):
    """``flask.cli.with_appcontext``, importing Flask only when the command runs: the
    app (built by :func:`script_info`'s, or the one running) is current meanwhile."""
    import functools

    @click.pass_context
    def decorator(ctx: click.Context, /, *args: Any, **kwargs: Any) -> Any:
        from flask import current_app as app

        if not app:
            ctx.with_resource(script_info(ctx).load_app().app_context())
        return ctx.invoke(f, *args, **kwargs)

    return functools.update_wrapper(decorator, f)


class AppGroup(click.Group):
    """``flask.cli.AppGroup`` without Flask at import: ``command()`` runs its callback in
    the app's context unless given ``with_appcontext=False``; ``group()`` makes another."""

    def command(self, *args: Any, **kwargs: Any):
        wrap = kwargs.pop("with_appcontext", True)

        def decorator(f):
            return click.Group.command(self, *args, **kwargs)(with_appcontext(f) if wrap else f)

        return decorator

    def group(self, *args: Any, **kwargs: Any):
        kwargs.setdefault("cls", AppGroup)
        return click.Group.group(self, *args, **kwargs)


class MainGroup(AppGroup):
    """The command group: our own commands are plain click commands, found without
    importing Flask or building the app (``assess``, ``agreement``, ``proposal``,
    ``playbooks`` never do either); any other name (Flask's ``run``, ``shell``,
    ``routes``, plugins such as ``db``) goes to a ``FlaskGroup`` made when first asked.
    A broken playbook folder is reported, not a traceback."""

    _flask: click.Group | None = None

    def flask_group(self) -> click.Group:
        if self._flask is None:
            from flask.cli import FlaskGroup

            self._flask = FlaskGroup(create_app=make_app, load_dotenv=False)
        return self._flask

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        """Our commands first (fast: no Flask, no entry points read, no app); then Flask's."""
        command = super().get_command(ctx, name)
        if command is None:
            script_info(ctx)  # Flask's group builds our app, if it needs one
            command = self.flask_group().get_command(ctx, name)
        return command

    def list_commands(self, ctx: click.Context) -> list[str]:
        script_info(ctx)
        return sorted(set(super().list_commands(ctx)) | set(self.flask_group().list_commands(ctx)))

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except PlaybookError as exc:
            raise PlaybooksBroken(exc) from None


@click.group(cls=MainGroup)
def main() -> None:
    """Client onboarding: assess intake answers, check playbooks, render agreements."""


@main.command("assess", with_appcontext=False)
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


@playbooks.command("check", with_appcontext=False)
@click.argument("directory", required=False, type=click.Path(file_okay=False))
def playbooks_check(directory: str | None) -> None:
    """Validate a playbook folder and run its examples (exit 1 on any problem)."""
    from onboarding.domain.checking import check

    directory = directory or settings().PLAYBOOKS_DIR or str(default_playbooks_dir())
    # The first load after a change checks the whole set again (and keeps the result):
    # say so, with how long it took.
    import logging

    class Echo(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            click.echo(record.getMessage(), err=True)

    log = logging.getLogger("onboarding.domain.playbooks")
    echo, level = Echo(logging.INFO), log.level
    log.addHandler(echo)
    log.setLevel(logging.INFO)
    try:
        problems = check(directory)
    finally:
        log.removeHandler(echo)
        log.setLevel(level)
    if problems:
        for line in problems:
            click.echo(line)
        click.echo(f"{len(problems)} problem(s) in {directory}", err=True)
        sys.exit(1)
    pbs = load_playbooks(directory)
    examples = sum(len(p.examples) for p in pbs.playbooks)
    from onboarding.domain.checking import GENERATED

    click.echo(
        f"OK: {len(pbs.playbooks)} playbooks, {len(pbs.rules)} rules, "
        f"{examples} examples passed; the agreements of the examples and {GENERATED} "
        f"generated answer sets contradict nothing ({directory})"
    )


@playbooks.command("explain", with_appcontext=False)
@click.argument("directory", required=False, type=click.Path(file_okay=False))
def playbooks_explain(directory: str | None) -> None:
    """List every rule: when it fires, what it reads, what it feeds."""
    try:
        pbs = get_playbooks(directory or settings().PLAYBOOKS_DIR)
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


@playbooks.command("impact", with_appcontext=False)
@click.argument("directory", type=click.Path(file_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def playbooks_impact(directory: str, as_json: bool) -> None:
    """What a changed playbook folder would do to every submitted intake: band and
    recommendation changes, the largest score moves, rules firing more or less.

    The changed rules first (``set_boundaries/directs_daily_tasks points −4 → −8``), then
    each intake whose band changes (company, contact and public id) as it is found, then
    the tables. Writes nothing. The server's start-up warnings (rate limits, BASE_URL)
    are not printed: they concern serving, not this report.
    """
    server_log = logging.getLogger("onboarding.app")
    level = server_log.level
    server_log.setLevel(logging.ERROR)
    try:
        app = script_info().load_app()
    finally:
        server_log.setLevel(level)
    with app.app_context():
        _impact(directory, as_json)


def _impact(directory: str, as_json: bool) -> None:
    """The impact report (in an app context): each intake's stored answers under the
    playbooks running now (``PLAYBOOKS_DIR`` and the editor's saved version) and under
    DIRECTORY, a batch at a time."""
    from onboarding.domain.impact import change_line, table
    from onboarding.services.intake.impact import compare_playbooks
    from onboarding.web.extensions import app_playbooks

    try:
        candidate = load_playbooks(directory)
    except PlaybookError as exc:
        raise PlaybooksBroken(exc) from None
    from onboarding.domain.playbook_edits import rule_changes

    current = app_playbooks()
    changes = rule_changes(current, candidate)
    if not as_json:
        click.echo(f"Playbooks now {current.version[:12]}, in {directory} {candidate.version[:12]}")
        click.echo("Rules that change:")
        click.echo("\n".join(f"  {line}" for line in changes) or "  none")
        click.echo("Intakes whose band changes:")
    report = compare_playbooks(
        current, candidate, on_change=None if as_json else lambda c: click.echo(change_line(c))
    )
    data = {"rule_changes": changes, **report.as_dict()}
    if as_json:
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    if not data["band_changed"]:
        click.echo("  none")
    elif data["band_changed"] > data["band_changes_listed"]:
        click.echo(f"  ... and {data['band_changed'] - data['band_changes_listed']} more")
    click.echo("")
    click.echo(table(data), nl=False)


@main.command("questionnaire", with_appcontext=False)
def questionnaire_command() -> None:
    """Print the questionnaire definition as JSON."""
    click.echo(json.dumps(get_questionnaire().as_dict(), indent=2, ensure_ascii=False))


@main.command("init-db")
def init_db_command() -> None:
    """Create or upgrade the database schema (runs the migrations)."""
    from onboarding.db.engine import upgrade_schema

    upgrade_schema()
    click.echo(f"Database ready: {current_app.config['SQLALCHEMY_DATABASE_URI'].split('@')[-1]}")
    if not current_app.config.get("SIGNING_CERT_FILE"):  # the seal's certificate, made once
        from onboarding.services import sealing

        path, made = sealing.ensure_self_signed(current_app.instance_path, sealing.legal_name())
        click.echo(f"Self-signed signing certificate {'made' if made else 'kept'}: {path}")


@main.command("serve", with_appcontext=False)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option(
    "--workers",
    default=None,
    type=click.IntRange(min=1),
    help="gunicorn worker processes (default: WEB_CONCURRENCY, 3).",
)
@click.option(
    "--per-worker-limits",
    is_flag=True,
    help="Start several workers without REDIS_URL all the same (each counts the rate "
    "limits alone, so every limit is multiplied by the workers).",
)
def serve_command(host: str, port: int, workers: int | None, per_worker_limits: bool) -> None:
    """Run the app under gunicorn (the production server). Several workers need shared
    rate-limit counters (REDIS_URL): without them it refuses unless told."""
    import os
    import shutil

    from onboarding.app import shared_limits_missing

    config = settings()
    asked = workers
    workers = workers or config.WEB_CONCURRENCY
    limits = {
        "RATELIMIT_STORAGE_URI": config.RATELIMIT_STORAGE_URI or config.REDIS_URL or "memory://"
    }
    missing = shared_limits_missing(limits, workers) and not per_worker_limits
    if missing and asked is None:  # the default count: one worker, said so, still serving
        click.echo(
            f"Starting 1 worker, not {workers}: without REDIS_URL each worker would count the "
            "rate limits alone. Set REDIS_URL for more (or pass --per-worker-limits).",
            err=True,
        )
        workers, missing = 1, False
    if missing:
        click.echo(
            f"Refusing to start {workers} workers: without REDIS_URL (or "
            "RATELIMIT_STORAGE_URI=redis://...) each worker counts the rate limits in its own "
            "memory, so every limit is multiplied by the workers. Set REDIS_URL, run "
            "--workers 1, or pass --per-worker-limits to accept that.",
            err=True,
        )
        sys.exit(2)

    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
    click.echo(f"Onboarding is running at http://{host}:{port}/  (Ctrl+C stops it)")
    sys.stdout.flush()
    os.execv(  # noqa: S606 - replaces this process with the server
        gunicorn,
        [
            gunicorn,
            "--workers", str(workers),
            # The app's count is the real one (its warning, its limits), not the default.
            "--env", f"WEB_CONCURRENCY={workers}",
            "--bind", f"{host}:{port}",
            # The longest request line gunicorn reads (its default, 4094, is shorter than
            # some addresses the API's document allows: GET /api/v1/intakes's filters).
            "--limit-request-line", "8190",
            "--access-logfile", "-",
            "--config", "python:onboarding.gunicorn_conf",
            "onboarding.app:create_app()",
        ],
    )  # fmt: skip


@main.command("create-user")
@click.argument("email")
@click.option(
    "--role", type=click.Choice(["admin", "manager"]), default="manager", show_default=True
)
@click.option("--name", default=None, help="The person's name, shown in the workspace.")
@click.option(
    "--password",
    default=None,
    help="Leave out to be prompted; with --generate a strong one is made and printed once.",
)
@click.option("--generate", is_flag=True, help="Generate the password and print it once.")
def create_user_command(
    email: str, role: str, name: str | None, password: str | None, generate: bool
) -> None:
    """Add a staff account (admin or manager)."""
    from onboarding.db import db
    from onboarding.services.people.accounts import AccountError, create_user

    if not password and not generate:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user, password = create_user(email, role, password, name, settings=current_app.config)
    except AccountError as exc:
        click.echo(f"{exc.field}: {exc}", err=True)
        sys.exit(2)
    db.session.commit()
    click.echo(f"Created {role} {user.email}")
    if generate:
        click.echo(f"Password (shown once): {password}")


@main.command("seed-demo")
def seed_demo_command() -> None:
    """On an empty database: a demo admin (credentials printed) and demo intakes."""
    from onboarding.services.demo import seed_demo
    from onboarding.web.extensions import app_playbooks

    created = seed_demo(settings=current_app.config, playbooks=app_playbooks())
    if created is None:
        click.echo("The database already has users: no demo data added.")
        return
    email, password, count = created
    click.echo(
        f"\nDemo workspace ready: sign in at http://127.0.0.1:5000/login\n"
        f"  email:    {email}\n  password: {password}\n"
        f"({count} demo intakes; the password is shown only now.)\n"
    )


@main.command("reassess")
@click.option("--all", "all_", is_flag=True, required=True, help="Every submitted intake.")
def reassess_command(all_: bool) -> None:
    """Re-run assessments whose playbook version is out of date."""
    from onboarding.services.intake.workspace import reassess_all
    from onboarding.web.extensions import app_playbooks

    checked, changed = reassess_all(playbooks=app_playbooks())
    click.echo(f"Checked {checked} submitted intakes; re-assessed {changed}.")


@main.command("agreement", with_appcontext=False)
@click.argument("answers_file", metavar="ANSWERS.json")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False), help="The PDF to write (not with --json)."
)
@click.option(
    "--html", "html_file", type=click.Path(dir_okay=False), help="Also write the preview."
)
@click.option(
    "--terms",
    "terms_file",
    type=click.Path(dir_okay=False),
    help="The engagement's terms (JSON, shared/spec/terms.md); without them the agreement "
    "is a draft.",
)
@click.option(
    "--agency",
    "agency_file",
    type=click.Path(dir_okay=False),
    help="The agency profile (YAML or JSON); default: the shipped demo profile.",
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print the resolved terms and sections, not a PDF."
)
@click.option("--paper", type=click.Choice(["a4", "letter"]), default="a4", show_default=True)
@click.option(
    "--date",
    "on",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Document date, YYYY-MM-DD (default: today). The same answers, playbooks and "
    "date always give the same PDF, byte for byte.",
)
@click.option(
    "--options",
    "chosen_text",
    default="",
    metavar="ID[:N],...",
    help="The options the client chose (priority_replies,extra_revision_round:2): the "
    "agreement as it reads once they are chosen.",
)
def agreement_command(
    answers_file: str,
    output: str | None,
    html_file: str | None,
    terms_file: str | None,
    agency_file: str | None,
    as_json: bool,
    paper: str,
    on: Any,
    chosen_text: str = "",
) -> None:
    """Render the engagement agreement of an answers file as a PDF (and HTML preview).

    Invalid answers, terms or profile exit 2 listing every problem; a contradiction in
    the agreement is printed as a warning (the workspace refuses to send it).
    """
    import datetime

    from onboarding.domain.agreement import agreement_json, compose
    from onboarding.domain.consistency import check_agreement
    from onboarding.domain.options import parse_choice
    from onboarding.domain.terms import TermError, TermsInvalid

    if not as_json and not output:
        raise click.UsageError("give -o/--output for the PDF, or --json")
    answers = read_answers(answers_file, as_json)
    result = assess_or_exit(answers, as_json)
    day = on.date() if on else datetime.date.today()
    with terms_or_exit(as_json):
        profile, terms = profile_and_terms(agency_file, terms_file)
        choice, problems = parse_choice(chosen_text)
        if problems:
            raise TermsInvalid([TermError(f, m) for f, m in problems])
        agreement = compose(answers, result, date=day, profile=profile, terms=terms, chosen=choice)
    problems = check_agreement(agreement, answers, result, terms, profile=profile)
    if as_json:
        data = agreement_json(agreement)
        data["problems"] = data["problems"] + [p.as_dict() for p in problems]
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    for problem in problems:
        click.echo(f"Contradiction: {problem.line()}", err=True)
    from onboarding.rendering.isolation import LocalRenderer
    from onboarding.rendering.pdf import STATIC_DIR, NoCache, RenderError, html_for, render_pdf

    try:
        rendered = render_pdf(agreement, paper=paper, cache=NoCache(), renderer=LocalRenderer())
    except RenderError as exc:
        click.echo(f"The PDF could not be rendered: {exc}", err=True)
        sys.exit(1)
    Path(output).write_bytes(rendered.pdf)
    for problem in agreement.problems:
        click.echo(f"Draft: {problem.line()}", err=True)
    kind = "a draft agreement (not for signature)" if agreement.draft else "the agreement"
    click.echo(f"Wrote {output}: {kind}, {rendered.document_id}, SHA-256 {rendered.sha256[:16]}...")
    if html_file:
        html = html_for(agreement, static_base=STATIC_DIR.as_uri() + "/", paper=paper)
        Path(html_file).write_text(html, encoding="utf-8")
        click.echo(f"Wrote {html_file} (preview; the stylesheet is read from {STATIC_DIR})")


@main.command("proposal", with_appcontext=False)
@click.argument("answers_file", metavar="ANSWERS.json")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="The PDF to write.")
@click.option(
    "--terms", "terms_file", type=click.Path(dir_okay=False), help="The engagement's terms (JSON)."
)
@click.option(
    "--agency",
    "agency_file",
    type=click.Path(dir_okay=False),
    help="The agency profile with its rate card (YAML or JSON); default: the demo profile.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the options and sections, not a PDF.")
@click.option("--paper", type=click.Choice(["a4", "letter"]), default="a4", show_default=True)
@click.option(
    "--date",
    "on",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="The letter's date, YYYY-MM-DD (default: today).",
)
def proposal_command(
    answers_file: str,
    output: str | None,
    terms_file: str | None,
    agency_file: str | None,
    as_json: bool,
    paper: str,
    on: Any,
) -> None:
    """Render the proposal letter that goes with the agreement (2-4 pages): what we
    heard, how we will work together, the answer to each worry, the options with their
    prices, what happens next. Bad answers, terms or profile exit 2 naming each field."""
    import datetime

    from onboarding.domain.proposal import compose_proposal

    if not as_json and not output:
        raise click.UsageError("give -o/--output for the PDF, or --json")
    answers = read_answers(answers_file, as_json)
    result = assess_or_exit(answers, as_json)
    day = on.date() if on else datetime.date.today()
    with terms_or_exit(as_json):
        profile, terms = profile_and_terms(agency_file, terms_file)
    proposal = compose_proposal(answers, result, date=day, profile=profile, terms=terms)
    if as_json:
        click.echo(json.dumps(proposal.as_json(), indent=2, ensure_ascii=False))
        return
    from onboarding.rendering.isolation import LocalRenderer
    from onboarding.rendering.letters import proposal_pdf
    from onboarding.rendering.pdf import RenderError

    try:
        data, pages = proposal_pdf(proposal, paper=paper, renderer=LocalRenderer())
    except RenderError as exc:
        click.echo(f"The PDF could not be rendered: {exc}", err=True)
        sys.exit(1)
    Path(output).write_bytes(data)
    click.echo(f"Wrote {output}: the proposal for {proposal.company}, {pages} page(s)")


def profile_and_terms(agency_file: str | None, terms_file: str | None) -> tuple[Any, Any]:
    """The agency profile (``--agency``; else the shipped demo one, named
    ``AGENCY_NAME``) and the engagement's terms (``--terms``; else None, a draft) of
    ``agreement`` and ``proposal``; raises TermsInvalid (see :func:`terms_or_exit`)."""
    from dataclasses import replace

    from onboarding.domain.terms import default_profile, load_profile, parse_terms

    config = settings()
    if agency_file:
        profile = load_profile(read_data(agency_file, "--agency"))
    else:
        profile = replace(default_profile(), trading_name=config.AGENCY_NAME)
    terms = parse_terms(read_data(terms_file, "--terms")) if terms_file else None
    return profile, terms


@contextlib.contextmanager
def terms_or_exit(as_json: bool) -> Iterator[None]:
    """Invalid terms, profile or options raised in the block exit 2 listing every
    problem: ``{"errors": [...]}`` with ``--json``, else ``field: message`` lines on
    stderr."""
    from onboarding.domain.terms import TermsInvalid

    try:
        yield
    except TermsInvalid as exc:
        if as_json:
            click.echo(json.dumps(exc.as_dict(), indent=2))
        else:
            for error in exc.errors:
                click.echo(f"{error.field}: {error.message}", err=True)
        sys.exit(2)


def read_data(path: str, option: str) -> Any:
    """A JSON or YAML file's data; exit 2 with one line when it cannot be read."""
    import yaml

    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        click.echo(f"{option}: cannot read {path}: {exc.strerror}", err=True)
        sys.exit(2)
    try:
        if path.endswith((".yaml", ".yml")):
            return yaml.safe_load(text)
        return json.loads(text)
    except (ValueError, yaml.YAMLError) as exc:
        click.echo(
            f"{option}: {path} is not valid {'YAML' if 'yaml' in path else 'JSON'}: {exc}", err=True
        )
        sys.exit(2)


def printable(value: object) -> str:
    """Text safe to print on a terminal: control and format characters (escape
    sequences, bidirectional overrides, line and paragraph breaks) shown as ``\\uXXXX``."""
    import unicodedata

    def safe(c: str) -> str:
        kind = unicodedata.category(c)
        return f"\\u{ord(c):04x}" if kind[0] == "C" or kind in ("Zl", "Zp") else c

    return "".join(safe(c) for c in str(value))


@main.command("verify")
@click.argument("pdf_file", metavar="FILE.pdf", type=click.Path(exists=True, dir_okay=False))
def verify_command(pdf_file: str) -> None:
    """Say which file we issued a PDF is: a version as sent, as accepted by the client,
    or fully signed (exit 1 when it is none of them)."""
    from onboarding.services.agreement.verify import verify

    data = Path(pdf_file).read_bytes()
    result = verify(data)
    name = printable(pdf_file)
    if result is None:
        from onboarding.services.sealing import signature_of

        click.echo(
            f"NO MATCH: {name} is not an agreement we sent, that a client accepted or that "
            "both parties signed (it may have been changed)."
        )
        click.echo(f"  signature: {signature_of(data).label}")
        sys.exit(1)
    v = result.version
    lines = [
        f"MATCH: {result.label}: agreement {printable(v.document_id)} for "
        f"{printable(v.intake.company)}, sent on {v.sent_at:%Y-%m-%d %H:%M:%S} UTC"
    ]
    if result.kind in ("accepted", "signed"):
        title = f", {printable(v.accepted_title)}" if v.accepted_title else ""
        lines.append(
            f"  accepted by {printable(v.accepted_name)}{title} at "
            f"{v.accepted_at:%Y-%m-%d %H:%M:%S} UTC from {printable(v.accepted_ip)} "
            f"(client contact {printable(v.accepted_email)})"
        )
    if result.kind in ("accepted", "signed") and v.options_chosen is not None:
        from onboarding.domain.agreement import chosen_option_lines

        chosen = chosen_option_lines(v.content or {}, v.options_chosen)
        named = "; ".join(printable(line) for line in chosen[: len(v.options_chosen)])
        lines.append(f"  options chosen: {named or 'none'}")
    if result.kind == "signed":
        lines.append(
            f"  countersigned by {printable(v.countersigned_name)}, "
            f"{printable(v.countersigned_title)} at {v.countersigned_at:%Y-%m-%d %H:%M:%S} UTC "
            f"from {printable(v.countersigned_ip)}"
        )
    elif result.kind == "accepted":
        lines.append("  (the client's accepted copy, before the agency's countersignature)")
    else:
        lines.append("  (the copy as sent, not the accepted or signed one)")
    lines.append(f"  signature: {result.signature.label}")
    click.echo("\n".join(lines))


@main.group("audit")
def audit_group() -> None:
    """The tamper-evident trail: each intake's history and the security log."""


@audit_group.command("verify")
@click.option("--intake", "public_id", default=None, help="Check this intake's history only.")
def audit_verify_command(public_id: str | None) -> None:
    """Re-compute the hash chains; exit 1 naming the first event of each that does not
    match (edited, removed or reordered), 0 when every chain is intact."""
    from onboarding.services.trail import verify_chains

    try:
        breaks, checked = verify_chains(public_id)
    except LookupError as error:
        click.echo(f"Error: --intake: {error}", err=True)
        sys.exit(2)
    for found in breaks:
        click.echo(f"BROKEN  {printable(found.label)}")
    if breaks:
        sys.exit(1)
    click.echo(f"Intact: {checked} event(s) checked.")


# --- the JSON API and webhooks ----------------------------------------------------------------


@main.group("api-token")
def api_token() -> None:
    """API tokens: create (shown once), list, revoke."""


@api_token.command("create")
@click.argument("name")
@click.option(
    "--user",
    "email",
    default=None,
    help="The staff member the token acts as (needed to send agreements); it stops if "
    "they are disabled.",
)
def api_token_create(name: str, email: str | None) -> None:
    """Make a token named NAME (what uses it) and print it once."""
    from onboarding.db import db
    from onboarding.services.people.accounts import user_by_email
    from onboarding.services.people.api_tokens import TokenError, create_token

    user = None
    if email is not None:
        user = user_by_email(email)
        if user is None or not user.active:
            click.echo(f"user: no active staff account {printable(email)}", err=True)
            sys.exit(2)
    try:
        row, token = create_token(name, user)
    except TokenError as exc:
        click.echo(f"{exc.field}: {exc}", err=True)
        sys.exit(2)
    from onboarding.services.people import security_log

    acting = f", acting as {user.email}" if user is not None else ", without a user"
    security_log.record(
        "api_token_created", subject=row.name, detail=f"starts {row.prefix}{acting}"
    )
    db.session.commit()
    click.echo(
        f"Created API token {row.id} ({printable(row.name)}{acting}). Shown once; keep it secret:"
    )
    click.echo(token)


@api_token.command("list")
def api_token_list() -> None:
    """Every token: id, prefix, name, made, last used, state."""
    from onboarding.services.people.api_tokens import list_tokens

    def when(moment) -> str:
        return f"{moment:%Y-%m-%d %H:%M}" if moment else "never"

    rows = list_tokens()
    if not rows:
        click.echo("No API tokens.")
    for t in rows:
        state = f"revoked {t.revoked_at:%Y-%m-%d}" if t.revoked_at else "active"
        click.echo(
            f"{t.id:>4}  {t.prefix}…  {printable(t.name)}  (made {when(t.created_at)}, "
            f"last used {when(t.last_used_at)}, {state})"
        )


@api_token.command("revoke")
@click.argument("token_id", metavar="ID", type=click.IntRange(1, MAX_ID))
def api_token_revoke(token_id: int) -> None:
    """Revoke the token with this id (see `api-token list`)."""
    from onboarding.db import db
    from onboarding.services.people.api_tokens import revoke_token

    row = revoke_token(token_id)
    if row is None:
        click.echo(f"No API token {token_id}.", err=True)
        sys.exit(2)
    from onboarding.services.people import security_log

    security_log.record("api_token_revoked", subject=row.name, detail=f"starts {row.prefix}")
    db.session.commit()
    click.echo(f"Revoked API token {row.id} ({printable(row.name)}, {row.prefix}…).")


@main.command("worker")
def worker_command() -> None:
    """Send the outbox (email and webhook deliveries), render the PDFs queued (in a lane
    of their own) and run the schedule (draft reminders, staff digests): an RQ worker per
    lane with REDIS_URL, else the in-process loop."""
    import logging

    from onboarding.integrations import worker

    logging.basicConfig(level=logging.INFO)
    app = current_app._get_current_object()
    where = app.config.get("REDIS_URL") or "no REDIS_URL: in-process worker"
    click.echo(f"Worker running ({where.split('@')[-1]}); Ctrl+C stops it.")
    worker.dispatcher(app).run()


@main.command("send-reminders")
def send_reminders_command() -> None:
    """Email a reminder to each prospect whose draft has stood still DRAFT_REMINDER_DAYS
    (at most twice, never after submit, never after they stopped them)."""
    from onboarding.integrations import outbox
    from onboarding.services.notify import reminders

    app = current_app._get_current_object()
    count = reminders.send_reminders()
    days = app.config["DRAFT_REMINDER_DAYS"]
    click.echo(f"Wrote {count} reminder(s) to drafts not saved for {days} days.")
    if count and not outbox.dispatcher(app).drain(timeout=120):
        click.echo("Some are still queued: the worker sends them.", err=True)


def deploy_problems(config: Any, environment: type) -> tuple[list[str], list[str]]:
    """What production needs that the settings lack: ``(errors, warnings)``, each a line
    that starts with the setting's name."""
    from onboarding.web.mailing import check_settings

    errors = list(check_settings(config))
    warnings = []
    base_url = config.get("BASE_URL")
    if not base_url:
        errors.append(
            "BASE_URL is not set: the worker and the reminders build the links in emails "
            "from it (https://onboarding.agency.example)"
        )
    elif not base_url.startswith("https://"):
        warnings.append(f"BASE_URL is {base_url}: production is served over https://")
    if not environment.SECRET_KEY:
        errors.append(
            "SECRET_KEY is not set: the development key in the instance folder differs "
            "on every server"
        )
    if not config.get("MAIL_SERVER"):
        warnings.append("MAIL_SERVER is not set: emails go to the Outbox page and the log, unsent")
    elif not config.get("MAIL_DEFAULT_SENDER"):
        errors.append("MAIL_DEFAULT_SENDER is not set: emails would come from onboarding@localhost")
    if not config.get("TRUSTED_HOSTS"):
        warnings.append("TRUSTED_HOSTS is not set: the app answers to any host name")
    from onboarding.app import shared_limits_missing, worker_count

    if shared_limits_missing(config):
        errors.append(
            f"REDIS_URL is not set: with {worker_count(config)} gunicorn "
            "workers, each counts the rate limits (sign-ins aside) in its own memory, so every "
            "limit is multiplied by the workers; set REDIS_URL (or RATELIMIT_STORAGE_URI="
            "redis://...), or WEB_CONCURRENCY=1"
        )
    if config.get("PREFERRED_URL_SCHEME") != "https":
        errors.append(
            "PREFERRED_URL_SCHEME is not https: session cookies are sent without Secure and "
            "no HSTS header is set"
        )
    if config.get("STAFF_MFA") == "optional":
        warnings.append("STAFF_MFA is optional: admins may sign in with a password alone")
    elif config.get("STAFF_MFA") == "admins":
        warnings.append(
            "STAFF_MFA is admins: managers, who read every prospect's data, may sign in with "
            "a password alone (ASVS 6.3.3 wants all staff on two factors: STAFF_MFA=all)"
        )
    uri = str(config.get("SQLALCHEMY_DATABASE_URI") or "")
    if uri.startswith("sqlite"):
        warnings.append(
            "DATABASE_URL is not set (SQLite in the instance folder): fine for one server; "
            "use PostgreSQL for more"
        )
    from onboarding.services import sealing

    seal_errors, seal_warnings = sealing.deploy_problems(config)  # the agency's certificate
    return errors + seal_errors, warnings + seal_warnings


@main.command("check-deploy")
def check_deploy_command() -> None:
    """Check the settings production needs (exit 1 naming each one missing)."""
    errors, warnings = deploy_problems(current_app.config, settings())
    for line in errors:
        click.echo(f"ERROR   {line}", err=True)
    for line in warnings:
        click.echo(f"WARNING {line}", err=True)
    if errors:
        sys.exit(1)
    click.echo("Ready to deploy" + (" (see the warnings)." if warnings else "."))


@main.command("purge-drafts")
@click.option(
    "--days",
    type=click.IntRange(min=1),
    default=None,
    help="Drafts not saved for this many days (default: DRAFT_RETENTION_DAYS, 90).",
)
def purge_drafts_command(days: int | None) -> None:
    """Delete stale drafts and everything derived from them (a tombstone stays)."""
    from onboarding.services.intake.privacy import purge_drafts

    days = days or current_app.config["DRAFT_RETENTION_DAYS"]
    count = purge_drafts(days)
    click.echo(f"Deleted {count} draft(s) not saved for {days} days.")


@main.group("webhook")
def webhook() -> None:
    """Webhook endpoints: add (the secret shown once), list, remove."""


@webhook.command("add")
@click.argument("url")
@click.option(
    "--events",
    required=True,
    help="Comma-separated events (as on the Webhooks page), or 'all'.",
)
@click.option("--description", default=None, help="What receives them (shown on the page).")
def webhook_add(url: str, events: str, description: str | None) -> None:
    """Register URL for the events and print its signing secret once (an unknown
    event is refused with the list of them)."""
    from onboarding.db import db
    from onboarding.integrations import webhooks

    chosen = [e.strip() for e in events.split(",") if e.strip()]
    if chosen == ["all"]:
        chosen = list(webhooks.EVENTS)
    unknown = [e for e in chosen if e not in webhooks.EVENTS]
    if unknown:
        click.echo(
            f"events: unknown {', '.join(unknown)}; choose from {', '.join(webhooks.EVENTS)}",
            err=True,
        )
        sys.exit(2)
    try:
        endpoint, secret = webhooks.create_endpoint(
            url,
            chosen,
            description,
            None,
            bool(current_app.config.get("WEBHOOK_ALLOW_PRIVATE")),
        )
    except webhooks.WebhookError as exc:
        click.echo(f"{exc.field}: {exc}", err=True)
        sys.exit(2)
    from onboarding.services.people import security_log

    security_log.record(
        "webhook_added", subject=endpoint.url[:254], detail="events: " + ", ".join(endpoint.events)
    )
    db.session.commit()
    click.echo(f"Registered webhook endpoint {endpoint.id}: {endpoint.url}")
    click.echo(f"Events: {', '.join(endpoint.events)}")
    click.echo("Signing secret (Standard Webhooks), shown once; give it to the receiver:")
    click.echo(secret)


@webhook.command("list")
def webhook_list() -> None:
    """Every endpoint: id, URL, events, state, signature scheme."""
    from onboarding.integrations import webhooks

    rows = webhooks.endpoints()
    if not rows:
        click.echo("No webhook endpoints.")
    for e in rows:
        state = "active" if e.active else "disabled"
        scheme = "Standard Webhooks" if e.signing == "standard" else "old signature only"
        click.echo(f"{e.id:>4}  {printable(e.url)}  [{', '.join(e.events)}]  ({state}, {scheme})")


@webhook.command("remove")
@click.argument("endpoint_id", metavar="ID", type=click.IntRange(1, MAX_ID))
def webhook_remove(endpoint_id: int) -> None:
    """Delete the endpoint with this id (see `webhook list`), with its deliveries."""
    from onboarding.db import db
    from onboarding.db.models import WebhookEndpoint

    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        click.echo(f"No webhook endpoint {endpoint_id}.", err=True)
        sys.exit(2)
    url = endpoint.url
    db.session.delete(endpoint)
    from onboarding.services.people import security_log

    security_log.record("webhook_removed", subject=url[:254])
    db.session.commit()
    click.echo(f"Removed webhook endpoint {endpoint_id} ({printable(url)}) and its deliveries.")
