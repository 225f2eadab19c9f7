"""The links emails carry, built from the app's routes and ``BASE_URL``, and the
:class:`~onboarding.services.notify.mail.Mailer` the app binds to the mail services once,
when it starts (``app.register_subscribers``): built from the current app when a message
is written.

Links are absolute and built the same way in a request, a command and the worker:
from ``BASE_URL`` (the public address, behind any proxy). Without it, a request uses its
own address (right on a laptop; production sets ``BASE_URL``, and ``onboarding
check-deploy`` says so) and a command or the worker ``http://localhost:5000``.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import Flask, current_app, has_request_context, request
from werkzeug.routing import MapAdapter

from onboarding.services.notify.mail import UNOWNED_CHOICES, Mailer, MailSettings


@dataclass(frozen=True)
class AppLinks:
    """:class:`onboarding.services.notify.mail.Links` over an app's URL map."""

    adapter: MapAdapter

    def _build(self, endpoint: str, **values: str) -> str:
        return self.adapter.build(endpoint, values, force_external=True)

    def resume(self, token: str) -> str:
        return self._build("intake.resume", token=token)

    def stop_reminders(self, stop_token: str) -> str:
        return self._build("intake.stop_reminders", stop_token=stop_token)

    def workspace_intake(self, public_id: str) -> str:
        return self._build("manager.intake", public_id=public_id)

    def agreement(self, token: str) -> str:
        return self._build("signing.view", token=token)

    def account(self) -> str:
        return self._build("account.index")

    def project(self, token: str) -> str:
        return self._build("project.view", token=token)

    def invite(self, token: str) -> str:
        return self._build("pages.invite", token=token)


def base_url(app: Flask) -> str:
    """``BASE_URL``; else, in a request, the request's own root; else localhost."""
    configured = (app.config.get("BASE_URL") or "").strip()
    if configured:
        return configured.rstrip("/")
    if has_request_context():
        return request.url_root.rstrip("/")
    return "http://localhost:5000"


def links(app: Flask | None = None) -> AppLinks:
    """The app's absolute links (the current app when None)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    parts = urlsplit(base_url(app))
    adapter = app.url_map.bind(
        parts.netloc,
        script_name=parts.path or "/",
        url_scheme=parts.scheme or "https",
    )
    return AppLinks(adapter)


def mailer(app: Flask | None = None) -> Mailer:
    """What the mail services need, from the app's settings (the current app when None)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    return Mailer(MailSettings.from_config(app.config, base_url(app)), links(app))


def check_settings(config) -> list[str]:
    """Problems with the mail settings that stop the app (each names its setting)."""
    problems = []
    if config.get("MAIL_USE_TLS") and config.get("MAIL_USE_SSL"):
        problems.append(
            "MAIL_USE_TLS (STARTTLS) and MAIL_USE_SSL (TLS from the start) exclude each "
            "other: set one"
        )
    url = (config.get("BASE_URL") or "").strip()
    if url:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            problems.append(f"BASE_URL must be an http:// or https:// address (got {url!r})")
        elif parts.query or parts.fragment:
            problems.append(f"BASE_URL must have no query or fragment (got {url!r})")
    unowned = config.get("NOTIFY_UNOWNED") or "managers"
    if unowned not in UNOWNED_CHOICES:
        problems.append(
            f"NOTIFY_UNOWNED must be one of {', '.join(UNOWNED_CHOICES)} (got {unowned!r})"
        )
    hour = config.get("DIGEST_HOUR", 8)
    if not isinstance(hour, int) or not 0 <= hour <= 23:
        problems.append(f"DIGEST_HOUR must be an hour from 0 to 23 (got {hour!r})")
    return problems


def init_app(app: Flask) -> None:
    """Check the mail settings (a ValueError names a bad one) and warn, outside debug
    and tests, when ``BASE_URL`` is missing."""
    problems = check_settings(app.config)
    if problems:
        raise ValueError("; ".join(problems))
    if not app.config.get("BASE_URL") and not app.debug and not app.testing:
        app.logger.warning(
            "BASE_URL is not set: links in emails use each request's address, and the "
            "worker's reminders use http://localhost:5000. Set it to the public address "
            "(onboarding check-deploy lists what production needs)."
        )
