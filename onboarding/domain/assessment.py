"""The fit assessment (contract: shared/spec/assessment.md, v1.2).

``score = clamp(BASE_SCORE + sum(points of the rules that fired), 0, 100)``; each
cause's risk is the clamped sum of the ``risk`` of the rules that fired for it. Every
rule that moved the score or a risk is listed in ``contributions`` with the answers
its condition read and a sentence saying why.

The band follows the score, except that a concentrated risk is not cancelled by
unrelated good signs: when one cause's risk is :data:`CAP_RISK` or more the band is
at most ``guarded`` and ``band_note`` says which cause capped it (v1.1). Consumers
read ``band``; nothing else derives it from the score.

v1.2 adds two more caps, so that no verdict says "proceed" where an account director
would not: a scope the budget or the timeline cannot carry (a ``scope`` red flag: the
first action is then to agree a scope that fits), and answers one step away from a
reason to walk away (so that no single answer moves the recommendation from
``proceed`` to ``walk_away``). ``band_cap`` says which cap applied: a cause, ``scope``,
``walk_away`` or null.

Reasons: the rules that read the same answers are explained by one sentence (the
weightiest rule's), so the client reads one reason per answer, not one per rule.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from onboarding.domain.playbooks import (
    CAUSE_LABELS,
    CAUSES,
    SECTIONS,
    PlaybookSet,
    Rule,
    get_playbooks,
)
from onboarding.domain.questionnaire import (
    AnswersInvalid,
    Questionnaire,
    get_questionnaire,
    join_words,
)
from onboarding.domain.rules import NAMESPACE, to_python
from onboarding.domain.templates import FILTERS, answer_key
from onboarding.domain.terms import AgencyProfile, EngagementTerms, default_profile, values
from onboarding.domain.wishes import wish_phrase

BASE_SCORE = 70
"""The score of a client no rule has anything to say about."""

STRONG, GUARDED = 70, 40
CAP_RISK = 60
"""A cause at this risk or more caps the band at ``guarded`` (assessment.md v1.1)."""
_SECTION_ORDER = {s: i for i, s in enumerate(SECTIONS)}


def band_of(score: int) -> str:
    """``strong`` (>= 70), ``guarded`` (40..69) or ``poor`` (< 40)."""
    if score >= STRONG:
        return "strong"
    if score >= GUARDED:
        return "guarded"
    return "poor"


RECOMMENDATION = {"strong": "proceed", "guarded": "proceed_with_guardrails", "poor": "walk_away"}
STEPS = {"proceed": 0, "proceed_with_guardrails": 1, "walk_away": 2}
"""The recommendations in order: one answer moves the verdict by at most one step."""
RECOMMENDATION_LABELS = {
    "proceed": "Proceed",
    "proceed_with_guardrails": "Proceed with guardrails",
    "walk_away": "Walk away",
}
SCOPE_FIRST = "Agree a scope that fits before signing"
"""How a readable verdict starts beside a scope red flag (never "proceed")."""
SCOPE_ACTION_ID = "agree_scope_that_fits"
_SCOPE_ACTION = (
    SCOPE_FIRST + ": go through what the engagement must deliver, the budget and the "
    "timeline with {name}, and send the agreement only once the three match."
)
# "Frustrated creative" names a client who wants a hand in the creative work; without a
# creative team of their own, the same answers say close control, and people read that.
_CONTEXT_LABELS = {("frustrated_creative", "in_house_creative", "none"): "Close control"}


def risk_labels(clean: Mapping[str, Any]) -> dict[str, str]:
    """The words people read for each cause, for these answers (``risk_labels``)."""
    labels = dict(CAUSE_LABELS)
    for (cause, qid, value), label in _CONTEXT_LABELS.items():
        if clean.get(qid) == value:
            labels[cause] = label
    return labels


def verdict_label(assessment: Mapping[str, Any]) -> str:
    """The recommendation in words; beside a scope red flag it starts by agreeing the
    scope and never says "proceed" (assessment.md v1.2)."""
    recommendation = assessment["recommendation"]
    if recommendation != "walk_away" and any(
        f.get("kind") == "scope" for f in assessment.get("red_flag_details") or ()
    ):
        return f"{SCOPE_FIRST}; the guardrails of the agreement come after"
    return RECOMMENDATION_LABELS[recommendation]


def capped_band(score: int, risks: Mapping[str, int]) -> tuple[str, str | None]:
    """The band of an assessment and its ``band_note``: the score's band, capped at
    ``guarded`` when a cause's risk is :data:`CAP_RISK` or more (the note names it)."""
    band = band_of(score)
    high = [(cause, value) for cause, value in risks.items() if value >= CAP_RISK]
    if band != "strong" or not high:
        return band, None
    high.sort(key=lambda item: -item[1])  # stable: the contract's order among equals
    named = join_words([f"{CAUSE_LABELS[c].lower()} risk is {v}" for c, v in high])
    return "guarded", (
        f"Guarded rather than strong: the {named}, and a risk of {CAP_RISK} or more is not "
        f"offset by good signs elsewhere (the score alone is {score})."
    )


