"""FHIR R4 endpoints: the spasm-expert Questionnaire, and the SDC adaptive ``$next-question``.

Resources that come in are validated with fhir.resources (its R4B models, which for
Questionnaire, QuestionnaireResponse, Patient and RiskAssessment are R4's); errors are answered
with an OperationOutcome naming each element at fault.
"""
from __future__ import annotations

import json
from typing import Any

import pydantic
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from expert.fhir import QUESTIONNAIRE_ID, questionnaire

from .auth import Client
from .errors import FHIR_JSON, ClientError
from .runtime import Runtime, client, json_object, raw_body, runtime
from .sdc import next_question, response_of

router = APIRouter(prefix="/fhir", tags=["FHIR R4"])


def fhir_response(resource: dict) -> Response:
    return Response(json.dumps(resource, ensure_ascii=False, indent=2) + "\n", media_type=FHIR_JSON)


def validated(model, data: Any, field: str) -> None:
    """Check ``data`` against a fhir.resources model; 422 naming each element at fault."""
    try:
        model.model_validate(data)
    except pydantic.ValidationError as error:
        problems = [{"field": ".".join([field, *(str(p) for p in e["loc"] if p != "__root__")]),
                     "message": e["msg"]} for e in error.errors(include_url=False, include_input=False)[:20]]
        raise ClientError(422, f"{field} is not a valid FHIR {model.__name__}", problems) from None


@router.get(f"/Questionnaire/{QUESTIONNAIRE_ID}", summary="The vocabulary as a FHIR R4 Questionnaire")
async def get_questionnaire(who: Client = Depends(client), service: Runtime = Depends(runtime)) -> Response:
    return fhir_response(questionnaire(service.kb))


@router.post("/Questionnaire/$next-question",
             summary="SDC adaptive form: the QuestionnaireResponse back with the next question, or completed")
async def post_next_question(request: Request, who: Client = Depends(client), body: bytes = Depends(raw_body),
                             service: Runtime = Depends(runtime)) -> Response:
    """Takes a QuestionnaireResponse (or Parameters with a ``questionnaire-response``) whose contained
    Questionnaire lists the questions asked so far. Returns it with the next question appended, or
    with status ``completed`` and the assessment as a contained RiskAssessment."""
    data = json_object(body, "a QuestionnaireResponse")
    validated(QuestionnaireResponse, response_of(data), "QuestionnaireResponse")
    response, case, assessment = next_question(service.expert, data)
    if assessment is not None:
        service.record("assessment", request, who, case=case, assessment=assessment)
    return fhir_response(response)
