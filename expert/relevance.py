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

from dataclasses import dataclass, field
from typing import Iterator

from .conditions import Truth
from .decider import FALSE, Decider
from .model import RuleDef
from .scoring import LEADING, cause_scores, leading


@dataclass(frozen=True, slots=True)
class Pending:
    """An undecided rule and the unanswered observations that could decide it."""

    rule: RuleDef
    observations: tuple[str, ...]
    #: "triage" (could raise it), "possible" (could confirm or withdraw a possible flag), "advice" (could
    #: raise a flag that makes advice unsafe), "flag" (could raise another red flag) or "cause"
    effect: str
    level: str | None = None  # red flags: their level


@dataclass(frozen=True)
class Relevance:
    """What unanswered questions could still change: ranked, and which could raise the triage."""

    questions: list[str]
    could_rise_to: str | None  # the most urgent level answers could still reach, when above the current one
    raising: list[str]  # the questions that could raise the triage, in the order of ``questions``
    #: the questions an interview asks before any report: those that could raise the triage or any red
    #: flag (one that makes advice unsafe included: a possible clot means no massage), or settle a
    #: possible red flag
    safety: list[str] = field(default_factory=list)
    causes: list[str] = field(default_factory=list)  # the questions feeding undecided cause evidence


def _open_rules(decider: Decider, level: str,
                every_flag: bool = False) -> Iterator[tuple[RuleDef, tuple[str, ...], str, str | None]]:
    """Each rule an answer could still change, with the unanswered observations that could decide it
    (possibly repeated, not yet filtered for what can be asked): red flags above the current triage
    ``level`` (they only gain as answers arrive; with ``every_flag``, every red flag not raised), the
    exclusions of red flags raised only as possible, and the evidence of every cause that has, or
    could still gain, support."""
    kb = decider.kb
    current = kb.urgency(level)
    for flag, urgency in decider.logic.red_flags:
        firing = decider.fired.get(flag.rule.id)
        if firing is not None:
            if firing.possible:
                yield flag.rule, tuple(decider.pending(flag.rule)), "possible", flag.level
        elif every_flag or urgency > current:
            opens = decider.decide(flag.rule)[1]
            if opens:
                effect = ("triage" if urgency > current else
                          "advice" if flag.id in decider.logic.advised else "flag")
                yield flag.rule, opens, effect, flag.level
    decide = decider.decide
    for cause in kb.causes.values():
        if any(decide(rule)[0] != FALSE for rule in cause.supporting):  # has, or could gain, support
            for rule in cause.evidence:
                opens = decide(rule)[1]
                if opens:
                    yield rule, opens, "cause", None


def _unaskable(decider: Decider, skipped: frozenset[str]) -> frozenset[str]:
    """Observations that may not be asked: skipped, or ruled out by their ask_when."""
    observations = decider.kb.observations
    return skipped.union(obs for obs in decider.logic.gated
                         if obs not in decider.answers and not decider.applicable(observations[obs]))


def pending_rules(decider: Decider, level: str, skipped: frozenset[str] = frozenset()) -> list[Pending]:
    """Rules an answer could still change, given the decider's answers and the current triage ``level``
    (every red flag not yet raised included)."""
    order, unaskable = decider.logic.order, _unaskable(decider, skipped)
    found = []
    for rule, opens, effect, rule_level in _open_rules(decider, level, every_flag=True):
        observations = sorted(set(opens).difference(unaskable), key=order.__getitem__)
        if observations:
            found.append(Pending(rule, tuple(observations), effect, rule_level))
    return found


def questions_gated_by(decider: Decider, observation: str) -> list[str]:
    """Unanswered observations whose ask_when is still undecided and depends on ``observation``."""
    return [o.id for o in decider.kb.observations.values()
            if o.id not in decider.answers and o.ask_when is not None
            and observation in decider.gate(o)[1]]  # open observations only while the gate is undecided


