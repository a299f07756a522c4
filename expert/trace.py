"""What one engine run concluded, as plain data, and the trace of each conclusion to the answers.

The engine (``engine.py``) is the only producer of a :class:`Run` in normal use; the reference
evaluator in ``decider.py`` produces the same from three-valued logic, to check the engine and to
measure it against. :class:`Trace` follows each fired rule through the findings and causes it used
down to the answers, once per rule, for the assessment and its explanations alike.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Mapping

from .model import KnowledgeBase

#: The firing that scores the causes and sets the triage, once all red flags and evidence are in.
AGGREGATE_RULE = "engine.aggregate"


@dataclass(frozen=True)
class Firing:
    """One rule that fired: the answers it matched and the conclusions it used.

    ``uses`` names the conclusions the rule's condition matched, as (kind, id) pairs: findings,
    red flags, causes, and ``("triage", level)``.
    """

    rule: str
    answers: tuple[tuple[str, Any], ...] = ()
    uses: tuple[tuple[str, str], ...] = ()
    #: a finding or red flag that holds only while an exclusion is unanswered
    possible: bool = False

    @property
    def findings(self) -> tuple[str, ...]:
        return tuple(item for kind, item in self.uses if kind == "finding")


@dataclass(frozen=True)
class Run:
    """Every rule that fired (each once, in firing order), the cause scores and the triage level."""

    firings: tuple[Firing, ...]
    scores: Mapping[str, float] = field(default_factory=dict)
    triage: str = ""

    @cached_property
    def by_rule(self) -> dict[str, Firing]:
        return {firing.rule: firing for firing in self.firings}

    def fired(self, rule_id: str) -> bool:
        return rule_id in self.by_rule


@dataclass(frozen=True)
class Grounds:
    """Everything a fired rule rests on: answers (in vocabulary order) and findings (in file order)."""

    answers: tuple[tuple[str, Any], ...]
    findings: tuple[str, ...]


class Trace:
    """The grounds of every fired rule, followed through findings and causes, computed once each."""

    def __init__(self, kb: KnowledgeBase, run: Run):
        self.kb, self.run = kb, run
        self._grounds: dict[str, tuple[dict[str, Any], set[str]]] = {}

    def grounds(self, rule_id: str) -> Grounds:
        answers, findings = self._collect(rule_id)
        order = self.kb.observation_order
        return Grounds(tuple(sorted(answers.items(), key=lambda item: order[item[0]])),
                       tuple(sorted(findings, key=self.kb.finding_order.__getitem__)) if findings else ())

    def _collect(self, rule_id: str) -> tuple[dict[str, Any], set[str]]:
        if rule_id not in self._grounds:
            firing = self.run.by_rule.get(rule_id)
            answers: dict[str, Any] = dict(firing.answers) if firing else {}
            findings: set[str] = set()
            for kind, item in firing.uses if firing else ():
                if kind == "finding":
                    findings.add(item)
                    more, deeper = self._collect(self.kb.findings[item].rule.id)
                    answers.update(more)
                    findings |= deeper
                elif kind == "cause":  # a cause rests on the answers of its supporting evidence
                    for rule in self.kb.causes[item].supporting:
                        if self.run.fired(rule.id):
                            answers.update(self._collect(rule.id)[0])
            self._grounds[rule_id] = (answers, findings)
        return self._grounds[rule_id]
