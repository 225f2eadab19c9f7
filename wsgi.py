"""WSGI entry point: ``gunicorn wsgi:app``."""

from onboarding import create_app

app = create_app()
