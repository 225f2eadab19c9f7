"""One value, one wording: a reply time in one unit everywhere, escalation and dispute
periods from one resolved value, numbers written one way; and `onboarding playbooks
check` failing, naming the clause and the words, when any of them is written otherwise."""

import datetime as dt
import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from onboarding import assess
from onboarding.cli import main
from onboarding.domain.agreement import compose
from onboarding.domain.consistency import check_agreement, standard_problems
from onboarding.domain.terms import default_profile, load_profile, parse_terms
from tests.factories import EXAMPLES

PLAYBOOKS = Path(__file__).resolve().parents[2] / "playbooks"
DAY = dt.date(2026, 12, 1)


def load(name):
    return json.loads((EXAMPLES / f"{name}.json").read_text())


def agreement_of(name, terms=None, profile=None):
    answers = load(name)
    result = assess(answers)
    agreement = compose(answers, result, date=DAY, terms=parse_terms(terms or {}), profile=profile)
    return agreement, answers, result


def text_of(agreement):
    parts = [i.text for i in agreement.summary]
    parts += [c.text for c in agreement.clauses]
    return " ".join(" ".join(parts).split())


# --- the shipped sources state each value one way ---------------------------------------


@pytest.mark.parametrize(
    ("hours", "words"),
    [
        (24, "within one working day"),
        (4, "within four working hours"),
        (48, "within two working days"),
    ],
)
def test_every_reply_time_is_the_agreed_one_in_one_unit(hours, words):
    """The availability clauses and the interactive supplement ("acknowledges each
    report ...") give the same reply time, in the same words."""
    agreement, *_ = agreement_of(
        "burned-marketer",
        {"service_levels": {"response_hours": hours}, "supplements": ["interactive"]},
    )
    text = text_of(agreement)
    assert f"acknowledges each report {words}" in text
    assert f"answered {words}" in text
    others = {
        m.group(0) for m in re.finditer(r"within (?:an? |\w+ )?working (?:hours?|days?)", text)
    }
    assert not re.search(r"\b\d+ working hours?\b", text)
    assert words in others


@pytest.mark.parametrize(("days", "words"), [(3, "three"), (5, "five"), (12, "12")])
def test_escalation_and_the_dispute_procedure_share_one_period(days, words):
    profile = load_profile({**default_profile().as_dict(), "escalation_days": days})
    agreement, answers, result = agreement_of("hands-on-director", profile=profile)
    period = f"{words} working days"
    escalation = next(c for c in agreement.clauses if c.id == "escalation_path").text
    dispute = next(c for c in agreement.clauses if c.id == "governing_law_and_disputes").text
    periods = re.compile(r"within (?:a further )?([\w-]+ (?:working )?days)")
    assert periods.findall(escalation) == [period]  # the account director's reply
    assert periods.findall(dispute) == [period, period]
    # The steps after it are the dispute procedure's, named by its title, not restated.
    assert "Governing law and disputes" in escalation and "meet within" not in escalation
    assert check_agreement(agreement, answers, result, profile=profile) == []


def test_a_count_is_written_the_same_way_in_the_summary_and_the_clauses():
    agreement, *_ = agreement_of("burned-marketer")
    reviews = len(agreement.roadmap.review_weeks)
    word = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight"][reviews]
    summary = " ".join(i.text for i in agreement.summary)
    clause = next(c for c in agreement.clauses if c.id == "milestone_schedule").text
    assert f"({word} in all)" in summary and f"{word} in all)" in clause
    assert f"{reviews} in all" not in text_of(agreement)
    rounds = agreement.terms["service_levels"]["revision_rounds"]
    assert f"{rounds} rounds" not in text_of(agreement)  # "two rounds" everywhere


# --- the check catches each of them, introduced ----------------------------------------


@pytest.mark.parametrize(
    ("section", "title", "text", "words", "use"),
    [
        ("availability", "Support", "It acknowledges each report within 24 working hours.",
         "24 working hours", "{response_time}"),
        ("availability", "Support", "Messages are answered within a working day.",
         "answered within a working day", "{response_time}"),
        ("escalation", "Escalation", "The director responds within two working days, then the "
         "parties meet within a further five working days.", "two working days",
         "{escalation_period}"),
        ("general", "Disputes", "Senior people meet within 14 days.", "14 days",
         "{escalation_period}"),
        ("process", "Phases", "Each phase ends with a review ({phase:Discovery}): 5 in all.",
         "5 in all", "in words"),
    ],
)  # fmt: skip
def test_a_clause_template_stating_a_value_its_own_way_is_named(section, title, text, words, use):
    from onboarding.domain.consistency import template_problems
    from onboarding.domain.questionnaire import get_questionnaire

    problems = template_problems("pb/some_clause", section, text, get_questionnaire(), title)
    assert problems and all(p.clauses == ("pb/some_clause",) for p in problems)
    assert any(words in p.message and use in p.message for p in problems), problems


