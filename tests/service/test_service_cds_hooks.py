"""CDS Hooks 2.0 against a real server: discovery, cards, 412 on missing prefetch, feedback.

Shapes are checked against the specification's tables (cds-hooks.hl7.org, 2.0): required fields,
allowed values, summary under 140 characters, source.label, link types.
"""
from __future__ import annotations

import sqlite3
import uuid

import pytest

import expert
from expert.fhir import QUESTIONNAIRE_URL

SERVICE = "/cds-services/spasm-expert"
INDICATORS = ("info", "warning", "critical")


def call(server, body, path=SERVICE, issuer=None):
    headers = server.bearer(server.jwt(path, **({"issuer": issuer} if issuer else {})))
    with server.client() as client:
        return client.post(path, json=body, headers=headers)


def response_for(patient_id: str, answers: dict, authored: str = "2026-03-04T09:30:00Z") -> dict:
    items = []
    for link, value in answers.items():
        if isinstance(value, bool):
            answer = [{"valueBoolean": value}]
        elif isinstance(value, (int, float)):
            answer = [{"valueDecimal": value}]
        elif isinstance(value, list):
            answer = [{"valueCoding": {"code": v}} for v in value]
        else:
            answer = [{"valueCoding": {"code": value}}]
        items.append({"linkId": link, "answer": answer})
    return {"resourceType": "QuestionnaireResponse", "id": "qr1", "questionnaire": QUESTIONNAIRE_URL,
            "status": "completed", "subject": {"reference": f"Patient/{patient_id}"}, "authored": authored,
            "item": items}


def hook_request(response=..., patient=...) -> dict:
    prefetch = {}
    if response is not ...:
        prefetch["questionnaireResponse"] = None if response is None else {
            "resourceType": "Bundle", "type": "searchset", "entry": [{"resource": response}]}
    if patient is not ...:
        prefetch["patient"] = patient
    return {"hook": "patient-view", "hookInstance": str(uuid.uuid4()),
            "context": {"userId": "Practitioner/abc", "patientId": "p1"}, "prefetch": prefetch}


PATIENT = {"resourceType": "Patient", "id": "p1", "gender": "male", "birthDate": "1956-05-10"}


def check_card(card: dict) -> None:
    """The CDS Hooks 2.0 Card table: required fields and their allowed values."""
    assert isinstance(card["summary"], str) and 0 < len(card["summary"]) < 140
    assert card["indicator"] in INDICATORS
    assert isinstance(card["source"], dict) and card["source"]["label"]
    assert isinstance(card["uuid"], str) and uuid.UUID(card["uuid"])
    assert isinstance(card["detail"], str)
    for link in card.get("links", []):
        assert {"label", "url", "type"} <= set(link) and link["type"] in ("absolute", "smart")
        assert link["url"].startswith("http") and ("appContext" not in link or link["type"] == "smart")
    for reason in card.get("overrideReasons", []):
        assert reason["display"] and reason["code"]
    for value in card.values():  # no null or empty elements (Use of JSON)
        assert value not in (None, "", [], {})


def test_discovery(server):
    with server.client() as client:
        response = client.get("/cds-services", headers=server.bearer(server.jwt("/cds-services")))
    assert response.status_code == 200
    services = response.json()["services"]
    assert len(services) == 1
    service = services[0]
    assert {"hook", "description", "id"} <= set(service) and service["hook"] == "patient-view"
    assert service["id"] == "spasm-expert"
    prefetch = service["prefetch"]
    assert prefetch["patient"] == "Patient/{{context.patientId}}"
    assert prefetch["questionnaireResponse"].startswith(f"QuestionnaireResponse?questionnaire={QUESTIONNAIRE_URL}&")
    assert "subject={{context.patientId}}" in prefetch["questionnaireResponse"]
    assert "_sort=-authored" in prefetch["questionnaireResponse"]


@pytest.mark.parametrize("answers, indicator", [
    ({"movement": "convulsion"}, "critical"),
    ({"movement": "cramp", "sites": ["calf"], "swelling": True, "pain": "severe"}, None),
    ({"movement": "twitch", "sites": ["eyelid"], "pattern": "occasional", "stress_anxiety": True}, None),
])
def test_card_follows_the_assessment(server, answers, indicator):
    qr = response_for("p1", answers)
    response = call(server, hook_request(qr, PATIENT))
    assert response.status_code == 200
    cards = response.json()["cards"]
    assert len(cards) == 1
    card = cards[0]
    check_card(card)
    case = {"age": 69, "sex": "male", "answers": answers}
    assessed = expert.assess(case)
    expected = {"emergency": "critical", "urgent": "critical", "routine": "warning", "self_care": "info"}
    assert card["indicator"] == expected[assessed.triage.level] == (indicator or expected[assessed.triage.level])
    assert assessed.triage.label in card["summary"]
    kb = expert.default_expert().kb
    assert kb.version in card["source"]["label"] and kb.name in card["source"]["label"]
    assert kb.disclaimer.split(".")[0] in card["detail"]
    for flag in assessed.red_flags:
        assert flag.label.split("(")[0].strip() in card["detail"].replace("\\", "")
    for cause in assessed.causes[:3]:
        assert cause.label.split("(")[0].strip() in card["detail"].replace("\\", "")
    if assessed.unanswered:
        assert card["links"][0]["type"] == "absolute"
        assert card["links"][0]["url"] == server.url + "/fhir/Questionnaire/spasm-expert"


