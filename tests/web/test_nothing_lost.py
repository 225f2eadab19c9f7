"""Nothing lost (issue 26): a form posted after the session lapsed comes back after a
fresh sign-in, the session can be kept going, and a refused save keeps every field."""

from __future__ import annotations

from onboarding.web.workspace import auth
from tests.factories import PASSWORD, csrf_of, login


def terms_url(public_id: str) -> str:
    return f"/workspace/intakes/{public_id}/terms"


def lapse(monkeypatch, minutes: int = 31) -> None:
    start = auth.now()
    monkeypatch.setattr(auth, "now", lambda: start + minutes * 60)


def test_terms_typed_before_the_session_lapsed_come_back_after_signing_in(
    app, client, staff, submitted, monkeypatch
):
    login(client, staff["manager"])
    url = terms_url(submitted)
    token = csrf_of(client.get(url).text)
    lapse(monkeypatch)
    response = client.post(
        url,
        data={
            "csrf_token": token,
            "fee.model": "fixed",
            "fee.amount": "24000",
            "start_date": "2027-03-01",
        },
    )
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith("/login?next=")
    login_page = client.get(location)
    assert "They are kept: sign in again" in login_page.text
    # Nothing was saved by the lapsed post: it is only kept, never replayed.
    signed_in = client.post(
        location,
        data={"email": staff["manager"], "password": PASSWORD,
              "csrf_token": csrf_of(login_page.text)},
    )  # fmt: skip
    back = signed_in.headers["Location"]
    assert back.startswith(url + "?kept=")
    page = client.get(back)
    assert page.status_code == 200
    assert "Nothing you typed is lost" in page.text
    assert 'value="24000"' in page.text and 'value="2027-03-01"' in page.text
    assert "data-unsaved" in page.text
    # The stored terms are unchanged until the manager saves.
    assert 'value="24000"' not in client.get(url).text
    saved = client.post(
        back, data={"csrf_token": csrf_of(page.text), "fee.model": "fixed",
                    "fee.amount": "24000", "start_date": "2027-03-01"}
    )  # fmt: skip
    assert saved.status_code == 302
    assert 'value="24000.00"' in client.get(url).text  # money stored as an amount
    # Once saved, the kept copy is gone: the link shows the saved terms, no notice.
    assert "Nothing you typed is lost" not in client.get(back).text


def test_a_kept_form_is_its_authors_alone(app, client, staff, submitted, monkeypatch):
    login(client, staff["manager"])
    url = terms_url(submitted)
    token = csrf_of(client.get(url).text)
    lapse(monkeypatch)
    response = client.post(url, data={"csrf_token": token, "fee.amount": "31337"})
    kept_id = response.headers["Location"].rsplit("kept%3D", 1)[-1]
    other = app.test_client()
    login(other, staff["admin"])
    page = other.get(f"{url}?kept={kept_id}")
    assert "31337" not in page.text and "Nothing you typed is lost" not in page.text


def test_a_lapsed_post_without_a_valid_token_is_not_kept(client, staff, submitted, monkeypatch):
    login(client, staff["manager"])
    url = terms_url(submitted)
    lapse(monkeypatch)
    response = client.post(url, data={"csrf_token": "forged", "fee.amount": "31337"})
    assert response.status_code == 400


def test_the_session_clock_and_staying_signed_in(app, client, staff, monkeypatch):
    start = auth.now()
    monkeypatch.setattr(auth, "now", lambda: start)
    login(client, staff["manager"])
    page = client.get("/workspace/")
    assert 'id="session-dialog"' in page.text and 'data-seconds-left="1800"' in page.text
    monkeypatch.setattr(auth, "now", lambda: start + 29 * 60)
    status = client.get("/workspace/session").get_json()
    assert status["signed_in"] and status["seconds_left"] == 60
    # Asking is no activity: still a minute left.
    assert client.get("/workspace/session").get_json()["seconds_left"] == 60
    kept = client.post("/workspace/session", headers={"X-CSRFToken": csrf_of(page.text)}).get_json()
    assert kept["seconds_left"] == 30 * 60
    monkeypatch.setattr(auth, "now", lambda: start + 29 * 60 + 29 * 60)
    assert client.get("/workspace/").status_code == 200  # kept going
    monkeypatch.setattr(auth, "now", lambda: start + 29 * 60 + 29 * 60 + 31 * 60)
    lapsed = client.get("/workspace/session")
    assert lapsed.status_code == 401 and lapsed.get_json()["signed_in"] is False


