"""Step-by-step consultations: ask what matters, in the order a clinician would, and stop.

An interview asks in three stages. First the core history the knowledge base names (the movement,
where, how long, the obvious context, medicines and conditions). Then every question that could
raise the triage, settle a possible red flag or make advice unsafe: these are always asked before
the report. Then questions about causes, only while an answer could still change which causes
lead or their order, the one that could move them most first; :meth:`Consultation.more` keeps
refining after that. Related yes/no questions are asked together as a checklist where the
knowledge base defines one, and nothing is asked that earlier answers rule out (``ask_when``).

A consultation keeps the answers given so far and its own engine. Experta has no truth
maintenance, so rather than retracting facts, every change re-runs the engine from a reset on
the current answers; that keeps undo exact and costs about a millisecond.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from .assessment import Assessment
from .case import ANSWERS, UNKNOWN, Case, check_value, parse_case
from .documents import Document
from .errors import CaseError, Problem, UnknownIdError, shown, suggest
from .explain import RuleUse, WhyAsked
from .model import Checklist, Choice, Observation
from .relevance import cause_impact, questions_gated_by, relevance
from .system import Expert, default_expert

#: The stages of an interview, in the order they are asked.
STAGES = ("core", "safety", "causes", "more")
CHECKLIST = "checklist"


@dataclass(frozen=True)
class Question:
    """The next thing to ask, with the choices allowed and why it is being asked now.

    A checklist question (``type`` "checklist") covers several yes/no ``observations``: its answer
    is the list of those present (``[]`` for none).
    """

    id: str
    text: str
    help: str
    type: str
    choices: tuple[Choice, ...]
    unit: str
    reason: str
    answered: int  # questions answered so far (presets included; a checklist counts once)
    remaining: int  # questions still to ask before the report, this one included
    stage: str = "causes"
    observations: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id, "text": self.text, "help": self.help, "type": self.type,
            "choices": [{"id": c.id, "label": c.label} for c in self.choices], "unit": self.unit,
            "reason": self.reason, "answered": self.answered, "remaining": self.remaining, "stage": self.stage}
        if self.observations:
            data["observations"] = list(self.observations)
        return data


@dataclass(frozen=True)
class _Entry:
    """One answer as given (an observation or a checklist) and the observations it records."""

    id: str
    value: Any
    records: tuple[tuple[str, Any], ...]


class Consultation:
    """An adaptive interview over one case.

    >>> c = Consultation(age=34)
    >>> q = c.next_question()          # the most important open question, or None when done
    >>> c.answer(q.id, "cramp")        # raises CaseError if the value is not allowed
    >>> c.assessment().triage.level
    """

    def __init__(self, expert: Expert | None = None, *, answers: Mapping[str, Any] | None = None,
                 **person: Any):
        """``person`` gives what is written at the top of a case (``age=``, ``sex=``); None means unknown."""
        if expert is not None and not isinstance(expert, Expert):
            raise TypeError(f"Consultation's first argument is an expert.Expert (or nothing, for the shipped "
                            f"knowledge base), not {shown(expert)}")
        if answers is not None and not isinstance(answers, Mapping):
            raise CaseError(Problem(f"answers must be a mapping of observation ids to answers, not {shown(answers)}",
                                    field=ANSWERS))
        self.expert = expert or default_expert()
        self.kb = self.expert.kb
        self._engine = self.expert.new_engine()
        preset: dict[str, Any] = {key: value for key, value in person.items() if value is not None}
        preset[ANSWERS] = dict(answers or {})
        self._preset = parse_case(preset, self.kb)  # validates; raises CaseError
        self._history: list[_Entry] = []
        self._assessment: Assessment | None = None
        self.refining = False

    # --------------------------------------------------------------------------- answers
    @property
    def history(self) -> list[tuple[str, Any]]:
        """Answers given through :meth:`answer`, oldest first, as (question id, value)."""
        return [(entry.id, entry.value) for entry in self._history]

    def preset_case(self) -> dict[str, Any]:
        """The answers given when the consultation started, in the contract's case format."""
        return self._preset.to_dict(self.kb)

    def case(self) -> Case:
        answers = dict(self._preset.answers)
        skipped = set(self._preset.skipped)
        for entry in self._history:
            for obs_id, value in entry.records:
                answers.pop(obs_id, None)
                skipped.discard(obs_id)
                if value == UNKNOWN:
                    skipped.add(obs_id)
                else:
                    answers[obs_id] = check_value(self.kb.observations[obs_id], value, None, ())[0]
        return Case(answers, frozenset(skipped))

    def to_case(self) -> dict[str, Any]:
        """The case so far in the contract's format (for saving, or for ``spasm assess``)."""
        return self.case().to_dict(self.kb)

    def answer(self, question: str, value: Any) -> None:
        """Record an answer to an observation or a checklist (``"unknown"`` records that it cannot be
        answered). A checklist's answer lists the observations present; the others it shows are no."""
        checklist = self._checklist(question)
        if checklist is not None:
            self._record(_Entry(question, value, self._checklist_records(checklist, value)))
            return
        obs = self.kb.observations.get(question)
        if obs is None:
            known = [*self.kb.observations, *self.kb.interview.checklists]
            raise UnknownIdError(f"unknown question {question!r}; " + suggest(question, known))
        if value != UNKNOWN:
            typed, problem = check_value(obs, value, Document(None), (question,))
            if problem:
                raise CaseError(problem)
            if obs.type == "set":
                value = [v for v in obs.values if v in typed]
        self._record(_Entry(question, value, ((question, value),)))

    def _checklist_records(self, checklist: Checklist, value: Any) -> tuple[tuple[str, Any], ...]:
        shown = self._shown(checklist)
        if value == UNKNOWN:
            return tuple((obs_id, UNKNOWN) for obs_id in shown)
        if not isinstance(value, (list, tuple)) or any(item not in checklist.observations for item in value):
            allowed = ", ".join(checklist.observations)
            raise CaseError(Problem(f"{value!r} is not an answer to checklist {checklist.id}", field=checklist.id,
                                    hint=f"give a list of those present, from: {allowed} ([] for none)"))
        present = [obs_id for obs_id in checklist.observations if obs_id in value]
        return tuple((obs_id, obs_id in present) for obs_id in checklist.observations
                     if obs_id in shown or obs_id in present)

    def _record(self, entry: _Entry) -> None:
        self._history.append(entry)
        self._assessment = None

    def undo(self) -> tuple[str, Any] | None:
        """Take back the last answer; returns it (question id, value), or None if there was nothing."""
        if not self._history:
            return None
        self._assessment = None
        entry = self._history.pop()
        return entry.id, entry.value

    # ------------------------------------------------------------------------- questions
    def assessment(self) -> Assessment:
        if self._assessment is None:
            self._assessment = self.expert.assess(self.case(), engine=self._engine)
        return self._assessment

    def more(self) -> None:
        """Keep asking about causes after the leading ones are settled, while anything could change them."""
        self.refining = True

    def more_available(self) -> int:
        """How many questions more() would add now: 0 when no answer could change any cause."""
        return sum(stage == "more" for _, stage in self.plan(refining=True))

    def _open(self, obs_id: str) -> bool:
        case = self.assessment().case
        return (obs_id not in case.answers and obs_id not in case.skipped
                and self.assessment().decider.applicable(self.kb.observations[obs_id]))

    def _shown(self, checklist: Checklist) -> tuple[str, ...]:
        """The observations of a checklist still worth asking: unanswered, and not ruled out."""
        return tuple(obs_id for obs_id in checklist.observations if self._open(obs_id))

    def plan(self, refining: bool | None = None) -> list[tuple[str, str]]:
        """The questions still to ask before the report, as (question id, stage), first first.

        ``refining`` (default: whether more() was called) adds every question that could still
        change any cause, after the ones that could change the leading three."""
        assessment = self.assessment()
        open_questions = relevance(assessment.decider, assessment.triage.level, assessment.case.skipped,
                                   every_flag=True)
        plan: list[tuple[str, str]] = []
        seen: set[str] = set()

        def add(item: str, stage: str) -> None:
            question = self._question_for(item)
            if question not in seen and self._askable(question):
                seen.add(question)
                plan.append((question, stage))

        for item in self.kb.interview.core:
            add(item, "core")
        for obs_id in open_questions.safety:
            add(obs_id, "safety")
        impacts = {obs_id: cause_impact(assessment.decider, obs_id) for obs_id in open_questions.causes}
        for obs_id in sorted((o for o in open_questions.causes if impacts[o]), key=lambda o: -impacts[o]):
            add(self._gate(obs_id), "causes")
        if self.refining if refining is None else refining:
            for obs_id in open_questions.questions:
                add(obs_id, "more")
        return plan

    def _question_for(self, item: str) -> str:
        """The question that asks about ``item``: its checklist, if it is in one."""
        checklist = self.kb.interview.checklist_of.get(item)
        return checklist.id if checklist is not None else item

    def _checklist(self, question: str) -> Checklist | None:
        """The checklist ``question`` names; None when it names an observation (or nothing known)."""
        if not isinstance(question, str):
            raise UnknownIdError(f"a question is named by its id (text), not {shown(question)}")
        return self.kb.interview.checklists.get(question)

    def _askable(self, question: str) -> bool:
        checklist = self._checklist(question)
        return bool(self._shown(checklist)) if checklist is not None else self._open(question)

    def _gate(self, obs_id: str) -> str:
        """The question to ask first for ``obs_id``: one that decides whether it applies, while undecided."""
        obs = self.kb.observations[obs_id]
        decider = self.assessment().decider
        if obs.ask_when is not None:  # the gate's open observations: none unless it is undecided
            deciding = sorted(set(decider.gate(obs)[1]), key=decider.logic.order.__getitem__)  # _open: not skipped
            return next((o for o in deciding if self._open(o)), obs_id)
        return obs_id

    def next_question(self) -> Question | None:
        """The next question by the interview's stages, or None when nothing more needs asking."""
        plan = self.plan()
        if not plan:
            return None
        question_id, stage = plan[0]
        answered = len(self._preset.answers) + len(self._preset.skipped) + len(self._history)
        checklist = self.kb.interview.checklists.get(question_id)
        if checklist is not None:
            shown = self._shown(checklist)
            choices = tuple(Choice(obs_id, self.kb.observations[obs_id].label) for obs_id in shown)
            return Question(checklist.id, checklist.question, checklist.help, CHECKLIST, choices, "",
                            self._reason(shown, stage), answered, len(plan), stage, shown)
        obs = self.kb.observations[question_id]
        return Question(obs.id, obs.question, obs.help, obs.type, obs.choices, obs.unit,
                        self._reason((obs.id,), stage), answered, len(plan), stage)

    def _reason(self, observations: tuple[str, ...], stage: str) -> str:
        """Why a question is asked now, in plain words."""
        rules = [rule for obs_id in observations for rule in self.why(obs_id).rules]
        flags = [r for r in rules if r.kind == "red_flag"]
        if flags:
            flag = self.kb.red_flags[flags[0].conclusion]
            return f"checks for a red flag: {flag.label} ({self.kb.triage_levels[flag.level].label.lower()})"
        if stage == "core":
            return "is part of the core history"
        if rules:
            causes = list(dict.fromkeys(r.label for r in rules))
            return "could change the likely causes: " + ", ".join(causes[:3]) + (", ..." if len(causes) > 3 else "")
        gated = [g for obs_id in observations for g in questions_gated_by(self.assessment().decider, obs_id)]
        if gated:
            return "decides whether to ask: " + "; ".join(self.kb.observations[g].label for g in gated[:3])
        return "is part of the core history"

    def why(self, question: str) -> WhyAsked:
        """Why a question is asked: the undecided rules an answer to it would feed."""
        checklist = self._checklist(question)
        if checklist is None:
            return self.assessment().why(question)
        uses: dict[str, RuleUse] = {}
        for obs_id in self._shown(checklist):
            for rule in self.assessment().why(obs_id).rules:
                uses.setdefault(rule.rule, rule)
        summary = (f"the answer could change {len(uses)} rule{'s' if len(uses) != 1 else ''}" if uses
                   else "no undecided rule depends on it now")
        return WhyAsked(checklist.id, checklist.question, checklist.help, summary, tuple(uses.values()))


