"""Judgement v3 (issue 25): scope caps the verdict, running the agency's daily work and
agency churn weigh as an account director weighs them, no single answer flips the
recommendation between proceed and walk away, and every reason can be forwarded."""

import copy
import json
import re
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from onboarding import assess
from onboarding.domain import assessment as assessment_module
from onboarding.domain.assessment import STEPS, one_step, verdict_label
from onboarding.domain.checking import run_flips
from onboarding.domain.playbooks import load_playbooks
from onboarding.domain.questionnaire import get_questionnaire
from tests.strategies import valid_answers

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOKS = load_playbooks()
BASELINE = yaml.safe_load((ROOT / "playbooks" / "_baseline.yaml").read_text())
PROFILE = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ALL_DELIVERABLES = list(get_questionnaire().questions["deliverables"].values)


def judged(**answers) -> dict:
    return assess({**BASELINE, **answers})


def fired(result) -> set[str]:
    return {c["rule"] for c in result["contributions"]} | {
        f["rule"] for f in result["red_flag_details"]
    }


def scope_flags(result) -> list[dict]:
    return [f for f in result["red_flag_details"] if f["kind"] == "scope"]


# --- edge case 1: a scope beyond the budget and the timeline ------------------------------

SCOPE_CASES = {
    "seven deliverables under 10,000 in three weeks with a fixed launch": dict(
        budget_band="under_10k", timeline_weeks=3, launch_date="2027-03-01",
        deliverables=["strategy", "brand_identity", "website", "social_media", "photography",
                      "online_video", "print_packaging"]),
    "the same without a launch date": dict(
        budget_band="under_10k", timeline_weeks=3,
        deliverables=["strategy", "brand_identity", "website", "social_media", "photography",
                      "online_video", "print_packaging"]),
    "everything and thirty posts a week on 50,000 to 150,000 in ten weeks": dict(
        budget_band="50k_150k", timeline_weeks=10, deliverables=ALL_DELIVERABLES,
        content_per_week=30),
    "ten kinds of work on 50,000 to 150,000 over a year": dict(
        budget_band="50k_150k", timeline_weeks=52, deliverables=ALL_DELIVERABLES[:10]),
    "thirty posts a week on 50,000 to 150,000": dict(
        budget_band="50k_150k", timeline_weeks=30, deliverables=["social_media"],
        content_per_week=30),
    "an app and a shop in two weeks on any budget": dict(
        budget_band="over_150k", timeline_weeks=2, deliverables=["app", "ecommerce"]),
    "an app and a shop on 10,000 to 50,000": dict(
        budget_band="10k_50k", timeline_weeks=30, deliverables=["app", "ecommerce"]),
    "a shop and three more on 10,000 to 50,000": dict(
        budget_band="10k_50k", timeline_weeks=30,
        deliverables=["strategy", "brand_identity", "website", "ecommerce"]),
    "an app with a launch date eight weeks out": dict(
        budget_band="over_150k", timeline_weeks=8, deliverables=["strategy", "app"],
        launch_date="2027-06-01"),
    "an app and a shop in twelve weeks": dict(
        budget_band="over_150k", timeline_weeks=12, deliverables=["app", "ecommerce"]),
}  # fmt: skip


@pytest.mark.parametrize("answers", SCOPE_CASES.values(), ids=SCOPE_CASES.keys())
def test_a_scope_red_flag_never_says_proceed(answers):
    result = judged(**answers)
    assert scope_flags(result), "the scope should not fit"
    assert result["recommendation"] != "proceed"
    assert result["band"] != "strong"
    assert result["actions"][0]["id"] == "agree_scope_that_fits"
    assert result["actions"][0]["text"].startswith("Agree a scope that fits before signing")
    assert "proceed" not in verdict_label(result).lower()


def test_the_band_note_says_the_scope_capped_a_strong_score():
    result = judged(**SCOPE_CASES["an app and a shop in two weeks on any budget"])
    assert result["score"] >= 70  # the points alone would say strong...
    assert result["band"] == "guarded" and result["band_cap"] == "scope"
    assert "scope does not fit" in result["band_note"]
    assert "agree a scope that fits before signing" in result["band_note"]


