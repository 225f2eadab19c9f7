"""Read by gunicorn when it starts in this folder (``gunicorn wsgi:app``): the app's hooks."""

from onboarding.gunicorn_conf import post_worker_init  # noqa: F401