def one_step(question, value: Any) -> list[Any]:
    """The answers one step from ``value`` (assessment.md v1.2): one value of a choice,
    one point of a number or scale, one item added to or removed from a list."""
    kind = question.type
    if kind == "yesno":
        return [not value] if isinstance(value, bool) else [True, False]
    if kind == "choice":
        return [v for v in question.values if v != value]
    if kind in ("integer", "scale"):
        if value is None:
            return []
        lo, hi = question.bounds()
        return [v for v in (value - 1, value + 1) if lo <= v <= hi]
    if kind == "multi":
        current = list(value or [])
        out: list[Any] = [[v for v in current if v != item] for item in current]
        out += [[*current, item] for item in question.values if item not in current]
        return out
    return []


def near_walk_away(
    clean: Mapping[str, Any], rules: tuple[Rule, ...], questionnaire: Questionnaire
) -> list[tuple[Rule, str]]:
    """The walk-away red flags that do not fire but would with one answer changed by one
    step, each with the question whose change would fire it."""
    signs, reads, kept = _walk_away_signs(rules, questionnaire)
    # A function of the answers the signs read: kept by them.
    key = tuple([tuple(v) if v.__class__ is list else v for v in map(clean.get, reads)])
    near = kept.get(key)
    if near is None:
        near = []
        for rule, questions in signs:
            if rule.condition(clean):
                continue
            for qid, question, changed in questions:
                if any(changed(clean, other) for other in one_step(question, clean.get(qid))):
                    near.append((rule, qid))
                    break
        if len(kept) >= MEMO_SIZE:
            kept.clear()
        kept[key] = near
    return list(near)


_SIGNS: list[tuple[tuple[Rule, ...], Questionnaire, tuple[Any, ...]]] = []


def _walk_away_signs(rules: tuple[Rule, ...], questionnaire: Questionnaire) -> tuple[Any, ...]:
    """The walk-away signs of ``rules``, each with, per question it reads, its condition
    as a function of (answers, that answer changed): ``changed(a, x)`` is the condition
    of ``{**a, question: x}``, with no copy of the answers; the questions they read, and
    the results kept by those answers. Made once per set of rules."""
    for known, q, signs in _SIGNS:
        if known is rules and q is questionnaire:
            return signs
    out = []
    for rule in rules:
        if rule.flag_kind != "walk_away" or rule.condition is None:
            continue
        reads = []
        for qid in rule.reads:
            source = to_python(
                rule.condition.tree,
                lambda other, qid=qid: "x" if other == qid else f"a.get({other!r})",
            )
            namespace = dict(NAMESPACE)
            code = compile(f"def changed(a, x):\n    return {source}\n", "<sign>", "exec")
            exec(code, namespace)  # noqa: S102 - generated from a checked condition
            reads.append((qid, questionnaire.questions[qid], namespace["changed"]))
        out.append((rule, tuple(reads)))
    reads = tuple(dict.fromkeys(qid for _, questions in out for qid, _, _ in questions))
    made = (tuple(out), reads, {})
    if len(_SIGNS) >= 8:
        del _SIGNS[0]
    _SIGNS.append((rules, questionnaire, made))
    return made


