"""What a playbook change would do: assessments of the same answers, before and after.

:class:`Impact` takes pairs of assessments one intake at a time (so a caller can stream
every intake of an installation through it in constant memory) and reports how many
change band or recommendation, which change band (listed), the largest score moves,
and which rules fire more or less. ``onboarding playbooks impact DIR`` and the
workspace's re-assess page print the same report (:func:`table`, :meth:`Impact.as_dict`).
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

BAND_ORDER = ("strong", "guarded", "poor")


@dataclass(frozen=True)
class Change:
    """One intake's assessment before and after."""

    key: str  # the intake's public id
    label: str  # company and contact, as a manager recognises them
    score: tuple[int, int]
    band: tuple[str, str]
    recommendation: tuple[str, str]
    band_note: str | None = None  # after

    def as_dict(self) -> dict[str, Any]:
        return {
            "intake": self.key,
            "label": self.label,
            "score": {"before": self.score[0], "after": self.score[1]},
            "band": {"before": self.band[0], "after": self.band[1]},
            "recommendation": {"before": self.recommendation[0], "after": self.recommendation[1]},
            "band_note": self.band_note,
        }


@dataclass
class Impact:
    """The running report; :meth:`add` one intake at a time."""

    listed: int = 200  # band changes listed (all are counted)
    largest: int = 10  # largest score moves kept
    total: int = 0
    band_changed: int = 0
    recommendation_changed: int = 0
    score_changed: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    band_changes: list[Change] = field(default_factory=list)
    transitions: Counter = field(default_factory=Counter)
    fired_before: Counter = field(default_factory=Counter)
    fired_after: Counter = field(default_factory=Counter)
    _moves: list[tuple[int, int, Change]] = field(default_factory=list)

    def add(
        self, key: str, label: str, before: Mapping[str, Any], after: Mapping[str, Any]
    ) -> Change | None:
        """Count one intake; return its change when its band changed (else None)."""
        self.total += 1
        change = Change(
            key,
            label,
            (before["score"], after["score"]),
            (before["band"], after["band"]),
            (before["recommendation"], after["recommendation"]),
            after.get("band_note"),
        )
        self.transitions[change.band] += 1
        self.fired_before.update(_rules(before))
        self.fired_after.update(_rules(after))
        moved = after["score"] - before["score"]
        if moved:
            self.score_changed += 1
            entry = (abs(moved), -self.total, change)
            if len(self._moves) < self.largest:
                heapq.heappush(self._moves, entry)
            else:
                heapq.heappushpop(self._moves, entry)
        if change.recommendation[0] != change.recommendation[1]:
            self.recommendation_changed += 1
        if change.band[0] != change.band[1]:
            self.band_changed += 1
            if len(self.band_changes) < self.listed:
                self.band_changes.append(change)
            return change
        return None

    def skip(self, key: str, reason: str) -> None:
        """An intake that could not be assessed (answers no longer valid, say)."""
        self.skipped.append((key, reason))

    def moves(self) -> list[Change]:
        """The largest score moves, largest first (first seen first among equals)."""
        return [c for _, _, c in sorted(self._moves, key=lambda e: (-e[0], -e[1]))]

    def rules(self) -> list[tuple[str, int, int]]:
        """``(playbook/rule, fired before, fired after)`` for every rule whose count
        changed, largest change first."""
        keys = set(self.fired_before) | set(self.fired_after)
        rows = [(k, self.fired_before[k], self.fired_after[k]) for k in keys]
        rows = [r for r in rows if r[1] != r[2]]
        return sorted(rows, key=lambda r: (-abs(r[2] - r[1]), r[0]))

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data."""
        return {
            "intakes": self.total,
            "band_changed": self.band_changed,
            "recommendation_changed": self.recommendation_changed,
            "score_changed": self.score_changed,
            "bands": [
                {"before": b, "after": a, "intakes": self.transitions[(b, a)]}
                for b in BAND_ORDER
                for a in BAND_ORDER
                if self.transitions[(b, a)]
            ],
            "band_changes": [c.as_dict() for c in self.band_changes],
            "band_changes_listed": len(self.band_changes),
            "largest_moves": [c.as_dict() for c in self.moves()],
            "rules": [
                {"rule": k, "fired_before": b, "fired_after": a, "change": a - b}
                for k, b, a in self.rules()
            ],
            "skipped": [{"intake": k, "reason": r} for k, r in self.skipped],
        }


def _rules(result: Mapping[str, Any]) -> Iterator[str]:
    for c in result.get("contributions", ()):
        yield f"{c['playbook']}/{c['rule']}"


def change_line(change: Change) -> str:
    """One intake whose band changes, on one line."""
    (b0, b1), (s0, s1) = change.band, change.score
    return f"  {change.label} [{change.key}]: {b0} → {b1} (score {s0} → {s1})"


def table(report: Mapping[str, Any]) -> str:
    """The report as text tables (what the command line prints after the band changes)."""
    n = report["intakes"]
    lines = [
        f"Intakes re-assessed        {n}",
        f"Band changes               {report['band_changed']}",
        f"Recommendation changes     {report['recommendation_changed']}",
        f"Score changes              {report['score_changed']}",
        "",
        "Band before → after        intakes",
    ]
    for row in report["bands"]:
        arrow = f"{row['before']} → {row['after']}"
        mark = "" if row["before"] == row["after"] else "  *"
        lines.append(f"  {arrow:<24} {row['intakes']:>7}{mark}")
    if report["largest_moves"]:
        lines += ["", "Largest score moves"]
        for m in report["largest_moves"]:
            s, b = m["score"], m["band"]
            lines.append(
                f"  {s['after'] - s['before']:+4d}  {s['before']:>3} → {s['after']:<3} "
                f"{b['before']} → {b['after']}  {m['label']} [{m['intake']}]"
            )
    lines += ["", "Rules that fire more or less (moving the score or a risk)"]
    if report["rules"]:
        lines.append(f"  {'rule':<48} {'before':>7} {'after':>7} {'change':>7}")
        for r in report["rules"]:
            lines.append(
                f"  {r['rule']:<48} {r['fired_before']:>7} {r['fired_after']:>7} {r['change']:>+7d}"
            )
    else:
        lines.append("  none")
    if report["skipped"]:
        lines += ["", f"Not assessed ({len(report['skipped'])})"]
        lines += [f"  {s['intake']}: {s['reason']}" for s in report["skipped"][:20]]
    return "\n".join(lines) + "\n"
