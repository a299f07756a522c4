"""FHIR R4 forms of the case format: a Questionnaire of the vocabulary, and QuestionnaireResponse -> case.

An EHR or a form filler speaks FHIR; the engine speaks the case format of docs/contract.md. This
module translates between the two with plain dicts, so the command line and the Python API can use
it without the service's libraries (the service and the tests validate the same dicts with
fhir.resources).

Each observation is one Questionnaire item whose ``linkId`` is the observation id:

- bool -> ``boolean``; enum -> ``choice``; set -> ``choice`` with ``repeats`` and an exclusive
  "none of these" option (the case format's ``[]``); number -> ``decimal`` with its unit
  (questionnaire-unit extension) and bounds (minValue / maxValue);
- the help text is a child ``display`` item marked with itemControl ``help``;
- ``ask_when`` becomes ``enableWhen`` when it is a simple test, a negated simple test, or an
  all/any of simple tests; anything else (counts, references, nested mixtures) is left out, so the
  question is always enabled. Note that FHIR reads an unanswered question as "not equal" but never
  as "equal": a question enabled by an answer appears once that answer is given.

In a QuestionnaireResponse, an item with answers gives the observation's value; an item present
with no answer means "asked, and not known" (the case format's ``unknown``). Age and sex may also
come from a Patient (``birthDate`` read relative to the response's ``authored`` date, so the same
resources always give the same case; ``gender``).
"""
from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import replace
from fractions import Fraction
from typing import Any, Iterator, Mapping

from .conditions import AllOf, AnyOf, Condition, Is, Not
from .errors import CaseError, Problem, json_kind, shown
from .model import KnowledgeBase, Observation

#: Canonical identifiers of what this module defines (URNs: they name things, they are not fetched).
QUESTIONNAIRE_URL = "urn:spasm-expert:fhir:Questionnaire:spasm-expert"
QUESTIONNAIRE_ID = "spasm-expert"
OBSERVATION_SYSTEM = "urn:spasm-expert:observation"  # + ":" + observation id, for its choice codes
NONE_OF_THESE = "none-of-these"

ITEM_CONTROL = "http://hl7.org/fhir/StructureDefinition/questionnaire-itemControl"
ITEM_CONTROL_SYSTEM = "http://hl7.org/fhir/questionnaire-item-control"
UNIT = "http://hl7.org/fhir/StructureDefinition/questionnaire-unit"
MIN_VALUE = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE = "http://hl7.org/fhir/StructureDefinition/maxValue"
OPTION_EXCLUSIVE = "http://hl7.org/fhir/StructureDefinition/questionnaire-optionExclusive"
UCUM = "http://unitsofmeasure.org"
#: Unit words of the vocabulary -> UCUM codes (a unit not listed is sent as display text only).
UCUM_CODES = {"years": "a", "months": "mo", "weeks": "wk", "days": "d", "hours": "h", "minutes": "min",
              "seconds": "s"}
#: UCUM units of time -> seconds (a = Julian year, mo = a / 12), so a duration in any of them can be
#: put in the question's unit: 1 h is 60 minutes, never 1.
UCUM_SECONDS = {"s": 1, "min": 60, "h": 3600, "d": 86400, "wk": 604800, "mo": 2629800, "a": 31557600}
RESPONSE_STATUSES = ("in-progress", "completed", "amended", "entered-in-error", "stopped")
GENDER_TO_SEX = {"female": "female", "male": "male", "other": "other", "unknown": "unknown"}
ITEM_TYPES = {"bool": "boolean", "enum": "choice", "set": "choice", "number": "decimal"}


def is_fhir(data: Any) -> bool:
    """Whether ``data`` is a FHIR resource this module turns into a case."""
    return isinstance(data, Mapping) and data.get("resourceType") in ("QuestionnaireResponse", "Bundle", "Parameters")


def choice_system(obs: Observation) -> str:
    return f"{OBSERVATION_SYSTEM}:{obs.id}"


# ------------------------------------------------------------------------------ Questionnaire

