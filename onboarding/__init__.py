"""Client onboarding for agencies: intake, explainable fit assessment, agreements.

``onboarding.assess(answers)`` is the public entry point of the domain;
``onboarding.create_app(config=None)`` builds the web application.
"""

from __future__ import annotations

from typing import Any

from onboarding.domain.assessment import assess
from onboarding.domain.questionnaire import AnswersInvalid, FieldError

__all__ = ["AnswersInvalid", "FieldError", "assess", "create_app"]


def create_app(config: Any = None):
    """Build the Flask application (imported lazily so the domain never needs Flask)."""
    from onboarding.app import create_app as _create_app

    return _create_app(config)