def test_placeholders_and_other_numbers_are_not_mistaken_for_them():
    from onboarding.domain.consistency import template_problems
    from onboarding.domain.questionnaire import get_questionnaire

    text = (
        "Messages are answered {response_time}; the parties meet once a week for 30 minutes "
        "from 9:00, and the Agency needs about two hours a week of the Client's time "
        "({review_count} reviews in {discovery_length})."
    )
    assert template_problems("pb/fine", "availability", text, get_questionnaire(), "Fine") == []


# --- `onboarding playbooks check` catches each of them, introduced ----------------------


def run_check(folder):
    return CliRunner().invoke(main, ["playbooks", "check", str(folder)])


def introduce(tmp_path, file, old, new):
    folder = tmp_path / "playbooks"
    shutil.copytree(PLAYBOOKS, folder)
    path = folder / file
    text = path.read_text()
    assert old in text, f"{file} no longer says {old!r}: update the example"
    path.write_text(text.replace(old, new, 1))
    return folder


@pytest.mark.slow  # runs `onboarding playbooks check` on a copied folder
def test_the_shipped_playbooks_and_standard_terms_pass_the_wording_check():
    result = run_check(PLAYBOOKS)
    assert result.exit_code == 0, result.output
    assert standard_problems(default_profile()) == []


@pytest.mark.slow  # runs `onboarding playbooks check` on a copied folder
def test_check_catches_a_reply_time_in_another_unit(tmp_path):
    """ "acknowledges each report within 24 working hours" beside "one working day"."""
    folder = introduce(
        tmp_path,
        "set_boundaries.yaml",
        "a first answer may say when the full\n          reply follows.",
        "a first answer may say when the full\n          reply follows. The Agency "
        "acknowledges each report\n          within 24 working hours.",
    )
    result = run_check(folder)
    assert result.exit_code == 1, result.output
    line = next(x for x in result.output.splitlines() if "24 working hours" in x)
    assert line.startswith("set_boundaries.yaml: working_hours_and_response:")
    assert "{response_time}" in line


@pytest.mark.slow  # runs `onboarding playbooks check` on a copied folder
def test_check_catches_escalation_periods_of_their_own(tmp_path):
    """Escalation "2 working days" beside the dispute procedure's periods."""
    folder = introduce(
        tmp_path,
        "lead.yaml",
        "who responds within\n          {escalation_period}.",
        "who responds within\n          two working days.",
    )
    result = run_check(folder)
    assert result.exit_code == 1, result.output
    named = [x for x in result.output.splitlines() if x.startswith("lead.yaml: escalation_path:")]
    assert any('"two working days"' in x for x in named), result.output
    assert all("{escalation_period}" in x for x in named)


@pytest.mark.slow  # runs `onboarding playbooks check` on a copied folder
def test_check_catches_a_number_written_in_figures(tmp_path):
    """ "five in all" (the summary) beside "5 in all" (the milestone clause)."""
    folder = introduce(
        tmp_path,
        "share_process.yaml",
        "{plan_phases} The Agency confirms",
        "{plan_phases} Reviews: 5 in all. The Agency confirms",
    )
    result = run_check(folder)
    assert result.exit_code == 1, result.output
    line = next(x for x in result.output.splitlines() if "5 in all" in x)
    assert line.startswith("share_process.yaml: milestone_schedule:")
    assert "in words" in line


def test_a_dispute_clause_with_periods_of_its_own_is_caught_in_the_standard_terms():
    """The dispute procedure's "14 + 14 days" in an agency profile: named by the check
    of the profile and of every agreement composed with it."""
    data = default_profile().as_dict()
    for clause in data["standard_clauses"]:
        if clause["id"] == "governing_law_and_disputes":
            clause["text"] = clause["text"].replace("{escalation_days}", "14 days")
    profile = load_profile(data)
    problems = standard_problems(profile)
    assert [p.clauses for p in problems] == [("standard terms/governing_law_and_disputes",)] * 2
    assert all('"14 days"' in p.message and "{escalation_days}" in p.message for p in problems)
    agreement, answers, result = agreement_of("calm-founder", profile=profile)
    found = check_agreement(agreement, answers, result, profile=profile)
    number = next(c.number for c in agreement.clauses if c.id == "governing_law_and_disputes")
    assert {p.clauses for p in found} == {(f"clause {number} (governing_law_and_disputes)",)}


def test_a_reply_time_in_hours_in_the_standard_terms_is_caught():
    data = default_profile().as_dict()
    for clause in data["standard_clauses"]:
        if clause["id"] == "supplement_interactive_support":
            clause["text"] = clause["text"].replace(
                "acknowledges each report {response_hours}",
                "acknowledges each report within 24 hours",
            )
    problems = standard_problems(load_profile(data))
    assert [p.clauses for p in problems] == [("standard terms/supplement_interactive_support",)]
    assert "within 24 hours" in problems[0].message and "{response_hours}" in problems[0].message
