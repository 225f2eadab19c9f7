"""Learning from outcomes: how engagements turned out, per band and per rule.

A manager records one outcome per signed engagement. The summary says, per band, what
mix of outcomes its engagements had and, per rule, how the engagements it fired on
turned out against those it did not, with counts small enough to be honest about:
below :data:`TOO_FEW` engagements it says so instead of quoting a rate.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

OUTCOMES = {
    "smooth": "Smooth",
    "firm_boundaries": "Needed firm boundaries",
    "micromanaged": "Micromanaged",
    "ended_early": "Ended early",
}
"""The outcomes a manager records, in order from best to worst, with their words."""
TROUBLE = ("micromanaged", "ended_early")
"""The outcomes that count as trouble, for the rules' comparison."""
TOO_FEW = 30
"""Below this many engagements a share is not quoted: too few to judge."""
BANDS = ("strong", "guarded", "poor")


@dataclass(frozen=True)
class Record:
    """One engagement: its band and the rules that fired, as assessed, and its outcome."""

    band: str
    rules: frozenset[str]  # "playbook/rule"
    outcome: str


def honesty(n: int) -> str:
    """What ``n`` engagements allow one to say."""
    word = "engagement" if n == 1 else "engagements"
    if n == 0:
        return "no engagements yet"
    if n < TOO_FEW:
        return f"{n} {word}: too few to judge"
    return f"{n} {word}"


def _mix(outcomes: Counter) -> dict[str, int]:
    return {key: outcomes.get(key, 0) for key in OUTCOMES}


def _share(part: int, whole: int) -> float | None:
    return round(100 * part / whole) if whole >= TOO_FEW else None


def summarise(records: Iterable[Record], rule_titles: Mapping[str, str] | None = None) -> dict:
    """Per band, the outcome mix; per rule, trouble when it fired against when it did not.

    Shares (whole percents) are None below :data:`TOO_FEW` engagements; every row says
    how many engagements it rests on, in words (:func:`honesty`).
    """
    records = list(records)
    total = len(records)
    by_band: dict[str, Counter] = {b: Counter() for b in BANDS}
    fired: dict[str, Counter] = {}
    for r in records:
        by_band.setdefault(r.band, Counter())[r.outcome] += 1
        for rule in r.rules:
            fired.setdefault(rule, Counter())[r.outcome] += 1
    all_trouble = sum(1 for r in records if r.outcome in TROUBLE)
    bands = []
    for band, outcomes in by_band.items():
        n = sum(outcomes.values())
        trouble = sum(outcomes[k] for k in TROUBLE)
        bands.append(
            {
                "band": band,
                "engagements": n,
                "outcomes": _mix(outcomes),
                "trouble_share": _share(trouble, n),
                "judgement": honesty(n),
            }
        )
    rules = []
    for rule, outcomes in fired.items():
        n = sum(outcomes.values())
        trouble = sum(outcomes[k] for k in TROUBLE)
        rest, rest_trouble = total - n, all_trouble - trouble
        when = _share(trouble, n)
        otherwise = _share(rest_trouble, rest)
        rules.append(
            {
                "rule": rule,
                "title": (rule_titles or {}).get(rule, rule),
                "fired": n,
                "outcomes": _mix(outcomes),
                "trouble_share": when,
                "trouble_share_otherwise": otherwise,
                "judgement": honesty(n) if n < TOO_FEW else _verdict(when, otherwise, rest),
            }
        )
    rules.sort(key=lambda r: (-r["fired"], r["rule"]))
    return {
        "engagements": total,
        "judgement": honesty(total),
        "too_few": TOO_FEW,
        "bands": bands,
        "rules": rules,
    }


def _verdict(when: float | None, otherwise: float | None, rest: int) -> str:
    if otherwise is None:
        return f"too few engagements without it ({rest}) to compare"
    gap = (when or 0) - otherwise
    if gap >= 15:
        return f"trouble more often when it fires ({when}% against {otherwise}%)"
    if gap <= -15:
        return f"trouble less often when it fires ({when}% against {otherwise}%)"
    return f"no clear difference ({when}% against {otherwise}%)"


def record_of(result: Mapping[str, Any], outcome: str) -> Record:
    """The record of an engagement from its assessment and its outcome."""
    return Record(
        result["band"],
        frozenset(f"{c['playbook']}/{c['rule']}" for c in result.get("contributions", ())),
        outcome,
    )
