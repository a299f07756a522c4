"""The validated knowledge base: plain, immutable data built from the YAML files.

Nothing here knows about Experta; the compiler turns these objects into engine rules. The
kinds of conclusion the knowledge base draws are defined once, in :data:`KINDS`: every other
module (loader, compiler, engine, explanations, reports) reads them from there.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Iterable, Union

from .conditions import Condition

OBSERVATION_TYPES = ("bool", "enum", "set", "number")


@dataclass(frozen=True)
class Source:
    id: str
    title: str
    publisher: str
    kind: str = "document"  # "document", or "general" for knowledge from outside the documents
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
    #: an interview refuses a typed number above this as a likely slip (a case may still hold more)
    plausible_maximum: float | None = None
    unit: str = ""
    ask_when: Condition | None = None
    top_level: bool = False  # written at the top of a case (age, sex), not under answers

    @cached_property
    def values(self) -> tuple[str, ...]:
        """The allowed value ids of an enum or set observation."""
        return tuple(str(c.id) for c in self.choices) if self.type in ("enum", "set") else ()


@dataclass(frozen=True)
class RuleDef:
    """A rule as data: when ``when`` holds, the ``kind`` conclusion ``target`` is drawn.

    ``kind`` is the name of the conclusion's :class:`Kind` (``finding``, ``red_flag``, ``cause``,
    ``advice``, ``test``); a cause's rules are its evidence, each with a certainty factor.
    """

    id: str
    kind: str
    target: str
    when: Condition
    sources: tuple[Citation, ...]
    cf: float = 0.0  # evidence for a cause only: > 0 supports it, < 0 opposes it
    label: str = ""
    note: str = ""
    provenance: str = ""
    file: str | None = None
    line: int | None = None

    @cached_property
    def source_ids(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(c.source for c in self.sources))

    @property
    def is_evidence(self) -> bool:
        return self.kind == "cause"


@dataclass(frozen=True)
class Finding:
    """A derived finding: a named combination of observations other rules can refer to."""

    id: str
    label: str
    rule: RuleDef
    description: str = ""

    @property
    def rules(self) -> tuple[RuleDef, ...]:
        return (self.rule,)


@dataclass(frozen=True)
class Cause:
    id: str
    label: str
    description: str
    sources: tuple[Citation, ...]
    evidence: tuple[RuleDef, ...]
    provenance: str = ""

    @property
    def rules(self) -> tuple[RuleDef, ...]:
        return self.evidence

    @cached_property
    def supporting(self) -> tuple[RuleDef, ...]:
        return tuple(r for r in self.evidence if r.cf > 0)

    @cached_property
    def opposing(self) -> tuple[RuleDef, ...]:
        return tuple(r for r in self.evidence if r.cf < 0)


@dataclass(frozen=True)
class RedFlag:
    id: str
    label: str
    level: str
    reason: str
    rule: RuleDef

    @property
    def rules(self) -> tuple[RuleDef, ...]:
        return (self.rule,)


@dataclass(frozen=True)
class Action:
    """A piece of advice or a suggested test, with who it is written for."""

    id: str
    kind: str  # "advice" or "test"
    text: str
    audience: str  # "person" or "clinician"
    rule: RuleDef

    @property
    def label(self) -> str:
        return self.text

    @property
    def rules(self) -> tuple[RuleDef, ...]:
        return (self.rule,)


Conclusion = Union[Finding, Cause, RedFlag, Action]


@dataclass(frozen=True)
class Kind:
    """One kind of conclusion: where it is written, how its rules are named, when they fire.

    ``layer`` orders the engine's firing: a rule may refer only to conclusions of the kinds in
    ``references``, all of which are complete before its layer fires (findings are ordered among
    themselves by depth). ``title`` is the kind in words, for messages. Where ``possible``, a rule
    holds with an unanswered exclusion (``not``) taken as absent, and the conclusion is then
    possible rather than confirmed: so missing information never silences a red flag.
    """

    name: str
    section: str  # the YAML section and the KnowledgeBase attribute holding them
    title: str
    rule_name: str  # what one of its rules is called in explanations ("evidence" for causes)
    layer: int
    references: tuple[str, ...]
    item_class: type
    possible: bool = False


#: Layers in firing order. The aggregation step (cause scores and triage) runs between
#: CONCLUSIONS and ACTIONS, which is why advice and tests may refer to causes and the triage.
FINDINGS, CONCLUSIONS, ACTIONS = 0, 1, 2
#: The status of a finding or red flag: the answers confirm it, or it holds only while an
#: exclusion is unanswered.
CONFIRMED, POSSIBLE = "confirmed", "possible"
#: What a condition may refer to, besides observations: conclusions, and the triage level.
REFERABLE = ("finding", "red_flag", "cause", "triage")

KINDS: dict[str, Kind] = {kind.name: kind for kind in (
    Kind("finding", "findings", "finding", "finding", FINDINGS, ("finding",), Finding, possible=True),
    Kind("red_flag", "red_flags", "red flag", "red_flag", CONCLUSIONS, ("finding",), RedFlag, possible=True),
    Kind("cause", "causes", "cause", "evidence", CONCLUSIONS, ("finding",), Cause),
    Kind("advice", "advice", "advice", "advice", ACTIONS, REFERABLE, Action),
    Kind("test", "tests", "test", "test", ACTIONS, REFERABLE, Action),
)}


@dataclass(frozen=True)
class TriageLevel:
    """A triage level and how it is shown; the manifest lists them most urgent first."""

    id: str
    label: str
    meaning: str
    colour: str = "#555555"  # reports and graphs (CSS colour)
    tint: str = "#f5f5f5"  # background behind the level in HTML reports
    terminal_colour: str | None = None  # a click colour name, for terminals
    interrupts: bool = False  # an interview shows a red flag of this level at once


@dataclass(frozen=True)
class Checklist:
    """Related yes/no observations asked as one question ("any of these?"), as clinicians screen."""

    id: str
    question: str
    observations: tuple[str, ...]
    help: str = ""


@dataclass(frozen=True)
class InterviewPlan:
    """How an interview asks: ``core`` (observation or checklist ids) first, in this order, then
    what could change the triage, then what could change the leading causes."""

    core: tuple[str, ...] = ()
    checklists: dict[str, Checklist] = field(default_factory=dict)

    @cached_property
    def checklist_of(self) -> dict[str, Checklist]:
        """The checklist each observation is asked in, by observation id."""
        return {obs: checklist for checklist in self.checklists.values() for obs in checklist.observations}


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
    interview: InterviewPlan = field(default_factory=InterviewPlan)

    def __post_init__(self) -> None:
        if not self.rules:
            self.rules = {r.id: r for kind in KINDS for item in self.conclusions(kind).values() for r in item.rules}

    @property
    def knowledge_version(self) -> str:
        return f"{self.version}+{self.digest[:12]}"

    def conclusions(self, kind: str) -> dict[str, Conclusion]:
        """The findings, red flags, causes, advice or tests, by kind name (``finding``, ``red_flag``, ...)."""
        return getattr(self, KINDS[kind].section)  # type: ignore[no-any-return]

    def conclusion(self, kind: str, item_id: str) -> Conclusion:
        """One conclusion by kind and id (ids are unique across kinds, but an observation may share one)."""
        return self.conclusions(kind)[item_id]

    def kind_of(self, item_id: str) -> str | None:
        """The kind of the conclusion named ``item_id``, or None."""
        return next((kind for kind in KINDS if item_id in self.conclusions(kind)), None)

    @cached_property
    def observation_order(self) -> dict[str, int]:
        """Each observation's place in the vocabulary (answers are listed in this order)."""
        return {obs_id: i for i, obs_id in enumerate(self.observations)}

    @cached_property
    def finding_order(self) -> dict[str, int]:
        """Each finding's place in the knowledge base (findings are listed in this order)."""
        return {finding_id: i for i, finding_id in enumerate(self.findings)}

    def top_level(self) -> tuple[str, ...]:
        """Observations written at the top of a case rather than under ``answers`` (age, sex)."""
        return tuple(obs.id for obs in self.observations.values() if obs.top_level)

    # ------------------------------------------------------------------------- triage
    @property
    def calmest_level(self) -> str:
        """The triage when no red flag is raised (self_care)."""
        return list(self.triage_levels)[-1]

    def most_urgent(self, levels: Iterable[str]) -> str:
        """The most urgent of ``levels``; the calmest level when there are none."""
        return max(levels, key=self.urgency, default=self.calmest_level)

    def urgency(self, level: str) -> int:
        """Larger is more urgent: the calmest level is 0."""
        return self._urgency[level]

    def level_of(self, urgency: int) -> str:
        """The level with this urgency (0 is the calmest)."""
        return list(self.triage_levels)[len(self.triage_levels) - 1 - urgency]

    @cached_property
    def _urgency(self) -> dict[str, int]:
        return {level: len(self.triage_levels) - 1 - i for i, level in enumerate(self.triage_levels)}
