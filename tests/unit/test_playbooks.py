"""Playbook files: they load, their examples hold, and a broken copy is caught."""

import shutil

import pytest

from onboarding.domain.checking import check, fired_rules
from onboarding.domain.playbooks import PLAYBOOK_IDS, default_playbooks_dir, load_playbooks
from onboarding.domain.questionnaire import get_questionnaire

PLAYBOOKS = load_playbooks()
EXAMPLES = [(pb.id, ex) for pb in PLAYBOOKS.playbooks for ex in pb.examples]


def test_every_step_has_its_playbook_with_rules_and_examples():
    assert [pb.id for pb in PLAYBOOKS.playbooks] == list(PLAYBOOK_IDS)
    for pb in PLAYBOOKS.playbooks:
        assert pb.rules and pb.examples, pb.id


@pytest.mark.slow
def test_the_shipped_playbooks_pass_their_own_check():
    assert check(default_playbooks_dir()) == []


@pytest.mark.parametrize("playbook, example", EXAMPLES, ids=[f"{p}: {e.name}" for p, e in EXAMPLES])
def test_playbook_example(playbook, example):
    clean, errors = get_questionnaire().validate({**PLAYBOOKS.baseline, **example.answers})
    assert errors == []
    fired = fired_rules(clean, PLAYBOOKS, playbook)
    assert set(example.fires) <= fired
    assert not set(example.not_fires) & fired


def test_the_baseline_client_triggers_no_penalty():
    clean, _ = get_questionnaire().validate(PLAYBOOKS.baseline)
    for pb in PLAYBOOKS.playbooks:
        for rule in pb.rules:
            if rule.id in fired_rules(clean, PLAYBOOKS, pb.id):
                assert rule.points >= 0 and not rule.red_flag, rule.id


@pytest.fixture
def broken(tmp_path):
    target = tmp_path / "playbooks"
    shutil.copytree(default_playbooks_dir(), target)
    return target


def replace(path, old, new):
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


@pytest.mark.slow
@pytest.mark.parametrize(
    "file, old, new, expected",
    [
        ("build_trust.yaml", "past_experience_rating <= 2", "past_experiense_rating <= 2",
         "build_trust.yaml: burned_before: condition: unknown question 'past_experiense_rating'"),
        ("build_trust.yaml", '"missed_deadlines" in past_problems', '"late" in past_problems',
         "build_trust.yaml: missed_deadlines_before: condition: 'late' is not a value of"),
        ("build_trust.yaml", "past_agencies_count >= 3", "past_agencies_count >=",
         "build_trust.yaml: many_agencies: condition: the condition ends too early"),
        ("build_trust.yaml", "past_agencies_count >= 3", "past_agencies_count <= 3",
         "build_trust.yaml: many_agencies: a higher past_agencies_count must never improve"),
        ("build_trust.yaml", "section: process", "section: pricing",
         "build_trust.yaml: burned_before: clause early_win: unknown section 'pricing'"),
        ("build_trust.yaml", "presents a first tangible result", "presents {compnay} a result",
         "build_trust.yaml: burned_before: clause early_win: unknown placeholder {compnay}"),
        ("build_trust.yaml", "fires: [many_agencies]", "fires: [burned_before]",
         "build_trust.yaml: burned_before: should fire in example 'a client who changes"),
        ("build_trust.yaml", "points: -4", "points: lots",
         "build_trust.yaml: burned_before: points must be a whole number"),
        ("build_trust.yaml", "id: build_trust", "id: build_trusts",
         "build_trust.yaml: -: id 'build_trusts' is not one of the ten steps"),
    ],
)  # fmt: skip
def test_check_names_the_file_the_rule_and_the_problem(broken, file, old, new, expected):
    replace(broken / file, old, new)
    problems = check(broken)
    assert any(p.startswith(expected) for p in problems), problems


@pytest.mark.slow
def test_check_reports_invalid_yaml_and_missing_playbooks(broken):
    (broken / "educate.yaml").write_text("id: educate\nrules: [\n")
    (broken / "lead.yaml").unlink()
    problems = check(broken)
    assert any(p.startswith("educate.yaml: line") and "not valid YAML" in p for p in problems)
    assert "lead.yaml: -: missing: every step needs its playbook" in problems


@pytest.mark.slow
def test_the_version_changes_when_a_playbook_changes(broken):
    before = load_playbooks(broken).version
    replace(broken / "build_trust.yaml", "risk: 30", "risk: 35")
    assert load_playbooks(broken).version != before


def test_a_placeholder_filter_lowers_labels_mid_sentence():
    from onboarding.domain.templates import TemplateError, compile_template

    q = get_questionnaire()
    template = compile_template("They own {decisions_owned|lower}.", q)
    text = template.render({"decisions_owned": ["brand_direction", "copy"]}, q)
    assert text == "They own brand direction and copy and wording."
    with pytest.raises(TemplateError, match="unknown filter |upper"):
        compile_template("{company|upper}", q)


def test_rules_offer_an_option_for_each_wish_beyond_the_standard():
    offers = {r.id: r.offer for r in PLAYBOOKS.rules if r.offer}
    assert offers["fast_replies_expected"] == ("priority_replies",)
    assert offers["many_revision_rounds"] == ("extra_revision_round",)
    assert offers["frequent_updates"] == ("weekly_call",)
    assert offers["wants_live_dashboard"] == ("shared_task_board",)
    assert offers["after_hours_expected"] == ("out_of_hours_cover",)


@pytest.mark.slow
def test_check_reports_an_offer_the_demo_profile_lacks_and_a_malformed_one(broken):
    replace(broken / "value_time.yaml", "offer: [weekly_call]", "offer: [weekly_meeting]")
    problems = check(broken)
    assert any(
        p.startswith("value_time.yaml: frequent_updates: offer 'weekly_meeting' is not an option")
        for p in problems
    ), problems
    replace(broken / "set_boundaries.yaml", "offer: [priority_replies]", "offer: fast please")
    problems = check(broken)
    assert any(
        p.startswith("set_boundaries.yaml: fast_replies_expected: offer must be a list")
        for p in problems
    ), problems
