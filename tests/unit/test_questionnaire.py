"""Answer validation: every error kind is reported, all at once, naming its question."""

import json

import pytest

from onboarding import AnswersInvalid, assess
from onboarding.domain.questionnaire import get_questionnaire
from tests.factories import EXAMPLES


@pytest.fixture
def answers():
    return json.loads((EXAMPLES / "burned-marketer.json").read_text())


def errors_of(answers, **kw):
    _, errors = get_questionnaire().validate(answers, **kw)
    return {e.question: e.message for e in errors}


def test_the_questionnaire_holds_every_question_of_the_contract():
    q = get_questionnaire()
    assert [s.id for s in q.sections] == [
        "about", "time", "control", "goals", "fears", "history", "process"
    ]  # fmt: skip
    assert len(q.questions) == 38  # 35 of v1, then the scope questions (all optional)
    added = [qid for qid in q.questions if q.section_of[qid] == "about"][-3:]
    assert added == ["deliverables", "content_per_week", "launch_date"]
    assert not any(q.questions[qid].required for qid in added)
    assert list(q.questions["expected_response_hours"].values) == ["1", "4", "24", "48"]
    assert q.questions["past_problems"].show_if == "worked_with_agency_before"


def test_examples_are_valid(answers):
    assert errors_of(answers) == {}


def test_unknown_question_is_an_error(answers):
    answers["favourite_colour"] = "blue"
    assert "favourite_colour" in errors_of(answers)


@pytest.mark.parametrize(
    "question, value, words",
    [
        ("timeline_weeks", "12", "whole number"),
        ("timeline_weeks", 12.5, "whole number"),
        ("timeline_weeks", True, "whole number"),
        ("timeline_weeks", 105, "between 1 and 104"),
        ("control_level", 0, "between 1 and 5"),
        ("project_type", "podcast", "not one of"),
        ("project_type", 3, "must be one of"),
        ("fears", ["failure", "failure"], "more than once"),
        ("fears", ["failure", "spiders"], "not one of"),
        ("fears", "failure", "list"),
        ("after_hours_contact", "yes", "true or false"),
        ("contact_email", "not-an-email", "valid email"),
        ("company", "x" * 161, "at most 160"),
        ("company", 7, "must be text"),
    ],
)
def test_each_kind_of_bad_value_names_its_question(answers, question, value, words):
    answers[question] = value
    errors = errors_of(answers)
    assert list(errors) == [question]
    assert words in errors[question]


def test_every_missing_required_answer_is_reported_at_once():
    errors = errors_of({})
    q = get_questionnaire()
    required = {
        qid for qid, question in q.questions.items() if question.required and not question.show_if
    }
    assert set(errors) == required
    assert all("required" in m for m in errors.values())


def test_a_draft_may_be_partial():
    assert errors_of({"company": "Acme"}, partial=True) == {}


def test_hidden_questions_are_not_required_and_their_answers_ignored(answers):
    answers["worked_with_agency_before"] = False
    del answers["past_problems"]
    assert errors_of(answers) == {}
    answers["past_problems"] = ["nonsense"]  # hidden: ignored, even when invalid
    clean, errors = get_questionnaire().validate(answers)
    assert errors == [] and clean["past_problems"] is None


def test_shown_question_is_required(answers):
    del answers["past_problems"]
    assert "required" in errors_of(answers)["past_problems"]


def test_text_is_trimmed_and_empty_means_unanswered(answers):
    answers["role"] = "   "
    answers["company"] = "  Harbour  "
    clean, errors = get_questionnaire().validate(answers)
    assert errors == [] and clean["role"] is None and clean["company"] == "Harbour"


def test_assess_raises_with_every_error():
    with pytest.raises(AnswersInvalid) as info:
        assess({"control_level": 9})
    questions = [e.question for e in info.value.errors]
    assert "control_level" in questions and "company" in questions
    assert info.value.as_dict()["errors"][0].keys() == {"question", "message"}


def test_not_a_mapping_is_one_clear_error():
    _, errors = get_questionnaire().validate(["a"])
    assert errors[0].question == "answers"


def test_every_choice_has_a_human_label():
    # YAML reads a bare No as false: labels must stay words a person reads.
    for q in get_questionnaire().questions.values():
        for value, label in q.values.items():
            assert label not in ("True", "False", "None", ""), (q.id, value)
    assert get_questionnaire().questions["in_house_creative"].display("none") == "No"


def test_every_problem_of_an_answer_is_listed_not_only_the_first(answers):
    # issue 25: an invalid decision used to hide behind a duplicate.
    answers["decisions_owned"] = ["daily_tasks", "daily_tasks", "approve_everything"]
    answers["company"] = "Tab\tand\x1b escape " + "x" * 170
    _, errors = get_questionnaire().validate(answers)
    messages = [(e.question, e.message) for e in errors]
    assert messages == [
        (
            "company",
            "Company or organisation: contains a control character that cannot be typed: remove it",
        ),
        ("company", "Company or organisation: must be at most 160 characters (got 186)"),
        (
            "decisions_owned",
            "Which decisions do you want to make yourself: 'daily_tasks' is listed more than once",
        ),
        (
            "decisions_owned",
            "Which decisions do you want to make yourself: 'approve_everything' is not one of: "
            "brand_direction, copy, visual_design, vendor_choice, budget_allocation, "
            "timeline, daily_tasks",
        ),
    ]


@pytest.mark.parametrize("value", [24, 24.0])
def test_a_number_given_for_a_listed_value_says_to_give_it_as_text(answers, value):
    # issue 25: "24" is one of the listed values; 24 as a number was "must be one of".
    answers["expected_response_hours"] = value
    _, errors = get_questionnaire().validate(answers)
    assert [e.message for e in errors] == [
        get_questionnaire().questions["expected_response_hours"].label.rstrip("?")
        + ': give one of the listed values as text: "24"'
    ]
