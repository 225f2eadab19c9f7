"""The condition language of playbooks and ``show_if``.

A condition is a short sentence an account manager can read::

    control_level >= 4 and "daily_tasks" in decisions_owned
    worked_with_agency_before and past_experience_rating <= 2
    count(fears) >= 3 or fear_intensity = 5
    update_frequency in ["daily", "few_per_week"]
    not answered(success_metrics)

It is parsed with Lark (never Python ``eval``), checked against the questionnaire at
load time (unknown questions, values outside a choice list, type mismatches) and
compiled to plain Python closures, so evaluating it costs a few function calls.

Unanswered optional questions are ``None``: every comparison with ``None`` is false,
``answered(x)`` is false, and an unanswered list counts as empty.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken


class Question(Protocol):
    """What a condition needs of a question (:class:`onboarding.domain.questionnaire.
    Question` is one): declared here, so that the questionnaire, which compiles its
    ``show_if`` conditions with this module, is never imported back (no cycle)."""

    id: str
    type: str
    values: dict[str, str]

    def bounds(self) -> tuple[int, int]: ...


class Questionnaire(Protocol):
    """What a condition needs of the questionnaire: its questions by id."""

    questions: Mapping[str, Question]


GRAMMAR = r"""
?start: or_expr
?or_expr: and_expr ("or" and_expr)*        -> or_
?and_expr: not_expr ("and" not_expr)*      -> and_
?not_expr: "not" not_expr                  -> not_
         | comparison
?comparison: operand
           | operand CMP operand           -> compare
           | operand "in" operand          -> contains
           | operand "not" "in" operand    -> not_contains
?operand: NAME                             -> name
        | NAME "(" NAME ")"                -> call
        | STRING                           -> string
        | NUMBER                           -> number
        | "true"                           -> true
        | "false"                          -> false
        | "[" [literal ("," literal)*] "]" -> list_
        | "(" or_expr ")"
?literal: STRING -> string
        | NUMBER -> number
CMP: ">=" | "<=" | "!=" | "==" | "=" | ">" | "<"
STRING: /"[^"\n]*"/ | /'[^'\n]*'/
NUMBER: /-?\d+/
NAME: /[a-z_][a-z0-9_]*/
%import common.WS
%ignore WS
"""


@functools.cache
def _parser() -> Lark:
    """The parser, built at the first parse (a process that parses nothing, such as the
    render worker, which imports the playbooks' types, does not build it)."""
    return Lark(GRAMMAR, parser="lalr", maybe_placeholders=True)


class ConditionError(ValueError):
    """A condition that does not parse or does not fit the questionnaire."""


# --- the syntax tree -------------------------------------------------------------


@dataclass(frozen=True)
class Name:
    id: str


@dataclass(frozen=True)
class Call:
    func: str
    arg: str


@dataclass(frozen=True)
class Literal:
    value: Any  # str, int, bool or tuple of str/int


@dataclass(frozen=True)
class Not:
    expr: Any


@dataclass(frozen=True)
class BoolOp:
    op: str  # "and" | "or"
    items: tuple


@dataclass(frozen=True)
class Compare:
    op: str
    left: Any
    right: Any


@dataclass(frozen=True)
class Contains:
    item: Any
    container: Any
    negated: bool


@v_args(inline=True)
class _ToAst(Transformer):
    def name(self, tok: Token):
        return Name(str(tok))

    def call(self, func: Token, arg: Token):
        return Call(str(func), str(arg))

    def string(self, tok: Token):
        return Literal(str(tok)[1:-1])

    def number(self, tok: Token):
        return Literal(int(tok))

    def true(self):
        return Literal(True)

    def false(self):
        return Literal(False)

    def list_(self, *items):
        return Literal(tuple(i.value for i in items if i is not None))

    def not_(self, expr):
        return Not(expr)

    def and_(self, *items):
        return items[0] if len(items) == 1 else BoolOp("and", items)

    def or_(self, *items):
        return items[0] if len(items) == 1 else BoolOp("or", items)

    def compare(self, left, op: Token, right):
        return Compare("==" if str(op) == "=" else str(op), left, right)

    def contains(self, item, container):
        return Contains(item, container, False)

    def not_contains(self, item, container):
        return Contains(item, container, True)


@functools.lru_cache(maxsize=4096)
def parse(text: str):
    """Parse a condition into its syntax tree; raise ConditionError with the position.

    Trees are immutable, so each text is parsed once per process (a playbook folder
    loaded again, or by the check and the app in one process, parses nothing new)."""
    try:
        return _ToAst().transform(_parser().parse(text))
    except UnexpectedEOF:
        raise ConditionError("the condition ends too early") from None
    except UnexpectedCharacters as exc:
        raise ConditionError(
            f"unexpected {text[exc.pos_in_stream]!r} at column {exc.column}"
        ) from None
    except UnexpectedToken as exc:
        if exc.token.type == "$END":
            raise ConditionError("the condition ends too early") from None
        raise ConditionError(f"unexpected {str(exc.token)!r} at column {exc.column}") from None
    except UnexpectedInput as exc:  # pragma: no cover - other lark errors
        raise ConditionError(str(exc)) from None


# --- checking and compiling -------------------------------------------------------

# Static types: "bool", "number", "text", "choice", "list", "literal_str", "literal_list".
NUMERIC_TYPES = {"integer", "scale"}

_CMP: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
}