def evaluate(
    clean: Mapping[str, Any],
    playbooks: PlaybookSet,
    questionnaire: Questionnaire,
    profile: AgencyProfile | None = None,
) -> dict[str, Any]:
    """Assess answers that already passed validation (``clean`` from ``validate``).

    Clause texts are resolved with the agency ``profile`` (the shipped one when None)
    and no engagement terms (assessment.md v1.1); each clause also keeps its
    ``template``, so the agreement can resolve it again with the engagement's terms.

    The rules run as one Python function made once per playbook set (:class:`_Plan`);
    tests/interpreted.py keeps the rule-by-rule loop it replaced, and the tests compare
    the two over thousands of answer sets.
    """
    plan = playbooks.__dict__.get("_plan")
    if plan is None or plan.questionnaire is not questionnaire:
        plan = _Plan(playbooks, questionnaire)
        playbooks.__dict__["_plan"] = plan
    (
        score, risks, red_flags, flag_details, contributions, clauses, scope_actions,
        actions, scope, forced_walk_away, offering,
    ) = plan.runner(profile or default_profile())(clean)  # fmt: skip
    offers = plan.offers(offering, clean)
    labels = risk_labels(clean)
    band, band_note, band_cap = _band(score, risks, labels, scope, clean, playbooks, questionnaire)
    if scope:  # v1.2: the first thing to do is to agree a scope that fits
        name = clean.get("contact_name") or "the client"
        first = {
            "id": SCOPE_ACTION_ID,
            "playbook": scope[0]["playbook"],
            "text": _SCOPE_ACTION.format(name=name),
            "due": "before_signing",
        }
        actions = [first, *scope_actions, *actions]
    elif scope_actions:
        actions = scope_actions + actions
    return {
        "score": score,
        "band": band,
        "band_note": band_note,
        "band_cap": band_cap,
        "recommendation": "walk_away" if forced_walk_away else RECOMMENDATION[band],
        "risks": risks,
        "risk_labels": labels,
        "red_flags": red_flags,
        "red_flag_details": flag_details,
        "contributions": contributions,
        "clauses": clauses,
        "actions": actions,
        "offers": offers,
        "base_score": BASE_SCORE,
        "playbook_version": playbooks.version,
    }


MEMO_SIZE = 4096
"""Texts kept per template (by the answers they read) before its store starts again."""


def _filtered(display, apply):
    return lambda value: apply(display(value))


def _shown(kept: dict[Any, str], show, key: Any, value: Any) -> str:
    """An answer's text made for the first time (``show(value)``), kept by ``key``."""
    if len(kept) >= MEMO_SIZE:
        kept.clear()
    text = kept[key] = show(value)
    return text


class _Code(str):
    """Source code of a value that varies (a constant is the value itself)."""


