"""A prospect's intake through the web: saved at every step, never lost, submitted once."""

import re
import threading

from sqlalchemy import func, select

from onboarding import assess
from onboarding.db import db
from onboarding.db.models import Assessment, Intake
from tests.factories import csrf_of, example
from tests.web.helpers import Prospect, form_data


def stored(app, token):
    with app.app_context():
        return db.session.execute(select(Intake).where(Intake.token == token)).scalar_one()


def test_start_page_explains_and_starts_an_intake(client):
    page = client.get("/start")
    assert page.status_code == 200 and "Tell us about your project" in page.text
    prospect = Prospect(client)
    token = prospect.start()
    assert len(token) >= 32  # >= 192 bits, URL-safe
    first = client.get(f"/intake/{token}")
    assert first.headers["Location"].endswith(f"/intake/{token}/step/about")


def test_starting_without_csrf_is_refused(client):
    response = client.post("/start")
    assert response.status_code == 400
    assert "expired" in response.text or "Something was wrong" in response.text


def test_each_step_renders_its_questions_named_by_id(client):
    prospect = Prospect(client)
    prospect.start()
    page = client.get(prospect.url("/step/control"))
    assert page.status_code == 200
    assert "Step 3 of 7" in page.text
    for name in ("control_level", "decisions_owned", "revision_rounds", "in_house_creative"):
        assert f'name="{name}"' in page.text
    assert (
        'type="checkbox" id="decisions_owned-0" name="decisions_owned" value="brand_direction"'
        in page.text
    )
    assert (
        "1 = I trust the team fully" in page.text
        and "5 = I want to approve every detail" in page.text
    )
    assert "<fieldset" in page.text and "<legend" in page.text


def test_next_saves_the_step_and_moves_on(app, client):
    prospect = Prospect(client)
    prospect.start()
    answers = example()
    response = prospect.step("about", form_data("about", answers))
    assert response.status_code == 302 and response.headers["Location"].endswith("/step/time")
    intake = stored(app, prospect.token)
    assert intake.answers["company"] == "Harbour Freight Logistics"
    assert intake.answers["timeline_weeks"] == 16
    assert intake.company == "Harbour Freight Logistics"


def test_errors_are_shown_next_to_the_field_and_valid_answers_kept(app, client):
    prospect = Prospect(client)
    prospect.start()
    data = form_data("about", example())
    data.update(timeline_weeks="twelve", contact_email="not-an-email", company="")
    response = prospect.step("about", data)
    assert response.status_code == 422
    html = response.text
    assert "There is a problem" in html
    assert 'href="#timeline_weeks"' in html and "must be a whole number" in html
    assert 'id="contact_email-error"' in html
    # Plain words, written as instructions: no library text, no label repeated.
    assert "Enter an email address in the correct format, like name@example.com" in html
    assert "Enter the name of your company or organisation" in html
    assert "The number of weeks the engagement should last must be a whole number" in html
    assert "The part after the @-sign" not in html and "an answer is required" not in html
    assert 'value="twelve"' in html  # what was typed is shown back
    assert 'aria-describedby="timeline_weeks-hint timeline_weeks-error"' in html
    intake = stored(app, prospect.token)
    assert intake.answers["contact_name"] == "Daniel Okafor"  # valid answers saved
    assert "timeline_weeks" not in intake.answers  # invalid ones are not


def test_a_prospect_who_comes_back_finds_everything_filled_in(app, client):
    prospect = Prospect(client)
    prospect.start()
    answers = example()
    prospect.step("about", form_data("about", answers))
    prospect.step("time", form_data("time", answers))
    client.delete_cookie("session")  # the browser was closed
    back = client.get(prospect.url())
    assert back.headers["Location"].endswith("/step/control")
    page = client.get(prospect.url("/step/about"))
    assert 'value="Daniel Okafor"' in page.text and 'value="16"' in page.text
    time_page = client.get(prospect.url("/step/time"))
    assert re.search(r'value="few_per_week" checked', time_page.text)


def test_unknown_token_or_step_is_404(client):
    assert client.get("/intake/not-a-real-token").status_code == 404
    assert client.get("/intake/x" * 40).status_code == 404
    prospect = Prospect(client)
    prospect.start()
    assert client.get(prospect.url("/step/nonsense")).status_code == 404


def test_a_token_opens_only_its_own_intake(app, client):
    # Two browsers: one browser remembers its draft, so a second Start now resumes it.
    first, second = Prospect(client), Prospect(app.test_client())
    first.start()
    second.start()
    first.step("about", form_data("about", example()))
    page = client.get(second.url("/step/about"))
    assert "Daniel Okafor" not in page.text


def test_an_expired_form_shows_the_input_back_and_saves_nothing(app, client):
    prospect = Prospect(client)
    prospect.start()
    data = form_data("about", example())
    response = client.post(
        prospect.url("/step/about"), data={**data, "csrf_token": "stale", "action": "next"}
    )
    assert response.status_code == 422
    assert "press the button again" in response.text
    assert 'value="Daniel Okafor"' in response.text
    assert stored(app, prospect.token).answers == {}
    # The page carries a fresh token: pressing Next again works.
    from tests.factories import csrf_of

    again = client.post(
        prospect.url("/step/about"),
        data={**data, "csrf_token": csrf_of(response.text), "action": "next"},
    )
    assert again.status_code == 302


