"""The condition language rules are written in, as a small tree of plain data.

A clinician writes conditions in YAML (see ``knowledge/README.md``); :func:`parse` turns them into
the classes below and reports every mistake with its line. The tree is then used three ways:
the compiler turns it into Experta patterns, :func:`evaluate` decides it in three-valued logic
(true, false, or not yet known) to see which questions still matter and why something was not
concluded, and :func:`describe` prints it for people.
"""
from __future__ import annotations

import difflib
import enum
from dataclasses import dataclass
from typing import Callable, Iterator, Mapping, Sequence, Union

from .documents import Document, Path
from .errors import Problem

#: Words for numeric tests, with the comparison each one means.
NUMBER_TESTS: dict[str, Callable[[float, float], bool]] = {
    "at_least": lambda value, bound: value >= bound,
    "above": lambda value, bound: value > bound,
    "at_most": lambda value, bound: value <= bound,
    "below": lambda value, bound: value < bound,
    "equals": lambda value, bound: value == bound,
}
SET_TESTS = ("includes", "includes_any", "includes_all", "includes_none")
#: Kinds of conclusion a condition may refer to, by the key used in YAML.
REFERENCE_KINDS = ("finding", "red_flag", "cause", "triage")
CONSTRUCTS = ("all", "any", "not", "unless", "count")


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

    def nodes(self) -> Iterator["Condition"]:
        """This condition and every condition inside it."""
        yield self
        for kid in self.children():
            yield from kid.nodes()

    def leaves(self) -> Iterator["Condition"]:
        kids = self.children()
        if not kids:
            yield self
        for kid in kids:
            yield from kid.leaves()


@dataclass(frozen=True)
class AllOf(Condition):
    items: tuple[Condition, ...]

    def children(self):
        return self.items


@dataclass(frozen=True)
class AnyOf(Condition):
    items: tuple[Condition, ...]

    def children(self):
        return self.items


@dataclass(frozen=True)
class Not(Condition):
    item: Condition

    def children(self):
        return (self.item,)


@dataclass(frozen=True)
class Unless(Condition):
    """Holds while ``item`` is not shown to hold: negation as failure, for advice and tests only.

    ``not`` needs answers that make its condition false; ``unless`` is satisfied by silence too
    ("stretch, unless we know stretching does not help").
    """

    item: Condition

    def children(self):
        return (self.item,)


@dataclass(frozen=True)
class Count(Condition):
    """At least ``least`` of ``items`` hold."""

    least: int
    items: tuple[Condition, ...]

    def children(self):
        return self.items


@dataclass(frozen=True)
class Is(Condition):
    """A test on one observation's answer: ``test`` is ``equals``, ``one_of``, a set or number test."""

    observation: str
    test: str
    operand: object

    def holds(self, value) -> bool:
        if self.test == "equals":
            return value == self.operand
        if self.test == "one_of":
            return value in self.operand  # type: ignore[operator]
        if self.test == "includes":
            return self.operand in value
        if self.test == "includes_any":
            return any(item in value for item in self.operand)  # type: ignore[union-attr]
        if self.test == "includes_all":
            return all(item in value for item in self.operand)  # type: ignore[union-attr]
        if self.test == "includes_none":
            return not any(item in value for item in self.operand)  # type: ignore[union-attr]
        return NUMBER_TESTS[self.test](value, self.operand)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Ref(Condition):
    """A reference to another conclusion: a finding, red flag, cause (with a minimum score) or triage level."""

    kind: str
    target: Union[str, tuple]
    min_score: float | None = None


Leaf = Union[Is, Ref]


def evaluate(condition: Condition, leaf: Callable[[Leaf], Truth],
             part: Callable[[Condition], Truth] | None = None) -> Truth:
    """Decide ``condition`` given a truth value for each leaf (``part`` decides sub-conditions,
    by default recursively; a caller may pass a memoised version)."""
    part = part or (lambda sub: evaluate(sub, leaf))
    if isinstance(condition, AllOf):
        return min((part(c) for c in condition.items), default=Truth.TRUE)
    if isinstance(condition, AnyOf):
        return max((part(c) for c in condition.items), default=Truth.FALSE)
    if isinstance(condition, (Not, Unless)):  # alike in three-valued logic; the engine reads unless closed-world
        return ~part(condition.item)
    if isinstance(condition, Count):
        values = [part(c) for c in condition.items]
        if values.count(Truth.TRUE) >= condition.least:
            return Truth.TRUE
        if values.count(Truth.TRUE) + values.count(Truth.UNKNOWN) < condition.least:
            return Truth.FALSE
        return Truth.UNKNOWN
    return leaf(condition)  # type: ignore[arg-type]


def answer_truth(test: Is, answers: Mapping[str, object]) -> Truth:
    """A leaf's truth from answers; an observation with no answer is UNKNOWN."""
    if test.observation not in answers:
        return Truth.UNKNOWN
    return Truth.TRUE if test.holds(answers[test.observation]) else Truth.FALSE


