"""Cases: the answers about one person, checked against the knowledge base's vocabulary.

A case arrives as a mapping (from JSON, YAML or Python) in the format of docs/contract.md section 1.
Validation collects every problem, naming the field, the bad value and what is allowed.
"""
from __future__ import annotations

import math
import os
import sys
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from .documents import Document, Path, read_file
from .errors import CaseError, Problem, described, shown, suggest
from .model import KnowledgeBase, Observation

UNKNOWN = "unknown"
ANSWERS = "answers"
#: A case naming more observations than this is rejected before each is examined.
MAX_ANSWERS = 1000

Value = Any  # bool | str | frozenset[str] | int | float


@dataclass(frozen=True)
class Case:
    """Known answers by observation id (age and sex included); ``skipped`` were answered 'unknown'."""

    answers: Mapping[str, Value] = field(default_factory=dict)
    skipped: frozenset[str] = frozenset()

    def known(self, observation: str) -> bool:
        return observation in self.answers

    def to_dict(self, kb: KnowledgeBase) -> dict:
        """The case in contract form, values in vocabulary order (for saving and echoing)."""
        result: dict[str, Any] = {}
        answers: dict[str, Any] = {}
        for obs in kb.observations.values():
            if obs.id in self.answers:
                value = output_value(obs, self.answers[obs.id])
            elif obs.id in self.skipped:
                value = UNKNOWN
            else:
                continue
            (result if obs.top_level else answers)[obs.id] = value
        result[ANSWERS] = answers
        return result


def output_value(obs: Observation, value: Value) -> Any:
    """An answer as JSON-ready data: sets become lists in the vocabulary's order."""
    if obs.type == "set":
        return [v for v in obs.values if v in value]
    return value


def _allowed(obs: Observation) -> str:
    if obs.type == "bool":
        return "true or false"
    if obs.type == "number":
        top = f" to {obs.maximum:g}" if obs.maximum is not None else ""
        return f"a number from {obs.minimum:g}{top}" + (f" ({obs.unit})" if obs.unit else "")
    prefix = "one of" if obs.type == "enum" else "a list of"
    return f"{prefix}: {', '.join(obs.values)}"


def _hint(word: object, choices: Sequence[str], listed: bool = False) -> str:
    """suggest() for what a user typed, and with ``listed`` every choice, each said once.

    A long word is not compared: difflib's time and memory grow with its length.
    """
    close = suggest(word if isinstance(word, str) and len(word) <= 100 else "", choices)
    if not listed:
        return close
    allowed = f"allowed: {', '.join(choices)}"
    return f"{close} {allowed}" if close.startswith("did you mean") else allowed


def check_value(obs: Observation, value: Any, doc: Document | None, path: Path) -> tuple[Value, Problem | None]:
    """Check one answer; return the typed value, or a problem naming what is allowed."""
    def problem(message: str, hint: str | None = None) -> tuple[None, Problem]:
        hint = hint or f"allowed: {_allowed(obs)}, or unknown"
        return None, (doc or Document(None)).problem(path, message, hint)

    if obs.type == "bool":
        if isinstance(value, bool):
            return value, None
        return problem(f"{shown(value)} is not a valid answer for {obs.id} (yes/no)")
    if obs.type == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (
                isinstance(value, float) and not math.isfinite(value)):
            return problem(f"{shown(value)} is not a number")
        # compared exactly, never converted: a 400-digit integer does not fit in a float
        if value < obs.minimum or (obs.maximum is not None and value > obs.maximum) or abs(value) > sys.float_info.max:
            return problem(f"{shown(value)} is out of range for {obs.id}")
        return value, None
    if obs.type == "enum":
        if isinstance(value, str) and value in obs.values:
            return value, None
        return problem(f"{shown(value)} is not a value of {obs.id}",
                       _hint(value, obs.values, listed=True) if isinstance(value, str) else None)
    if not isinstance(value, list):
        hint = f"write a list, e.g. [{value}]" if isinstance(value, str) and value in obs.values else None
        return problem(f"{obs.id} takes a list of values, got {shown(value)}", hint)
    bad = [v for v in value if not isinstance(v, str) or v not in obs.values]
    if bad:
        return problem(f"{shown(bad[0])} is not a value of {obs.id}", _hint(bad[0], obs.values, listed=True))
    repeated = [v for i, v in enumerate(value) if v in value[:i]]
    if repeated:
        return problem(f"{shown(repeated[0])} is listed twice in {obs.id}", "list each value at most once")
    return frozenset(value), None