def questionnaire(kb: KnowledgeBase) -> dict:
    """The whole vocabulary as one FHIR R4 Questionnaire (status active; version = knowledge version)."""
    return {
        "resourceType": "Questionnaire",
        "id": QUESTIONNAIRE_ID,
        "url": QUESTIONNAIRE_URL,
        "version": kb.knowledge_version,
        "name": "SpasmExpert",
        "title": f"{kb.name}: involuntary muscle movements",
        "status": "active",
        "subjectType": ["Patient"],
        "description": kb.disclaimer,
        "item": [question_item(obs, kb) for obs in kb.observations.values()],
    }


def question_item(obs: Observation, kb: KnowledgeBase, enable_when: bool = True) -> dict:
    """One observation as a Questionnaire item (with its help as a child display item)."""
    item: dict[str, Any] = {"linkId": obs.id, "code": [{"system": OBSERVATION_SYSTEM, "code": obs.id,
                                                        "display": obs.label}],
                            "text": obs.question, "type": ITEM_TYPES[obs.type]}
    extensions: list[dict[str, Any]] = []
    if obs.type == "number":
        if obs.unit:
            unit = {"system": UCUM, "code": UCUM_CODES[obs.unit], "display": obs.unit} if obs.unit in UCUM_CODES \
                else {"display": obs.unit}
            extensions.append({"url": UNIT, "valueCoding": unit})
        extensions.append({"url": MIN_VALUE, "valueDecimal": obs.minimum})
        if obs.maximum is not None:
            extensions.append({"url": MAX_VALUE, "valueDecimal": obs.maximum})
    if extensions:
        item["extension"] = extensions
    if enable_when and obs.ask_when is not None:
        expressed = enable_when_of(obs.ask_when, kb)
        if expressed:
            conditions, behavior = expressed
            item["enableWhen"] = conditions
            if len(conditions) > 1:
                item["enableBehavior"] = behavior
    if obs.type in ("enum", "set"):
        item["repeats"] = obs.type == "set"
        options: list[dict[str, Any]] = [{"valueCoding": {"system": choice_system(obs), "code": c.id,
                                                          "display": c.label}} for c in obs.choices]
        if obs.type == "set":
            options.append({"extension": [{"url": OPTION_EXCLUSIVE, "valueBoolean": True}],
                            "valueCoding": {"system": choice_system(obs), "code": NONE_OF_THESE,
                                            "display": "None of these"}})
        item["answerOption"] = options
    if obs.help:
        item["item"] = [{"linkId": f"{obs.id}.help", "text": obs.help, "type": "display",
                         "extension": [{"url": ITEM_CONTROL, "valueCodeableConcept": {"coding": [
                             {"system": ITEM_CONTROL_SYSTEM, "code": "help", "display": "Help-Button"}]}}]}]
    return item


_NUMBER_OPERATORS = {"equals": "=", "above": ">", "below": "<", "at_least": ">=", "at_most": "<="}
_NEGATED = {"=": "!="}


def _answer(obs: Observation, value: Any) -> dict:
    if obs.type == "bool":
        return {"answerBoolean": value}
    if obs.type == "number":
        return {"answerDecimal": value}
    return {"answerCoding": {"system": choice_system(obs), "code": value}}


def _simple(condition: Condition, kb: KnowledgeBase) -> tuple[list[dict], str] | None:
    """``condition`` as enableWhen entries and how they combine ("all"/"any"), if it is a simple test."""
    negated = isinstance(condition, Not)
    test = condition.item if isinstance(condition, Not) else condition
    if not isinstance(test, Is) or test.observation not in kb.observations:
        return None
    obs = kb.observations[test.observation]
    kind, operand = test.test, test.operand
    if negated:  # only the negations FHIR can say: not equal, and "includes none" turned round
        if kind in ("equals", "includes") and obs.type != "number":
            return [{"question": obs.id, "operator": "!=", **_answer(obs, operand)}], "all"
        if kind == "includes_none":
            kind = "includes_any"
        else:
            return None
    if kind in _NUMBER_OPERATORS and (obs.type == "number" or kind == "equals"):
        return [{"question": obs.id, "operator": _NUMBER_OPERATORS[kind], **_answer(obs, operand)}], "all"
    if kind == "includes":
        return [{"question": obs.id, "operator": "=", **_answer(obs, operand)}], "all"
    if kind in ("one_of", "includes_any", "includes_all"):
        entries = [{"question": obs.id, "operator": "=", **_answer(obs, v)} for v in operand]  # type: ignore[union-attr]
        return entries, "all" if kind == "includes_all" else "any"
    return None  # includes_none: "no answer equals any of" has no single FHIR operator


