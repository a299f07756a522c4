"""The Experta engine every compiled knowledge base runs on, and the plain record it returns.

Experta draws every conclusion: its working memory holds the answers and the conclusions drawn,
its agenda orders the activations, and its run loop fires the rules. Two of its documented
extension points are filled in here for this rule language: the matcher (``__matcher__``), which
routes each fact by key to the rules that read it (see ``network.py``), and the conflict-resolution
strategy (``__strategy__``), which orders activations by layer and removes exactly the ones
withdrawn. Layers fire in salience order: derived findings (deepest last), then red flags and cause
evidence, then one aggregation step (cause scores and triage), then advice and tests. Within a
layer rules only add facts, so the result does not depend on the order Experta picks. The engine
also overrides three public methods with leaner equivalents for facts it makes itself: ``reset``,
``declare`` and ``run`` (Experta's loop, less its per-firing log formatting), and its working
memory is Experta's fact list declaring each fact without a schema check or a log line.

Experta types stay in this module and ``compiler.py``; :meth:`SpasmEngine.evaluate` returns a
:class:`~expert.trace.Run` of plain data.
"""
from __future__ import annotations

import bisect
import operator
from typing import Any, ClassVar, Mapping

from ._experta import Activation, Agenda, Fact, FactList, InitialFact, KnowledgeEngine, Matcher, Strategy
from .model import ACTIONS, CONCLUSIONS, CONFIRMED, FINDINGS, POSSIBLE, KnowledgeBase
from .network import START, TRIAGE, CompiledRule, Key, Network
from .scoring import cause_scores
from .trace import AGGREGATE_RULE, Firing, Run

#: Salience of each layer; a finding gets FINDINGS minus its depth, so it fires after those it uses.
SALIENCE = {FINDINGS: 1000, CONCLUSIONS: 500, ACTIONS: 300}
AGGREGATE_SALIENCE = 400


# --------------------------------------------------------------------------- facts

class Obs(Fact):
    """An answered observation: ``id`` and ``value`` (a set answer is a frozenset)."""

    def key(self) -> tuple[Key, Any]:
        return ("obs", self["id"]), self["value"]


class Finding(Fact):
    """A derived finding was concluded: ``id``, and ``status`` confirmed or possible."""

    def key(self) -> tuple[Key, Any]:
        return ("finding", self["id"]), self["status"]


class RedFlag(Fact):
    """A red flag was raised: ``id``, its triage ``level``, and ``status`` confirmed or possible."""

    def key(self) -> tuple[Key, Any]:
        return ("red_flag", self["id"]), self["status"]


class CauseScore(Fact):
    """A cause's combined certainty once all evidence is in: ``id``, ``score``."""

    def key(self) -> tuple[Key, Any]:
        return ("cause", self["id"]), self["score"]


class Triage(Fact):
    """The case's triage ``level``, the most urgent any red flag sets."""

    def key(self) -> tuple[Key, Any]:
        return TRIAGE, self["level"]


_ABSENT = object()


def _key(fact: Fact) -> tuple[Key, Any]:
    return (START, True) if type(fact) is InitialFact else fact.key()


# ------------------------------------------------------------------------- matcher