Evaluator = Callable[[Mapping[str, Any]], Any]


def _answered(value: Any) -> bool:
    return value is not None and value != [] and value != ""


def _count(value: Any) -> int:
    return len(value) if value else 0


FUNCTIONS: dict[str, tuple[Callable[[Any], Any], str]] = {
    # name: (implementation, result type)
    "answered": (_answered, "bool"),
    "count": (_count, "number"),
}


@dataclass(frozen=True)
class Condition:
    """A checked, compiled condition."""

    source: str
    tree: Any
    reads: tuple[str, ...]
    evaluate: Evaluator

    def __call__(self, answers: Mapping[str, Any]) -> bool:
        return bool(self.evaluate(answers))


class _Compiler:
    def __init__(self, questionnaire: Questionnaire):
        self.q = questionnaire
        self.reads: list[str] = []

    def question(self, qid: str) -> Question:
        question = self.q.questions.get(qid)
        if question is None:
            raise ConditionError(f"unknown question {qid!r}")
        if qid not in self.reads:
            self.reads.append(qid)
        return question

    # Each visit returns (static type, question or None, evaluator).
    def visit(self, node):
        if isinstance(node, Name):
            question = self.question(node.id)
            kind = {
                "yesno": "bool",
                "integer": "number",
                "scale": "number",
                "choice": "choice",
                "multi": "list",
            }.get(question.type, "text")
            qid = node.id
            return kind, question, lambda a: a.get(qid)
        if isinstance(node, Call):
            if node.func not in FUNCTIONS:
                known = ", ".join(sorted(FUNCTIONS))
                raise ConditionError(f"unknown function {node.func!r} (known: {known})")
            func, result = FUNCTIONS[node.func]
            question = self.question(node.arg)
            if node.func == "count" and question.type != "multi":
                raise ConditionError(f"count() needs a multi question, {node.arg!r} is not one")
            qid = node.arg
            return result, None, lambda a: func(a.get(qid))
        if isinstance(node, Literal):
            value = node.value
            kind = {bool: "bool", int: "number", str: "literal_str", tuple: "literal_list"}[
                type(value)
            ]
            return kind, None, lambda a: value
        if isinstance(node, Not):
            inner = self.boolean(node.expr, "not")
            return "bool", None, lambda a: not inner(a)
        if isinstance(node, BoolOp):
            parts = tuple(self.boolean(item, node.op) for item in node.items)
            if node.op == "and":
                return "bool", None, lambda a: all(p(a) for p in parts)
            return "bool", None, lambda a: any(p(a) for p in parts)
        if isinstance(node, Compare):
            return self.compare(node)
        if isinstance(node, Contains):
            return self.contains(node)
        raise ConditionError(f"cannot compile {node!r}")  # pragma: no cover

    def boolean(self, node, where: str) -> Evaluator:
        kind, question, fn = self.visit(node)
        if kind != "bool":
            what = f"question {question.id!r} ({question.type})" if question else "this value"
            hint = " — compare it, or use answered(...)" if question else ""
            subject = "the condition" if where == "condition" else f"'{where}'"
            raise ConditionError(f"{subject} must be yes/no, but got {what}{hint}")
        return fn

    def compare(self, node: Compare):
        lkind, lq, left = self.visit(node.left)
        rkind, rq, right = self.visit(node.right)
        lnode, rnode, op = node.left, node.right, node.op
        if lkind == "literal_str" and rkind in ("choice", "text"):
            lkind, lq, left, lnode, rkind, rq, right, rnode = (
                rkind,
                rq,
                right,
                rnode,
                lkind,
                lq,
                left,
                lnode,
            )
        if lkind == "number" and rkind == "number":
            for question, other in ((lq, rnode), (rq, lnode)):
                if question is not None and isinstance(other, Literal):
                    self.check_range(question, other.value)
        elif lkind in ("choice", "text") and rkind == "literal_str":
            if op not in ("==", "!="):
                raise ConditionError(f"{lq.id!r} can only be compared with = or !=")
            if lkind == "choice":
                self.check_value(lq, rnode.value)
        elif lkind == "bool" and rkind == "bool" and op in ("==", "!="):
            pass
        else:
            raise ConditionError(
                f"cannot compare {describe(lkind, lq)} with {describe(rkind, rq)} using {op}"
            )
        fn = _CMP[op]

        def evaluate(a):
            x, y = left(a), right(a)
            if x is None or y is None:
                return False
            return fn(x, y)

        return "bool", None, evaluate

    def contains(self, node: Contains):
        ikind, iq, item = self.visit(node.item)
        ckind, cq, container = self.visit(node.container)
        if ckind == "list" and ikind == "literal_str":
            self.check_value(cq, node.item.value)
        elif ckind == "literal_list" and ikind in ("choice", "number"):
            for value in node.container.value:
                if ikind == "choice":
                    if not isinstance(value, str):
                        raise ConditionError(f"{iq.id!r} takes strings, not {value!r}")
                    self.check_value(iq, value)
                else:
                    if not isinstance(value, int):
                        raise ConditionError(f"{iq.id!r} takes numbers, not {value!r}")
                    if iq is not None:
                        self.check_range(iq, value)
        else:
            raise ConditionError(
                f"cannot test whether {describe(ikind, iq)} is in {describe(ckind, cq)}"
            )
        negated = node.negated

        def evaluate(a):
            x, c = item(a), container(a)
            if x is None or c is None:
                return negated
            return (x in c) != negated

        return "bool", None, evaluate

    @staticmethod
    def check_value(question: Question | None, value: str | None) -> None:
        if question is None or value is None:
            return
        if value not in question.values:
            allowed = ", ".join(question.values)
            raise ConditionError(
                f"{value!r} is not a value of {question.id!r} (allowed: {allowed})"
            )

    @staticmethod
    def check_range(question: Question, value: int) -> None:
        lo, hi = question.bounds()
        if not lo <= value <= hi:
            raise ConditionError(f"{value} is outside the range of {question.id!r} ({lo} to {hi})")


