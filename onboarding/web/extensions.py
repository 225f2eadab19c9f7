"""Unbound request-side Flask extensions, initialised in the factory, and what the
factory loads once for the app (:class:`AppState`, ``app.extensions["onboarding"]``)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app, has_app_context
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect

from onboarding.domain.playbooks import PlaybookSet

csrf = CSRFProtect()
migrate = Migrate()
login_manager = LoginManager()
# Storage comes from RATELIMIT_STORAGE_URI (memory:// by default, redis://... to share
# counters between app servers); no limit applies unless a view asks for one.
limiter = Limiter(key_func=get_remote_address, default_limits=[])


@dataclass(frozen=True)
class AppState:
    """What ``create_app`` loads once and the app's requests and commands share.

    ``playbooks``: the compiled playbooks of the app's ``PLAYBOOKS_DIR``. They belong to
    the app, so two apps in one process (tests, or two agencies) each keep their own.
    """

    playbooks: PlaybookSet


def app_playbooks(app: Flask | None = None) -> PlaybookSet:
    """The playbooks of ``app`` (the current app when None): pass them to the services."""
    state: AppState = (current_app if app is None else app).extensions["onboarding"]
    if not has_app_context():
        return state.playbooks
    from onboarding.services.intake.playbook_editor import effective  # the editor's saved edits

    return effective(state.playbooks)
