"""The compiled validation and evaluation say exactly what the interpreted ones said.

Thousands of generated answer sets, valid and broken in every way the contract names,
go through both paths (tests/interpreted.py keeps the interpreted one: validators,
conditions, templates and the rule-by-rule evaluation); the JSON of the errors and of
the assessments must be the same, byte for byte, keys in the same order.
"""

import json
import random
from pathlib import Path

import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import given, settings
from hypothesis import strategies as st

from onboarding.domain.assessment import evaluate, one_step
from onboarding.domain.playbooks import get_playbooks
from onboarding.domain.questionnaire import _plain_email, get_questionnaire
from onboarding.domain.rules import interpreted, to_python
from onboarding.domain.samples import random_answers
from tests import interpreted as reference
from tests.strategies import valid_answers

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
Q = get_questionnaire()
COMPILED = get_playbooks()
INTERPRETED = reference.playbooks(COMPILED, Q)

# Wrong answers of every kind: wrong JSON types, numbers given as text and text as
# numbers, values off the list, repeats, control characters, overlong text, odd dates.
BAD = [
    None, True, False, 0, 1, 3, 24, 24.0, 2.5, -1, 10**6, float("nan"), "", "  ", "x",
    "24", "4", "daily", "weekly", "other", [], ["x"], ["copy", "copy"],
    ["daily_tasks", "daily_tasks", "nope"], ["failure", 3, "failure", None], [["copy"]],
    {"a": 1}, "line\nbreak", "nul\x00here", "tab\there", "esc\x1b[31m", "a" * 1200,
    "2027-02-30", "2027-1-5", "1999-12-31", "2027-06-01", "20270601",
    "not-an-email", "Priya@Example.COM", "a..b@example.com", "x@localhost", "x@y.test",
    "p@bücher.de", "user+tag@sub.example.co.uk", " spaced@example.com ",
]  # fmt: skip


def mangle(rng: random.Random, answers: dict) -> dict:
    """A valid answer set with a few answers replaced by wrong ones (or dropped)."""
    answers = dict(answers)
    for qid in rng.sample(list(Q.questions), rng.randint(1, 6)):
        roll = rng.random()
        if roll < 0.15:
            answers.pop(qid, None)
        elif roll < 0.3:
            question = Q.questions[qid]
            if question.values:
                keys = list(question.values)
                answers[qid] = [rng.choice(keys) for _ in range(rng.randint(0, 4))] + (
                    ["bogus"] if rng.random() < 0.5 else []
                )
        else:
            answers[qid] = rng.choice(BAD)
    if rng.random() < 0.1:
        answers["not_a_question"] = 1
    return answers


def as_json(result) -> str:
    clean, errors = result
    return json.dumps([clean, [e.as_dict() for e in errors]], sort_keys=True, default=repr)


@pytest.mark.slow  # thousands of answer sets or a whole playbook check
def test_validation_matches_the_interpreted_path_on_thousands_of_answer_sets():
    rng = random.Random(2028)
    checked = 0
    for _ in range(1500):
        answers = mangle(rng, random_answers(rng, Q))
        for partial, form in ((False, False), (True, False), (False, True), (True, True)):
            compiled = Q.validate(answers, partial=partial, form=form)
            expected = reference.validate(Q, answers, partial=partial, form=form)
            assert as_json(compiled) == as_json(expected), (answers, partial, form)
            checked += 1
    assert checked == 6000


@pytest.mark.slow  # thousands of answer sets or a whole playbook check
def test_assessments_match_the_interpreted_path_on_thousands_of_answer_sets():
    rng = random.Random(2029)
    for _ in range(2500):
        clean, errors = Q.validate(random_answers(rng, Q))
        assert not errors
        compiled = json.dumps(evaluate(clean, COMPILED, Q))  # the keys' order too
        assert compiled == json.dumps(reference.evaluate(clean, INTERPRETED, Q))


