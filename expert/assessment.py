"""The result of assessing a case: triage, red flags, ranked causes, advice and tests, each traced.

An :class:`Assessment` is built from one engine run. ``to_dict()`` is exactly the contract's JSON
(docs/contract.md section 4) plus a few documented extra fields; ``how``, ``why_not`` and ``why``
explain it. Everything is ordered by fixed keys, so the same case gives byte-identical JSON.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from .case import Case, output_value
from .engine import Run
from .facts import CauseScore, Finding, Obs, Triage
from .model import KnowledgeBase, urgency
from .relevance import Decider, pending_rules, ranked_questions


@dataclass(frozen=True)
class Support:
    """One fired rule behind a conclusion: the observations it rests on and where it comes from."""

    rule: str
    facts: tuple[tuple[str, Any], ...]  # (observation id, value), the rule's and its findings'
    findings: tuple[str, ...]
    sources: tuple[str, ...]
    cf: float | None = None

    def to_dict(self) -> dict:
        data: dict[str, Any] = {"rule": self.rule, "facts": [{"id": i, "value": v} for i, v in self.facts],
                                "sources": list(self.sources)}
        if self.findings:
            data["findings"] = list(self.findings)
        if self.cf is not None:
            data["cf"] = self.cf
        return data


@dataclass(frozen=True)
class TriageResult:
    level: str
    label: str
    meaning: str
    because: tuple[str, ...]

    def to_dict(self) -> dict:
        return {"level": self.level, "label": self.label, "because": list(self.because), "meaning": self.meaning}


@dataclass(frozen=True)
class RedFlagResult:
    id: str
    label: str
    level: str
    reason: str
    support: Support

    def to_dict(self) -> dict:
        data = {"id": self.id, "label": self.label, **self.support.to_dict()}
        data.update(level=self.level, reason=self.reason)
        return data


@dataclass(frozen=True)
class CauseResult:
    id: str
    label: str
    score: float
    supporting: tuple[Support, ...]
    opposing: tuple[Support, ...]

    def to_dict(self) -> dict:
        return {"id": self.id, "label": self.label, "score": self.score,
                "for": [s.to_dict() for s in self.supporting], "against": [s.to_dict() for s in self.opposing]}


@dataclass(frozen=True)
class ActionResult:
    """A piece of advice or a suggested test that applies to this case."""

    id: str
    text: str
    audience: str
    support: Support

    def to_dict(self) -> dict:
        return {"id": self.id, "text": self.text, "rule": self.support.rule, "sources": list(self.support.sources),
                "audience": self.audience, "facts": self.support.to_dict()["facts"]}


class Assessment:
    """What the knowledge base concludes about one case, with the means to explain it."""

    def __init__(self, kb: KnowledgeBase, case: Case, run: Run):
        self.kb, self.case, self.run = kb, case, run
        self._facts_of: dict[str, tuple[dict, set]] = {}
        fired = {f.rule for f in run.firings}
        self.triage = self._triage()
        self.red_flags = self._red_flags(fired)
        self.causes = self._causes(fired)
        self.advice = [self._action(a) for a in kb.advice.values() if a.rule.id in fired]
        self.tests = [self._action(t) for t in kb.tests.values() if t.rule.id in fired]
        decider = Decider(kb, case.answers)  # one per case: each condition is decided once
        self.unanswered = ranked_questions(decider, pending_rules(decider, self.triage.level, case.skipped))

    @property
    def knowledge_version(self) -> str:
        return self.kb.knowledge_version

    @property
    def disclaimer(self) -> str:
        return self.kb.disclaimer

    # --------------------------------------------------------------------------- building
    def _collect(self, rule_id: str) -> tuple[dict, set]:
        """Observations (id -> value) and findings a rule matched, through findings down to answers."""
        if rule_id not in self._facts_of:
            observations: dict[str, Any] = {}
            findings: set[str] = set()
            for firing in self.run.firings:
                if firing.rule != rule_id:
                    continue
                for fact in firing.facts:
                    if type(fact) is Obs:
                        observations[fact["id"]] = fact["value"]
                    elif type(fact) is Finding:
                        findings.add(fact["id"])
                        more, deeper = self._collect(self.kb.findings[fact["id"]].rule.id)
                        observations.update(more)
                        findings |= deeper
                    elif type(fact) is CauseScore:
                        for support in next(c for c in self.causes if c.id == fact["id"]).supporting:
                            observations.update(support.facts)
            self._facts_of[rule_id] = (observations, findings)
        return self._facts_of[rule_id]

    def _support(self, rule_id: str) -> Support:
        rule = self.kb.rules[rule_id]
        observations, findings = self._collect(rule_id)
        facts = tuple((o.id, output_value(o, observations[o.id])) for o in self.kb.observations.values()
                      if o.id in observations)
        return Support(rule_id, facts, tuple(f for f in self.kb.findings if f in findings), rule.source_ids,
                       rule.cf if rule.kind == "evidence" else None)

    def _triage(self) -> TriageResult:
        level = next(f["level"] for f in self.run.facts if type(f) is Triage)
        because = tuple(flag.rule.id for flag in self.kb.red_flags.values()
                        if flag.level == level and any(f.rule == flag.rule.id for f in self.run.firings))
        info = self.kb.triage_levels[level]
        return TriageResult(level, info.label, info.meaning, because)

    def _red_flags(self, fired: set[str]) -> list[RedFlagResult]:
        flags = [RedFlagResult(f.id, f.label, f.level, f.reason, self._support(f.rule.id))
                 for f in self.kb.red_flags.values() if f.rule.id in fired]
        return sorted(flags, key=lambda f: -urgency(f.level))  # stable: knowledge order within a level

    def _causes(self, fired: set[str]) -> list[CauseResult]:
        scores = {f["id"]: f["score"] for f in self.run.facts if type(f) is CauseScore}
        causes = []
        for cause in self.kb.causes.values():
            supporting = tuple(self._support(r.id) for r in cause.supporting if r.id in fired)
            if supporting:
                opposing = tuple(self._support(r.id) for r in cause.opposing if r.id in fired)
                causes.append(CauseResult(cause.id, cause.label, round(scores[cause.id], 3), supporting, opposing))
        order = list(self.kb.causes)
        return sorted(causes, key=lambda c: (-c.score, order.index(c.id)))

    def _action(self, action) -> ActionResult:
        return ActionResult(action.id, action.text, action.audience, self._support(action.rule.id))

    # ------------------------------------------------------------------------------ output
    def to_dict(self, explain: bool = False) -> dict:
        """The contract's assessment (docs/contract.md section 4); ``explain`` adds derivation trees."""
        data: dict[str, Any] = {
            "triage": self.triage.to_dict(),
            "red_flags": [f.to_dict() for f in self.red_flags],
            "causes": [c.to_dict() for c in self.causes],
            "advice": [a.to_dict() for a in self.advice],
            "tests": [t.to_dict() for t in self.tests],
            "unanswered": list(self.unanswered),
            "knowledge_version": self.knowledge_version,
            "disclaimer": self.disclaimer,
        }
        if explain:
            data["explanations"] = self.explanations()
        return data

    def to_json(self, explain: bool = False, indent: int | None = 2) -> str:
        separators = (",", ": ") if indent else (",", ":")
        return json.dumps(self.to_dict(explain), ensure_ascii=False, indent=indent, separators=separators)

    def explanations(self) -> dict:
        """Derivation trees of the triage and of every conclusion, keyed by id."""
        trees = {"triage": self.how("triage")}
        for item in (*self.red_flags, *self.causes, *self.advice, *self.tests):
            trees[item.id] = self.how(item.id)
        return trees

    # -------------------------------------------------------------------------- explaining
    @cached_property
    def _explainer(self):
        from .explain import Explainer
        return Explainer(self)

    def how(self, conclusion: str) -> dict | None:
        """The derivation tree of a conclusion down to the observations; None if it was not concluded."""
        return self._explainer.how(conclusion)

    def why_not(self, conclusion: str) -> dict:
        """For a cause, red flag, finding, advice or test: which conditions were missing or contradicted."""
        return self._explainer.why_not(conclusion)

    def why(self, observation: str) -> dict:
        """Which undecided rules an answer to this observation would feed."""
        return self._explainer.why(observation)
