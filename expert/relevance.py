"""Which unanswered observations could still change the result, and so are worth asking.

Every rule is decided in three-valued logic over the answers so far. A rule that is already
settled (true or false whatever the missing answers turn out to be) cannot change; an
undecided one can, and only through the unanswered observations reached from its root along
undecided branches. Red flags only gain as answers arrive (their ``not`` needs answers), so an
observation matters for triage if it reaches an undecided red flag that would raise the current
level; it matters for causes if it reaches
an undecided evidence rule of a cause that still has, or could still gain, support. Kleene's
logic is sound, so this never misses an observation that could change the triage.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from .conditions import AllOf, AnyOf, Condition, Count, Is, Not, Ref, Truth, Unless, answer_truth, evaluate
from .model import KnowledgeBase, Observation, RuleDef, urgency


@dataclass(frozen=True)
class Pending:
    """An undecided rule and the unanswered observations that could decide it."""

    rule: RuleDef
    observations: tuple[str, ...]
    effect: str  # "triage" or "cause"
    level: str | None = None  # red flags: the level it would set


class Decider:
    """Three-valued truth of conditions, observations and findings for one set of answers."""

    def __init__(self, kb: KnowledgeBase, answers: Mapping[str, object]):
        self.kb, self.answers = kb, answers
        self.findings: dict[str, Truth] = {}
        self._truths: dict[int, Truth] = {}  # by id() of a condition node of the (immutable) knowledge base

    def leaf(self, leaf: Is | Ref) -> Truth:
        if isinstance(leaf, Is):
            return answer_truth(leaf, self.answers)
        if leaf.kind == "finding":
            return self.finding(str(leaf.target))
        raise ValueError(f"{leaf.kind} references are decided by the engine, not by answers")

    def finding(self, finding_id: str) -> Truth:
        if finding_id not in self.findings:
            self.findings[finding_id] = self.truth(self.kb.findings[finding_id].rule.when)
        return self.findings[finding_id]

    def truth(self, condition: Condition) -> Truth:
        key = id(condition)
        if key not in self._truths:
            self._truths[key] = evaluate(condition, self.leaf, self.truth)
        return self._truths[key]

    def open_observations(self, condition: Condition) -> set[str]:
        """Unanswered observations reachable from ``condition`` through undecided parts only."""
        found: set[str] = set()
        self._walk(condition, found)
        return found

    def _walk(self, condition: Condition, found: set[str]) -> None:
        if self.truth(condition) is not Truth.UNKNOWN:
            return
        if isinstance(condition, (AllOf, AnyOf, Not, Unless, Count)):
            for child in condition.children():
                self._walk(child, found)
        elif isinstance(condition, Is):
            found.add(condition.observation)
        elif isinstance(condition, Ref) and condition.kind == "finding":
            self._walk(self.kb.findings[str(condition.target)].rule.when, found)

    def applicable(self, obs: Observation) -> bool:
        """False when the observation's ask_when rules it out (e.g. pregnancy for a man)."""
        return obs.ask_when is None or self.truth(obs.ask_when) is not Truth.FALSE


def pending_rules(decider: Decider, level: str, skipped: frozenset[str] = frozenset()) -> list[Pending]:
    """Rules an answer could still change, given the decider's answers and the current triage ``level``."""
    kb = decider.kb
    result: list[Pending] = []

    def add(rule: RuleDef, effect: str, rule_level: str | None = None) -> None:
        observations = decider.open_observations(rule.when) - skipped
        observations = {o for o in observations if decider.applicable(kb.observations[o])}
        if observations:
            order = [o for o in kb.observations if o in observations]
            result.append(Pending(rule, tuple(order), effect, rule_level))

    for flag in kb.red_flags.values():  # red flags only gain with answers: only a higher level can change it
        if urgency(flag.level) > urgency(level):
            add(flag.rule, "triage", flag.level)
    for cause in kb.causes.values():
        if any(decider.truth(r.when) is not Truth.FALSE for r in cause.supporting):
            for rule in cause.evidence:
                add(rule, "cause")
    return result


def questions_gated_by(decider: Decider, observation: str) -> list[str]:
    """Unanswered observations whose ask_when is still undecided and depends on ``observation``."""
    return [o.id for o in decider.kb.observations.values()
            if o.id not in decider.answers and o.ask_when is not None and decider.truth(o.ask_when) is Truth.UNKNOWN
            and observation in decider.open_observations(o.ask_when)]


def ranked_questions(decider: Decider, pending: list[Pending]) -> list[str]:
    """Unanswered observations that matter, most important first.

    Questions that could raise the triage come first, the most urgent level first; then those
    that could move the causes' scores most (the certainty factors of the undecided evidence
    they feed, added up); then the vocabulary's own order. A question whose
    ``ask_when`` is still undecided waits for the questions that decide it, which take over its
    priority (so "where is it?" comes before a chest-pain question that only applies to some sites).
    """
    kb = decider.kb
    best: dict[str, int] = {}
    uses: dict[str, float] = {}
    for item in pending:
        for obs in item.observations:
            uses[obs] = uses.get(obs, 0) + (abs(item.rule.cf) if item.effect == "cause" else 1.0)
            if item.effect == "triage":
                best[obs] = max(best.get(obs, -1), urgency(item.level or "self_care"))
    waiting: set[str] = set()
    for obs_id in list(uses):
        gate = kb.observations[obs_id].ask_when
        if gate is not None and decider.truth(gate) is Truth.UNKNOWN:
            waiting.add(obs_id)
            for gating in decider.open_observations(gate):
                best[gating] = max(best.get(gating, -1), best.get(obs_id, -1))
                uses.setdefault(gating, 0)
    order = {obs_id: i for i, obs_id in enumerate(kb.observations)}
    return sorted(uses, key=lambda o: (-best.get(o, -1), o in waiting, -uses[o], order[o]))