def test_a_scope_that_fits_raises_no_flag_on_any_budget():
    for band in ("under_10k", "10k_50k", "50k_150k", "over_150k"):
        result = judged(
            budget_band=band, timeline_weeks=12, deliverables=["strategy", "brand_identity"]
        )
        assert not scope_flags(result), band
        assert result["recommendation"] == "proceed", band


def test_a_fixed_launch_date_is_weighed_against_the_timeline():
    movable = judged(budget_band="over_150k", timeline_weeks=8, deliverables=["strategy", "app"])
    fixed = judged(
        budget_band="over_150k", timeline_weeks=8, deliverables=["strategy", "app"],
        launch_date="2027-06-01",
    )  # fmt: skip
    assert not scope_flags(movable) and movable["recommendation"] == "proceed"
    assert [f["rule"] for f in scope_flags(fixed)] == ["launch_beyond_timeline"]
    assert fixed["recommendation"] == "proceed_with_guardrails"


@PROFILE
@given(valid_answers())
def test_never_proceed_beside_a_scope_red_flag(answers):
    result = assess(answers)
    if scope_flags(result):
        assert result["recommendation"] != "proceed"
        assert result["actions"][0]["id"] == "agree_scope_that_fits"
        assert "proceed" not in verdict_label(result).lower()
    assert len(result["red_flags"]) == len(result["red_flag_details"])


def test_the_readable_report_prints_the_band_note_and_no_proceed_beside_a_scope_flag(tmp_path):
    from click.testing import CliRunner

    from onboarding.cli import main

    path = tmp_path / "scope.json"
    path.write_text(
        json.dumps({**BASELINE, **SCOPE_CASES["an app and a shop in two weeks on any budget"]})
    )
    output = CliRunner().invoke(main, ["assess", str(path)]).output
    recommend = next(line for line in output.splitlines() if line.startswith("Recommend"))
    assert "proceed" not in recommend
    assert "agree a scope that fits before signing" in recommend
    assert "Guarded rather than strong: the scope does not fit" in output


def test_the_readable_report_prints_the_band_note_of_a_capped_cause(tmp_path):
    from click.testing import CliRunner

    from onboarding.cli import main

    path = tmp_path / "creative.json"
    path.write_text(
        json.dumps({**BASELINE, "control_level": 5, "decisions_owned": ["daily_tasks"]})
    )
    output = CliRunner().invoke(main, ["assess", str(path)]).output
    assert "(guarded)" in output
    assert "Guarded rather than strong: the frustrated creative risk is 70" in output


# --- edge case 2: extreme fear alone ------------------------------------------------------


@pytest.mark.parametrize("fears", [[], ["failure"], ["failure", "brand_damage", "budget_overrun"]])
def test_extreme_fear_alone_is_never_a_reason_to_walk_away(fears):
    for intensity in (4, 5):
        result = judged(fear_intensity=intensity, fears=fears)
        assert result["recommendation"] != "walk_away"
        assert not result["red_flags"]
        assert "very_worried" in fired(result)
    # ...and it stays a reason to talk: each concern with its safeguard
    assert "talk_through_fears" in {a["id"] for a in judged(fear_intensity=5)["actions"]}


# --- edge case 3: agency churn scales, with no rating cliff -------------------------------


@pytest.mark.parametrize("rating", [1, 2, 3, 4, 5])
def test_five_or_more_agencies_reach_the_cap_whatever_the_rating(rating):
    for count in (5, 8):
        result = judged(past_agencies_count=count, past_experience_rating=rating)
        assert result["risks"]["trust_deficit"] >= 60
        assert result["band"] != "strong"
        assert result["recommendation"] == "proceed_with_guardrails"  # no behavioural sign
        assert "reference_call_last_agency" in {a["id"] for a in result["actions"]}


def test_five_agencies_rated_2_and_rated_3_get_the_same_verdict():
    two = judged(past_agencies_count=5, past_experience_rating=2)
    three = judged(past_agencies_count=5, past_experience_rating=3)
    assert two["recommendation"] == three["recommendation"] == "proceed_with_guardrails"
    assert two["score"] <= three["score"]


def test_churn_scales_with_the_number_of_agencies():
    results = [judged(past_agencies_count=n, past_experience_rating=3) for n in range(2, 10)]
    risks = [r["risks"]["trust_deficit"] for r in results]
    scores = [r["score"] for r in results]
    assert risks == sorted(risks) and scores == sorted(scores, reverse=True)
    eight, three = results[6], results[1]
    assert (
        eight["score"] < three["score"]
        and eight["risks"]["trust_deficit"] > three["risks"]["trust_deficit"]
    )