def _read_case_file(source: str | os.PathLike) -> Document:
    """A case file. A string is always a path: a case's text passed by mistake is said to be
    that, not echoed back whole as the name of a missing file."""
    name = os.fspath(source)
    if isinstance(name, str) and ("\n" in name or len(name) > 4096) and not os.path.exists(name):
        raise CaseError(Problem(f"no case file named {shown(name)}",
                                hint="a string is taken as the path of a case file; to assess a case's text, "
                                     "parse it first and pass the mapping"))
    return read_file(name, CaseError)


def parse_case(source: Mapping | str | os.PathLike | Document, kb: KnowledgeBase) -> Case:
    """Validate a case given as a mapping, a file path or a parsed document."""
    if isinstance(source, Document):
        doc = source
    elif isinstance(source, (str, os.PathLike)):
        doc = _read_case_file(source)
    else:
        doc = Document(source)
    if isinstance(doc.data, Mapping) and "resourceType" in doc.data:  # FHIR: a QuestionnaireResponse
        from .fhir import case_from_fhir
        doc = Document(case_from_fhir(doc.data, kb, doc.file), doc.file)
    data = doc.data
    case_keys = (*kb.top_level(), ANSWERS)
    if not isinstance(data, Mapping):
        example = "e.g. {age: 40, answers: {movement: cramp}}"
        raise CaseError(doc.problem((), f"a case must be a mapping with {', '.join(case_keys)}, "
                                        f"got {described(data)}",
                                    f"a string is taken as the path of a case file; {example}"
                                    if isinstance(source, str) else example))
    problems: list[Problem] = []
    answers: dict[str, Value] = {}
    skipped: set[str] = set()
    unknown_keys = [k for k in data if k not in case_keys]
    for key in unknown_keys[:5]:
        problems.append(doc.problem((key,), f"unknown field {shown(key)}", _hint(key, case_keys)))
    if len(unknown_keys) > 5:
        problems.append(doc.problem((), f"{len(unknown_keys) - 5} more unknown fields",
                                    f"a case has only {', '.join(case_keys)}"))

    def take(obs: Observation, value: Any, path: Path) -> None:
        if value == UNKNOWN:
            skipped.add(obs.id)
            return
        typed, problem = check_value(obs, value, doc, path)
        if problem:
            problems.append(problem)
        else:
            answers[obs.id] = typed

    for key in kb.top_level():
        if key in data:
            take(kb.observations[key], data[key], (key,))

    raw = data.get(ANSWERS, {})
    if not isinstance(raw, Mapping):
        problems.append(doc.problem((ANSWERS,), f"answers must be a mapping of observation id to value, "
                                                  f"got {type(raw).__name__}"))
        raw = {}
    if len(raw) > MAX_ANSWERS:
        problems.append(doc.problem((ANSWERS,), f"{len(raw)} answers given; the vocabulary has "
                                                  f"{len(kb.observations)} observations",
                                    "see `spasm kb show` for the observation ids"))
        raise CaseError(problems)
    for key, value in raw.items():
        obs = kb.observations.get(key) if isinstance(key, str) else None
        if obs is None:
            problems.append(doc.problem((ANSWERS, key), f"unknown observation {shown(key)}",
                                        _hint(key, [o for o in kb.observations if not kb.observations[o].top_level])))
        elif obs.top_level:
            problems.append(doc.problem((ANSWERS, key), f"{key} is written at the top of the case, not under answers",
                                        f"move it up: {key}: ... next to answers"))
        else:
            take(obs, value, (ANSWERS, key))
    if problems:
        raise CaseError(problems)
    return Case(answers, frozenset(skipped))