def describe(kind: str, question: Question | None) -> str:
    """A few words naming an operand for an error message."""
    if question is not None:
        return f"question {question.id!r} ({question.type})"
    return {
        "literal_str": "a string",
        "literal_list": "a list",
        "number": "a number",
        "bool": "a yes/no value",
    }.get(kind, kind)


def compile_condition(text: str, questionnaire: Questionnaire) -> Condition:
    """Parse, check and compile ``text``; raise ConditionError naming what is wrong.

    The checked tree becomes one Python function (:func:`to_python`): evaluating a
    condition is one call, with no tree walked or closure chained per answer set."""
    if not isinstance(text, str) or not text.strip():
        raise ConditionError("the condition is empty")
    tree = parse(text)
    compiler = _Compiler(questionnaire)
    compiler.boolean(tree, "condition")  # checks types, values and ranges
    return Condition(text, tree, tuple(compiler.reads), _function(tree))


def interpreted(tree, questionnaire: Questionnaire) -> Evaluator:
    """The condition as a chain of closures, one per node (what :func:`compile_condition`
    made before conditions became Python functions; the tests compare the two)."""
    return _Compiler(questionnaire).boolean(tree, "condition")


class _Python:
    """A checked syntax tree as one Python expression over ``a`` (the answers).

    Same meaning as the closures of :class:`_Compiler`: a comparison with an unanswered
    question is false, ``x in c`` with either unanswered is false (``not in``: true),
    ``and``/``or``/``not`` by truth. Literals are written with ``repr`` of the values
    the parser produced (strings without quotes or newlines, whole numbers, booleans),
    and question ids match ``[a-z_][a-z0-9_]*``: the source holds nothing else."""

    def __init__(self, local: Callable[[str], str] | None = None) -> None:
        self.temps = 0
        self.local = local  # question id -> a variable holding its answer (else a.get)

    def temp(self) -> str:
        self.temps += 1
        return f"_t{self.temps}"

    def truth(self, node) -> str:
        """An expression whose truth is the node's."""
        if isinstance(node, Not):
            return f"(not {self.truth(node.expr)})"
        if isinstance(node, BoolOp):
            return "(" + f" {node.op} ".join(self.truth(item) for item in node.items) + ")"
        if isinstance(node, Compare):
            return self.compare(node)
        if isinstance(node, Contains):
            return self.contains(node)
        return self.value(node)

    def value(self, node) -> str:
        """An expression for the node's value (``None`` when unanswered)."""
        if isinstance(node, Name):
            return self.read(node.id)
        if isinstance(node, Call):
            if self.local is not None and node.func in _INLINE:  # no call per answer
                return _INLINE[node.func].format(v=self.local(node.arg))
            return f"_{node.func}({self.read(node.arg)})"
        if isinstance(node, Literal):
            return repr(node.value)
        # A parenthesised condition as an operand: exactly True or False.
        return f"(True if {self.truth(node)} else False)"

    def operand(self, node) -> tuple[str, str | None]:
        """``(expression, its None test or None)``: a question's value is bound to a
        temporary by the test, so it is read once."""
        if isinstance(node, Name):
            if self.local is not None:
                name = self.local(node.id)
                return name, f"{name} is not None"
            name = self.temp()
            return name, f"({name} := a.get({node.id!r})) is not None"
        return self.value(node), None

    def read(self, qid: str) -> str:
        return self.local(qid) if self.local is not None else f"a.get({qid!r})"

    def compare(self, node: Compare) -> str:
        left, left_test = self.operand(node.left)
        right, right_test = self.operand(node.right)
        tests = [t for t in (left_test, right_test) if t]
        return "(" + " and ".join([*tests, f"{left} {node.op} {right}"]) + ")"

    def contains(self, node: Contains) -> str:
        item, item_test = self.operand(node.item)
        container, container_test = self.operand(node.container)
        tests = [t for t in (item_test, container_test) if t]
        if node.negated:
            missing = [t.replace(" is not None", " is None") for t in tests]
            return "(" + " or ".join([*missing, f"{item} not in {container}"]) + ")"
        return "(" + " and ".join([*tests, f"{item} in {container}"]) + ")"


