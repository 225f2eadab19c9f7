"""Settings, read from the environment with defaults (see README "Settings")."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


class Config:
    """Production-ready defaults; every value can be set by an environment variable."""

    SECRET_KEY: str | None = os.environ.get("SECRET_KEY")
    # None: a SQLite file in the instance folder (filled in by create_app).
    SQLALCHEMY_DATABASE_URI: str | None = os.environ.get("DATABASE_URL")
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    PLAYBOOKS_DIR: str | None = os.environ.get("PLAYBOOKS_DIR")
    AGENCY_NAME: str = os.environ.get("AGENCY_NAME", "Brightline Studio")
    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_CONTENT_LENGTH", 256 * 1024))
    WTF_CSRF_TIME_LIMIT = int(os.environ.get("WTF_CSRF_TIME_LIMIT", 3600 * 8))
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    PREFERRED_URL_SCHEME = os.environ.get("PREFERRED_URL_SCHEME", "http")
    # Cookies travel over HTTPS only when the site is served over HTTPS.
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", PREFERRED_URL_SCHEME == "https")
    SESSION_IDLE_MINUTES = int(os.environ.get("SESSION_IDLE_MINUTES", 30))
    SESSION_MAX_HOURS = int(os.environ.get("SESSION_MAX_HOURS", 12))
    INVITE_DAYS = int(os.environ.get("INVITE_DAYS", 30))
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_LIMIT = os.environ.get("LOGIN_LIMIT", "10 per 15 minutes")
    LOGIN_FAILURE_DELAY = float(os.environ.get("LOGIN_FAILURE_DELAY", 0.5))
    # Per account, whatever the address: after this many failures in the window the
    # account refuses sign-in (429) until the window has passed.
    ACCOUNT_LOCK_ATTEMPTS = int(os.environ.get("ACCOUNT_LOCK_ATTEMPTS", 10))
    ACCOUNT_LOCK_MINUTES = int(os.environ.get("ACCOUNT_LOCK_MINUTES", 15))
    # scrypt with N = 2^17 (OWASP ASVS 5.0: werkzeug's default N = 2^15 is below it).
    PASSWORD_HASH_METHOD = os.environ.get("PASSWORD_HASH_METHOD", "scrypt:131072:8:1")
    PER_PAGE = int(os.environ.get("PER_PAGE", 25))
    DRAFT_RETENTION_DAYS = int(os.environ.get("DRAFT_RETENTION_DAYS", 90))
    # Host names the app answers to (comma-separated); links in emails and pages are
    # built from the request's host, so production should list its own.
    TRUSTED_HOSTS = [
        h.strip() for h in os.environ.get("TRUSTED_HOSTS", "").split(",") if h.strip()
    ] or None
    # Reverse proxies in front of the app whose X-Forwarded-* headers are trusted.
    PROXY_COUNT = int(os.environ.get("PROXY_COUNT", 0))
    # The JSON API and webhooks (README "API and webhooks").
    API_PUBLIC = _bool("API_PUBLIC", False)
    API_RATE_LIMIT = os.environ.get("API_RATE_LIMIT", "300 per minute")
    REDIS_URL: str | None = os.environ.get("REDIS_URL") or None
    WEBHOOK_ALLOW_PRIVATE = _bool("WEBHOOK_ALLOW_PRIVATE", False)
    WEBHOOK_TIMEOUT = float(os.environ.get("WEBHOOK_TIMEOUT", 10))
    WEBHOOK_MAX_ATTEMPTS = int(os.environ.get("WEBHOOK_MAX_ATTEMPTS", 6))
    WEBHOOK_BACKOFF = float(os.environ.get("WEBHOOK_BACKOFF", 60))
    WEBHOOK_SWEEP_SECONDS = float(os.environ.get("WEBHOOK_SWEEP_SECONDS", 60))


class TestConfig(Config):
    """For the test suite: a throwaway key, the database given by the tests."""

    TESTING = True
    SECRET_KEY = "test-secret-key"  # noqa: S105 - tests only
    WTF_CSRF_ENABLED = True
    LOGIN_FAILURE_DELAY = 0.0
    PASSWORD_HASH_METHOD = "scrypt:16384:8:1"  # noqa: S105 - fast in tests; production N = 2^17


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
