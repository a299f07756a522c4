"""Step-by-step consultations: ask what matters next, take answers, undo, assess at any point.

A consultation keeps the answers given so far and its own engine. Experta has no truth
maintenance, so rather than retracting facts, every change re-runs the engine from a reset on
the current answers; that keeps undo exact and costs a few milliseconds.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from .assessment import Assessment
from .case import ANSWERS, UNKNOWN, Case, check_value, parse_case
from .documents import Document
from .errors import CaseError, UnknownIdError, suggest
from .explain import WhyAsked
from .model import Choice
from .relevance import questions_gated_by
from .system import Expert, default_expert


@dataclass(frozen=True)
class Question:
    """The next thing to ask, with the choices allowed and why it is being asked now."""

    id: str
    text: str
    help: str
    type: str
    choices: tuple[Choice, ...]
    unit: str
    reason: str
    answered: int  # answers given so far (presets included)
    remaining: int  # questions that still matter, this one included

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "text": self.text, "help": self.help, "type": self.type,
                "choices": [{"id": c.id, "label": c.label} for c in self.choices], "unit": self.unit,
                "reason": self.reason, "answered": self.answered, "remaining": self.remaining}


class Consultation:
    """An adaptive interview over one case.

    >>> c = Consultation(age=34)
    >>> q = c.next_question()          # the most important open question
    >>> c.answer(q.id, "cramp")        # raises CaseError if the value is not allowed
    >>> c.assessment().triage.level
    """

    def __init__(self, expert: Expert | None = None, *, answers: Mapping[str, Any] | None = None,
                 **person: Any):
        """``person`` gives what is written at the top of a case (``age=``, ``sex=``); None means unknown."""
        self.expert = expert or default_expert()
        self.kb = self.expert.kb
        self._engine = self.expert.new_engine()
        preset: dict[str, Any] = {key: value for key, value in person.items() if value is not None}
        preset[ANSWERS] = dict(answers or {})
        self._preset = parse_case(preset, self.kb)  # validates; raises CaseError
        self._history: list[tuple[str, Any]] = []
        self._assessment: Assessment | None = None

    # --------------------------------------------------------------------------- answers
    @property
    def history(self) -> list[tuple[str, Any]]:
        """Answers given through :meth:`answer`, oldest first, as (observation id, value)."""
        return list(self._history)

    def preset_case(self) -> dict:
        """The answers given when the consultation started, in the contract's case format."""
        return self._preset.to_dict(self.kb)

    def case(self) -> Case:
        answers = dict(self._preset.answers)
        skipped = set(self._preset.skipped)
        for obs_id, value in self._history:
            answers.pop(obs_id, None)
            skipped.discard(obs_id)
            if value == UNKNOWN:
                skipped.add(obs_id)
            else:
                answers[obs_id] = check_value(self.kb.observations[obs_id], value, None, ())[0]
        return Case(answers, frozenset(skipped))

    def to_case(self) -> dict:
        """The case so far in the contract's format (for saving, or for ``spasm assess``)."""
        return self.case().to_dict(self.kb)

    def answer(self, observation: str, value: Any) -> None:
        """Record an answer (``"unknown"`` records that it cannot be answered)."""
        obs = self.kb.observations.get(observation)
        if obs is None:
            raise UnknownIdError(f"unknown observation {observation!r}; " + suggest(observation, list(self.kb.observations)))
        if value != UNKNOWN:
            typed, problem = check_value(obs, value, Document(None), (observation,))
            if problem:
                raise CaseError(problem)
            if obs.type == "set":
                value = [v for v in obs.values if v in typed]
        self._history.append((observation, value))
        self._assessment = None

    def undo(self) -> tuple[str, Any] | None:
        """Take back the last answer; returns it, or None if there was nothing to undo."""
        if not self._history:
            return None
        self._assessment = None
        return self._history.pop()

    # ------------------------------------------------------------------------- questions
    def assessment(self) -> Assessment:
        if self._assessment is None:
            self._assessment = self.expert.assess(self.case(), engine=self._engine)
        return self._assessment

    def next_question(self) -> Question | None:
        """The most important question whose answer could still change the triage or the causes."""
        assessment = self.assessment()
        if not assessment.unanswered:
            return None
        obs = self.kb.observations[assessment.unanswered[0]]
        why = assessment.why(obs.id)
        triage = [r for r in why.rules if r.kind == "red_flag"]
        gated = questions_gated_by(assessment.decider, obs.id)
        if triage:
            reason = f"checks for a red flag: {triage[0].label} ({self.kb.red_flags[triage[0].conclusion].level})"
        elif why.rules:
            causes = sorted({r.label for r in why.rules})
            reason = "helps weigh possible causes: " + ", ".join(causes[:3]) + (", ..." if len(causes) > 3 else "")
        else:
            reason = "decides whether to ask: " + "; ".join(self.kb.observations[g].label for g in gated)
        case = assessment.case
        return Question(obs.id, obs.question, obs.help, obs.type, obs.choices, obs.unit, reason,
                        answered=len(case.answers) + len(case.skipped), remaining=len(assessment.unanswered))

    def why(self, observation: str) -> WhyAsked:
        """Why a question is asked: the undecided rules an answer to it would feed."""
        return self.assessment().why(observation)