class _Plan:
    """A playbook set's rules as one generated Python function: every condition inline
    over the answers read once into variables, each rule's output built in place with
    its constant parts as literals, its texts kept by the answers they follow from
    (:meth:`Template.answer_keys`), the clauses collected by section as they come.

    The function returns ``(score, risks, red_flags, red_flag_details, contributions,
    clauses, scope_actions, actions, scope flags, forced walk_away, offering)``, exactly
    what the rule-by-rule loop of tests/interpreted.py computes, in the same order
    (``offering``: the places in :attr:`offering` of the offering rules that hold). One
    function (and one store of texts) per agency profile."""

    def __init__(self, playbooks: PlaybookSet, questionnaire: Questionnaire):
        self.questionnaire = questionnaire
        self.rules = playbooks.rules
        # The rules that offer options of the rate card (proposal.md): the generated
        # function lists those that hold; the wish each answers follows from the answers
        # its condition reads, and is kept by those (a rule reads one or two answers).
        self.offering = tuple(r for r in playbooks.rules if r.offer)
        self.offers_kept: list[dict[tuple, str]] = [{} for _ in self.offering]
        self.templates: list[Any] = []  # the templates kept by answers (M0, M1, ...)
        self.displays: dict[str, Any] = {}  # D_v0: the question's display, F_lower: a filter
        self.source = self._source()  # read it to see what an assessment runs
        self.code = compile(self.source, f"<assessment {playbooks.version[:12]}>", "exec")
        self.runners: list[tuple[AgencyProfile, Any]] = []

    def runner(self, profile: AgencyProfile):
        for known, run in self.runners:
            if known is profile:
                return run
        for known, run in self.runners:
            if known == profile:
                return run
        run = self._make(profile)
        if len(self.runners) >= 8:
            del self.runners[0]
        self.runners.append((profile, run))
        return run

    def _text(self, t, lines: list[str], local, key) -> str:
        """An expression for template ``t``'s text, with the lines that make it appended
        to ``lines``: a literal for a fixed text; a text of answers only filled in place
        (:meth:`_inline`); one with facts kept by the answers it follows from
        (:meth:`Template.answer_keys`)."""
        if len(t.parts) == 1:
            return t.parts[0][0]
        j = len(self.templates)
        self.templates.append(t)
        keys = t.answer_keys()
        needs_r = bool(t.facts or t.refs)
        if keys is None:  # a fact that does not say what it reads: made every time
            lines.append("r = resolve(a) if r is None else r")
            lines.append(f"t{j} = render({j}, a, r)")
            return _Code(f"t{j}")
        if not needs_r:
            return self._inline(t, local, key)
        parts = [key(k) for k in keys]
        memo_key = parts[0] if len(parts) == 1 else "(" + ", ".join(parts) + ",)"
        if not parts:
            memo_key = "()"
        lines.append(f"t{j} = M{j}.get({memo_key})")
        lines.append(f"if t{j} is None:")
        if needs_r:
            lines.append("    r = resolve(a) if r is None else r")
        lines.append(f"    t{j} = miss({j}, {memo_key}, a, {'r' if needs_r else '_NONE'})")
        return _Code(f"t{j}")

    def _inline(self, t, local, key) -> str:
        """A template of answers only, as one f-string over the answers' variables: a
        free-text answer is its own text (``Question.display``); another answer's text
        is kept by its value, once for every template that shows it."""
        q = self.questionnaire
        out = []
        for literal, name, filter_name in t.parts:
            if literal:
                out.append("f" + repr(literal.replace("{", "{{").replace("}", "}}")))
            if name is None:
                continue
            v = local(name)
            display = q.questions[name].display
            if q.questions[name].type in ("text", "email"):
                self.displays[f"D_{v}"] = display
                expr = f"({v} if {v}.__class__ is str and {v} else D_{v}({v}))"
                if filter_name:
                    self.displays[f"F_{filter_name}"] = FILTERS[filter_name]
                    expr = f"F_{filter_name}({expr})"
            else:
                shown = f"P_{v}_{filter_name}" if filter_name else f"P_{v}"
                if shown not in self.displays:
                    self.displays[shown] = {}
                    self.displays[f"S{shown[1:]}"] = (
                        _filtered(display, FILTERS[filter_name]) if filter_name else display
                    )
                k = key(name)
                expr = f"({shown}.get({k}) or _shown({shown}, S{shown[1:]}, {k}, {v}))"
            out.append("f'{" + expr + "}'")
        return _Code("(" + " ".join(out) + ")")

    def offers(self, held: Sequence[int], clean: Mapping[str, Any]) -> list[dict]:
        """:func:`_offers` of the offering rules that hold (``held``: their places in
        :attr:`offering`, as the generated function lists them)."""
        return _offers(
            [(self.offering[j], self.offers_kept[j]) for j in held], clean, self.questionnaire
        )

    def _dict(self, lines: list[str], name: str, **items: Any) -> None:
        """Lines making the dict ``items`` as ``name``: a copy of its constant parts
        (kept in the namespace, keys in order), then the parts that vary (:class:`_Code`)
        set in place."""
        fixed = {k: None if isinstance(v, _Code) else v for k, v in items.items()}
        constant = f"K{len(self.displays)}"
        self.displays[constant] = fixed
        lines.append(f"{name} = {constant}.copy()")
        lines += [f"{name}[{k!r}] = {v}" for k, v in items.items() if isinstance(v, _Code)]

    def _make(self, profile: AgencyProfile):
        q = self.questionnaire
        memos = [{} for _ in self.templates]
        renderers = [t.renderer() for t in self.templates]

        # What facts read of the resolved values is the profile's and the terms' alone
        # (templates.FACT_ANSWERS): resolved once per profile, with no answers.
        static = values(profile, EngagementTerms(), {})

        def resolve(a):
            return static

        def miss(j, key, a, r):
            memo = memos[j]
            if len(memo) >= MEMO_SIZE:
                memo.clear()
            text = memo[key] = renderers[j](a, q, r)
            return text

        def render(j, a, r):
            return renderers[j](a, q, r)

        namespace: dict[str, Any] = dict(NAMESPACE)
        namespace.update(resolve=resolve, miss=miss, render=render, _NONE={}, _shown=_shown)
        namespace.update(self.displays)
        namespace.update((f"M{i}", memo) for i, memo in enumerate(memos))
        exec(self.code, namespace)  # noqa: S102 - generated from the checked playbooks
        return namespace["run"]

    def _source(self) -> str:
        q = self.questionnaire
        names: dict[str, str] = {}

        def local(qid: str) -> str:
            if qid not in names:
                names[qid] = f"v{len(names)}"
            return names[qid]

        multi = {qid for qid, question in q.questions.items() if question.type == "multi"}
        keyed: set[str] = set()
        causes = {cause: f"rk{i}" for i, cause in enumerate(CAUSES)}
        sections = {section: f"s{i}" for i, section in enumerate(SECTIONS)}
        used_sections: set[str] = set()
        action_counts: dict[str, int] = {}
        for rule in self.rules:
            for action in rule.actions:
                action_counts[action.id] = action_counts.get(action.id, 0) + 1
        repeated = {
            aid: f"seen{i}" for i, aid in enumerate(a for a, n in action_counts.items() if n > 1)
        }
        # Rules that read the same answers share the weightiest one's sentence (the
        # first of equals); a list's items are answers of their own.
        groups: dict[tuple[str, ...], list[int]] = {}
        for i, rule in enumerate(self.rules):
            if not (rule.points or rule.risk):
                continue
            if any(q.questions[qid].type == "multi" for qid in rule.reads):
                continue
            groups.setdefault(tuple(sorted(rule.reads)), []).append(i)
        shared = [
            sorted(members, key=lambda i: (-(self.rules[i].risk + abs(self.rules[i].points)), i))
            for members in groups.values()
            if len(members) > 1
        ]
        grouped = {i for members in shared for i in members}

        def key(qid: str) -> str:
            """The variable holding an answer as a key (a list as a tuple)."""
            if qid in multi:
                keyed.add(qid)
                return "k" + local(qid)[1:]
            return local(qid)

        body: list[str] = []
        for i, rule in enumerate(self.rules):
            lines: list[str] = []
            slots = [rule.because] if rule.because else []
            slots += [c.text for c in rule.clauses] + [a.text for a in rule.actions]
            texts = [self._text(t, lines, local, key) for t in slots]
            because = texts[0] if rule.because else ""
            if rule.points or rule.risk or rule.red_flag or rule.clauses:
                lines.append(f"reads = {list(rule.reads)!r}")
            if rule.points or rule.risk:
                if rule.points:
                    lines.append(f"points += {rule.points!r}")
                if rule.risk:
                    lines.append(f"{causes[rule.cause]} += {rule.risk!r}")
                name = f"c{i}" if i in grouped else "d"
                self._dict(
                    lines, name, playbook=rule.playbook, rule=rule.id, points=rule.points,
                    cause=rule.cause, risk=rule.risk, questions=_Code("reads"), because=because,
                )  # fmt: skip
                lines.append(f"contributions.append({name})")
            if rule.red_flag:
                lines.append(f"b = {because if isinstance(because, _Code) else repr(because)}")
                lines.append("red_flags.append(b)")
                self._dict(
                    lines, "f", text=_Code("b"), kind=rule.flag_kind, playbook=rule.playbook,
                    rule=rule.id, questions=_Code("reads"),
                )  # fmt: skip
                lines.append("flags.append(f)")
                if rule.flag_kind == "scope":
                    lines.append("scope.append(f)")
                if rule.flag_kind == "walk_away":
                    lines.append("forced = True")
            offset = 1 if rule.because else 0
            for n, clause in enumerate(rule.clauses):
                used_sections.add(clause.section)
                self._dict(
                    lines, "d", id=clause.id, playbook=rule.playbook, section=clause.section,
                    title=clause.title, text=texts[offset + n], template=clause.text.source,
                    triggered_by=_Code("reads"), uses=_Code(repr(list(clause.text.uses))),
                )  # fmt: skip
                lines.append(f"{sections[clause.section]}.append(d)")
            offset += len(rule.clauses)
            target = "scope_actions" if rule.flag_kind == "scope" else "actions"
            for n, action in enumerate(rule.actions):
                made: list[str] = []
                self._dict(
                    made, "d", id=action.id, playbook=rule.playbook, text=texts[offset + n],
                    due=action.due,
                )  # fmt: skip
                made.append(f"{target}.append(d)")
                if action.id in repeated:
                    flag = repeated[action.id]
                    lines += [f"if not {flag}:", f"    {flag} = True"]
                    lines += ["    " + line for line in made]
                else:
                    lines += made
            if rule.offer:
                lines.append(f"offering.append({self.offering.index(rule)})")
            if not lines:
                lines.append("pass")
            if rule.condition is None:
                body += ["    " + line for line in lines]
            else:
                body.append(f"    if {to_python(rule.condition.tree, local)}:")
                body += ["        " + line for line in lines]
        for members in shared:
            body.append(f"    lead = {' or '.join(f'c{i}' for i in members)}")
            body.append("    if lead is not None:")
            body.append("        b = lead['because']")
            for i in members:
                body.append(f"        if c{i} is not None:")
                body.append(f"            c{i}['because'] = b")
        clamp = "(0 if {0} < 0 else 100 if {0} > 100 else {0})"
        risks = ", ".join(f"{cause!r}: {clamp.format(name)}" for cause, name in causes.items())
        collected = ", ".join(f"*{sections[s]}" for s in SECTIONS if s in used_sections)
        tail = [
            f"    score = {BASE_SCORE} + points",
            f"    score = {clamp.format('score')}",
            f"    return (score, {{{risks}}}, red_flags, flags, contributions, [{collected}], "
            "scope_actions, actions, scope, forced, offering)",
        ]
        head = ["def run(a):", "    g = a.get"]
        head += [f"    {name} = g({qid!r})" for qid, name in names.items()]
        head += [
            f"    k{names[qid][1:]} = tuple({names[qid]}) if {names[qid]}.__class__ is list "
            f"else {names[qid]}"
            for qid in sorted(keyed)
        ]
        head += [
            "    points = " + " = ".join(causes.values()) + " = 0",
            "    red_flags = []; flags = []; contributions = []; scope = []",
            "    scope_actions = []; actions = []; forced = False; r = None; offering = []",
        ]
        head += [f"    {sections[s]} = []" for s in SECTIONS if s in used_sections]
        # The appends to the lists that take most items bound once (not looked up per item).
        lists = ["contributions", "actions"]
        head += [f"    {name}_append = {name}.append" for name in lists]
        appending = re.compile(r"^( *)(" + "|".join(lists) + r")\.append\(")
        body = [appending.sub(r"\1\2_append(", line, count=1) for line in body]
        head += [f"    c{i} = None" for i in sorted(grouped)]
        head += [f"    {flag} = False" for flag in repeated.values()]
        return "\n".join(head + body + tail) + "\n"