def enable_when_of(condition: Condition, kb: KnowledgeBase) -> tuple[list[dict], str] | None:
    """An ask_when condition as (enableWhen entries, enableBehavior), or None when FHIR cannot say it."""
    simple = _simple(condition, kb)
    if simple is not None:
        return simple
    if isinstance(condition, (AllOf, AnyOf)):
        behavior = "all" if isinstance(condition, AllOf) else "any"
        entries: list[dict] = []
        for part in condition.items:
            expressed = _simple(part, kb)
            if expressed is None or (len(expressed[0]) > 1 and expressed[1] != behavior):
                return None
            entries += expressed[0]
        return entries, behavior
    return None


# ------------------------------------------------------------------ QuestionnaireResponse -> case

def case_from_fhir(data: Mapping, kb: KnowledgeBase, file: str | None = None) -> dict:
    """A QuestionnaireResponse (alone, or in a Bundle or Parameters with a Patient) as a case mapping.

    Raises CaseError naming the linkId or field at fault (and ``file``, when it came from one).
    """
    try:
        response, patient = _unwrap(data)
        return case_from_response(response, kb, patient)
    except CaseError as error:
        if file is None:
            raise
        raise CaseError([replace(p, file=file) for p in error.problems]) from None


def _unwrap(data: Mapping) -> tuple[Mapping, Mapping | None]:
    kind = data.get("resourceType")
    if kind == "QuestionnaireResponse":
        return data, None
    if kind not in ("Bundle", "Parameters"):
        raise CaseError(Problem(f"a FHIR {kind} is not a case", field="resourceType",
                                hint="send a QuestionnaireResponse, or a Bundle or Parameters holding one"))
    if kind == "Bundle":
        entries = data.get("entry")
        resources = [e.get("resource") for e in entries if isinstance(e, Mapping)] if isinstance(entries, list) else []
        field = "entry"
    else:  # Parameters: resource parameters, e.g. SDC's "questionnaire-response" and a "patient"
        parameters = data.get("parameter")
        resources = [p.get("resource") for p in parameters if isinstance(p, Mapping)] if isinstance(parameters, list) else []
        field = "parameter"
    found: dict[str, list[Mapping]] = {}
    for resource in resources:
        if isinstance(resource, Mapping):
            found.setdefault(str(resource.get("resourceType")), []).append(resource)
    responses, patients = found.get("QuestionnaireResponse", []), found.get("Patient", [])
    if len(responses) != 1 or len(patients) > 1:
        raise CaseError(Problem(f"a {kind} must hold exactly one QuestionnaireResponse and at most one Patient "
                                f"(found {len(responses)} and {len(patients)})", field=field,
                                hint="or send the QuestionnaireResponse on its own"))
    return responses[0], (patients[0] if patients else None)


def _items(items: Any, path: str, problems: list[Problem]) -> Iterator[tuple[str, Mapping]]:
    """Every item (nested ones too) with its path in the resource, e.g. ``item[2].item[0]``."""
    if items is None:
        return
    if not isinstance(items, list):
        problems.append(Problem("must be a list of items", field=path))
        return
    for index, item in enumerate(items):
        where = f"{path}[{index}]"
        if not isinstance(item, Mapping):
            problems.append(Problem("an item must be an object with a linkId", field=where))
            continue
        yield where, item
        yield from _items(item.get("item"), f"{where}.item", problems)
        for number, answer in enumerate(item.get("answer") or [] if isinstance(item.get("answer"), list) else []):
            if isinstance(answer, Mapping):
                yield from _items(answer.get("item"), f"{where}.answer[{number}].item", problems)


