"""Compile a validated knowledge base into a rule network and an Experta engine class over it.

Each rule of the knowledge base becomes one Experta ``Rule`` whose condition is a pattern over
working memory (``network.py``): an observation test reads the answer, a reference reads a
conclusion drawn earlier, ``all`` / ``any`` / ``count`` combine patterns.

``not`` needs answers: it is pushed down to the leaves, where a negated test matches an answer
that fails it, so cause evidence is made of positive patterns only and only gains conclusions as
answers arrive. Findings and red flags are compiled twice. Their rule matches when the answers
given are enough, with an unanswered exclusion (a ``not``) counting as absent; a second pattern,
the strict one, tells at firing time whether the answers confirm it or it is only possible.
Absence (negation as failure) is otherwise used only for ``unless`` and for references to
conclusions of earlier layers, both in advice and tests.
"""
from __future__ import annotations

from typing import Any

from ._experta import Rule
from .conditions import AllOf, AnyOf, Condition, Count, Is, Not, Ref, Unless, Visitor, references_in
from .engine import AGGREGATE_SALIENCE, SALIENCE, SpasmEngine
from .model import CONFIRMED, FINDINGS, KINDS, KnowledgeBase, RuleDef
from .trace import AGGREGATE_RULE
from .network import (START, TRIAGE, Absent, AtLeast, CompiledRule, Conclusion, Every, Failing, Network, Pattern,
                      Present)


class _Positive(Visitor[Pattern]):
    """The pattern that matches when a condition holds.

    Strict, it matches when the answers confirm the condition (three-valued true). Lenient, an
    exclusion (``not X``) also holds while X is not confirmed, and a finding may be only possible.
    """

    def __init__(self, kb: KnowledgeBase, lenient: bool = False):
        self.kb, self.lenient = kb, lenient
        self.strict = _Positive(kb) if lenient else self
        self.negative = _Negative(self.strict)

    def all_of(self, node: AllOf) -> Pattern:
        return Every(tuple(self.visit(c) for c in node.items))

    def any_of(self, node: AnyOf) -> Pattern:
        return AtLeast(1, tuple(self.visit(c) for c in node.items))

    def not_(self, node: Not) -> Pattern:
        ruled_out = self.negative.visit(node.item)
        if not self.lenient:
            return ruled_out
        # ruled out by the answers (bound, as strictly), or at least not confirmed yet
        return AtLeast(1, (ruled_out, Absent(self.strict.visit(node.item))))

    def unless(self, node: Unless) -> Pattern:
        return Absent(self.visit(node.item))

    def count(self, node: Count) -> Pattern:
        return AtLeast(node.least, tuple(self.visit(c) for c in node.items))

    def test(self, node: Is) -> Pattern:
        return Present(("obs", node.observation), node.predicate())

    def ref(self, node: Ref) -> Pattern:
        if node.kind == "triage":
            return Present(TRIAGE, frozenset(node.targets).__contains__)
        if node.kind == "cause":
            minimum = node.min_score
            return Present(("cause", str(node.target)),
                           (lambda score: score > 0) if minimum is None else (lambda score: score >= minimum))
        if node.kind == "finding" and not self.lenient:
            return Present(("finding", str(node.target)), CONFIRMED.__eq__)
        return Present((node.kind, str(node.target)))  # a red flag counts possible or confirmed