class RoutingMatcher(Matcher):
    """Experta's matcher interface for rules that never join facts on shared variables.

    Working memory is mirrored as a key -> value mapping. A change at a key marks the rules that
    read it; only those are matched again, each giving at most one activation, bound to every key
    its pattern matched. The network is compiled once per knowledge base and shared by every engine.
    """

    def __init__(self, engine: "SpasmEngine"):
        super().__init__(engine)
        self.network: Network = engine.network
        self.rules = engine.rule_objects
        self.memory: dict[Key, Any] = {}
        self.active: dict[int, Activation] = {}
        self.dirty: set[int] = set()
        self.present = [0] * len(self.network.rules)  # needed keys in memory, by rule

    def reset(self) -> None:
        self.memory = {}
        self.active = {}
        self.dirty = set(self.network.at_start)
        self.present = [0] * len(self.network.rules)

    def changes(self, adding: Any = None, deleting: Any = None) -> tuple[list[Activation], list[Activation]]:
        network, memory, dirty, present = self.network, self.memory, self.dirty, self.present
        need = network.need
        for fact in deleting or ():
            key, _ = _key(fact)
            if memory.pop(key, _ABSENT) is not _ABSENT:
                for index in network.needed.get(key, ()):
                    present[index] -= 1
                dirty.update(network.routes.get(key, ()))
        for fact in adding or ():
            key, value = _key(fact)
            if key in memory:
                dirty.update(network.routes.get(key, ()))
            else:  # a rule is worth matching once every key it needs is here
                for index in network.needed.get(key, ()):
                    count = present[index] = present[index] + 1
                    if count == need[index]:
                        dirty.add(index)
                for index in network.optional.get(key, ()):
                    if present[index] == need[index]:
                        dirty.add(index)
            memory[key] = value
        added: list[Activation] = []
        removed: list[Activation] = []
        if dirty:
            rules = self.network.rules
            for index in sorted(dirty) if len(dirty) > 1 else dirty:
                bound: list[Key] = []
                holds = rules[index].match(memory, bound)
                old = self.active.get(index)
                if old is not None and (not holds or old.context["bound"] != tuple(bound)):
                    removed.append(old)
                    del self.active[index]
                    old = None
                if holds and old is None:
                    activation = Activation(self.rules[index], (), {"bound": tuple(bound)})
                    activation.key = (rules[index].salience, -index)
                    self.active[index] = activation
                    added.append(activation)
            dirty.clear()
        return added, removed

    def print_network(self) -> str:
        """The network as Graphviz DOT (Experta's Rete matcher offers the same)."""
        return self.network.to_dot()


_ORDER = operator.attrgetter("key")  # an activation's (salience, -rule index): unique, one per rule


class LayerStrategy(Strategy):
    """Orders activations by salience, then by the rule's place in the knowledge base, and removes
    exactly the activations withdrawn (Experta's depth strategy could leave one behind when several
    share a key, nilp0inter/experta#10)."""

    def _update_agenda(self, agenda: Agenda, added: list[Activation], removed: list[Activation]) -> None:
        activations = agenda.activations
        for activation in removed:
            index = bisect.bisect_left(activations, activation.key, key=_ORDER)
            if index < len(activations) and activations[index] is activation:
                del activations[index]
        for activation in added:
            bisect.insort(activations, activation, key=_ORDER)


class WorkingMemory(FactList):
    """Experta's fact list, working out each fact's identity (by which it refuses a duplicate: the
    fact's class and fields) once per fact rather than at every declaration; the engine makes each
    fact once and declares it again case after case."""

    last_index: int

    @staticmethod
    def _get_fact_id(fact: Fact) -> frozenset[Any]:
        identity = fact.__dict__.get("identity")
        if identity is None:
            identity = fact.__dict__["identity"] = FactList._get_fact_id(fact)
        return identity

    def declare(self, fact: Fact) -> Fact | None:
        """Experta's declaration, less the schema check (these facts declare no fields) and the log
        line: the fact gets the next index unless an identical one is already declared."""
        identity = self._get_fact_id(fact)
        if identity in self.reference_counter and not self.duplication:
            return None
        index = self.last_index
        fact.__factid__ = index
        self[index] = fact
        self.last_index = index + 1
        self.added.append(fact)
        self.reference_counter[identity] += 1
        return fact


# -------------------------------------------------------------------------- engine

