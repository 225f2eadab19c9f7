"""Loading and checking playbook files (one YAML file per step of the method).

A playbook file holds data only::

    id: build_trust            # one of the ten step ids, and the file's name
    step: 2
    title: Build trust
    summary: Clients burned before need proof, not promises.
    rules:
      - id: burned_before
        when: worked_with_agency_before and past_experience_rating <= 2
        cause: trust_deficit   # one of the six causes
        risk: 30               # added to that cause's risk (0..100)
        points: -12            # added to the fit score
        red_flag: false        # true: listed in red_flags (walk_away's force walk_away);
                               # "scope": a scope the budget or timeline cannot carry
                               # (caps the verdict at guarded, assessment.md v1.2)
        because: "Rated past agency work {past_experience_rating}"
        clauses:
          - {id: ..., section: communication, title: ..., text: "..."}
        offer: [priority_replies]  # options of the agency's rate card this wish calls
                                   # for (proposal.md); the proposal prices them
        actions:
          - {id: ..., text: ..., due: before_kickoff}
    examples:
      - name: a client burned before
        answers: {worked_with_agency_before: true, past_experience_rating: 1}
        fires: [burned_before]
        not_fires: []

Everything is checked at load time; every problem is reported as
``file: rule: message`` so an author can fix it at once.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import logging
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from onboarding.domain.options import OPTION_ID
from onboarding.domain.questionnaire import Questionnaire, get_questionnaire
from onboarding.domain.resources import project_dir
from onboarding.domain.rules import (
    Condition,
    ConditionError,
    compile_condition,
    literals,
    partial_truth,
    polarity,
)
from onboarding.domain.sections import SECTIONS
from onboarding.domain.templates import Template, TemplateError, compile_template

PLAYBOOK_IDS = (
    "value_time",
    "build_trust",
    "share_process",
    "set_boundaries",
    "goals_over_tactics",
    "address_fears",
    "educate",
    "collaborate",
    "lead",
    "walk_away",
)
CAUSE_LABELS = {
    "excess_free_time": "Excess free time",
    "trust_deficit": "Trust deficit",
    "process_transparency": "Unclear process",
    "frustrated_creative": "Frustrated creative",
    "tactical_focus": "Tactics over goals",
    "fear": "Fear",
}
"""The six causes of micromanagement, in contract order, with the words people read."""
CAUSES = tuple(CAUSE_LABELS)
DUE = {
    "before_signing": "Before the agreement is signed",
    "before_kickoff": "Before kickoff",
    "at_kickoff": "At kickoff",
    "each_milestone": "At each milestone",
    "ongoing": "Throughout the project",
}
RULE_KEYS = {
    "id", "when", "cause", "risk", "points", "red_flag", "because", "clauses", "actions",
    "offer",
}  # fmt: skip
PLAYBOOK_KEYS = {"id", "step", "title", "summary", "rules", "examples"}
EXAMPLE_KEYS = {
    "name", "answers", "fires", "not_fires", "band", "band_note", "recommendation", "why"
}  # fmt: skip
MAX_SCORE_WEIGHT = 15
"""The most one answer may move the score, over every rule that reads it."""
MAX_CAUSE_WEIGHT = 60
"""The most one answer may move one cause's risk, over every rule that reads it: one
answer may reach the band cap on its own (five or more past agencies do), never more."""
FLAG_KINDS = ("walk_away", "scope", "concern")
"""What a red flag says (assessment.md v1.2 ``red_flags[].kind``): ``red_flag: true`` is
``walk_away`` in the walk_away playbook and ``concern`` elsewhere."""
BASELINE_FILE = "_baseline.yaml"
CACHE_DIR = ".cache"
"""Where, beside the playbooks, the checks of the whole set are kept per content."""

log = logging.getLogger(__name__)
# libyaml's loader where PyYAML was built with it (the same data, several times faster);
# a file it refuses is read again by the pure-Python loader, whose messages we report.
_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(text: str) -> Any:
    """``yaml.safe_load`` with the C loader when installed; raise the pure-Python
    loader's YAMLError (line and problem) when the text is not valid YAML."""
    try:
        return yaml.load(text, Loader=_FAST_LOADER)  # noqa: S506 - a safe loader
    except yaml.YAMLError:
        return yaml.safe_load(text)


