"""Judgement v2 in the workspace and the web form: the band's note, a manager's own band,
the re-assess page, outcomes, the scope questions, and `onboarding playbooks impact`."""

from __future__ import annotations

import html
import re
import shutil

from sqlalchemy import select

from onboarding.cli import main
from onboarding.db import db
from onboarding.db.models import Assessment, EngagementOutcome, Intake
from onboarding.domain.playbooks import default_playbooks_dir
from tests.factories import BASELINE, csrf_of, example, login, submit, text_of
from tests.web.helpers import Prospect, form_data

CREATIVE = {
    **BASELINE,
    "contact_name": "Fran Creative",
    "company": "Fran's Studio",
    "control_level": 4,
    "in_house_creative": "strong",
    "brainstorm_involvement": "every_session",
    "decisions_owned": ["brand_direction", "copy", "visual_design"],
    "revision_rounds": 4,
}


def post(client, url, data, page_url):
    page = client.get(page_url)
    return client.post(url, data={**data, "csrf_token": csrf_of(page.text)})


def markup_of(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", page))


def test_a_capped_band_says_why_on_the_list_and_the_intake(app, client, staff):
    public_id = submit(app, CREATIVE)
    login(client, staff["manager"])
    listing = markup_of(client.get("/workspace/").text)
    assert "capped: Guarded rather than strong: the frustrated creative risk is 60" in listing
    assert "† Guarded although the score is 70 or more" in listing
    page = text_of(client.get(f"/workspace/intakes/{public_id}").text)
    assert "Why guarded: Guarded rather than strong" in page
    assert (
        "76/100" in page.replace(" ", "")
        or ">76<" in client.get(f"/workspace/intakes/{public_id}").text
    )


def test_a_managers_band_sits_beside_the_computed_one(app, client, staff):
    public_id = submit(app, CREATIVE)
    login(client, staff["manager"])
    url = f"/workspace/intakes/{public_id}"
    refused = post(client, url + "/override", {"band": "excellent", "reason": "x"}, url)
    assert refused.status_code == 422
    assert "Choose a band from the list" in refused.text
    post(client, url + "/override", {"band": "strong", "reason": "Known to us for years"}, url)
    page = text_of(client.get(url).text)
    assert "Manager's override: strong band" in page
    assert "(computed: 76, guarded band, proceed with guardrails)" in page
    listing = text_of(client.get("/workspace/").text)
    assert re.search(r"Guarded (†)?\s*→ manager's band: Strong", listing), listing
    with app.app_context():
        intake = db.session.execute(
            select(Intake).where(Intake.public_id == public_id)
        ).scalar_one()
        assert (intake.band, intake.override_band, intake.override_score) == (
            "guarded",
            "strong",
            None,
        )


def test_sorting_by_band_reads_the_band_not_the_score(app, client, staff):
    submit(app, CREATIVE)  # 76, guarded (capped)
    submit(app, {**BASELINE, "contact_name": "Sam Strong", "goal_clarity": 3})  # strong, 80
    submit(app, {**BASELINE, "contact_name": "Gil Guarded", "control_level": 5,
                 "fear_intensity": 5, "tactics_flexibility": 2})  # fmt: skip
    login(client, staff["manager"])
    page = client.get("/workspace/?sort=band&dir=desc").text
    names = re.findall(r">(Sam Strong|Fran Creative|Gil Guarded)</a>", page)
    assert names[0] == "Sam Strong"  # the capped 76 comes after every strong one


def test_the_reassess_page_shows_what_would_change_before_an_admin_applies_it(app, client, staff):
    public_id = submit(app, CREATIVE)
    with app.app_context():  # as if assessed by older playbooks that said strong
        old = db.session.execute(select(Assessment)).scalar_one()
        result = dict(old.result, band="strong", band_note=None, recommendation="proceed")
        old.result, old.band, old.playbook_version = result, "strong", "0" * 64
        db.session.commit()
    login(client, staff["manager"])
    page = text_of(client.get("/workspace/reassess").text)
    assert "1 intake would be re-assessed" in page
    assert "Fran's Studio — Fran Creative" in page and "Strong → Guarded" in page
    assert "An admin applies it" in page
    assert post(client, "/workspace/reassess", {}, "/workspace/reassess").status_code == 403
    client.post("/logout", data={"csrf_token": csrf_of(client.get("/workspace/").text)})
    login(client, staff["admin"])
    done = post(client, "/workspace/reassess", {}, "/workspace/reassess")
    assert done.status_code == 302
    assert "re-assessed 1" in client.get("/workspace/reassess").text
    assert "Nothing to re-assess" in client.get("/workspace/reassess").text
    assert client.post("/workspace/reassess", data={}).status_code == 400  # no CSRF token
    with app.app_context():
        assert db.session.execute(select(Intake)).scalar_one().band == "guarded"
    assert public_id


def test_an_outcome_is_one_click_on_a_signed_engagement(app, client, staff):
    public_id = submit(app, CREATIVE)
    login(client, staff["manager"])
    url = f"/workspace/intakes/{public_id}"
    assert "How did it go?" not in client.get(url).text  # not signed yet
    refused = post(client, url + "/outcome", {"outcome": "smooth"}, url)
    assert refused.status_code == 302
    assert "once the agreement is signed" in text_of(client.get(url).text)
    with app.app_context():
        intake = db.session.execute(select(Intake)).scalar_one()
        intake.status = "signed"
        db.session.commit()
    assert "How did it go?" in client.get(url).text
    post(client, url + "/outcome", {"outcome": "nonsense"}, url)
    assert "Choose how the engagement went" in client.get(url).text
    post(client, url + "/outcome", {"outcome": "micromanaged"}, url)
    page = text_of(client.get(url).text)
    assert "Recorded: Micromanaged by Max Manager" in page
    assert 'aria-pressed="true">Micromanaged' in client.get(url).text
    with app.app_context():
        assert db.session.execute(select(EngagementOutcome)).scalar_one().outcome == "micromanaged"
    assert client.get("/workspace/outcomes").status_code == 403  # admins only


def test_the_outcomes_page_is_honest_about_small_counts(app, client, staff):
    ids = [submit(app, {**CREATIVE, "contact_name": f"Client {i}"}) for i in range(3)]
    login(client, staff["admin"])
    with app.app_context():
        for public_id in ids:
            db.session.execute(
                select(Intake).where(Intake.public_id == public_id)
            ).scalar_one().status = "signed"
        db.session.commit()
    for public_id, outcome in zip(ids, ["smooth", "micromanaged", "ended_early"], strict=True):
        url = f"/workspace/intakes/{public_id}"
        post(client, url + "/outcome", {"outcome": outcome}, url)
    raw = client.get("/workspace/outcomes").text
    page = text_of(raw)
    assert "3 engagements: too few to judge." in page
    assert "collaborate playbook" in page  # the rule by its title and playbook, not its id
    assert "collaborate/every_brainstorm" not in page
    assert "%" not in text_of(raw.split('id="outcomes-rules"')[1])  # no share quoted from 3


def test_the_web_form_asks_the_scope_questions_and_names_each_field(app, client):
    prospect = Prospect(client)
    prospect.start()
    answers = {**example("calm-founder")}
    data = form_data("about", answers)
    del data["deliverables"], data["content_per_week"]
    data["launch_date"] = "2027-02-30"
    response = prospect.step("about", data)
    assert response.status_code == 422
    page = text_of(response.text)
    # Plain words, as instructions (the API keeps the contract's messages).
    assert "Select what the engagement must deliver" in page
    assert "Enter the number of pieces of regular content a week" in page
    assert "The launch date must be a real date between 2000 and 2100" in page
    assert 'type="date"' in response.text
    fixed = prospect.step("about", form_data("about", answers))
    assert fixed.status_code == 302 and fixed.headers["Location"].endswith("/step/time")


def test_playbooks_impact_prints_the_intakes_that_change_band(app, tmp_path):
    public_id = submit(app, CREATIVE)  # 76 but guarded: frustrated creative 60
    copy = tmp_path / "playbooks"
    shutil.copytree(default_playbooks_dir(), copy)
    path = copy / "collaborate.yaml"
    text = path.read_text()
    old = '    cause: frustrated_creative\n    risk: 10\n    because: "You would like to join every'
    assert old in text
    path.write_text(text.replace(old, old.replace("risk: 10", "risk: 5")))
    runner = app.test_cli_runner()
    with app.app_context():
        result = runner.invoke(main, ["playbooks", "impact", str(copy)])
    assert result.exit_code == 0, result.output
    assert (
        f"Fran's Studio — Fran Creative [{public_id}]: guarded → strong (score 76 → 76)"
        in result.output
    )
    assert re.search(r"guarded → strong\s+1\s+\*", result.output)
    with app.app_context():
        as_json = runner.invoke(main, ["playbooks", "impact", str(copy), "--json"])
    import json

    data = json.loads(as_json.output)
    assert data["band_changed"] == 1 and data["band_changes"][0]["intake"] == public_id
    broken = tmp_path / "broken"
    shutil.copytree(copy, broken)
    (broken / "lead.yaml").unlink()
    with app.app_context():
        refused = runner.invoke(main, ["playbooks", "impact", str(broken)])
    assert refused.exit_code == 1 and "lead.yaml: -: missing" in refused.output