def _answer_value(obs: Observation, answer: Any, where: str, problems: list[Problem]) -> Any:
    """One QuestionnaireResponse answer as a value of the case format (None after a problem)."""
    expected = {"bool": "valueBoolean", "enum": "valueCoding", "set": "valueCoding", "number": "valueDecimal"}[obs.type]
    if not isinstance(answer, Mapping):
        problems.append(Problem("an answer must be an object such as {\"%s\": ...}" % expected, field=where))
        return None
    values = {k: v for k, v in answer.items() if k.startswith("value")}
    if len(values) > 1:
        problems.append(Problem(f"an answer holds one value, got {' and '.join(sorted(values))}", field=where,
                                hint=f"{obs.id} takes {expected}"))
        return None
    if obs.type == "number":
        for key in ("valueDecimal", "valueInteger"):
            if key in values:
                return values[key]
        if isinstance(values.get("valueQuantity"), Mapping) and "value" in values["valueQuantity"]:
            return _quantity_value(obs, values["valueQuantity"], f"{where}.valueQuantity", problems)
    elif obs.type == "bool" and "valueBoolean" in values:
        return values["valueBoolean"]
    elif obs.type in ("enum", "set") and isinstance(values.get("valueCoding"), Mapping):
        coding = values["valueCoding"]
        system = coding.get("system")
        if system is not None and system != choice_system(obs):
            problems.append(Problem(f"code system {system!r} is not this question's", field=f"{where}.valueCoding.system",
                                    hint=f"use {choice_system(obs)} or leave system out"))
            return None
        return coding.get("code")
    given = ", ".join(f"{key} ({json_kind(value)})" if key == expected else key
                      for key, value in sorted(values.items())) or "no value"
    problems.append(Problem(f"{obs.id} takes {expected}, got {given}", field=where,
                            hint="numbers may also be valueInteger or valueQuantity" if obs.type == "number" else None))
    return None


def _allowed_units(obs: Observation) -> str:
    own = obs.unit or "no unit"
    if UCUM_CODES.get(obs.unit or "") in UCUM_SECONDS:
        return f"UCUM units of time ({', '.join(UCUM_SECONDS)}), or no unit for {own}"
    return f"{own} only (leave the unit out)"


def _quantity_value(obs: Observation, quantity: Mapping, where: str, problems: list[Problem]) -> Any:
    """A valueQuantity's value in the question's unit (None after a problem).

    A duration may come in any UCUM unit of time and is converted (1 h is 60 minutes, not 1);
    no unit means the question's own; any other unit is refused rather than read as a bare number.
    """
    value = quantity["value"]
    if quantity.get("comparator") is not None:
        problems.append(Problem(f"{obs.id}: a comparator ({shown(quantity['comparator'])}) makes the quantity a "
                                "bound, not an answer", field=f"{where}.comparator", hint="give the value itself"))
        return None
    system, code, text = quantity.get("system"), quantity.get("code"), quantity.get("unit")
    for key, given in (("system", system), ("code", code), ("unit", text)):
        if given is not None and not isinstance(given, str):
            problems.append(Problem(f"{obs.id}: the quantity's {key} must be text, got {json_kind(given)}",
                                    field=f"{where}.{key}", hint=f"units allowed: {_allowed_units(obs)}"))
            return None
    if system is not None and system != UCUM and code is not None:
        problems.append(Problem(f"{obs.id}: unit system {shown(system)} is not UCUM", field=f"{where}.system",
                                hint=f"use {UCUM}; units allowed: {_allowed_units(obs)}"))
        return None
    unit = code if code is not None else text  # code is the unit; "unit" is its display text
    own = UCUM_CODES.get(obs.unit or "", obs.unit)
    if unit is None or unit == own or (unit == obs.unit and obs.unit is not None) or (unit == "1" and own is None):
        return value
    unit = UCUM_CODES.get(unit, unit)  # a unit word as the Questionnaire displays it ("hours")
    if unit not in UCUM_SECONDS or own not in UCUM_SECONDS:
        problems.append(Problem(f"{obs.id}: the unit {shown(unit)} is not allowed", field=where,
                                hint=f"units allowed: {_allowed_units(obs)}"))
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (
            isinstance(value, float) and not math.isfinite(value)):
        return value  # not a number: the case parser says so
    exact = (Fraction(str(value)) if isinstance(value, float) else Fraction(value)) \
        * Fraction(UCUM_SECONDS[unit], UCUM_SECONDS[own])
    if exact.denominator == 1:
        return int(exact)
    try:
        return float(exact)
    except OverflowError:  # beyond any float: out of range, as the case parser then reports
        return int(exact)