def default_playbooks_dir() -> Path:
    """The shipped playbooks: the project's ``playbooks/`` (or the packaged copy).

    The ``PLAYBOOKS_DIR`` setting chooses another folder; the app and the command line
    read it from their config and pass the folder (or the loaded set) explicitly.
    """
    return project_dir("playbooks")


@dataclass(frozen=True)
class Problem:
    """One problem found in a playbook folder."""

    file: str
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.rule}: {self.message}"


class PlaybookError(ValueError):
    """Playbooks that do not load; ``problems`` lists every one."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True)
class Clause:
    id: str
    section: str
    title: str
    text: Template


@dataclass(frozen=True)
class Action:
    id: str
    text: Template
    due: str


@dataclass(frozen=True)
class Rule:
    playbook: str
    id: str
    condition: Condition | None  # None: every engagement
    cause: str | None
    risk: int
    points: int
    red_flag: bool
    because: Template | None
    clauses: tuple[Clause, ...]
    actions: tuple[Action, ...]
    flag_kind: str | None = None  # a red flag's kind (FLAG_KINDS), None for no red flag
    offer: tuple[str, ...] = ()  # rate-card option ids the wish calls for (proposal.md)

    @property
    def reads(self) -> tuple[str, ...]:
        return self.condition.reads if self.condition else ()


@dataclass(frozen=True)
class Example:
    playbook: str
    name: str
    answers: dict[str, Any]
    fires: tuple[str, ...]
    not_fires: tuple[str, ...]
    # What the whole assessment must say (checked by ``playbooks check``): the band, the
    # cause named by ``band_note`` (or ``none``), the recommendation; ``why`` says why
    # in words, so a change of band is a decision written down, not an accident.
    band: str | None = None
    band_note: str | None = None
    recommendation: str | None = None
    why: str = ""


@dataclass(frozen=True)
class Playbook:
    id: str
    step: int
    title: str
    summary: str
    rules: tuple[Rule, ...]
    examples: tuple[Example, ...]
    file: str


@dataclass
class PlaybookSet:
    """The ten playbooks, compiled, with their version hash."""

    playbooks: tuple[Playbook, ...]
    version: str
    baseline: dict[str, Any]
    directory: Path
    # True when this load checked the whole set again (the files or the code changed
    # since the last check); False when the kept result of that check was reused.
    rechecked: bool = False
    rules: tuple[Rule, ...] = field(init=False)

    def __post_init__(self) -> None:
        self.rules = tuple(r for p in self.playbooks for r in p.rules)


class _Loader:
    def __init__(self, questionnaire: Questionnaire):
        self.q = questionnaire
        self.problems: list[Problem] = []

    def problem(self, file: str, rule: str, message: str) -> None:
        self.problems.append(Problem(file, rule, message))

    def template(self, file: str, where: str, text: Any) -> Template | None:
        try:
            return compile_template(text, self.q)
        except TemplateError as exc:
            self.problem(file, where, str(exc))
            return None

    def load_file(self, path: Path) -> Playbook | None:
        file = path.name
        try:
            data = read_yaml(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"line {mark.line + 1}" if mark else "-"
            self.problem(file, where, f"not valid YAML: {getattr(exc, 'problem', exc)}")
            return None
        if not isinstance(data, dict):
            self.problem(file, "-", "must be a mapping with id, step, title and rules")
            return None
        for key in sorted(set(data) - PLAYBOOK_KEYS):
            self.problem(file, "-", f"unknown key {key!r}")
        pid = data.get("id")
        if pid not in PLAYBOOK_IDS:
            self.problem(file, "-", f"id {pid!r} is not one of the ten steps")
            return None
        if path.stem != pid:
            self.problem(file, "-", f"the file of playbook {pid!r} must be named {pid}.yaml")
        step = data.get("step")
        if step != PLAYBOOK_IDS.index(pid) + 1:
            self.problem(file, "-", f"step must be {PLAYBOOK_IDS.index(pid) + 1} for {pid}")
        rules = []
        seen: set[str] = set()
        for raw in data.get("rules") or []:
            rule = self.rule(file, pid, raw)
            if rule is None:
                continue
            if rule.id in seen:
                self.problem(file, rule.id, "rule id used twice in this playbook")
            seen.add(rule.id)
            rules.append(rule)
        examples = []
        for i, raw in enumerate(data.get("examples") or []):
            example = self.example(file, pid, i, raw, seen)
            if example:
                examples.append(example)
        return Playbook(
            pid,
            step,
            str(data.get("title", pid)),
            str(data.get("summary", "")).strip(),
            tuple(rules),
            tuple(examples),
            file,
        )

    def rule(self, file: str, pid: str, raw: Any) -> Rule | None:
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
            self.problem(file, "-", "every rule needs an id")
            return None
        rid = raw["id"]
        for key in sorted(set(raw) - RULE_KEYS):
            self.problem(file, rid, f"unknown key {key!r}")
        condition = None
        if raw.get("when") is None and (raw.get("points") or raw.get("risk")):
            self.problem(file, rid, "a rule without 'when' applies to everyone: no points or risk")
        if raw.get("when") not in (None, "always"):
            try:
                condition = compile_condition(raw["when"], self.q)
            except ConditionError as exc:
                self.problem(file, rid, f"condition: {exc}")
        points, risk = raw.get("points", 0), raw.get("risk", 0)
        for name, value, lo, hi in (("points", points, -50, 50), ("risk", risk, 0, 100)):
            if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
                self.problem(file, rid, f"{name} must be a whole number from {lo} to {hi}")
        if not isinstance(points, int):
            points = 0
        if not isinstance(risk, int):
            risk = 0
        cause = raw.get("cause")
        if (points or risk) and cause not in CAUSES:
            self.problem(file, rid, f"cause must be one of {', '.join(CAUSES)} (got {cause!r})")
        because = None
        if points or risk or raw.get("red_flag"):
            if not raw.get("because"):
                self.problem(file, rid, "a rule that moves the score or a risk needs 'because'")
            else:
                because = self.template(file, rid, raw["because"])
        if because is not None and condition is not None:
            unread = [q for q in because.uses if q not in condition.reads]
            if unread:
                self.problem(
                    file, rid, f"'because' names {', '.join(unread)}, which the condition "
                    "does not read: a reason states only what the rule looked at"
                )  # fmt: skip
        if condition is not None:
            self.check_monotone(file, rid, condition, points, risk)
        clauses = []
        for c in raw.get("clauses") or []:
            if not isinstance(c, dict) or not all(k in c for k in ("id", "section", "title")):
                self.problem(file, rid, "a clause needs id, section, title and text")
                continue
            if c["section"] not in SECTIONS:
                self.problem(
                    file, rid, f"clause {c['id']}: unknown section {c['section']!r} "
                    f"(sections: {', '.join(SECTIONS)})"
                )  # fmt: skip
            text = self.template(file, f"{rid}: clause {c['id']}", c.get("text"))
            if text:
                clauses.append(Clause(c["id"], c["section"], str(c["title"]), text))
        actions = []
        for a in raw.get("actions") or []:
            if not isinstance(a, dict) or "id" not in a or "text" not in a:
                self.problem(file, rid, "an action needs id, text and due")
                continue
            if a.get("due") not in DUE:
                self.problem(file, rid, f"action {a['id']}: due must be one of {', '.join(DUE)}")
            text = self.template(file, f"{rid}: action {a['id']}", a["text"])
            if text:
                actions.append(Action(a["id"], text, a.get("due", "before_kickoff")))
        offer = raw.get("offer") or []
        if not isinstance(offer, list) or not all(
            isinstance(o, str) and OPTION_ID.match(o) for o in offer
        ):
            self.problem(file, rid, "offer must be a list of option ids, such as [weekly_call]")
            offer = []
        flag = raw.get("red_flag")
        kind = None
        if flag is True:
            kind = "walk_away" if pid == "walk_away" else "concern"
        elif flag in FLAG_KINDS:
            kind = flag
        elif flag not in (None, False):
            self.problem(
                file, rid, f"red_flag must be true, false or one of {', '.join(FLAG_KINDS)}"
            )
        return Rule(
            pid, rid, condition, cause, risk, points, kind is not None,
            because, tuple(clauses), tuple(actions), kind, tuple(dict.fromkeys(offer)),
        )  # fmt: skip

    def check_monotone(
        self, file: str, rid: str, condition: Condition, points: int, risk: int
    ) -> None:
        """Refuse rules that would break the assessment contract's monotonicity."""
        for qid in condition.reads:
            kind = self.q.questions[qid].monotone
            if kind is None:
                continue
            pol = polarity(condition.tree, qid)
            if pol == "none":
                continue
            # The direction(s) the condition may move in as the answer rises.
            wants: set[str] = set()
            penalty, bonus = ("up", "down") if kind == "risk" else ("down", "up")
            if points < 0 or (kind == "risk" and risk > 0):
                wants.add(penalty)
            if points > 0:
                wants.add(bonus)
            if len(wants) > 1:
                self.problem(
                    file, rid, f"a rule on {qid!r} cannot both raise the score and add "
                    "risk: split it into two rules"
                )  # fmt: skip
                continue
            if not wants or pol in wants:
                continue
            effect = "lowers the score or adds risk" if penalty in wants else "raises the score"
            tests = "'>=', '>' or 'in'" if wants == {"up"} else "'<=', '<' or 'not in'"
            promise = "improve" if kind == "risk" else "worsen"
            self.problem(
                file, rid, f"a higher {qid} must never {promise} the fit, so a rule that "
                f"{effect} may only test it with {tests} (this condition goes {pol})"
            )  # fmt: skip

    def example(self, file, pid, i, raw, rule_ids) -> Example | None:
        name = raw.get("name", f"example {i + 1}") if isinstance(raw, dict) else "?"
        where = f"example {name!r}"
        if not isinstance(raw, dict) or not isinstance(raw.get("answers"), dict):
            self.problem(file, where, "an example needs a name and answers")
            return None
        for key in sorted(set(raw) - EXAMPLE_KEYS):
            self.problem(file, where, f"unknown key {key!r}")
        fires = tuple(raw.get("fires") or ())
        not_fires = tuple(raw.get("not_fires") or ())
        for rid in fires + not_fires:
            if rid not in rule_ids:
                self.problem(file, where, f"names unknown rule {rid!r}")
        band, note, rec = raw.get("band"), raw.get("band_note"), raw.get("recommendation")
        if band is not None and band not in ("strong", "guarded", "poor"):
            self.problem(file, where, f"band must be strong, guarded or poor (got {band!r})")
        if note is not None and note not in (*CAUSES, "scope", "walk_away", "none"):
            self.problem(
                file, where, f"band_note must name a cause, scope, walk_away or none (got {note!r})"
            )
        if rec is not None and rec not in ("proceed", "proceed_with_guardrails", "walk_away"):
            self.problem(file, where, f"recommendation {rec!r} is not one of the three")
        if (band or note or rec) and not str(raw.get("why") or "").strip():
            self.problem(file, where, "an example that expects a band says why, in 'why'")
        return Example(
            pid, name, dict(raw["answers"]), fires, not_fires, band, note, rec,
            str(raw.get("why") or "").strip(),
        )  # fmt: skip


