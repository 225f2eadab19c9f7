"""Judgement v3 on the intake's page (issue 25): never "proceed" beside a scope red flag,
the band note under the verdict, one reason per answer."""

from __future__ import annotations

from tests.factories import BASELINE, login, submit, text_of

SCOPE = {
    **BASELINE,
    "contact_name": "Sol Scope",
    "company": "Everything Now Ltd",
    "budget_band": "over_150k",
    "timeline_weeks": 2,
    "deliverables": ["app", "ecommerce"],
}  # 79 by the score, a scope red flag: an app and a shop cannot be made in two weeks


def test_the_intake_page_never_says_proceed_beside_a_scope_red_flag(app, client, staff):
    public_id = submit(app, SCOPE)
    login(client, staff["manager"])
    page = text_of(client.get(f"/workspace/intakes/{public_id}").text)
    verdict = page.split("Recommendation:", 1)[1].split("Why guarded", 1)[0]
    assert "proceed" not in verdict.lower()
    assert "Agree a scope that fits before signing" in verdict
    assert "Why guarded: Guarded rather than strong: the scope does not fit" in page
    first_action = page.split("Agree a scope that fits before signing: go through", 1)
    assert len(first_action) == 2


def test_the_why_lists_one_reason_per_answer(app, client, staff):
    public_id = submit(app, {**BASELINE, "process_familiarity": 1, "tactics_flexibility": 1})
    login(client, staff["manager"])
    why = text_of(client.get(f"/workspace/intakes/{public_id}").text).split("Why this score", 1)[1]
    assert why.count("You rated your familiarity with projects like this 1 of 5") == 1
    assert why.count("You rated your openness on tactics 1 of 5") == 1


def test_close_control_without_a_creative_team_is_named_so(app, client, staff):
    answers = {**BASELINE, "control_level": 5, "decisions_owned": ["daily_tasks"]}
    public_id = submit(app, {**answers, "in_house_creative": "none"})
    login(client, staff["manager"])
    page = text_of(client.get(f"/workspace/intakes/{public_id}").text)
    assert "Close control: 70 of 100" in page  # the risk chart's words
    assert "the close control risk is 70" in page and "Frustrated creative" not in page
