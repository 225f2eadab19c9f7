"""``onboarding playbooks check``: load a playbook folder, run its examples, and check
that the agreements it writes do not contradict themselves.

Every example's answers are merged over the folder's ``_baseline.yaml`` and must
validate; the rules it lists under ``fires`` must fire and those under ``not_fires``
must not. Then the consistency check (:mod:`.consistency`) runs over every clause
template and over the agreement of every example and of :data:`GENERATED` generated
answer sets. Problems are lines ``file: rule: message``.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from typing import Any

from onboarding.domain import consistency
from onboarding.domain.agreement import compose
from onboarding.domain.assessment import STEPS, evaluate, one_step
from onboarding.domain.playbooks import PlaybookSet, Problem, check_dir
from onboarding.domain.questionnaire import Questionnaire, get_questionnaire
from onboarding.domain.samples import random_answers

GENERATED = 300
"""Generated answer sets whose agreements the check composes (a fixed seed: repeatable)."""
FLIP_GENERATED = 100
"""Generated answer sets searched, with the examples, for one answer that flips the
recommendation between proceed and walk_away (assessment.md v1.2)."""


def fired_rules(clean: dict[str, Any], playbooks: PlaybookSet, playbook_id: str) -> set[str]:
    """Ids of the rules of one playbook whose condition holds for ``clean`` answers."""
    return {
        r.id
        for r in playbooks.rules
        if r.playbook == playbook_id and (r.condition is None or r.condition(clean))
    }


def run_examples(playbooks: PlaybookSet, questionnaire: Questionnaire) -> list[Problem]:
    """Run every playbook's examples; return the problems found."""
    problems: list[Problem] = []
    for pb in playbooks.playbooks:
        covered: set[str] = set()
        for ex in pb.examples:
            where = f"example {ex.name!r}"
            answers = {**playbooks.baseline, **ex.answers}
            clean, errors = questionnaire.validate(answers)
            for e in errors:
                problems.append(
                    Problem(pb.file, where, f"answers invalid: {e.question}: {e.message}")
                )
            if errors:
                continue
            fired = fired_rules(clean, playbooks, pb.id)
            covered |= set(ex.fires)
            for rid in ex.fires:
                if rid not in fired:
                    problems.append(Problem(pb.file, rid, f"should fire in {where} but does not"))
            for rid in ex.not_fires:
                if rid in fired:
                    problems.append(Problem(pb.file, rid, f"should not fire in {where} but does"))
            result = evaluate(clean, playbooks, questionnaire)  # must not raise
            problems += expected_outcome(pb.file, where, ex, result)
        for rule in pb.rules:
            if rule.condition is not None and rule.id not in covered:
                problems.append(Problem(pb.file, rule.id, "no example shows this rule firing"))
    return problems


def capped_by(result: dict[str, Any]) -> str:
    """What capped an assessment's band (a cause, ``scope`` or ``walk_away``), or none."""
    if not result.get("band_note"):
        return "none"
    if result.get("band_cap"):
        return result["band_cap"]
    return max(result["risks"], key=result["risks"].__getitem__)


def expected_outcome(file: str, where: str, example, result: dict[str, Any]) -> list[Problem]:
    """An example's expected band, band note and recommendation against its assessment."""
    problems = []
    score = f"score {result['score']}, risks " + ", ".join(
        f"{c} {v}" for c, v in result["risks"].items() if v
    )
    if example.band and result["band"] != example.band:
        problems.append(
            Problem(file, where, f"should be {example.band} but is {result['band']} ({score})")
        )
    if example.band_note and capped_by(result) != example.band_note:
        problems.append(
            Problem(
                file, where, f"band_note should name {example.band_note} but names "
                f"{capped_by(result)} ({score})"
            )
        )  # fmt: skip
    if example.recommendation and result["recommendation"] != example.recommendation:
        problems.append(
            Problem(
                file, where, f"should recommend {example.recommendation} but recommends "
                f"{result['recommendation']} ({score})"
            )
        )  # fmt: skip
    return problems


def check(directory: Path | str, questionnaire: Questionnaire | None = None) -> list[str]:
    """Every problem of a playbook folder (load errors, then failing examples), as lines."""
    q = questionnaire or get_questionnaire()
    playbooks, problems = check_dir(directory, q)
    if playbooks is not None:
        problems = run_examples(playbooks, q)
        problems += offers_missing(playbooks)
        problems += run_flips(playbooks, q)
        problems += run_consistency(playbooks, q)
    return [str(p) for p in problems]


