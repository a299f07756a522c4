"""The validated knowledge base: plain, immutable data built from the YAML files.

Nothing here knows about Experta; the compiler turns these objects into engine rules.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator, Union

from .conditions import Condition

#: The triage levels of the contract, most urgent first.
TRIAGE_LEVELS = ("emergency", "urgent", "routine", "self_care")
OBSERVATION_TYPES = ("bool", "enum", "set", "number")


def urgency(level: str) -> int:
    """Larger is more urgent: self_care 0 ... emergency 3."""
    return len(TRIAGE_LEVELS) - 1 - TRIAGE_LEVELS.index(level)


@dataclass(frozen=True)
class Source:
    id: str
    title: str
    publisher: str
    kind: str = "document"  # "document", or "general" for general clinical knowledge
    file: str | None = None
    note: str = ""


@dataclass(frozen=True)
class Citation:
    source: str
    section: str | None = None


@dataclass(frozen=True)
class Choice:
    """An allowed answer: a value id (True / False for yes-no questions) and its label."""

    id: str | bool
    label: str


@dataclass(frozen=True)
class Observation:
    """One thing a clinician can be asked about: the vocabulary of cases and rules."""

    id: str
    type: str
    label: str
    question: str
    help: str = ""
    group: str = ""
    choices: tuple[Choice, ...] = ()
    minimum: float = 0
    maximum: float | None = None
    unit: str = ""
    ask_when: Condition | None = None
    top_level: bool = False  # written at the top of a case (age, sex), not under answers

    @property
    def values(self) -> tuple[str, ...]:
        """The allowed value ids of an enum or set observation."""
        return tuple(c.id for c in self.choices) if self.type in ("enum", "set") else ()


@dataclass(frozen=True)
class RuleDef:
    """A rule as data: when ``when`` holds, ``kind`` conclusion ``target`` is drawn."""

    id: str
    kind: str
    target: str
    when: Condition
    sources: tuple[Citation, ...]
    cf: float = 0.0  # evidence rules only: > 0 supports the cause, < 0 opposes it
    label: str = ""
    note: str = ""
    provenance: str = ""
    file: str | None = None
    line: int | None = None

    @property
    def source_ids(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(c.source for c in self.sources))


@dataclass(frozen=True)
class Finding:
    """A derived finding: a named combination of observations other rules can refer to."""

    id: str
    label: str
    rule: RuleDef
    description: str = ""


@dataclass(frozen=True)
class Cause:
    id: str
    label: str
    description: str
    sources: tuple[Citation, ...]
    evidence: tuple[RuleDef, ...]
    provenance: str = ""

    @property
    def supporting(self) -> tuple[RuleDef, ...]:
        return tuple(r for r in self.evidence if r.cf > 0)

    @property
    def opposing(self) -> tuple[RuleDef, ...]:
        return tuple(r for r in self.evidence if r.cf < 0)


@dataclass(frozen=True)
class RedFlag:
    id: str
    label: str
    level: str
    reason: str
    rule: RuleDef


@dataclass(frozen=True)
class Action:
    """A piece of advice or a suggested test, with who it is written for."""

    id: str
    kind: str  # "advice" or "test"
    text: str
    audience: str  # "person" or "clinician"
    rule: RuleDef


@dataclass(frozen=True)
class TriageLevel:
    id: str
    label: str
    meaning: str


Item = Union[Observation, Finding, Cause, RedFlag, Action, Source]


@dataclass
class KnowledgeBase:
    """Everything the engine knows, validated; ``rules`` lists every rule in file order."""

    name: str
    version: str
    digest: str
    disclaimer: str
    triage_levels: dict[str, TriageLevel]
    sources: dict[str, Source]
    observations: dict[str, Observation]
    findings: dict[str, Finding]
    causes: dict[str, Cause]
    red_flags: dict[str, RedFlag]
    advice: dict[str, Action]
    tests: dict[str, Action]
    files: tuple[str, ...] = ()
    rules: dict[str, RuleDef] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.rules:
            self.rules = {r.id: r for r in self.iter_rules()}

    @property
    def knowledge_version(self) -> str:
        return f"{self.version}+{self.digest[:12]}"

    def iter_rules(self) -> Iterator[RuleDef]:
        for finding in self.findings.values():
            yield finding.rule
        for flag in self.red_flags.values():
            yield flag.rule
        for cause in self.causes.values():
            yield from cause.evidence
        for action in (*self.advice.values(), *self.tests.values()):
            yield action.rule

    def conclusions(self, kind: str) -> dict:
        """The findings, red flags, causes, advice or tests, by kind (``finding``, ``red_flag``, ...)."""
        return {"finding": self.findings, "red_flag": self.red_flags, "cause": self.causes,
                "advice": self.advice, "test": self.tests}[kind]

    def item(self, item_id: str) -> Item | None:
        """The observation, finding, cause, red flag, advice, test or source with this id."""
        for table in (self.observations, self.findings, self.causes, self.red_flags, self.advice,
                      self.tests, self.sources):
            if item_id in table:
                return table[item_id]  # type: ignore[return-value]
        return None
