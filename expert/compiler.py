"""Compile a validated knowledge base into an Experta engine class.

Each rule of the knowledge base becomes one Experta ``Rule``: observation tests become ``Obs``
patterns (a literal for equality, ``P`` with the leaf's own test otherwise), references become
patterns on ``Finding``, ``RedFlag``, ``CauseScore`` or ``Triage`` facts, all / any become
``AND`` / ``OR``, and count an OR of the qualifying combinations.

``not`` needs answers: it is pushed down to the leaves, where a negated test matches an answer
that fails it, so findings, red flags and evidence are made of positive patterns only and can
only gain conclusions as answers arrive. Experta's ``NOT`` (absence) is used only for
``unless`` and for references to conclusions of earlier layers, both in advice and tests.
Every positive pattern is bound to a name so the firing records exactly which facts it matched.
"""
from __future__ import annotations

from itertools import combinations
from typing import Callable

from dataclasses import dataclass

from ._experta import AND, NOT, OR, Fact, P, Rule
from .conditions import AllOf, AnyOf, Condition, Count, Is, Not, Ref, Unless, describe, references_in
from .engine import ACTIONS, CONCLUSIONS, FINDINGS, SpasmEngine
from .facts import Advice, CauseScore, Evidence, Finding, Obs, RedFlag, Test, Triage
from .model import KnowledgeBase, RuleDef


class LeafTest:
    """A predicate for Experta's ``P``: the leaf's own test holds (or, for a negated leaf, fails).

    Experta may test a pattern's ``value`` before its ``id``, so the predicate can meet another
    observation's value (a word where a number is expected): that is simply no match.
    """

    def __init__(self, leaf: Is, holds: bool = True):
        self.leaf, self.holds = leaf, holds

    def __call__(self, value: object) -> bool:
        try:
            return self.leaf.holds(value) == self.holds
        except TypeError:
            return False

    def __repr__(self) -> str:
        return describe(self.leaf) if self.holds else f"not ({describe(self.leaf)})"


class MinScore:
    def __init__(self, minimum: float | None):
        self.minimum = minimum

    def __call__(self, score: float) -> bool:
        return score > 0 if self.minimum is None else score >= self.minimum

    def __repr__(self) -> str:
        return "score > 0" if self.minimum is None else f"score >= {self.minimum}"


class OneOf:
    def __init__(self, allowed: tuple):
        self.allowed = frozenset(allowed)

    def __call__(self, value: object) -> bool:
        return value in self.allowed

    def __repr__(self) -> str:
        return f"in {sorted(self.allowed)}"


def negated(condition: Condition, finding_condition: Callable[[str], Condition]) -> Condition:
    """``not condition`` with the negation pushed down to the leaves (negation normal form).

    A negated observation test becomes a test that the answer fails (so it needs an answer); a
    negated finding is replaced by its own condition, negated. Only references to conclusions of
    earlier layers (red flags, causes, triage) and ``unless`` keep a ``Not`` around them.
    """
    if isinstance(condition, AllOf):
        return AnyOf(tuple(negated(c, finding_condition) for c in condition.items))
    if isinstance(condition, AnyOf):
        return AllOf(tuple(negated(c, finding_condition) for c in condition.items))
    if isinstance(condition, Not):
        return condition.item
    if isinstance(condition, Count):  # fewer than n hold <=> at least len - n + 1 fail
        return Count(len(condition.items) - condition.least + 1,
                     tuple(negated(c, finding_condition) for c in condition.items))
    if isinstance(condition, Is):
        return Fails(condition)
    if isinstance(condition, Ref) and condition.kind == "finding":
        return negated(finding_condition(str(condition.target)), finding_condition)
    return Not(condition)  # a reference to a conclusion, or unless: decided closed-world


@dataclass(frozen=True)
class Fails(Condition):
    """The observation is answered and the answer fails ``test`` (a negated leaf, made by :func:`negated`)."""

    test: Is


