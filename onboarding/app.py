"""The application factory: config, playbooks, extensions, blueprints, errors, hooks.

The commands are :mod:`onboarding.cli` (a FlaskGroup over this factory); ``flask --app
onboarding`` finds them through the ``flask.commands`` entry points (pyproject.toml).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, Request, current_app, request
from werkzeug.datastructures import ImmutableMultiDict, iter_multi_items
from werkzeug.routing import IntegerConverter, ValidationError
from werkzeug.utils import import_string

from onboarding.config import Config, instance_secret_key, resolve_legacy
from onboarding.db import contracts as _contracts  # noqa: F401 - registers its tables
from onboarding.db import db
from onboarding.db import outbox as _outbox  # noqa: F401 - registers its tables
from onboarding.db import renders as _renders  # noqa: F401 - registers its tables
from onboarding.db.engine import MIGRATIONS, begin_write
from onboarding.domain.playbooks import default_playbooks_dir, get_playbooks
from onboarding.domain.questionnaire import get_questionnaire
from onboarding.domain.resources import project_dir
from onboarding.domain.text import MAX_ID, printable
from onboarding.rendering.isolation import configure as configure_renders
from onboarding.services.sealing import configure as configure_sealing
from onboarding.web import warmup
from onboarding.web.extensions import AppState, csrf, limiter, login_manager, migrate

PACKAGE = Path(__file__).resolve().parent


class TextOnlyMultiDict(ImmutableMultiDict):
    """Form and query values without NUL characters: no person types one, and
    PostgreSQL refuses them in text, so they are dropped as the request is parsed."""

    def __init__(self, mapping=None):
        if mapping is not None:
            mapping = [
                (
                    key.replace("\x00", ""),
                    value.replace("\x00", "") if isinstance(value, str) else value,
                )
                for key, value in iter_multi_items(mapping)
            ]
        super().__init__(mapping)


LARGE_UPLOADS = {
    "manager.verify": ("VERIFY_MAX_BYTES", True),
    "public_verify.verify": ("PUBLIC_VERIFY_MAX_BYTES", False),
}
"""Endpoints that take a body larger than ``MAX_CONTENT_LENGTH``: their setting, and
whether only signed-in staff get it (the public page takes a PDF's size from anyone)."""


class OnboardingRequest(Request):
    parameter_storage_class = TextOnlyMultiDict

    @property
    def max_content_length(self) -> int | None:  # type: ignore[override]
        """``MAX_CONTENT_LENGTH``, except on the routes of :data:`LARGE_UPLOADS` for a
        signed-in member of staff (the workspace's Verify takes a genuine PDF of several
        MiB; anyone else gets the ordinary limit) and on the public verification page
        (a PDF's size, ``PUBLIC_VERIFY_MAX_BYTES``, for anyone). Decided by the route
        and the session cookie, so it holds before anything reads the body (the CSRF
        check reads the form): an upload past it is refused (413) before any of it is
        spooled to disk."""
        large = LARGE_UPLOADS.get(self.url_rule.endpoint) if self.url_rule else None
        if self._max_content_length is None and large and current_app:
            from flask_login import current_user

            setting, staff_only = large
            if not staff_only or current_user.is_authenticated:
                return int(current_app.config[setting])
        return Request.max_content_length.fget(self)

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value


class BoundedIntConverter(IntegerConverter):
    """``<int:...>`` in every route: a whole number that fits a 64-bit id column; a
    longer or larger one is a 404, never an OverflowError from the database."""

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_ID, signed=False):  # noqa: A002
        super().__init__(map, fixed_digits, min, max, signed)

    def to_python(self, value: str):
        if len(value) > 19:
            raise ValidationError()
        return super().to_python(value)