def test_a_session_that_expired_mid_step_keeps_what_was_typed(app, client):
    prospect = Prospect(client)
    prospect.start()
    page = client.get(prospect.url("/step/about"))
    token = csrf_of(page.text)
    client.delete_cookie("session")  # the session ended while the prospect was typing
    data = {**form_data("about", example()), "csrf_token": token, "action": "next"}
    response = client.post(prospect.url("/step/about"), data=data)
    assert response.status_code == 422 and "press the button again" in response.text
    assert 'value="Harbour Freight Logistics"' in response.text
    again = client.post(
        prospect.url("/step/about"), data={**data, "csrf_token": csrf_of(response.text)}
    )
    assert again.status_code == 302
    assert stored(app, prospect.token).answers["company"] == "Harbour Freight Logistics"


def test_sqlite_is_tuned_for_concurrent_writers(app):
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return
    from sqlalchemy import text

    with app.app_context():
        conn = db.session.connection()
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() >= 5000
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL
        db.session.rollback()
        from onboarding.db.engine import begin_write

        statements = []
        from sqlalchemy import event

        def record(conn, cursor, statement, *args):
            statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", record)
        try:
            begin_write(db.session())
            db.session.execute(text("SELECT 1"))
            db.session.rollback()
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
        assert statements[0] == "BEGIN IMMEDIATE"


def test_hidden_questions_are_ignored(app, client):
    prospect = Prospect(client)
    prospect.start()
    data = form_data("history", example())
    data.update(
        worked_with_agency_before="no", past_problems=["nonsense"], past_experience_rating="9"
    )
    response = prospect.step("history", data)
    assert response.status_code == 302
    answers = stored(app, prospect.token).answers
    assert answers["past_problems"] is None and answers["past_experience_rating"] is None


def test_back_returns_to_the_previous_step_keeping_answers(app, client):
    prospect = Prospect(client)
    prospect.start()
    response = prospect.step("time", form_data("time", example()), action="back")
    assert response.headers["Location"].endswith("/step/about")
    assert stored(app, prospect.token).answers["update_frequency"] == "few_per_week"


def test_review_lists_every_answer_with_change_links(client):
    prospect = Prospect(client)
    prospect.start()
    prospect.fill_all(example())
    page = client.get(prospect.url("/review"))
    assert page.status_code == 200
    assert "Check your answers" in page.text
    assert "Harbour Freight Logistics" in page.text and "A few times a week" in page.text
    assert page.text.count(">Change<") >= 30
    assert "/step/goals?from=review" in page.text


def test_submit_stores_the_assessment_of_the_answers(app, client):
    prospect = Prospect(client)
    prospect.start()
    answers = example()
    prospect.fill_all(answers)
    response = prospect.submit()
    assert response.status_code == 302 and response.headers["Location"].endswith("/thanks")
    thanks = client.get(prospect.url("/thanks"))
    assert "What happens next" in thanks.text and "Thank you, Daniel" in thanks.text
    intake = stored(app, prospect.token)
    assert intake.status == "new" and intake.submitted_at is not None
    with app.app_context():
        saved = db.session.execute(select(Assessment)).scalar_one()
        assert saved.result == assess(answers)
        assert intake.score == saved.score


def test_submitting_twice_stores_one_assessment(app, client):
    prospect = Prospect(client)
    prospect.start()
    prospect.fill_all(example())
    page = client.get(prospect.url("/review"))
    from tests.factories import csrf_of

    token = csrf_of(page.text)
    first = client.post(prospect.url("/submit"), data={"csrf_token": token})
    second = client.post(prospect.url("/submit"), data={"csrf_token": token})
    assert first.status_code == second.status_code == 302
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(Assessment)).scalar() == 1
    # After submitting, the steps lead to the thank-you page.
    assert client.get(prospect.url("/step/about")).headers["Location"].endswith("/thanks")


def test_concurrent_submits_store_one_assessment(app):
    client = app.test_client()
    prospect = Prospect(client)
    prospect.start()
    prospect.fill_all(example())
    page = client.get(prospect.url("/review"))
    from tests.factories import csrf_of

    token = csrf_of(page.text)
    cookie = client.get_cookie("session").value
    statuses = []

    def submit():
        c = app.test_client()
        c.set_cookie("session", cookie)
        statuses.append(c.post(prospect.url("/submit"), data={"csrf_token": token}).status_code)

    threads = [threading.Thread(target=submit) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [302] * 20
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(Assessment)).scalar() == 1


def test_submitting_an_incomplete_intake_lists_what_is_missing(app, client):
    prospect = Prospect(client)
    prospect.start()
    prospect.step("about", form_data("about", example()))
    response = prospect.submit()
    assert response.status_code == 422
    assert "Some answers are missing" in response.text
    assert "/step/control?from=review#control_level-group" in response.text
    assert stored(app, prospect.token).status == "draft"