def _offers(
    held: Sequence[tuple[Any, dict[tuple, str]]],
    clean: Mapping[str, Any],
    questionnaire: Questionnaire,
) -> list[dict]:
    """The options the rules that hold offer (``held``: each rule with its store of wishes
    by the answers it reads), each once (where the first rule that offers it says), with
    the wish it answers in words (``because``): every wish, when several rules offer the
    same option (updates a few times a week, and meetings)."""
    offers: list[dict[str, Any]] = []
    for rule, kept in held:
        reads = rule.reads
        key = tuple(map(answer_key, map(clean.get, reads)))
        because = kept.get(key)
        if because is None:
            if len(kept) >= MEMO_SIZE:
                kept.clear()
            because = kept[key] = wish_phrase(reads, clean, questionnaire)
        for oid in rule.offer:
            same = next((o for o in offers if o["id"] == oid), None)
            if same is None:
                offers.append(
                    {"id": oid, "playbook": rule.playbook, "rule": rule.id,
                     "questions": list(reads), "because": because}
                )  # fmt: skip
            else:  # another wish the same option answers: say both
                same["questions"] = list(dict.fromkeys([*same["questions"], *reads]))
                if because and because not in same["because"]:
                    same["because"] = f"{same['because']} {because}".strip()
    return offers


