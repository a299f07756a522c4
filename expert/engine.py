"""The Experta engine every compiled knowledge base derives from, and what one run leaves behind.

Layers fire in salience order: derived findings (deepest last), then red flags and cause
evidence, then one aggregation step (cause scores and triage), then advice and tests. Within a
layer rules only add facts, so the result does not depend on the order Experta picks.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Mapping

from ._experta import Fact, InitialFact, KnowledgeEngine, ReteMatcher, Rule
from .facts import CauseScore, Evidence, Obs, RedFlag, Triage
from .model import TRIAGE_LEVELS, urgency
from .scoring import certainty

#: Salience of each layer; findings get FINDINGS minus their depth, so a finding fires after those it uses.
FINDINGS = 1000
CONCLUSIONS = 500
AGGREGATE = 400
ACTIONS = 300
AGGREGATE_RULE = "engine.aggregate"


@dataclass(frozen=True)
class Firing:
    """One rule firing: the rule's id and the facts its patterns matched (bound by name)."""

    rule: str
    facts: tuple[Fact, ...]


@dataclass(frozen=True)
class Run:
    """What an engine run produced: every firing, and the conclusions in working memory."""

    firings: tuple[Firing, ...]
    facts: tuple[Fact, ...]

    def of_kind(self, kind: type) -> list[Fact]:
        return [f for f in self.facts if type(f) is kind]


class ChangedNodesMatcher(ReteMatcher):
    """Experta's Rete matcher, asking only the conflict-set nodes that changed for their activations.

    The stock matcher polls every rule's node after each firing, allocating two sets per node
    per poll, and resets shared nodes once per path that reaches them; with a few hundred rules
    those two were most of the time of a case. Both are done once per node here.
    """

    def reset(self):
        for node in self._nodes():
            node._reset()

    def _nodes(self) -> list:
        """Every node of the network, once each (built on first use; the network never changes)."""
        nodes = getattr(self, "_node_list", None)
        if nodes is None:
            nodes, seen, stack = [], set(), [self.root_node]
            while stack:
                node = stack.pop()
                if id(node) not in seen:
                    seen.add(id(node))
                    nodes.append(node)
                    stack.extend(child.node for child in node.children)
            self._node_list = nodes
        return nodes

    def changes(self, adding=None, deleting=None):
        for fact in deleting or ():
            self.root_node.remove(fact)
        for fact in adding or ():
            self.root_node.add(fact)
        added: list = []
        removed: list = []
        for node in self._get_conflict_set_nodes():
            if node.added or node.removed:
                node_added, node_removed = node.get_activations()
                added.extend(node_added)
                removed.extend(node_removed)
        return added, removed


class SpasmEngine(KnowledgeEngine):
    """A knowledge engine that records which rule fired on which facts.

    The compiler subclasses it with one Experta ``Rule`` per knowledge-base rule. An instance is
    used by one thread at a time: :meth:`evaluate` resets it, so it can be reused case after case.
    """

    __matcher__ = ChangedNodesMatcher

    def __init__(self) -> None:
        super().__init__()
        self.firings: list[Firing] = []

    def record(self, rule_id: str, bound: Mapping[str, Fact]) -> None:
        self.firings.append(Firing(rule_id, tuple(bound[name] for name in sorted(bound))))

    @Rule(InitialFact(), salience=AGGREGATE)
    def aggregate(self) -> None:
        """Once all evidence is in: score each supported cause, and set triage to the most urgent red flag's level."""
        factors: dict[str, list[float]] = defaultdict(list)
        flags = []
        for fact in self.facts.values():
            if type(fact) is Evidence:
                factors[fact["cause"]].append(fact["cf"])
            elif type(fact) is RedFlag:
                flags.append(fact)
        for cause in sorted(factors):
            if any(f > 0 for f in factors[cause]):  # a cause nothing supports is not suggested at all
                self.declare(CauseScore(id=cause, score=certainty(factors[cause])))
        level = max((f["level"] for f in flags), key=urgency, default=TRIAGE_LEVELS[-1])
        self.record(AGGREGATE_RULE, {f"f{i}": f for i, f in enumerate(flags)})
        self.declare(Triage(level=level))

    def evaluate(self, answers: Mapping[str, object]) -> Run:
        """Reset, assert one fact per known answer, fire every rule, and return what happened."""
        self.reset()
        self.firings = []
        self.declare(*(Obs(id=key, value=value) for key, value in answers.items()))
        self.run()
        return Run(tuple(self.firings), tuple(f for f in self.facts.values() if type(f) is not InitialFact))