def _check_response(response: Mapping, problems: list[Problem]) -> None:
    """Status and questionnaire: a response entered in error, or to another questionnaire, is no case
    (its linkIds could mean something else there)."""
    status = response.get("status")
    if status is not None and not isinstance(status, str):
        problems.append(Problem(f"status must be text, got {json_kind(status)}", field="status",
                                hint=", ".join(RESPONSE_STATUSES)))
    elif status is not None and status not in RESPONSE_STATUSES:
        problems.append(Problem(f"{shown(status)} is not a QuestionnaireResponse status", field="status",
                                hint=", ".join(RESPONSE_STATUSES)))
    canonical = response.get("questionnaire")
    if canonical is None:
        return
    hint = f"answer {QUESTIONNAIRE_URL}, or leave questionnaire out"
    if not isinstance(canonical, str):
        problems.append(Problem(f"questionnaire must be the Questionnaire's canonical URL (text), got "
                                f"{json_kind(canonical)}", field="questionnaire", hint=hint))
        return
    url = canonical.split("|", 1)[0]  # a version after "|" does not change which questionnaire it is
    if url == QUESTIONNAIRE_URL or url == f"Questionnaire/{QUESTIONNAIRE_ID}" \
            or url.endswith(f"/Questionnaire/{QUESTIONNAIRE_ID}"):
        return
    if url.startswith("#"):  # a contained Questionnaire, as in SDC adaptive forms: it must derive from ours
        contained = response.get("contained")
        found = [r for r in contained if isinstance(r, Mapping) and r.get("id") == url[1:]] \
            if isinstance(contained, list) else []
        if not found or found[0].get("resourceType") != "Questionnaire":
            problems.append(Problem(f"questionnaire refers to {shown(url)}, which the response does not contain",
                                    field="questionnaire", hint=hint))
            return
        named = [found[0].get("url")] + (found[0].get("derivedFrom") or [] if isinstance(
            found[0].get("derivedFrom"), list) else [])
        names = [n.split("|", 1)[0] for n in named if isinstance(n, str)]
        if names and QUESTIONNAIRE_URL not in names:
            problems.append(Problem(f"the contained Questionnaire {shown(url)} is not derived from "
                                    f"{QUESTIONNAIRE_URL}", field="questionnaire", hint=hint))
        return
    problems.append(Problem(f"this response answers another questionnaire, {shown(canonical)}",
                            field="questionnaire", hint=hint))


