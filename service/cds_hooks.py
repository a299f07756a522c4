"""CDS Hooks 2.0: discovery, the ``patient-view`` service, and feedback on its cards.

The service reads the patient's latest QuestionnaireResponse to the spasm-expert Questionnaire and
their Patient resource from the request's prefetch. It runs offline and never queries the
client's FHIR server: when a prefetch key it needs is missing, it answers 412 Precondition Failed,
as the specification says a service that cannot obtain its data must. A key sent as ``null``
means the client has no such data: no questionnaire on file gives no card.
"""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from expert.fhir import QUESTIONNAIRE_ID, QUESTIONNAIRE_URL, case_from_response

from .auth import Client
from .cards import card, interview_link
from .errors import ClientError
from .fhir import validated
from .rest import json_response
from .runtime import Runtime, cds_client, json_object, raw_body, runtime

router = APIRouter(prefix="/cds-services", tags=["CDS Hooks 2.0"])

SERVICE_ID = "spasm-expert"
HOOK = "patient-view"
PREFETCH = {
    "patient": "Patient/{{context.patientId}}",
    "questionnaireResponse": f"QuestionnaireResponse?questionnaire={QUESTIONNAIRE_URL}"
                             "&subject={{context.patientId}}&_sort=-authored&_count=1",
}
FEEDBACK_OUTCOMES = ("accepted", "overridden")


def _service_description() -> dict:
    return {
        "hook": HOOK, "id": SERVICE_ID, "title": "Spasm Expert: involuntary muscle movements",
        "description": "Suggests a triage level, red flags, possible causes and tests from the patient's latest "
                       "answers to the spasm-expert questionnaire. Decision support, not a diagnosis.",
        "prefetch": PREFETCH,
        "usageRequirements": "Needs both prefetch keys (the service does not query FHIR servers); the "
                             "questionnaire is at /fhir/Questionnaire/spasm-expert.",
    }


@router.get("", summary="Discovery: the CDS Services offered")
async def discovery(who: Client = Depends(cds_client)) -> Any:
    return json_response({"services": [_service_description()]})


def _check_request(data: dict) -> None:
    """The fields CDS Hooks 2.0 requires of a call, and those patient-view requires of its context."""
    problems = []

    def need(field: str, ok: bool, message: str, hint: str | None = None) -> None:
        if not ok:
            problems.append({"field": field, "message": message, **({"hint": hint} if hint else {})})

    need("hook", data.get("hook") == HOOK, f"this service answers the {HOOK} hook, got {data.get('hook')!r}")
    need("hookInstance", isinstance(data.get("hookInstance"), str) and data["hookInstance"].strip() != "",
         "a hookInstance (a UUID string) is required")
    context = data.get("context")
    need("context", isinstance(context, dict), "a context object is required")
    if isinstance(context, dict):
        for key in ("patientId", "userId"):
            need(f"context.{key}", isinstance(context.get(key), str) and context[key] != "",
                 f"{HOOK} requires context.{key} (a string)")
    if "fhirServer" in data:
        need("fhirServer", isinstance(data["fhirServer"], str) and data["fhirServer"].startswith(("http://", "https://")),
             "fhirServer must be a URL")
    need("fhirServer", "fhirAuthorization" not in data or "fhirServer" in data,
         "fhirServer is required when fhirAuthorization is given")
    need("prefetch", "prefetch" not in data or isinstance(data["prefetch"], dict), "prefetch must be an object")
    if problems:
        raise ClientError(422, "not a valid CDS Hooks request", problems)


def _prefetched(prefetch: dict, key: str) -> Any:
    """A prefetch value; 412 when the client did not send it or could not fetch it."""
    if key not in prefetch:
        raise ClientError(412, f"prefetch {key!r} is missing; this service does not query FHIR servers, so the "
                               f"client must prefetch {PREFETCH[key]}")
    value = prefetch[key]
    if isinstance(value, dict) and value.get("resourceType") == "OperationOutcome":
        raise ClientError(412, f"the client could not prefetch {key!r} (it sent an OperationOutcome)")
    return value