def relevance(decider: Decider, level: str, skipped: frozenset[str] = frozenset(),
              every_flag: bool = False) -> Relevance:
    """Unanswered observations that matter, most important first, and how high they could take the triage.

    Questions that could change the triage come first, the most urgent level first: those that could
    raise it, and those that could confirm or withdraw a possible red flag at the current level;
    then those that could move the causes' scores most (the certainty factors of the undecided
    evidence they feed, added up); then the vocabulary's own order. A question whose ``ask_when``
    is still undecided waits for the questions that decide it, which take over its priority (so
    "where is it?" comes before a chest-pain question that only applies to some sites).
    ``every_flag`` also counts questions that could raise a red flag at or below the current level
    (an interview asks them before its report; they change neither the triage nor the causes).
    """
    kb = decider.kb
    current = kb.urgency(level)
    best: dict[str, int] = {}
    uses: dict[str, float] = {}
    rise = -1
    raising: set[str] = set()
    safety: set[str] = set()
    causes: set[str] = set()
    unaskable = _unaskable(decider, skipped)
    for rule, opens, effect, rule_level in _open_rules(decider, level, every_flag):
        observations = set(opens)
        if unaskable:
            observations -= unaskable
            if not observations:
                continue
        if effect == "cause":
            causes |= observations
            weight = abs(rule.cf)
            for obs in observations:
                uses[obs] = uses.get(obs, 0) + weight
            continue
        safety |= observations
        urgency = kb.urgency(rule_level) if rule_level and kb.urgency(rule_level) >= current else -1
        if effect == "triage":
            rise = max(rise, urgency)
            raising |= observations
        for obs in observations:
            uses[obs] = uses.get(obs, 0) + 1.0
            if urgency > best.get(obs, -1):
                best[obs] = urgency
    waiting: set[str] = set()
    logic = decider.logic
    for obs_id in [o for o in uses if o in logic.gated]:
        opens = decider.gate(kb.observations[obs_id])[1]
        deciding = set(opens) - skipped  # empty unless the gate is undecided
        if deciding:
            waiting.add(obs_id)
            for gating in deciding:
                best[gating] = max(best.get(gating, -1), best.get(obs_id, -1))
                uses.setdefault(gating, 0)
                for chosen in (raising, safety, causes):
                    if obs_id in chosen:
                        chosen.add(gating)
    order = decider.logic.order
    questions = sorted(uses, key=lambda o: (-best.get(o, -1), o in waiting, -uses[o], order[o]))
    could_rise_to = kb.level_of(rise) if rise > current else None
    return Relevance(questions, could_rise_to, [q for q in questions if q in raising],
                     [q for q in questions if q in safety], [q for q in questions if q in causes])


def cause_impact(decider: Decider, observation: str, count: int = LEADING) -> int:
    """How many of the ``count`` leading causes (ids and order) some answer to ``observation``
    could change, at most; 0 when no answer could change them.

    Only cause evidence that reads the observation can change, so each probe answer re-decides just
    those rules against the answers so far and re-scores.
    """
    kb, run, logic = decider.kb, decider.run, decider.logic
    assert run is not None
    readers = logic.evidence_readers.get(observation, ())
    if not readers:
        return 0
    kept = [kb.rules[f.rule] for f in run.firings if f.rule in kb.rules and kb.rules[f.rule].is_evidence
            and kb.rules[f.rule] not in readers]
    order = logic.cause_order
    now = leading(run.scores, order, count)
    impact = 0
    for value in logic.probe_values(kb.observations[observation]):
        probe = logic.decider({**decider.answers, observation: value})
        fired = kept + [rule for rule in readers if probe.decide(rule)[0] == Truth.TRUE]
        then = leading(cause_scores(kb, fired), order, count)
        changed = sum(1 for i in range(count) if (now[i:i + 1] != then[i:i + 1]))
        impact = max(impact, changed)
    return impact