@pytest.mark.parametrize(
    "sign",
    [{"control_level": 4}, {"fear_intensity": 4},
     {"after_hours_contact": True, "expected_response_hours": "1"}],
    ids=["close control", "a high worry", "always on call"],
)  # fmt: skip
def test_churn_with_a_behavioural_sign_is_a_reason_to_walk_away(sign):
    result = judged(past_agencies_count=5, past_experience_rating=3, **sign)
    assert result["recommendation"] == "walk_away"
    flag = next(f for f in result["red_flag_details"] if f["rule"] == "serial_agency_churn")
    assert flag["kind"] == "walk_away"


# --- edge case 4: a client approving the agency's daily tasks -----------------------------


@pytest.mark.parametrize("control", [4, 5])
@pytest.mark.parametrize("hours", [3, 8])
def test_a_daily_task_approver_is_never_strong(control, hours):
    result = judged(
        control_level=control, decisions_owned=["daily_tasks"], update_frequency="weekly",
        weekly_hours_available=hours, goal_clarity=5, budget_band="over_150k",
    )  # fmt: skip
    assert result["band"] != "strong" and result["recommendation"] != "proceed"
    assert result["risks"]["frustrated_creative"] >= 60  # the cap on its own


@pytest.mark.parametrize(
    "extra",
    [{"update_frequency": "daily"}, {"weekly_hours_available": 10},
     {"decisions_owned": ["daily_tasks", "copy", "visual_design", "timeline", "brand_direction"]}],
    ids=["daily updates", "ten hours a week", "most decisions"],
)  # fmt: skip
def test_approving_every_daily_task_with_daily_updates_or_many_hours_is_walk_away(extra):
    answers = {"control_level": 5, "decisions_owned": ["daily_tasks"], **extra}
    result = judged(**answers)
    assert result["recommendation"] == "walk_away"
    assert "total_control_of_daily_work" in fired(result)


def test_close_control_without_a_creative_team_is_named_control():
    none = judged(control_level=5, decisions_owned=["daily_tasks"], in_house_creative="none")
    some = judged(control_level=5, decisions_owned=["daily_tasks"], in_house_creative="some")
    assert none["risk_labels"]["frustrated_creative"] == "Close control"
    assert "close control risk is 70" in none["band_note"]
    assert "frustrated creative" not in none["band_note"].lower()
    assert some["risk_labels"]["frustrated_creative"] == "Frustrated creative"
    assert "frustrated creative risk is 70" in some["band_note"]


# --- no single answer flips the recommendation --------------------------------------------


@PROFILE
@given(valid_answers(), st.data())
@pytest.mark.slow  # thousands of answer sets or a whole playbook check
def test_no_single_answer_moves_the_recommendation_by_two_steps(answers, data):
    q = get_questionnaire()
    qid = data.draw(st.sampled_from(sorted(q.questions)))
    steps = one_step(q.questions[qid], answers.get(qid))
    if not steps:
        return
    other = copy.deepcopy(answers)
    other[qid] = data.draw(st.sampled_from(steps))
    before, after = assess(answers), assess(other)
    assert abs(STEPS[before["recommendation"]] - STEPS[after["recommendation"]]) <= 1, (
        qid, answers[qid], other[qid], before["recommendation"], after["recommendation"]
    )  # fmt: skip


@pytest.mark.parametrize(
    "near, step",
    [({"control_level": 4, "decisions_owned": ["daily_tasks"], "update_frequency": "daily"},
      {"control_level": 5}),
     ({"past_agencies_count": 4, "fear_intensity": 4, "past_experience_rating": 4},
      {"past_agencies_count": 5}),
     ({"after_hours_contact": True, "expected_response_hours": "4", "update_frequency": "daily"},
      {"expected_response_hours": "1"})],
    ids=["control", "churn", "on call"],
)  # fmt: skip
def test_one_step_from_a_reason_to_walk_away_is_guarded(near, step):
    result = judged(**near)
    assert result["recommendation"] == "proceed_with_guardrails"
    assert judged(**{**near, **step})["recommendation"] == "walk_away"