def case_from_response(response: Mapping, kb: KnowledgeBase, patient: Mapping | None = None) -> dict:
    """A QuestionnaireResponse (and optionally its subject's Patient) as a case mapping.

    The values are then checked by the case parser like any case, so a bad value is reported with
    the observation id as its field and what is allowed.
    """
    problems: list[Problem] = []
    if response.get("status") == "entered-in-error":
        raise CaseError(Problem("a response entered in error cannot be assessed", field="status"))
    _check_response(response, problems)
    values: dict[str, Any] = {}
    seen: dict[str, str] = {}
    for where, item in _items(response.get("item"), "item", problems):
        link = item.get("linkId")
        if not isinstance(link, str):
            problems.append(Problem("an item needs a linkId (a string)", field=where))
            continue
        obs = kb.observations.get(link)
        if obs is None:  # a group, or a display item of a question (its help, why it is asked): no answer
            if link.split(".")[0] not in kb.observations and not item.get("item"):
                problems.append(Problem(f"unknown linkId {link!r}", field=f"{where}.linkId",
                                        hint="linkIds are the observation ids of the spasm-expert Questionnaire"))
            continue
        if link in seen:
            problems.append(Problem(f"linkId {link!r} appears twice (also at {seen[link]})", field=f"{where}.linkId"))
            continue
        seen[link] = where
        answers = item.get("answer")
        if answers is None or answers == []:
            values[link] = "unknown"  # asked, no answer: the case format's "unknown"
            continue
        if not isinstance(answers, list):
            problems.append(Problem("answer must be a list", field=f"{where}.answer"))
            continue
        if obs.type != "set" and len(answers) > 1:
            problems.append(Problem(f"{link} takes one answer, got {len(answers)}", field=f"{where}.answer",
                                    hint="only multiple-choice questions (repeats) take several"))
            continue
        got = [_answer_value(obs, a, f"{where}.answer[{i}]", problems) for i, a in enumerate(answers)]
        if obs.type == "set":
            values[link] = [] if got == [NONE_OF_THESE] else got
        else:
            values[link] = got[0]
    if patient is not None:
        _from_patient(patient, response, values, problems)
    if problems:
        raise CaseError(problems)
    case: dict[str, Any] = {k: v for k, v in values.items() if kb.observations[k].top_level}
    case["answers"] = {k: v for k, v in values.items() if not kb.observations[k].top_level}
    return case


_DATE = re.compile(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?")


def _date(text: Any) -> dt.date | None:
    """The date part of a FHIR date or dateTime; a partial date (1970, 1970-05) takes its first day."""
    match = _DATE.match(text) if isinstance(text, str) else None
    if not match:
        return None
    try:
        return dt.date(int(match[1]), int(match[2] or 1), int(match[3] or 1))
    except ValueError:
        return None


def age_on(birth: dt.date, day: dt.date) -> int:
    """Whole years from ``birth`` to ``day``."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _from_patient(patient: Mapping, response: Mapping, values: dict, problems: list[Problem]) -> None:
    """Age and sex from a Patient, unless the response answers them itself (then they must agree)."""
    if patient.get("resourceType") != "Patient":
        problems.append(Problem("expected a Patient", field="Patient.resourceType"))
        return
    found: dict[str, Any] = {}
    gender = patient.get("gender")
    if gender is not None:
        if not isinstance(gender, str):  # a list or object is not a code (and cannot be looked up)
            problems.append(Problem(f"Patient.gender must be text, got {json_kind(gender)}", field="Patient.gender",
                                    hint="male, female, other or unknown"))
        elif gender not in GENDER_TO_SEX:
            problems.append(Problem(f"{shown(gender)} is not a FHIR gender", field="Patient.gender",
                                    hint="male, female, other or unknown"))
        else:
            found["sex"] = GENDER_TO_SEX[gender]
    if patient.get("birthDate") is not None:
        birth = _date(patient["birthDate"])
        authored = _date(response.get("authored"))
        if birth is None:
            given = patient["birthDate"]
            problems.append(Problem(f"{shown(given)} is not a date" if isinstance(given, str) else
                                    f"Patient.birthDate must be a date (text), got {json_kind(given)}",
                                    field="Patient.birthDate", hint="YYYY, YYYY-MM or YYYY-MM-DD"))
        elif authored is None and response.get("authored") is not None:
            problems.append(Problem("age is worked out from Patient.birthDate at the response's authored date, "
                                    "and that is not a date", field="QuestionnaireResponse.authored",
                                    hint="a FHIR dateTime, e.g. 2026-03-04T09:30:00Z"))
        elif authored is None:
            problems.append(Problem("age is worked out from Patient.birthDate at the response's authored date, "
                                    "and there is none", field="QuestionnaireResponse.authored",
                                    hint="give authored, or answer the age question"))
        elif authored < birth:
            problems.append(Problem("the response was authored before the birth date", field="Patient.birthDate"))
        else:
            found["age"] = age_on(birth, authored)
    for key, value in found.items():
        if key not in values:
            values[key] = value
        elif values[key] != value and values[key] != "unknown":
            problems.append(Problem(f"the response says {key} {values[key]!r}, the Patient {value!r}", field=key,
                                    hint="send one, or make them agree"))