def _latest_response(value: Any, patient_id: str) -> dict | None:
    """The most recently authored QuestionnaireResponse in a prefetch value (a Bundle or one resource)."""
    if value is None:
        return None
    if isinstance(value, dict) and value.get("resourceType") == "Bundle":
        entries = value.get("entry") or []
        resources = [e.get("resource") for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []
        found = [r for r in resources if isinstance(r, dict) and r.get("resourceType") == "QuestionnaireResponse"]
        if not found:
            return None
        value = max(found, key=lambda r: str(r.get("authored", "")))
    validated(QuestionnaireResponse, value, "prefetch.questionnaireResponse")
    reference = (value.get("subject") or {}).get("reference")
    if reference and reference.rsplit("/", 1)[-1] != patient_id:
        raise ClientError(422, "the QuestionnaireResponse is about another patient",
                          [{"field": "prefetch.questionnaireResponse.subject",
                            "message": f"{reference} is not Patient/{patient_id}"}])
    return value


@router.post("/" + SERVICE_ID, summary="patient-view: a card with the triage, red flags and possible causes")
async def patient_view(request: Request, who: Client = Depends(cds_client), body: bytes = Depends(raw_body),
                       service: Runtime = Depends(runtime)) -> Any:
    data = json_object(body, "a CDS Hooks request")
    _check_request(data)
    prefetch = data.get("prefetch") or {}
    patient_id = data["context"]["patientId"]
    response = _latest_response(_prefetched(prefetch, "questionnaireResponse"), patient_id)
    patient = _prefetched(prefetch, "patient")
    if response is None:
        return json_response({"cards": []})  # no questionnaire on file: no guidance to give
    if patient is not None:
        validated(Patient, patient, "prefetch.patient")
        if patient.get("id") is not None and patient["id"] != patient_id:  # another person's age and sex
            raise ClientError(422, "the prefetched Patient is another patient",
                              [{"field": "prefetch.patient.id",
                                "message": f"Patient/{patient['id']} is not Patient/{patient_id}"}])
    case = service.expert.case(case_from_response(response, service.kb, patient))
    assessment = service.expert.assess(case).to_dict()
    link = interview_link(assessment, service.settings.interview_app,
                          service.url(f"/fhir/Questionnaire/{QUESTIONNAIRE_ID}"))
    result = card(assessment, service.kb, authored=response.get("authored"), link=link)
    service.record("card", request, who, case=case.to_dict(service.kb), assessment=assessment,
                   detail={"hookInstance": data["hookInstance"], "card": result["uuid"],
                           "indicator": result["indicator"]})
    return json_response({"cards": [result]})


def _check_feedback(data: dict) -> list[dict]:
    items = data.get("feedback")
    if not isinstance(items, list) or not items:
        raise ClientError(422, "feedback must be a non-empty list", [{"field": "feedback", "message": "required"}])
    problems = []
    for i, item in enumerate(items):
        where = f"feedback[{i}]"
        if not isinstance(item, dict):
            problems.append({"field": where, "message": "each feedback is an object"})
            continue
        if not isinstance(item.get("card"), str) or not item["card"]:
            problems.append({"field": f"{where}.card", "message": "the card's uuid is required"})
        if item.get("outcome") not in FEEDBACK_OUTCOMES:
            problems.append({"field": f"{where}.outcome", "message": f"{item.get('outcome')!r} is not an outcome",
                             "hint": "accepted or overridden"})
        if not isinstance(item.get("outcomeTimestamp"), str):
            problems.append({"field": f"{where}.outcomeTimestamp", "message": "an ISO 8601 time is required"})
        if item.get("outcome") == "accepted" and not isinstance(item.get("acceptedSuggestions"), list):
            problems.append({"field": f"{where}.acceptedSuggestions", "message": "required when accepted"})
        reason = item.get("overrideReason")
        if reason is not None and not (isinstance(reason, dict) and isinstance(reason.get("reason", {}), dict)):
            problems.append({"field": f"{where}.overrideReason", "message": "an object with reason (a Coding) "
                                                                            "and userComment"})
    if problems:
        raise ClientError(422, "not valid CDS Hooks feedback", problems)
    return items


@router.post("/" + SERVICE_ID + "/feedback", summary="Feedback: a card accepted or overridden, and why")
async def feedback(request: Request, who: Client = Depends(cds_client), body: bytes = Depends(raw_body),
                   service: Runtime = Depends(runtime)) -> Any:
    items = _check_feedback(json_object(body, "feedback"))
    for item in items:
        reason = item.get("overrideReason") or {}
        detail = {"card": item["card"], "outcome": item["outcome"], "outcomeTimestamp": item["outcomeTimestamp"],
                  "acceptedSuggestions": [s.get("id") for s in item.get("acceptedSuggestions") or []
                                          if isinstance(s, dict)],
                  "overrideReason": reason.get("reason")}
        if service.settings.audit_cases and "userComment" in reason:  # free text may hold health data
            detail["userComment"] = reason["userComment"]
        service.record("feedback", request, who, detail=detail)
    return json_response({"recorded": len(items)})
