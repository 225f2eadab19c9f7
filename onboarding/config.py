"""Settings, read from the environment with defaults (see README "Settings").

:class:`Config` is the package's one reader of ``os.environ``: it is read once, when
this module is imported, and reaches everything else through the app's config
(``create_app``) or, for the commands that need no app, through :class:`Config` itself.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _number(name: str, default: float, kind: type = float) -> float:
    """A number from the environment (``default`` when unset or empty); a value that is
    not one is refused with a ValueError naming the setting."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return kind(raw)
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise ValueError(f"{name} must be {what} (got {raw!r})") from None


class Config:
    """Production-ready defaults; every value can be set by an environment variable."""

    SECRET_KEY: str | None = os.environ.get("SECRET_KEY")
    # The instance folder (the SQLite file and the development secret key); None:
    # Flask's default, ``instance/`` beside the package.
    INSTANCE_PATH: str | None = os.environ.get("INSTANCE_PATH") or None
    # None: a SQLite file in the instance folder (filled in by create_app).
    SQLALCHEMY_DATABASE_URI: str | None = os.environ.get("DATABASE_URL")
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    # None: the shipped playbooks (filled in by create_app, which loads them once).
    PLAYBOOKS_DIR: str | None = os.environ.get("PLAYBOOKS_DIR") or None
    AGENCY_NAME: str = os.environ.get("AGENCY_NAME", "Brightline Studio")
    MAX_CONTENT_LENGTH = _number("MAX_CONTENT_LENGTH", 256 * 1024, int)
    WTF_CSRF_TIME_LIMIT = _number("WTF_CSRF_TIME_LIMIT", 3600 * 8, int)
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    PREFERRED_URL_SCHEME = os.environ.get("PREFERRED_URL_SCHEME", "http")
    # Cookies travel over HTTPS only when the site is served over HTTPS.
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", PREFERRED_URL_SCHEME == "https")
    SESSION_IDLE_MINUTES = _number("SESSION_IDLE_MINUTES", 30, int)
    SESSION_MAX_HOURS = _number("SESSION_MAX_HOURS", 12, int)
    INVITE_DAYS = _number("INVITE_DAYS", 30, int)
    # Where rate-limit counters live. Unset: REDIS_URL when it is set (every worker and
    # server shares the counters), else memory:// (each worker process counts alone).
    RATELIMIT_STORAGE_URI: str | None = os.environ.get("RATELIMIT_STORAGE_URI") or None
    RATELIMIT_HEADERS_ENABLED = True
    # gunicorn worker processes per server (`onboarding serve`; gunicorn reads it too):
    # with more than one, per-process rate-limit counters are not enough.
    WEB_CONCURRENCY = _number("WEB_CONCURRENCY", 3, int)
    # gunicorn's own extra arguments: a --workers there is the real count (app.worker_count).
    GUNICORN_CMD_ARGS = os.environ.get("GUNICORN_CMD_ARGS") or ""
    # Failed sign-ins (services.signin), counted in the database by every server alike,
    # for known and unknown emails the same way. One address may fail this often for
    # one account before that pair waits (429); the account stays open to others.
    LOGIN_PAIR_LIMIT = os.environ.get("LOGIN_PAIR_LIMIT") or "10 per 15 minutes"
    # ... and this often over every email before the address waits. LOGIN_LIMIT is its
    # old name, still read.
    LOGIN_ADDRESS_LIMIT = (
        os.environ.get("LOGIN_ADDRESS_LIMIT")
        or os.environ.get("LOGIN_LIMIT")
        or "30 per 15 minutes"
    )
    # Past this many failures to one account, from anywhere, every sign-in to it also
    # needs a second factor (the TOTP, else a code emailed to the owner): guessing stays
    # bounded and the owner still gets in. ACCOUNT_LOCK_ATTEMPTS and
    # ACCOUNT_LOCK_MINUTES are its old names, still read.
    LOGIN_ACCOUNT_CEILING = os.environ.get("LOGIN_ACCOUNT_CEILING") or (
        f"{os.environ.get('ACCOUNT_LOCK_ATTEMPTS')} per "
        f"{os.environ.get('ACCOUNT_LOCK_MINUTES') or 60} minutes"
        if os.environ.get("ACCOUNT_LOCK_ATTEMPTS")
        else "50 per hour"
    )
    # Who must sign in with a TOTP code as well as the password: all (every member of
    # staff: managers read every prospect's data, ASVS 6.3.3), admins, optional.
    STAFF_MFA = (os.environ.get("STAFF_MFA") or "all").strip().lower()
    # Minutes an emailed sign-in code stays valid.
    SIGNIN_CODE_MINUTES = _number("SIGNIN_CODE_MINUTES", 10, int)
    # Drafts a prospect may start, and steps they may save, from one address.
    START_LIMIT = os.environ.get("START_LIMIT") or "10 per minute"
    # Drafts every address together may start (a global cap beside the per-address one).
    START_GLOBAL_LIMIT = os.environ.get("START_GLOBAL_LIMIT") or "300 per minute"
    STEP_LIMIT = os.environ.get("STEP_LIMIT") or "120 per minute"
    # The steps' autosave (a post on each answer changed, issue 26).
    AUTOSAVE_LIMIT = os.environ.get("AUTOSAVE_LIMIT") or "300 per minute"
    # A resume link lapses after this many days without a save (matches the purge).
    RESUME_DAYS = _number("RESUME_DAYS", 90, int)
    # The link to an unsigned agreement lapses this many days after it was sent or
    # renewed (or at the terms' valid_until, if sooner); a signed one stays reachable.
    SIGNING_DAYS = _number("SIGNING_DAYS", 30, int)
    # Days a client's project link lasts after it was last renewed (each update email).
    PROJECT_LINK_DAYS = _number("PROJECT_LINK_DAYS", 365, int)
    # Largest PDF the workspace's Verify takes (the route alone: its hash is streamed).
    VERIFY_MAX_BYTES = _number("VERIFY_MAX_BYTES", 32 * 1024 * 1024, int)
    # The public verification page's upload (a PDF we issue is well under this).
    PUBLIC_VERIFY_MAX_BYTES = _number("PUBLIC_VERIFY_MAX_BYTES", 8 * 1024 * 1024, int)
    PUBLIC_VERIFY_LIMIT = os.environ.get("PUBLIC_VERIFY_LIMIT") or "20 per hour"
    # The agency's seal on every PDF issued as a record (services.sealing): a PKCS#12
    # file and its password; unset, a self-signed certificate in the instance folder.
    SIGNING_CERT_FILE: str | None = os.environ.get("SIGNING_CERT_FILE") or None
    SIGNING_CERT_PASSWORD: str | None = os.environ.get("SIGNING_CERT_PASSWORD") or None
    # An RFC 3161 timestamp authority: the seal becomes PAdES B-T.
    SIGNING_TSA_URL: str | None = os.environ.get("SIGNING_TSA_URL") or None
    # scrypt with N = 2^17 (OWASP ASVS 5.0: werkzeug's default N = 2^15 is below it).
    PASSWORD_HASH_METHOD = os.environ.get("PASSWORD_HASH_METHOD", "scrypt:131072:8:1")
    PER_PAGE = _number("PER_PAGE", 25, int)
    DRAFT_RETENTION_DAYS = _number("DRAFT_RETENTION_DAYS", 90, int)
    # Host names the app answers to (comma-separated); links in emails and pages are
    # built from the request's host, so production should list its own.
    TRUSTED_HOSTS = [
        h.strip() for h in os.environ.get("TRUSTED_HOSTS", "").split(",") if h.strip()
    ] or None
    # Reverse proxies in front of the app whose X-Forwarded-* headers are trusted.
    PROXY_COUNT = _number("PROXY_COUNT", 0, int)
    # The JSON API and webhooks (README "API and webhooks").
    API_PUBLIC = _bool("API_PUBLIC", False)
    API_RATE_LIMIT = os.environ.get("API_RATE_LIMIT", "300 per minute")
    REDIS_URL: str | None = os.environ.get("REDIS_URL") or None
    WEBHOOK_ALLOW_PRIVATE = _bool("WEBHOOK_ALLOW_PRIVATE", False)
    WEBHOOK_TIMEOUT = _number("WEBHOOK_TIMEOUT", 10)
    WEBHOOK_MAX_ATTEMPTS = _number("WEBHOOK_MAX_ATTEMPTS", 6, int)
    WEBHOOK_BACKOFF = _number("WEBHOOK_BACKOFF", 60)
    WEBHOOK_SWEEP_SECONDS = _number("WEBHOOK_SWEEP_SECONDS", 60)
    # Email (README "Mail"): messages are written to the outbox with the change that
    # causes them and sent by the worker through MAIL_SERVER; unset, they are written,
    # logged (whom and which kind only) and kept for the workspace's Outbox page.
    MAIL_SERVER: str | None = os.environ.get("MAIL_SERVER") or None
    MAIL_PORT = _number("MAIL_PORT", 0, int)  # 0: 465 with MAIL_USE_SSL, 587 with TLS, else 25
    MAIL_USERNAME: str | None = os.environ.get("MAIL_USERNAME") or None
    MAIL_PASSWORD: str | None = os.environ.get("MAIL_PASSWORD") or None
    MAIL_USE_TLS = _bool("MAIL_USE_TLS", False)
    MAIL_USE_SSL = _bool("MAIL_USE_SSL", False)
    MAIL_DEFAULT_SENDER: str | None = os.environ.get("MAIL_DEFAULT_SENDER") or None
    MAIL_TIMEOUT = _number("MAIL_TIMEOUT", 10)
    MAIL_MAX_ATTEMPTS = _number("MAIL_MAX_ATTEMPTS", 6, int)
    MAIL_BACKOFF = _number("MAIL_BACKOFF", 60)
    MAIL_SWEEP_SECONDS = _number("MAIL_SWEEP_SECONDS", 60)
    MAIL_LINK_PER_INTAKE = _number("MAIL_LINK_PER_INTAKE", 3, int)
    MAIL_LINK_PER_ADDRESS = _number("MAIL_LINK_PER_ADDRESS", 5, int)
    # The public address links in emails are built from (the worker has no request):
    # https://onboarding.agency.example; required in production.
    BASE_URL: str | None = (os.environ.get("BASE_URL") or "").strip() or None
    DRAFT_REMINDER_DAYS = _number("DRAFT_REMINDER_DAYS", 3, int)
    DRAFT_REMINDER_SWEEP_SECONDS = _number("DRAFT_REMINDER_SWEEP_SECONDS", 3600)
    # Who hears of an intake with no owner: managers (every active manager, else every
    # admin), admins, or none. Staff who chose a daily digest get it after DIGEST_HOUR
    # (UTC), on the worker's schedule (DRAFT_REMINDER_SWEEP_SECONDS).
    NOTIFY_UNOWNED = (os.environ.get("NOTIFY_UNOWNED") or "managers").strip().lower()
    DIGEST_HOUR = _number("DIGEST_HOUR", 8, int)
    # PDF renders run in a worker process with caps (onboarding.rendering.isolation, whose
    # RENDER_* defaults these repeat): seconds per render, the worker's address space in
    # MiB (0: no cap), renders before a worker is replaced (0: never). Checked by
    # rendering.isolation.configure, which create_app calls.
    PDF_RENDER_TIMEOUT = _number("PDF_RENDER_TIMEOUT", 20.0)
    # Agreements rendered in the background when what they are made from changes (the
    # outbox worker's render channel), so downloads, sends and signing pages find them.
    PRERENDER = _bool("PRERENDER", True)
    PDF_RENDER_MEMORY_MB = _number("PDF_RENDER_MEMORY_MB", 1024)
    # Seconds a write that meets a locked SQLite database is retried (the whole request,
    # rolled back each time) before the answer is a 503 that keeps the input (web.busy).
    DB_BUSY_SECONDS = _number("DB_BUSY_SECONDS", 15.0)
    PDF_RENDER_MAX_RENDERS = _number("PDF_RENDER_MAX_RENDERS", 500)


