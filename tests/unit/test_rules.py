"""The condition language: readable, checked against the questionnaire, never eval."""

import pytest

from onboarding.domain.questionnaire import get_questionnaire
from onboarding.domain.rules import ConditionError, compile_condition, polarity

Q = get_questionnaire()


def cond(text):
    return compile_condition(text, Q)


@pytest.mark.parametrize(
    "text, answers, expected",
    [
        ('control_level >= 4 and "daily_tasks" in decisions_owned',
         {"control_level": 4, "decisions_owned": ["daily_tasks"]}, True),
        ('control_level >= 4 and "daily_tasks" in decisions_owned',
         {"control_level": 5, "decisions_owned": ["copy"]}, False),
        ("control_level > 3 or fear_intensity = 5",
         {"control_level": 1, "fear_intensity": 5}, True),
        ("not after_hours_contact", {"after_hours_contact": False}, True),
        ("after_hours_contact == false", {"after_hours_contact": False}, True),
        ('update_frequency in ["daily", "few_per_week"]', {"update_frequency": "daily"}, True),
        ("update_frequency != 'weekly'", {"update_frequency": "weekly"}, False),
        ('"weekly" = update_frequency', {"update_frequency": "weekly"}, True),
        ("count(fears) >= 2", {"fears": ["failure", "skills_gap"]}, True),
        ("count(fears) >= 2", {"fears": None}, False),
        ("answered(success_metrics)", {"success_metrics": None}, False),
        ("not answered(success_metrics)", {"success_metrics": None}, True),
        ('"budget_overrun" not in fears', {"fears": ["failure"]}, True),
        ("timeline_weeks in [4, 8]", {"timeline_weeks": 8}, True),
        ("3 < control_level", {"control_level": 4}, True),
        ("(control_level >= 4 or fear_intensity >= 4) and not after_hours_contact",
         {"control_level": 4, "fear_intensity": 1, "after_hours_contact": True}, False),
    ],
)  # fmt: skip
def test_conditions_evaluate_as_read(text, answers, expected):
    assert cond(text)(answers) is expected


def test_an_unanswered_optional_question_makes_comparisons_false():
    c = cond("past_experience_rating <= 2")
    assert c({"past_experience_rating": None}) is False
    assert cond("not past_experience_rating <= 2")({"past_experience_rating": None}) is True


def test_reads_lists_the_questions_in_order():
    c = cond("worked_with_agency_before and past_experience_rating <= 2 and count(fears) > 1")
    assert c.reads == ("worked_with_agency_before", "past_experience_rating", "fears")


@pytest.mark.parametrize(
    "text, words",
    [
        ("control_leve >= 4", "unknown question 'control_leve'"),
        ('update_frequency = "hourly"', "'hourly' is not a value of 'update_frequency'"),
        ('"spiders" in fears', "'spiders' is not a value of 'fears'"),
        ('update_frequency in ["daily", "yearly"]', "'yearly' is not a value"),
        ("control_level >= 9", "outside the range of 'control_level'"),
        ("control_level >=", "ends too early"),
        ("control_level >= 4 and", "ends too early"),
        ("control_level => 4", "unexpected"),
        ("control_level >= 4; import os", "unexpected"),
        ("__import__('os')", "unexpected"),
        ("company", "must be yes/no"),
        ('control_level > "high"', "cannot compare"),
        ('update_frequency > "daily"', "only be compared with = or !="),
        ("count(control_level) > 1", "needs a multi question"),
        ("len(fears) > 1", "unknown function 'len'"),
        ("", "empty"),
    ],
)
def test_bad_conditions_are_refused_with_the_reason(text, words):
    with pytest.raises(ConditionError) as info:
        cond(text)
    assert words in str(info.value)


@pytest.mark.parametrize(
    "text, direction",
    [
        ("control_level >= 4", "up"),
        ("control_level < 3", "down"),
        ("4 <= control_level", "up"),
        ("not control_level >= 4", "down"),
        ("control_level = 4", "mixed"),
        ('"failure" in fears', "up"),
        ('"failure" not in fears', "down"),
        ("count(fears) >= 3", "up"),
        ("control_level >= 4 and control_level <= 4", "mixed"),
        ("fear_intensity >= 4", "none"),
    ],
)
def test_polarity_tells_how_a_condition_moves_with_an_answer(text, direction):
    question = "fears" if "fears" in text else "control_level"
    assert polarity(cond(text).tree, question) == direction