# The functions in place, over a variable (the same results as _answered and _count).
_INLINE = {
    "answered": "({v} is not None and {v} != [] and {v} != '')",
    "count": "(len({v}) if {v} else 0)",
}
_NAMESPACE = {"_answered": _answered, "_count": _count, "__builtins__": {}}
NAMESPACE = {"_answered": _answered, "_count": _count}
"""What the source of :func:`to_python` needs in the namespace it runs in."""


def _function(tree) -> Evaluator:
    return _compiled(to_python(tree))


@functools.lru_cache(maxsize=4096)
def _compiled(source: str) -> Evaluator:
    code = compile(f"def condition(a):\n    return {source}\n", "<condition>", "exec")
    namespace = dict(_NAMESPACE)
    exec(code, namespace)  # noqa: S102 - source generated from a checked tree, see _Python
    return namespace["condition"]


def to_python(tree, local: Callable[[str], str] | None = None) -> str:
    """The Python expression of a checked condition tree (reads the answers ``a``, or,
    with ``local``, the variables ``local(question id)`` holding them: a caller that
    evaluates many conditions reads each answer once). ``_answered`` and ``_count``
    are :data:`FUNCTIONS`' (the namespace :data:`NAMESPACE` gives them)."""
    return _Python(local).truth(tree)


# --- monotonicity -----------------------------------------------------------------
# A condition is "up" in a question when raising that answer (or adding an item to a
# list) can only turn it from false to true, "down" for the reverse, "none" when it
# does not read the question, and "mixed" otherwise.