class _Negative(Visitor[Pattern]):
    """The pattern that matches when the answers show a condition does not hold."""

    def __init__(self, positive: _Positive):
        self.positive = positive

    def all_of(self, node: AllOf) -> Pattern:
        return AtLeast(1, tuple(self.visit(c) for c in node.items))

    def any_of(self, node: AnyOf) -> Pattern:
        return Every(tuple(self.visit(c) for c in node.items))

    def not_(self, node: Not) -> Pattern:
        return self.positive.visit(node.item)

    def unless(self, node: Unless) -> Pattern:  # "not unless X": X is shown to hold
        return self.positive.visit(node.item)

    def count(self, node: Count) -> Pattern:  # fewer than n hold <=> at least len - n + 1 fail
        return AtLeast(len(node.items) - node.least + 1, tuple(self.visit(c) for c in node.items))

    def test(self, node: Is) -> Pattern:
        return Failing(("obs", node.observation), node.predicate())

    def ref(self, node: Ref) -> Pattern:
        if node.kind == "finding":  # a finding is ruled out when the answers rule out its condition
            return self.visit(self.positive.kb.findings[str(node.target)].rule.when)
        return Absent(self.positive.visit(node))  # a conclusion of an earlier layer, decided closed-world


def pattern(condition: Condition, kb: KnowledgeBase, lenient: bool = False) -> Pattern:
    """The pattern over working memory that matches exactly when ``condition`` holds (strictly,
    or leniently: with unanswered exclusions taken as absent)."""
    return _Positive(kb, lenient).visit(condition)


def finding_depths(kb: KnowledgeBase) -> dict[str, int]:
    """How many findings deep each finding is built (0 = from observations only)."""
    depths: dict[str, int] = {}

    def depth(finding_id: str) -> int:
        if finding_id not in depths:
            used = [str(r.target) for r in references_in(kb.findings[finding_id].rule.when) if r.kind == "finding"]
            depths[finding_id] = 1 + max(map(depth, used)) if used else 0
        return depths[finding_id]

    for finding_id in kb.findings:
        depth(finding_id)
    return depths


def _compile_rule(index: int, rule: RuleDef, kb: KnowledgeBase, depths: dict[str, int]) -> CompiledRule:
    layer = KINDS[rule.kind].layer
    salience = SALIENCE[layer] - (depths[rule.target] if layer == FINDINGS else 0)
    level = kb.red_flags[rule.target].level if rule.kind == "red_flag" else ""
    conclusion = Conclusion(rule.kind, rule.target, level)
    if KINDS[rule.kind].possible:
        return CompiledRule(index, rule.id, pattern(rule.when, kb, lenient=True), salience, conclusion,
                            confirm=pattern(rule.when, kb))
    return CompiledRule(index, rule.id, pattern(rule.when, kb), salience, conclusion)


def _experta_rule(compiled: CompiledRule) -> Rule:
    """An Experta rule firing ``compiled`` (or, for the aggregation step, aggregating)."""
    # Experta passes the activation's context as keywords; taking them all spares it filtering them.
    if compiled.id == AGGREGATE_RULE:
        def fire(engine: SpasmEngine, **context: Any) -> None:
            engine.aggregate()
    else:
        def fire(engine: SpasmEngine, **context: Any) -> None:
            engine.fire(compiled, context["bound"])
    fire.__name__ = fire.__qualname__ = compiled.id
    return Rule(compiled.pattern, salience=compiled.salience)(fire)


def compile_network(kb: KnowledgeBase) -> Network:
    """Every rule of the knowledge base as patterns, plus the aggregation step."""
    depths = finding_depths(kb)
    rules = [_compile_rule(i, rule, kb, depths) for i, rule in enumerate(kb.rules.values())]
    rules.append(CompiledRule(len(rules), AGGREGATE_RULE, Present(START), AGGREGATE_SALIENCE,
                              Conclusion("aggregate", "")))
    return Network(tuple(rules))


def compile_engine(kb: KnowledgeBase) -> type[SpasmEngine]:
    """An engine class with one Experta rule per knowledge-base rule, sharing one network."""
    network = compile_network(kb)
    read_kinds = {kind: frozenset(item for key_kind, item in network.read if key_kind == kind) for kind in KINDS}
    members = {"network": network, "rule_objects": tuple(_experta_rule(r) for r in network.rules),
               "knowledge": kb, "read_kinds": read_kinds}
    return type("CompiledSpasmEngine", (SpasmEngine,), members)