def observations_in(condition: Condition) -> Iterator[str]:
    for leaf in condition.leaves():
        if isinstance(leaf, Is):
            yield leaf.observation


def references_in(condition: Condition) -> Iterator[Ref]:
    for leaf in condition.leaves():
        if isinstance(leaf, Ref):
            yield leaf


# ----------------------------------------------------------------------------------- describe

def _value_words(value: object) -> str:
    if value is True:
        return "yes"
    if value is False:
        return "no"
    return str(value)


def _either(values: Sequence, joiner: str) -> str:
    words = [_value_words(v) for v in values]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + f" {joiner} " + words[-1]


def describe(condition: Condition) -> str:
    """A one-line reading of a condition, e.g. ``movement is cramp and not (weakness is yes)``."""
    if isinstance(condition, AllOf):
        return " and ".join(_grouped(c) for c in condition.items)
    if isinstance(condition, AnyOf):
        return " or ".join(_grouped(c) for c in condition.items)
    if isinstance(condition, Not):
        return f"not ({describe(condition.item)})"
    if isinstance(condition, Unless):
        return f"unless ({describe(condition.item)})"
    if isinstance(condition, Count):
        return f"at least {condition.least} of: " + "; ".join(describe(c) for c in condition.items)
    if isinstance(condition, Ref):
        target = condition.target if isinstance(condition.target, str) else _either(condition.target, "or")
        text = f"{condition.kind.replace('_', ' ')} {target}"
        return text + (f" (score at least {condition.min_score})" if condition.min_score is not None else "")
    assert isinstance(condition, Is)
    name, test, operand = condition.observation, condition.test, condition.operand
    if test == "equals":
        return f"{name} is {_value_words(operand)}"
    if test == "one_of":
        return f"{name} is {_either(operand, 'or')}"  # type: ignore[arg-type]
    if test == "includes":
        return f"{name} include {operand}"
    if test == "includes_any":
        return f"{name} include {_either(operand, 'or')}"  # type: ignore[arg-type]
    if test == "includes_all":
        return f"{name} include {_either(operand, 'and')}"  # type: ignore[arg-type]
    if test == "includes_none":
        return f"{name} include none of {_either(operand, 'or')}"  # type: ignore[arg-type]
    return f"{name} is {test.replace('_', ' ')} {operand:g}"  # type: ignore[str-format]


def _grouped(condition: Condition) -> str:
    text = describe(condition)
    return f"({text})" if isinstance(condition, (AllOf, AnyOf, Count)) and len(condition.children()) > 1 else text


# -------------------------------------------------------------------------------------- parse

def suggest(word: object, choices: Sequence[str]) -> str:
    """A hint naming the closest allowed word, or the allowed words when there are few."""
    if not choices:
        return "none are defined"
    close = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.6)
    if close:
        return f"did you mean {close[0]!r}?"
    shown = ", ".join(choices[:12]) + (", ..." if len(choices) > 12 else "")
    return f"allowed: {shown}"


@dataclass
class Vocabulary:
    """What a condition may name: observations by id (with type and values) and conclusion ids."""

    observations: Mapping[str, object]  # id -> model.Observation
    references: Mapping[str, Sequence[str]]  # kind -> known ids
    #: Ids defined but invalid (already reported): conditions using them raise no further problems.
    broken: frozenset = frozenset()


