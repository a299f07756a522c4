"""The condition language rules are written in, as a small tree of plain data.

A clinician writes conditions in YAML (see ``knowledge/README.md``); :mod:`expert.parser` turns
them into the classes below. Everything that reads a condition does so through one
:class:`Visitor` (a method per construct): the compiler turns it into engine patterns, the
decider evaluates it in three-valued logic (true, false, or not yet known), and :func:`describe`
prints it for people. :func:`leaves` walks it with the negation of each leaf tracked in one place.
"""
from __future__ import annotations

import enum
import operator
from dataclasses import dataclass
from functools import partial
from typing import Any, Callable, Generic, Iterator, Mapping, Sequence, TypeVar, Union

#: Words for numeric tests, with the comparison each one means.
NUMBER_TESTS: dict[str, Callable[[Any, Any], bool]] = {
    "at_least": lambda value, bound: value >= bound,
    "above": lambda value, bound: value > bound,
    "at_most": lambda value, bound: value <= bound,
    "below": lambda value, bound: value < bound,
    "equals": lambda value, bound: value == bound,
}
SET_TESTS = ("includes", "includes_any", "includes_all", "includes_none")
CONSTRUCTS = ("all", "any", "not", "unless", "count")

T = TypeVar("T")


class Truth(enum.IntEnum):
    """Kleene's three-valued logic: ``and`` is min, ``or`` is max, ``not`` mirrors."""

    FALSE = 0
    UNKNOWN = 1
    TRUE = 2

    def __invert__(self) -> "Truth":
        return Truth(2 - self.value)


class Condition:
    """Base of the condition tree."""

    def children(self) -> Sequence["Condition"]:
        return ()

    def accept(self, visitor: "Visitor[T]") -> T:
        raise NotImplementedError

    def nodes(self) -> Iterator["Condition"]:
        """This condition and every condition inside it."""
        yield self
        for kid in self.children():
            yield from kid.nodes()


@dataclass(frozen=True)
class AllOf(Condition):
    items: tuple[Condition, ...]

    def children(self) -> Sequence[Condition]:
        return self.items

    def accept(self, visitor: "Visitor[T]") -> T:
        return visitor.all_of(self)


@dataclass(frozen=True)
class AnyOf(Condition):
    items: tuple[Condition, ...]

    def children(self) -> Sequence[Condition]:
        return self.items

    def accept(self, visitor: "Visitor[T]") -> T:
        return visitor.any_of(self)


@dataclass(frozen=True)
class Not(Condition):
    """The answers show that ``item`` does not hold (so it needs answers)."""

    item: Condition

    def children(self) -> Sequence[Condition]:
        return (self.item,)

    def accept(self, visitor: "Visitor[T]") -> T:
        return visitor.not_(self)


@dataclass(frozen=True)
class Unless(Condition):
    """Holds while ``item`` is not shown to hold: negation as failure, for advice and tests only.

    ``not`` needs answers that make its condition false; ``unless`` is satisfied by silence too
    ("stretch, unless we know stretching does not help").
    """

    item: Condition

    def children(self) -> Sequence[Condition]:
        return (self.item,)

    def accept(self, visitor: "Visitor[T]") -> T:
        return visitor.unless(self)


@dataclass(frozen=True)
class Count(Condition):
    """At least ``least`` of ``items`` hold."""

    least: int
    items: tuple[Condition, ...]

    def children(self) -> Sequence[Condition]:
        return self.items

    def accept(self, visitor: "Visitor[T]") -> T:
        return visitor.count(self)


