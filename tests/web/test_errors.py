"""Error pages: rendered, with the right status, never a traceback."""

from __future__ import annotations

from tests.conftest import make_app


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
        from onboarding.extensions import db

        db.engine.dispose()


def test_security_headers_on_every_response(client):
    response = client.get("/start")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert "object-src 'none'" in response.headers["Content-Security-Policy"]
