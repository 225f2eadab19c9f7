"""Error pages: rendered, with the right status, never a traceback."""

from __future__ import annotations

from onboarding.db import db
from onboarding.rendering.pdf import RenderTimeout
from onboarding.services.agreement import compose as agreements
from onboarding.services.intake.submission import create_intake, submit_intake
from onboarding.services.people.accounts import create_user
from onboarding.web.extensions import app_playbooks
from tests.factories import PASSWORD, example, login, make_app


def test_unknown_page_is_a_rendered_404(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404 and "Page not found" in response.text


def test_wrong_method_is_a_rendered_405(client):
    response = client.get("/logout")
    assert response.status_code == 405 and "<html" in response.text


def test_a_too_large_request_is_a_rendered_413(client):
    response = client.post("/start", data={"x": "a" * 400_000})
    assert response.status_code == 413 and "too much" in response.text


def test_an_unexpected_error_is_a_rendered_500_without_traceback(database_url, tmp_path):
    app = make_app(database_url, str(tmp_path), PROPAGATE_EXCEPTIONS=False)

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret detail")

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    assert "something went wrong" in response.text
    assert "secret detail" not in response.text and "Traceback" not in response.text
    with app.app_context():
        db.engine.dispose()


def test_security_headers_on_every_response(client):
    response = client.get("/start")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert "object-src 'none'" in response.headers["Content-Security-Policy"]


def test_a_failed_pdf_render_is_a_503_page_not_a_crash(app, client, monkeypatch):
    with app.app_context():
        create_user("m@example.com", "manager", PASSWORD, settings=app.config)
        intake = create_intake(example())
        db.session.flush()
        submit_intake(intake, playbooks=app_playbooks(app), email=False)
        db.session.commit()
        public_id = intake.public_id

    def too_slow(*args, **kwargs):
        raise RenderTimeout("the render took longer than 20 s")

    monkeypatch.setattr(agreements.pdf, "render_pdf", too_slow)
    login(client, "m@example.com")
    response = client.get(f"/workspace/intakes/{public_id}/agreement.pdf")
    assert response.status_code == 503 and response.headers["Retry-After"] == "60"
    assert "could not be produced just now" in response.text