@dataclass(frozen=True)
class Is(Condition):
    """A test on one observation's answer: ``test`` is ``equals``, ``one_of``, a set or number test."""

    observation: str
    test: str
    operand: Any

    def holds(self, value: Any) -> bool:
        """Whether an answer passes this test (the engine and the decider use :meth:`predicate`)."""
        return self.predicate()(value)

    def accept(self, visitor: "Visitor[T]") -> T:
        return visitor.test(self)

    def predicate(self) -> Callable[[Any], bool]:
        """:meth:`holds` as a new function made for this one test: what the engine's patterns and
        the decider call for every answer they test (made when they are compiled, kept by them)."""
        test, operand = self.test, self.operand
        if test == "equals":
            return partial(operator.eq, operand)
        if test == "one_of":
            return partial(operator.contains, operand)
        if test == "includes":
            return lambda value: operand in value
        if test == "includes_any":
            return lambda value: any(item in value for item in operand)
        if test == "includes_all":
            return lambda value: all(item in value for item in operand)
        if test == "includes_none":
            return lambda value: not any(item in value for item in operand)
        number = NUMBER_TESTS[test]
        return lambda value: number(value, operand)


@dataclass(frozen=True)
class Ref(Condition):
    """A reference to another conclusion: a finding, red flag, cause (with a minimum score) or triage level."""

    kind: str
    target: Union[str, tuple[str, ...]]
    min_score: float | None = None

    def accept(self, visitor: "Visitor[T]") -> T:
        return visitor.ref(self)

    @property
    def targets(self) -> tuple[str, ...]:
        return self.target if isinstance(self.target, tuple) else (self.target,)


Leaf = Union[Is, Ref]


class Visitor(Generic[T]):
    """Reads a condition tree: one method per construct, dispatched by :meth:`visit`."""

    def visit(self, condition: Condition) -> T:
        return condition.accept(self)

    def all_of(self, node: AllOf) -> T:
        raise NotImplementedError

    def any_of(self, node: AnyOf) -> T:
        raise NotImplementedError

    def not_(self, node: Not) -> T:
        raise NotImplementedError

    def unless(self, node: Unless) -> T:
        raise NotImplementedError

    def count(self, node: Count) -> T:
        raise NotImplementedError

    def test(self, node: Is) -> T:
        raise NotImplementedError

    def ref(self, node: Ref) -> T:
        raise NotImplementedError


# ------------------------------------------------------------------------------ leaves

@dataclass(frozen=True)
class Polarity:
    """Where a leaf stands: under an odd number of ``not``/``unless`` (negated), and under an
    ``unless`` (where an unanswered question satisfies the condition)."""

    negated: bool = False
    unless: bool = False


class _Leaves(Visitor[Iterator[tuple[Leaf, Polarity]]]):
    def __init__(self, polarity: Polarity):
        self.polarity = polarity

    def _inside(self, node: Condition, polarity: Polarity) -> Iterator[tuple[Leaf, Polarity]]:
        for child in node.children():
            yield from _Leaves(polarity).visit(child)

    def all_of(self, node: AllOf) -> Iterator[tuple[Leaf, Polarity]]:
        return self._inside(node, self.polarity)

    any_of = count = all_of  # type: ignore[assignment]

    def not_(self, node: Not) -> Iterator[tuple[Leaf, Polarity]]:
        return self._inside(node, Polarity(not self.polarity.negated, self.polarity.unless))

    def unless(self, node: Unless) -> Iterator[tuple[Leaf, Polarity]]:
        return self._inside(node, Polarity(not self.polarity.negated, True))

    def test(self, node: Is) -> Iterator[tuple[Leaf, Polarity]]:
        yield node, self.polarity

    ref = test  # type: ignore[assignment]


def leaves(condition: Condition) -> Iterator[tuple[Leaf, Polarity]]:
    """Every observation test and reference in ``condition``, with its polarity."""
    return _Leaves(Polarity()).visit(condition)


def observations_in(condition: Condition) -> Iterator[str]:
    for leaf, _ in leaves(condition):
        if isinstance(leaf, Is):
            yield leaf.observation


def references_in(condition: Condition) -> Iterator[Ref]:
    for leaf, _ in leaves(condition):
        if isinstance(leaf, Ref):
            yield leaf


