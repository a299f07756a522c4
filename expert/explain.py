"""Explanations: how a conclusion was reached, why another was not, why a question matters.

``how`` follows the engine's firings down from a conclusion to the answers; ``why_not`` reads a
rule's condition against the answers to show which parts were met, which an answer contradicted
and which are still missing; ``why`` lists the undecided rules an answer to a question would
feed. Each returns a small dataclass whose ``to_dict()`` is plain JSON-ready data.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from .case import Case, output_value
from .conditions import Is, Polarity, Ref, Truth, describe, leaves
from .decider import Decider
from .errors import UnknownIdError, shown, suggest
from .model import KINDS, KnowledgeBase, RuleDef
from .relevance import pending_rules
from .trace import AGGREGATE_RULE, Run, Trace

SCORING_RULE = "scoring: certainty factors combined (see README)"


def _omit_empty(pairs: list[tuple[str, Any]], keep: tuple[str, ...] = ()) -> dict[str, Any]:
    return {key: value for key, value in pairs if key in keep or value not in (None, (), [], "")}


@dataclass(frozen=True)
class Derivation:
    """How a conclusion was reached: the rule that drew it, the answers it matched, and the
    conclusions those rested on (``because``). A cause's evidence rules have no id of their own;
    a cause has a ``score``, the triage a ``level``, an evidence rule a ``cf``."""

    id: str | None
    kind: str | None
    label: str
    rule: str
    condition: str | None = None
    sources: tuple[str, ...] = ()
    facts: tuple[tuple[str, Any], ...] = ()
    not_reported: tuple[str, ...] = ()
    because: tuple["Derivation", ...] = ()
    score: float | None = None
    level: str | None = None
    cf: float | None = None

    def to_dict(self) -> dict[str, Any]:
        data = _omit_empty([("id", self.id), ("kind", self.kind), ("label", self.label), ("score", self.score),
                            ("level", self.level), ("cf", self.cf), ("rule", self.rule)], keep=("label",))
        if self.condition is not None:
            data.update(condition=self.condition, sources=list(self.sources),
                        facts=[{"id": i, "value": v} for i, v in self.facts])
        if self.not_reported:
            data["not_reported"] = list(self.not_reported)
        if self.because or self.kind in ("cause", "triage"):
            data["because"] = [child.to_dict() for child in self.because]
        return data


@dataclass(frozen=True)
class ConditionStatus:
    """One part of a rule's condition: met, contradicted by an answer, or missing an answer."""

    condition: str
    observation: str | None = None
    answer: Any = None
    answered: bool = False
    reference: tuple[str, Any] | None = None  # (kind, target) for a reference to a conclusion
    detail: "WhyNot | None" = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"condition": self.condition}
        if self.observation is not None:
            data["observation"] = self.observation
            if self.answered:
                data["answer"] = self.answer
        if self.reference is not None:
            kind, target = self.reference
            data[kind] = list(target) if isinstance(target, tuple) else target
        if self.detail is not None:
            data["detail"] = self.detail.to_dict()
        return data


@dataclass(frozen=True)
class RuleStatus:
    """A rule read against the answers."""

    rule: str
    condition: str
    fired: bool
    sources: tuple[str, ...]
    met: tuple[ConditionStatus, ...]
    contradicted: tuple[ConditionStatus, ...]
    missing: tuple[ConditionStatus, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "condition": self.condition, "fired": self.fired, "sources": list(self.sources),
                "met": [c.to_dict() for c in self.met], "contradicted": [c.to_dict() for c in self.contradicted],
                "missing": [c.to_dict() for c in self.missing]}

    def missing_observations(self) -> set[str]:
        """Unanswered observations that stand in the way of this rule, nested findings included."""
        found: set[str] = set()
        for entry in self.missing:
            if entry.observation is not None:
                found.add(entry.observation)
            elif entry.detail is not None:
                for rule in entry.detail.rules:
                    found |= rule.missing_observations()
        return found


@dataclass(frozen=True)
class WhyNot:
    """Why a conclusion was (or was not) drawn: each of its rules read against the answers."""

    id: str
    kind: str
    label: str
    concluded: bool
    summary: str
    rules: tuple[RuleStatus, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "label": self.label, "concluded": self.concluded,
                "summary": self.summary, "rules": [r.to_dict() for r in self.rules]}


@dataclass(frozen=True)
class RuleUse:
    """An undecided rule that an answer to a question would feed, and what it could change."""

    rule: str
    kind: str
    conclusion: str
    condition: str
    sources: tuple[str, ...]
    effect: str
    label: str

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "kind": self.kind, "conclusion": self.conclusion, "condition": self.condition,
                "sources": list(self.sources), "effect": self.effect, "label": self.label}