__all__ = ["CHECKLIST", "Consultation", "Observation", "Question", "STAGES", "replay"]


def replay(case: Any, expert: Expert | None = None, limit: int = 100) -> tuple[Consultation, list[Question]]:
    """Run an interview against a known case, answering each question from it, as a clinician with
    the notes would: the case's answer where it has one, "no" to a yes/no question or a checklist
    it does not mention, "none" to a list, and "unknown" otherwise. Age and sex are preset.

    Returns the finished consultation and the questions it asked, to see what an interview would
    ask and whether it reaches the same result as the whole case.
    """
    expert = expert or default_expert()
    full = expert.case(case)
    person = {obs_id: full.answers[obs_id] for obs_id in expert.kb.top_level() if obs_id in full.answers}
    consultation = Consultation(expert, **person)
    asked: list[Question] = []
    while len(asked) < limit and (question := consultation.next_question()) is not None:
        asked.append(question)
        if question.type == CHECKLIST:
            value: Any = [obs_id for obs_id in question.observations if full.answers.get(obs_id) is True]
        elif question.id in full.answers:
            value = full.to_dict(expert.kb)[ANSWERS].get(question.id, full.answers[question.id])
        else:
            value = {"bool": False, "set": []}.get(question.type, UNKNOWN)
        consultation.answer(question.id, value)
    return consultation, asked
