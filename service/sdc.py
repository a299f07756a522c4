"""SDC adaptive forms: one ``$next-question`` step as plain FHIR dicts.

The form filler sends a QuestionnaireResponse whose contained Questionnaire holds the questions
asked so far (empty at first) and whose items hold the answers. This step asks the interview
(``expert.Consultation``) for the next question and appends it, with its help and the reason it is
asked, to the contained Questionnaire; the response stays ``in-progress``. When no question could
change the result any more, the response becomes ``completed`` and carries the assessment as a
contained RiskAssessment. Its predictions are the possible causes, stated qualitatively: the scores
rank evidence and are not probabilities, so no ``probabilityDecimal`` is given.
"""
from __future__ import annotations

import copy
from typing import Any, Mapping

from expert import Consultation, Expert
from expert.errors import CaseError, Problem
from expert.fhir import QUESTIONNAIRE_URL, case_from_response, question_item

ADAPTIVE = "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-questionnaireAdaptive"
CONTAINED_QUESTIONNAIRE = "adaptive"
CONTAINED_ASSESSMENT = "assessment"
BASE = "urn:spasm-expert:fhir"
TRIAGE_EXTENSION = f"{BASE}:StructureDefinition:triage"
RED_FLAG_EXTENSION = f"{BASE}:StructureDefinition:red-flag"
SCORE_EXTENSION = f"{BASE}:StructureDefinition:evidence-score"
TRIAGE_SYSTEM = f"{BASE}:triage-level"
RED_FLAG_SYSTEM = f"{BASE}:red-flag"
CAUSE_SYSTEM = f"{BASE}:cause"


def response_of(body: Mapping) -> dict:
    """The QuestionnaireResponse of a $next-question call: the resource itself, or in Parameters."""
    if body.get("resourceType") == "Parameters":
        found = [p.get("resource") for p in body.get("parameter") or []
                 if isinstance(p, Mapping) and p.get("name") == "questionnaire-response"]
        if len(found) != 1 or not isinstance(found[0], Mapping):
            raise CaseError(Problem("Parameters must hold one questionnaire-response parameter with a resource",
                                    field="parameter"))
        body = found[0]
    if body.get("resourceType") != "QuestionnaireResponse":
        raise CaseError(Problem(f"expected a QuestionnaireResponse, got {body.get('resourceType')!r}",
                                field="resourceType"))
    return copy.deepcopy(dict(body))


def _contained_questionnaire(response: dict) -> dict:
    contained = response.setdefault("contained", [])
    for resource in contained:
        if isinstance(resource, dict) and resource.get("resourceType") == "Questionnaire":
            return resource
    questionnaire = {"resourceType": "Questionnaire", "id": CONTAINED_QUESTIONNAIRE,
                     "extension": [{"url": ADAPTIVE, "valueBoolean": True}],
                     "derivedFrom": [QUESTIONNAIRE_URL], "status": "active", "subjectType": ["Patient"]}
    contained.append(questionnaire)
    return questionnaire


def next_question(expert_: Expert, body: Mapping) -> tuple[dict, dict, Any]:
    """One step: the updated QuestionnaireResponse, the case it holds, and the assessment's JSON
    once completed (else None)."""
    response = response_of(body)
    case = expert_.case(case_from_response(response, expert_.kb)).to_dict(expert_.kb)
    consultation = Consultation(expert_, answers=case["answers"], **{k: v for k, v in case.items() if k != "answers"})
    questionnaire = _contained_questionnaire(response)
    response["questionnaire"] = "#" + questionnaire["id"]
    response["contained"] = [r for r in response["contained"]
                             if not (isinstance(r, dict) and r.get("resourceType") == "RiskAssessment")]
    question = consultation.next_question()
    if question is not None:
        asked = question.to_dict()
        items = questionnaire.setdefault("item", [])
        known = {i.get("linkId") for i in items if isinstance(i, dict)}
        for obs_id in asked.get("observations") or [asked["id"]]:  # one question may ask several
            if obs_id in expert_.kb.observations and obs_id not in known:
                item = question_item(expert_.kb.observations[obs_id], expert_.kb, enable_when=False)
                item.setdefault("item", []).append({"linkId": f"{obs_id}.why", "type": "display",
                                                    "text": f"Why this is asked: {asked['reason']}"})
                items.append(item)
        response["status"] = "in-progress"
        return response, case, None
    assessment = consultation.assessment().to_dict()
    response["status"] = "completed"
    response["contained"].append(risk_assessment(assessment, expert_.kb, response))
    return response, case, assessment


def risk_assessment(assessment: dict, kb, response: Mapping) -> dict:
    """The assessment as a RiskAssessment contained in the response it rests on (``basis``: ``#``)."""
    triage = assessment["triage"]
    predictions = []
    for cause in assessment["causes"]:
        predictions.append({
            "extension": [{"url": SCORE_EXTENSION, "valueDecimal": cause["score"]}],
            "outcome": {"coding": [{"system": CAUSE_SYSTEM, "code": cause["id"], "display": cause["label"]}],
                        "text": cause["label"]},
            "qualitativeRisk": {"text": f"evidence score {cause['score']:+.2f} on a scale from -1 to 1; it ranks "
                                        "possible causes and is not a probability"},
            "rationale": "rules: " + ", ".join(s["rule"] for s in cause["for"] + cause["against"]),
        })
    flags = "; ".join(f"{f['label']} ({f['level']})" for f in assessment["red_flags"]) or "none"
    result = {
        "resourceType": "RiskAssessment",
        "id": CONTAINED_ASSESSMENT,
        "extension": [{"url": TRIAGE_EXTENSION, "valueCoding": {"system": TRIAGE_SYSTEM, "code": triage["level"],
                                                                "display": triage["label"]}}]
        + [{"url": RED_FLAG_EXTENSION, "valueCoding": {"system": RED_FLAG_SYSTEM, "code": f["id"],
                                                       "display": f["label"]}} for f in assessment["red_flags"]],
        "status": "final",
        "method": {"coding": [{"system": f"{BASE}:knowledge-base",
                               "code": kb.name, "version": kb.knowledge_version}],
                   "text": f"{kb.name} {kb.knowledge_version}"},
        "code": {"text": "Triage and possible causes of involuntary muscle movements"},
        "subject": response.get("subject") or {"display": "the person the questionnaire response is about"},
        "basis": [{"reference": "#"}],
        "prediction": predictions,
        "mitigation": " ".join(a["text"] for a in assessment["advice"]) or None,
        "note": [{"text": f"Triage: {triage['label']}. {triage.get('meaning', '')} Red flags: {flags}."},
                 {"text": assessment["disclaimer"]}],
    }
    if response.get("authored"):
        result["occurrenceDateTime"] = response["authored"]
    return {k: v for k, v in result.items() if v not in (None, [], "")}