@dataclass(frozen=True)
class WhyAsked:
    """Why a question matters now: the undecided rules its answer would feed."""

    observation: str
    question: str
    help: str
    summary: str
    rules: tuple[RuleUse, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"observation": self.observation, "question": self.question, "help": self.help,
                "summary": self.summary, "rules": [r.to_dict() for r in self.rules]}


def conclusion_kind(kb: KnowledgeBase, item_id: str) -> str:
    """The kind of conclusion ``item_id`` names; ``triage`` names the triage itself."""
    if not isinstance(item_id, str):
        raise UnknownIdError(f"a conclusion is named by its id (text), not {shown(item_id)}")
    if item_id == "triage":
        return "triage"
    kind = kb.kind_of(item_id)
    if kind is None:
        known = [item for kind in KINDS for item in kb.conclusions(kind)]
        raise UnknownIdError(f"{item_id!r} is not a finding, red flag, cause, advice or test of the knowledge base; "
                             + suggest(item_id, known))
    return kind


class Explainer:
    """Explanations for one case: its answers, the engine's run and the trace of that run."""

    def __init__(self, decider: Decider, case: Case, run: Run, trace: Trace):
        self.decider, self.kb, self.case, self.run, self.trace = decider, decider.kb, case, run, trace

    # ---------------------------------------------------------------------------------- how
    def how(self, item_id: str) -> Derivation | None:
        kind = conclusion_kind(self.kb, item_id)
        if kind == "triage":
            return self._triage()
        if kind == "cause":
            return self._cause(item_id)
        rule = self.kb.conclusion(kind, item_id).rules[0]
        if not self.run.fired(rule.id):
            return None
        return self._rule_node(rule, item_id, kind, self.kb.conclusion(kind, item_id).label)

    @cached_property
    def _observation_order(self) -> dict[str, int]:
        return {obs_id: i for i, obs_id in enumerate(self.kb.observations)}

    def _rule_node(self, rule: RuleDef, item_id: str | None, kind: str | None, label: str,
                   cf: float | None = None) -> Derivation:
        firing = self.run.by_rule[rule.id]
        order = self._observation_order
        facts = sorted(((i, output_value(self.kb.observations[i], v)) for i, v in firing.answers),
                       key=lambda fact: order[fact[0]])
        because = [node for node in (self._used(k, i) for k, i in firing.uses) if node is not None]
        because.sort(key=self._position)  # firing order depends on the order answers arrived
        return Derivation(item_id, kind, label, rule.id, describe(rule.when), rule.source_ids, tuple(facts),
                          tuple(self._not_reported(rule)), tuple(because), cf=cf)

    def _used(self, kind: str, item: str) -> Derivation | None:
        if kind == "triage":
            return self._triage()
        return self.how(item)

    def _position(self, node: Derivation) -> tuple[int, int]:
        """Where a conclusion stands in the knowledge base: kinds in layer order, then file order."""
        kinds = list(KINDS)
        if node.kind == "triage" or node.kind is None or node.id is None:
            return (len(kinds), 0)
        return (kinds.index(node.kind), list(self.kb.conclusions(node.kind)).index(node.id))

    def _not_reported(self, rule: RuleDef) -> list[str]:
        """Unanswered observations under an ``unless``: the rule held partly because they were not reported."""
        found: list[str] = []
        for leaf, polarity in leaves(rule.when):
            if isinstance(leaf, Is) and polarity.unless \
                    and leaf.observation not in self.case.answers and leaf.observation not in found:
                found.append(leaf.observation)
        return found

    def _cause(self, cause_id: str) -> Derivation | None:
        if cause_id not in self.run.scores:
            return None
        cause = self.kb.causes[cause_id]
        evidence = tuple(self._rule_node(rule, None, None, rule.label, rule.cf)
                         for rule in cause.evidence if self.run.fired(rule.id))
        return Derivation(cause_id, "cause", cause.label, SCORING_RULE, because=evidence,
                          score=round(self.run.scores[cause_id], 3))

    def _triage(self) -> Derivation:
        level = self.run.triage
        flags = [flag for flag in self.kb.red_flags.values() if flag.level == level and self.run.fired(flag.rule.id)]
        because = tuple(node for node in (self.how(flag.id) for flag in flags) if node is not None)
        return Derivation("triage", "triage", self.kb.triage_levels[level].label, AGGREGATE_RULE,
                          because=because, level=level)

    # ------------------------------------------------------------------------------ why not
    def why_not(self, item_id: str) -> WhyNot:
        kind = conclusion_kind(self.kb, item_id)
        if kind == "triage":
            raise UnknownIdError("the triage is always concluded; ask how it was reached instead")
        concluded = self.how(item_id) is not None
        rules = self.kb.conclusion(kind, item_id).rules
        if kind == "cause":
            rules = tuple(r for r in rules if r.cf > 0)
        statuses = tuple(self._rule_status(rule) for rule in rules)
        if concluded:
            summary = f"{item_id} was concluded; see `spasm explain CASE --how {item_id}`"
        else:
            missing = set().union(*(status.missing_observations() for status in statuses))
            ordered = [obs for obs in self.kb.observations if obs in missing]
            summary = f"no rule for {item_id} holds" + (f"; unanswered: {', '.join(ordered)}" if ordered else "")
        return WhyNot(item_id, kind, self.kb.conclusion(kind, item_id).label, concluded, summary, statuses)

    def _rule_status(self, rule: RuleDef) -> RuleStatus:
        met: list[ConditionStatus] = []
        contradicted: list[ConditionStatus] = []
        missing: list[ConditionStatus] = []
        answers = self.case.answers
        for leaf, polarity in leaves(rule.when):
            text = ("not " if polarity.negated else "") + describe(leaf)
            if isinstance(leaf, Is):
                if leaf.observation not in answers:  # only unless is satisfied by an unanswered question
                    (met if polarity.negated and polarity.unless else missing).append(
                        ConditionStatus(text, leaf.observation))
                    continue
                answer = output_value(self.kb.observations[leaf.observation], answers[leaf.observation])
                holds = leaf.holds(answers[leaf.observation])
                (met if holds != polarity.negated else contradicted).append(
                    ConditionStatus(text, leaf.observation, answer, answered=True))
                continue
            self._reference_status(leaf, polarity, text, met, contradicted, missing)
        return RuleStatus(rule.id, describe(rule.when), self.run.fired(rule.id), rule.source_ids,
                          tuple(met), tuple(contradicted), tuple(missing))

    def _reference_status(self, ref: Ref, polarity: Polarity, text: str, met: list[ConditionStatus],
                          contradicted: list[ConditionStatus], missing: list[ConditionStatus]) -> None:
        holds = self._reference_holds(ref)
        if not holds and not polarity.negated and ref.kind in KINDS and isinstance(ref.target, str):
            detail = self.why_not(ref.target)
            entry = ConditionStatus(text, reference=(ref.kind, ref.target), detail=detail)
            blocked = set().union(*(status.missing_observations() for status in detail.rules))
            (missing if blocked else contradicted).append(entry)
            return
        (met if holds != polarity.negated else contradicted).append(
            ConditionStatus(text, reference=(ref.kind, ref.target)))

    def _reference_holds(self, ref: Ref) -> bool:
        if ref.kind == "triage":
            return self.run.triage in ref.targets
        if ref.kind == "cause":
            score = self.run.scores.get(str(ref.target))
            return score is not None and (score > 0 if ref.min_score is None else score >= ref.min_score)
        return self.how(str(ref.target)) is not None

    # ---------------------------------------------------------------------------------- why
    def why(self, observation: str) -> WhyAsked:
        """Which undecided rules an answer to ``observation`` would feed."""
        if not isinstance(observation, str) or observation not in self.kb.observations:
            raise UnknownIdError(f"unknown observation {observation!r}; " + suggest(observation, list(self.kb.observations)))
        obs = self.kb.observations[observation]
        uses = []
        for item in pending_rules(self.decider, self.run.triage, self.case.skipped):
            if observation not in item.observations:
                continue
            rule = item.rule
            if item.effect == "cause":
                cause = self.kb.causes[rule.target]
                effect = f"evidence {'for' if rule.cf > 0 else 'against'} {cause.label} (cf {rule.cf:+g})"
                label = cause.label
            else:
                flag = self.kb.red_flags[rule.target]
                label = flag.label
                effect = {"triage": f"could raise the triage to {flag.level}",
                          "possible": f"could confirm or rule out this possible red flag ({flag.level})",
                          "advice": f"could raise this red flag ({flag.level}), which makes some advice unsafe",
                          "flag": f"could raise this red flag ({flag.level})",
                          }[item.effect]
            uses.append(RuleUse(rule.id, KINDS[rule.kind].rule_name, rule.target, describe(rule.when),
                                rule.source_ids, effect, label))
        answered = observation in self.case.answers
        summary = ("already answered" if answered else
                   f"the answer could change {len(uses)} rule{'s' if len(uses) != 1 else ''}" if uses else
                   "no undecided rule depends on it now")
        return WhyAsked(observation, obs.question, obs.help, summary, tuple(uses))


__all__ = ["ConditionStatus", "Derivation", "Explainer", "RuleStatus", "RuleUse", "Truth", "WhyAsked", "WhyNot"]
