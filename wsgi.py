"""WSGI entry point: ``gunicorn wsgi:app``.

Started in the project folder, gunicorn reads ``gunicorn.conf.py``, whose hook makes
each worker ready (templates, render worker) before its first request; elsewhere pass
``--config python:onboarding.gunicorn_conf``."""

from onboarding import create_app

app = create_app()
