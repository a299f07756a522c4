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

from .conditions import Truth
from .decider import Decider
from .model import RuleDef


@dataclass(frozen=True)
class Pending:
    """An undecided rule and the unanswered observations that could decide it."""

    rule: RuleDef
    observations: tuple[str, ...]
    effect: str  # "triage" or "cause"
    level: str | None = None  # red flags: the level it would set


def pending_rules(decider: Decider, level: str, skipped: frozenset[str] = frozenset()) -> list[Pending]:
    """Rules an answer could still change, given the decider's answers and the current triage ``level``."""
    kb = decider.kb
    result: list[Pending] = []
    order = decider.logic.order

    def add(rule: RuleDef, effect: str, rule_level: str | None = None) -> None:
        _, opens = decider.decide(rule)
        if opens:
            observations = {o for o in opens if o not in skipped and decider.applicable(kb.observations[o])}
            if observations:
                result.append(Pending(rule, tuple(sorted(observations, key=order.__getitem__)), effect, rule_level))

    for flag in kb.red_flags.values():  # red flags only gain with answers: only a higher level can change it
        if kb.urgency(flag.level) > kb.urgency(level):
            add(flag.rule, "triage", flag.level)
    for cause in kb.causes.values():
        if any(decider.decide(r)[0] != Truth.FALSE for r in cause.supporting):
            for rule in cause.evidence:
                add(rule, "cause")
    return result


def questions_gated_by(decider: Decider, observation: str) -> list[str]:
    """Unanswered observations whose ask_when is still undecided and depends on ``observation``."""
    return [o.id for o in decider.kb.observations.values()
            if o.id not in decider.answers and o.ask_when is not None and decider.condition(o.ask_when) is Truth.UNKNOWN
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
                best[obs] = max(best.get(obs, -1), kb.urgency(item.level or kb.calmest_level))
    waiting: set[str] = set()
    for obs_id in list(uses):
        gate = kb.observations[obs_id].ask_when
        if gate is not None and decider.condition(gate) is Truth.UNKNOWN:
            waiting.add(obs_id)
            for gating in decider.open_observations(gate):
                best[gating] = max(best.get(gating, -1), best.get(obs_id, -1))
                uses.setdefault(gating, 0)
    order = {obs_id: i for i, obs_id in enumerate(kb.observations)}
    return sorted(uses, key=lambda o: (-best.get(o, -1), o in waiting, -uses[o], order[o]))