def _band(score, risks, labels, scope, clean, playbooks, questionnaire):
    """The band, its note and the cap that applied (v1.1 causes, v1.2 scope and walk-away
    one step away); only ever lowers ``strong`` to ``guarded``."""
    band = band_of(score)
    if band != "strong":
        return band, None, None
    if scope:
        return (
            "guarded",
            (
                "Guarded rather than strong: the scope does not fit the budget or the timeline, "
                f"so the first step is to agree a scope that fits before signing (the score "
                f"alone is {score})."
            ),
            "scope",
        )
    high = sorted(((c, v) for c, v in risks.items() if v >= CAP_RISK), key=lambda i: -i[1])
    if high:
        named = join_words([f"{labels[c].lower()} risk is {v}" for c, v in high])
        return (
            "guarded",
            (
                f"Guarded rather than strong: the {named}, and a risk of {CAP_RISK} or more is "
                f"not offset by good signs elsewhere (the score alone is {score})."
            ),
            high[0][0],
        )
    near = near_walk_away(clean, playbooks.rules, questionnaire)
    if near:
        names = join_words(sorted({questionnaire.questions[q].name for _, q in near}))
        return (
            "guarded",
            (
                "Guarded rather than strong: one answer away from a reason to walk away (a "
                f"step further in {names}), so the agreement's guardrails matter here (the "
                f"score alone is {score})."
            ),
            "walk_away",
        )
    return band, None, None