class _Patterns:
    """Builds Experta conditional elements for one rule, naming each positive pattern."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.count = 0
        self.finding_condition = lambda finding_id: kb.findings[finding_id].rule.when

    def bind(self, pattern: Fact, bound: bool) -> Fact:
        if bound:
            self.count += 1
            return f"f{self.count}" << pattern
        return pattern

    def build(self, condition: Condition, bound: bool = True):
        if isinstance(condition, AllOf):
            parts = [self.build(c, bound) for c in condition.items]
            return AND(*sorted(parts, key=lambda p: isinstance(p, NOT)))  # positives first
        if isinstance(condition, AnyOf):
            return OR(*(self.build(c, bound) for c in condition.items))
        if isinstance(condition, Not):
            pushed = negated(condition.item, self.finding_condition)
            if isinstance(pushed, Not):  # a conclusion reference or unless: absence, closed-world
                return NOT(self.build(pushed.item, bound=False))
            return self.build(pushed, bound)
        if isinstance(condition, Unless):
            return NOT(self.build(condition.item, bound=False))
        if isinstance(condition, Fails):
            value = P(LeafTest(condition.test, holds=False))
            return self.bind(Obs(id=condition.test.observation, value=value), bound)
        if isinstance(condition, Count):
            parts = [self.build(c, bound) for c in condition.items]
            return OR(*(AND(*sorted(combo, key=lambda p: isinstance(p, NOT)))
                        for combo in combinations(parts, condition.least)))
        if isinstance(condition, Ref):
            return self.bind(_reference(condition), bound)
        assert isinstance(condition, Is)
        value = condition.operand if condition.test == "equals" else P(LeafTest(condition))
        return self.bind(Obs(id=condition.observation, value=value), bound)


def _reference(ref: Ref) -> Fact:
    if ref.kind == "finding":
        return Finding(id=ref.target)
    if ref.kind == "red_flag":
        return RedFlag(id=ref.target)
    if ref.kind == "cause":
        return CauseScore(id=ref.target, score=P(MinScore(ref.min_score)))
    return Triage(level=P(OneOf(ref.target)))  # type: ignore[arg-type]


def _conclusion(rule: RuleDef, kb: KnowledgeBase) -> Callable[[], Fact]:
    """What a rule asserts when it fires (a fresh fact each time: declared facts are owned by one engine)."""
    if rule.kind == "finding":
        return lambda: Finding(id=rule.target)
    if rule.kind == "red_flag":
        level = kb.red_flags[rule.target].level
        return lambda: RedFlag(id=rule.target, level=level)
    if rule.kind == "evidence":
        return lambda: Evidence(cause=rule.target, rule=rule.id, cf=rule.cf)
    if rule.kind == "advice":
        return lambda: Advice(id=rule.target)
    return lambda: Test(id=rule.target)


def finding_depths(kb: KnowledgeBase) -> dict[str, int]:
    """How many findings deep each finding is built (0 = from observations only)."""
    depths: dict[str, int] = {}

    def depth(finding_id: str) -> int:
        if finding_id not in depths:
            used = [r.target for r in references_in(kb.findings[finding_id].rule.when) if r.kind == "finding"]
            depths[finding_id] = 1 + max(map(depth, used)) if used else 0
        return depths[finding_id]

    for finding_id in kb.findings:
        depth(finding_id)
    return depths


def salience(rule: RuleDef, depths: dict[str, int]) -> int:
    if rule.kind == "finding":
        return FINDINGS - depths[rule.target]
    return CONCLUSIONS if rule.kind in ("red_flag", "evidence") else ACTIONS


def compile_rule(rule: RuleDef, kb: KnowledgeBase, depths: dict[str, int]) -> Rule:
    conclude = _conclusion(rule, kb)
    rule_id = rule.id

    def fire(engine: SpasmEngine, **bound: Fact) -> None:
        engine.record(rule_id, bound)
        engine.declare(conclude())

    fire.__name__ = fire.__qualname__ = rule_id
    return Rule(_Patterns(kb).build(rule.when), salience=salience(rule, depths))(fire)


def compile_engine(kb: KnowledgeBase) -> type[SpasmEngine]:
    """An engine class with one Experta rule per knowledge-base rule."""
    depths = finding_depths(kb)
    members = {f"rule {rule.id}": compile_rule(rule, kb, depths) for rule in kb.rules.values()}
    members["knowledge"] = kb
    return type("CompiledSpasmEngine", (SpasmEngine,), members)