def install_log_guard() -> None:
    """Every log record's string arguments pass through ``printable``: CR, LF, ESC and
    the other control characters a visitor sends (in a path, an email) are shown as
    escapes, so no request can forge a log line or drive a terminal (issue 17, finding 5).
    Installed once per process."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "onboarding_guard", False):
        return

    def clean(value):
        return printable(value, limit=8000) if isinstance(value, str) else value

    def factory(*args, **kwargs):
        record = previous(*args, **kwargs)
        if isinstance(record.args, tuple):
            record.args = tuple(clean(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: clean(v) for k, v in record.args.items()}
        return record

    factory.onboarding_guard = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


def private_sqlite_file(uri: str) -> None:
    """Create the SQLite file of ``uri`` readable by its owner alone (0600) before SQLite
    does (it would use the umask, commonly 0644); its WAL files take the same mode."""
    prefix = "sqlite:///"
    if not uri.startswith(prefix):
        return
    path = uri[len(prefix) :].split("?")[0]
    if not path or path == ":memory:":
        return
    file = Path(path)
    if not file.exists():
        file.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(file, os.O_CREAT | os.O_WRONLY, 0o600))


def settings_of(config: Any) -> dict[str, Any]:
    """The settings in ``config``: a mapping, an object or an import path (upper-case
    names only for the last two, as ``Config.from_object`` takes them)."""
    if config is None:
        return {}
    if isinstance(config, Mapping):
        return dict(config)
    if isinstance(config, str):
        config = import_string(config)
    return {key: getattr(config, key) for key in dir(config) if key.isupper()}


def create_app(config: Any = None) -> Flask:
    """Build the app. ``config`` is a mapping or object overriding :class:`Config`.

    Raises PlaybookError (listing every problem) when the playbooks do not load.
    """
    settings = {key: getattr(Config, key) for key in dir(Config) if key.isupper()}
    settings |= resolve_legacy(settings_of(config))
    # Rate-limit counters: shared through Redis whenever there is one.
    if not settings.get("RATELIMIT_STORAGE_URI"):
        settings["RATELIMIT_STORAGE_URI"] = settings.get("REDIS_URL") or "memory://"
    app = Flask(
        __name__,
        template_folder=str(project_dir("templates")),
        instance_path=settings["INSTANCE_PATH"] or None,
        instance_relative_config=True,
    )
    app.request_class = OnboardingRequest
    app.url_map.converters["int"] = BoundedIntConverter
    install_log_guard()
    app.config.update(settings)
    app.config["INSTANCE_PATH"] = app.instance_path
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = instance_secret_key(app.instance_path)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        path = Path(app.instance_path) / "onboarding.db"
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{path}"
    private_sqlite_file(app.config["SQLALCHEMY_DATABASE_URI"])
    from onboarding.services.people.signin import check_settings as check_signin

    problems = check_signin(app.config)
    if problems:
        raise ValueError("; ".join(problems))
    if shared_limits_missing(app.config) and not app.testing:
        logging.getLogger(__name__).warning(
            "Rate limits are counted in each worker's memory (RATELIMIT_STORAGE_URI=memory://) "
            "with %s workers: every limit is multiplied by the workers. Set "
            "REDIS_URL (or RATELIMIT_STORAGE_URI=redis://...); onboarding check-deploy fails "
            "until then.",
            worker_count(app.config),
        )

    # Load and check the questionnaire and playbooks now: a broken playbook stops the
    # app at start (with every problem listed), never a prospect's request later. The
    # playbooks belong to this app; views and commands pass them to the services.
    get_questionnaire()
    directory = Path(app.config.get("PLAYBOOKS_DIR") or default_playbooks_dir())
    app.config["PLAYBOOKS_DIR"] = str(directory)
    app.extensions["onboarding"] = AppState(playbooks=get_playbooks(directory))
    # The PDF renders' caps (one render worker per process).
    configure_renders(
        timeout=app.config["PDF_RENDER_TIMEOUT"],
        memory_mb=app.config["PDF_RENDER_MEMORY_MB"],
        max_renders=app.config["PDF_RENDER_MAX_RENDERS"],
    )
    configure_sealing(app.config)  # the agency's seal on record PDFs (loaded on first use)

    if app.config.get("PROXY_COUNT"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)

    from onboarding.domain.text import full_stop

    app.jinja_env.filters["full_stop"] = full_stop  # "… for Northwind Tea Co." (never "Co..")
    register_extensions(app)
    register_blueprints(app)
    register_errors(app)
    register_hooks(app)
    register_subscribers(app)
    warmup.install(app)
    return app


def worker_count(config: Mapping[str, Any]) -> int:
    """The gunicorn worker processes that serve: a ``--workers``/``-w`` in
    ``GUNICORN_CMD_ARGS`` (gunicorn obeys it), else ``WEB_CONCURRENCY`` (gunicorn's
    default, and what ``onboarding serve --workers N`` sets for its workers)."""
    found = re.search(
        r"(?:^|\s)(?:-w|--workers)(?:=|\s*)(\d+)", str(config.get("GUNICORN_CMD_ARGS") or "")
    )
    return int(found.group(1)) if found else int(config.get("WEB_CONCURRENCY") or 1)


def shared_limits_missing(config: Mapping[str, Any], workers: int | None = None) -> bool:
    """Whether rate-limit counters live in each process's memory while several worker
    processes serve (so each counts alone, and a limit of 10 lets 10 per worker pass)."""
    storage = str(config.get("RATELIMIT_STORAGE_URI") or "memory://")
    count = worker_count(config) if workers is None else workers
    return storage.startswith("memory://") and count > 1


def register_extensions(app: Flask) -> None:
    """Bind the extensions of :mod:`.extensions` to this app."""
    db.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to open that page."
    login_manager.session_protection = "basic"

    from onboarding.services.people.accounts import load_user

    login_manager.user_loader(load_user)
    migrate.init_app(app, db, directory=str(MIGRATIONS))


def register_blueprints(app: Flask) -> None:
    """One blueprint per web module."""
    from onboarding.integrations import outbox, webhooks, worker  # noqa: F401 - channels register
    from onboarding.services.agreement import prerender
    from onboarding.web import mailing
    from onboarding.web.api import docs as api_docs
    from onboarding.web.api import views as api
    from onboarding.web.public import intake, pages, signing
    from onboarding.web.public import project as client_project
    from onboarding.web.public import verify as public_verify
    from onboarding.web.workspace import (
        account,
        auth,
        contracts,
        dashboard,
        invites,
        judgement,
        manager,
        security,
        sending,
    )
    from onboarding.web.workspace import outbox as outbox_page
    from onboarding.web.workspace import project as staff_project

    app.register_blueprint(pages.bp)
    app.register_blueprint(intake.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(dashboard.bp)
    app.register_blueprint(manager.bp)
    app.register_blueprint(invites.bp)
    app.register_blueprint(security.bp)
    app.register_blueprint(judgement.bp)
    app.register_blueprint(contracts.bp)
    app.register_blueprint(sending.bp)
    app.register_blueprint(signing.bp)
    app.register_blueprint(public_verify.bp)
    app.register_blueprint(outbox_page.bp)
    app.register_blueprint(account.bp)
    app.register_blueprint(client_project.bp)
    app.register_blueprint(staff_project.bp)
    # The prospect's pages check CSRF in their views, so an expired token shows what
    # they typed back instead of an error page (nothing typed is ever thrown away).
    csrf.exempt(intake.bp)
    csrf.exempt(signing.bp)
    csrf.exempt(client_project.bp)
    # The JSON API: bearer tokens only (never the session cookie), so no CSRF; the
    # reference at /api/docs; the admins' token and webhook pages (CSRF as usual).
    app.register_blueprint(api.bp)
    app.register_blueprint(api_docs.bp)
    app.register_blueprint(api_docs.admin)
    csrf.exempt(api.bp)
    # One outbox for email and webhook deliveries: RQ with REDIS_URL, else an in-process
    # worker started lazily; the mail settings checked.
    mailing.init_app(app)
    worker.init_app(app)
    # Agreements rendered ahead of the requests that want them (the render channel).
    worker.register(
        prerender.channel(
            agency=lambda: current_app.config["AGENCY_NAME"],
            enabled=lambda: bool(current_app.config.get("PRERENDER", True)),
        )
    )


def register_subscribers(app: Flask) -> None:
    """Connect the side effects to what the use cases announce
    (:mod:`onboarding.services.signals`): the webhooks, the emails (their settings and
    links the current app's, bound here once) and the render queue. Connecting twice is
    a no-op, so every app the process builds shares them."""
    from onboarding.services.agreement import prerender
    from onboarding.services.notify import agreement_mail, mail, project_mail, prospect, webhooks
    from onboarding.services.project import state as projects
    from onboarding.web import mailing

    mail.bind(mailing.mailer)  # the current app's settings and links, when a message is written
    webhooks.subscribe()
    mail.subscribe()
    agreement_mail.subscribe()
    project_mail.subscribe()
    projects.subscribe()
    prospect.subscribe()  # the prospect's receipt of acceptance, the manager's replies
    prerender.subscribe()


def register_errors(app: Flask) -> None:
    """Rendered error pages for 400/403/404/405/413/429/500, never a traceback."""
    from onboarding.web import busy, errors

    errors.init_app(app)
    busy.init_app(app)


WRITES = ("POST", "PUT", "PATCH", "DELETE")


def register_hooks(app: Flask) -> None:
    """Per-request behaviour: POSTs write, so they start a write transaction."""

    from onboarding.web.workspace.auth import enforce_mfa_enrolment, enforce_session_limits

    @app.before_request
    def _write_transaction() -> None:
        # A view that renders a PDF first begins its write transaction itself, after the
        # render (web.writing.renders_before_writing): no render holds the lock.
        # Every writing method takes the lock first: SQLite refuses at once a transaction
        # that read and then writes while another connection writes (web.busy).
        view = app.view_functions.get(request.endpoint)
        if request.method in WRITES and not getattr(view, "renders_before_writing", False):
            begin_write(db.session())

    app.before_request(enforce_session_limits)
    app.before_request(enforce_mfa_enrolment)

    @app.after_request
    def _headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        # Pages with prospects' data are never kept by browsers or shared caches.
        if request.path.startswith(("/workspace", "/intake/", "/agreement/", "/invite/")):
            response.headers.setdefault("Cache-Control", "no-store")
        if request.is_secure or app.config["PREFERRED_URL_SCHEME"] == "https":
            response.headers.setdefault(
                "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
            )
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; object-src 'none'; "
            "base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
        )
        return response

    @app.context_processor
    def _globals() -> dict[str, Any]:
        from sqlalchemy.exc import SQLAlchemyError

        from onboarding.services.profile import installation_profile

        # The agency's name is its profile's trading name (AGENCY_NAME only seeds it);
        # an error page shown because the database is down still has a name.
        try:
            name = installation_profile(app.config["AGENCY_NAME"]).profile.trading_name
        except SQLAlchemyError:
            db.session.rollback()
            name = app.config["AGENCY_NAME"]
        return {"agency_name": name}

    if not app.debug and not app.testing:
        logging.basicConfig(level=logging.INFO)