@settings(max_examples=300, deadline=None)
@given(valid_answers())
@pytest.mark.slow  # thousands of answer sets or a whole playbook check
def test_generated_answers_give_the_same_errors_and_assessment(answers):
    compiled = Q.validate(answers)
    assert as_json(compiled) == as_json(reference.validate(Q, answers))
    clean, errors = compiled
    if not errors:
        assert json.dumps(evaluate(clean, COMPILED, Q)) == json.dumps(
            reference.evaluate(clean, INTERPRETED, Q)
        )


def test_every_condition_compiles_to_the_interpreted_truth():
    rng = random.Random(7)
    sets = [Q.validate(random_answers(rng, Q))[0] for _ in range(300)]
    sets += [dict.fromkeys(Q.questions)]  # nothing answered: comparisons are false
    for rule in COMPILED.rules:
        if rule.condition is None:
            continue
        slow = interpreted(rule.condition.tree, Q)
        for clean in sets:
            assert bool(rule.condition.evaluate(clean)) == bool(slow(clean)), (
                rule.id,
                to_python(rule.condition.tree),
            )


EMAIL_CHARS = "abcXYZ019._+-@!#'~ü\u00a0"


@settings(max_examples=2000, deadline=None)
@given(
    st.one_of(
        st.text(alphabet=EMAIL_CHARS, max_size=40),
        st.from_regex(
            r"[A-Za-z0-9._+-]{1,12}@[A-Za-z0-9-]{1,8}(\.[A-Za-z0-9-]{1,8}){1,3}", fullmatch=True
        ),
    )
)
@pytest.mark.slow  # thousands of answer sets or a whole playbook check
def test_a_plain_address_is_normalised_exactly_as_email_validator_does(address):
    fast = _plain_email(address)
    if fast is None:
        return  # the library decides
    try:
        expected = validate_email(address, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        pytest.fail(f"{address!r} accepted by the fast path, refused by the library: {exc}")
    assert fast == expected


@pytest.mark.parametrize(
    "address", ["a@b.co", "Priya.Raman+x@Example.COM", "a-b_c@x-y.example.org", "a@b.c0m"]
)
def test_plain_addresses_take_the_fast_path(address):
    if address.endswith("c0m"):
        assert _plain_email(address) is None  # a digit in the top-level domain: the library
    else:
        assert (
            _plain_email(address) == validate_email(address, check_deliverability=False).normalized
        )


@pytest.mark.slow  # a few thousand assessments, twice
def test_every_shipped_example_gets_the_interpreted_assessment():
    """The playbooks' own examples and the example files: the strong bands among them go
    through the "one answer away from walking away" search, which generated sets rarely
    reach."""
    sets = [example.answers for pb in COMPILED.playbooks for example in pb.examples]
    sets += [
        json.loads(path.read_text())
        for path in sorted(EXAMPLES.glob("*.json"))
        if not path.name.endswith(".terms.json")
    ]
    cleans = [Q.validate(answers)[0] for answers in sets]  # examples may leave some out
    # Each strong one with one answer moved one step, then one more of the answers the
    # walk-away signs read: some one answer away from a walk-away sign, some not.
    signs = {qid for rule in COMPILED.rules if rule.flag_kind == "walk_away" for qid in rule.reads}
    for questions in (Q.questions, signs):
        cleans += [
            {**clean, qid: other}
            for clean in cleans
            if evaluate(clean, COMPILED, Q)["band"] == "strong"
            for qid in questions
            for other in one_step(Q.questions[qid], clean.get(qid))
        ]
    bands = set()
    for clean in cleans:
        compiled = evaluate(clean, COMPILED, Q)
        assert json.dumps(compiled) == json.dumps(reference.evaluate(clean, INTERPRETED, Q))
        bands.add((compiled["band"], compiled["band_cap"]))
    assert {("guarded", "walk_away"), ("strong", None)} <= bands
