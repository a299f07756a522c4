"""JSON Schemas of the contract: the case format (from the vocabulary) and the assessment.

Embedders can validate what they send and receive with any JSON Schema library; ``spasm schema``
prints them.
"""
from __future__ import annotations

from typing import Any

from .model import KnowledgeBase, Observation

DRAFT = "https://json-schema.org/draft/2020-12/schema"


def _answer_schema(obs: Observation) -> dict[str, Any]:
    unknown = {"const": "unknown"}
    if obs.type == "bool":
        schema: dict[str, Any] = {"type": "boolean"}
    elif obs.type == "enum":
        schema = {"enum": list(obs.values)}
    elif obs.type == "set":
        schema = {"type": "array", "items": {"enum": list(obs.values)}, "uniqueItems": True}
    else:
        schema = {"type": "number", "minimum": obs.minimum}
        if obs.maximum is not None:
            schema["maximum"] = obs.maximum
    return {"description": obs.question, "anyOf": [schema, unknown]}


def case_schema(kb: KnowledgeBase) -> dict[str, Any]:
    """The case format of docs/contract.md section 1, with this knowledge base's vocabulary."""
    top = {o.id: _answer_schema(o) for o in kb.observations.values() if o.top_level}
    answers = {o.id: _answer_schema(o) for o in kb.observations.values() if not o.top_level}
    return {
        "$schema": DRAFT,
        "title": "Spasm Expert case",
        "type": "object",
        "additionalProperties": False,
        "properties": {**top, "answers": {"type": "object", "additionalProperties": False, "properties": answers}},
    }


_STRINGS = {"type": "array", "items": {"type": "string"}}
_FACTS = {"type": "array", "items": {"type": "object", "required": ["id", "value"],
                                     "properties": {"id": {"type": "string"}, "value": {}}}}
_SUPPORT = {"type": "object", "required": ["rule", "facts", "sources"],
            "properties": {"rule": {"type": "string"}, "facts": _FACTS, "sources": _STRINGS,
                           "findings": _STRINGS, "cf": {"type": "number"}}}


def assessment_schema(kb: KnowledgeBase) -> dict[str, Any]:
    """The assessment of docs/contract.md section 4 (required fields) plus this implementation's extras."""
    levels = {"enum": list(kb.triage_levels)}
    action = {"type": "object", "required": ["id", "text", "rule", "sources"],
              "properties": {"id": {"type": "string"}, "text": {"type": "string"}, "rule": {"type": "string"},
                             "sources": _STRINGS, "audience": {"enum": ["person", "clinician"]}, "facts": _FACTS}}
    return {
        "$schema": DRAFT,
        "title": "Spasm Expert assessment",
        "type": "object",
        "required": ["triage", "red_flags", "causes", "advice", "tests", "unanswered", "knowledge_version"],
        "properties": {
            "triage": {"type": "object", "required": ["level", "label", "because", "provisional"],
                       "properties": {"level": levels, "label": {"type": "string"},
                                      "because": _STRINGS, "meaning": {"type": "string"},
                                      "provisional": {"type": "boolean"}, "could_rise_to": levels,
                                      "questions": _STRINGS},
                       "dependentRequired": {"could_rise_to": ["questions"]}},
            "red_flags": {"type": "array", "items": {
                "allOf": [_SUPPORT, {"type": "object", "required": ["id", "label", "status", "pending"],
                                     "properties": {"id": {"type": "string"}, "label": {"type": "string"},
                                                    "level": levels, "reason": {"type": "string"},
                                                    "status": {"enum": ["confirmed", "possible"]},
                                                    "pending": _STRINGS}}]}},
            "causes": {"type": "array", "items": {
                "type": "object", "required": ["id", "label", "score", "for", "against"],
                "properties": {"id": {"type": "string"}, "label": {"type": "string"},
                               "score": {"type": "number", "minimum": -1, "maximum": 1},
                               "for": {"type": "array", "items": _SUPPORT, "minItems": 1},
                               "against": {"type": "array", "items": _SUPPORT}}}},
            "advice": {"type": "array", "items": action},
            "tests": {"type": "array", "items": action},
            "unanswered": _STRINGS,
            "knowledge_version": {"type": "string"},
            "disclaimer": {"type": "string"},
            "explanations": {"type": "object"},
        },
    }
