"""Three-valued decisions over the answers: true, false, or not known until more is answered.

:class:`Logic` compiles every condition of a knowledge base once into small functions;
:class:`Decider` decides them for one case, remembering each finding, and finds the unanswered
observations that could still decide an open condition. The interview, the list of questions
that could change a result and the explanations all rest on it.

:func:`reference_run` decides a whole case with it, without the engine: the reference the engine
is checked against in the tests, and the lower bound it is measured against in the benchmark.
``unless`` is read closed-world here, as the engine reads it: it holds while its condition is not
known to hold.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping

from .conditions import (NUMBER_TESTS, AllOf, AnyOf, Condition, Count, Is, Not, Ref, Truth, Unless, Visitor,
                         leaves, observations_in)
from .model import ACTIONS, KINDS, KnowledgeBase, Observation, RuleDef
from .scoring import cause_scores
from .trace import AGGREGATE_RULE, Firing, Run

FALSE, UNKNOWN, TRUE = int(Truth.FALSE), int(Truth.UNKNOWN), int(Truth.TRUE)
_MISSING = object()
#: A decision: the truth, and when it is UNKNOWN, the unanswered observations that could settle it
#: (reached through the undecided parts only; empty otherwise).
Decision = tuple[int, tuple[str, ...]]
Decide = Callable[["Decider"], Decision]
_DECIDED = {FALSE: (FALSE, ()), TRUE: (TRUE, ())}


class _Compile(Visitor[Decide]):
    """Each condition node as a function of a :class:`Decider`, giving its :data:`Decision`."""

    def __init__(self, kb: KnowledgeBase, table: dict[int, Decide]):
        self.kb, self.table = kb, table

    def visit(self, condition: Condition) -> Decide:
        compiled = self.table.get(id(condition))
        if compiled is None:
            compiled = self.table[id(condition)] = condition.accept(self)
        return compiled

    def all_of(self, node: AllOf) -> Decide:
        return self._junction(node.items, settles=FALSE)

    def any_of(self, node: AnyOf) -> Decide:
        return self._junction(node.items, settles=TRUE)

    def _junction(self, items: tuple[Condition, ...], settles: int) -> Decide:
        """``all`` (one false part settles it false) or ``any`` (one true part settles it true);
        otherwise undecided while a part is, and the other value once every part is decided."""
        parts = [self.visit(c) for c in items]
        settled, otherwise = _DECIDED[settles], _DECIDED[TRUE if settles == FALSE else FALSE]

        def decide(d: Decider) -> Decision:
            opens: tuple[str, ...] = ()
            for part in parts:
                truth, more = part(d)
                if truth == settles:
                    return settled
                opens += more
            return (UNKNOWN, opens) if opens else otherwise
        return decide

    def not_(self, node: Not) -> Decide:
        part = self.visit(node.item)

        def decide(d: Decider) -> Decision:
            truth, opens = part(d)
            return (UNKNOWN, opens) if truth == UNKNOWN else _DECIDED[TRUE - truth]
        return decide

    def unless(self, node: Unless) -> Decide:
        part = self.visit(node.item)
        return lambda d: _DECIDED[FALSE if part(d)[0] == TRUE else TRUE]

    def count(self, node: Count) -> Decide:
        parts, least = [self.visit(c) for c in node.items], node.least

        def decide(d: Decider) -> Decision:
            held = undecided = 0
            opens: tuple[str, ...] = ()
            for part in parts:
                truth, more = part(d)
                if truth == TRUE:
                    held += 1
                elif truth == UNKNOWN:
                    undecided += 1
                    opens += more
            if held >= least:
                return _DECIDED[TRUE]
            return _DECIDED[FALSE] if held + undecided < least else (UNKNOWN, opens)
        return decide

    def test(self, node: Is) -> Decide:
        observation, holds = node.observation, node.predicate()
        unknown = (UNKNOWN, (observation,))

        def decide(d: Decider) -> Decision:
            value = d.answers.get(observation, _MISSING)
            if value is _MISSING:
                return unknown
            return _DECIDED[TRUE if holds(value) else FALSE]
        return decide

    def ref(self, node: Ref) -> Decide:
        if node.kind == "finding":
            rule = self.kb.findings[str(node.target)].rule
            rule_id = rule.id
            return lambda d: d.rules.get(rule_id) or d.decide(rule)  # a decision is never empty
        return lambda d: _DECIDED[d.conclusion(node)]


Holds = Callable[["Decider"], bool]


class _CompileLenient(Visitor[Holds]):
    """Each node of a finding's or red flag's condition as a function telling whether it holds
    leniently: positive tests need answers, an exclusion (``not X``) holds while X is not true."""

    def __init__(self, table: dict[int, Holds], strict: dict[int, Decide]):
        self.table, self.strict = table, strict

    def visit(self, condition: Condition) -> Holds:
        compiled = self.table.get(id(condition))
        if compiled is None:
            compiled = self.table[id(condition)] = condition.accept(self)
        return compiled

    def all_of(self, node: AllOf) -> Holds:
        parts = [self.visit(c) for c in node.items]
        return lambda d: all(part(d) for part in parts)

    def any_of(self, node: AnyOf) -> Holds:
        parts = [self.visit(c) for c in node.items]
        return lambda d: any(part(d) for part in parts)

    def count(self, node: Count) -> Holds:
        parts, least = [self.visit(c) for c in node.items], node.least
        return lambda d: sum(1 for part in parts if part(d)) >= least

    def not_(self, node: Not) -> Holds:
        strict = self.strict[id(node.item)]
        return lambda d: strict(d)[0] != TRUE

    def unless(self, node: Unless) -> Holds:  # pragma: no cover - the loader refuses unless here
        raise ValueError("unless is for advice and tests")

    def test(self, node: Is) -> Holds:
        strict = self.strict[id(node)]
        return lambda d: strict(d)[0] == TRUE

    def ref(self, node: Ref) -> Holds:
        finding = str(node.target)
        return lambda d: d.possibly(finding)


class Logic:
    """The knowledge base's conditions compiled for three-valued decisions (built once)."""

    def __init__(self, kb: KnowledgeBase):
        self.kb = kb
        self.table: dict[int, Decide] = {}
        compile_ = _Compile(kb, self.table)
        conditions = [rule.when for rule in kb.rules.values()]
        conditions += [obs.ask_when for obs in kb.observations.values() if obs.ask_when is not None]
        for condition in conditions:
            compile_.visit(condition)
        #: findings and red flags: whether each holds with unanswered exclusions taken as absent
        self.lenient: dict[int, Holds] = {}
        lenient = _CompileLenient(self.lenient, self.table)
        for rule in kb.rules.values():
            if KINDS[rule.kind].possible:
                lenient.visit(rule.when)
        #: observations asked only in some cases (they have an ask_when)
        self.gated = frozenset(obs.id for obs in kb.observations.values() if obs.ask_when is not None)
        #: every red flag with the urgency of the level it sets
        self.red_flags = tuple((flag, kb.urgency(flag.level)) for flag in kb.red_flags.values())
        #: each cause's place in the knowledge base (ties in score are ranked by it)
        self.cause_order = {cause: i for i, cause in enumerate(kb.causes)}
        #: each observation's place in the vocabulary
        self.order = kb.observation_order
        #: every observation a rule reads, through the findings it uses
        self.reach: dict[str, frozenset[str]] = {}
        for rule in kb.rules.values():
            self._reach(rule)
        #: red flags that withhold advice (under a ``not`` or ``unless`` in advice): raising one makes
        #: advice unsafe that would otherwise be given (a possible clot: no massage)
        self.advised = frozenset(str(leaf.target) for rule in kb.rules.values() if KINDS[rule.kind].layer == ACTIONS
                                 for leaf, polarity in leaves(rule.when)
                                 if isinstance(leaf, Ref) and leaf.kind == "red_flag" and polarity.negated)
        #: for each observation, the cause evidence that reads it (directly or through findings)
        self.evidence_readers: dict[str, tuple[RuleDef, ...]] = {}
        for rule in kb.rules.values():
            if rule.is_evidence:
                for obs_id in sorted(self.reach[rule.id]):
                    self.evidence_readers[obs_id] = (*self.evidence_readers.get(obs_id, ()), rule)
        #: rules decided by the answers alone (no unless, no reference to a red flag, cause or triage)
        self.open_world = frozenset(rule.id for rule in kb.rules.values() if KINDS[rule.kind].layer < ACTIONS)
        #: what deciding each rule needs, looked up once: the observations it reads (as a set and as a
        #: tuple), whether the answers alone decide it, and its compiled condition
        self.plans: dict[str, tuple[frozenset[str], tuple[str, ...], bool, Decide]] = {
            rule.id: (self.reach[rule.id], tuple(self.reach[rule.id]), rule.id in self.open_world,
                      self.table[id(rule.when)]) for rule in kb.rules.values()}

    def _reach(self, rule: RuleDef) -> frozenset[str]:
        if rule.id not in self.reach:
            found = set(observations_in(rule.when))
            for node in rule.when.nodes():
                if isinstance(node, Ref) and node.kind == "finding":
                    found |= self._reach(self.kb.findings[str(node.target)].rule)
            self.reach[rule.id] = frozenset(found)
        return self.reach[rule.id]

    def decider(self, answers: Mapping[str, Any], run: Run | None = None) -> "Decider":
        return Decider(self, answers, run)

    def probe_values(self, obs: Observation) -> list[Any]:
        """Answers that between them reach every outcome the rules distinguish for ``obs``: yes and
        no, each choice, no choice, and numbers on either side of every threshold the rules test."""
        if obs.type == "bool":
            return [True, False]
        if obs.type == "enum":
            return list(obs.values)
        if obs.type == "set":
            return [frozenset(), *(frozenset((value,)) for value in obs.values)]
        bounds = {leaf.operand for rule in self.kb.rules.values() for leaf, _ in leaves(rule.when)
                  if isinstance(leaf, Is) and leaf.observation == obs.id and leaf.test in NUMBER_TESTS}
        values = sorted({v for b in bounds for v in (b - 0.5, b, b + 0.5)} | {obs.minimum})
        return [v for v in values if v >= obs.minimum and (obs.maximum is None or v <= obs.maximum)]


