"""Editing the playbooks' weights in the workspace: points, risk, on/off and reason.

An edit is data over the playbook files, keyed by ``playbook/rule``::

    {"set_boundaries/directs_daily_tasks": {"points": -8, "risk": 40,
                                            "enabled": true, "because": "You ..."}}

Conditions, clauses and actions stay in the YAML files. :func:`apply_edits` returns the
playbook set with the edits applied, checked as the loader checks the files (the
reason's placeholders, the monotonicity promises, the weight one answer may carry):
every problem is one line naming the rule. The version of an edited set is the SHA-256
of the files' version and the edits, so every stored assessment says which it used.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from onboarding.domain.playbooks import (
    Playbook,
    PlaybookSet,
    Rule,
    _Loader,
    answer_weights,
)
from onboarding.domain.questionnaire import Questionnaire, get_questionnaire

FIELDS = ("points", "risk", "enabled", "because")


class EditError(ValueError):
    """Edits that cannot be applied; ``problems`` lists every one."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


def key_of(rule: Rule) -> str:
    return f"{rule.playbook}/{rule.id}"


def editable(playbooks: PlaybookSet) -> list[Rule]:
    """The rules an editor shows: those that move the score or a risk, or raise a flag."""
    return [r for r in playbooks.rules if r.condition is not None and r.because is not None]


def current_values(rule: Rule, enabled: bool = True) -> dict[str, Any]:
    """A rule's editable fields as they are."""
    return {
        "points": rule.points,
        "risk": rule.risk,
        "enabled": enabled,
        "because": rule.because.source if rule.because else "",
    }


def version_of(base_version: str, edits: Mapping[str, Any]) -> str:
    """The version of the files with these edits (the files' own when there are none)."""
    if not edits:
        return base_version
    text = json.dumps(edits, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(f"{base_version}\0{text}".encode()).hexdigest()


def normalise(
    base: PlaybookSet, edits: Mapping[str, Mapping[str, Any]]
) -> dict[str, dict[str, Any]]:
    """Only what differs from the files, per rule (an edit back to the file's value
    disappears), for the rules the files still have."""
    rules = {key_of(r): r for r in editable(base)}
    out: dict[str, dict[str, Any]] = {}
    for key in sorted(edits):
        rule = rules.get(key)
        if rule is None:
            continue
        now = current_values(rule)
        diff = {f: edits[key][f] for f in FIELDS if f in edits[key] and edits[key][f] != now[f]}
        if diff:
            out[key] = diff
    return out


def apply_edits(
    base: PlaybookSet,
    edits: Mapping[str, Mapping[str, Any]],
    questionnaire: Questionnaire | None = None,
) -> PlaybookSet:
    """``base`` (loaded from the files) with ``edits`` applied; raise EditError listing
    every problem. Rules the files no longer have are ignored."""
    q = questionnaire or get_questionnaire()
    edits = normalise(base, edits)
    if not edits:
        return base
    loader = _Loader(q)
    playbooks: list[Playbook] = []
    for pb in base.playbooks:
        rules: list[Rule] = []
        for rule in pb.rules:
            edit = edits.get(key_of(rule))
            if edit is None:
                rules.append(rule)
                continue
            if edit.get("enabled") is False:
                continue
            rules.append(_edited(loader, pb.file, rule, edit))
        playbooks.append(dataclasses.replace(pb, rules=tuple(rules)))
    problems = [str(p) for p in loader.problems]
    all_rules = [r for pb in playbooks for r in pb.rules]
    for weight in answer_weights(all_rules, q):
        problems += [f"{weight.question}: {message}" for message in weight.problems()]
    if problems:
        raise EditError(problems)
    return PlaybookSet(
        tuple(playbooks), version_of(base.version, edits), base.baseline, base.directory
    )


def _edited(loader: _Loader, file: str, rule: Rule, edit: Mapping[str, Any]) -> Rule:
    rid = rule.id
    points, risk = edit.get("points", rule.points), edit.get("risk", rule.risk)
    for name, value, lo, hi in (("points", points, -50, 50), ("risk", risk, 0, 100)):
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            loader.problem(file, rid, f"{name} must be a whole number from {lo} to {hi}")
    points = points if isinstance(points, int) else rule.points
    risk = risk if isinstance(risk, int) else rule.risk
    because = rule.because
    if "because" in edit:
        text = str(edit["because"] or "").strip()
        if not text:
            loader.problem(file, rid, "the reason is empty: a rule that moves the score says why")
        else:
            because = loader.template(file, rid, text) or rule.because
            if because is not rule.because and rule.condition is not None:
                unread = [x for x in because.uses if x not in rule.condition.reads]
                if unread:
                    loader.problem(
                        file, rid, f"the reason names {', '.join(unread)}, which the "
                        "condition does not read: a reason states only what the rule looked at"
                    )  # fmt: skip
    if rule.condition is not None:
        loader.check_monotone(file, rid, rule.condition, points, risk)
    if (points or risk) and rule.cause is None:
        loader.problem(file, rid, "a rule without a cause cannot move the score or a risk")
    return dataclasses.replace(rule, points=points, risk=risk, because=because)


def _arrow(before: int, after: int) -> str:
    return f"{before:+d} → {after:+d}".replace("-", "−")


def rule_changes(before: PlaybookSet, after: PlaybookSet) -> list[str]:
    """What changed between two playbook sets, rule by rule, in words
    (``set_boundaries/directs_daily_tasks points −4 → −8``), in playbook order."""
    old = {key_of(r): r for r in before.rules}
    new = {key_of(r): r for r in after.rules}
    lines = []
    for key in [*old, *(k for k in new if k not in old)]:
        a, b = old.get(key), new.get(key)
        if b is None:
            lines.append(f"{key} switched off (or removed)")
            continue
        if a is None:
            lines.append(f"{key} added (or switched on)")
            continue
        parts = []
        if a.points != b.points:
            parts.append(f"points {_arrow(a.points, b.points)}")
        if a.risk != b.risk:
            parts.append(f"{a.cause or b.cause} risk {a.risk} → {b.risk}")
        if (a.condition and a.condition.source) != (b.condition and b.condition.source):
            parts.append("condition changed")
        if (a.because and a.because.source) != (b.because and b.because.source):
            parts.append("reason reworded")
        if a.flag_kind != b.flag_kind:
            parts.append(f"red flag {a.flag_kind or 'none'} → {b.flag_kind or 'none'}")
        if parts:
            lines.append(f"{key} {', '.join(parts)}")
    return lines
