"""A gunicorn worker is made ready before its first request (issue 28)."""

from types import SimpleNamespace

from flask import Flask

from onboarding.gunicorn_conf import post_worker_init
from onboarding.rendering import documents
from onboarding.rendering.isolation import get_renderer
from onboarding.services.notify import mail


def test_the_worker_hook_compiles_every_template_and_starts_the_render_worker(app):
    renderer = get_renderer()
    renderer.start()  # a worker that ran before and was stopped (its facts kept)
    renderer.close()
    app.jinja_env.cache.clear()
    try:
        post_worker_init(SimpleNamespace(wsgi=app, pid=1))
        pages = [n for n in app.jinja_env.list_templates() if not n.startswith("email/")]
        assert len(app.jinja_env.cache) >= len(pages) > 10
        assert len(mail.environment().cache) > 0
        assert len(documents.environment().cache) > 0
        assert renderer.pid is not None  # WeasyPrint imported, stylesheet parsed
        assert app.extensions["onboarding.warm"]
    finally:
        renderer.close()


def test_the_hook_leaves_other_apps_alone():
    other = Flask("other")
    post_worker_init(SimpleNamespace(wsgi=other, pid=1))
    post_worker_init(SimpleNamespace(wsgi=None, pid=1))
    assert "onboarding.warm" not in other.extensions
