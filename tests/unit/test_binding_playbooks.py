"""The playbooks write binding text only (issue 24): every clause template, whatever the
answers, is neutral contract language in defined terms. The rendered documents are
checked in tests/integration/test_binding_text.py; this checks the source, fast, so a
playbook author learns at once."""

from __future__ import annotations

import re

from onboarding.domain.playbooks import get_playbooks
from onboarding.domain.questionnaire import get_questionnaire

# Facts that state the client's wish (onboarding.domain.templates.FACTS): the proposal's.
WISH_FACTS = {"asked_response_time", "asked_update_cadence", "asked_revisions"}
# Answers a clause may fill in: names, the plan and lists of choices, never the client's
# own words (the goal, the measures, the tactics, the worry, notes) nor a wish the
# agreement resolves to its own level.
ALLOWED_ANSWERS = {"contact_name", "company", "role", "project_type", "timeline_weeks"}
PHRASES = (
    "asked", "own words", "client's words", "wish", "would like", "prefers", "because you",
    "so that the client", "rather than", "to make that", "portal", "emergency", "task list",
    "weekly meeting", "once a week for", "every working day", "only with the client's",
)  # fmt: skip
ASSESSMENT = re.compile(r"\b(scores?|bands?|risks?|fit|fears?|worr(y|ies|ied))\b", re.IGNORECASE)


def clauses():
    return [(rule.playbook, rule.id, c) for rule in get_playbooks().rules for c in rule.clauses]


def test_no_clause_states_a_wish_or_quotes_the_client():
    q = get_questionnaire()
    for playbook, rule, clause in clauses():
        where = f"{playbook}/{rule}/{clause.id}"
        assert not set(clause.text.facts) & WISH_FACTS, where
        quoted = [qid for qid in clause.text.uses if qid not in ALLOWED_ANSWERS]
        assert not quoted, (where, quoted)
        assert '"' not in clause.text.source and "\u201c" not in clause.text.source, where
        assert all(q.questions[qid].type != "text" or qid in ALLOWED_ANSWERS
                   for qid in clause.text.uses), where  # fmt: skip


def test_no_clause_explains_motives_promises_the_unpriced_or_assesses():
    for playbook, rule, clause in clauses():
        where = f"{playbook}/{rule}/{clause.id}"
        text = " ".join(f"{clause.title} {clause.text.source}".lower().split())
        for phrase in PHRASES:
            assert phrase not in text, (where, phrase)
        found = ASSESSMENT.search(text)
        assert found is None, (where, found and found.group(0))


def test_clauses_speak_of_the_parties_in_defined_terms():
    for _, _, clause in clauses():
        text = clause.text.source
        assert not re.search(r"\b(you|your|we|our|us)\b", text, re.IGNORECASE), clause.id
        assert not re.search(r"\bthe (client|agency)\b", text), clause.id  # capitalised


def test_wishes_beyond_the_standard_add_no_clause():
    # A portal, a weekly meeting and a task list kept daily are priced options (the
    # proposal's), never a clause: the rules that read those wishes write none.
    rules = {rule.id: rule for rule in get_playbooks().rules}
    for rule_id in ("wants_live_dashboard", "many_free_hours", "daily_updates"):
        assert rules[rule_id].clauses == (), rule_id
    gone = {"project_portal", "weekly_touchpoint", "daily_update_format"}
    assert not gone & {c.id for _, _, c in clauses()}