# ------------------------------------------------------------------- three-valued truth

class Evaluator(Visitor[Truth]):
    """Decides a condition in Kleene's logic given the truth of each leaf.

    ``part`` decides sub-conditions (by default recursively through this evaluator); a caller
    may pass a memoised version. ``not`` and ``unless`` read alike here; the engine reads
    ``unless`` closed-world.
    """

    def __init__(self, leaf: Callable[[Leaf], Truth], part: Callable[[Condition], Truth] | None = None):
        self.leaf = leaf
        self.part = part or self.visit

    def all_of(self, node: AllOf) -> Truth:
        return min((self.part(c) for c in node.items), default=Truth.TRUE)

    def any_of(self, node: AnyOf) -> Truth:
        return max((self.part(c) for c in node.items), default=Truth.FALSE)

    def not_(self, node: Not | Unless) -> Truth:
        return ~self.part(node.item)

    unless = not_  # type: ignore[assignment]

    def count(self, node: Count) -> Truth:
        values = [self.part(c) for c in node.items]
        if values.count(Truth.TRUE) >= node.least:
            return Truth.TRUE
        if values.count(Truth.TRUE) + values.count(Truth.UNKNOWN) < node.least:
            return Truth.FALSE
        return Truth.UNKNOWN

    def test(self, node: Is) -> Truth:
        return self.leaf(node)

    ref = test  # type: ignore[assignment]


def answer_truth(test: Is, answers: Mapping[str, Any]) -> Truth:
    """A leaf's truth from answers; an observation with no answer is UNKNOWN."""
    if test.observation not in answers:
        return Truth.UNKNOWN
    return Truth.TRUE if test.holds(answers[test.observation]) else Truth.FALSE


# ----------------------------------------------------------------------------- describe

def _value_words(value: object) -> str:
    if value is True:
        return "yes"
    if value is False:
        return "no"
    return str(value)


def _either(values: Sequence[Any], joiner: str) -> str:
    words = [_value_words(v) for v in values]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + f" {joiner} " + words[-1]


class _Describe(Visitor[str]):
    def grouped(self, node: Condition) -> str:
        text = self.visit(node)
        return f"({text})" if isinstance(node, (AllOf, AnyOf, Count)) and len(node.children()) > 1 else text

    def all_of(self, node: AllOf) -> str:
        return " and ".join(self.grouped(c) for c in node.items)

    def any_of(self, node: AnyOf) -> str:
        return " or ".join(self.grouped(c) for c in node.items)

    def not_(self, node: Not) -> str:
        return f"not ({self.visit(node.item)})"

    def unless(self, node: Unless) -> str:
        return f"unless ({self.visit(node.item)})"

    def count(self, node: Count) -> str:
        return f"at least {node.least} of: " + "; ".join(self.visit(c) for c in node.items)

    def ref(self, node: Ref) -> str:
        target = node.target if isinstance(node.target, str) else _either(node.target, "or")
        text = f"{node.kind.replace('_', ' ')} {target}"
        return text + (f" (score at least {node.min_score})" if node.min_score is not None else "")

    def test(self, node: Is) -> str:
        name, test, operand = node.observation, node.test, node.operand
        if test == "equals":
            return f"{name} is {_value_words(operand)}"
        if test == "one_of":
            return f"{name} is {_either(operand, 'or')}"
        if test == "includes":
            return f"{name} include {operand}"
        if test == "includes_any":
            return f"{name} include {_either(operand, 'or')}"
        if test == "includes_all":
            return f"{name} include {_either(operand, 'and')}"
        if test == "includes_none":
            return f"{name} include none of {_either(operand, 'or')}"
        return f"{name} is {test.replace('_', ' ')} {operand:g}"


def describe(condition: Condition) -> str:
    """A one-line reading of a condition, e.g. ``movement is cramp and not (weakness is yes)``."""
    return _Describe().visit(condition)
