"""The result of assessing a case: triage, red flags, ranked causes, advice and tests, each traced.

An :class:`Assessment` is built from one engine :class:`~expert.trace.Run` (plain data).
``to_dict()`` is exactly the contract's JSON (docs/contract.md section 4) plus a few documented
extra fields; ``how``, ``why_not`` and ``why`` explain it. Everything is ordered by fixed keys, so
the same case gives byte-identical JSON.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from .case import Case, output_value
from .decider import Logic
from .explain import Derivation, Explainer, WhyAsked, WhyNot
from .model import CONFIRMED, POSSIBLE, Action, KnowledgeBase, RedFlag
from .relevance import Relevance, relevance
from .scoring import leading, ranked
from .trace import Run, Trace


@dataclass(frozen=True)
class Support:
    """One fired rule behind a conclusion: the observations it rests on and where it comes from."""

    rule: str
    facts: tuple[tuple[str, Any], ...]  # (observation id, value), the rule's and its findings'
    findings: tuple[str, ...]
    sources: tuple[str, ...]
    cf: float | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"rule": self.rule, "facts": [{"id": i, "value": v} for i, v in self.facts],
                                "sources": list(self.sources)}
        if self.findings:
            data["findings"] = list(self.findings)
        if self.cf is not None:
            data["cf"] = self.cf
        return data


@dataclass(frozen=True)
class TriageResult:
    """The triage level, the red flags that set it, and how far unanswered questions could raise it.

    ``provisional`` when only possible red flags set the level; ``could_rise_to`` is the most urgent
    level answers to ``questions`` could still reach, when above ``level``.
    """

    level: str
    label: str
    meaning: str
    because: tuple[str, ...]
    provisional: bool = False
    could_rise_to: str | None = None
    questions: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"level": self.level, "label": self.label, "because": list(self.because),
                                "meaning": self.meaning, "provisional": self.provisional}
        if self.could_rise_to is not None:
            data.update(could_rise_to=self.could_rise_to, questions=list(self.questions))
        return data


@dataclass(frozen=True)
class RedFlagResult:
    """A red flag raised: ``confirmed`` by the answers, or ``possible`` while the ``pending``
    questions (which could rule it out) are unanswered; either way it counts towards the triage."""

    id: str
    label: str
    level: str
    reason: str
    support: Support
    status: str = CONFIRMED
    pending: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        data = {"id": self.id, "label": self.label, **self.support.to_dict()}
        data.update(level=self.level, reason=self.reason, status=self.status, pending=list(self.pending))
        return data


@dataclass(frozen=True)
class CauseResult:
    id: str
    label: str
    score: float
    supporting: tuple[Support, ...]
    opposing: tuple[Support, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "label": self.label, "score": self.score,
                "for": [s.to_dict() for s in self.supporting], "against": [s.to_dict() for s in self.opposing]}


@dataclass(frozen=True)
class ActionResult:
    """A piece of advice or a suggested test that applies to this case."""

    id: str
    text: str
    audience: str
    support: Support

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "text": self.text, "rule": self.support.rule, "sources": list(self.support.sources),
                "audience": self.audience, "facts": [{"id": i, "value": v} for i, v in self.support.facts]}


def contract_json(data: dict[str, Any], indent: int | None = 2) -> str:
    """The JSON text of :meth:`Assessment.to_dict`'s result, as every output of an assessment writes it."""
    separators = (",", ": ") if indent else (",", ":")
    return json.dumps(data, ensure_ascii=False, indent=indent, separators=separators,
                      check_circular=False)  # plain trees built here: no cycle to look for