_FLIP = {"up": "down", "down": "up", "none": "none", "mixed": "mixed"}


def _join(a: str, b: str) -> str:
    if a == "none":
        return b
    if b == "none" or a == b:
        return a
    return "mixed"


def polarity(tree, qid: str) -> str:
    """How the truth of ``tree`` moves when question ``qid`` rises: up/down/none/mixed."""
    if isinstance(tree, Name):
        return "up" if tree.id == qid else "none"  # a bare yes/no
    if isinstance(tree, Call):
        return "up" if tree.arg == qid else "none"  # answered() and count() grow
    if isinstance(tree, Literal):
        return "none"
    if isinstance(tree, Not):
        return _FLIP[polarity(tree.expr, qid)]
    if isinstance(tree, BoolOp):
        result = "none"
        for item in tree.items:
            result = _join(result, polarity(item, qid))
        return result
    if isinstance(tree, Compare):
        left, right = _operand_polarity(tree.left, qid), _operand_polarity(tree.right, qid)
        if left == "none" and right == "none":
            return "none"
        if left != "none" and right != "none":
            return "mixed"
        if tree.op in ("==", "!="):
            return "mixed"
        grows = tree.op in (">", ">=")
        if right != "none":
            grows = not grows
        return "up" if grows else "down"
    if isinstance(tree, Contains):
        if _operand_polarity(tree.item, qid) != "none":
            return "mixed"
        if _operand_polarity(tree.container, qid) != "none":
            return "down" if tree.negated else "up"
        return "none"
    return "mixed"  # pragma: no cover


def _operand_polarity(node, qid: str) -> str:
    if isinstance(node, Name | Call):
        return polarity(node, qid)
    return "none"


# --- partial evaluation (the loader's bound on one answer's weight) ----------------------
# With one question's answer fixed and every other answer unknown, a condition is
# certainly true, certainly false, or either (None).

_UNKNOWN = object()


def partial_truth(tree, qid: str, value: Any) -> bool | None:
    """Whether ``tree`` holds when question ``qid`` is ``value`` and every other answer
    is unknown: True or False when that settles it, None when other answers decide."""
    if isinstance(tree, Not):
        inner = partial_truth(tree.expr, qid, value)
        return None if inner is None else not inner
    if isinstance(tree, BoolOp):
        parts = [partial_truth(item, qid, value) for item in tree.items]
        if tree.op == "and":
            return False if False in parts else (True if all(parts) else None)
        return True if True in parts else (False if all(p is False for p in parts) else None)
    if isinstance(tree, Compare):
        left, right = (
            _partial_operand(tree.left, qid, value),
            _partial_operand(tree.right, qid, value),
        )
        if left is _UNKNOWN or right is _UNKNOWN:
            return None
        return left is not None and right is not None and _CMP[tree.op](left, right)
    if isinstance(tree, Contains):
        item = _partial_operand(tree.item, qid, value)
        container = _partial_operand(tree.container, qid, value)
        if item is _UNKNOWN or container is _UNKNOWN:
            return None
        if item is None or container is None:
            return tree.negated
        return (item in container) != tree.negated
    result = _partial_operand(tree, qid, value)  # a bare yes/no or answered(...)
    return None if result is _UNKNOWN else bool(result)


def _partial_operand(node, qid: str, value: Any) -> Any:
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, Name):
        return value if node.id == qid else _UNKNOWN
    if isinstance(node, Call):
        return FUNCTIONS[node.func][0](value) if node.arg == qid else _UNKNOWN
    truth = partial_truth(node, qid, value)  # a parenthesised condition as an operand
    return _UNKNOWN if truth is None else truth


def literals(tree) -> set[Any]:
    """Every literal value a condition compares with (for the answers worth trying)."""
    if isinstance(tree, Literal):
        return set(tree.value) if isinstance(tree.value, tuple) else {tree.value}
    if isinstance(tree, Not):
        return literals(tree.expr)
    if isinstance(tree, BoolOp):
        return set().union(*(literals(item) for item in tree.items))
    if isinstance(tree, Compare):
        return literals(tree.left) | literals(tree.right)
    if isinstance(tree, Contains):
        return literals(tree.item) | literals(tree.container)
    return set()
