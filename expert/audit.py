"""Auditing a knowledge base: lint warnings, contract conformance, and source coverage.

Loading already refuses anything invalid; these checks find what is valid but suspect (an
observation no rule uses, a source nobody cites, support resting only on unreported answers)
and list, per source, every item that cites it, so a clinician can audit provenance.
"""
from __future__ import annotations

from dataclasses import dataclass

from .conditions import Is, leaves, observations_in, references_in
from .contract import CORE_CAUSES, CORE_OBSERVATIONS, TOP_LEVEL, TRIAGE_LEVELS
from .model import KINDS, KnowledgeBase, RuleDef


@dataclass(frozen=True)
class LintWarning:
    """Something valid but suspect, with where it is."""

    code: str
    message: str
    where: str = ""

    def __str__(self) -> str:
        return f"{self.where + ': ' if self.where else ''}{self.message} [{self.code}]"


def _where(rule: RuleDef) -> str:
    return f"{rule.file}:{rule.line}" if rule.file else rule.id


def contract_problems(kb: KnowledgeBase) -> list[LintWarning]:
    """Differences between the knowledge base and the contract's fixed vocabulary."""
    found = []
    for obs_id, (kind, values) in {**CORE_OBSERVATIONS, **TOP_LEVEL}.items():
        obs = kb.observations.get(obs_id)
        if obs is None:
            found.append(LintWarning("contract", f"core observation {obs_id!r} is missing"))
        elif obs.type != kind or not set(values) <= set(obs.values) or obs.top_level != (obs_id in TOP_LEVEL):
            found.append(LintWarning("contract", f"core observation {obs_id!r} differs from the contract "
                                              f"(type {kind}, values {', '.join(values) or '-'})"))
    for cause in CORE_CAUSES:
        if cause not in kb.causes:
            found.append(LintWarning("contract", f"core cause {cause!r} is missing"))
    if tuple(kb.triage_levels) != TRIAGE_LEVELS:
        found.append(LintWarning("contract", "triage levels differ from the contract's "
                                             f"({', '.join(TRIAGE_LEVELS)}, most urgent first)"))
    return found


def lint(kb: KnowledgeBase) -> list[LintWarning]:
    """Warnings about a valid knowledge base, contract differences first."""
    found = contract_problems(kb)
    used = {o for rule in kb.rules.values() for o in observations_in(rule.when)}
    used |= {o for obs in kb.observations.values() if obs.ask_when for o in observations_in(obs.ask_when)}
    for obs in kb.observations.values():
        if obs.id not in used:
            found.append(LintWarning("unused-observation", f"observation {obs.id!r} is used by no rule"))
    referenced = {r.target for rule in kb.rules.values() for r in references_in(rule.when) if r.kind == "finding"}
    for finding in kb.findings.values():
        if finding.id not in referenced:
            found.append(LintWarning("unused-finding", f"finding {finding.id!r} is used by no rule",
                                  _where(finding.rule)))
    cited = {c.source for rule in kb.rules.values() for c in rule.sources}
    cited |= {c.source for cause in kb.causes.values() for c in cause.sources}
    for source in kb.sources:
        if source not in cited:
            found.append(LintWarning("uncited-source", f"source {source!r} is cited by nothing"))
    for cause in kb.causes.values():
        for rule in cause.supporting:
            positive = [leaf for leaf, polarity in leaves(rule.when) if isinstance(leaf, Is) and not polarity.negated]
            if not positive and not any(references_in(rule.when)):
                found.append(LintWarning("support-from-absence", f"{rule.id} supports {cause.id} only through "
                                                              "answers that were not reported", _where(rule)))
    return found


def coverage(kb: KnowledgeBase) -> dict[str, dict[str, list[str]]]:
    """For each source: the ids of the findings, red flags, causes, evidence, advice and tests citing it."""
    table: dict[str, dict[str, list[str]]] = {s: {} for s in kb.sources}

    def add(source: str, kind: str, item: str) -> None:
        items = table[source].setdefault(kind, [])
        if item not in items:
            items.append(item)

    for cause in kb.causes.values():
        for citation in cause.sources:
            add(citation.source, "cause", cause.id)
    for rule in kb.rules.values():
        kind = KINDS[rule.kind].rule_name
        for citation in rule.sources:
            add(citation.source, kind, rule.id if rule.is_evidence else rule.target)
    return table