class TestConfig(Config):
    """For the test suite: a throwaway key, the database given by the tests."""

    TESTING = True
    SECRET_KEY = "test-secret-key"  # noqa: S105 - tests only
    WTF_CSRF_ENABLED = True
    # The suite's staff sign in with a password alone; the MFA tests set admins/all.
    STAFF_MFA = "optional"
    RATELIMIT_STORAGE_URI = "memory://"  # never the environment's Redis
    PASSWORD_HASH_METHOD = "scrypt:16384:8:1"  # noqa: S105 - fast in tests; production N = 2^17
    DRAFT_REMINDER_SWEEP_SECONDS = 0  # tests run the reminders themselves
    MAIL_SERVER = None  # never the environment's: a test that sends names its own server
    PRERENDER = False  # jobs are written; tests that want them rendered turn this on
    BASE_URL = None


LEGACY = {
    "LOGIN_LIMIT": "LOGIN_ADDRESS_LIMIT",
}
"""Old setting names still accepted in a settings mapping: old -> new."""


def resolve_legacy(overrides: dict) -> dict:
    """``overrides`` (a mapping of settings given to create_app) with the old names of
    issue 17 turned into the new ones, unless the new one is given a value of its own."""
    out = dict(overrides)

    def unset(name: str) -> bool:  # not given, or given as the default
        return out.get(name) in (None, getattr(Config, name))

    for old, new in LEGACY.items():
        if out.get(old) and unset(new):
            out[new] = out[old]
    if out.get("ACCOUNT_LOCK_ATTEMPTS") and unset("LOGIN_ACCOUNT_CEILING"):
        minutes = out.get("ACCOUNT_LOCK_MINUTES") or 60
        out["LOGIN_ACCOUNT_CEILING"] = f"{out['ACCOUNT_LOCK_ATTEMPTS']} per {minutes} minutes"
    return out


def instance_secret_key(instance_path: str) -> str:
    """A development secret kept in the instance folder, made on first use.

    Used only when ``SECRET_KEY`` is not set, so that ``make run`` works out of the box
    and every worker process shares one key. Production sets ``SECRET_KEY``.
    """
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()