def assess(answers: Any, playbooks: PlaybookSet | None = None) -> dict[str, Any]:
    """Validate ``answers`` and return the assessment contract as a dict.

    Raises :class:`AnswersInvalid` (with ``.errors``, every problem at once) when the
    answers do not validate. Playbooks are loaded once per process unless given.
    """
    questionnaire = get_questionnaire()
    clean, errors = questionnaire.validate(answers)
    if errors:
        raise AnswersInvalid(errors)
    return evaluate(clean, playbooks or get_playbooks(), questionnaire)


def reasons(assessment: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One reason per answer: the contributions that read the same answers with the same
    sentence, merged (their points added up, their risks by cause, the rules' ids), in
    the order the first of each appears."""
    out: dict[tuple[Any, ...], dict[str, Any]] = {}
    for c in assessment["contributions"]:
        key = (*sorted(c["questions"]), c["because"])
        reason = out.setdefault(
            key,
            {"because": c["because"], "points": 0, "risks": {}, "rules": [],
             "questions": list(c["questions"])},
        )  # fmt: skip
        reason["points"] += c["points"]
        if c.get("risk"):
            reason["risks"][c["cause"]] = reason["risks"].get(c["cause"], 0) + c["risk"]
        reason["rules"].append(f"{c['playbook']}/{c['rule']}")
    return list(out.values())


def to_json(assessment: Mapping[str, Any]) -> str:
    """The canonical JSON text of an assessment (the same input gives the same bytes)."""
    return json.dumps(assessment, ensure_ascii=False, indent=2) + "\n"
