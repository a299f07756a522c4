"""Explanations as plain data: how a conclusion was reached, why another was not, why a question matters.

``how`` walks the engine's record of firings down from a conclusion to the observations;
``why_not`` reads a rule's condition against the answers to show which parts were met, which
were contradicted by an answer and which are still missing; ``why`` lists the undecided rules
an answer to a question would feed.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .case import output_value
from .conditions import AllOf, AnyOf, Condition, Count, Is, Not, Ref, Unless, describe
from .engine import AGGREGATE_RULE, Firing
from .errors import UnknownIdError
from .facts import CauseScore, Finding, Obs, RedFlag, Triage
from .model import KnowledgeBase, RuleDef
from .relevance import Decider, pending_rules

if TYPE_CHECKING:  # pragma: no cover
    from .assessment import Assessment

CONCLUSION_KINDS = ("finding", "red_flag", "cause", "advice", "test")


def conclusion_kind(kb: KnowledgeBase, item_id: str) -> str:
    """The kind of conclusion ``item_id`` names; ``triage`` names the triage itself."""
    if item_id == "triage":
        return "triage"
    for kind in CONCLUSION_KINDS:
        if item_id in kb.conclusions(kind):
            return kind
    from .conditions import suggest
    known = [item for kind in CONCLUSION_KINDS for item in kb.conclusions(kind)]
    raise UnknownIdError(f"{item_id!r} is not a finding, red flag, cause, advice or test of the knowledge base; "
                         + suggest(item_id, known))


def _sources(rule: RuleDef) -> list[str]:
    return list(rule.source_ids)


def _rules_for(kb: KnowledgeBase, kind: str, item_id: str) -> list[RuleDef]:
    if kind == "cause":
        return list(kb.causes[item_id].evidence)
    return [kb.conclusions(kind)[item_id].rule]


def _not_reported(condition: Condition, answers: dict) -> list[str]:
    """Unanswered observations under an ``unless``: the rule held partly because they were not reported."""
    found: list[str] = []

    def walk(node: Condition, negated: bool) -> None:
        if isinstance(node, Is) and negated and node.observation not in answers and node.observation not in found:
            found.append(node.observation)
        for child in node.children():
            walk(child, negated or isinstance(node, Unless))
    walk(condition, False)
    return found


def _missing_observations(rule_statuses: list[dict]) -> set[str]:
    """Unanswered observations that stand in the way of any of these rules, nested findings included."""
    found: set[str] = set()
    for status in rule_statuses:
        for entry in status["missing"]:
            if "observation" in entry:
                found.add(entry["observation"])
            else:
                found |= _missing_observations(entry["detail"]["rules"])
    return found


class Explainer:
    """Explanations for one assessment."""

    def __init__(self, assessment: "Assessment"):
        self.a = assessment
        self.kb = assessment.kb
        self.firings: dict[str, list[Firing]] = {}
        for firing in assessment.run.firings:
            self.firings.setdefault(firing.rule, []).append(firing)

    # ---------------------------------------------------------------------------------- how
    def how(self, item_id: str) -> dict | None:
        kind = conclusion_kind(self.kb, item_id)
        if kind == "triage":
            return self._triage()
        if kind == "cause":
            return self._cause(item_id)
        rule = _rules_for(self.kb, kind, item_id)[0]
        if rule.id not in self.firings:
            return None
        return {"id": item_id, "kind": kind, "label": self._label(kind, item_id), **self._rule_node(rule)}

    def _label(self, kind: str, item_id: str) -> str:
        item = self.kb.item(item_id) if kind != "triage" else None
        return getattr(item, "label", "") or getattr(item, "text", "")

    def _rule_node(self, rule: RuleDef) -> dict:
        facts: list[dict] = []
        because: list[dict] = []
        seen: set = set()
        for firing in self.firings.get(rule.id, []):
            for fact in firing.facts:
                key = (type(fact).__name__, fact.get("id", fact.get("level")))
                if key in seen:
                    continue
                seen.add(key)
                if type(fact) is Obs:
                    obs = self.kb.observations[fact["id"]]
                    facts.append({"id": obs.id, "value": output_value(obs, fact["value"])})
                else:
                    child = self._fact_node(fact)
                    if child:
                        because.append(child)
        order = list(self.kb.observations)
        facts.sort(key=lambda fact: order.index(fact["id"]))
        because.sort(key=self._position)  # firing order depends on the order answers arrived
        node: dict[str, Any] = {"rule": rule.id, "condition": describe(rule.when), "sources": _sources(rule),
                                "facts": facts}
        missing = _not_reported(rule.when, dict(self.a.case.answers))
        if missing:
            node["not_reported"] = missing
        if because:
            node["because"] = because
        return node

    def _position(self, node: dict) -> tuple[int, int]:
        """Where a conclusion stands in the knowledge base: kinds in layer order, then file order."""
        if node["kind"] == "triage":
            return (len(CONCLUSION_KINDS), 0)
        return (CONCLUSION_KINDS.index(node["kind"]), list(self.kb.conclusions(node["kind"])).index(node["id"]))

    def _fact_node(self, fact) -> dict | None:
        if type(fact) is Finding:
            return self.how(fact["id"])
        if type(fact) is RedFlag:
            return self.how(fact["id"])
        if type(fact) is CauseScore:
            return self._cause(fact["id"])
        if type(fact) is Triage:
            return self._triage()
        return None  # pragma: no cover - no other kind of fact is bound

    def _cause(self, cause_id: str) -> dict | None:
        listed = {c.id: c for c in self.a.causes}
        if cause_id not in listed:
            return None
        cause = self.kb.causes[cause_id]
        evidence = [{"label": rule.label, "cf": rule.cf, **self._rule_node(rule)}
                    for rule in cause.evidence if rule.id in self.firings]
        return {"id": cause_id, "kind": "cause", "label": cause.label, "score": listed[cause_id].score,
                "rule": "scoring: certainty factors combined (see README)", "because": evidence}

    def _triage(self) -> dict:
        triage = self.a.triage
        return {"id": "triage", "kind": "triage", "label": triage.label, "level": triage.level,
                "rule": AGGREGATE_RULE, "because": [self.how(flag.id) for flag in self.a.red_flags
                                                    if flag.level == triage.level]}

    # ------------------------------------------------------------------------------ why not
    def why_not(self, item_id: str) -> dict:
        kind = conclusion_kind(self.kb, item_id)
        if kind == "triage":
            raise UnknownIdError("the triage is always concluded; ask how it was reached instead")
        concluded = self.how(item_id) is not None
        rules = _rules_for(self.kb, kind, item_id)
        if kind == "cause":
            rules = [r for r in rules if r.cf > 0]
        result: dict[str, Any] = {"id": item_id, "kind": kind, "label": self._label(kind, item_id),
                                  "concluded": concluded}
        if concluded:
            result["summary"] = f"{item_id} was concluded; see how({item_id!r})"
        result["rules"] = [self._rule_status(rule) for rule in rules]
        if not concluded:
            missing = sorted(_missing_observations(result["rules"]), key=list(self.kb.observations).index)
            result["summary"] = (f"no rule for {item_id} holds"
                                 + (f"; unanswered: {', '.join(missing)}" if missing else ""))
        return result

    def _rule_status(self, rule: RuleDef) -> dict:
        met: list[dict] = []
        contradicted: list[dict] = []
        missing: list[dict] = []
        answers = self.a.case.answers

        def visit(node: Condition, negated: bool, silence_meets: bool = False) -> None:
            if isinstance(node, (AllOf, AnyOf, Count, Not, Unless)):
                for child in node.children():
                    visit(child, negated ^ isinstance(node, (Not, Unless)), silence_meets or isinstance(node, Unless))
                return
            text = ("not " if negated else "") + describe(node)
            if isinstance(node, Is):
                entry: dict[str, Any] = {"condition": text, "observation": node.observation}
                if node.observation not in answers:  # only unless is satisfied by an unanswered question
                    (met if negated and silence_meets else missing).append(entry)
                    return
                obs = self.kb.observations[node.observation]
                entry["answer"] = output_value(obs, answers[node.observation])
                (met if node.holds(answers[node.observation]) != negated else contradicted).append(entry)
                return
            assert isinstance(node, Ref)
            holds = self._reference_holds(node)
            entry = {"condition": text, node.kind: node.target}
            if not holds and not negated and node.kind in CONCLUSION_KINDS and isinstance(node.target, str):
                entry["detail"] = self.why_not(node.target)
                (missing if _missing_observations(entry["detail"]["rules"]) else contradicted).append(entry)
                return
            (met if holds != negated else contradicted).append(entry)

        visit(rule.when, False)
        fired = rule.id in self.firings
        return {"rule": rule.id, "condition": describe(rule.when), "fired": fired, "sources": _sources(rule),
                "met": met, "contradicted": contradicted, "missing": missing}

    def _reference_holds(self, ref: Ref) -> bool:
        if ref.kind == "triage":
            return self.a.triage.level in ref.target
        if ref.kind == "cause":
            listed = {c.id: c.score for c in self.a.causes}
            score = listed.get(str(ref.target))
            return score is not None and (score > 0 if ref.min_score is None else score >= ref.min_score)
        return self.how(str(ref.target)) is not None

    # ---------------------------------------------------------------------------------- why
    def why(self, observation: str) -> dict:
        """Which undecided rules an answer to ``observation`` would feed."""
        if observation not in self.kb.observations:
            from .conditions import suggest
            raise UnknownIdError(f"unknown observation {observation!r}; " + suggest(observation, list(self.kb.observations)))
        obs = self.kb.observations[observation]
        pending = pending_rules(Decider(self.kb, self.a.case.answers), self.a.triage.level, self.a.case.skipped)
        uses = []
        for item in pending:
            if observation not in item.observations:
                continue
            rule = item.rule
            entry: dict[str, Any] = {"rule": rule.id, "kind": rule.kind, "conclusion": rule.target,
                                     "condition": describe(rule.when), "sources": _sources(rule)}
            if item.effect == "triage":
                flag = self.kb.red_flags[rule.target]
                entry["effect"] = f"could raise the triage to {flag.level}"
                entry["label"] = flag.label
            else:
                cause = self.kb.causes[rule.target]
                entry["effect"] = f"evidence {'for' if rule.cf > 0 else 'against'} {cause.label} (cf {rule.cf:+g})"
                entry["label"] = cause.label
            uses.append(entry)
        answered = observation in self.a.case.answers
        summary = ("already answered" if answered else
                   f"the answer could change {len(uses)} rule{'s' if len(uses) != 1 else ''}" if uses else
                   "no undecided rule depends on it now")
        return {"observation": observation, "question": obs.question, "help": obs.help, "summary": summary,
                "rules": uses}