class Decider:
    """Three-valued truth of conditions and findings for one set of answers.

    Given the engine's :class:`Run` for the same answers, it reuses what the run decided: a rule
    that fired is true, and one that did not fire although every observation it reads is
    answered is false; only the rest is decided again.
    """

    def __init__(self, logic: Logic, answers: Mapping[str, Any], run: Run | None = None):
        self.logic, self.kb, self.answers, self.run = logic, logic.kb, answers, run
        self.rules: dict[str, Decision] = {}  # by rule id, each decided once
        self.fired: Mapping[str, Any] = run.by_rule if run is not None else {}
        self.answered = frozenset(answers)
        self._gates: dict[str, Decision] = {}  # by observation id: its ask_when, decided once
        self._held: dict[str, bool] = {}
        # for references to red flags, causes and the triage (advice and tests): set by reference_run
        self.raised: set[str] = set()
        self.scores: Mapping[str, float] = {}
        self.level = ""

    def condition(self, condition: Condition) -> Truth:
        return Truth(self.logic.table[id(condition)](self)[0])

    def decide(self, rule: RuleDef) -> Decision:
        """A rule's truth, and the unanswered observations that could settle it when it is open."""
        rule_id = rule.id
        decision = self.rules.get(rule_id)
        if decision is None:
            firing = self.fired.get(rule_id)
            if firing is not None and not firing.possible:
                decision = _DECIDED[TRUE]
            else:
                reach, everything, open_world, compiled = self.logic.plans[rule_id]
                if self.run is not None and reach <= self.answered:
                    decision = _DECIDED[FALSE]
                elif open_world and reach.isdisjoint(self.answered):
                    decision = (UNKNOWN, everything)  # nothing it reads is answered: all of it is open
                else:
                    decision = compiled(self)
            self.rules[rule_id] = decision
        return decision

    def rule(self, rule: RuleDef) -> Truth:
        return Truth(self.decide(rule)[0])

    # ------------------------------------------------------------- possible (lenient)
    def holds(self, rule: RuleDef) -> bool:
        """Whether a finding or red flag holds with its unanswered exclusions taken as absent."""
        held = self._held.get(rule.id)
        if held is None:
            held = self._held[rule.id] = self.logic.lenient[id(rule.when)](self)
        return held

    def possibly(self, finding_id: str) -> bool:
        return self.holds(self.kb.findings[finding_id].rule)

    def pending(self, rule: RuleDef) -> list[str]:
        """For a finding or red flag that holds only as possible: the unanswered observations
        that could settle it (those inside its undecided exclusions), in vocabulary order."""
        found: set[str] = set()
        _Pending(self, found).visit(rule.when)
        return sorted(found, key=self.logic.order.__getitem__)

    def conclusion(self, ref: Ref) -> int:
        """A red flag, cause or triage reference, decided closed-world from what was concluded."""
        if ref.kind == "red_flag":
            return TRUE if ref.target in self.raised else FALSE
        if ref.kind == "cause":
            score = self.scores.get(str(ref.target))
            held = score is not None and (score > 0 if ref.min_score is None else score >= ref.min_score)
            return TRUE if held else FALSE
        return TRUE if self.level in ref.targets else FALSE

    def applicable(self, obs: Observation) -> bool:
        """False when the observation's ask_when rules it out (e.g. pregnancy for a man)."""
        return obs.ask_when is None or self.gate(obs)[0] != FALSE

    def gate(self, obs: Observation) -> Decision:
        """The decision of an observation's ask_when (which it must have)."""
        decision = self._gates.get(obs.id)
        if decision is None:
            assert obs.ask_when is not None, f"{obs.id} is asked in every case"
            decision = self._gates[obs.id] = self.logic.table[id(obs.ask_when)](self)
        return decision