class SpasmEngine(KnowledgeEngine):
    """A knowledge engine over one compiled network, recording which rule fired on what.

    The compiler subclasses it for a knowledge base, setting :attr:`network` and
    :attr:`rule_objects` (one Experta ``Rule`` per network rule, the aggregation step included).
    An instance is used by one thread at a time: :meth:`evaluate` resets it, so it is reused case
    after case.
    """

    __matcher__ = RoutingMatcher
    __strategy__ = LayerStrategy
    network: ClassVar[Network]
    rule_objects: ClassVar[tuple[Any, ...]]
    knowledge: ClassVar[KnowledgeBase]
    #: conclusions some rule reads, by kind: only those become facts in working memory
    read_kinds: ClassVar[dict[str, frozenset[str]]]

    #: facts kept for reuse by one engine, beyond which the store starts afresh (numbers vary without end)
    MAX_KEPT_FACTS = 4096

    def __init__(self) -> None:
        super().__init__()
        self.firings: list[Firing] = []
        self.scores: dict[str, float] = {}
        self.level = ""
        self._kept: dict[tuple[Any, ...], Fact] = {}

    def _fact(self, kind: type[Fact], **fields: Any) -> Fact:
        """A fact with these fields, made once and reused from case to case.

        Making an Experta fact costs several microseconds; an answer or a conclusion is the same
        fact every time it recurs, and each run re-declares it in a fresh working memory.
        """
        key = (kind, *fields.values())
        fact = self._kept.get(key)
        if fact is None:
            if len(self._kept) >= self.MAX_KEPT_FACTS:
                self._kept.clear()
            fact = self._kept[key] = kind(**fields)
        return fact

    def declare(self, *facts: Fact) -> Any:
        """Experta's declare, without its check of each fact for conditional elements and nested
        keys: every fact here is made by this engine from validated answers and conclusions."""
        last = None
        for fact in facts:
            last = self.facts.declare(fact)
        if not self.running:
            added, removed = self.get_activations()
            self.strategy.update_agenda(self.agenda, added, removed)
        return last

    def get_rules(self) -> list[Any]:
        return list(self.rule_objects)

    def reset(self, **kwargs: Any) -> None:
        """Experta's reset for an engine whose only deffacts is the initial fact: a fresh agenda and
        working memory holding it (Experta's own reset inspects each deffacts' signature every time)."""
        self.agenda = Agenda()
        self.facts = WorkingMemory()
        self.matcher.reset()
        self.facts.declare(self._fact(InitialFact))
        added, removed = self.get_activations()
        self.strategy.update_agenda(self.agenda, added, removed)
        self.running = False

    def run(self, steps: float = float("inf")) -> None:
        """Experta's run loop: take the matcher's changes into the agenda, fire the next activation,
        until none is left. Experta's own loop also formats a log line for every firing and filters
        each activation's context; rules here take their context whole."""
        self.running = True
        agenda, update_agenda, get_activations = self.agenda, self.strategy.update_agenda, self.get_activations
        while steps > 0 and self.running:
            added, removed = get_activations()
            if added or removed:
                update_agenda(agenda, added, removed)
            activation = agenda.get_next()
            if activation is None:
                break
            steps -= 1
            activation.rule(self, **activation.context)
        self.running = False

    # ------------------------------------------------------------------------ firing
    def fire(self, rule: CompiledRule, bound: tuple[Key, ...]) -> None:
        """Record a rule's firing with what it matched, and assert its conclusion if anything reads it."""
        memory = self.matcher.memory
        answers: dict[str, Any] = {}
        uses: dict[tuple[str, str], None] = {}
        for key in bound:
            kind = key[0]
            if kind == "obs":
                answers[key[1]] = memory[key]
            elif kind == "triage":
                uses[("triage", memory[key])] = None
            elif kind != "start":
                uses[key] = None
        possible = rule.confirmed is not None and not rule.confirmed(memory, [])
        self.firings.append(Firing(rule.id, tuple(answers.items()), tuple(uses), possible))
        conclusion = rule.conclusion
        if conclusion.target in self.read_kinds.get(conclusion.kind, ()):
            status = POSSIBLE if possible else CONFIRMED
            if conclusion.kind == "finding":
                self.declare(self._fact(Finding, id=conclusion.target, status=status))
            elif conclusion.kind == "red_flag":
                self.declare(self._fact(RedFlag, id=conclusion.target, level=conclusion.level, status=status))

    def aggregate(self) -> None:
        """Once all evidence is in: score each supported cause, and set the triage to the most
        urgent level of the red flags raised."""
        kb = self.knowledge
        rules = [kb.rules[firing.rule] for firing in self.firings]
        self.scores = cause_scores(kb, rules)
        flags = tuple(("red_flag", rule.target) for rule in rules if rule.kind == "red_flag")
        self.level = kb.most_urgent(kb.red_flags[flag].level for _, flag in flags)
        self.firings.append(Firing(AGGREGATE_RULE, (), flags))
        read = self.read_kinds.get("cause", frozenset())
        self.declare(*(self._fact(CauseScore, id=cause, score=score) for cause, score in self.scores.items()
                       if cause in read))
        self.declare(self._fact(Triage, level=self.level))

    def evaluate(self, answers: Mapping[str, Any]) -> Run:
        """Reset, assert one fact per known answer, fire every rule, and return what happened."""
        self.reset()
        self.firings = []
        self.declare(*(self._fact(Obs, id=key, value=value) for key, value in answers.items()))
        self.run()
        return Run(tuple(self.firings), dict(self.scores), self.level)


__all__ = ["AGGREGATE_RULE", "AGGREGATE_SALIENCE", "SALIENCE", "SpasmEngine"]
