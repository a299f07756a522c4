"""The Experta engine every compiled knowledge base derives from, and what one run leaves behind.

Layers fire in salience order: derived findings (deepest last), then red flags and cause
evidence, then one aggregation step (cause scores and triage), then advice and tests. Within a
layer rules only add facts, so the result does not depend on the order Experta picks.

Two parts of Experta are replaced here: the Rete matcher (same results, far less work per
fact) and the conflict-resolution strategy (which could let a withdrawn activation fire).
"""
from __future__ import annotations

import bisect
from collections import defaultdict
from dataclasses import dataclass
from typing import Mapping

from ._experta import (ChildNode, DepthStrategy, Fact, FeatureCheck, FeatureTesterNode, InitialFact,
                       KnowledgeEngine, L, ReteMatcher, Rule, TypeCheck)
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


class _Router:
    """Stands in for sibling alpha nodes that each test ``fact[key] == literal`` (or the fact's type):
    passes the token only to the ones whose literal matches, instead of offering it to all."""

    def __init__(self, key, routes: dict, by_type: bool = False):
        self.key, self.routes, self.by_type = key, routes, by_type
        self.children = [child for callbacks in routes.values() for child in callbacks]  # for traversals

    def reset(self) -> None:
        for child in self.children:
            child.node.reset()

    def _reset(self) -> None:
        pass

    def __call__(self, token) -> None:
        fact = next(iter(token.data))
        value = type(fact) if self.by_type else fact.get(self.key, _MISSING)
        try:
            children = self.routes.get(value, ())
        except TypeError:  # an unhashable value matches no literal
            return
        for child in children:
            child.callback(token)


_MISSING = object()
_MIN_ROUTED = 4  # fewer siblings than this are cheaper to test one by one


class ChangedNodesMatcher(ReteMatcher):
    """Experta's Rete matcher with three shortcuts that leave its results unchanged.

    With a few hundred rules, most of a case's time went on work whose answer is known in
    advance: (1) every fact was offered to every sibling node testing ``id == <literal>`` (or
    the fact's type), each offer copying a token, although at most the one whose literal
    equals the fact's value can pass: a router now offers it only to that one, which still
    runs its own test; (2) after each firing every rule's conflict-set node was polled (two
    set allocations each): now only nodes that received a token are; (3) reset visited shared
    nodes once per path reaching them: now each node is reset once.
    """

    def build_network(self) -> None:
        super().build_network()
        self._conflict_set_nodes = self._get_conflict_set_nodes()
        self._node_list = self._collect_nodes()
        self._dirty: dict[int, object] = {}
        for index, node in enumerate(self._conflict_set_nodes):
            node._activate = self._tracking(node._activate, index, node)
        self._route(self.root_node, by_type=True)
        for node in self._node_list:
            if isinstance(node, FeatureTesterNode):
                self._route(node)

    def _tracking(self, activate, index: int, node):
        dirty = self._dirty

        def tracked(token):
            dirty[index] = node
            return activate(token)
        return tracked

    @staticmethod
    def _route(node, by_type: bool = False) -> None:
        """Replace groups of literal-testing children of ``node`` by one router each."""
        groups: dict = {}
        rest = []
        for child in node.children:
            matcher = getattr(child.node, "matcher", None)
            if by_type and isinstance(matcher, TypeCheck):
                groups.setdefault("type", {}).setdefault(matcher.fact_type, []).append(child)
            elif (isinstance(matcher, FeatureCheck) and isinstance(matcher.how, L) and matcher.how.__bind__ is None
                  and isinstance(matcher.what, str) and "__" not in matcher.what):
                groups.setdefault(matcher.what, {}).setdefault(matcher.how.value, []).append(child)
            else:
                rest.append(child)
        children = list(rest)
        for key, routes in groups.items():
            if sum(map(len, routes.values())) < _MIN_ROUTED:
                children += [child for callbacks in routes.values() for child in callbacks]
                continue
            router = _Router(key, routes, by_type=key == "type")
            children.append(ChildNode(router, router))
        node.children = children

    def _collect_nodes(self) -> list:
        nodes, seen, stack = [], set(), [self.root_node]
        while stack:
            node = stack.pop()
            if id(node) not in seen:
                seen.add(id(node))
                nodes.append(node)
                stack.extend(child.node for child in node.children)
        return nodes

    def reset(self) -> None:
        for node in self._node_list:
            node._reset()
        self._dirty.clear()

    def changes(self, adding=None, deleting=None):
        for fact in deleting or ():
            self.root_node.remove(fact)
        for fact in adding or ():
            self.root_node.add(fact)
        added: list = []
        removed: list = []
        for index in sorted(self._dirty):
            node_added, node_removed = self._dirty[index].get_activations()
            added.extend(node_added)
            removed.extend(node_removed)
        self._dirty.clear()
        return added, removed


class ExactRemovalStrategy(DepthStrategy):
    """Experta's depth strategy, removing exactly the activations that no longer match.

    The stock strategy looks for an activation to remove only at the bisection point and its
    two neighbours, so when several activations share a key (same salience, same facts), an
    activation whose rule no longer matches can stay on the agenda and fire later
    (nilp0inter/experta#10). Here the whole run of equal keys is searched.
    """

    def _update_agenda(self, agenda, added, removed):
        activations = agenda.activations
        for activation in removed:
            activation.key = self.get_key(activation)
            low = bisect.bisect_left(activations, activation)
            high = bisect.bisect_right(activations, activation)
            for index in range(low, high):
                if activations[index] == activation:
                    del activations[index]
                    break
        for activation in added:
            activation.key = self.get_key(activation)
            bisect.insort(activations, activation)


class SpasmEngine(KnowledgeEngine):
    """A knowledge engine that records which rule fired on which facts.

    The compiler subclasses it with one Experta ``Rule`` per knowledge-base rule. An instance is
    used by one thread at a time: :meth:`evaluate` resets it, so it can be reused case after case.
    """

    __matcher__ = ChangedNodesMatcher
    __strategy__ = ExactRemovalStrategy

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