class _Pending(Visitor[None]):
    """Walks the leniently holding parts of a condition, collecting the unanswered observations of
    each exclusion that is not yet decided."""

    def __init__(self, decider: Decider, found: set[str]):
        self.d, self.found = decider, found

    def visit(self, condition: Condition) -> None:
        if self.d.logic.lenient[id(condition)](self.d):
            condition.accept(self)

    def all_of(self, node: Condition) -> None:
        for child in node.children():
            self.visit(child)

    any_of = count = all_of  # type: ignore[assignment]

    def not_(self, node: Not) -> None:
        truth, opens = self.d.logic.table[id(node.item)](self.d)
        if truth == UNKNOWN:
            self.found.update(opens)

    def test(self, node: Is) -> None:
        pass

    def ref(self, node: Ref) -> None:
        rule = self.d.kb.findings[str(node.target)].rule
        if self.d.decide(rule)[0] != TRUE:
            self.visit(rule.when)


# ------------------------------------------------------------------------ reference run

class _Grounds(Visitor[None]):
    """What a holding condition matched, as the engine's patterns bind it: the answers and the
    conclusions of every branch that holds, and for a negation the answers that rule it out.
    ``lenient`` reads a finding's or red flag's condition as the engine matches it (an exclusion
    binds its answers only when they rule it out)."""

    def __init__(self, decider: Decider, answers: dict[str, Any], uses: dict[tuple[str, str], None],
                 negated: bool = False, lenient: bool = False):
        self.d, self.answers, self.uses, self.negated, self.lenient = decider, answers, uses, negated, lenient

    def _holds(self, node: Condition) -> bool:
        if self.lenient:
            return self.d.logic.lenient[id(node)](self.d)
        return self.d.logic.table[id(node)](self.d)[0] == (FALSE if self.negated else TRUE)

    def _flip(self) -> "_Grounds":
        return _Grounds(self.d, self.answers, self.uses, not self.negated)

    def all_of(self, node: Condition) -> None:
        for child in node.children():
            if self._holds(child):
                self.visit(child)

    any_of = count = all_of  # type: ignore[assignment]

    def not_(self, node: Not) -> None:
        if not self.lenient or self.d.logic.table[id(node.item)](self.d)[0] == FALSE:
            self._flip().visit(node.item)

    def unless(self, node: Unless) -> None:
        if self.negated:  # "not unless X": X holds
            self._flip().visit(node.item)

    def test(self, node: Is) -> None:
        self.answers[node.observation] = self.d.answers[node.observation]

    def ref(self, node: Ref) -> None:
        if node.kind == "finding" and self.negated:
            self.visit(self.d.kb.findings[str(node.target)].rule.when)
        elif not self.negated:
            self.uses[(node.kind, self.d.level if node.kind == "triage" else str(node.target))] = None