def version_of(paths: list[Path]) -> str:
    """SHA-256 over the playbook files' names and bytes, in name order."""
    digest = hashlib.sha256()
    for path in sorted(paths, key=lambda p: p.name):
        digest.update(path.name.encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def check_dir(
    directory: Path | str,
    questionnaire: Questionnaire | None = None,
    cache_dir: Path | str | None = None,
) -> tuple[PlaybookSet | None, list[Problem]]:
    """Load a playbook folder, returning the set (or None) and every problem found.

    The checks of the whole set (:func:`set_problems`: how much one answer weighs) run
    once per content: their result is kept under ``cache_dir`` (by default ``.cache``
    beside the playbooks) by a hash of the files, the questionnaire and the checking
    code, and reused until one of them changes.
    """
    directory = Path(directory)
    q = questionnaire or get_questionnaire()
    loader = _Loader(q)
    if not directory.is_dir():
        return None, [Problem(str(directory), "-", "no such folder")]
    paths = sorted(p for p in directory.glob("*.yaml") if not p.name.startswith("_"))
    loaded: dict[str, Playbook] = {}
    for path in paths:
        pb = loader.load_file(path)
        if pb is None:
            continue
        if pb.id in loaded:
            loader.problem(path.name, "-", f"playbook {pb.id!r} is defined twice")
        loaded[pb.id] = pb
    for pid in PLAYBOOK_IDS:
        if pid not in loaded:
            loader.problem(f"{pid}.yaml", "-", "missing: every step needs its playbook")
    seen_clauses: dict[str, str] = {}
    for pb in loaded.values():
        for rule in pb.rules:
            for clause in rule.clauses:
                if clause.id in seen_clauses:
                    loader.problem(
                        pb.file, rule.id, f"clause id {clause.id!r} is already used "
                        f"by {seen_clauses[clause.id]}"
                    )  # fmt: skip
                seen_clauses[clause.id] = f"{pb.id}/{rule.id}"
    rules = [r for pid in PLAYBOOK_IDS if pid in loaded for r in loaded[pid].rules]
    version = version_of(paths)
    problems, rechecked = _checked_once(directory, cache_dir, version, rules, q)
    loader.problems += problems
    baseline: dict[str, Any] = {}
    baseline_path = directory / BASELINE_FILE
    if baseline_path.exists():
        try:
            baseline = read_yaml(baseline_path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            loader.problem(BASELINE_FILE, "-", f"not valid YAML: {exc}")
        else:
            _, errors = q.validate(baseline)
            for e in errors:
                loader.problem(BASELINE_FILE, e.question, e.message)
    if loader.problems:
        return None, loader.problems
    ordered = tuple(loaded[pid] for pid in PLAYBOOK_IDS)
    return PlaybookSet(ordered, version, baseline, directory, rechecked), []


def set_problems(rules: list[Rule], questionnaire: Questionnaire) -> list[Problem]:
    """The checks of the whole set of rules (each answer's weight across them); the
    slow part of loading, run once per content (:func:`check_dir` keeps the result)."""
    problems = []
    for weight in answer_weights(rules, questionnaire):
        for problem in weight.problems():
            first = next(
                r for r in rules if r.id == weight.rules[0][1] and r.playbook == weight.rules[0][0]
            )
            problems.append(Problem(f"{first.playbook}.yaml", weight.question, problem))
    return problems


# The code whose result the kept check depends on: a change to it checks again.
_CHECK_CODE = ("playbooks.py", "rules.py", "questionnaire.py", "templates.py")


@functools.cache
def _code_digest() -> str:
    digest = hashlib.sha256()
    here = Path(__file__).resolve().parent
    for name in _CHECK_CODE:
        digest.update(name.encode() + b"\0" + (here / name).read_bytes() + b"\0")
    return digest.hexdigest()


def _check_key(version: str, rules: list[Rule], questionnaire: Questionnaire) -> str:
    digest = hashlib.sha256(f"{version}\0{_code_digest()}\0".encode())
    # The questionnaire the rules were checked against (ranges, values, monotonicity),
    # and the rules loaded (a file with a problem may have left some out).
    digest.update(repr(tuple(questionnaire.questions.values())).encode())
    digest.update(repr([(r.playbook, r.id) for r in rules]).encode())
    return digest.hexdigest()


def _cache_dirs(directory: Path, cache_dir: Path | str | None) -> list[Path]:
    if cache_dir is not None:
        return [Path(cache_dir)]
    # The user's cache folder (not read from the environment: only the config does that).
    return [directory / CACHE_DIR, Path.home() / ".cache" / "onboarding" / "playbooks"]


def _checked_once(
    directory: Path,
    cache_dir: Path | str | None,
    version: str,
    rules: list[Rule],
    questionnaire: Questionnaire,
) -> tuple[list[Problem], bool]:
    """:func:`set_problems`, read from the cache when this content was checked before;
    ``(problems, rechecked)``. The file is written atomically (a temporary file renamed
    over it), so processes loading at once never read half of one."""
    key = _check_key(version, rules, questionnaire)
    name = f"checks-{key[:32]}.json"
    dirs = _cache_dirs(directory, cache_dir)
    for folder in dirs:
        try:
            data = json.loads((folder / name).read_text(encoding="utf-8"))
            if data.get("key") == key:
                return [Problem(*p) for p in data["problems"]], False
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            continue
    start = time.perf_counter()
    problems = set_problems(rules, questionnaire)
    took = (time.perf_counter() - start) * 1000
    payload = json.dumps(
        {"key": key, "problems": [[p.file, p.rule, p.message] for p in problems]}, indent=1
    )
    where = None
    for folder in dirs:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".checks-", suffix=".tmp", dir=folder)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as out:
                    out.write(payload)
                os.replace(tmp, folder / name)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError:
            continue
        where = folder
        break
    log.info(
        "Playbooks in %s changed since they were last checked: checked the whole set again "
        "in %.0f ms (%s)",
        directory,
        took,
        f"kept in {where}" if where else "could not keep the result: no writable cache folder",
    )
    return problems, True


def load_playbooks(
    directory: Path | str | None = None,
    questionnaire: Questionnaire | None = None,
    cache_dir: Path | str | None = None,
) -> PlaybookSet:
    """Load and compile a playbook folder; raise PlaybookError listing every problem."""
    playbooks, problems = check_dir(
        directory or default_playbooks_dir(), questionnaire, cache_dir=cache_dir
    )
    if problems:
        raise PlaybookError(problems)
    return playbooks


@functools.cache
def _cached(directory: str) -> PlaybookSet:
    return load_playbooks(directory)


def get_playbooks(directory: Path | str | None = None) -> PlaybookSet:
    """The playbooks of a folder (the shipped ones when None), loaded and compiled once
    per process and folder; raises PlaybookError listing every problem."""
    return _cached(str(Path(directory or default_playbooks_dir()).resolve()))


# --- how much one answer weighs ---------------------------------------------------------


@dataclass(frozen=True)
class Weight:
    """The most one question's answer can move the score and each cause, over every rule
    that reads it (changing that answer alone, whatever the others are)."""

    question: str
    score: int
    causes: dict[str, int]
    rules: tuple[tuple[str, str, int, str | None, int], ...]  # playbook, rule, points, cause, risk

    def problems(self) -> list[str]:
        """The limits this answer breaks, as sentences naming the rules to change."""
        out = []
        if self.score > MAX_SCORE_WEIGHT:
            parts = ", ".join(f"{r} {p:+d}" for _, r, p, _, _ in self.rules if p)
            out.append(
                f"one answer can move the score by {self.score} points across rules "
                f"({parts}); the limit is {MAX_SCORE_WEIGHT}: count the story once"
            )
        for cause, value in self.causes.items():
            if value > MAX_CAUSE_WEIGHT:
                parts = ", ".join(f"{r} +{k}" for _, r, _, c, k in self.rules if c == cause and k)
                out.append(
                    f"one answer can move the {cause} risk by {value} across rules ({parts}); "
                    f"the limit is {MAX_CAUSE_WEIGHT}"
                )
        return out


def _candidates(question, trees) -> list[Any]:
    """The answers worth trying for a question: every value it can take (subsets of a
    multi question's values, the whole range of a number), and unanswered."""
    values: list[Any]
    if question.type == "yesno":
        values = [True, False]
    elif question.type == "choice":
        values = list(question.values)
    elif question.type in ("integer", "scale"):
        lo, hi = question.bounds()
        values = list(range(lo, hi + 1))
    elif question.type == "multi":
        keys = list(question.values)
        values = [
            [k for k, keep in zip(keys, mask, strict=True) if keep]
            for mask in itertools.product((False, True), repeat=len(keys))
        ]
    else:  # text, email, date: answered or not, and any literal compared with
        values = ["x", *sorted({v for t in trees for v in literals(t) if isinstance(v, str)})]
    return [None, *values]


def _swing(states: list[tuple[bool | None, ...]], amounts: list[int]) -> int:
    """The largest sum of ``amounts`` gained between two answers, given each rule's
    truth (True, False or either) under each answer."""
    best = 0
    for first in states:
        for second in states:
            total = 0
            for a, b, amount in zip(first, second, amounts, strict=True):
                highs = [1] if a else [0] if a is False else [0, 1]
                lows = [1] if b else [0] if b is False else [0, 1]
                total += max(amount * (x - y) for x in highs for y in lows)
            best = max(best, total)
    return best


def answer_weights(rules, questionnaire: Questionnaire) -> list[Weight]:
    """For each question some scoring rule reads, the most its answer alone can move the
    score and each cause (the loader refuses more than :data:`MAX_SCORE_WEIGHT` points or
    :data:`MAX_CAUSE_WEIGHT` risk)."""
    scoring = [r for r in rules if r.condition is not None and (r.points or r.risk)]
    out = []
    for qid, question in questionnaire.questions.items():
        reading = [r for r in scoring if qid in r.reads]
        if not reading:
            continue
        trees = [r.condition.tree for r in reading]
        states = sorted(
            {tuple(partial_truth(t, qid, v) for t in trees) for v in _candidates(question, trees)},
            key=repr,
        )
        score = _swing(states, [r.points for r in reading])
        score = max(score, _swing(states, [-r.points for r in reading]))
        causes = {}
        for cause in CAUSES:
            amounts = [r.risk if r.cause == cause else 0 for r in reading]
            if any(amounts):
                causes[cause] = _swing(states, amounts)
        out.append(
            Weight(
                qid,
                score,
                causes,
                tuple((r.playbook, r.id, r.points, r.cause, r.risk) for r in reading),
            )  # fmt: skip
        )
    return out