class _Parser:
    def __init__(self, doc: Document, vocabulary: Vocabulary, problems: list[Problem]):
        self.doc, self.vocabulary, self.problems = doc, vocabulary, problems

    def fail(self, path: Path, message: str, hint: str | None = None) -> None:
        self.problems.append(self.doc.problem(path, message, hint))

    def condition(self, data: object, path: Path) -> Condition | None:
        if isinstance(data, list):
            return self.sequence(AllOf, data, path)
        if not isinstance(data, dict) or not data:
            self.fail(path, "a condition must be a mapping such as {movement: cramp}",
                      "combine conditions with all, any, not or count")
            return None
        parts = [self.entry(key, value, path + (key,)) for key, value in data.items()]
        if any(p is None for p in parts):
            return None
        return parts[0] if len(parts) == 1 else AllOf(tuple(parts))  # type: ignore[arg-type]

    def sequence(self, kind, data: object, path: Path):
        if not isinstance(data, list) or not data:
            self.fail(path, "expected a non-empty list of conditions")
            return None
        items = [self.condition(item, path + (i,)) for i, item in enumerate(data)]
        return None if any(i is None for i in items) else kind(tuple(items))

    def entry(self, key: object, value: object, path: Path) -> Condition | None:
        if key in ("all", "any"):
            return self.sequence(AllOf if key == "all" else AnyOf, value, path)
        if key in ("not", "unless"):
            inner = self.condition(value, path)
            return None if inner is None else (Not if key == "not" else Unless)(inner)
        if key == "count":
            return self.count(value, path)
        if key in REFERENCE_KINDS:
            return self.reference(str(key), value, path)
        if key in self.vocabulary.observations:
            return self.observation(str(key), value, path)
        if key in self.vocabulary.broken:
            return Is(str(key), "equals", value)  # stands in; the knowledge base will not load anyway
        self.fail(path, f"unknown observation {key!r}",
                  suggest(key, list(self.vocabulary.observations) + list(CONSTRUCTS) + list(REFERENCE_KINDS)))
        return None

    def count(self, value: object, path: Path) -> Condition | None:
        if not isinstance(value, dict) or set(value) != {"at_least", "of"}:
            self.fail(path, "count needs exactly the keys at_least and of", "e.g. {at_least: 2, of: [...]}")
            return None
        least, items = value["at_least"], self.sequence(AllOf, value["of"], path + ("of",))
        if items is None:
            return None
        if not isinstance(least, int) or isinstance(least, bool) or not 1 <= least <= len(items.items):
            self.fail(path + ("at_least",), f"must be a whole number from 1 to {len(items.items)}")
            return None
        return Count(least, items.items)

    def reference(self, kind: str, value: object, path: Path) -> Condition | None:
        known = list(self.vocabulary.references.get(kind, ()))
        min_score = None
        if kind == "cause" and isinstance(value, dict):
            if set(value) - {"id", "min_score"} or "id" not in value:
                self.fail(path, "a cause reference is an id or {id: ..., min_score: ...}")
                return None
            min_score = value.get("min_score")
            if not isinstance(min_score, (int, float)) or isinstance(min_score, bool) or not -1 <= min_score <= 1:
                self.fail(path + ("min_score",), "must be a number from -1 to 1")
                return None
            value = value["id"]
        targets = value if kind == "triage" and isinstance(value, list) else [value]
        bad = [t for t in targets if t not in known]
        for target in bad:
            self.fail(path, f"unknown {kind.replace('_', ' ')} {target!r}", suggest(target, known))
        if bad or not targets:
            return None
        target = tuple(targets) if kind == "triage" else targets[0]
        return Ref(kind, target, float(min_score) if min_score is not None else None)

    def observation(self, name: str, value: object, path: Path) -> Condition | None:
        obs = self.vocabulary.observations[name]
        kind = obs.type  # type: ignore[attr-defined]
        if kind == "bool":
            if not isinstance(value, bool):
                self.fail(path, f"{name} is yes/no; expected true or false, got {value!r}")
                return None
            return Is(name, "equals", value)
        if kind == "number":
            return self.number(name, value, path)
        values = list(obs.values)  # type: ignore[attr-defined]
        if kind == "enum":
            return self.choice(name, value, path, values, "equals", "one_of")
        return self.set_test(name, value, path, values)

    def checked_values(self, name: str, items: list, path: Path, values: list) -> bool:
        ok = True
        for i, item in enumerate(items):
            if item not in values:
                self.fail(path + (i,) if len(items) > 1 else path, f"{item!r} is not a value of {name}",
                          suggest(item, values))
                ok = False
        return ok

    def choice(self, name, value, path, values, single: str, several: str) -> Condition | None:
        if isinstance(value, list):
            if not value:
                self.fail(path, "expected at least one value")
                return None
            return Is(name, several, tuple(value)) if self.checked_values(name, value, path, values) else None
        if self.checked_values(name, [value], path, values):
            return Is(name, single, value)
        return None

    def set_test(self, name, value, path, values) -> Condition | None:
        if not isinstance(value, dict):
            return self.choice(name, value, path, values, "includes", "includes_any")
        if len(value) != 1 or next(iter(value)) not in SET_TESTS:
            self.fail(path, f"a test on {name} is one of {', '.join(SET_TESTS)}", "e.g. {includes: calf}")
            return None
        test, operand = next(iter(value.items()))
        items = operand if isinstance(operand, list) else [operand]
        if test == "includes" and isinstance(operand, list) or not items:
            self.fail(path + (test,), "includes takes one value; includes_any, includes_all and includes_none take a list")
            return None
        if not self.checked_values(name, items, path + (test,), values):
            return None
        return Is(name, test, operand if test == "includes" else tuple(items))

    def number(self, name, value, path) -> Condition | None:
        if not isinstance(value, dict) or not value:
            self.fail(path, f"{name} is a number; test it with {', '.join(NUMBER_TESTS)}", "e.g. {at_least: 10}")
            return None
        tests = []
        for test, bound in value.items():
            if test not in NUMBER_TESTS:
                self.fail(path + (test,), f"unknown numeric test {test!r}", suggest(test, list(NUMBER_TESTS)))
            elif not isinstance(bound, (int, float)) or isinstance(bound, bool) or bound < 0:
                self.fail(path + (test,), f"expected a non-negative number, got {bound!r}")
            else:
                tests.append(Is(name, test, bound))
        if len(tests) != len(value):
            return None
        return tests[0] if len(tests) == 1 else AllOf(tuple(tests))


def parse(data: object, path: Path, doc: Document, vocabulary: Vocabulary,
          problems: list[Problem]) -> Condition | None:
    """Parse a YAML condition; on error append to ``problems`` and return None."""
    return _Parser(doc, vocabulary, problems).condition(data, path)