def static_file(client) -> int:
    response = client.get("/static/favicon.svg")
    response.close()
    return response.status_code


def test_a_static_file_the_browser_fetches_on_its_own_is_no_activity(client, staff, monkeypatch):
    """The browser asks for the favicon after the page has loaded, whenever it likes: an
    idle tab still comes to its warning (the session-warning browser test once missed its
    dialog because the favicon arrived late and counted as activity)."""
    start = auth.now()
    monkeypatch.setattr(auth, "now", lambda: start)
    login(client, staff["manager"])
    client.get("/workspace/")
    monkeypatch.setattr(auth, "now", lambda: start + 29 * 60)
    assert static_file(client) == 200
    assert client.get("/workspace/session").get_json()["seconds_left"] == 60
    monkeypatch.setattr(auth, "now", lambda: start + 31 * 60)
    assert static_file(client) == 200  # a file, whoever asks
    assert client.get("/workspace/session").status_code == 401  # the session has ended


def test_staying_signed_in_needs_the_csrf_token(app, client, staff):
    login(client, staff["manager"])
    assert client.post("/workspace/session").status_code == 400


def test_another_form_posted_after_the_lapse_leads_back_to_its_page(
    app, client, staff, submitted, monkeypatch
):
    login(client, staff["manager"])
    url = f"/workspace/intakes/{submitted}"
    token = csrf_of(client.get(url).text)
    lapse(monkeypatch)
    response = client.post(
        url + "/notes",
        data={"csrf_token": token, "text": "Call back"},
        headers={"Referer": f"http://localhost{url}"},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"/login?next={url}"


def test_a_send_posted_after_the_lapse_is_not_sent_and_comes_back_on_the_send_page(
    app, client, staff, submitted, monkeypatch
):
    from tests.web.helpers import make_sendable

    make_sendable(app, submitted)
    login(client, staff["manager"])
    url = f"/workspace/intakes/{submitted}/agreement/send"
    token = csrf_of(client.get(url).text)
    lapse(monkeypatch)
    response = client.post(
        url, data={"csrf_token": token, "subject": "As discussed", "message": "Here it is."}
    )
    location = response.headers["Location"]
    assert location.startswith("/login?next=")
    page = client.get(location)
    signed_in = client.post(
        location,
        data={"email": staff["manager"], "password": PASSWORD, "csrf_token": csrf_of(page.text)},
    )
    back = client.get(signed_in.headers["Location"]).text
    assert "Nothing you typed is lost" in back
    assert 'value="As discussed"' in back and "Here it is.</textarea>" in back
    assert "Agreement version 1 is sent" not in client.get(f"/workspace/intakes/{submitted}").text


def test_the_agency_profile_typed_as_the_session_lapsed_comes_back(app, client, staff, monkeypatch):
    login(client, staff["admin"])
    token = csrf_of(client.get("/workspace/agency").text)
    lapse(monkeypatch)
    response = client.post(
        "/workspace/agency", data={"csrf_token": token, "legal_name": "Kept Studio Ltd"}
    )
    location = response.headers["Location"]
    page = client.get(location)
    signed_in = client.post(
        location,
        data={"email": staff["admin"], "password": PASSWORD, "csrf_token": csrf_of(page.text)},
    )
    assert signed_in.headers["Location"].startswith("/workspace/agency?kept=")
    back = client.get(signed_in.headers["Location"]).text
    assert 'value="Kept Studio Ltd"' in back and "Nothing you typed is lost" in back


def test_a_refused_terms_save_keeps_its_boxes_and_warns_before_leaving(
    app, client, staff, submitted
):
    import re

    login(client, staff["manager"])
    url = terms_url(submitted)
    page = client.get(url).text
    boxes = re.findall(r'type="checkbox" id="[^"]+" name="supplements" value="(\w+)"', page)
    assert boxes, "the terms form offers the discipline terms as boxes"
    refused = client.post(
        url,
        data={
            "csrf_token": csrf_of(page),
            "fee.model": "fixed",
            "fee.amount": "a lot",
            "supplements": boxes[0],
        },
    )
    assert refused.status_code == 422
    assert re.search(rf'name="supplements" value="{boxes[0]}" checked', refused.text)
    assert '<form method="post" novalidate data-unsaved>' in refused.text
