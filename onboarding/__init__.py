"""Client onboarding for agencies: intake, explainable fit assessment, agreements.

``onboarding.assess(answers)`` is the public entry point of the domain;
``onboarding.create_app(config=None)`` builds the web application.

Both are imported on first use: a process that needs one part of the package (the render
worker needs the renderer alone) does not pay for importing the rest.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from onboarding.domain.assessment import assess
    from onboarding.domain.questionnaire import AnswersInvalid, FieldError

__all__ = ["AnswersInvalid", "FieldError", "assess", "create_app"]


def create_app(config: Any = None):
    """Build the Flask application (imported lazily so the domain never needs Flask)."""
    from onboarding.app import create_app as _create_app

    return _create_app(config)


def __getattr__(name: str) -> Any:
    if name == "assess":
        from onboarding.domain.assessment import assess

        return assess
    if name in ("AnswersInvalid", "FieldError"):
        from onboarding.domain import questionnaire

        return getattr(questionnaire, name)
    raise AttributeError(f"module 'onboarding' has no attribute {name!r}")
