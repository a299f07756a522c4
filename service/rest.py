"""REST under /v1: assess a case, take one step of an interview, describe the knowledge base.

Every endpoint is a thin layer over the API an embedder uses: ``Expert.assess`` and
``Assessment.to_dict`` and ``contract_json`` (so the body is byte for byte what ``spasm assess --format json`` prints),
``Consultation.next_question`` and ``Question.to_dict``, and the schemas of ``expert.schema``.
"""
from __future__ import annotations

import json

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from expert import Consultation
from expert.assessment import contract_json
from expert.schema import assessment_schema, case_schema

from .auth import Client
from .errors import ClientError
from .runtime import Runtime, client, json_object, raw_body, runtime

router = APIRouter(prefix="/v1", tags=["REST"])

CASE_BODY = {"description": "A case (docs/contract.md section 1), or a FHIR QuestionnaireResponse to the "
                            "spasm-expert Questionnaire (alone, or in a Bundle with the Patient).",
             "required": True, "content": {"application/json": {"schema": {"type": "object"}}}}


def json_response(data, status: int = 200) -> Response:
    return Response(json.dumps(data, ensure_ascii=False, indent=2) + "\n", status_code=status,
                    media_type="application/json")


@router.post("/assessments", openapi_extra={"requestBody": CASE_BODY},
             summary="Assess a case: triage, red flags, possible causes, advice and tests")
async def assess(request: Request,
                 explain: bool = Query(False, description="add the derivation of every conclusion"),
                 who: Client = Depends(client), body: bytes = Depends(raw_body),
                 service: Runtime = Depends(runtime)) -> Response:
    """The assessment JSON of docs/contract.md section 4, exactly as ``spasm assess --format json`` prints it.

    An invalid case is 422 with every problem (field, message, hint).
    """
    case = service.expert.case(json_object(body, "a case"))
    assessment = service.expert.assess(case).to_dict(explain=explain)
    service.record("assessment", request, who, case=case.to_dict(service.kb), assessment=assessment)
    return Response(contract_json(assessment) + "\n", media_type="application/json")


@router.post("/interview/next", openapi_extra={"requestBody": CASE_BODY},
             summary="One step of an interview: the next question, or the assessment when none is left")
async def interview_next(request: Request, who: Client = Depends(client), body: bytes = Depends(raw_body),
                         service: Runtime = Depends(runtime)) -> Response:
    """Stateless: send the case so far (answer ``unknown`` to a question that cannot be answered).

    Answers ``{"done": false, "question": {...}, "case": {...}}`` with the question's id, text, help,
    type, choices, unit and the reason it is asked; or ``{"done": true, "assessment": {...}}``. A
    question of type ``checklist`` asks several yes/no observations at once (its ``observations``):
    answer each of them in the case, true for those present and false for the others.
    """
    case = service.expert.case(json_object(body, "a case")).to_dict(service.kb)
    answers = case.pop("answers")
    consultation = Consultation(service.expert, answers=answers, **case)
    case["answers"] = answers
    question = consultation.next_question()
    if question is not None:
        return json_response({"done": False, "question": question.to_dict(), "case": case})
    assessment = consultation.assessment().to_dict()
    service.record("assessment", request, who, case=case, assessment=assessment)
    return json_response({"done": True, "case": case, "assessment": assessment})


@router.get("/knowledge", summary="The knowledge base in use: name, versions, sources and sizes")
async def knowledge(who: Client = Depends(client), service: Runtime = Depends(runtime)) -> Response:
    kb = service.kb
    return json_response({
        "name": kb.name, "version": kb.version, "knowledge_version": kb.knowledge_version,
        "disclaimer": kb.disclaimer,
        "sources": [{"id": s.id, "title": s.title, "publisher": s.publisher, "kind": s.kind}
                    for s in kb.sources.values()],
        "counts": {"observations": len(kb.observations), "findings": len(kb.findings), "causes": len(kb.causes),
                   "red_flags": len(kb.red_flags), "advice": len(kb.advice), "tests": len(kb.tests),
                   "rules": len(kb.rules)},
    })


@router.get("/schema/{which}", summary="JSON Schema of a case or of an assessment")
async def schema(which: str, who: Client = Depends(client), service: Runtime = Depends(runtime)) -> Response:
    if which == "case":
        return json_response(case_schema(service.kb))
    if which == "assessment":
        return json_response(assessment_schema(service.kb))
    raise ClientError(404, f"no schema called {which!r}; there are case and assessment")