class Assessment:
    """What the knowledge base concludes about one case, with the means to explain it."""

    def __init__(self, logic: Logic, case: Case, run: Run):
        self.kb: KnowledgeBase = logic.kb
        self.logic = logic
        self.case, self.run = case, run
        self.trace = Trace(self.kb, run)
        self.decider = logic.decider(case.answers, run)  # reuses what the run decided
        kb, fired = self.kb, run.by_rule
        self.red_flags = sorted((self._red_flag(flag) for flag in kb.red_flags.values() if flag.rule.id in fired),
                                key=lambda f: -kb.urgency(f.level))  # stable: knowledge order within a level
        # 'unknown' means the same as leaving an answer out (docs/contract.md): a question answered
        # that way could still raise the triage, and the result says so
        open_questions = relevance(self.decider, run.triage)
        self.unanswered = open_questions.questions
        self.triage = self._triage(open_questions)
        self.causes = self._causes()
        self.advice = [self._action(a) for a in kb.advice.values() if a.rule.id in fired]
        self.tests = [self._action(t) for t in kb.tests.values() if t.rule.id in fired]

    @property
    def knowledge_version(self) -> str:
        return self.kb.knowledge_version

    @property
    def disclaimer(self) -> str:
        return self.kb.disclaimer

    # --------------------------------------------------------------------------- building
    def _support(self, rule_id: str) -> Support:
        rule = self.kb.rules[rule_id]
        grounds = self.trace.grounds(rule_id)
        facts = tuple((obs_id, output_value(self.kb.observations[obs_id], value)) for obs_id, value in grounds.answers)
        return Support(rule_id, facts, grounds.findings, rule.source_ids, rule.cf if rule.is_evidence else None)

    def _red_flag(self, flag: RedFlag) -> RedFlagResult:
        support = self._support(flag.rule.id)
        if not self.run.by_rule[flag.rule.id].possible:
            return RedFlagResult(flag.id, flag.label, flag.level, flag.reason, support)
        return RedFlagResult(flag.id, flag.label, flag.level, flag.reason, support, POSSIBLE,
                             tuple(self.decider.pending(flag.rule)))

    def _triage(self, open_questions: Relevance) -> TriageResult:
        level = self.run.triage
        setting = [flag for flag in self.red_flags if flag.level == level]
        info = self.kb.triage_levels[level]
        return TriageResult(level, info.label, info.meaning, tuple(f.support.rule for f in setting),
                            provisional=bool(setting) and all(f.status == POSSIBLE for f in setting),
                            could_rise_to=open_questions.could_rise_to, questions=tuple(open_questions.raising))

    def _causes(self) -> list[CauseResult]:
        causes, fired = [], self.run.by_rule
        for cause_id in ranked(self.run.scores, self.logic.cause_order):
            cause = self.kb.causes[cause_id]
            supporting = tuple(self._support(r.id) for r in cause.supporting if r.id in fired)
            opposing = tuple(self._support(r.id) for r in cause.opposing if r.id in fired)
            causes.append(CauseResult(cause.id, cause.label, round(self.run.scores[cause.id], 3), supporting, opposing))
        return causes

    def leading_causes(self) -> list[CauseResult]:
        """The causes the evidence clearly favours, at most three: what a summary shows as likely."""
        return [cause for cause in self.causes if cause.id in leading(self.run.scores, self.logic.cause_order)]

    def _action(self, action: Action) -> ActionResult:
        return ActionResult(action.id, action.text, action.audience, self._support(action.rule.id))

    # ------------------------------------------------------------------------------ output
    def to_dict(self, explain: bool = False) -> dict[str, Any]:
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
            data["explanations"] = {key: tree.to_dict() for key, tree in self.explanations().items()}
        return data

    def to_json(self, explain: bool = False, indent: int | None = 2) -> str:
        return contract_json(self.to_dict(explain), indent)

    def explanations(self) -> dict[str, Derivation]:
        """Derivation trees of the triage and of every conclusion, keyed by id."""
        trees: dict[str, Derivation] = {}
        listed: list[RedFlagResult | CauseResult | ActionResult] = [*self.red_flags, *self.causes, *self.advice,
                                                                     *self.tests]
        for item_id in ("triage", *(item.id for item in listed)):
            tree = self.how(item_id)
            assert tree is not None  # every listed conclusion was drawn
            trees[item_id] = tree
        return trees

    # -------------------------------------------------------------------------- explaining
    @cached_property
    def _explainer(self) -> Explainer:
        return Explainer(self.decider, self.case, self.run, self.trace)

    def how(self, conclusion: str) -> Derivation | None:
        """The derivation tree of a conclusion down to the observations; None if it was not concluded."""
        return self._explainer.how(conclusion)

    def why_not(self, conclusion: str) -> WhyNot:
        """For a cause, red flag, finding, advice or test: which conditions were missing or contradicted."""
        return self._explainer.why_not(conclusion)

    def why(self, observation: str) -> WhyAsked:
        """Which undecided rules an answer to this observation would feed."""
        return self._explainer.why(observation)