def reference_run(logic: Logic, answers: Mapping[str, Any]) -> Run:
    """The engine's result for ``answers``, decided directly: findings and red flags leniently
    (possible when they hold only with an exclusion unanswered), everything else in three-valued
    logic, with advice and tests closed-world."""
    kb = logic.kb
    d = Decider(logic, answers)
    fired: list[RuleDef] = []
    for rule in kb.rules.values():
        if KINDS[rule.kind].layer < ACTIONS and (d.holds(rule) if KINDS[rule.kind].possible else
                                                  d.decide(rule)[0] == TRUE):
            fired.append(rule)
    d.raised = {rule.target for rule in fired if rule.kind == "red_flag"}
    d.scores = cause_scores(kb, fired)
    d.level = kb.most_urgent(kb.red_flags[flag].level for flag in d.raised)
    fired += [rule for rule in kb.rules.values()
              if KINDS[rule.kind].layer == ACTIONS and logic.table[id(rule.when)](d)[0] == TRUE]
    firings = [Firing(AGGREGATE_RULE, (), tuple(("red_flag", rule.target) for rule in fired if rule.kind == "red_flag"))]
    for rule in fired:
        found: dict[str, Any] = {}
        uses: dict[tuple[str, str], None] = {}
        lenient = KINDS[rule.kind].possible
        _Grounds(d, found, uses, lenient=lenient).visit(rule.when)
        firings.append(Firing(rule.id, tuple(found.items()), tuple(uses),
                              possible=lenient and d.decide(rule)[0] != TRUE))
    return Run(tuple(firings), d.scores, d.level)