@pytest.mark.slow  # thousands of answer sets or a whole playbook check
def test_playbooks_check_finds_an_answer_that_flips_the_recommendation(monkeypatch):
    assert run_flips(PLAYBOOKS, get_questionnaire()) == []
    monkeypatch.setattr(assessment_module, "near_walk_away", lambda *a: [])  # no guarded zone
    problems = [str(p) for p in run_flips(PLAYBOOKS, get_questionnaire())]
    assert any("one answer flips the recommendation" in p for p in problems), problems
    assert any(p.startswith("walk_away.yaml: ") and "proceed to walk_away" in p for p in problems)


# --- reasons that can be forwarded --------------------------------------------------------

FREE_TEXT = [qid for qid, q in get_questionnaire().questions.items() if q.type in ("text", "email")]


def test_no_reason_echoes_free_text():
    for rule in PLAYBOOKS.rules:
        if rule.because is not None:
            assert not set(rule.because.uses) & set(FREE_TEXT), f"{rule.playbook}/{rule.id}"


CLIENT_VOICE = re.compile(r"\b(our brand|our team's own|their|they|them)\b", re.IGNORECASE)


def test_every_reason_is_in_the_agencys_voice_and_gives_a_reason():
    for rule in PLAYBOOKS.rules:
        if rule.because is None:
            continue
        text = rule.because.source
        where = f"{rule.playbook}/{rule.id}"
        assert text.startswith(("You", "This is your", "A past agency", "{decision_makers}")), where
        assert not CLIENT_VOICE.search(text), where
        if rule.points < 0 or rule.risk:  # a risk sign says why it matters, or what we do
            assert re.search(r"\b(because|so that|so we|so,|so |answers that|we )", text), where


@PROFILE
@given(valid_answers())
def test_one_sentence_per_answer(answers):
    result = assess(answers)
    q = get_questionnaire()
    by_answer: dict[tuple, set[str]] = {}
    for c in result["contributions"]:
        if any(q.questions[x].type == "multi" for x in c["questions"]):
            continue  # each item of a list is an answer of its own
        by_answer.setdefault(tuple(sorted(c["questions"])), set()).add(c["because"])
    assert all(len(sentences) == 1 for sentences in by_answer.values()), by_answer
    # No free-text answer is quoted: a piece of one may only appear where the wording of
    # the sentence has it ("proj" is in "project", whatever the client typed). Rules that
    # read the same answers share one sentence (the weightiest rule's), so the wording is
    # that of any rule reading the same answers ("chec" is in another rule's "check-ins").
    wording: dict[tuple, list[str]] = {}
    for r in PLAYBOOKS.rules:
        wording.setdefault(tuple(sorted(r.reads)), []).append(r.because.source if r.because else "")
    for c in result["contributions"]:
        for qid in FREE_TEXT:
            value = answers.get(qid)
            quoted = (
                isinstance(value, str) and len(value.strip()) > 3 and value.strip() in c["because"]
            )
            if quoted:
                same = wording[tuple(sorted(c["questions"]))]
                assert any(value.strip() in w for w in same), c["because"]


def test_a_name_found_in_a_shared_sentence_is_no_quote():
    """Found by Hypothesis: a contact named "chec", and a rule whose sentence is another
    rule's (they read the same answer) with "check-ins" in it."""
    answers = {**BASELINE, "contact_name": "chec", "weekly_hours_available": 20}
    test_one_sentence_per_answer.hypothesis.inner_test(answers)


def test_the_ladders_read_as_one_reason():
    result = judged(process_familiarity=1, tactics_flexibility=1, fear_intensity=5)
    sentences = [c["because"] for c in result["contributions"]]
    familiarity = [s for s in sentences if "familiarity" in s]
    assert len(set(familiarity)) == 1 and len(familiarity) == 3
    assert len({s for s in sentences if "openness on tactics" in s}) == 1
    assert len({s for s in sentences if "overall worry" in s}) == 1


def test_replies_within_four_hours_are_not_called_near_instant():
    result = judged(expected_response_hours="4")
    because = next(
        c["because"] for c in result["contributions"] if c["rule"] == "fast_replies_expected"
    )
    assert "within four hours" in because and "instant" not in because


def test_walk_away_reasons_read_as_a_polite_decline():
    for rule in PLAYBOOKS.rules:
        if rule.flag_kind == "walk_away":
            text = rule.because.source
            assert text.startswith("You "), rule.id
            assert re.search(r"we (do not believe|could not|would rather)", text), rule.id