def offers_missing(playbooks: PlaybookSet, profile: Any = None) -> list[Problem]:
    """Each ``offer`` naming an option the (shipped demo) profile's rate card lacks: a
    proposal would fall back to "what we do instead" without the author knowing."""
    from onboarding.domain.terms import default_profile

    card = {o.id for o in (profile or default_profile()).options}
    return [
        Problem(
            f"{rule.playbook}.yaml",
            rule.id,
            f"offer {oid!r} is not an option of the demo "
            f"profile's rate card (options: {', '.join(sorted(card)) or 'none'})",
        )  # fmt: skip
        for rule in playbooks.rules
        for oid in rule.offer
        if oid not in card
    ]


def run_consistency(
    playbooks: PlaybookSet, questionnaire: Questionnaire, generated: int = GENERATED
) -> list[Problem]:
    """Contradictions in the clause templates, then in the agreements of the examples and
    of generated answer sets; each distinct problem once."""
    problems = [
        Problem(p.clauses[0].split("/")[0] + ".yaml", p.clauses[0].split("/")[-1], p.message)
        for p in consistency.check_playbooks(playbooks, questionnaire)
    ]
    sets = [
        (f"example {ex.name!r} of {pb.file}", {**playbooks.baseline, **ex.answers})
        for pb in playbooks.playbooks
        for ex in pb.examples
    ]
    rng = random.Random(20261201)  # noqa: S311 - reproducible test data
    sets += [
        (f"generated answers #{i}", random_answers(rng, questionnaire)) for i in range(generated)
    ]
    seen: set[str] = set()
    day = dt.date(2026, 1, 5)
    for where, answers in sets:
        clean, errors = questionnaire.validate(answers)
        if errors:
            continue
        result = evaluate(clean, playbooks, questionnaire)
        agreement = compose(clean, result, date=day, questionnaire=questionnaire)
        for p in consistency.check_agreement(agreement, clean, result, q=questionnaire):
            if p.message not in seen:
                seen.add(p.message)
                problems.append(
                    Problem("agreement", ", ".join(p.clauses), f"{p.message} ({where})")
                )
    return problems


def run_flips(
    playbooks: PlaybookSet, questionnaire: Questionnaire, generated: int = FLIP_GENERATED
) -> list[Problem]:
    """Answers where changing one answer by one step moves the recommendation from
    ``proceed`` to ``walk_away`` (or back), naming the question and the rules; each
    question once. Only a walk-away red flag can do it (one answer moves the score by at
    most 15 points), so the answers tried are those its rules read."""
    flagged = [r for r in playbooks.rules if r.flag_kind == "walk_away" and r.condition]
    reads = sorted({q for r in flagged for q in r.reads})
    rng = random.Random(20261205)  # noqa: S311 - reproducible test data
    sets = [
        {**playbooks.baseline, **ex.answers} for pb in playbooks.playbooks for ex in pb.examples
    ]
    sets += [random_answers(rng, questionnaire) for _ in range(generated)]
    problems: list[Problem] = []
    seen: set[str] = set()
    for answers in sets:
        clean, errors = questionnaire.validate(answers)
        if errors:
            continue
        before = evaluate(clean, playbooks, questionnaire)["recommendation"]
        if before == "proceed_with_guardrails":
            continue
        for qid in reads:
            if qid in seen:
                continue
            for value in one_step(questionnaire.questions[qid], answers.get(qid)):
                other, errors = questionnaire.validate({**answers, qid: value})
                if errors:
                    continue
                after = evaluate(other, playbooks, questionnaire)["recommendation"]
                if abs(STEPS[after] - STEPS[before]) < 2:
                    continue
                seen.add(qid)
                names = ", ".join(r.id for r in flagged if qid in r.reads)
                problems.append(
                    Problem(
                        f"{flagged[0].playbook}.yaml", qid, f"one answer flips the "
                        f"recommendation: {qid} {answers.get(qid)!r} -> {value!r} moves "
                        f"{before} to {after} (rules {names}); a walk-away sign needs a "
                        "guarded zone around it",
                    )
                )  # fmt: skip
                break
    return problems