def test_age_comes_from_the_patient_at_the_authored_date(server):
    qr = response_for("p1", {"movement": "cramp"}, authored="2026-05-09")
    young = {"resourceType": "Patient", "id": "p1", "gender": "female", "birthDate": "2006-05-10"}  # 19 that day
    response = call(server, hook_request(qr, young))
    assert response.status_code == 200
    assert expert.assess({"age": 19, "sex": "female", "answers": {"movement": "cramp"}}).triage.label \
        in response.json()["cards"][0]["summary"]


def test_missing_prefetch_is_412(server):
    qr = response_for("p1", {"movement": "cramp"})
    for body in (hook_request(patient=PATIENT), hook_request(qr), hook_request()):
        response = call(server, body)
        assert response.status_code == 412, response.text
        assert "prefetch" in response.json()["error"]["message"]
    outcome = hook_request(qr, PATIENT)
    outcome["prefetch"]["questionnaireResponse"] = {"resourceType": "OperationOutcome", "issue": []}
    assert call(server, outcome).status_code == 412
    with_server = hook_request(patient=PATIENT)  # a FHIR server is offered: still never queried
    with_server.update(fhirServer="https://ehr.example.org/fhir",
                       fhirAuthorization={"access_token": "x", "token_type": "Bearer", "expires_in": 300,
                                          "scope": "patient/*.read", "subject": "spasm"})
    assert call(server, with_server).status_code == 412


def test_no_questionnaire_on_file_gives_no_card(server):
    response = call(server, hook_request(None, PATIENT))
    assert response.status_code == 200 and response.json() == {"cards": []}


@pytest.mark.parametrize("change, field", [
    ({"hook": "order-sign"}, "hook"),
    ({"hookInstance": ""}, "hookInstance"),
    ({"context": {"userId": "Practitioner/abc"}}, "context.patientId"),
    ({"context": "p1"}, "context"),
    ({"fhirAuthorization": {"access_token": "x"}}, "fhirServer"),
    ({"prefetch": [1]}, "prefetch"),
])
def test_invalid_requests_are_422_naming_the_field(server, change, field):
    body = hook_request(response_for("p1", {"movement": "cramp"}), PATIENT)
    body.update(change)
    response = call(server, body)
    assert response.status_code == 422
    assert field in {p["field"] for p in response.json()["error"]["problems"]}


def test_bad_prefetched_resources_are_422(server):
    other = hook_request(response_for("someone-else", {"movement": "cramp"}), PATIENT)
    response = call(server, other)
    assert response.status_code == 422 and "another patient" in response.json()["error"]["message"]
    bad_answer = hook_request(response_for("p1", {"movement": "wobble"}), PATIENT)
    response = call(server, bad_answer)
    assert response.status_code == 422
    assert response.json()["error"]["problems"][0]["field"] == "answers.movement"
    not_fhir = hook_request(response_for("p1", {"movement": "cramp"}), {"resourceType": "Patient", "gender": 7})
    response = call(server, not_fhir)
    assert response.status_code == 422
    assert any(p["field"].startswith("prefetch.patient") for p in response.json()["error"]["problems"])


def test_unknown_service_is_404(server):
    assert call(server, hook_request(), path="/cds-services/nothing").status_code == 404


def test_feedback_is_recorded(server):
    card = call(server, hook_request(response_for("p1", {"movement": "cramp"}), PATIENT)).json()["cards"][0]
    feedback = {"feedback": [
        {"card": card["uuid"], "outcome": "overridden", "outcomeTimestamp": "2026-03-04T10:00:00Z",
         "overrideReason": {"reason": card["overrideReasons"][0], "userComment": "seen by neurology"}},
        {"card": card["uuid"], "outcome": "accepted", "acceptedSuggestions": [], "outcomeTimestamp":
         "2026-03-04T10:01:00Z"}]}
    response = call(server, feedback, path=SERVICE + "/feedback")
    assert response.status_code == 200 and response.json() == {"recorded": 2}
    with sqlite3.connect(server.audit) as db:
        details = [row[0] for row in db.execute("SELECT detail FROM events WHERE kind = 'feedback'")]
        cards = [row[0] for row in db.execute("SELECT detail FROM events WHERE kind = 'card'")]
    assert any(card["uuid"] in d and "already-assessed" in d and "overridden" in d for d in details)
    assert not any("neurology" in d for d in details)  # free text is health data: kept only with --audit-cases
    assert any(card["uuid"] in c for c in cards)


@pytest.mark.parametrize("body, field", [
    ({"feedback": []}, "feedback"),
    ({"feedback": [{"outcome": "accepted", "outcomeTimestamp": "t", "acceptedSuggestions": []}]}, "feedback[0].card"),
    ({"feedback": [{"card": "c", "outcome": "ignored", "outcomeTimestamp": "t"}]}, "feedback[0].outcome"),
    ({"feedback": [{"card": "c", "outcome": "accepted", "outcomeTimestamp": "t"}]}, "feedback[0].acceptedSuggestions"),
    ({"feedback": [{"card": "c", "outcome": "overridden"}]}, "feedback[0].outcomeTimestamp"),
])
def test_invalid_feedback_is_422(server, body, field):
    response = call(server, body, path=SERVICE + "/feedback")
    assert response.status_code == 422
    assert field in {p["field"] for p in response.json()["error"]["problems"]}


def test_summary_stays_under_140_characters_and_kb_text_stays_literal():
    from expert.service.cards import markdown_text, summary
    long = {"triage": {"label": "Emergency"}, "red_flags": [{"label": "A red flag " * 20}],
            "causes": [{"label": "A cause " * 20}]}
    text = summary(long)
    assert len(text) < 140 and text.endswith("...") and text.startswith("Emergency")
    assert markdown_text("*bold* [link](x) <b>") == r"\*bold\* \[link\](x) \<b\>"
